/**
 * The dashboard end to end in headless Chromium (Debian's, via playwright-core) against the real server:
 * start a run from the form, watch the live plot redraw with new data, stop it, open the stored run, zoom
 * (a new, narrower envelope request and a changed x range), and screenshots under test/artifacts/.
 * The live frames/s measured here is written to test/artifacts/dashboard-metrics.json (not asserted: speed
 * targets live in bench/browser.bench.ts).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1280, height: 800 });

const live = async (p: Page) => (await p.evaluate('window.spikeloop.live')) as DashboardMetrics['live'];
const stored = async (p: Page) => (await p.evaluate('window.spikeloop.stored')) as DashboardMetrics['stored'];

describe('dashboard in headless Chromium', () => {
  // Typically ~15 s; the generous limit is for a machine busy with other work.
  it('starts a run from the form, shows it live, stops it, reopens it and zooms', { timeout: 120_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/new`);
    await page.waitForSelector('form.run-form');

    // Fields come from the protocol's JSON schema, with its defaults.
    await page.selectOption('#f-protocol-kind', 'square');
    expect(await page.inputValue('#f-protocol-frequencyHz')).toBe('1000');

    // Client-side validation: nothing is sent while a field is out of the schema's range.
    let posted = 0;
    page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/runs') && posted++);
    await page.fill('#f-protocol-frequencyHz', '-5');
    await page.click('button[data-action=start]');
    await expect.poll(() => page.textContent('[data-error-for="/protocol/frequencyHz"]')).toMatch(/must be > 0/);
    expect(posted).toBe(0);
    // Bursts of spikes 50 times a second (a few hundred spike events per second on the live feed).
    await page.fill('#f-protocol-frequencyHz', '50');
    await page.fill('#f-protocol-duty', '0.1');
    await page.fill('#f-protocol-durationS', '120'); // stopped long before its end
    await page.fill('#f-label', 'browser test');
    await dash.screenshot('dashboard-new-run.png');
    await page.click('button[data-action=start]');

    // Live view: frames keep being drawn, with new data and a moving window.
    await page.waitForSelector('[data-view=live]');
    await page.waitForFunction('window.spikeloop.live.pairs > 0 && window.spikeloop.live.frames > 5', undefined, { timeout: 20_000 });
    // A short scrolling window, so the x range moves from the first second on.
    await page.selectOption('select[aria-label="Visible window"]', '0.5');
    const a = await live(page);
    const t0 = Date.now();
    await page.waitForTimeout(1500);
    const b = await live(page);
    const seconds = (Date.now() - t0) / 1000;
    expect(b.frames).toBeGreaterThan(a.frames);
    expect(b.dataFrames).toBeGreaterThan(a.dataFrames);
    expect(b.pairs).toBeGreaterThan(a.pairs);
    expect(Math.max(...b.lastIndex)).toBeGreaterThan(Math.max(...a.lastIndex));
    expect(b.points).toBeGreaterThan(0);
    expect(b.xRange).not.toEqual(a.xRange);
    const fps = (b.frames - a.frames) / seconds;
    writeFileSync(
      dash.artifact('dashboard-metrics.json'),
      JSON.stringify({ liveFps: fps, appFps: b.fps, drawMs: b.drawMs, pairsPerFrame: (b.pairs - a.pairs) / (b.frames - a.frames) }, null, 2) + '\n',
    );
    console.log(`live view: ${fps.toFixed(1)} frames/s measured over ${seconds.toFixed(1)} s (app meter ${b.fps.toFixed(1)})`);
    await dash.screenshot('dashboard-live.png');

    // Stop: the run ends as aborted with its reason, and the page shows the stored run.
    const runId = Number(/#\/runs\/(\d+)/.exec(page.url())?.[1]);
    expect(runId).toBeGreaterThan(0);
    await page.click('button[data-action=stop]');
    await page.waitForSelector('[data-view=stored]', { timeout: 30_000 });
    expect(await page.textContent('.run-header [data-status]')).toBe('aborted');
    expect(await page.textContent('[data-reason]')).toContain('stopped by user');

    // Open the stored run again from the runs list.
    await page.goto(`${dash.url}/#/`);
    await page.waitForSelector(`tr[data-run-id="${runId}"] [data-status=aborted]`);
    await dash.screenshot('dashboard-runs.png');
    await page.click(`tr[data-run-id="${runId}"]`);
    await page.waitForSelector('[data-view=stored]');
    await page.waitForFunction('window.spikeloop.stored.draws > 0 && window.spikeloop.stored.plotXRange !== null');
    const before = await stored(page);
    const whole = before.envelopeRequests.at(-1)!;
    const [x0, x1] = before.plotXRange!;
    expect(x1 - x0).toBeGreaterThan(1);

    // Drag-select the middle fifth of the first plot.
    const over = (await page.locator('.plot .u-over').first().boundingBox())!;
    const y = over.y + over.height / 2;
    await page.mouse.move(over.x + over.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, y, { steps: 6 });
    await page.mouse.up();
    // Wait for the envelope of the narrower window to be drawn (a redraw of the whole run may come first).
    await page.waitForFunction(
      `(() => { const s = window.spikeloop.stored; return s.draws > ${before.draws} && s.plotXRange[1] - s.plotXRange[0] < ${(x1 - x0) / 2}; })()`,
    );
    const after = await stored(page);
    const zoomed = after.envelopeRequests.at(-1)!;
    expect(zoomed.end - zoomed.start).toBeLessThan((whole.end - whole.start) / 3);
    expect(zoomed.start).toBeGreaterThan(whole.start);
    const [z0, z1] = after.plotXRange!;
    expect(z1 - z0).toBeLessThan((x1 - x0) / 3);
    expect(z0).toBeGreaterThan(x0);

    // Wheel zoom in further around the cursor.
    await page.mouse.move(over.x + over.width * 0.5, y);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(
      `(() => { const s = window.spikeloop.stored; return s.draws > ${after.draws} && s.plotXRange[1] - s.plotXRange[0] < ${z1 - z0}; })()`,
    );
    const wheel = await stored(page);
    const w = wheel.envelopeRequests.at(-1)!;
    expect(w.end - w.start).toBeLessThan(zoomed.end - zoomed.start);
    expect(wheel.plotXRange![1] - wheel.plotXRange![0]).toBeLessThan(z1 - z0);
    await dash.screenshot('dashboard-stored-zoomed.png');

    expect(dash.pageErrors).toEqual([]);
  });

  it('shows server errors next to their field, an interrupted run with its reason, and a server that is down', { timeout: 120_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/new`);
    await page.waitForSelector('form.run-form');
    // Valid for each field alone, refused by the server: pulse width must be shorter than the period.
    await page.selectOption('#f-protocol-kind', 'pulse-train');
    await page.fill('#f-protocol-widthS', '0.002');
    await page.fill('#f-protocol-periodS', '0.001');
    await page.click('button[data-action=start]');
    await expect.poll(() => page.textContent('[data-error-for="/protocol/widthS"]'), { timeout: 10_000 }).toMatch(/period/);
    expect(page.url()).toContain('#/new');

    // A run cut short by a server crash reads as interrupted, with the reason, after a restart.
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'sine', durationS: 60, amplitude: 5e-4 }, sampleRate: 10_000, label: 'to be interrupted' });
    expect(res.status).toBe(201);
    const { run } = (await res.json()) as { run: { id: number } };
    await page.goto(`${dash.url}/#/runs/${run.id}`);
    await page.waitForFunction('window.spikeloop.live.pairs > 0', undefined, { timeout: 20_000 });
    // Kill only once some samples are committed (the store commits at least every 250 ms).
    const committed = async () =>
      ((await (await dash.fetch(`/api/runs/${run.id}`)).json()) as { run: { channels: { sampleCount: number }[] } }).run.channels[0]?.sampleCount ?? 0;
    await expect.poll(committed, { timeout: 20_000 }).toBeGreaterThan(0);
    await dash.server.kill();
    await expect.poll(() => page.textContent('.notice'), { timeout: 15_000 }).toMatch(/Lost the live feed/);
    await dash.restartServer();
    await page.goto(`${dash.url}/#/runs/${run.id}`);
    await page.waitForSelector('[data-view=stored]');
    expect(await page.textContent('.run-header [data-status]')).toBe('interrupted');
    expect((await page.textContent('[data-reason]'))?.length).toBeGreaterThan('Interrupted: '.length);
    // What was committed before the crash is drawn.
    await page.waitForFunction('window.spikeloop.stored.draws > 0 && window.spikeloop.stored.envelopeRequests.length > 0');
    await dash.screenshot('dashboard-interrupted.png');

    await dash.server.stop();
    await page.click('nav a[data-path="/"]');
    await page.waitForSelector('.banner:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('.banner')).toMatch(/not answering/);
    await dash.screenshot('dashboard-server-down.png');
  });
});
