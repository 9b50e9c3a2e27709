import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { analyzeAvalanches, avalanchesFromCounts, avalanchesFromEvents } from './avalanches.ts';

describe('avalanche detection', () => {
  it('hand-worked: counts 0 2 1 0 0 3 0 1 1 1 0 give sizes 3, 3, 3 and durations 2, 1, 3', () => {
    const a = avalanchesFromCounts([0, 2, 1, 0, 0, 3, 0, 1, 1, 1, 0]);
    expect(Array.from(a.sizes)).toEqual([3, 3, 3]);
    expect(Array.from(a.durations)).toEqual([2, 1, 3]);
    // Beggs-Plenz σ: mean of n2/n1 = (1/2 + 0 + 1)/3; pooled Σ n_{t+1}/Σ n_t = (1+0 + 0 + 1+1+0)/(2+1+3+1+1+1)
    expect(a.branchingRatio).toBeCloseTo(0.5, 12);
    expect(a.branchingRatioPooled).toBeCloseTo(3 / 9, 12);
  });
  it('events binned at the mean inter-event interval', () => {
    const a = avalanchesFromEvents([0, 0.1, 0.2, 1, 1.05, 2]); // mean interval 0.4 s
    expect(a.binWidth).toBeCloseTo(0.4, 12);
    expect(Array.from(a.sizes)).toEqual([2]); // bins: [0,0.4)=3 (touches the start, dropped), [0.8,1.2)=2, [2,...]=1 (touches the end)
  });
});

describe('critical branching process (ratio 1)', () => {
  it('gives size exponent near 3/2, duration exponent near 2, branching ratio near 1 and crackling γ near 2', () => {
    // Mean-field theory of a critical Galton-Watson process with Poisson(1) offspring:
    // P(S) ~ S^-3/2, P(T) ~ T^-2, ⟨S⟩(T) ~ T^2 = (α_T - 1)/(τ_S - 1) (Sethna et al. 2001; Beggs and Plenz 2003).
    const rng = new Rng(12);
    const counts: number[] = [];
    for (let a = 0; a < 30000; a++) {
      counts.push(0);
      let n = 1;
      let total = 0;
      while (n > 0 && total < 1e5) {
        counts.push(n);
        total += n;
        n = rng.poisson(n);
      }
      counts.push(0);
    }
    const av = avalanchesFromCounts(counts);
    expect(av.sizes.length).toBe(30000);
    const r = analyzeAvalanches(av, { minTail: 200 });
    expect(Math.abs(r.branchingRatioPooled - 1)).toBeLessThan(0.02);
    expect(Math.abs(r.size!.alpha - 1.5)).toBeLessThan(Math.max(0.06, 3 * r.size!.alphaSe));
    expect(Math.abs(r.duration!.alpha - 2)).toBeLessThan(Math.max(0.15, 3 * r.duration!.alphaSe));
    expect(Math.abs(r.crackling!.gamma - 2)).toBeLessThan(0.2);
  });
});
