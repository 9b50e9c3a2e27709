import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { circularMean, spikePhases } from './phase.ts';

describe('phase of one unit in another unit’s cycle', () => {
  // A fires every 10 ms; B fires in phase (φ = 0.02) for the first 50 ms, then locks at φ = 0.3 with jitter
  const T = 0.01;
  const a = Array.from({ length: 100 }, (_, k) => k * T);
  const rng = new Rng(5);
  const b = a.slice(0, -1).map((t, k) => t + T * (k < 5 ? 0.02 : 0.3 + 0.005 * rng.normal()));

  it('two phase-locked oscillators: mean phase 0.3, the in-phase transient excluded, locking time at 50 ms', () => {
    const r = spikePhases(a, b);
    expect(r.n).toBe(99);
    expect(Math.abs(r.meanPhase - 0.3)).toBeLessThan(0.003);
    expect(r.lockingTimeS).toBeCloseTo(0.05 + 0.3 * T, 3);
    expect(r.nLocked).toBe(94);
    expect(r.vectorStrength).toBeGreaterThan(0.99);
    // circular SD of a wrapped normal with σ = 0.005 cycles is σ itself
    expect(Math.abs(r.circularSd - 0.005)).toBeLessThan(0.0015);
    expect(r.warnings).toEqual([]);
    // the naive mean over all phases is pulled towards the in-phase start
    expect(circularMean(r.phases).mean).toBeLessThan(0.3 - 0.005);
  });
  it('circular statistics: mean across the 0/1 wrap, R = 1 for identical phases, R = 0 for opposite ones', () => {
    const m = circularMean([0.95, 0.05]).mean;
    expect(Math.min(m, 1 - m)).toBeLessThan(1e-12); // 0 on the circle, not the linear mean 0.5
    expect(circularMean([0.4, 0.4, 0.4]).r).toBeCloseTo(1, 12);
    expect(circularMean([0.25, 0.75]).r).toBeCloseTo(0, 12);
  });
  it('independent units do not lock: statistics over all phases, with a warning; too few reference spikes throw', () => {
    const rng2 = new Rng(8);
    const c = Array.from({ length: 300 }, () => rng2.random()).sort((x, y) => x - y);
    const r = spikePhases(a, c);
    expect(r.lockingTimeS).toBeNaN();
    expect(r.vectorStrength).toBeLessThan(0.2);
    expect(r.warnings[0]).toMatch(/do not lock/);
    expect(() => spikePhases([0.1], c)).toThrow(RangeError);
  });
});
