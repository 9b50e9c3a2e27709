/**
 * Device models against ngspice (batch mode, the `twin spice` netlist): each model driven by a sine
 * voltage; the twin's current and state must match ngspice within NRMSE 1 %, the i–v curve must be a
 * pinched hysteresis loop, and its lobes must shrink when the frequency rises tenfold.
 */
import { describe, expect, it } from 'vitest';
import { expandCircuit, simulate, MODELS } from '../server/twin/index.ts';
import { nrmse, runNgspice } from './twin-ngspice.ts';

const drive: Record<string, { amp: number; f: number }> = {
  hp: { amp: 1, f: 1 },
  vteam: { amp: 1, f: 10e3 },
  mms: { amp: 0.5, f: 1e3 },
  gmms: { amp: 0.5, f: 1e3 },
  threshold: { amp: 1.5, f: 100 },
  nanowire: { amp: 0.1, f: 10 },
  switch: { amp: 1.5, f: 10e3 },
  diffusive: { amp: 1.5, f: 300 },
};

const PER_PERIOD = 200;
function run(model: string, f: number) {
  const { amp } = drive[model];
  const fs = f * PER_PERIOD;
  const n = 2 * PER_PERIOD + 1;
  const samples = Float64Array.from({ length: n }, (_, k) => amp * Math.sin((2 * Math.PI * k) / PER_PERIOD));
  const net = expandCircuit({
    kind: 'netlist',
    name: `${model}-sine`,
    elements: [
      { type: 'V', name: 'Vs', node: 'a', stimulus: true },
      { type: 'device', name: 'D', a: 'a', b: '0', model },
    ],
    outputs: [
      { name: 'v', kind: 'v', node: 'a' },
      { name: 'i', kind: 'i', element: 'D' },
      { name: 'x', kind: 'x', element: 'D' },
    ],
  });
  const stim = { samples, sampleRate: fs, quantity: 'voltage' as const };
  return { net, stim, twin: simulate(net, stim, { method: 'rk4' }) };
}

/** Lobe area |∫ i dv| over v > 0 plus over v < 0 in the last period, normalised by max|i|·max|v|. */
function lobeArea(v: Float64Array, i: Float64Array): number {
  let ap = 0, an = 0, imax = 0, vmax = 0;
  for (let k = v.length - PER_PERIOD; k < v.length; k++) {
    const d = 0.5 * (i[k] + i[k - 1]) * (v[k] - v[k - 1]);
    if (v[k] + v[k - 1] >= 0) ap += d;
    else an += d;
    imax = Math.max(imax, Math.abs(i[k]));
    vmax = Math.max(vmax, Math.abs(v[k]));
  }
  return (Math.abs(ap) + Math.abs(an)) / (imax * vmax);
}

describe('device models vs ngspice (sine drive)', () => {
  for (const model of Object.keys(MODELS)) {
    it(`${model}: pinched hysteresis matching ngspice, lobes shrink with frequency`, () => {
      const { net, stim, twin } = run(model, drive[model].f);
      const [v, i, x] = twin.channels.map((c) => c.data);
      // pinched: current is ~0 whenever v crosses 0
      const imax = Math.max(...i.map(Math.abs));
      for (let k = 0; k < v.length; k += PER_PERIOD / 2) expect(Math.abs(i[k])).toBeLessThan(1e-6 * imax + 1e-15);
      // the state moved (otherwise there is no hysteresis to speak of)
      expect(Math.max(...x) - Math.min(...x)).toBeGreaterThan(model === 'nanowire' ? 1e-4 : 1e-2);
      const area = lobeArea(v, i);
      expect(area).toBeGreaterThan(1e-3);
      const fast = run(model, drive[model].f * 10).twin;
      expect(lobeArea(fast.channels[0].data, fast.channels[1].data)).toBeLessThan(0.8 * area);

      const ref = runNgspice(net, { stimulus: stim, tmax: 1 / stim.sampleRate / 8 });
      expect(ref.columns[1].length).toBe(i.length);
      expect(nrmse(i, ref.columns[1])).toBeLessThan(0.01);
      expect(nrmse(x, ref.columns[2])).toBeLessThan(0.01);
    });
  }
});

describe('determinism and bounds', () => {
  it('same circuit and stimulus give bit-identical output', () => {
    const a = run('threshold', 100).twin.channels[1].data;
    const b = run('threshold', 100).twin.channels[1].data;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
  it('states stay inside their bounds', () => {
    const x = run('hp', 0.2).twin.channels[2].data;
    for (const v of x) expect(v >= 0 && v <= 1).toBe(true);
  });
});
