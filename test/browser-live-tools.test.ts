/**
 * The stored view's plot tools on a run that is still recording, headless Chromium against the real server
 * (1366×768): a simulated-bench run of a 20 Hz sine around 1 mA streams while per channel visibility, a
 * fixed y range and log y, the measurement cursors (Δt, 1/Δt, Δ per channel) and the X–Y view are used on
 * the live plots (screenshots live-tools.png, live-xy.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const live = async () => (await dash.page.evaluate('window.spikeloop.live')) as DashboardMetrics['live'];
const range = async (ch: number, which: 'data-x-range' | 'data-y-range') => ((await dash.page.getAttribute(`.live-view .plot[data-channel="${ch}"]`, which)) ?? '').split(',').map(Number);

describe('live plot tools', () => {
  it('hides channels, fixes y, measures with cursors and plots X–Y while the run streams', { timeout: 120_000 }, async () => {
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'sine', amplitude: 0.5e-3, offset: 1e-3, frequencyHz: 20, durationS: 60 }, sampleRate: 20_000 });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    const { page } = dash;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await expect.poll(async () => (await live()).pairs, { timeout: 20_000 }).toBeGreaterThan(0);
    await page.selectOption('.live-view select[aria-label="Visible window"]', '10');
    // wait until the 10 s window is drawn full of data, so that cursor values exist across the window
    await expect.poll(async () => Math.max(...Object.values((await live()).lastIndex)) / 20_000, { timeout: 30_000, interval: 250 }).toBeGreaterThan(10.5);

    // Per channel: the stimulus is positive throughout, so log y is offered; the membrane starts at 0 V.
    await page.click('.live-view .channel-controls-box summary');
    const stimLog = page.locator('.live-view [data-channel-controls="0"] [data-control=log]');
    await expect.poll(() => stimLog.isDisabled(), { timeout: 10_000 }).toBe(false);
    await stimLog.check();
    await expect.poll(() => page.getAttribute('.live-view .plot[data-channel="0"]', 'data-ylog')).toBe('true');
    expect((await range(0, 'data-y-range'))[0]).toBeGreaterThan(0);
    // A fixed y range on the membrane holds while new data arrives.
    await page.fill('.live-view [data-channel-controls="1"] [data-control=ymin]', '-0.5');
    await page.fill('.live-view [data-channel-controls="1"] [data-control=ymax]', '2');
    await page.press('.live-view [data-channel-controls="1"] [data-control=ymax]', 'Enter');
    await expect.poll(() => range(1, 'data-y-range')).toEqual([-0.5, 2]);
    const pairs = (await live()).pairs;
    await expect.poll(async () => (await live()).pairs).toBeGreaterThan(pairs);
    expect(await range(1, 'data-y-range')).toEqual([-0.5, 2]);
    // y+ halves it around its centre.
    await page.click('.live-view [data-channel-controls="1"] [data-action=y-in]');
    await expect.poll(() => range(1, 'data-y-range')).toEqual([0.125, 1.375]);
    // Hidden: the stimulus plot goes, the membrane keeps drawing.
    await page.uncheck('.live-view [data-channel-controls="0"] [data-control=visible]');
    expect(await page.isHidden('.live-view .plot[data-channel="0"]')).toBe(true);
    const frames = (await live()).frames;
    await expect.poll(async () => (await live()).frames).toBeGreaterThan(frames + 10);
    await page.check('.live-view [data-channel-controls="0"] [data-control=visible]');
    expect(await page.isVisible('.live-view .plot[data-channel="0"]')).toBe(true);
    await page.click('.live-view [data-channel-controls="1"] [data-action=y-auto]');
    await page.click('.live-view .channel-controls-box summary');

    // Cursors on the scrolling plot: A at a quarter of the window, B at three quarters; Δt is half the window
    // plus how far it scrolled between the clicks (well under a second).
    await page.click('.live-view [data-action=cursors]');
    const over = (await page.locator('.live-view .plot[data-channel="1"] .u-over').boundingBox())!;
    await page.mouse.click(over.x + over.width * 0.25, over.y + over.height / 2);
    await page.mouse.click(over.x + over.width * 0.75, over.y + over.height / 2);
    const dt = Number(await page.getAttribute('.live-view [data-stat=cursors]', 'data-dt'));
    expect(dt).toBeGreaterThan(4.9);
    expect(dt).toBeLessThan(6.5);
    expect(await page.textContent('.live-view [data-stat=cursors]')).toMatch(/Δt [\d.]+ s · 1\/Δt [\d.]+ mHz · Δstimulus i [-\d.]+ .?A · Δmembrane v [-\d.]+ .?V/);
    // The window keeps scrolling (a click is not a zoom).
    const [a0] = await range(1, 'data-x-range');
    await expect.poll(async () => (await range(1, 'data-x-range'))[0]).toBeGreaterThan(a0);
    await dash.screenshot('live-tools.png');

    // X–Y of the live window: membrane against stimulus, coloured by cycle, refreshed as the run goes on.
    await page.click('.live-view [data-action=xy]');
    await page.selectOption('.live-view [data-control=xy-colour]', 'cycle');
    await expect.poll(() => page.textContent('.live-view [data-stat=xy-note]'), { timeout: 10_000 }).toMatch(/^[\d,]+ points over [\d.]+ s – [\d.]+ s/);
    expect(await page.textContent('.live-view [data-plot=xy] .u-title')).toMatch(/^membrane v vs stimulus i/);
    const note = await page.textContent('.live-view [data-stat=xy-note]');
    await expect.poll(() => page.textContent('.live-view [data-stat=xy-note]'), { timeout: 10_000 }).not.toBe(note);
    await page.locator('.live-view [data-plot=xy]').scrollIntoViewIfNeeded();
    await dash.screenshot('live-xy.png');

    await dash.postJson(`/api/runs/${id}/stop`, {});
    expect(dash.pageErrors).toEqual([]);
  });
});
