/**
 * Twin calibration, parameter recovery (issue 20): runs recorded from twin circuits with known parameters,
 * fitted from a start 30–50 % off on the real worker pool and a real SQLite store. Noise-free: every
 * identifiable parameter within 2 %. Noisy (Gaussian noise plus the DAQ's 10-bit quantisation, recorded
 * through the import path): the true value inside the reported 95 % interval. The fitted circuit is stored
 * with its provenance and the run is paired with it. The VTEAM I–V loop and the LIF: twin-fit-recovery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { calibrateRun, fitTwinToRun } from '../server/experiments/fit.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { withParams } from '../server/twin/calibration.ts';
import { useFitBench } from './fit-helpers.ts';

const fb = useFitBench();
const { record, noisy, off, report, expectRecovered } = fb;

describe('parameter recovery: adaptive LIF with the MMS memristor (four parameters)', () => {
  // 0.5 mA: the memristor moves from Roff to Ron over the first cycles and the membrane stays below
  // threshold, so the waveform carries all four parameters (docs/twin/calibration.md, identifiability)
  const protocol = { kind: 'square', quantity: 'current', amplitude: 0.5e-3, frequencyHz: 1000, duty: 0.5, durationS: 0.01 };
  const truth = { 'M.Ron': 500, 'M.Roff': 1500, 'M.tau': 1e-4, 'Cm.value': 50e-9 };
  const start = off(truth, { 'M.Ron': 1.4, 'M.Roff': 0.65, 'M.tau': 1.5, 'Cm.value': 0.7 });
  let measured = 0;
  let strong = 0;

  it('noise-free: recovers each parameter within 2 %, stores the fitted circuit with its provenance and pairs the run', async () => {
    measured = await record(builtInCircuit('adaptive-lif'), protocol, 200_000);
    const r = await calibrateRun(fb.store, fb.services.runs, fb.pool, measured, {
      circuit: withParams(builtInCircuit('adaptive-lif'), start),
      circuitName: 'adaptive-lif',
      params: Object.keys(truth),
      channels: ['v_mem'],
    });
    report('ALIF, noise-free', truth, start, r);
    expectRecovered(truth, r, 'two-percent');
    expect(r.residual).toBeLessThan(1e-3);
    expect(r.startResidual).toBeGreaterThan(0.05);
    // stored by name with its provenance; the run is paired with it
    expect(r.circuit).toBe(`adaptive-lif-fit-run${measured}`);
    const stored = fb.store.getCircuit(r.circuit)!;
    expect(stored.provenance).toMatchObject({ kind: 'fit', run: measured, objective: 'waveform', residual: r.residual, params: r.params });
    expect(typeof (stored.provenance as { date: string }).date).toBe('string');
    const twin = fb.store.getRun(r.twinRunId!)!;
    expect(twin).toMatchObject({ status: 'completed', linkedRunId: measured, source: 'twin' });
    expect((twin.twin as { circuit: { name: string } }).circuit.name).toBe(r.circuit);
  });

  it('noisy (1 % noise, 10-bit quantisation): the true values lie inside the reported intervals', async () => {
    const run = await noisy(measured, 0.01, 5);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('adaptive-lif'), start), params: Object.keys(truth), channels: ['v_mem'] });
    report('ALIF, noisy', truth, start, r);
    expectRecovered(truth, r, 'ci');
  });

  it("at the circuit's own 1 mA the fit says it did not reproduce the run instead of vouching for intervals", async () => {
    // the memristor reaches Ron within the first burst: Roff and τ show only in its first spikes, and the
    // search from 30–50 % off stops in a local minimum (docs/twin/calibration.md, identifiability)
    strong = await record(builtInCircuit('adaptive-lif'), { ...protocol, amplitude: 1e-3 }, 200_000);
    const r = await fitTwinToRun(fb.store, fb.pool, strong, { circuit: withParams(builtInCircuit('adaptive-lif'), start), params: Object.keys(truth), channels: ['v_mem'] });
    report('ALIF at 1 mA (local minimum)', truth, start, r);
    expect(r.residual).toBeGreaterThan(0.05);
    expect(r.warnings[0]).toMatch(/^the fit leaves a residual of 0\.\d+ where the run's noise alone would leave about 0\.00\d+: a local minimum of the search/);
    expect(Object.values(r.ci).every((ci) => ci === null)).toBe(true);
  });

  it('at 1 mA the spike-time fit moves to the lower minimum the multi-start check finds, and withholds the intervals when no start reaches it again', { timeout: 900_000 }, async () => {
    // the same run: 61 spikes that the wrong parameters reproduce to a fraction of a sample; the fit moves to a
    // far lower minimum found around it, but the local fits from starts around that one end in distinct
    // minima, none reaching it again, so nothing shows it is the global one (docs/twin/calibration.md)
    const r = await fitTwinToRun(fb.store, fb.pool, strong, { circuit: withParams(builtInCircuit('adaptive-lif'), start), params: Object.keys(truth), objective: 'spikes' });
    report('ALIF at 1 mA, spikes (multi-start)', truth, start, r);
    console.log(r.warnings[0]);
    const recovered = Object.entries(truth).every(([k, v]) => Math.abs(r.params[k] / v - 1) < 0.02);
    expect(recovered).toBe(false);
    expect(r.warnings[0]).toMatch(
      /^the search stopped in a local minimum of the spike times: (a local fit from one of 8 starts around it|a profile walk from it)(, then .*)? reached a (?:[\d.]+×|[\d.]+ %) lower sum of squares at distinct values \(M\.\w+ [\d.e+-]+ → [\d.e+-]+.*\); the fit moved there, but none of 8 local fits from starts around it reached it again.*multi-start check/,
    );
    expect(Object.values(r.ci).every((ci) => ci === null)).toBe(true);
    expect(r.report.every((p) => !p.identifiable)).toBe(true);
  });

  it('reproducible: the same seed gives the same fit', async () => {
    const a = await fitTwinToRun(fb.store, fb.pool, measured, { circuit: withParams(builtInCircuit('adaptive-lif'), start), params: ['Cm.value'], channels: ['v_mem'], seed: 9, maxEvals: 60 });
    const b = await fitTwinToRun(fb.store, fb.pool, measured, { circuit: withParams(builtInCircuit('adaptive-lif'), start), params: ['Cm.value'], channels: ['v_mem'], seed: 9, maxEvals: 60 });
    expect(b.params).toEqual(a.params);
    expect(b.evals).toBe(a.evals);
  });
});

describe('identifiability and refusals', () => {
  it('warns about a parameter that does not change the objective within its bounds, and gives it no interval', async () => {
    const circuit = builtInCircuit('lif') as Record<string, unknown>;
    const protocol = { kind: 'square', quantity: 'current', amplitude: 5e-6, frequencyHz: 20, duty: 0.5, durationS: 0.05 };
    const run = await record(circuit, protocol, 10_000);
    // 5 µA never reaches the 1 V threshold: the refractory period cannot matter
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit, params: ['Cm.value', 'N.tref'], channels: ['v_mem'], maxEvals: 200 });
    expect(r.ci['N.tref']).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/N\.tref does not change the objective within its bounds/);
    expect(r.ci['Cm.value']).not.toBeNull();
  });

  it('refuses unknown parameters, bad bounds, an unrecorded channel and a spikes fit of a run without spikes', async () => {
    const circuit = builtInCircuit('lif');
    const run = fb.store.listRuns({ limit: 1 })[0].id;
    await expect(fitTwinToRun(fb.store, fb.pool, run, { circuit, params: ['Cm.nope'] })).rejects.toMatchObject({ code: 'TWIN_BAD_PARAM', message: expect.stringMatching(/a C element has value/) });
    await expect(fitTwinToRun(fb.store, fb.pool, run, { circuit, params: ['X.value'] })).rejects.toMatchObject({ code: 'TWIN_BAD_PARAM', message: expect.stringMatching(/no element "X"/) });
    await expect(fitTwinToRun(fb.store, fb.pool, run, { circuit, params: ['Cm.value'], bounds: { 'Cm.value': [2e-7, 1e-7] } })).rejects.toMatchObject({ code: 'TWIN_BAD_PARAM', message: expect.stringMatching(/min < max/) });
    await expect(fitTwinToRun(fb.store, fb.pool, run, { circuit, params: ['Cm.value'], channels: ['i_nope'] })).rejects.toMatchObject({ code: 'VALIDATION', field: '/channels' });
    await expect(fitTwinToRun(fb.store, fb.pool, 99_999, { circuit, params: ['Cm.value'] })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('stops when cancelled', async () => {
    const run = fb.store.listRuns({ limit: 1 })[0].id;
    const ac = new AbortController();
    const p = fitTwinToRun(fb.store, fb.pool, run, { circuit: builtInCircuit('lif'), params: ['Cm.value', 'Rm.value'], signal: ac.signal, onProgress: (q) => q.evals > 20 && ac.abort(new Error('stopped by the user')) });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
