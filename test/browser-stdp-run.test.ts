/**
 * The STDP curve from a run page, headless Chromium against the real server (1366×768): the analysis
 * registry declares that `stdp` takes runs of the stdp protocol, so the analyses picker offers it on a twin
 * run of the plastic synapse (stdp-synapse) and not on a square-wave run; run from the form, the curve (Δw
 * against Δt with the two-exponential fit) is stored with the run and equals POST /api/experiments/stdp's
 * (screenshot analysis-stdp.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768 });

describe('STDP on the run page', () => {
  it('offers the STDP curve on stdp runs only, plots and stores it', { timeout: 150_000 }, async () => {
    const stdp = await dash.completedRun(
      {
        circuit: 'stdp-synapse',
        protocol: { kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [-4e-3, -2e-3, 2e-3, 4e-3], pairsPerOffset: 3, readWidthS: 2e-3, gapS: 2e-3 },
        sampleRate: 100_000,
      },
      '/api/twin/runs',
    );
    const square = await dash.completedRun({ protocol: { kind: 'square', durationS: 0.2, frequencyHz: 20 }, sampleRate: 20_000 });
    const { page } = dash;
    const options = () => page.$$eval('.analysis-panel select[name=analysis] option', (os) => os.map((o) => (o as HTMLOptionElement).value));

    await page.goto(`${dash.url}/#/runs/${square}`);
    await page.waitForSelector('.analysis-panel select[name=analysis] option[value=spikes]', { state: 'attached' });
    expect(await options()).not.toContain('stdp');

    await page.goto(`${dash.url}/#/runs/${stdp}`);
    await page.waitForSelector('.analysis-panel select[name=analysis] option[value=stdp]', { state: 'attached' });
    await page.selectOption('select[name=analysis]', 'stdp');
    await expect(page.locator('.analysis-fields label[for="f-tau-min"]').textContent()).resolves.toBe('Smallest τ (s)');
    await page.click('[data-action=run-analysis]');
    await page.waitForSelector('.analysis-result[data-analysis=stdp] figure[data-plot^="STDP curve"] canvas');

    const curve = (await (await dash.postJson('/api/experiments/stdp', { runIds: [stdp] })).json()) as { pairs: { dt_s: number; dw: number }[]; fit: Record<string, number> };
    expect(await page.getAttribute('figure[data-plot^="STDP curve"]', 'data-plot')).toBe(`STDP curve · ${curve.pairs.length} pairings`);
    const stored = (await dash.getJson(`/api/runs/${stdp}/analyses?name=stdp`)).analyses;
    expect(stored).toHaveLength(1);
    expect(stored[0].result.pairs.map((p: { dt_s: number; dw: number }) => [p.dt_s, p.dw])).toEqual(curve.pairs.map((p) => [p.dt_s, p.dw]));
    expect(stored[0].result.fit.tau_plus_s).toBeCloseTo(curve.fit.tau_plus_s, 12);
    expect(stored[0].result.warnings).toEqual([]);
    // potentiation for Δt > 0, depression for Δt < 0
    for (const p of curve.pairs) expect(Math.sign(p.dw)).toBe(Math.sign(p.dt_s));
    await expect(page.locator('.analysis-warnings').count()).resolves.toBe(0);

    // The per-run route refuses a run of another protocol, naming it.
    const refused = await dash.postJson(`/api/runs/${square}/analyses/stdp`, {});
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/square run, not stdp/);

    await page.locator('.analysis-panel[data-view=analyses]').scrollIntoViewIfNeeded();
    await dash.screenshot('analysis-stdp.png');
    expect(dash.pageErrors).toEqual([]);
  });
});
