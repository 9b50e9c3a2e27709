import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { coincidence, coincidenceFactor, distanceMatrix, isiDistance, spikeDistance, spikeSync, vanRossum, victorPurpura } from './distances.ts';

function poissonTrain(rng: Rng, rate: number, T: number): number[] {
  const out: number[] = [];
  for (let t = rng.exponential(rate); t < T; t += rng.exponential(rate)) out.push(t);
  return out;
}

/**
 * SPIKE-distance straight from the definitions (Kreuz et al. 2013) with the SPIKY/PySpike edge rules,
 * evaluated point by point on a fine grid (an independent re-implementation, no shared code).
 */
function spikeDistanceBrute(a: number[], b: number[], t0: number, t1: number, steps: number): number {
  const aux = (s: number[]) => (s.length > 1 ? [Math.min(t0, 2 * s[0] - s[1]), ...s, Math.max(t1, 2 * s[s.length - 1] - s[s.length - 2])] : [t0, ...s, t1]);
  const near = (x: number, o: number[]) => Math.min(...aux(o).map((y) => Math.abs(x - y)));
  const part = (s: number[], o: number[], t: number) => {
    const m = s.length;
    if (t < s[0]) return { s: near(s[0], o), x: m > 1 ? Math.max(s[0] - t0, s[1] - s[0]) : s[0] - t0 };
    if (t >= s[m - 1]) return { s: near(s[m - 1], o), x: m > 1 ? Math.max(t1 - s[m - 1], s[m - 1] - s[m - 2]) : t1 - s[m - 1] };
    let i = 0;
    while (s[i + 1] <= t) i++;
    const x = s[i + 1] - s[i];
    return { s: (near(s[i], o) * (s[i + 1] - t) + near(s[i + 1], o) * (t - s[i])) / x, x };
  };
  let acc = 0;
  const h = (t1 - t0) / steps;
  for (let k = 0; k < steps; k++) {
    const t = t0 + (k + 0.5) * h; // midpoint rule
    const p1 = part(a, b, t);
    const p2 = part(b, a, t);
    const m = (p1.x + p2.x) / 2;
    acc += ((p1.s * p2.x + p2.s * p1.x) / (2 * m * m)) * h;
  }
  return acc / (t1 - t0);
}

describe('Kreuz ISI-, SPIKE-distance and SPIKE-synchronization', () => {
  it('are 0, 0 and 1 for identical trains', () => {
    const a = [0.1, 0.5, 0.9, 1.7];
    expect(isiDistance(a, a, 0, 2)).toBe(0);
    expect(spikeDistance(a, a, 0, 2)).toBe(0);
    expect(spikeSync(a, a, 0, 2)).toBe(1);
  });
  it('ISI-distance hand-worked: [1,2,3] vs [1.5,3] on [0,4] is 1/3', () => {
    // ISIs (1,1,1,1) vs (1.5,1.5,1.5): the last edge interval of train 2 is max(4 - 3, 3 - 1.5) = 1.5,
    // so I(t) = |1 - 1.5|/1.5 = 1/3 everywhere.
    expect(isiDistance([1, 2, 3], [1.5, 3], 0, 4)).toBeCloseTo(1 / 3, 14);
  });
  it('ISI-distance: the pen-and-paper profile of the PySpike test suite (test_distance.py, test_isi)', () => {
    const times = [0.0, 0.2, 0.3, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0];
    const I = [0.1 / 0.3, 0.1 / 0.3, 0.05 / 0.2, 0.05 / 0.2, 0.15 / 0.35, 0.25 / 0.35, 0.05 / 0.35, 0.2 / 0.3, 0.25 / 0.3, 0.25 / 0.3];
    const expected = I.reduce((s, v, k) => s + v * (times[k + 1] - times[k]), 0);
    expect(isiDistance([0.2, 0.4, 0.6, 0.7], [0.3, 0.45, 0.8, 0.9, 0.95], 0, 1)).toBeCloseTo(expected, 14);
  });
  it('SPIKE-distance hand-worked: one spike at 2 vs none on [0,4] is 4/9', () => {
    // Train 1: edge intervals of length 2, S_1 = Δt of the spike to the other train's edge spikes = 2;
    // the empty train: one interval of 4, S_2 = 0. S = (2·4)/(2·3²) = 4/9 everywhere.
    expect(spikeDistance([2], [], 0, 4)).toBeCloseTo(4 / 9, 14);
  });
  it('SPIKE-distance: SPIKY reference value 0.186309523809523814 for [0,2,5,8] vs [0,1,5,9] on [0,10]', () => {
    // value computed by SPIKY (Kreuz et al.), quoted in PySpike's test_distance.py (test_spike)
    expect(spikeDistance([0, 2, 5, 8], [0, 1, 5, 9], 0, 10)).toBeCloseTo(0.186309523809523814, 14);
  });
  it('SPIKE-distance: the pen-and-paper examples of the PySpike test suite (test_spike)', () => {
    const mean = (times: number[], y1: number[], y2: number[]) =>
      times.slice(1).reduce((s, t, k) => s + ((y1[k] + y2[k]) / 2) * (t - times[k]), 0) / (times[times.length - 1] - times[0]);
    const profile = (s1l: number[], s1r: number[], s2l: number[], s2r: number[], isi1: number[], isi2: number[]) => {
      const y1 = isi1.map((x1, k) => (s1r[k] * isi2[k] + s2r[k] * x1) / (0.5 * (x1 + isi2[k]) ** 2));
      const y2 = isi1.map((x1, k) => (s1l[k + 1] * isi2[k] + s2l[k + 1] * x1) / (0.5 * (x1 + isi2[k]) ** 2));
      return [y1, y2];
    };
    {
      const times = [0.0, 0.2, 0.3, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0];
      const s1 = [0.1, 0.1, (0.1 * 0.1 + 0.05 * 0.1) / 0.2, 0.05, (0.05 * 0.15 * 2) / 0.2, 0.15, 0.1, (0.1 * 0.1 + 0.1 * 0.2) / 0.3, (0.1 * 0.2 + 0.1 * 0.1) / 0.3, (0.1 * 0.05 + 0.1 * 0.25) / 0.3, 0.1];
      const s2 = [0.1, (0.1 * 0.2 + 0.1 * 0.1) / 0.3, 0.1, (0.1 * 0.05 * 2) / 0.15, 0.05, (0.05 * 0.2 + 0.1 * 0.15) / 0.35, (0.05 * 0.1 + 0.1 * 0.25) / 0.35, 0.1, 0.1, 0.05, 0.05];
      const isi1 = [0.2, 0.2, 0.2, 0.2, 0.2, 0.1, 0.3, 0.3, 0.3, 0.3];
      const isi2 = [0.3, 0.3, 0.15, 0.15, 0.35, 0.35, 0.35, 0.1, 0.05, 0.05];
      const [y1, y2] = profile(s1, s1, s2, s2, isi1, isi2);
      expect(spikeDistance([0.2, 0.4, 0.6, 0.7], [0.3, 0.45, 0.8, 0.9, 0.95], 0, 1)).toBeCloseTo(mean(times, y1, y2), 14);
    }
    {
      // equal spike times in both trains
      const times = [0.0, 0.1, 0.2, 0.4, 0.5, 0.6, 1.0];
      const s1 = [0.1, (0.1 * 0.1 + 0.1 * 0.1) / 0.2, 0.1, 0.0, 0.0, 0.0, 0.0];
      const s2 = [0.1, (0.1 * 0.3) / 0.3, (0.1 * 0.2) / 0.3, 0.0, 0.1, 0.0, 0.0];
      const [y1, y2] = profile(s1, s1, s2, s2, [0.2, 0.2, 0.2, 0.2, 0.2, 0.4], [0.3, 0.3, 0.3, 0.1, 0.1, 0.4]);
      expect(spikeDistance([0.2, 0.4, 0.6], [0.1, 0.4, 0.5, 0.6], 0, 1)).toBeCloseTo(mean(times, y1, y2), 14);
    }
  });
  it('SPIKE-distance agrees with a brute-force evaluation of its definition on random trains', () => {
    const rng = new Rng(4);
    for (let k = 0; k < 2; k++) {
      const a = poissonTrain(rng, 8, 3);
      const b = poissonTrain(rng, 5, 3);
      expect(spikeDistance(a, b, 0, 3)).toBeCloseTo(spikeDistanceBrute(a, b, 0, 3, 240000), 5);
    }
  });
  it('SPIKE-synchronization: PySpike test_spike_sync example [1,2,3] vs [2.1] on [0,4] is 1/2', () => {
    // only 2 and 2.1 are coincident (0.1 < τ = 0.5): 2 of 4 spikes
    expect(spikeSync([1, 2, 3], [2.1], 0, 4)).toBeCloseTo(0.5, 14);
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

describe('coincidence factor Γ (Kistler et al. 1997)', () => {
  it('known coincidences: 5 of 10 data spikes matched within Δ gives the closed form', () => {
    const data = Array.from({ length: 10 }, (_, i) => 1 + i);
    const model = data.map((t, i) => (i < 5 ? t + 0.0005 : t + 0.3)); // 5 within Δ = 1 ms, 5 far away
    const r = coincidence(data, model, 0.001, 0, 20);
    expect(r.nCoinc).toBe(5);
    const nu = 10 / 20;
    const chance = 2 * nu * 0.001;
    expect(r.chance).toBeCloseTo(chance, 15);
    expect(r.gamma).toBeCloseTo((5 - chance * 10) / (0.5 * 20) / (1 - chance), 12);
  });
  it('is at most 1 whenever 2νΔ < 1 (random trains and windows), and undefined with a reason when 2νΔ >= 1 or both trains are empty', () => {
    const rng = new Rng(12);
    for (let k = 0; k < 200; k++) {
      const a = poissonTrain(rng, 5 + 200 * rng.random(), 2);
      const b = poissonTrain(rng, 5 + 200 * rng.random(), 2);
      const delta = 0.02 * rng.random() + 1e-5;
      const r = coincidence(a, b.length ? b : a, delta, 0, 2);
      if (r.chance < 1) expect(r.gamma).toBeLessThanOrEqual(1 + 1e-12);
      else expect(r.gamma).toBeNaN();
    }
    // 1,445 Hz with the old 2 ms window: 2νΔ = 5.8, the case that read Γ = 3.16
    const fast = Array.from({ length: 1445 }, (_, i) => i / 1445);
    const r = coincidence(fast, fast.map((t) => t + 1e-4), 0.002, 0, 1);
    expect(r.gamma).toBeNaN();
    expect(r.reason).toMatch(/2νΔ = 5\.78 ≥ 1/);
    const e = coincidence([], [], 0.002, 0, 1);
    expect(e.gamma).toBeNaN();
    expect(e.reason).toBe('undefined: both trains are empty');
  });
});

describe('distanceMatrix', () => {
  it('two empty trains are undefined (NaN, left out of the mean) with a warning, not a perfect match', () => {
    const r = distanceMatrix([[], [], [0.5]], 'isi', { tStart: 0, tEnd: 1 });
    expect(r.matrix[0][1]).toBeNaN();
    expect(Number.isFinite(r.matrix[0][2])).toBe(true);
    expect(r.mean).toBeCloseTo((r.matrix[0][2] + r.matrix[1][2]) / 2, 14);
    expect(r.warnings[0]).toMatch(/trains 1, 2 empty/);
  });
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
