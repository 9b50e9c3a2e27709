/**
 * Seeded stochastic switching of the diffusive junction (models.ts `sigma_sw`, events.ts): each formation
 * needs its own threshold Vth·f, f redrawn log-normal when the bridge dissolves. ngspice cannot redraw a
 * state at random, so the model is checked by replay instead: the draws of the counter-based stream
 * (switchingDraw(seed, device, k)) predict the voltage at which the junction switches in cycle k, and
 * the draws themselves follow the log-normal law. Also: off by default (bit for bit), a fixed seed
 * replays exactly whatever the chunking, another seed gives other draws, and the ngspice export refuses.
 */
import { describe, expect, it } from 'vitest';
import { expandCircuit, simulate, simulateChunks, toSpice } from '../server/twin/index.ts';
import { switchingDraw } from '../server/twin/events.ts';
import { erfc } from '../server/analysis/math.ts';

const FS = 1e5;
const PERIOD = 0.01; // 10 ms triangle 0 → 2 → 0 V: far slower than tau_on and tau_relax
const VTH = 1, SIGMA = 0.15;

function junction(params: Record<string, number>) {
  return expandCircuit({
    kind: 'netlist',
    name: 'stochastic-junction',
    elements: [
      { type: 'V', name: 'Vs', node: 'a', stimulus: true },
      { type: 'device', name: 'D', a: 'a', b: '0', model: 'diffusive', params: { Vth: VTH, tau_on: 5e-6, tau_relax: 1e-4, ...params } },
    ],
    outputs: [
      { name: 'v', kind: 'v', node: 'a' },
      { name: 'x', kind: 'x', element: 'D' },
      ...(params.sigma_sw > 0 ? [{ name: 'f', kind: 'x' as const, element: 'D', state: 'vth_f' }] : []),
    ],
    spikes: [{ kind: 'switching' }],
  });
}
const triangle = (cycles: number) =>
  Float64Array.from({ length: Math.round(cycles * PERIOD * FS) }, (_, k) => {
    const ph = ((k / FS) % PERIOD) / PERIOD;
    return 2 * (ph < 0.5 ? 2 * ph : 2 - 2 * ph);
  });
const stim = (samples: Float64Array) => ({ samples, sampleRate: FS, quantity: 'voltage' as const });

describe('stochastic switching of the diffusive junction', () => {
  it('replay: draw k of the seeded stream sets the switching voltage of cycle k', () => {
    const samples = triangle(40);
    const r = simulate(junction({ sigma_sw: SIGMA, seed_sw: 7 }), stim(samples));
    const ev = r.events.map((e) => e.time);
    expect(ev.length).toBe(40); // one formation per cycle
    // the stimulus at each switching (it rises at 400 V/s there), against Vth·f_k of the draws
    const f = (k: number) => Math.exp(SIGMA * switchingDraw(7, 0, k).normal() - (SIGMA * SIGMA) / 2);
    const offsets = ev.map((t, k) => {
      const ph = (t % PERIOD) / PERIOD;
      return 2 * 2 * ph - VTH * f(k);
    });
    const sorted = [...offsets].sort((a, b) => a - b);
    const med = sorted[20];
    // formation starts a few dv below Vth·f (σ·tau_relax/tau_on ≳ 1): the same offset in every cycle
    expect(med).toBeLessThan(0);
    expect(med).toBeGreaterThan(-0.2); // −0.107 V
    for (const o of offsets) expect(Math.abs(o - med)).toBeLessThan(0.015); // measured within ±9 mV
    // while the thresholds themselves spread by about 15 %
    const vs = ev.map((t) => 4 * ((t % PERIOD) / PERIOD));
    expect(Math.max(...vs) - Math.min(...vs)).toBeGreaterThan(0.25);
    // the probe shows the draws: f_0 at the start, f_40 after the last dissolution
    const fc = r.channels.find((c) => c.name === 'f')!.data;
    expect(fc[0]).toBe(f(0));
    expect(fc[fc.length - 1]).toBe(f(40));
  });

  it('the draws are log-normal with mean 1 (the switching-threshold law)', () => {
    const z: number[] = [];
    for (let d = 0; d < 50; d++) for (let k = 0; k < 100; k++) z.push(switchingDraw(3, d, k).normal());
    const n = z.length;
    const mean = z.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(z.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sd - 1)).toBeLessThan(0.04);
    // Kolmogorov–Smirnov distance to the standard normal below the 1 % critical value 1.63/√n
    const Phi = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
    const s = [...z].sort((a, b) => a - b);
    let D = 0;
    s.forEach((x, i) => (D = Math.max(D, Math.abs(Phi(x) - i / n), Math.abs(Phi(x) - (i + 1) / n))));
    expect(D).toBeLessThan(1.63 / Math.sqrt(n));
    // neighbouring counters are not correlated
    let c = 0;
    for (let i = 1; i < n; i++) c += z[i] * z[i - 1];
    expect(Math.abs(c / n)).toBeLessThan(4 / Math.sqrt(n));
  });

  it('spontaneous redraws (tau_sw) come at the hazard rate 1/tau_sw: exponential waiting times', () => {
    // at 0 V the bridge never forms or dissolves: every change of f is a spontaneous redraw
    const tau = 1e-3;
    const r = simulate(junction({ sigma_sw: SIGMA, seed_sw: 5, tau_sw: tau }), stim(new Float64Array(FS))); // 1 s
    const f = r.channels.find((c) => c.name === 'f')!.data;
    const waits: number[] = [];
    let last = 0;
    for (let k = 1; k < f.length; k++) if (f[k] !== f[k - 1]) (waits.push((k - last) / FS), (last = k));
    waits.shift(); // from t = 0 to the first redraw is a wait too, but keep whole intervals only
    const n = waits.length;
    expect(Math.abs(n - 1 / tau)).toBeLessThan(4 * Math.sqrt(1 / tau)); // Poisson count over 1 s: 1000 ± 32
    const mean = waits.reduce((s, w) => s + w, 0) / n;
    expect(Math.abs(mean / tau - 1)).toBeLessThan(0.1); // 0.99 ms over 1,006 waits
    const beyond2 = waits.filter((w) => w > 2 * tau).length / n;
    expect(Math.abs(beyond2 - Math.exp(-2))).toBeLessThan(0.04); // 0.128: the exponential law's tail, e^-2 = 0.135
  });

  it('off by default bit for bit; a fixed seed replays whatever the chunking; another seed differs', () => {
    const samples = triangle(4);
    const plain = simulate(junction({}), stim(samples));
    const off = simulate(junction({ sigma_sw: 0, seed_sw: 99 }), stim(samples));
    expect(off.channels.map((c) => Array.from(c.data))).toEqual(plain.channels.map((c) => Array.from(c.data)));
    const a = simulate(junction({ sigma_sw: SIGMA, seed_sw: 7 }), stim(samples));
    const chunked = simulateChunks(junction({ sigma_sw: SIGMA, seed_sw: 7 }), stim(samples), { chunkSize: 97 });
    const x = new Float64Array(samples.length);
    const times: number[] = [];
    for (const ch of chunked.chunks) (x.set(ch.data[1], ch.first), times.push(...ch.events.map((e) => e.time)));
    expect(Array.from(x)).toEqual(Array.from(a.channels[1].data));
    expect(times).toEqual(a.events.map((e) => e.time));
    const b = simulate(junction({ sigma_sw: SIGMA, seed_sw: 8 }), stim(samples));
    expect(b.events.map((e) => e.time)).not.toEqual(a.events.map((e) => e.time));
  });

  it('refuses a negative spread or hazard time and a seed that is not a 32-bit integer', () => {
    const fs = { samples: new Float64Array(2), sampleRate: FS, quantity: 'voltage' as const };
    expect(() => simulate(junction({ sigma_sw: -0.1 }), fs)).toThrow(expect.objectContaining({ code: 'TWIN_BAD_PARAM' }));
    expect(() => simulate(junction({ sigma_sw: 0.1, tau_sw: -1 }), fs)).toThrow(/tau_sw must be >= 0/);
    expect(() => simulate(junction({ sigma_sw: 0.1, seed_sw: 1.5 }), fs)).toThrow(/seed_sw must be an integer/);
  });

  it('the ngspice export refuses a stochastic junction, naming why', () => {
    expect(() => toSpice(junction({ sigma_sw: SIGMA }))).toThrow(/ngspice cannot redraw/);
    expect(toSpice(junction({}))).toContain('bD');
  });
});
