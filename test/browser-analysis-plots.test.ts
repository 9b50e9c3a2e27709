/**
 * The analysis plots of the run page in headless Chromium against the real server (simulated bench and
 * twin runs): spike raster (a density strip at 1 kHz, ticks once zoomed in) with waveform snippets and the
 * Gaussian-mixture components over the histograms, burst raster and table (bursting NSU twin), regime per
 * ladder step (NSU tonic twin), phase histogram (two-unit CPG twin); each plot has PNG and CSV buttons.
 * Screenshots at 1366×768 under test/artifacts/ (analysis-waveforms.png, analysis-modes.png,
 * analysis-bursts.png, analysis-regime.png, analysis-phase.png).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768, acceptDownloads: true });

async function completed(res: Response): Promise<number> {
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { run: { id: number } }).run.id;
  await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 60_000, interval: 200 }).toBe('completed');
  return id;
}
const measured = (protocol: Record<string, unknown>) => dash.postJson('/api/runs', { protocol }).then(completed);
const twin = (circuit: string, protocol: Record<string, unknown>, sampleRate: number) => dash.postJson('/api/twin/runs', { circuit, protocol, sampleRate }).then(completed);

async function openAnalysis(id: number, method: string): Promise<void> {
  const { page } = dash;
  await page.goto(`${dash.url}/#/runs/${id}`);
  await page.waitForSelector(`.analysis-panel select[name=analysis] option[value=${method}]`, { state: 'attached' });
  await page.selectOption('select[name=analysis]', method);
}
/** Every plot shown has its PNG and CSV buttons. */
async function exportable(): Promise<void> {
  const { page } = dash;
  const n = await page.locator('.analysis-result .analysis-plot').count();
  expect(n).toBeGreaterThan(0);
  await expect.poll(() => page.locator('.analysis-result .analysis-plot .plot-png').count()).toBe(n);
  expect(await page.locator('.analysis-result .analysis-plot [data-action=csv]').count()).toBe(n);
}
async function csvOf(figure: string): Promise<string[]> {
  const [dl] = await Promise.all([dash.page.waitForEvent('download'), dash.page.click(`${figure} [data-action=csv]`)]);
  return readFileSync((await dl.path())!, 'utf8').trim().split('\n');
}

describe('analysis plots', () => {
  it('spikes: raster density strip then ticks, waveform snippets, mixture components', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const id = await measured({ kind: 'square', durationS: 1, frequencyHz: 1000 });
    await openAnalysis(id, 'spikes');
    await page.selectOption('#f-threshold', 'absolute');
    await page.fill('#f-value', '0.5');
    await page.check('#f-modes');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('figure[data-plot="Spike raster"] canvas');
    // ~1,000 spikes/s over 1 s on ~600 px: a density strip, not a solid bar of merged ticks.
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike raster"]', 'data-raster-mode')).toBe('density');
    const count = (await dash.getJson(`/api/runs/${id}/analyses?name=spikes`)).analyses[0].result.channels[0].n_spikes as number;
    expect((await csvOf('figure[data-plot="Spike raster"]')).length).toBe(count + 1);
    // Drag-zoom onto ~10 ms: single ticks.
    const box = (await page.locator('figure[data-plot="Spike raster"] .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.505, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => page.getAttribute('figure[data-plot="Spike raster"]', 'data-raster-mode')).toBe('ticks');

    // Waveform snippets: the spikes' raw samples, overlaid, with their mean.
    const wave = page.locator('figure[data-plot^="Waveforms · v_mem"]');
    await wave.waitFor();
    await expect(wave.getAttribute('data-plot')).resolves.toMatch(/\(40 of \d+ spikes\)/);
    const rows = await csvOf('figure[data-plot^="Waveforms"]');
    expect(rows[0].split(',')).toHaveLength(42); // time, 40 snippets, mean
    // The snippets are aligned on the spike: the mean at the detection time is above the 0.5 V threshold and
    // above where the window starts (the window holds one spike of the 1 kHz train).
    const at0 = rows.slice(1).map((r) => r.split(',').map(Number)).find((r) => Math.abs(r[0]) < 1e-9)!;
    expect(at0[41]).toBeGreaterThan(0.5);
    expect(Number(rows[1].split(',')[41])).toBeLessThan(at0[41]);
    await wave.scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-waveforms.png');

    // Mixture components over the amplitude, width and log-ISI histograms.
    for (const t of ['Amplitude modes', 'Width modes', 'ISI modes']) await page.waitForSelector(`figure[data-plot^="${t} · v_mem ·"] canvas`);
    const mix = (await dash.getJson(`/api/runs/${id}/analyses?name=spikes`)).analyses.find((a: { params: { modes?: boolean } }) => a.params.modes).result.channels[0].mixtures;
    await expect(page.getAttribute('figure[data-plot^="ISI modes"]', 'data-plot')).resolves.toContain(`${mix.log10_isi.k} component`);
    expect(await page.locator('figure[data-plot^="ISI modes"] .u-legend .u-series').count()).toBe(2 + mix.log10_isi.k);
    await exportable();
    await page.locator('figure[data-plot^="Amplitude modes"]').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-modes.png');
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('bursts: burst raster and table; regime per ladder step; phase histogram', { timeout: 180_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

    const bursting = await twin('nsu-bursting', { kind: 'dc', quantity: 'current', level: 100e-6, durationS: 0.5 }, 100_000);
    await openAnalysis(bursting, 'bursts');
    await page.fill('#f-channel', 'v_out');
    await page.selectOption('#f-method', 'max-interval');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('figure[data-plot^="Burst raster"] canvas');
    const bursts = (await dash.getJson(`/api/runs/${bursting}/analyses?name=bursts`)).analyses[0].result.channels[0].bursts as unknown[];
    expect(bursts.length).toBeGreaterThan(5);
    await expect(page.getAttribute('figure[data-plot^="Burst raster"]', 'data-plot')).resolves.toBe(`Burst raster · ${bursts.length} bursts`);
    expect(await page.locator('.burst-table tbody tr').count()).toBe(bursts.length);
    expect((await csvOf('figure[data-plot^="Burst raster"]')).length).toBe(bursts.length + 1);
    await exportable();
    await page.locator('.analysis-result').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-bursts.png');

    const levels = [0, 100e-6, 1e-3];
    const ladder = await twin('nsu-tonic', { kind: 'ladder', quantity: 'current', levels, dwellS: 0.02 }, 200_000);
    await openAnalysis(ladder, 'regime');
    await page.fill('#f-channel', 'v_out');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('figure[data-plot="Regime per ladder step · 3 steps"] canvas');
    await expect(page.locator('.regime-steps tbody td.regime').allTextContents()).resolves.toEqual(['quiescent', 'oscillatory', 'saturated']);
    await expect(page.locator('figure[data-plot^="Regime per ladder step"] .u-legend').textContent()).resolves.toContain('oscillatory');
    await exportable();
    await page.locator('.analysis-result').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-regime.png');

    const cpg = await twin('cpg2', { kind: 'dc', quantity: 'current', level: 50e-6, durationS: 0.2 }, 200_000);
    await openAnalysis(cpg, 'phase');
    await page.fill('#f-channels', 'v_outA, v_outB');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('figure[data-plot^="Phase histogram · v_outB in v_outA\'s cycle"] canvas');
    const phase = (await dash.getJson(`/api/runs/${cpg}/analyses?name=phase`)).analyses[0].result;
    await expect(page.getAttribute('figure[data-plot^="Phase histogram"]', 'data-plot')).resolves.toContain(`mean ${Number(phase.mean_phase.toPrecision(4))} cycles`);
    const hist = (await csvOf('figure[data-plot^="Phase histogram"]')).slice(1).map((r) => r.split(',').map(Number));
    expect(hist).toHaveLength(20);
    expect(hist.reduce((s, r) => s + r[2], 0)).toBe(phase.phases.length);
    await page.waitForSelector('figure[data-plot^="Phase against time"] canvas');
    await exportable();
    await page.locator('.analysis-result').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-phase.png');
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
