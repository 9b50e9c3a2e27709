/**
 * The plots researchers expect on a stored run's page, headless Chromium against the real server
 * (1366×768), on a simulated-bench run of a 20 Hz sine around 1 mA (stimulus always positive):
 * every time plot follows one x window; per channel visibility, y zoom and log y (offered only where every
 * value is positive); measurement cursors A/B with Δt and 1/Δt; the X–Y view coloured by stimulus cycle
 * (screenshots plots-cursors.png, plots-xy.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const stored = async () => (await dash.page.evaluate('window.spikeloop.stored')) as DashboardMetrics['stored'];
const range = async (ch: number, which: 'data-x-range' | 'data-y-range') => ((await dash.page.getAttribute(`.plot[data-channel="${ch}"]`, which)) ?? '').split(',').map(Number);

describe('stored run plots', () => {
  it('links x, controls y per channel, measures with cursors and plots X–Y', { timeout: 120_000 }, async () => {
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'sine', amplitude: 0.5e-3, offset: 1e-3, frequencyHz: 20, durationS: 0.5 }, sampleRate: 20_000 });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 200 }).toBe('completed');
    const { page } = dash;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await expect.poll(async () => (await stored()).draws, { timeout: 15_000 }).toBeGreaterThan(0);

    // Per channel: log y only where every value in view is positive (the stimulus; not the membrane, at 0 V at the start).
    await page.click('.channel-controls-box summary');
    const stimLog = page.locator('[data-channel-controls="0"] [data-control=log]');
    const memLog = page.locator('[data-channel-controls="1"] [data-control=log]');
    await expect.poll(() => stimLog.isDisabled()).toBe(false);
    expect(await memLog.isDisabled()).toBe(true);

    // Linked x: zoom in twice, both plots show the same window.
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await expect.poll(async () => (await range(0, 'data-x-range'))[1] - (await range(0, 'data-x-range'))[0]).toBeCloseTo(0.125, 6);
    expect(await range(1, 'data-x-range')).toEqual(await range(0, 'data-x-range'));

    await stimLog.check();
    await expect.poll(() => page.getAttribute('.plot[data-channel="0"]', 'data-ylog')).toBe('true');
    expect((await range(0, 'data-y-range'))[0]).toBeGreaterThan(0);
    // y zoom on the membrane: the axis halves around its centre; "auto" fits the data again.
    const [y0, y1] = await range(1, 'data-y-range');
    await page.click('[data-channel-controls="1"] [data-action=y-in]');
    await expect.poll(async () => { const [a, b] = await range(1, 'data-y-range'); return (b - a) / (y1 - y0); }).toBeCloseTo(0.5, 6);
    expect(await page.inputValue('[data-channel-controls="1"] [data-control=ymin]')).not.toBe('');
    // A fixed range typed in, then back to automatic.
    await page.fill('[data-channel-controls="1"] [data-control=ymin]', '-0.5');
    await page.fill('[data-channel-controls="1"] [data-control=ymax]', '2');
    await page.press('[data-channel-controls="1"] [data-control=ymax]', 'Enter');
    await expect.poll(() => range(1, 'data-y-range')).toEqual([-0.5, 2]);
    await page.click('[data-channel-controls="1"] [data-action=y-auto]');
    await expect.poll(async () => (await range(1, 'data-y-range'))[1]).toBeLessThan(2);
    // Visibility: the stimulus plot hides and comes back.
    await page.uncheck('[data-channel-controls="0"] [data-control=visible]');
    expect(await page.isHidden('.plot[data-channel="0"]')).toBe(true);
    await page.check('[data-channel-controls="0"] [data-control=visible]');
    expect(await page.isVisible('.plot[data-channel="0"]')).toBe(true);

    // Cursors: A at a quarter, B at three quarters of the window: Δt is half the window, 1/Δt its inverse.
    await page.click('[data-action=cursors]');
    const over = (await page.locator('.plot[data-channel="1"] .u-over').boundingBox())!;
    const [w0, w1] = await range(1, 'data-x-range');
    await page.mouse.click(over.x + over.width * 0.25, over.y + over.height / 2);
    await page.mouse.click(over.x + over.width * 0.75, over.y + over.height / 2);
    const dt = Number(await page.getAttribute('[data-stat=cursors]', 'data-dt'));
    expect(dt).toBeCloseTo((w1 - w0) / 2, 3);
    expect(await page.textContent('[data-stat=cursors]')).toMatch(/Δt [\d.]+ ms · 1\/Δt [\d.]+ Hz · Δstimulus i [-\d.]+ .?A · Δmembrane v [-\d.]+ .?V/);
    // The window did not change (a click is not a zoom).
    expect(await range(1, 'data-x-range')).toEqual([w0, w1]);
    await page.click('.channel-controls-box summary');
    await dash.screenshot('plots-cursors.png');

    // X–Y: membrane against stimulus over the whole run, coloured by cycle (10 cycles of 50 ms).
    await page.keyboard.press('0');
    await page.click('[data-action=xy]');
    await page.selectOption('[data-control=xy-colour]', 'cycle');
    await expect.poll(() => page.textContent('[data-stat=xy-note]'), { timeout: 10_000 }).toMatch(/^10,000 points over 0 s – 500 ms \(raw samples\)|^[\d,]+ points over 0 s – 500 ms/);
    expect(await page.textContent('[data-plot=xy] .u-title')).toMatch(/^membrane v vs stimulus i/);
    await page.locator('[data-plot=xy]').scrollIntoViewIfNeeded();
    await dash.screenshot('plots-xy.png');
    // The cycles can be told apart, though each retraces the one before: a colour each (the colour bar's
    // bands), each drawn wider than the later ones over it, so each shows as a band of its own colour; by
    // default the last 3 cycles, all on demand.
    const seen = () =>
      page.evaluate(() => {
        const cv = document.querySelector<HTMLCanvasElement>('[data-plot=xy] canvas')!;
        const dpr = window.devicePixelRatio || 1;
        const ctx = cv.getContext('2d')!;
        const w = cv.width / dpr;
        const top = 10;
        const bottom = cv.height / dpr - 40;
        const n = Number(cv.closest<HTMLElement>('[data-plot=xy]')!.dataset.cycles);
        const px = (x: number, y: number) => Array.from(ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data.slice(0, 3)).join(',');
        // the colour bar (24 px right of the plot box): band k from the bottom is cycle k
        const bands = Array.from({ length: n }, (_, k) => px(w - 90 + 24 + 6, bottom - (k + 0.5) * ((bottom - top) / n)));
        const img = ctx.getImageData(84 * dpr, top * dpr, (w - 90 - 84) * dpr, (bottom - top) * dpr).data;
        const count = new Map(bands.map((b) => [b, 0]));
        for (let i = 0; i < img.length; i += 4) {
          const key = `${img[i]},${img[i + 1]},${img[i + 2]}`;
          if (count.has(key)) count.set(key, count.get(key)! + 1);
        }
        return bands.map((b) => count.get(b)!);
      });
    expect(await page.getAttribute('[data-plot=xy]', 'data-cycles')).toBe('3');
    await expect(page.textContent('[data-stat=xy-note]')).resolves.toMatch(/drawn: the last 3 cycles from 350 ms$/);
    const pixels = await seen();
    for (const [k, n] of pixels.entries()) expect(n, `cycle ${k}: pixels of its colour in the plot (${pixels.join(' ')})`).toBeGreaterThan(100);
    await page.selectOption('[data-control=xy-cycles]', 'all');
    await expect.poll(() => page.getAttribute('[data-plot=xy]', 'data-cycles')).toBe('10');
    const all = await seen();
    expect(new Set(all.map(String)).size).toBeGreaterThan(1);
    expect(all[0], `the first cycle (${all.join(' ')})`).toBeGreaterThan(100);
    expect(all[9], `the last cycle (${all.join(' ')})`).toBeGreaterThan(100);
    expect(dash.pageErrors).toEqual([]);
  });
});
