/**
 * The runs list and replay, headless Chromium against the real server (1366×768):
 *  - LENGTH is the recorded duration in signal time: a twin run of 1 s (computed in milliseconds) shows
 *    "1 s"; a sweep's runs show the sweep's name on their tag; columns sort both ways; ticking two runs and
 *    "Overlay" draws both on one axis (screenshots runs-list.png, overlay.png);
 *  - replay of a run with a watchdog fault (test/browser/fault-run.ts) jumps to the fault and to the
 *    marker, says their text, and its one time readout equals the scrub bar after each jump (replay-fault.png).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import { FAULT_RUN, writeFaultRun } from './browser/fault-run.ts';

const dash = useDashboard({ width: 1366, height: 768 });

describe('runs list', () => {
  it('shows signal-time length and sweep names, sorts, and overlays ticked runs', { timeout: 150_000 }, async () => {
    const twin = await dash.postJson('/api/runs', { source: 'twin', options: { circuit: 'lif' }, protocol: { kind: 'dc', level: 30e-6, durationS: 1 }, sampleRate: 10_000, label: 'twin 1 s' });
    expect(twin.status, await twin.clone().text()).toBe(201);
    const twinId = ((await twin.json()) as { run: { id: number } }).run.id;
    const sq = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 0.4, frequencyHz: 20 }, sampleRate: 20_000, label: 'square 0.4 s' });
    const sqId = ((await sq.json()) as { run: { id: number } }).run.id;
    const sw = await dash.postJson('/api/sweeps', {
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      label: 'level scan',
      sweep: { kind: 'sweep', base: { kind: 'dc', durationS: 0.05 }, parameters: [{ field: 'level', values: [20e-6, 40e-6] }] },
    });
    expect(sw.status, await sw.clone().text()).toBe(201);
    const sweepId = ((await sw.json()) as { sweep: { id: string } }).sweep.id;
    for (const id of [twinId, sqId]) await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 250 }).toBe('completed');
    await expect.poll(async () => (await dash.getJson(`/api/sweeps/${sweepId}`)).sweep.state, { timeout: 60_000, interval: 250 }).toBe('completed');

    const { page } = dash;
    await page.goto(`${dash.url}/#/`);
    await page.waitForSelector(`tr[data-run-id="${twinId}"]`);
    expect(await page.textContent(`tr[data-run-id="${twinId}"] [data-length]`)).toBe('1 s');
    expect(await page.textContent(`tr[data-run-id="${sqId}"] [data-length]`)).toBe('400 ms');
    await expect.poll(() => page.$$eval(`[data-sweep-tag="${sweepId}"]`, (els) => els.map((e) => e.textContent))).toEqual(['sweep: level scan', 'sweep: level scan']);

    // Sorting: by # ascending (the default is newest first), by length descending.
    const ids = () => page.$$eval('table.runs tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.runId)));
    const newestFirst = await ids();
    expect(newestFirst).toEqual([...newestFirst].sort((a, b) => b - a));
    await page.click('th[data-sort="#"]');
    expect(await ids()).toEqual([...newestFirst].sort((a, b) => a - b));
    await page.click('th[data-sort=length]');
    expect((await ids())[0]).toBe(twinId);
    expect(await page.getAttribute('th[data-sort=length]', 'aria-sort')).toBe('descending');

    // Tick two runs: overlay them on one axis.
    await page.check(`[data-select="${twinId}"]`);
    await page.check(`[data-select="${sqId}"]`);
    expect(await page.textContent('[data-stat=selected]')).toBe('2 runs ticked');
    // two unrelated runs: Compare opens the measured one pairwise with the other (browser-compare-several)
    expect(await page.isDisabled('[data-action=compare-selected]')).toBe(false);
    await dash.screenshot('runs-list.png');
    await page.click('[data-action=overlay]');
    await page.waitForSelector('.overlay-page[data-loaded]');
    expect(page.url()).toContain(`#/overlay?runs=${Math.min(twinId, sqId)},${Math.max(twinId, sqId)}`);
    expect(await page.$$eval('.overlay-runs tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.runId)))).toEqual([Math.min(twinId, sqId), Math.max(twinId, sqId)]);
    // Both responses are in V: one plot with both runs' series.
    const legends = await page.$$eval('.overlay-page .plot[data-group="response-V"] .u-legend .u-label', (els) => els.map((e) => e.textContent));
    expect(legends).toEqual(expect.arrayContaining([`#${twinId} max`, `#${sqId} max`]));
    await dash.screenshot('overlay.png');
    expect(dash.pageErrors).toEqual([]);
  });
});

describe('replay', () => {
  it('jumps to faults and markers, says their text, and shows one time readout', { timeout: 120_000 }, async () => {
    await dash.server.kill();
    const id = writeFaultRun(path.join(dash.server.dir, 'runs.db'));
    await dash.restartServer();
    const { page } = dash;
    const f = FAULT_RUN;
    await page.goto(`${dash.url}/#/replay/${id}`);
    await page.waitForSelector('.replay-page [data-view=replay] canvas');
    // One readout: the live view's own time field is not shown in a replay.
    expect(await page.isHidden('[data-view=replay] [data-stat=time]')).toBe(true);
    const agree = async () => {
      const scrub = Number(await page.inputValue('[data-control=scrub]'));
      const text = (await page.textContent('[data-stat=playhead]')) ?? '';
      const shown = Number(text.match(/^t = ([\d.]+) (m?)s/)![1]) * (text.match(/^t = [\d.]+ ms/) ? 1e-3 : 1);
      expect(shown).toBeCloseTo(scrub, 3);
      return scrub;
    };
    await agree();
    // The whole 1 s run is in view at the start, centred on 0.5 s: the fault at 0.4 s is the previous one.
    await page.click('[data-action=prev-fault]');
    await expect.poll(() => page.getAttribute('.replay-page', 'data-jumped-to')).toBe(String(f.faultIndex));
    expect(await page.textContent('[data-stat=replay-status]')).toBe(`fault at 400 ms (centre of the window): ${f.faultLabel}`);
    const t = await agree();
    await expect.poll(() => page.getAttribute('.replay-view .plot[data-channel="1"]', 'data-spans'), { timeout: 10_000 }).toBe('1');
    await dash.screenshot('replay-fault.png');
    await page.click('[data-action=prev-marker]');
    await expect.poll(() => page.getAttribute('.replay-page', 'data-jumped-to')).toBe(String(f.markerIndex));
    expect(await page.textContent('[data-stat=replay-status]')).toBe(`marker at 200 ms (centre of the window): ${f.markerLabel}`);
    expect(await agree()).toBeLessThan(t);
    expect(dash.pageErrors).toEqual([]);
  });
});
