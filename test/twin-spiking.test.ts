/**
 * Networks that spike by themselves (issue 13): volatile junctions, node and electrode capacitance, the
 * measurement loop (source resistance, compliance, one stimulus channel per electrode), spike detectors
 * declared by the circuit; the 20-node spiking network against ngspice; the regime ladder of spiking-er;
 * determinism.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTwin, expandCircuit, getModel, simulate, toSpice, type Stimulus } from '../server/twin/index.ts';
import { classifyRegime, regimeFeatures } from '../server/analysis/regime.ts';
import { nrmse, runNgspice } from './twin-ngspice.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../server/twin/circuits');
const load = (name: string) => JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8'));

/** Piecewise-constant levels, `dwell` s each, sampled at fs (held). */
const steps = (levels: number[], dwell: number, fs: number): Stimulus => ({
  samples: Float64Array.from({ length: Math.round(levels.length * dwell * fs) }, (_, k) => levels[Math.min(levels.length - 1, Math.floor(k / (dwell * fs)))]),
  sampleRate: fs,
  quantity: 'voltage',
  hold: true,
});

describe('volatile junctions', () => {
  it('threshold junction: tau_relax unset is the non-volatile junction (rate 0 inside the window, same ngspice text)', () => {
    const m = getModel('threshold');
    const p = { ...m.defaults };
    expect(p.tau_relax).toBe(0);
    expect(m.rate(0.5, 0.7, p)).toBe(0);
    expect(m.spiceRate('v', 'x', p)).not.toContain('abs(');
    const q = { ...p, tau_relax: 2e-3 };
    expect(m.rate(0.5, 0.7, q)).toBeCloseTo(-0.7 / 2e-3, 9);
    expect(m.rate(-0.5, 0.7, q)).toBeCloseTo(-0.7 / 2e-3, 9);
    // outside the window the threshold terms are unchanged
    expect(m.rate(1.2, 0.3, q)).toBe(m.rate(1.2, 0.3, p));
    // a relaxed junction in a circuit: switched on by a pulse, it decays by exp(-t/tau_relax) below threshold
    const net = expandCircuit({
      kind: 'netlist',
      elements: [
        { type: 'V', name: 'E0', node: 'a', stimulus: true },
        { type: 'device', name: 'J', a: 'a', b: '0', model: 'threshold', params: { tau_relax: 2e-3 }, x0: 0.5 },
      ],
    });
    const tw = createTwin(net, { method: 'rk4', dt: 1e-5 });
    tw.setInput(0.2);
    tw.advanceTo(2e-3);
    expect(tw.read({ name: 'x', kind: 'x', element: 'J' })).toBeCloseTo(0.5 * Math.exp(-1), 6);
  });

  it('diffusive memristor: switches on above Vth, holds above Vhold, relaxes by itself below (hysteresis)', () => {
    const m = getModel('diffusive');
    const p = m.defaults;
    expect(m.rate(0.8, 0, p) * p.tau_relax).toBeLessThan(0.01); // well below Vth: diffusion wins, no bridge forms
    expect(m.rate(1.1, 0, p)).toBeGreaterThan(0.5 / p.tau_on); // above Vth: forms within tau_on
    expect(m.rate(0.5, 0.98, p)).toBeGreaterThan(0); // a formed bridge holds at 0.5 V (> Vhold)
    expect(m.rate(0.5, 0, p)).toBeLessThan(1e-3); // the same 0.5 V does not form one
    expect(m.rate(0.1, 0.98, p)).toBeCloseTo(-0.98 / p.tau_relax, 0); // below Vhold it dissolves
    expect(m.rate(-1.1, 0, p)).toBe(m.rate(1.1, 0, p)); // non-polar
  });

  it('diffusive memristor, thermal state: tau_th 0 is the one-state model; θ heats by Rth·i·v over tau_th; the off state leaks by Arrhenius', () => {
    const m = getModel('diffusive');
    const p = { ...m.defaults };
    expect(p.tau_th).toBe(0);
    expect(m.extraStates!(p)).toEqual([]);
    const q: Record<string, number> = { ...p, tau_th: 2e-3 };
    expect(m.extraStates!(q)).toEqual([{ name: 'theta', unit: 'K', x0: 0, lo: 0, hi: Infinity }]);
    const out = new Float64Array(2);
    for (const [v, w] of [[0.5, 0.1], [1.1, 0], [-0.9, 0.7], [0.2, 0.98]]) {
      // the bridge equation is the one-state model's, bit for bit; cold, so is the conductance
      m.rates!(v, [w, 40], q, out, m.gStates!([w, 40], q));
      expect(out[0]).toBe(m.rate(v, w, p));
      expect(m.gStates!([w, 0], q)).toBe(m.g(w, p));
      // heating: (Rth·G·v² − θ)/tau_th
      expect(out[1]).toBeCloseTo((q.Rth * m.gStates!([w, 40], q) * v * v - 40) / q.tau_th, 6);
    }
    // hot, the off-state conduction is thermally activated: Goff·exp((Ea/k)(1/T0 − 1/(T0 + θ)))
    const A = Math.exp((q.Ea / 8.617333262e-5) * (1 / q.T0 - 1 / (q.T0 + 100)));
    expect(m.gStates!([0, 100], q)).toBeCloseTo(q.Goff * A, 15);
    expect(A).toBeGreaterThan(10);
  });

  it('a device with an extra state: θ read by a probe (unit K) settles at Rth·i·v with every method; unknown states are refused', () => {
    const net = (method: string) => expandCircuit({
      kind: 'netlist', method,
      elements: [
        { type: 'V', name: 'E0', node: 'a', stimulus: true },
        { type: 'device', name: 'J', a: 'a', b: '0', model: 'diffusive', params: { tau_th: 1e-3, Rth: 1e6 } },
      ],
      outputs: [{ name: 'theta', kind: 'x', element: 'J', state: 'theta' }, { name: 'i', kind: 'i', element: 'J' }, { name: 'x', kind: 'x', element: 'J' }],
    });
    const ends: number[] = [];
    for (const method of ['rk4', 'euler', 'adaptive', 'implicit']) {
      const r = simulate(net(method), steps([1.2], 0.01, 1e5), { dt: 1e-6 });
      expect(r.channels.map((c) => c.unit)).toEqual(['K', 'A', '1']);
      const [th, i] = r.channels.map((c) => c.data[c.data.length - 1]);
      expect(Math.abs(th / (1e6 * i * 1.2) - 1)).toBeLessThan(1e-4); // 10 tau_th: settled to e^-10
      ends.push(th);
    }
    for (const th of ends) expect(Math.abs(th / ends[0] - 1)).toBeLessThan(1e-3);
    const bad = { ...net('rk4'), outputs: [{ name: 't', kind: 'x' as const, element: 'J', state: 'heat' }] };
    expect(() => createTwin(bad)).toThrow(/no state "heat" \(its extra states: theta\)/);
    const cold = { ...net('rk4'), elements: net('rk4').elements.map((e) => (e.type === 'device' ? { ...e, params: {} } : e)) };
    expect(() => createTwin(cold)).toThrow(/its extra states: none/);
  });
});

describe('the measurement loop', () => {
  const base = { kind: 'erdos-renyi', n: 6, p: 0.6, seed: 3, junction: { model: 'diffusive' }, capacitance: 1e-9 };

  it('source resistance: the electrode current is (Vs - V(node)) / Rs, the current the instrument measures', () => {
    const net = expandCircuit({ ...base, electrodes: [{ node: 0, stimulus: true, sourceResistance: 1e4 }, { node: -1, value: 0 }] });
    const tw = createTwin(net, { method: 'implicit', dt: 1e-6 });
    tw.setInput(0.5);
    tw.advanceTo(2e-5);
    const i = tw.read({ name: 'i', kind: 'i', element: 'E0' });
    expect(i).toBeCloseTo((0.5 - tw.voltage('n0')) / 1e4, 12);
    expect(i).toBeGreaterThan(0);
  });

  it('compliance: the source current never exceeds the limit by more than one step of the loop, and recovers', () => {
    const net = expandCircuit({ ...base, capacitance: undefined, electrodes: [{ node: 0, stimulus: true, sourceResistance: 100, compliance: 1e-3 }, { node: -1, value: 0 }] });
    // all junctions on: the network is a few hundred ohms, so 5 V would drive far more than 1 mA
    for (const e of net.elements) if (e.type === 'device') e.x0 = 1;
    const tw = createTwin(net, { method: 'rk4', dt: 1e-6 });
    tw.setInput(5);
    let max = 0;
    for (let k = 1; k <= 50; k++) {
      tw.advanceTo(k * 1e-6);
      max = Math.max(max, tw.read({ name: 'i', kind: 'i', element: 'E0' }));
    }
    expect(tw.read({ name: 'i', kind: 'i', element: 'E0' })).toBeCloseTo(1e-3, 12);
    expect(max).toBeLessThan(0.06); // the first step (before the loop acts) may overshoot, never after
    tw.setInput(0.01); // far below the limit: back to voltage mode
    tw.advanceTo(1e-4);
    expect(tw.read({ name: 'i', kind: 'i', element: 'E0' })).toBeLessThan(1e-3);
    expect(tw.read({ name: 'i', kind: 'i', element: 'E0' })).toBeCloseTo((0.01 - tw.voltage('n0')) / 100, 12);
  });

  it('three electrodes, each on its own stimulus channel', () => {
    const net = expandCircuit({
      ...base,
      electrodes: [{ node: 0, stimulus: true }, { node: 2, stimulus: true, channel: 1 }, { node: -1, value: 0 }],
    });
    const tw = createTwin(net, { method: 'implicit', dt: 1e-6 });
    expect(tw.inputChannels).toBe(2);
    tw.setInput(0.3, 0);
    tw.setInput(-0.2, 1);
    tw.advanceTo(1e-5);
    expect(tw.voltage('n0')).toBe(0.3);
    expect(tw.voltage('n2')).toBe(-0.2);
    expect(() => tw.setInput(1, 2)).toThrow(/channel 2/);
    // simulate(): the extra channel comes as stimulus.channels
    const r = simulate(net, { ...steps([0.3], 1e-4, 1e5), channels: [new Float64Array(10).fill(-0.2)] }, { method: 'implicit' });
    expect(r.channels.find((c) => c.name === 'i_E1')!.data[9]).toBeLessThan(0);
  });
});

describe('spike events from networks', () => {
  it('switching detector: one event per junction switching on, at the interpolated crossing time', () => {
    const c = { ...load('spiking-er'), spikes: [{ kind: 'switching' }], record: ['states'] };
    const r = simulate(c, steps([5], 0.01, 1e5));
    expect(r.events.length).toBeGreaterThan(2);
    for (const e of r.events) {
      const x = r.channels.find((ch) => ch.name === `x_${e.element}`)!.data;
      const k = Math.floor(e.time * 1e5);
      expect(x[k]).toBeLessThan(0.5);
      expect(x[k + 1]).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('merged switching: a cascade is one network spike; current detector with AC coupling', () => {
    const all = simulate({ ...load('spiking-er'), spikes: [{ kind: 'switching' }] }, steps([5], 0.02, 1e5)).events;
    const merged = simulate(load('spiking-er'), steps([5], 0.02, 1e5)).events;
    expect(merged.length).toBeGreaterThan(3);
    expect(merged.length).toBeLessThan(all.length);
    // every network spike starts with a junction switching at that very time
    for (const e of merged) expect(all.some((a) => a.time === e.time && a.element === e.element)).toBe(true);
    const cur = simulate({ ...load('spiking-er'), spikes: [{ kind: 'current', electrode: 0, threshold: 5e-6, highpass: 1e-3 }] }, steps([5], 0.02, 1e5)).events;
    // one current spike per network spike after the first charging transient
    const later = (ev: { time: number }[]) => ev.filter((e) => e.time > 0.005).length;
    expect(Math.abs(later(cur) - later(merged))).toBeLessThanOrEqual(1);
  });

  it('bad detectors are refused with a clear error', () => {
    expect(() => expandCircuit({ ...load('spiking-er'), spikes: [{ kind: 'current', electrode: 5, threshold: 1e-6 }] })).toThrow(/no electrode 5/);
    expect(() => expandCircuit({ ...load('spiking-er'), spikes: [{ kind: 'switching', level: 2 }] })).toThrow(/level/);
    expect(() => expandCircuit({ ...load('spiking-er'), electrodes: [{ node: 0, stimulus: true, compliance: 1e-3 }] })).toThrow(/needs a sourceResistance/);
  });
});

describe('20-node spiking network with capacitance vs ngspice', () => {
  it('node voltages and electrode currents within NRMSE 1 %, switching times within one output sample', () => {
    // spiking-er with a 30 nF electrode (period ~1.5 ms at 6 V: two network spikes in 3 ms), states recorded
    const c = { ...load('spiking-er'), record: ['nodes', 'states'], spikes: [{ kind: 'switching' }] };
    c.electrodes = [{ ...c.electrodes[0], capacitance: 3e-8 }, c.electrodes[1]];
    const net = expandCircuit(c);
    const fs = 1e5;
    const stim: Stimulus = { samples: Float64Array.from({ length: 301 }, (_, k) => (k ? 6 : 0)), sampleRate: fs, quantity: 'voltage' };
    const ref = runNgspice(net, { stimulus: stim, tmax: 2e-6, precision: 'high' });
    const crossings = (x: Float64Array) => {
      const t: number[] = [];
      for (let i = 1; i < x.length; i++) if (x[i - 1] < 0.5 && x[i] >= 0.5) t.push((i - 1 + (0.5 - x[i - 1]) / (x[i] - x[i - 1])) / fs);
      return t;
    };
    // the implicit method is first order: 10 ns steps to stay within 1 % through the thermal switchings
    for (const [method, dt] of [['rk4', 2.5e-7], ['implicit', 1e-8]] as const) {
      const r = simulate(net, stim, { method, dt });
      let worst = 0;
      r.channels.forEach((ch, k) => {
        if (ch.name.startsWith('x_')) return;
        worst = Math.max(worst, nrmse(ch.data, ref.columns[k]));
      });
      expect(worst, method).toBeLessThan(0.01);
      let matched = 0;
      r.channels.forEach((ch, k) => {
        if (!ch.name.startsWith('x_')) return;
        const mine = r.events.filter((e) => e.element === ch.name.slice(2)).map((e) => e.time);
        const theirs = crossings(ref.columns[k]);
        expect(mine.length, `${method} ${ch.name}`).toBe(theirs.length);
        mine.forEach((t, i) => expect(Math.abs(t - theirs[i]), `${method} ${ch.name}`).toBeLessThan(1 / fs));
        matched += mine.length;
      });
      expect(matched).toBeGreaterThanOrEqual(4);
    }
  }, 300_000);

  it('the netlist carries the source resistance, compliance and capacitors', () => {
    const c = load('spiking-er');
    c.electrodes = [{ ...c.electrodes[0], compliance: 1e-3 }, c.electrodes[1]];
    const text = toSpice(expandCircuit(c));
    expect(text).toMatch(/^bRS0 n_s0 n_n0 I=min\(max\(v\(n_s0,n_n0\)\/15000,-0.001\),0.001\)$/m);
    expect(text).toMatch(/^cCN0 n_n0 0 3e-8$/m);
    expect(text).toMatch(/^cCN1 n_n1 0 1e-9$/m);
  });
});

describe('STDP inside a network (spiking-er-stdp)', () => {
  // pre and post spikes: 1 V for 1 ms, then a -0.8 V tail decaying with 3 ms over 10 ms
  const shape = (x: number) => (x < 0 ? 0 : x < 1e-3 ? 1 : x < 11e-3 ? -0.8 * Math.exp(-(x - 1e-3) / 3e-3) : 0);
  const fs = 1e5;
  /** Conductance between the electrodes (0.1 V read at t = 0.18 s) after 5 pairings at offset dt = t_post - t_pre, 30 ms apart. */
  function conductanceAfter(dt: number): number {
    const n = 0.2 * fs;
    const pre = new Float64Array(n), post = new Float64Array(n);
    for (let q = 0; q < 5; q++) {
      const t0 = 0.01 + q * 0.03 + Math.max(0, -dt);
      for (let k = 0; k < n; k++) ((pre[k] += shape(k / fs - t0)), (post[k] += shape(k / fs - t0 - dt)));
    }
    for (let k = Math.round(0.18 * fs); k < Math.round(0.181 * fs); k++) pre[k] = 0.1;
    const r = simulate(load('spiking-er-stdp'), { samples: pre, channels: [post], sampleRate: fs, quantity: 'voltage', hold: true });
    return r.channels.find((c) => c.name === 'i_E0')!.data[Math.round(0.181 * fs) - 1] / 0.1;
  }

  it('pre before post potentiates, post before pre depresses, |dw| falls with |dt|', () => {
    // control: the same spikes 15 ms apart do not overlap (volatile decay and single spikes only)
    const control = conductanceAfter(15e-3);
    expect(conductanceAfter(-15e-3)).toBeCloseTo(control, 6);
    const dw = (dt: number) => conductanceAfter(dt) / control - 1;
    const [p2, p4, p8, d2, d4, d8] = [2e-3, 4e-3, 8e-3, -2e-3, -4e-3, -8e-3].map(dw);
    expect(p2).toBeGreaterThan(0.1);
    expect(p4).toBeGreaterThan(0.05);
    expect(p2).toBeGreaterThan(p4);
    expect(p4).toBeGreaterThan(Math.abs(p8));
    expect(d2).toBeLessThan(-0.1);
    expect(d4).toBeLessThan(-0.05);
    expect(d2).toBeLessThan(d4);
    expect(Math.abs(d4)).toBeGreaterThan(Math.abs(d8));
  });
});

describe('spiking-er regimes', () => {
  const fs = 1e5;
  const dwell = 0.05;
  /**
   * Per step: spikes from the run's events, classified by the regime rules as `analyze regime` does (the
   * conduction i/v against its median at the spikes for the latched test); the ladder reaches the twin as
   * exact edges, as in a twin run of the ladder protocol.
   */
  function regimes(levels: number[]) {
    const stim = steps(levels, dwell, fs);
    const pieces = { times: Float64Array.from(levels, (_, j) => j * dwell), values: Float64Array.from(levels) };
    const r = simulate(load('spiking-er'), { ...stim, hold: false, pieces });
    const i = r.channels.find((c) => c.name === 'i_E0')!.data;
    const g = i.map((x, k) => x / stim.samples[k]);
    const at = r.events.map((e) => g[Math.min(g.length - 1, e.index)]).sort((a, b) => a - b);
    const atSpikes = at[Math.floor(at.length / 2)];
    return levels.map((_, j) => {
      const a = j * dwell * fs, b = (j + 1) * dwell * fs;
      const times = Float64Array.from(r.events.filter((e) => e.time >= j * dwell && e.time < (j + 1) * dwell), (e) => e.time);
      const w = { times, duration: dwell, trace: i.subarray(a, b), fs, baseline: 0, threshold: Infinity, polarity: 'positive' as const };
      return classifyRegime(regimeFeatures({ ...w, conduction: { values: g.subarray(a, b), atSpikes } })).regime;
    });
  }

  it('quiescent, oscillatory, bursting, saturated as the bias rises (2, 4, 6, 10 V)', () => {
    expect(regimes([2, 4, 6, 10])).toEqual(['quiescent', 'oscillatory', 'bursting', 'saturated']);
  });

  it('is deterministic: the same run twice is bit-identical', () => {
    const a = simulate(load('spiking-er'), steps([4, 6.5], 0.01, fs));
    const b = simulate(load('spiking-er'), steps([4, 6.5], 0.01, fs));
    expect(a.events).toEqual(b.events);
    a.channels.forEach((c, k) => expect(Buffer.compare(Buffer.from(c.data.buffer), Buffer.from(b.channels[k].data.buffer))).toBe(0));
  });
});
