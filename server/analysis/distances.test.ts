import { describe, expect, it } from 'vitest';
import { Rng } from './math.ts';
import { coincidenceFactor, distanceMatrix, isiDistance, spikeDistance, spikeSync, vanRossum, victorPurpura } from './distances.ts';

function poissonTrain(rng: Rng, rate: number, T: number): number[] {
  const out: number[] = [];
  for (let t = rng.exponential(rate); t < T; t += rng.exponential(rate)) out.push(t);
  return out;
}

/** SPIKE-distance straight from the definitions of Kreuz et al. (2013), on a fine grid (independent check). */
function spikeDistanceBrute(a: number[], b: number[], t0: number, t1: number, steps: number): number {
  const A = [t0, ...a, t1];
  const B = [t0, ...b, t1];
  const near = (x: number, o: number[]) => Math.min(...o.map((y) => Math.abs(x - y)));
  const S = (t: number) => {
    const part = (s: number[], o: number[]) => {
      let i = 0;
      while (s[i + 1] <= t && i + 2 < s.length) i++;
      const tp = s[i];
      const tf = s[i + 1];
      const x = tf - tp;
      return { s: (near(tp, o) * (tf - t) + near(tf, o) * (t - tp)) / x, x };
    };
    const p1 = part(A, B);
    const p2 = part(B, A);
    const m = (p1.x + p2.x) / 2;
    return (p1.s * p2.x + p2.s * p1.x) / (2 * m * m);
  };
  let acc = 0;
  const h = (t1 - t0) / steps;
  for (let k = 0; k < steps; k++) acc += S(t0 + (k + 0.5) * h) * h; // midpoint rule
  return acc / (t1 - t0);
}

describe('Kreuz ISI-, SPIKE-distance and SPIKE-synchronization', () => {
  it('are 0, 0 and 1 for identical trains', () => {
    const a = [0.1, 0.5, 0.9, 1.7];
    expect(isiDistance(a, a, 0, 2)).toBe(0);
    expect(spikeDistance(a, a, 0, 2)).toBe(0);
    expect(spikeSync(a, a, 0, 2)).toBe(1);
  });
  it('ISI-distance hand-worked: [1,2,3] vs [1.5,3] on [0,4] is 0.25', () => {
    // with edge spikes at 0 and 4: ISIs (1,1,1,1) vs (1.5,1.5,1); I(t) = |1 - 1.5|/1.5 = 1/3 on [0,3), 0 on [3,4)
    expect(isiDistance([1, 2, 3], [1.5, 3], 0, 4)).toBeCloseTo(0.25, 14);
  });
  it('SPIKE-distance hand-worked: one spike at 2 vs none on [0,4] is 2/9', () => {
    // S_1(t) = t on [0,2] (Δt_F = 2, x_ISI = 2), S_2 = 0, x_ISI^(2) = 4: S = 4t/(2·3²) = 2t/9,
    // ∫_0^2 = 4/9, symmetric on [2,4]; D_S = (8/9)/4 = 2/9.
    expect(spikeDistance([2], [], 0, 4)).toBeCloseTo(2 / 9, 14);
  });
  it('SPIKE-distance agrees with a brute-force evaluation of its definition on random trains', () => {
    const rng = new Rng(4);
    for (let k = 0; k < 2; k++) {
      const a = poissonTrain(rng, 8, 3);
      const b = poissonTrain(rng, 5, 3);
      expect(spikeDistance(a, b, 0, 3)).toBeCloseTo(spikeDistanceBrute(a, b, 0, 3, 60000), 5);
    }
  });
  it('SPIKE-synchronization hand-worked: [1,2,3] vs [1.01,2.5] on [0,4] is 2/5', () => {
    // 1 and 1.01 coincide (0.01 < τ = 0.5); 2 and 3 are 0.5 from 2.5 with τ = 0.5 (not < τ): 2 of 5 spikes.
    expect(spikeSync([1, 2, 3], [1.01, 2.5], 0, 4)).toBeCloseTo(0.4, 14);
  });
});

describe('van Rossum and Victor-Purpura', () => {
  it('van Rossum: two single spikes d apart give sqrt(1 - e^{-d/τ}); one spike vs none gives sqrt(1/2)', () => {
    // (1/τ)∫(e^{-(t-t1)/τ}H - e^{-(t-t2)/τ}H)² dt = ½ + ½ - e^{-d/τ}
    expect(vanRossum([1], [1.3], 0.2)).toBeCloseTo(Math.sqrt(1 - Math.exp(-0.3 / 0.2)), 14);
    expect(vanRossum([1], [], 0.2)).toBeCloseTo(Math.SQRT1_2, 14);
  });
  it('van Rossum agrees with numerical integration of the filtered trains', () => {
    const rng = new Rng(2);
    const a = poissonTrain(rng, 10, 1);
    const b = poissonTrain(rng, 10, 1);
    const tau = 0.02;
    const h = 1e-5;
    let s = 0;
    for (let t = 0; t < 1.5; t += h) {
      let f = 0;
      for (const x of a) if (x <= t) f += Math.exp(-(t - x) / tau);
      for (const x of b) if (x <= t) f -= Math.exp(-(t - x) / tau);
      s += f * f * h;
    }
    expect(vanRossum(a, b, tau)).toBeCloseTo(Math.sqrt(s / tau), 2);
  });
  it('Victor-Purpura hand-worked: [1,2] vs [1.5]', () => {
    // q = 1/s: shift 1 → 1.5 (0.5) + delete 2 (1) = 1.5; q = 0: only the count difference, 1;
    // q = 100/s: shifting costs more than delete + insert, so 2 + 1 = 3.
    expect(victorPurpura([1, 2], [1.5], 1)).toBeCloseTo(1.5, 14);
    expect(victorPurpura([1, 2], [1.5], 0)).toBe(1);
    expect(victorPurpura([1, 2], [1.5], 100)).toBe(3);
  });
  it('coincidence factor Γ is 1 for a perfect prediction and near 0 for independent Poisson trains', () => {
    const rng = new Rng(6);
    const a = poissonTrain(rng, 20, 50);
    expect(coincidenceFactor(a, a, 0.002, 0, 50)).toBeCloseTo(1, 12);
    const b = poissonTrain(rng, 20, 50);
    // chance level: E[Γ] = 0, SD ≈ sqrt(2νΔ N)/N / (1 - 2νΔ) ≈ 0.04 here
    expect(Math.abs(coincidenceFactor(a, b, 0.002, 0, 50))).toBeLessThan(0.2);
  });
});

describe('distanceMatrix', () => {
  it('is symmetric with the right diagonal and the mean over pairs', () => {
    const trains = [[0.1, 0.4], [0.2, 0.45, 0.8], [0.9]];
    const r = distanceMatrix(trains, 'spike', { tStart: 0, tEnd: 1 });
    expect(r.matrix[0][1]).toBe(r.matrix[1][0]);
    expect(r.matrix[2][2]).toBe(0);
    expect(r.matrix[0][2]).toBeCloseTo(spikeDistance(trains[0], trains[2], 0, 1), 14);
    expect(r.mean).toBeCloseTo((r.matrix[0][1] + r.matrix[0][2] + r.matrix[1][2]) / 3, 14);
    const s = distanceMatrix(trains, 'spike-sync', { tStart: 0, tEnd: 1 });
    expect(s.matrix[1][1]).toBe(1);
  });
});
