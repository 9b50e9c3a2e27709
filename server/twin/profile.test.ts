import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { misfitWarning, noiseSd, spikeTimeSse } from './calibration.ts';
import { multiStart, multiStartCheck, profileIntervals, t975 } from './profile.ts';

const batch = (f: (x: number[]) => number) => async (xs: number[][]) => xs.map(f);

describe('profile-likelihood intervals', () => {
  it('follows a narrow diagonal valley: the interval of the profile, not of the cross-section', async () => {
    // f = 100 (u + v)² + (u − v)², u = x − 0.4, v = y − 0.5: min over v gives 1600/404 · 4 u² / 4 = 3.9604 u²
    const f = ([x, y]: number[]) => 100 * (x - 0.4 + (y - 0.5)) ** 2 + (x - 0.4 - (y - 0.5)) ** 2;
    const r = await profileIntervals(batch(f), [0.4, 0.5], 0, { threshold: 0.01, seed: 3 });
    const half = Math.sqrt(0.01 / ((1600 + 160000) / 40804));
    expect(r.intervals[0].lo! - (0.4 - half)).toBeCloseTo(0, 3);
    expect(r.intervals[0].hi! - (0.4 + half)).toBeCloseTo(0, 3);
    // the cross-section at y = 0.5 would give ±√(0.01/101) = ±0.00995, five times narrower
    expect(r.intervals[0].hi! - 0.4).toBeGreaterThan(0.045);
  });

  it('leaves an end open where the profile stays below the threshold up to the bound', async () => {
    const f = ([x]: number[]) => (x - 0.3) ** 2 * (x < 0.3 ? 100 : 0.01);
    const r = await profileIntervals(batch(f), [0.3], 0, { threshold: 0.04 });
    expect(r.intervals[0].hi).toBeNull();
    expect(r.intervals[0].lo!).toBeCloseTo(0.3 - 0.02, 4);
  });

  it('a cliff past the threshold: the walk bisects to it instead of creeping from the low end', async () => {
    // flat up to a cliff at 0.6 (beyond it nothing fits: the objective jumps by 10⁵ thresholds); the walk's
    // growing steps land past the cliff, where √PL is far from linear, and regula falsi alone ends near 0.39
    const f = ([x]: number[]) => (x < 0.6 ? 0.01 * (x - 0.3) ** 2 : 1e3);
    const r = await profileIntervals(batch(f), [0.3], 0, { threshold: 0.01 });
    expect(r.intervals[0].lo).toBeNull();
    expect(Math.abs(r.intervals[0].hi! - 0.6)).toBeLessThan(2e-3);
  });

  it('re-centres when a walk finds a lower point than the given minimum', async () => {
    const f = ([x, y]: number[]) => (x - 0.6) ** 2 + (y - 0.4) ** 2;
    const r = await profileIntervals(batch(f), [0.5, 0.4], f([0.5, 0.4]), { threshold: 0.0004, seed: 2 });
    expect(r.x[0]).toBeCloseTo(0.6, 2);
    expect(r.intervals[0].lo!).toBeCloseTo(r.x[0] - 0.02, 2);
    expect(r.intervals[0].hi!).toBeCloseTo(r.x[0] + 0.02, 2);
  });

  it('a lower point found after the last re-centring: returned as the minimum and flagged, not the centre', async () => {
    // a staircase of flat wells 0.022 apart, each 1 lower than the one before, walls of 50 between: each round's
    // walks reach a few wells further, so the third still finds a point more than Δ below its centre
    const f = ([x]: number[]) => {
      const n = Math.round((x - 0.1) / 0.022);
      return Math.abs(x - 0.1 - n * 0.022) < 0.007 ? -n : 50;
    };
    let lowest = { x: [0.1], f: 0 };
    const seen = async (xs: number[][]) => xs.map((x) => (f(x) < lowest.f && (lowest = { x, f: f(x) }), f(x)));
    const r = await profileIntervals(seen, [0.1], 0, { threshold: 0.5 });
    expect(r.stale).toBe(true);
    expect(r.f).toBe(lowest.f);
    expect(r.x).toEqual(lowest.x);
  });

  it('re-centred walks use the threshold of the new centre when it is a function of the minimum (a fitted variance)', async () => {
    // f = 1 + 100 (x − 0.6)² + 100 (y − 0.4)², walked from (0.5, 0.4) at f 2: with Δ = 0.01 f the new centre's
    // Δ ≈ 0.01 gives x ± 0.01; the start's Δ 0.02 would give ± 0.014
    const f = ([x, y]: number[]) => 1 + 100 * (x - 0.6) ** 2 + 100 * (y - 0.4) ** 2;
    const r = await profileIntervals(batch(f), [0.5, 0.4], f([0.5, 0.4]), { threshold: (fc) => 0.01 * fc, seed: 2 });
    expect(r.x[0]).toBeCloseTo(0.6, 2);
    const half = Math.sqrt((0.01 * r.f) / 100);
    expect((r.intervals[1].hi! - r.intervals[1].lo!) / 2 / half).toBeCloseTo(1, 1);
  });

  it('multi-start: two disjoint minima as good as each other widen the interval of the coordinate they differ in, not the other', async () => {
    // two wells in x (at 0.3 and 0.7, the second 2e-5 higher), one in y: a walk from one well does not reach the other
    const f = ([x, y]: number[]) => Math.min((x - 0.3) ** 2, (x - 0.7) ** 2 + 2e-7) * 100 + (y - 0.5) ** 2 * 100;
    const threshold = 1e-4;
    const prof = await profileIntervals(batch(f), [0.3, 0.5], 0, { threshold, seed: 4 });
    expect(prof.intervals[0].hi!).toBeCloseTo(0.301, 3);
    const minima = await multiStart(batch(f), prof.x, { starts: 6, spread: 0.2, evals: 200, seed: 5 });
    expect(minima.some((m) => Math.abs(m.x[0] - 0.7) < 1e-3)).toBe(true);
    const c = multiStartCheck(prof.intervals, minima, prof.f, threshold);
    expect(c.intervals[0]).toMatchObject({ lo: prof.intervals[0].lo, multimodal: true });
    expect(c.intervals[0].hi!).toBeCloseTo(0.7, 3);
    expect(c.spread[0]![1]).toBeCloseTo(0.7, 3);
    expect(c.intervals[1]).toEqual(prof.intervals[1]);
    expect(c.spread[1]).toBeNull();
    // the second well 100× the threshold higher: not as good, nothing widened
    const g = ([x, y]: number[]) => Math.min((x - 0.3) ** 2, (x - 0.7) ** 2 + 1e-2) * 100 + (y - 0.5) ** 2 * 100;
    const far = multiStartCheck(prof.intervals, await multiStart(batch(g), prof.x, { starts: 6, spread: 0.2, evals: 200, seed: 5 }), 0, threshold);
    expect(far.intervals).toEqual(prof.intervals);
    expect(far.spread).toEqual([null, null]);
  });

  it("Student's t 0.975 quantile", () => {
    for (const [nu, t] of [[3, 3.182], [5, 2.571], [14, 2.145], [30, 2.042], [1000, 1.962]]) expect(Math.abs(t975(nu) - t)).toBeLessThan(0.03);
  });

  it('spike-time sum of squares: pairs in order, a missing partner at the end of the run', () => {
    expect(spikeTimeSse([0.1, 0.2], [0.11, 0.19], 1)).toBeCloseTo(2e-4, 12);
    expect(spikeTimeSse([0.1, 0.2], [0.1, 0.2, 0.999], 1)).toBeCloseTo(1e-6, 12);
  });
});

describe('budget', () => {
  it('a walk cut short by the budget leaves its end unknown, the same on every run', async () => {
    const f = ([x, y]: number[]) => 100 * (x - 0.4 + (y - 0.5)) ** 2 + (x - 0.4 - (y - 0.5)) ** 2;
    const a = await profileIntervals(batch(f), [0.4, 0.5], 0, { threshold: 0.01, seed: 3, maxEvals: 200 });
    const b = await profileIntervals(batch(f), [0.4, 0.5], 0, { threshold: 0.01, seed: 3, maxEvals: 200 });
    expect(a.intervals.some((p) => p.lo === undefined || p.hi === undefined)).toBe(true);
    expect(b).toEqual(a);
  });
});

describe('misfit and noise', () => {
  it('estimates the noise of a smooth trace with resets from its second differences', () => {
    const rng = new Rng(5);
    const x = Float64Array.from({ length: 20_000 }, (_, i) => 1 - Math.exp(-(i % 500) / 100) + 0.01 * rng.normal());
    expect(noiseSd(x)).toBeGreaterThan(0.009);
    expect(noiseSd(x)).toBeLessThan(0.011);
  });
});

describe('misfit warning', () => {
  const target = { sampleRate: 1000, samples: 1000, channels: {}, spikes: Float64Array.from({ length: 10 }, (_, k) => 0.05 + 0.1 * k), stimulus: new Float64Array(1000) };
  const spec = { kind: 'spikes' as const, channels: [] };
  it('spikes: quiet for a train matched to within a quarter interval, warns for a missing spike or a shifted train', () => {
    expect(misfitWarning(spec, target, { value: 0, residual: 0, n: 10, spikes: 10, sse: 10 * 0.01 ** 2 })).toBeNull();
    expect(misfitWarning(spec, target, { value: 0, residual: 0, n: 10, spikes: 9, sse: 0.01 })).toMatch(/does not reproduce the run's spike train \(9 spikes for 10 measured/);
    expect(misfitWarning(spec, target, { value: 0, residual: 0, n: 10, spikes: 10, sse: 10 * 0.03 ** 2 })).toMatch(/RMS spike-time difference 30\.0 ms for a mean interval of 100 ms/);
  });
  it('waveform: warns for a residual far above the noise floor only', () => {
    const rng = new Rng(1);
    const wave = { ...target, channels: { v: Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i / 50) + 0.01 * rng.normal()) } };
    const w = { kind: 'waveform' as const, channels: ['v'] };
    expect(misfitWarning(w, wave, { value: 0, residual: 0.006, n: 1000, spikes: 0 })).toBeNull();
    expect(misfitWarning(w, wave, { value: 0, residual: 0.2, n: 1000, spikes: 0 })).toMatch(/residual of 0\.200 where the run's noise alone would leave about 0\.00[45]\d/);
  });
});
