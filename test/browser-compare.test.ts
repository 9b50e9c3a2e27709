/**
 * The Compare page in headless Chromium against the real server (simulated bench, paired with its own twin
 * circuit lif-bench at start): the stored analyses of the pairing shown without a POST, Recompute on
 * request; zoom fetches the envelopes of the new window (a 40 ms window drawn from hundreds of columns, not
 * 4 points) and the raster follows (linked x) from a density strip to ticks; the ISI histogram on log bins;
 * rounded numbers with units; the size exponent τ and the duration exponent α named the same in table and
 * legends. Screenshot test/artifacts/compare.png (1366×900, full page; also the README's).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900, acceptDownloads: true });

describe('compare page', () => {
  it('reuses stored analyses, zoom refetches and links the charts, log ISI bins, rounded numbers, one name per exponent', { timeout: 180_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().includes('/analyses/') && posts.push(r.url()));

    const res = await dash.postJson('/api/runs', { protocol: { kind: 'chirp', quantity: 'current', amplitude: 0.002, durationS: 1, startHz: 10, stopHz: 3000 }, twin: { circuit: 'lif-bench' } });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    // the pairing stores compare, avalanches and regime with the runs when it is done
    await expect.poll(async () => ((await dash.getJson(`/api/runs/${id}/analyses?name=compare`)).analyses as unknown[]).length, { timeout: 90_000, interval: 300 }).toBe(1);

    await page.goto(`${dash.url}/#/compare/${id}`);
    await page.waitForSelector('.compare-traces[data-points] canvas');
    await expect.poll(() => page.getAttribute('[data-analyses-source]', 'data-analyses-source'), { timeout: 30_000 }).toBe('stored');
    expect(posts).toEqual([]);

    // Rounded numbers with units; one name per exponent.
    const stats = (await page.textContent('table.compare-stats'))!;
    expect(stats).toMatch(/rate[\d.]+ k?Hz/);
    expect(stats).toMatch(/mean ISI[\d.]+ [mµ]?s/);
    for (const t of ['table.compare-stats', 'table.compare-distances', 'table.compare-avalanches']) {
      const cells = await page.$$eval(`${t} td`, (tds) => tds.map((td) => td.textContent ?? ''));
      for (const c of cells) expect(c).not.toMatch(/\d\.0*[1-9]\d{4,}/);
    }
    const av = (await page.textContent('table.compare-avalanches'))!;
    expect(av).toContain('size exponent τ');
    expect(av).toContain('duration exponent α');
    const sizeLegend = (await page.locator('.compare-avalanche-sizes .u-legend').textContent()) ?? '';
    expect(sizeLegend).not.toContain('α');
    const fits = (await dash.getJson(`/api/runs/${id}/analyses?name=avalanches`)).analyses[0].result;
    if (fits.size) expect(sizeLegend).toContain(`τ = ${Number(fits.size.alpha.toPrecision(3))}`);

    // Raster at kHz rates: a density strip zoomed out.
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike rasters"]', 'data-raster-mode')).toBe('density');
    // ISI on log bins: edges in a constant ratio.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('figure[data-plot^="ISI histograms"] [data-action=csv]')]);
    const rows = readFileSync((await dl.path())!, 'utf8').trim().split('\n').slice(1).map((r) => r.split(',').map(Number));
    const ratios = rows.map((r) => r[1] / r[0]);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeLessThan(1 + 1e-9);
    expect(ratios[0]).toBeGreaterThan(1.01);
    await dash.screenshot('compare.png', { fullPage: true });

    // Zoom onto ~40 ms: the envelopes of that window are fetched (hundreds of columns), the raster follows.
    await page.locator('.compare-traces').scrollIntoViewIfNeeded();
    const over = (await page.locator('.compare-traces .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.54, over.y + over.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect
      .poll(async () => {
        const [a, b] = (await page.getAttribute('.compare-traces', 'data-window'))!.split(',').map(Number);
        return b - a;
      }, { timeout: 15_000 })
      .toBeLessThan(0.05);
    expect(Number(await page.getAttribute('.compare-traces', 'data-points'))).toBeGreaterThan(300);
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike rasters"]', 'data-raster-mode')).toBe('ticks');
    await page.locator('.compare-traces').scrollIntoViewIfNeeded();
    await dash.screenshot('compare-zoomed.png');
    await page.click('[data-action=whole-run]');
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike rasters"]', 'data-raster-mode')).toBe('density');

    // Recompute on request only.
    await page.click('[data-action=recompute-analyses]');
    await expect.poll(() => page.getAttribute('[data-analyses-source]', 'data-analyses-source'), { timeout: 60_000 }).toBe('computed');
    expect(posts).toHaveLength(5);
    expect(posts.every((u) => u.includes('recompute=true'))).toBe(true);
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
