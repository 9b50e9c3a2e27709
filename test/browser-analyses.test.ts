/**
 * The analyses panel of a run page in headless Chromium against the real server (simulated bench):
 * spike detection with a chosen threshold and a PSD run from the forms generated from the registry's
 * schemas, their plots, the stored results reused after a reload, avalanche CCDFs with the fitted power law
 * and the warnings of a fit the data cannot support, PNG/CSV export. Screenshots at 1366×768 under
 * test/artifacts/ (analysis-spikes.png, analysis-psd.png, analysis-avalanches.png).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768, acceptDownloads: true });

async function recordedRun(protocol: Record<string, unknown>): Promise<number> {
  const res = await dash.postJson('/api/runs', { protocol });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { run: { id: number } }).run.id;
  await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 200 }).toBe('completed');
  return id;
}

/** The value cell of row `key` in the shown result's table. */
const cell = (key: string) => dash.page.locator('.analysis-table tr', { has: dash.page.locator('th', { hasText: new RegExp(`^${key.replace(/[[\].]/g, '\\$&')}$`) }) }).locator('td').textContent();

describe('analyses on the run page', () => {
  it('runs spike detection and a PSD from the generated forms, plots them, reuses the stored results', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().includes('/analyses/') && posts.push(r.url()));

    const id = await recordedRun({ kind: 'square', durationS: 1, frequencyHz: 1000 });
    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.waitForSelector('.analysis-panel select[name=analysis] option[value=spikes]', { state: 'attached' });
    await expect(page.locator('.analysis-stored').textContent()).resolves.toContain('No analysis stored');

    // The form comes from the schema: titles with units, defaults filled in.
    await page.selectOption('select[name=analysis]', 'spikes');
    await expect(page.locator('.analysis-fields label[for="f-refractory"]').textContent()).resolves.toBe('Dead time (s)');
    expect(await page.inputValue('#f-k')).toBe('5');

    // A value out of the schema's bounds is refused at its field and nothing is posted.
    await page.fill('#f-k', '-1');
    await page.click('[data-action=run-analysis]');
    await expect(page.locator('[data-error-for="/k"]').textContent()).resolves.toContain('must be > 0');
    expect(posts).toHaveLength(0);
    await page.fill('#f-k', '5');

    // A chosen absolute threshold, between the LIF's rest (0 V) and its spike peak (1 V).
    await page.selectOption('#f-threshold', 'absolute');
    await page.fill('#f-value', '0.5');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('.analysis-result[data-analysis=spikes] figure[data-plot="Spike raster"] canvas');
    await page.waitForSelector('.analysis-result figure[data-plot^="ISI histogram"] canvas');
    await expect(page.locator('[data-result-note]').textContent()).resolves.toMatch(/^Computed in \d+ ms and stored/);
    expect(posts).toHaveLength(1);
    const stored = (await dash.getJson(`/api/runs/${id}/analyses?name=spikes`)).analyses;
    expect(stored).toHaveLength(1);
    expect(stored[0].params).toMatchObject({ threshold: 'absolute', value: 0.5 });
    const count = stored[0].result.channels[0].n_spikes as number;
    expect(count).toBeGreaterThan(100);
    await expect(cell('channels[v_mem].n_spikes')).resolves.toBe(String(count));
    await expect(cell('channels[v_mem].threshold')).resolves.toBe('0.5');
    // Every plot has a PNG and a CSV button; the raster's CSV holds every spike.
    expect(await page.locator('.analysis-plot .plot-png').count()).toBe(await page.locator('.analysis-plot').count());
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('figure[data-plot="Spike raster"] [data-action=csv]')]);
    expect(csv.suggestedFilename()).toBe('Spike-raster.csv');
    const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('channel,time_s');
    expect(lines).toHaveLength(count + 1);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('figure[data-plot="Spike raster"] .plot-png')]);
    expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');
    await page.locator('.analysis-panel[data-view=analyses]').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-spikes.png');

    // PSD with its defaults: log-log, the 1 kHz fundamental marked and named in the title.
    await page.selectOption('select[name=analysis]', 'psd');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('.analysis-result[data-analysis=psd] figure[data-plot^="PSD"] canvas');
    const psd = (await dash.getJson(`/api/runs/${id}/analyses?name=psd`)).analyses[0].result.channels[0];
    expect(psd.oscillation.oscillating).toBe(true);
    expect(Math.abs(psd.oscillation.frequency_hz - 1000)).toBeLessThan(psd.df_hz);
    await expect(page.locator('.analysis-result figure[data-plot^="PSD"]').getAttribute('data-plot')).resolves.toContain('oscillation at 1 kHz');
    await page.locator('.analysis-result').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-psd.png');
    expect(posts).toHaveLength(2);

    // Reload: the newest stored result is shown without recomputing; the same parameters again reuse it.
    await page.reload();
    await page.waitForSelector('.analysis-result[data-analysis=psd] figure[data-plot^="PSD"] canvas');
    await expect(page.locator('[data-result-note]').textContent()).resolves.toContain('not recomputed');
    expect(posts).toHaveLength(2);
    await page.locator(`.analysis-stored button[data-stored="${stored[0].id}"]`).click();
    await page.waitForSelector('.analysis-result[data-analysis=spikes] figure[data-plot="Spike raster"] canvas');
    expect(await page.inputValue('#f-value')).toBe('0.5');
    await page.click('[data-action=run-analysis]');
    await expect.poll(() => page.locator('[data-result-note]').textContent()).toContain('reused (same parameters)');
    expect((await dash.getJson(`/api/runs/${id}/analyses?name=spikes`)).analyses).toHaveLength(1);
    // Recompute asks for a fresh result.
    await page.click('[data-action=recompute]');
    await expect.poll(() => page.locator('[data-result-note]').textContent()).toMatch(/^Computed in/);
    expect(posts.at(-1)).toContain('recompute=true');

    // Avalanches of a periodic train: no power law can be fitted, and the page says so prominently.
    await page.selectOption('select[name=analysis]', 'avalanches');
    await page.selectOption('#f-threshold', 'absolute');
    await page.fill('#f-value', '0.5');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('.analysis-result[data-analysis=avalanches]');
    const avWarnings = (await dash.getJson(`/api/runs/${id}/analyses?name=avalanches`)).analyses[0].result.warnings as string[];
    expect(avWarnings.length).toBeGreaterThan(0);
    for (const w of avWarnings) await expect(page.locator('.analysis-warnings[role=alert]').textContent()).resolves.toContain(w);

    // A chirp drives irregular avalanches: size and duration CCDFs with the fitted power law in the legend.
    const chirp = await recordedRun({ kind: 'chirp', quantity: 'current', amplitude: 0.002, durationS: 2, startHz: 10, stopHz: 3000 });
    await page.goto(`${dash.url}/#/runs/${chirp}`);
    await page.waitForSelector('.analysis-panel select[name=analysis] option[value=avalanches]', { state: 'attached' });
    await page.selectOption('select[name=analysis]', 'avalanches');
    await page.selectOption('#f-threshold', 'absolute');
    await page.fill('#f-value', '0.5');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('.analysis-result figure[data-plot^="Avalanche size CCDF"] canvas');
    const fit = (await dash.getJson(`/api/runs/${chirp}/analyses?name=avalanches`)).analyses[0].result.size;
    expect(fit).not.toBeNull();
    await expect(page.locator('figure[data-plot^="Avalanche size CCDF"]').getAttribute('data-plot')).resolves.toContain(`τ = ${fit.alpha.toFixed(2)}`);
    await expect(page.locator('figure[data-plot^="Avalanche size CCDF"] .u-legend').textContent()).resolves.toContain('power law');
    await page.locator('.analysis-result').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-avalanches.png');

    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
