import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { minimize, reflect } from './optimize.ts';

const batch = (f: (x: number[]) => number) => async (xs: number[][]) => xs.map(f);

describe('CMA-ES on the unit box', () => {
  it('folds any coordinate into [0, 1] by reflection', () => {
    expect([0.3, 1.2, -0.2, 2.3, -1.7, 1, 0].map((u) => Number(reflect(u).toFixed(12)))).toEqual([0.3, 0.8, 0.2, 0.3, 0.3, 1, 0]);
  });

  it('finds the minimum of a shifted ill-conditioned ellipsoid to 1e-4', async () => {
    const target = [0.2, 0.7, 0.55, 0.35];
    const f = (x: number[]) => x.reduce((s, xi, i) => s + 10 ** (i * 1.5) * (xi - target[i]) ** 2, 0);
    const r = await minimize(batch(f), [0.8, 0.1, 0.9, 0.9], { seed: 7, maxEvals: 4000 });
    expect(r.stop).toMatch(/tolX|tolFun/);
    r.x.forEach((xi, i) => expect(Math.abs(xi - target[i])).toBeLessThan(1e-4));
  });

  it('finds the valley of Rosenbrock in 4 dimensions (scaled into the box)', async () => {
    const f = (x: number[]) => {
      const z = x.map((xi) => 4 * xi - 2); // [-2, 2]^4, minimum at z = 1 (x = 0.75)
      let s = 0;
      for (let i = 0; i + 1 < z.length; i++) s += 100 * (z[i + 1] - z[i] ** 2) ** 2 + (1 - z[i]) ** 2;
      return s;
    };
    const r = await minimize(batch(f), [0.3, 0.3, 0.3, 0.3], { seed: 3, maxEvals: 8000, restarts: 2 });
    r.x.forEach((xi) => expect(Math.abs(xi - 0.75)).toBeLessThan(1e-3));
  });

  it('stays in the box and reaches a minimum on its edge', async () => {
    const seen: number[][] = [];
    const f = (x: number[]) => (seen.push(x), (x[0] + 0.5) ** 2 + (x[1] - 0.4) ** 2);
    // the kink the fold makes at the bound slows the other coordinate: a tighter tolX
    const r = await minimize(batch(f), [0.5, 0.5], { seed: 1, maxEvals: 1500, tolX: 1e-6 });
    expect(seen.every((x) => x.every((xi) => xi >= 0 && xi <= 1))).toBe(true);
    expect(r.x[0]).toBeLessThan(1e-3);
    expect(Math.abs(r.x[1] - 0.4)).toBeLessThan(1e-3);
  });

  it('is reproducible: the same seed gives the same candidates; another seed others', async () => {
    const run = async (seed: number) => {
      const seen: string[] = [];
      const f = (x: number[]) => (seen.push(x.join()), (x[0] - 0.3) ** 2 + Math.abs(x[1] - 0.6));
      const r = await minimize(batch(f), [0.9, 0.1], { seed, maxEvals: 200 });
      return { seen, r };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(b.seen).toEqual(a.seen);
    expect(b.r).toEqual(a.r);
    expect(c.seen[0]).not.toEqual(a.seen[0]);
  });

  it('copes with a noisy, stepped objective (spike counts) and with failed evaluations', async () => {
    const noise = new Rng(2);
    const f = (x: number[]) => {
      if (x[0] > 0.95) return NaN; // a simulation that failed
      return Math.round(200 * Math.abs(x[0] - 0.42)) / 200 + Math.abs(x[1] - 0.6) + 1e-4 * noise.normal();
    };
    const r = await minimize(batch(f), [0.9, 0.1], { seed: 4, maxEvals: 1200 });
    expect(Math.abs(r.x[0] - 0.42)).toBeLessThan(0.01);
    expect(Math.abs(r.x[1] - 0.6)).toBeLessThan(0.01);
  });

  it('stops when its signal is aborted, and reports progress per generation', async () => {
    const ac = new AbortController();
    const progress: number[] = [];
    const f = (x: number[]) => x[0] ** 2;
    const p = minimize(batch(f), [0.5], {
      seed: 1,
      maxEvals: 10_000,
      signal: ac.signal,
      onProgress: (q) => {
        progress.push(q.evals);
        if (q.generation === 3) ac.abort(new Error('stopped by the user'));
      },
    });
    await expect(p).rejects.toThrow('stopped by the user');
    expect(progress).toEqual([4, 8, 12]);
  });
});
