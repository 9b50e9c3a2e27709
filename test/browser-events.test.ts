/**
 * Spike marks on the stored view in headless Chromium against the real server (simulated bench): a 3 s
 * 1 kHz square-wave run holds more spikes than the old 5 000-event cap; zoomed out every one of them is
 * loaded and drawn as a density strip, zoomed in they are exact ticks, and the toolbar's count equals the
 * server's for the window. Screenshot test/artifacts/events-density.png at 1366×768.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const stored = async () => (await dash.page.evaluate('window.spikeloop.stored')) as DashboardMetrics['stored'];

describe('stored view spike marks', () => {
  it('are never silently capped: density strip zoomed out, exact ticks zoomed in', { timeout: 90_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 3, frequencyHz: 1000 } });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 200 }).toBe('completed');
    const all = (await dash.getJson(`/api/runs/${id}/events?kind=spike&limit=100000`)).events as { index: number; channel: number }[];
    expect(all.length).toBeGreaterThan(5000);

    await page.goto(`${dash.url}/#/runs/${id}`);
    await expect.poll(async () => (await stored()).spikesInView, { timeout: 15_000 }).toBe(all.length);
    expect((await stored()).spikesCapped).toBe(false);
    await expect(page.locator('[data-stat=events]').textContent()).resolves.toBe(`${all.length.toLocaleString('en-US')} spikes in view`);
    const spikeChannel = all[0].channel;
    await expect.poll(() => page.getAttribute(`.plot[data-channel="${spikeChannel}"]`, 'data-spike-mode')).toBe('density');
    await dash.screenshot('events-density.png');

    // Zoom in (+ halves the window) until a few spikes remain: exact ticks, the count the server's for that window.
    for (let i = 0; i < 11; i++) await page.keyboard.press('+');
    await expect.poll(() => page.getAttribute(`.plot[data-channel="${spikeChannel}"]`, 'data-spike-mode'), { timeout: 10_000 }).toBe('ticks');
    const rate = (await dash.getJson(`/api/runs/${id}`)).run.channels[0].sampleRate as number;
    const [a, b] = (await stored()).xRange!;
    const inWindow = all.filter((e) => e.index >= Math.floor(a * rate) && e.index < Math.ceil(b * rate)).length;
    expect(inWindow).toBeGreaterThan(0);
    expect(inWindow).toBeLessThan(20);
    // The window's own fetch lands after the redraw of the zoom itself.
    await expect.poll(async () => (await stored()).spikesInView, { timeout: 10_000 }).toBe(inWindow);
    await expect(page.locator('[data-stat=events]').textContent()).resolves.toBe(`${inWindow} spikes in view`);
    await expect.poll(() => page.getAttribute(`.plot[data-channel="${spikeChannel}"]`, 'data-spike-mode')).toBe('ticks');
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
