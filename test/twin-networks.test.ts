/**
 * Self-organising networks: generators (seeded, deterministic, largest component, Dirichlet electrodes)
 * and the 20- and 100-node Erdős–Rényi threshold-junction networks against ngspice on the same ramp:
 * NRMSE <= 1 % on node voltages and electrode currents.
 */
import { describe, expect, it } from 'vitest';
import { createTwin, expandCircuit, simulate, type Stimulus } from '../server/twin/index.ts';
import { nrmse, runNgspice } from './twin-ngspice.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';

const load = (name: string) => builtInCircuit(name);

/** A 0 → vmax ramp over n samples at fs (every junction regime is crossed). */
const ramp = (vmax: number, n: number, fs: number): Stimulus => ({
  samples: Float64Array.from({ length: n }, (_, k) => (vmax * k) / (n - 1)),
  sampleRate: fs,
  quantity: 'voltage',
});

describe('network generators', () => {
  it('Erdős–Rényi: seeded, about p·n(n-1)/2 junctions, same seed same network', () => {
    const a = expandCircuit(load('er100'));
    const b = expandCircuit(load('er100'));
    const c = expandCircuit({ ...load('er100'), seed: 2 });
    const j = a.info.junctions as number;
    expect(Math.abs(j - 0.3 * 4950)).toBeLessThan(5 * Math.sqrt(4950 * 0.3 * 0.7));
    expect(JSON.stringify(a.elements)).toBe(JSON.stringify(b.elements));
    expect(JSON.stringify(a.elements)).not.toBe(JSON.stringify(c.elements));
  });

  it('nanowire deposition: connected component, junctions only between crossing wires, electrodes at both ends', () => {
    const net = expandCircuit({ ...load('nwn2000'), wires: 300 });
    const nodes = net.info.nodes as number;
    expect(nodes).toBeGreaterThan(150);
    expect(nodes).toBeLessThanOrEqual(300);
    // connected: union-find over junctions reaches every node
    const parent = Array.from({ length: nodes }, (_, i) => i);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
    for (const e of net.elements) if (e.type === 'device') parent[find(Number(e.a.slice(1)))] = find(Number(e.b.slice(1)));
    const roots = new Set(Array.from({ length: nodes }, (_, i) => find(i)));
    expect(roots.size).toBe(1);
    const electrodes = net.elements.filter((e) => e.type === 'V');
    expect(electrodes.map((e) => (e as { node: string }).node)).toEqual(['n0', `n${nodes - 1}`]);
  });

  it('lattice and crossbar have the expected junction counts', () => {
    expect(expandCircuit(load('lattice')).info.junctions).toBe(2 * 10 * 9);
    expect(expandCircuit(load('crossbar')).info.junctions).toBe(64);
  });

  it('electrodes are Dirichlet nodes: the driven node sits exactly at the stimulus voltage', () => {
    const tw = createTwin(load('er20'));
    tw.setInput(2.5);
    tw.advance(1e-4);
    expect(tw.voltage('n0')).toBe(2.5);
    expect(tw.voltage('n19')).toBe(0);
  });

  it('current is conserved between the two electrodes', () => {
    const r = simulate(load('er20'), ramp(6, 101, 1e5), { method: 'rk4' });
    const i0 = r.channels.find((c) => c.name === 'i_E0')!.data;
    const i1 = r.channels.find((c) => c.name === 'i_E1')!.data;
    for (let k = 0; k < i0.length; k++) expect(Math.abs(i0[k] + i1[k])).toBeLessThan(1e-6 * Math.abs(i0[k]) + 1e-10) // gmin (1e-12 S per node) leaks a little;
  });
});

describe('threshold-junction networks vs ngspice', () => {
  for (const [name, n, vmax] of [['er20', 20, 8], ['er100', 100, 6]] as const) {
    it(`${name}: node voltages and electrode current within NRMSE 1 %`, () => {
      const fs = 1e5;
      const samples = name === 'er20' ? 201 : 11;
      const circuit = { ...load(name), record: ['nodes'] };
      const net = expandCircuit(circuit);
      const stim = ramp(vmax, samples, fs);
      const r = simulate(net, stim, { method: 'rk4', dt: 2.5e-6 });
      // something happens: junctions switch on, the network conductance rises
      const i = r.channels[0].data;
      expect(i[samples - 1] / vmax).toBeGreaterThan(1.5 * (i[1] / (vmax / (samples - 1))));
      const ref = runNgspice(net, { stimulus: stim, tmax: name === 'er20' ? 1 / fs / 4 : 1 / fs });
      expect(nrmse(i, ref.columns[0])).toBeLessThan(0.01);
      let worst = 0;
      for (let c = 2; c < 2 + n; c++) worst = Math.max(worst, nrmse(r.channels[c].data, ref.columns[c]));
      expect(worst).toBeLessThan(0.01);
    }, 300_000);
  }
});

describe('threshold-junction networks under the adaptive method', () => {
  // A 0/5 V square from t = 0: the first Dormand–Prince stages (a32 = -56/15) carried junction states
  // below 0, where G = Goff + (Gon − Goff)·w < 0 and the Cholesky factorisation failed ("matrix not
  // positive definite"). Such a step is now rejected and shortened.
  const fs = 1e5;
  const n = 300;
  const stim: Stimulus = {
    samples: Float64Array.from({ length: n }, (_, k) => ((k / fs) * 1000) % 1 < 0.5 ? 5 : 0),
    sampleRate: fs,
    quantity: 'voltage',
  };
  for (const name of ['er20', 'er100', 'lattice', 'crossbar'])
    it(`${name}: a 5 V square runs and agrees with RK4 (NRMSE < 1 %)`, () => {
      const a = simulate(load(name), stim, { method: 'adaptive' });
      const b = simulate(load(name), stim, { method: 'rk4', dt: 2.5e-6 });
      for (let c = 0; c < a.channels.length; c++)
        expect(nrmse(a.channels[c].data, b.channels[c].data), a.channels[c].name).toBeLessThan(0.01);
    }, 120_000);
});
