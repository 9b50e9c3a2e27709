/**
 * Exact stimulus edges (issue 13): a piecewise-constant protocol reaches the twin as its breakpoints, the
 * integrator ends a step on every edge and starts the next from the new value; the ngspice netlist gets
 * the same edges as PWL points.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTwin, expandCircuit, simulate, toSpice, type Stimulus } from '../server/twin/index.ts';
import { sampleStimulus, validateProtocol } from '../server/protocols/index.ts';
import { stimulusPieces } from '../server/protocols/compile.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../server/twin/circuits');
const load = (name: string) => JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8'));

// the adaptive LIF's protocol (Bednarz & Garda): unipolar 1 kHz, 50 % duty, 1 mA square wave
const square = validateProtocol({ kind: 'square', quantity: 'current', frequencyHz: 1000, duty: 0.5, amplitude: 1e-3, offset: 0, durationS: 0.02 });

function spikes(fs: number, opts: { method: 'rk4' | 'adaptive'; dt?: number }, mode: 'pieces' | 'interpolated' | 'held'): number[] {
  const stim: Stimulus = { samples: sampleStimulus(square, fs, 0, Math.round(0.02 * fs)), sampleRate: fs, quantity: 'current', hold: mode === 'held' };
  if (mode === 'pieces') stim.pieces = stimulusPieces(square)!;
  return simulate(load('adaptive-lif'), stim, opts).events.map((e) => e.time);
}

describe('exact stimulus edges', () => {
  it('square wave: the protocol gives its edges exactly', () => {
    const p = stimulusPieces(square)!;
    expect(p.times.length).toBe(40);
    expect(p.times[0]).toBe(0);
    expect(p.times[1]).toBe(0.0005);
    expect(p.values[0]).toBe(1e-3);
    expect(p.values[1]).toBe(0);
    expect(stimulusPieces(validateProtocol({ kind: 'sine', quantity: 'voltage', frequencyHz: 10, amplitude: 1, durationS: 1 }))).toBeNull();
  });

  it('adaptive LIF on the 1 kHz square at 100 kS/s: spikes where a 10 MS/s run puts them; interpolated samples do not', () => {
    // reference: held samples at 10 MS/s (every edge on a sample), RK4 at 0.1 us
    const ref = spikes(1e7, { method: 'rk4', dt: 1e-7 }, 'held');
    expect(ref.length).toBeGreaterThan(100);
    for (const method of ['rk4', 'adaptive'] as const) {
      const exact = spikes(1e5, { method }, 'pieces');
      expect(exact.length, method).toBe(ref.length);
      const err = Math.max(...exact.map((t, i) => Math.abs(t - ref[i])));
      expect(err, method).toBeLessThan(1e-7);
    }
    // the linearly interpolated samples start each edge half a sample early and smear it over a sample
    const old = spikes(1e5, { method: 'rk4' }, 'interpolated');
    const shifted = old.length !== ref.length || Math.max(...old.map((t, i) => Math.abs(t - ref[i]))) > 1e-6;
    expect(shifted).toBe(true);
  });

  it('a step ends on each edge: the value before an edge holds up to it, the new one from it', () => {
    const tw = createTwin(load('lif'), { method: 'rk4', dt: 1e-4 });
    tw.setPiecewiseInput(Float64Array.of(0, 2.5e-5), Float64Array.of(0, 1e-6));
    tw.advanceTo(1e-4); // one output step containing the edge at 25 us
    // C dv/dt = I - v/R from the edge on: v(t) = I R (1 - exp(-(t - 25 us)/RC)), RC = 10 ms
    const v = tw.read({ name: 'v', kind: 'v', node: 'm' });
    expect(v).toBeCloseTo(1e-6 * 1e5 * (1 - Math.exp(-7.5e-5 / 1e-2)), 12);
    expect(() => tw.setPiecewiseInput(Float64Array.of(0, 0), Float64Array.of(0, 1))).toThrow(/increase/);
  });

  it('the ngspice netlist gets the same edges as PWL points', () => {
    const fs = 1e5;
    const text = toSpice(expandCircuit(load('adaptive-lif')), { stimulus: { samples: sampleStimulus(square, fs, 0, 2000), sampleRate: fs, pieces: stimulusPieces(square)! } });
    expect(text).toContain('PWL(0 0.001 0.0005 0.001 0.000500000001 0 0.001 0 0.001000000001 0.001');
  });

  it('PWL times and values carry no float noise (0.004 + 1 ps is 0.004000000001, 0.1·3 is 0.3)', () => {
    const pieces = { times: Float64Array.of(0, 0.004), values: Float64Array.of(0.1 * 3, 0) };
    const text = toSpice(expandCircuit(load('adaptive-lif')), { stimulus: { samples: Float64Array.of(0.1 * 3, 0.1 * 3), sampleRate: 1 / 0.004, pieces } });
    expect(text).toContain('PWL(0 0.3 0.004 0.3 0.004000000001 0)');
    const sampled = toSpice(expandCircuit(load('adaptive-lif')), { stimulus: { samples: Float64Array.of(0, 0.1 * 3, 0, 0), sampleRate: 3 } });
    expect(sampled).toContain('PWL(0 0 0.333333333333333 0.3 0.666666666666667 0 1 0)');
  });
});
