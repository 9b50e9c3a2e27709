/**
 * Twin calibration, parameter recovery continued (twin-fit.test.ts has the adaptive LIF): one VTEAM memristor
 * under a sine I–V sweep (objective iv), and the LIF under a square wave (objective spikes, and waveform).
 */
import { describe, it, expect } from 'vitest';
import { fitTwinToRun } from '../server/experiments/fit.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { withParams } from '../server/twin/calibration.ts';
import { useFitBench } from './fit-helpers.ts';

const fb = useFitBench();
const { record, noisy, jitterSpikes, off, report, expectRecovered } = fb;

describe('parameter recovery: one VTEAM memristor under a sine I–V sweep (objective iv)', () => {
  const circuit = {
    kind: 'netlist',
    name: 'vteam-iv',
    elements: [
      { type: 'V', name: 'Vs', node: 'a', stimulus: true },
      { type: 'device', name: 'M', a: 'a', b: '0', model: 'vteam', x0: 0.5 },
    ],
    outputs: [{ name: 'i_M', kind: 'i', element: 'M' }],
  };
  // 1.5 V: each positive half-cycle switches the device through its whole range, so Roff shows apart from koff
  const protocol = { kind: 'sine', quantity: 'voltage', amplitude: 1.2, frequencyHz: 20, durationS: 0.1 };
  // (koff, voff) and (kon, von) trade against each other over one amplitude: the rates are fitted, the thresholds kept
  const truth = { 'M.Ron': 1e3, 'M.Roff': 50e3, 'M.koff': 100, 'M.kon': -400 };
  const start = off(truth, { 'M.Ron': 0.6, 'M.Roff': 1.45, 'M.koff': 1.5, 'M.kon': 0.65 });
  let measured = 0;

  it('noise-free: the pinched loop gives each parameter within 2 %', async () => {
    measured = await record(circuit, protocol, 20_000);
    const r = await fitTwinToRun(fb.store, fb.pool, measured, { circuit: withParams(circuit, start), params: Object.keys(truth), objective: 'iv', maxEvals: 5000 });
    report('VTEAM I–V, noise-free', truth, start, r);
    expect(r.channels).toEqual(['i_M']);
    expectRecovered(truth, r, 'two-percent');
  });

  it('noisy: the true values lie inside the reported intervals', async () => {
    const run = await noisy(measured, 0.01, 6);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(circuit, start), params: Object.keys(truth), objective: 'iv', maxEvals: 5000 });
    report('VTEAM I–V, noisy', truth, start, r);
    expectRecovered(truth, r, 'ci');
  });
});

// the spike-time fits (search, multi-start check, profile walks) take 10–45 s on two threads of a busy machine
describe('parameter recovery: LIF under a square wave', () => {
  const protocol = { kind: 'square', quantity: 'current', amplitude: 30e-6, frequencyHz: 20, duty: 0.5, durationS: 0.2 };
  const truth = { 'Cm.value': 100e-9, 'Rm.value': 100e3 };
  const start = off(truth, { 'Cm.value': 1.45, 'Rm.value': 0.65 });
  let measured = 0;

  it('noise-free, objective spikes: both parameters within 2 %, inside profile intervals', { timeout: 300_000 }, async () => {
    measured = await record(builtInCircuit('lif'), protocol, 20_000);
    const r = await fitTwinToRun(fb.store, fb.pool, measured, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'spikes' });
    report('LIF square, spikes', truth, start, r);
    expectRecovered(truth, r, 'two-percent');
    // the van Rossum distance has a kink at its minimum; the intervals come from the spike times' profile
    expectRecovered(truth, r, 'ci');
  });

  it('noisy spike times (0.2 ms jitter, on the 50 µs tick), objective spikes: the true values lie inside the profile intervals', { timeout: 300_000 }, async () => {
    const run = await noisy(measured, 0.01, 9);
    const times = jitterSpikes(measured, run, 2e-4, 10);
    expect(times.length).toBeGreaterThan(10);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'spikes' });
    report('LIF square, noisy spikes', truth, start, r);
    // the spike times of a driven LIF fix mostly one combination of Rm and Cm (t* = −RmCm ln(1 − vth/(I Rm))):
    // a profile may stay below its threshold up to a bound, which the fit says; nothing else is warned about
    for (const w of r.warnings) expect(w).toMatch(/^(Cm|Rm)\.value: its profile stays within the 95 % threshold up to its (lower|upper) bound/);
    for (const k of Object.keys(truth)) {
      expect(r.report.find((p) => p.name === k)!.identifiable).toBe(!r.warnings.some((w) => w.startsWith(k)));
      const [lo, hi] = r.ci[k]!;
      expect(truth[k as keyof typeof truth], `${k} in [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
      expect(truth[k as keyof typeof truth]).toBeLessThanOrEqual(hi);
      // the fitted value lies inside its own interval, which is not zero width
      expect(r.params[k]).toBeGreaterThanOrEqual(lo);
      expect(r.params[k]).toBeLessThanOrEqual(hi);
      expect(hi / lo - 1).toBeGreaterThan(1e-4);
    }
  });

  it('noisy spike times, a long valley ending at a cliff (seed 1 of the coverage bench): both intervals hold the truth', { timeout: 300_000 }, async () => {
    // the fit sits far along the R–C valley (Cm 61 nF, Rm 42 kΩ); towards large Cm the valley runs to Rm → ∞,
    // towards small Rm to the cliff at I·Rm = v_th (no spikes below). The walks used to end early there (a step
    // past the cliff, then regula falsi creeping from the low end), giving Cm ≤ 90 nF, which misses 100 nF; a dense
    // profile puts the crossing at 103 nF (docs/twin/calibration.md, "Coverage")
    const run = await noisy(measured, 0.01, 1);
    jitterSpikes(measured, run, 2e-4, 1);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'spikes' });
    report('LIF square, noisy spikes (seed 1)', truth, start, r);
    for (const [k, v] of Object.entries(truth)) {
      const [lo, hi] = r.ci[k]!;
      expect(v, `${k} in [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
    }
    expect(r.ci['Cm.value']![1]).toBeGreaterThan(1.02e-7);
    expect(r.ci['Cm.value']![1]).toBeLessThan(1.05e-7);
  });

  it('noisy spike times, a lower minimum among the multi-start fits (seed 35 of the coverage bench): the fit moves there and keeps its intervals', { timeout: 300_000 }, async () => {
    // the search stops at Cm 100 nF, Rm 97 kΩ; a local fit from a start around it reaches a 26 % lower sum of
    // squares at Cm 112 nF, Rm 189 kΩ (more than Δ lower), and starts around that one reach it again
    const run = await noisy(measured, 0.01, 35);
    jitterSpikes(measured, run, 2e-4, 35);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'spikes' });
    report('LIF square, noisy spikes (seed 35, moved)', truth, start, r);
    expect(r.warnings.join('\n')).toMatch(
      /the search stopped in a local minimum of the spike times: a local fit from one of 8 starts around it reached a [\d.]+ % lower sum of squares at distinct values \(Cm\.value [\d.e-]+ → [\d.e-]+; Rm\.value [\d.e+]+ → [\d.e+]+\); the fit moved there, and of 8 local fits from starts around it none went lower and some reached it again/,
    );
    expect(r.params['Cm.value']).toBeGreaterThan(1.1e-7);
    for (const k of Object.keys(truth)) {
      const [lo, hi] = r.ci[k]!;
      expect(r.params[k]).toBeGreaterThanOrEqual(lo);
      expect(r.params[k]).toBeLessThanOrEqual(hi);
    }
  });

  it('noisy, objective waveform, below threshold: the true values lie inside the reported intervals', async () => {
    // the resets of a spiking trace make the waveform objective kinked at its minimum (no curvature, no
    // interval: the next test); below threshold the membrane's charging curve is smooth in both parameters
    const quiet = await record(builtInCircuit('lif'), { ...protocol, amplitude: 8e-6 }, 20_000);
    const run = await noisy(quiet, 0.01, 7);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'waveform' });
    report('LIF square below threshold, noisy waveform', truth, start, r);
    expectRecovered(truth, r, 'ci');
  });

  it('noisy, objective waveform, spiking: close, but no interval where the resets make the minimum a kink', async () => {
    const run = await noisy(measured, 0.01, 8);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'waveform' });
    report('LIF square spiking, noisy waveform', truth, start, r);
    for (const [k, v] of Object.entries(truth)) expect(Math.abs(r.params[k] / v - 1)).toBeLessThan(0.02);
    expect(r.ci['Cm.value']).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/Cm\.value: the objective is not smooth at the fit/);
    // an imported recording has no spike events: the fit says why the spike times cannot stand in
    expect(r.warnings.join('\n')).toMatch(new RegExp(`run ${run} has no spike events, so its spike times cannot give the intervals`));
  });

  it('noisy waveform of a spiking run with its spike events (0.2 ms jitter): intervals from the spike times\' profile', { timeout: 300_000 }, async () => {
    const run = await noisy(measured, 0.01, 8);
    jitterSpikes(measured, run, 2e-4, 11);
    const r = await fitTwinToRun(fb.store, fb.pool, run, { circuit: withParams(builtInCircuit('lif'), start), params: Object.keys(truth), objective: 'waveform' });
    report('LIF square spiking, noisy waveform with spike events', truth, start, r);
    // the waveform's estimate, as without the events; the intervals those of the spike times, holding it and the truth
    for (const [k, v] of Object.entries(truth)) {
      expect(Math.abs(r.params[k] / v - 1)).toBeLessThan(0.02);
      const [lo, hi] = r.ci[k]!;
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
      expect(r.params[k]).toBeGreaterThanOrEqual(lo);
      expect(r.params[k]).toBeLessThanOrEqual(hi);
    }
    for (const w of r.warnings) expect(w).toMatch(/^(Cm|Rm)\.value: its profile stays within the 95 % threshold up to its (lower|upper) bound/);
  });
});

