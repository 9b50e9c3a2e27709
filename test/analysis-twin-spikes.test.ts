/**
 * Default spike detection (server/analysis/spikes.ts, robust k = 5) on the threshold-switch circuits'
 * outputs against the twin's own record of the same run: the switch turning on (its state rising through
 * 0.5). These circuits have no neuron elements or spike detectors, so the twin stores no spike events;
 * the switch state is the ground truth of each unit's firing.
 *
 * Before the mesial floor, cpg2's v_outB gave 109 spikes for 92 firings (17 bumps of 0.2–0.7 mV coupled
 * through Cc when unit A fires, above the 0.09 mV k·σ level); before the resting-trace rule, nsu-tonic's
 * v_out with 0.5 mV noise and 10-bit quantisation over 5 V gave 0 spikes (the SD fallback's 119 mV level
 * above the 70 mV spikes), and with 0.5 mV noise alone one noise excursion of 3.95 mV (beside 144 firings).
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../server/twin/index.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { detectSpikes } from '../server/analysis/spikes.ts';

const FS = 2e5;

/** Runs `name` on a constant current with its switches' states recorded; channel by name. */
function run(name: string, current: number, seconds: number): (ch: string) => Float64Array {
  const c = builtInCircuit(name) as unknown as { elements: { type: string; name: string; model?: string }[]; outputs: object[] };
  for (const e of c.elements) if (e.type === 'device' && e.model === 'switch') c.outputs.push({ name: `x_${e.name}`, kind: 'x', element: e.name });
  const r = simulate(c, { samples: new Float64Array(Math.round(seconds * FS)).fill(current), sampleRate: FS, quantity: 'current' });
  return (ch) => r.channels.find((q) => q.name === ch)!.data;
}

/** Sample indices where the switch state rises through 0.5 (the unit fires). */
function firings(x: Float64Array): number[] {
  const out: number[] = [];
  for (let k = 1; k < x.length; k++) if (x[k - 1] < 0.5 && x[k] >= 0.5) out.push(k);
  return out;
}

/** Each detected peak follows one firing within 10 samples (50 µs), one to one, none left over. */
function expectOneToOne(peaks: Int32Array, fired: number[], n: number): void {
  // the last 10 samples are not compared: a spike there may have fired without peaking, or not fired yet
  const p = Array.from(peaks).filter((i) => i < n - 10);
  const f = fired.filter((i) => i < n - 10);
  expect(p.length).toBe(f.length);
  p.forEach((i, k) => {
    expect(i - f[k]).toBeGreaterThanOrEqual(0);
    expect(i - f[k]).toBeLessThanOrEqual(10);
  });
}

/** Seeded Gaussian noise (LCG + Box–Muller): the same trace every run. */
function noisy(v: Float64Array, sd: number): Float64Array {
  let s = 1;
  const u = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Float64Array.from(v, (x) => x + sd * Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u()));
}

/** 10-bit ADC over 0–5 V: raw codes (as a DAQ stores them) and the code's size in volts. */
function adc10(v: Float64Array): { raw: Int16Array; lsb: number } {
  const lsb = 5 / 1024;
  return { raw: Int16Array.from(v, (x) => Math.max(0, Math.min(1023, Math.round(x / lsb)))), lsb };
}

const robust = { threshold: { mode: 'robust', k: 5 } } as const;

describe('default spike detection = the switch firings of the twin', () => {
  it('cpg2 at 50 µA: 92 firings on each unit, detected one to one on v_outA and v_outB (v_outB was 109)', () => {
    const ch = run('cpg2', 50e-6, 0.2);
    for (const u of ['A', 'B']) {
      const fired = firings(ch(`x_S${u}`));
      expect(fired.length).toBe(92);
      const v = ch(`v_out${u}`);
      const d = detectSpikes(v, FS, robust);
      expectOneToOne(d.indices, fired, v.length);
      expect(d.thresholdRule).toBe('noise');
    }
  });

  for (const [name, out, sw, current] of [
    ['nsu-tonic', 'v_out', 'x_S', 100e-6],
    ['nsu-synapse', 'v_outA', 'x_SA', 100e-6],
  ] as const)
    it(`${name}: ${out} clean, with 0.5 mV noise, and with noise and a 10-bit ADC over 5 V (was 0 found)`, () => {
      const ch = run(name, current, 0.1);
      const fired = firings(ch(sw));
      expect(fired.length).toBeGreaterThan(100);
      const v = ch(out);
      const n = noisy(v, 0.5e-3);
      const q = adc10(n);
      expectOneToOne(detectSpikes(v, FS, robust).indices, fired, v.length);
      expectOneToOne(detectSpikes(n, FS, robust).indices, fired, v.length);
      const dq = detectSpikes(q.raw, FS, robust, q.lsb);
      expectOneToOne(dq.indices, fired, v.length);
      // the quiet output rests within one ADC step: the mesial level of a resting pulse train
      expect(dq.noiseMethod).toBe('first-difference');
      expect(dq.thresholdRule).toBe('range');
      expect(dq.threshold).toBeGreaterThan(0.02);
    });
});
