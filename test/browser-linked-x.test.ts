/**
 * Every time plot of a run page on one x window, headless Chromium against the real server (1366×768): on a
 * 1 kHz square-wave run of the simulated bench, the spike raster of the analyses panel follows the stored
 * view's zoom (keys), and a drag on the raster zooms the traces (screenshot linked-x.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const stored = async () => (await dash.page.evaluate('window.spikeloop.stored')) as DashboardMetrics['stored'];
const nums = (s: string | null) => (s ?? '').split(',').map(Number);
const traceRange = async () => nums(await dash.page.getAttribute('.stored-view .plot[data-channel="1"]', 'data-x-range'));
const rasterRange = async () => nums(await dash.page.getAttribute('figure[data-plot="Spike raster"]', 'data-x-range'));

describe('linked x on the run page', () => {
  it('links the analyses panel time plots and the stored traces both ways', { timeout: 120_000 }, async () => {
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 1, frequencyHz: 1000 } });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 200 }).toBe('completed');
    const { page } = dash;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await expect.poll(async () => (await stored()).draws, { timeout: 15_000 }).toBeGreaterThan(0);
    await page.waitForSelector('.analysis-panel select[name=analysis] option[value=spikes]', { state: 'attached' });
    await page.selectOption('select[name=analysis]', 'spikes');
    await page.selectOption('#f-threshold', 'absolute');
    await page.fill('#f-value', '0.5');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('figure[data-plot="Spike raster"][data-time] canvas');

    // The raster opens on the traces' window (the whole run), not on its first to last spike.
    await expect.poll(rasterRange).toEqual(await traceRange());
    expect((await rasterRange())[0]).toBe(0);

    // Zoom the traces (keys): the raster follows.
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => { const [a, b] = await traceRange(); return b - a; }).toBeCloseTo(0.25, 6);
    await expect.poll(rasterRange).toEqual(await traceRange());

    // Drag across the middle fifth of the raster: the traces zoom to that span and fetch it.
    const requests = (await stored()).envelopeRequests.length;
    const [r0, r1] = await rasterRange();
    await page.locator('figure[data-plot="Spike raster"]').scrollIntoViewIfNeeded();
    const over = (await page.locator('figure[data-plot="Spike raster"] .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.4, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height / 2, { steps: 5 });
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => { const [a, b] = await traceRange(); return b - a; }).toBeCloseTo((r1 - r0) * 0.2, 2);
    const [a, b] = await traceRange();
    expect(a).toBeCloseTo(r0 + (r1 - r0) * 0.4, 2);
    expect(b).toBeCloseTo(r0 + (r1 - r0) * 0.6, 2);
    expect(await rasterRange()).toEqual([a, b]);
    await expect.poll(async () => (await stored()).envelopeRequests.length).toBeGreaterThan(requests);
    await expect.poll(async () => (await stored()).plotXRange).toEqual([a, b]);
    // zoomed to about 50 ms of a 1 kHz train: ticks, not a density strip
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike raster"]', 'data-raster-mode')).toBe('ticks');

    await page.evaluate(() => window.scrollTo(0, 0));
    await dash.screenshot('linked-x.png', { fullPage: true });
    expect(dash.pageErrors).toEqual([]);
  });
});
