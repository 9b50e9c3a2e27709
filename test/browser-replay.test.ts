/**
 * The Replay page in headless Chromium (Debian's, via playwright-core) against the real server: a stored
 * square-wave run played back through the live view — play, pause, speed, scrubbing, and jumps to the
 * next/previous spike checked against the run's stored events (screenshot test/artifacts/replay.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1280, height: 900 });
const getJson = dash.getJson;
const playhead = async () => Number(await dash.page.getAttribute('.replay-page', 'data-playhead'));
const live = async () => (await dash.page.evaluate('window.spikeloop.live')) as DashboardMetrics['live'];

describe('replay page', () => {
  it('plays a stored run back through the live view: play, pause, speed, scrub, jump to spikes', { timeout: 60_000 }, async () => {
    const { page } = dash;
    const RATE = 50_000;
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 3, frequencyHz: 20 }, sampleRate: RATE, label: 'replay test' });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await getJson(`/api/runs/${id}`)).run.status, { timeout: 20_000, interval: 200 }).toBe('completed');
    const spikes = ((await getJson(`/api/runs/${id}/events?kind=spike&limit=100000`)).events as { index: number }[]).map((e) => e.index);
    expect(spikes.length).toBeGreaterThan(3);

    await page.goto(`${dash.url}/#/replay/${id}`);
    await page.waitForSelector('.replay-page [data-view=replay] canvas');
    // Loaded through the live view's own path (blocks counted as live pairs) and drawn up to the playhead.
    await expect.poll(async () => (await live()).pairs, { timeout: 10_000 }).toBeGreaterThan(0);
    const t0 = await playhead();
    expect(t0).toBeCloseTo(2, 6); // starts one 2 s window in
    await expect.poll(async () => (await live()).xRange?.[1]).toBeCloseTo(2, 6);

    // Play at 0.5x, pause: the playhead advances, then stands still.
    await page.selectOption('[data-control=speed]', '0.5');
    await page.click('[data-action=play]');
    await expect.poll(playhead, { timeout: 10_000 }).toBeGreaterThan(t0 + 0.05);
    await page.click('[data-action=play]');
    expect(await page.getAttribute('.replay-page', 'data-playing')).toBe('false');
    const paused = await playhead();
    expect(paused).toBeLessThan(3);
    await page.waitForTimeout(300);
    expect(await playhead()).toBe(paused);

    // At 10x it plays to the end and stops there.
    await page.selectOption('[data-control=speed]', '10');
    await page.click('[data-action=play]');
    await expect.poll(playhead, { timeout: 10_000 }).toBe(3);
    await expect.poll(() => page.getAttribute('.replay-page', 'data-playing')).toBe('false');

    // Scrub: the view follows the scrub bar and redraws that window from stored data.
    await page.$eval('[data-control=scrub]', (el) => {
      const input = el as HTMLInputElement;
      input.value = '2.5';
      input.dispatchEvent(new Event('input'));
      input.dispatchEvent(new Event('change'));
    });
    expect(await playhead()).toBeCloseTo(2.5, 6);
    await expect.poll(async () => (await live()).xRange?.[1]).toBeCloseTo(2.5, 6);
    await expect.poll(async () => (await live()).points).toBeGreaterThan(100);

    // Jumps: the next spike after the window's centre (1.5 s), the one after, and back.
    const centre = 1.5 * RATE;
    const k = spikes.findIndex((s) => s > centre);
    expect(k).toBeGreaterThanOrEqual(0);
    await page.click('[data-action=next-spike]');
    await expect.poll(() => page.getAttribute('.replay-page', 'data-jumped-to')).toBe(String(spikes[k]));
    expect(await playhead()).toBeCloseTo(spikes[k] / RATE + 1, 6);
    await page.click('[data-action=next-spike]');
    await expect.poll(() => page.getAttribute('.replay-page', 'data-jumped-to')).toBe(String(spikes[k + 1]));
    await page.click('[data-action=prev-spike]');
    await expect.poll(() => page.getAttribute('.replay-page', 'data-jumped-to')).toBe(String(spikes[k]));
    // The spike sits in the middle of the visible window, which shows stored data again.
    const m = await live();
    expect(m.xRange![0]).toBeLessThan(spikes[k] / RATE);
    expect(m.xRange![1]).toBeGreaterThan(spikes[k] / RATE);
    await expect.poll(async () => (await live()).points).toBeGreaterThan(100);
    // This protocol sets no markers: the page says so instead of moving.
    const before = await playhead();
    await page.click('[data-action=next-marker]');
    await expect.poll(() => page.textContent('[data-stat=replay-status]')).toMatch(/No later marker/);
    expect(await playhead()).toBe(before);

    await dash.screenshot('replay.png');
    expect(dash.pageErrors).toEqual([]);
  });
});
