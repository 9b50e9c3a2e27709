import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { detectSpikes, detectSwitching } from './spikes.ts';
import { bandpass } from './filter.ts';

/** Gaussian noise (σ) plus Gaussian bumps of amplitude A and SD w samples at the given (fractional) centres. */
function trace(n: number, sigma: number, centres: number[], A: number, w: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = sigma * rng.normal();
  for (const c of centres) for (let i = Math.max(0, Math.floor(c - 8 * w)); i < Math.min(n, c + 8 * w); i++) x[i] += A * Math.exp(-((i - c) ** 2) / (2 * w * w));
  return x;
}

describe('spike detection', () => {
  const centres = [1000.3, 5000.7, 9000.5, 20000.25, 30000.9];
  const fs = 10000;
  it('robust threshold: finds every bump with sub-sample time, peak and FWHM = 2√(2 ln 2)·w', () => {
    // noise σ = 1: the robust estimate median(|x|)/0.6745 should be within a few % of 1 on 40k samples
    const x = trace(40000, 1, centres, 30, 3, 1);
    const r = detectSpikes(x, fs, { threshold: { mode: 'robust', k: 5 } });
    expect(r.noise).toBeGreaterThan(0.95);
    expect(r.noise).toBeLessThan(1.05);
    expect(r.times.length).toBe(centres.length);
    for (let k = 0; k < centres.length; k++) {
      expect(Math.abs(r.times[k] * fs - centres[k])).toBeLessThan(0.35);
      expect(r.peaks[k]).toBeGreaterThan(27);
      expect(Math.abs(r.widths[k] * fs - 2 * Math.sqrt(2 * Math.log(2)) * 3)).toBeLessThan(1);
    }
  });
  it('int16 raw input with scale and offset gives the same spikes in physical units', () => {
    const x = trace(40000, 1, centres, 30, 3, 2);
    const scale = 0.01;
    const offset = 2;
    const raw = Int16Array.from(x, (v) => Math.round((v + 0 - offset) / scale + offset / scale)); // raw·scale + offset ≈ v + offset
    const r = detectSpikes(raw, fs, { threshold: { mode: 'robust', k: 5 } }, scale, offset);
    expect(r.times.length).toBe(centres.length);
    expect(r.baseline).toBeCloseTo(offset, 1);
    expect(r.noise).toBeGreaterThan(0.95);
    expect(r.noise).toBeLessThan(1.05);
    for (let k = 0; k < centres.length; k++) expect(r.peaks[k] - offset).toBeGreaterThan(27);
  });
  it('negative polarity, absolute and SD thresholds, and the refractory period', () => {
    const x = trace(40000, 1, centres, -30, 3, 3);
    expect(detectSpikes(x, fs, { threshold: { mode: 'robust', k: 5 } }).times.length).toBe(0);
    expect(detectSpikes(x, fs, { threshold: { mode: 'robust', k: 5 }, polarity: 'negative' }).times.length).toBe(5);
    expect(detectSpikes(x, fs, { threshold: { mode: 'sd', k: 5 }, polarity: 'both' }).times.length).toBe(5);
    expect(detectSpikes(x, fs, { threshold: { mode: 'absolute', value: -10 }, polarity: 'negative' }).times.length).toBe(5);
    // two bumps 2 ms apart: one spike with a 5 ms refractory period, two with 0.5 ms
    const y = trace(4000, 0.1, [1000, 1020], 10, 2, 4);
    expect(detectSpikes(y, fs, { threshold: { mode: 'robust', k: 8 }, refractory: 0.005 }).times.length).toBe(1);
    expect(detectSpikes(y, fs, { threshold: { mode: 'robust', k: 8 }, refractory: 0.0005 }).times.length).toBe(2);
  });
  it('re-arms by hysteresis: noise riding on a slow spike crosses the threshold many times but counts once', () => {
    // one 2 ms wide bump whose top is jagged around the threshold level
    const fs2 = 100_000;
    const x = new Float64Array(4000);
    const rng = new Rng(10);
    for (let i = 0; i < x.length; i++) x[i] = 0.05 * rng.normal();
    for (let i = 1000; i < 1200; i++) x[i] += 1 + 0.2 * Math.sin(i * 1.3);
    const r = detectSpikes(x, fs2, { threshold: { mode: 'absolute', value: 1 } });
    expect(r.times.length).toBe(1);
    expect(r.rearmLevel).toBeCloseTo(0.5, 12);
    // with re-arm at the threshold itself (no hysteresis) and no dead time the wiggles count as spikes
    expect(detectSpikes(x, fs2, { threshold: { mode: 'absolute', value: 1 }, rearm: 1, refractory: 0 }).times.length).toBeGreaterThan(5);
  });
  it('derives the dead time from the signal: half the median excursion, at least two samples; kHz spikes are all found', () => {
    // 2 kHz train of 50 µs pulses sampled at 1 MS/s: the old fixed 1 ms dead time kept every second one at best
    const fs2 = 1e6;
    const x = new Float64Array(20_000);
    for (let k = 0; k < 40; k++) for (let i = 0; i < 50; i++) x[k * 500 + 100 + i] = 1;
    const r = detectSpikes(x, fs2, { threshold: { mode: 'absolute', value: 0.5 } });
    expect(r.times.length).toBe(40);
    expect(r.deadTimeSource).toBe('signal');
    expect(r.deadTime).toBeCloseTo(25e-6, 12); // half of the 50-sample excursion
    expect(detectSpikes(x, fs2, { threshold: { mode: 'absolute', value: 0.5 }, refractory: 0.001 }).times.length).toBe(20);
  });
  it('reset-type traces: when k·σ finds nothing, the mesial level finds the excursions that end in a reset (LIF ramps), not smooth waves or noise', () => {
    // LIF membrane, closed form (τ = 100 µs, V_th 0.8, reset 0 held 50 µs, V_inf 1 V in the high half of a
    // 1 kHz square) sampled at 100 kHz: two full ramps per period (reset after each), a third partial ramp that
    // decays in the low half; the sample after each crossing is drawn at 1 V (the simulated bench's spike).
    const fs2 = 1e5;
    const x = new Float64Array(5000);
    const spikes: number[] = [];
    let v = 0;
    let held = 0; // refractory samples left (50 µs)
    for (let i = 1; i < x.length; i++) {
      const vinf = i % 100 < 50 ? 1 : 0;
      if (held > 0) held--;
      else v = vinf + (v - vinf) * Math.exp(-1 / fs2 / 1e-4);
      if (v >= 0.8) {
        x[i] = 1;
        spikes.push(i);
        v = 0;
        held = 5;
      } else x[i] = v;
    }
    expect(spikes.length).toBe(100);
    // the ramps alone (a twin's membrane: the spike is the ramp's top before the reset): the k·σ level lies
    // above the maximum, the mesial level finds every full ramp and not the partial one
    const saw = x.map((y) => (y === 1 ? 0 : y));
    const r = detectSpikes(saw, fs2, { threshold: { mode: 'robust', k: 5 } });
    expect(r.thresholdRule).toBe('range');
    expect(r.noiseMethod).toBe('first-difference');
    expect(Array.from(r.indices)).toEqual(spikes.map((i) => i - 1));
    expect(r.threshold).toBeCloseTo((Math.max(...saw) - r.baseline) / 2, 12);
    // with the drawn spike samples every spike is found too, at the drawn sample
    expect(Array.from(detectSpikes(x, fs2, { threshold: { mode: 'robust', k: 5 } }).indices)).toEqual(spikes);
    // a smooth wave has no resets and white noise no excursion beyond k noise σ: still nothing
    const sine = Float64Array.from({ length: 5000 }, (_, i) => Math.sin((2 * Math.PI * i) / 200));
    expect(detectSpikes(sine, fs2, { threshold: { mode: 'robust', k: 5 } })).toMatchObject({ thresholdRule: 'noise', times: new Float64Array(0) });
    const rng = new Rng(11);
    const noise = Float64Array.from({ length: 5000 }, () => rng.normal());
    expect(detectSpikes(noise, fs2, { threshold: { mode: 'robust', k: 5 } }).times.length).toBe(0);
  });
  it('band-pass removes a slow drift that would otherwise hide the spikes', () => {
    const x = trace(40000, 1, centres, 30, 3, 5);
    for (let i = 0; i < x.length; i++) x[i] += 200 * Math.sin((2 * Math.PI * 0.5 * i) / fs);
    expect(detectSpikes(x, fs, { threshold: { mode: 'robust', k: 5 } }).times.length).toBeLessThan(5);
    const r = detectSpikes(x, fs, { threshold: { mode: 'robust', k: 5 }, bandpass: [50, 3000] });
    expect(r.times.length).toBe(5);
    for (let k = 0; k < 5; k++) expect(Math.abs(r.times[k] * fs - centres[k])).toBeLessThan(1);
    // filtfilt of a pure in-band sine keeps its amplitude
    const s = Float64Array.from({ length: 20000 }, (_, i) => Math.sin((2 * Math.PI * 500 * i) / fs));
    const f = bandpass(s, fs, 50, 3000);
    expect(Math.max(...f.subarray(5000, 15000))).toBeCloseTo(1, 2);
  });
  it('switching events on dG/dt: conductance steps become SET (positive) and RESET (negative) spikes', () => {
    const g = new Float64Array(10000).fill(1e-6);
    for (let i = 3000; i < 7000; i++) g[i] = 1e-4; // SET at 3000, RESET at 7000
    const rng = new Rng(9);
    for (let i = 0; i < g.length; i++) g[i] += 1e-8 * rng.normal();
    const set = detectSwitching(g, fs, { threshold: { mode: 'robust', k: 10 } });
    const reset = detectSwitching(g, fs, { threshold: { mode: 'robust', k: 10 }, polarity: 'negative' });
    expect(set.times.length).toBe(1);
    expect(reset.times.length).toBe(1);
    expect(Math.abs(set.times[0] * fs - 2999.5)).toBeLessThan(1);
    expect(Math.abs(reset.times[0] * fs - 6999.5)).toBeLessThan(1);
  });
});
