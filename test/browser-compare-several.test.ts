/**
 * Compare with several runs, headless Chromium against the real server (1366×768): three runs ticked in the
 * runs list (two measured square-wave runs of the simulated bench at 20 and 40 Hz, and a twin run of the LIF)
 * open Compare with the earliest measured run pairwise with the other two: the pairs table (spikes, rate, rate
 * difference from the first), the first pair drawn and analysed, Show for the second pair
 * (screenshot compare-several.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768 });

describe('compare several runs', () => {
  it('compares the ticked runs pairwise with the first measured one', { timeout: 150_000 }, async () => {
    const twin = await dash.completedRun({ source: 'twin', options: { circuit: 'lif' }, protocol: { kind: 'square', durationS: 0.5, frequencyHz: 20 }, sampleRate: 20_000, label: 'lif twin' });
    const a = await dash.completedRun({ protocol: { kind: 'square', durationS: 0.5, frequencyHz: 20 }, sampleRate: 20_000, label: 'square 20 Hz' });
    const b = await dash.completedRun({ protocol: { kind: 'square', durationS: 0.5, frequencyHz: 40 }, sampleRate: 20_000, label: 'square 40 Hz' });
    const { page } = dash;
    await page.goto(`${dash.url}/#/`);
    await page.waitForSelector(`tr[data-run-id="${b}"]`);
    for (const id of [twin, a, b]) await page.check(`[data-select="${id}"]`);
    expect(await page.isDisabled('[data-action=compare-selected]')).toBe(false);
    await page.click('[data-action=compare-selected]');
    // the first measured run (a: the twin run is older but not measured) with each of the others
    await page.waitForURL(new RegExp(`#/compare/${a}\\?with=${twin},${b}$`));
    expect(await page.textContent('h1')).toBe(`Compare run ${a} pairwise with runs ${twin}, ${b}`);

    await page.waitForSelector('table.compare-pairs tbody tr[data-pair]');
    const rows = await page.$$eval('table.compare-pairs tbody tr', (trs) => trs.map((tr) => [(tr as HTMLElement).dataset.pair, ...[...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')]));
    expect(rows.map((r) => Number(r[0]))).toEqual([a, twin, b]);
    expect(rows[2][2]).toBe('simulated');
    expect(rows[1][2]).toBe('twin');
    const spikes = async (id: number) => (await dash.getJson(`/api/runs/${id}`)).run.eventCounts.spike as number;
    expect(rows.map((r) => Number(r[4]))).toEqual([await spikes(a), await spikes(twin), await spikes(b)]);
    expect(rows[0][6]).toBe('first run');
    expect(rows[1][6]).toMatch(/^-?[\d.]+ %$|^–$/);
    expect(rows[1][7]).toBe('shown below');

    // The first pair drawn: run a against the twin run, named by id (it is not a's own twin).
    await page.waitForSelector('.compare-traces[data-points] canvas');
    expect(await page.textContent('#compare-status')).toBe(`Run ${a} (simulated) and run ${twin} (twin), compared on one time axis.`);
    expect(await page.textContent('table.compare-stats thead')).toBe(`measured (run ${a})run ${twin}`);
    await expect.poll(() => page.getAttribute('[data-analyses-source]', 'data-analyses-source'), { timeout: 60_000 }).not.toBeNull();
    const compared = (await dash.getJson(`/api/runs/${a}/analyses?name=compare`)).analyses as { params: { with: number } }[];
    expect(compared.map((c) => c.params.with)).toContain(twin);
    await dash.screenshot('compare-several.png', { fullPage: true });

    // Show the second pair.
    await page.click(`table.compare-pairs tr[data-pair="${b}"] [data-action=show-pair]`);
    await page.waitForURL(new RegExp(`#/compare/${a}\\?with=${twin},${b}&show=${b}$`));
    await expect.poll(() => page.textContent('#compare-status'), { timeout: 30_000 }).toBe(`Run ${a} (simulated) and run ${b} (simulated), compared on one time axis.`);
    expect(await page.textContent(`table.compare-pairs tr[data-pair="${b}"]`)).toContain('shown below');
    await expect.poll(() => page.getAttribute('[data-analyses-source]', 'data-analyses-source'), { timeout: 60_000 }).not.toBeNull();
    expect(dash.pageErrors).toEqual([]);
  });
});
