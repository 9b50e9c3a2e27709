/**
 * The example circuits (server/twin/circuits/*.json): LIF interval against its closed form, the
 * memristive adaptive LIF (spike-frequency adaptation on the 1 kHz / 50 % / 1 mA square wave), the
 * neuro-synaptic unit (tonic, bursting, synaptic coupling) and the two-unit CPG (anti-phase), with
 * ngspice comparisons: NRMSE <= 1 % and spike times within one output sample.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandCircuit, simulate, type Stimulus } from '../server/twin/index.ts';
import { nrmse, risingEdges, runNgspice } from './twin-ngspice.ts';
import { BUILT_IN_CIRCUITS, builtInCircuit } from '../server/twin/circuits/index.ts';

const load = (name: string) => expandCircuit(builtInCircuit(name));
const constant = (value: number, n: number, fs: number): Stimulus => ({ samples: new Float64Array(n).fill(value), sampleRate: fs, quantity: 'current' });
const chan = (r: { channels: { name: string; data: Float64Array }[] }, name: string) => {
  const c = r.channels.find((x) => x.name === name);
  if (!c) throw new Error(`no channel ${name}`);
  return c.data;
};
/** Sample indices where x rises through th. */
const crossings = (x: Float64Array, th: number) => {
  const out: number[] = [];
  for (let k = 1; k < x.length; k++) if (x[k - 1] < th && x[k] >= th) out.push(k);
  return out;
};
/** NRMSE over samples farther than one sample from any reset (the reset itself is a jump). */
const nrmseAwayFrom = (a: Float64Array, b: Float64Array, jumps: number[]) => {
  const skip = new Set<number>();
  for (const j of jumps) for (let d = -1; d <= 1; d++) skip.add(j + d);
  const keep = [...a.keys()].filter((k) => !skip.has(k));
  return nrmse(Float64Array.from(keep, (k) => a[k]), Float64Array.from(keep, (k) => b[k]));
};
const expectSameSpikes = (twin: number[], ref: number[]) => {
  expect(twin.length).toBe(ref.length);
  twin.forEach((k, i) => expect(Math.abs(k - ref[i])).toBeLessThanOrEqual(1));
};

describe('leaky integrate-and-fire', () => {
  const net = load('lif');
  const fs = 10e3;
  const stim = constant(20e-6, 1001, fs);
  const r = simulate(net, stim, { method: 'rk4' });

  it('inter-spike interval matches the closed form within 0.1 %', () => {
    // ISI = tref + tau ln((R I + v_rest - v_reset) / (R I + v_rest - v_th)), reset held for tref
    const R = 100e3, C = 100e-9, I = 20e-6, vth = 1, vreset = 0, tref = 2e-3;
    const isi = tref + R * C * Math.log((R * I - vreset) / (R * I - vth));
    const t = r.events.map((e) => e.time);
    expect(t.length).toBeGreaterThan(5);
    expect(Math.abs(t[0] - R * C * Math.log((R * I) / (R * I - vth))) / t[0]).toBeLessThan(1e-3);
    for (let i = 1; i < t.length; i++) expect(Math.abs(t[i] - t[i - 1] - isi) / isi).toBeLessThan(1e-3);
  });

  it('adaptive method agrees with RK4', () => {
    const a = simulate(net, stim, { method: 'adaptive', rtol: 1e-8, atol: 1e-10 });
    expect(a.events.length).toBe(r.events.length);
    a.events.forEach((e, i) => expect(Math.abs(e.time - r.events[i].time)).toBeLessThan(1e-6));
  });

  it('matches ngspice', () => {
    const ref = runNgspice(net, { stimulus: stim, tmax: 1 / fs / 20 });
    const spikes = risingEdges(ref.triggers[0]);
    expectSameSpikes(r.events.map((e) => Math.ceil(e.time * fs - 1e-9)), spikes);
    expect(nrmseAwayFrom(chan(r, 'v_mem'), ref.columns[0], spikes)).toBeLessThan(0.01);
  });
});

describe('memristive adaptive LIF (MMS, Knowm set)', () => {
  const net = load('adaptive-lif');
  const fs = 1e6;
  const n = 5001; // 5 ms = 5 periods
  const samples = Float64Array.from({ length: n }, (_, k) => ((k % 1000) < 500 ? 1e-3 : 0));
  const stim: Stimulus = { samples, sampleRate: fs, quantity: 'current' };
  const r = simulate(net, stim, { method: 'rk4' });

  it('shows spike-frequency adaptation as the memristor moves towards Ron', () => {
    const t = r.events.map((e) => e.time);
    expect(t.length).toBeGreaterThan(20);
    // intervals inside the first and the last on-phase
    const inPhase = (p: number) => t.filter((x) => x >= p * 1e-3 && x < p * 1e-3 + 0.5e-3);
    const isi = (ts: number[]) => ts.slice(1).map((x, i) => x - ts[i]);
    const first = isi(inPhase(0));
    const last = isi(inPhase(4));
    expect(first.length).toBeGreaterThan(2);
    expect(last.length).toBeGreaterThan(0);
    expect(Math.min(...last)).toBeGreaterThan(Math.max(first[0], first[1]));
    const x = chan(r, 'x_mem');
    expect(x[x.length - 1]).toBeGreaterThan(x[600]);
    expect(x[x.length - 1]).toBeGreaterThan(0.5);
  });

  it('matches ngspice', () => {
    const ref = runNgspice(net, { stimulus: stim, tmax: 1 / fs / 4 });
    const spikes = risingEdges(ref.triggers[0]);
    expectSameSpikes(r.events.map((e) => Math.ceil(e.time * fs - 1e-9)), spikes);
    expect(nrmseAwayFrom(chan(r, 'v_mem'), ref.columns[0], spikes)).toBeLessThan(0.01);
    expect(nrmse(chan(r, 'x_mem'), ref.columns[1])).toBeLessThan(0.01);
  });
});

describe('neuro-synaptic unit (threshold switch, capacitors, resistors)', () => {
  const fs = 200e3;
  const isis = (k: number[]) => k.slice(1).map((x, i) => x - k[i]);

  it('tonic spiking: regular intervals', () => {
    const r = simulate(load('nsu-tonic'), constant(50e-6, 2001, fs), { dt: 0.25e-6 });
    const s = crossings(chan(r, 'v_out'), 0.02);
    expect(s.length).toBeGreaterThan(5);
    const d = isis(s.slice(1));
    expect(Math.max(...d) - Math.min(...d)).toBeLessThanOrEqual(2);
  });

  it('bursting: spikes grouped in bursts separated by long silences', () => {
    const r = simulate(load('nsu-bursting'), constant(200e-6, 6001, fs), { dt: 0.25e-6 });
    const d = isis(crossings(chan(r, 'v_out'), 0.02));
    expect(d.length).toBeGreaterThan(6);
    const lo = Math.min(...d), hi = Math.max(...d);
    expect(hi / lo).toBeGreaterThan(3);
    const long = d.filter((x) => x > (lo + hi) / 2).length;
    expect(long).toBeGreaterThan(0);
    expect(d.length - long).toBeGreaterThanOrEqual(2 * long); // at least 3 spikes per burst
  });

  it('synaptic coupling: the silent unit fires only while the driven unit is active', () => {
    const n = 8001;
    const samples = Float64Array.from({ length: n }, (_, k) => (k < 4000 ? 100e-6 : 0));
    const r = simulate(load('nsu-synapse'), { samples, sampleRate: fs, quantity: 'current' }, { dt: 0.25e-6 });
    const a = crossings(chan(r, 'v_outA'), 0.02);
    const b = crossings(chan(r, 'v_outB'), 0.01);
    expect(a.length).toBeGreaterThan(3);
    expect(b.length).toBeGreaterThan(1);
    expect(Math.max(...b)).toBeLessThan(4000 + 400); // stops within 2 ms of A's input ending
    expect(Math.min(...b)).toBeGreaterThan(Math.min(...a));
  });

  it('two-unit CPG settles into anti-phase, matching ngspice', () => {
    const net = load('cpg2');
    const stim = constant(50e-6, 4001, fs); // 20 ms
    const r = simulate(net, stim, { dt: 0.25e-6 });
    const a = crossings(chan(r, 'v_outA'), 0.02);
    const b = crossings(chan(r, 'v_outB'), 0.02);
    const lastA = a.slice(-3);
    const period = lastA[2] - lastA[1];
    const bAfter = b.filter((k) => k > lastA[1])[0];
    const phase = (bAfter - lastA[1]) / period;
    expect(Math.abs(phase - 0.5)).toBeLessThan(0.12);
    expect(Math.abs(lastA[1] - lastA[0] - period)).toBeLessThanOrEqual(2);

    const ref = runNgspice(net, { stimulus: stim, tmax: 0.5e-6 });
    expectSameSpikes(a, crossings(ref.columns[1], 0.02));
    expectSameSpikes(b, crossings(ref.columns[3], 0.02));
    expect(nrmse(chan(r, 'v_memA'), ref.columns[0])).toBeLessThan(0.01);
    expect(nrmse(chan(r, 'v_memB'), ref.columns[2])).toBeLessThan(0.01);
  });
});

describe('implicit method (backward-Euler capacitor companion model)', () => {
  // RC with a floating coupling capacitor: m —R— 0, m —C1— 0, m —Cc— k, k —R2— 0; current step into m
  const rc = {
    kind: 'netlist',
    elements: [
      { type: 'I', name: 'I', a: '0', b: 'm', stimulus: true },
      { type: 'R', name: 'R', a: 'm', b: '0', value: 1e3 },
      { type: 'C', name: 'C1', a: 'm', b: '0', value: 1e-6 },
      { type: 'C', name: 'Cc', a: 'm', b: 'k', value: 1e-6 },
      { type: 'R', name: 'R2', a: 'k', b: '0', value: 1e3 },
    ],
    outputs: [{ name: 'v_m', kind: 'v', node: 'm' }, { name: 'v_k', kind: 'v', node: 'k' }],
  };
  const stim = constant(1e-3, 201, 1e5); // 2 ms, tau ~ 1-3 ms
  const err = (a: Float64Array, b: Float64Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

  it('converges to the RK4 solution at first order, floating capacitor included', () => {
    const ref = simulate(rc, stim, { method: 'rk4', dt: 1e-7 });
    const e1 = err(simulate(rc, stim, { method: 'implicit', dt: 2e-6 }).channels[0].data, ref.channels[0].data);
    const e2 = err(simulate(rc, stim, { method: 'implicit', dt: 1e-6 }).channels[0].data, ref.channels[0].data);
    expect(e1).toBeLessThan(0.01);
    expect(e2 / e1).toBeGreaterThan(0.4);
    expect(e2 / e1).toBeLessThan(0.6);
  });

  it('stays stable with a step 100x the shortest time constant (where RK4 diverges)', () => {
    const stiff = { ...rc, elements: rc.elements.map((e) => (e.name === 'C1' ? { ...e, value: 1e-10 } : e)) };
    const imp = simulate(stiff, stim, { method: 'implicit', dt: 1e-5 }).channels[0].data;
    expect(Math.max(...imp.map(Math.abs))).toBeLessThan(1.01);
    const rk = simulate(stiff, stim, { method: 'rk4', dt: 1e-5 }).channels[0].data;
    expect(rk.some((x) => !Number.isFinite(x) || Math.abs(x) > 1e3)).toBe(true);
  });
});

describe('the circuit catalogue', () => {
  it('lists every circuit file in server/twin/circuits, each a valid circuit', () => {
    const files = readdirSync(new URL('../server/twin/circuits/', import.meta.url)).filter((f) => f.endsWith('.json'));
    expect([...BUILT_IN_CIRCUITS].sort()).toEqual(files.map((f) => f.replace(/\.json$/, '')).sort());
    for (const name of BUILT_IN_CIRCUITS) expect(() => expandCircuit(builtInCircuit(name)), name).not.toThrow();
  });
  it('hands out copies: changing one does not change the catalogue', () => {
    const a = builtInCircuit('lif')!;
    a.description = 'changed';
    expect(builtInCircuit('lif')!.description).not.toBe('changed');
    expect(builtInCircuit('no-such-circuit')).toBeUndefined();
  });
});
