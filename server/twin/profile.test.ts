import { describe, expect, it } from 'vitest';
import { spikeTimeSse } from './calibration.ts';
import { profileIntervals, t975 } from './profile.ts';

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

  it('re-centres when a walk finds a lower point than the given minimum', async () => {
    const f = ([x, y]: number[]) => (x - 0.6) ** 2 + (y - 0.4) ** 2;
    const r = await profileIntervals(batch(f), [0.5, 0.4], f([0.5, 0.4]), { threshold: 0.0004, seed: 2 });
    expect(r.x[0]).toBeCloseTo(0.6, 2);
    expect(r.intervals[0].lo!).toBeCloseTo(r.x[0] - 0.02, 2);
    expect(r.intervals[0].hi!).toBeCloseTo(r.x[0] + 0.02, 2);
  });

  it("Student's t 0.975 quantile", () => {
    for (const [nu, t] of [[3, 3.182], [5, 2.571], [14, 2.145], [30, 2.042], [1000, 1.962]]) expect(Math.abs(t975(nu) - t)).toBeLessThan(0.03);
  });

  it('spike-time sum of squares: pairs in order, a missing partner at the end of the run', () => {
    expect(spikeTimeSse([0.1, 0.2], [0.11, 0.19], 1)).toBeCloseTo(2e-4, 12);
    expect(spikeTimeSse([0.1, 0.2], [0.1, 0.2, 0.999], 1)).toBeCloseTo(1e-6, 12);
  });
});
