/**
 * Profile-likelihood confidence intervals (docs/twin/calibration.md "Identifiability"): for parameter i, the
 * profile PL(θ_i) = min over the other parameters of the objective; the 95 % interval is where
 * PL(θ_i) − min ≤ Δ (Raue et al., "Structural and practical identifiability analysis of partially observed
 * dynamical models by exploiting the profile likelihood", Bioinformatics 25, 1923 (2009)). Unlike the local
 * Hessian it needs no curvature at the fit, only an objective that is a sum of squares in the parameters'
 * neighbourhood, and it follows a curved or one-sided valley; an interval that does not close inside the
 * bounds says the parameter is not determined on that side.
 *
 * Each profile is walked outwards from the fit in the unit box of the search (calibration.ts): steps that
 * grow as a quadratic profile predicts, the other parameters re-optimised at every step by a small CMA-ES
 * (./optimize.ts) started from the previous step's optimum extrapolated, then the crossing of Δ refined by
 * regula falsi on √(PL − min), which is linear in the step for a quadratic profile. All 2p walks run at once,
 * so every population goes to the worker pool together. Pure computation given `evaluate`.
 */
import { Rng } from '../../common/random.ts';
import { minimize, reflect } from './optimize.ts';

export interface ProfileOptions {
  /**
   * Rise of the objective above its minimum that bounds the interval; a function of the minimum's value when it
   * scales with it (a variance estimated from the fit): walks re-centred on a lower point then use that point's.
   */
  threshold: number | ((f: number) => number);
  seed?: number;
  /** First step, unit box (default 0.02). */
  step0?: number;
  /** Evaluations of each inner re-optimisation (default 40 + 20 per other parameter). */
  innerEvals?: number;
  /** Evaluations of all the walks together at most (default unlimited; each walk gets its share): a walk cut short leaves its end unknown. */
  maxEvals?: number;
  signal?: { readonly aborted: boolean; readonly reason?: unknown };
}

/**
 * The interval of one parameter in the unit box; a null end: the profile stays below the threshold up to that
 * bound; undefined: the walk was cut short by the evaluation budget.
 */
export interface ProfileInterval {
  lo: number | null | undefined;
  hi: number | null | undefined;
  /** Widened by multiStartCheck to cover equally good minima the walks did not reach. */
  multimodal?: boolean;
}

/** Thrown inside the walks when the budget is spent. */
class Spent extends Error {}

type Evaluate = (xs: number[][]) => Promise<number[]>;

/** The profile at x_i = u: the objective minimised over the other coordinates from `guess`. */
async function profileAt(evaluate: Evaluate, i: number, u: number, guess: readonly number[], sigma0: number, seed: number, opts: ProfileOptions): Promise<{ f: number; x: number[] }> {
  const at = [...guess];
  at[i] = u;
  const others = at.flatMap((_, j) => (j === i ? [] : [j]));
  const [fGuess] = await evaluate([at]);
  if (others.length === 0) return { f: fGuess, x: at };
  const full = (v: readonly number[]) => {
    const y = [...at];
    others.forEach((j, k) => (y[j] = v[k]));
    return y;
  };
  const r = await minimize(async (vs) => evaluate(vs.map(full)), others.map((j) => at[j]), {
    seed,
    sigma0,
    tolX: sigma0 * 1e-3,
    maxEvals: opts.innerEvals ?? 40 + 20 * others.length,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return r.f < fGuess ? { f: r.f, x: full(r.x) } : { f: fGuess, x: at };
}

/** One side (dir ±1) of parameter i's profile from the minimum (x0, f0): the unit coordinate where it crosses the threshold, or null at the bound. */
async function walk(evaluate: Evaluate, x0: readonly number[], f0: number, i: number, dir: 1 | -1, seed: number, opts: ProfileOptions & { threshold: number }): Promise<number | null> {
  const th = opts.threshold;
  const room = dir > 0 ? 1 - x0[i] : x0[i];
  if (room <= 0) return null;
  type Pt = { s: number; d: number; x: number[] };
  let lo: Pt = { s: 0, d: 0, x: [...x0] };
  let before: Pt | null = null;
  let hi: Pt | null = null;
  let s = Math.min(opts.step0 ?? 0.02, room);
  let k = 0;
  const step = async (to: number): Promise<Pt> => {
    // the other parameters' optimum moves along the valley: extrapolate it from the last two steps (inside the box)
    const guess = before && lo.s > before.s ? lo.x.map((v, j) => Math.min(1, Math.max(0, v + ((v - before!.x[j]) * (to - lo.s)) / (lo.s - before!.s)))) : lo.x;
    // the valley may run steeply in the others (a tight product like R·C): their search starts wider than the step
    const sigma0 = Math.min(0.2, Math.max(4 * Math.abs(to - lo.s), 1e-6));
    let r = await profileAt(evaluate, i, x0[i] + dir * to, guess, sigma0, seed + k++, opts);
    // a point at or above the threshold ends the walk there: make sure it is not an inner fit that lost the valley
    // (one that hugs a cliff, say, where the extrapolated guess lands beyond it) by fitting again from the last
    // point below
    if (r.f - f0 >= th) {
      const again = await profileAt(evaluate, i, x0[i] + dir * to, lo.x, sigma0, seed + k++, opts);
      if (again.f < r.f) r = again;
    }
    return { s: to, d: r.f - f0, x: r.x };
  };
  for (let iter = 0; iter < 40 && !hi; iter++) {
    const p = await step(s);
    if (p.d >= th) hi = p;
    else {
      if (s >= room) return null;
      before = lo;
      lo = { ...p, d: Math.max(0, p.d) };
      // a quadratic profile reaches the threshold at s·√(Δ/d): go there, within ×1.3 … ×4
      s = Math.min(room, s * Math.min(4, Math.max(1.3, Math.sqrt(th / Math.max(lo.d, th / 16)))));
    }
  }
  if (!hi) return null;
  const cross = (a: Pt, b: Pt) => a.s + ((b.s - a.s) * (Math.sqrt(th) - Math.sqrt(a.d))) / (Math.sqrt(b.d) - Math.sqrt(a.d));
  // A step that lands far past the threshold (beyond a cliff: no values of the others reproduce the data there)
  // leaves √PL far from linear between the ends, and regula falsi would creep from the low end: bisect instead
  // while the high end is above 4Δ. Stop once a point lies within 2 % of √Δ, or the ends within 1e-3 of the box.
  for (let r = 0; r < 8 && hi.s - lo.s > 1e-3; r++) {
    const p = await step(hi.d > 4 * th ? (lo.s + hi.s) / 2 : cross(lo, hi));
    if (p.d >= th) hi = p;
    else {
      before = lo;
      lo = { ...p, d: Math.max(0, p.d) };
    }
    if (Math.abs(Math.sqrt(p.d) - Math.sqrt(th)) < 0.02 * Math.sqrt(th)) break;
  }
  return x0[i] + dir * cross(lo, hi);
}

/**
 * The profile interval of every coordinate around the minimum x0 (value f0) of `evaluate` in the unit box.
 * `evaluate` gets whole populations and returns their values in order. A walk that finds a point lower than
 * f0 by more than a tenth of the threshold shows x0 was not the minimum: the profiles are walked again from
 * there (at most twice); `x` and `f` are the minimum they were walked from. If the last walks still find such a
 * point, `x` and `f` are that lowest point and `stale` is set: the intervals are those of the centre before it.
 */
export async function profileIntervals(evaluate: Evaluate, x0: readonly number[], f0: number, opts: ProfileOptions): Promise<{ intervals: ProfileInterval[]; x: number[]; f: number; stale?: true }> {
  const seed = opts.seed ?? 1;
  let centre = { x: [...x0], f: f0 };
  for (let round = 0; ; round++) {
    let best = centre;
    // the budget is split between the walks, so which of them it cuts short does not depend on timing
    const perWalk = (opts.maxEvals ?? Infinity) / (2 * centre.x.length);
    const from = centre;
    const th = typeof opts.threshold === 'function' ? opts.threshold(from.f) : opts.threshold;
    const side = (i: number, dir: 1 | -1) => {
      let used = 0;
      const seen: Evaluate = async (xs) => {
        if ((used += xs.length) > perWalk) throw new Spent();
        const fs = await evaluate(xs);
        fs.forEach((f, k) => f < best.f && (best = { x: xs[k], f }));
        return fs;
      };
      return walk(seen, from.x, from.f, i, dir, seed + 1000 * i + (dir > 0 ? 500 : 0), { ...opts, threshold: th }).catch((e: unknown) => (e instanceof Spent ? undefined : Promise.reject(e)));
    };
    const intervals = await Promise.all(
      from.x.map(async (_, i) => {
        const [lo, hi] = await Promise.all([side(i, -1), side(i, 1)]);
        return { lo, hi };
      }),
    );
    if (!(best.f < from.f - th / 10)) return { intervals, x: from.x, f: from.f };
    if (round >= 2) return { intervals, x: [...best.x], f: best.f, stale: true };
    centre = best;
  }
}

export interface MultiStartOptions {
  /** Local fits (default 4). */
  starts?: number;
  /** Standard deviation of the starts around the fit, unit box (default 0.15). */
  spread?: number;
  /** Evaluations of each local fit. */
  evals: number;
  seed?: number;
  signal?: { readonly aborted: boolean; readonly reason?: unknown };
}

/**
 * Multi-start local fits (Raue et al., "Lessons learned from quantitative dynamical modeling in systems
 * biology", PLoS ONE 8, e74335 (2013): local optimisations from many starts, sorted by their optimum, show
 * whether the best fit is found repeatedly and whether distinct parameter sets fit equally well): one local
 * CMA-ES from each of `starts` seeded points drawn around x0 (Gaussian, `spread` wide, folded into the box),
 * all run at once. Returns each local minimum; multiStartCheck compares them with the profile intervals.
 */
export async function multiStart(evaluate: Evaluate, x0: readonly number[], opts: MultiStartOptions): Promise<{ x: number[]; f: number }[]> {
  const rng = new Rng(opts.seed ?? 1);
  const spread = opts.spread ?? 0.15;
  const starts = Array.from({ length: opts.starts ?? 4 }, () => x0.map((v) => reflect(v + spread * rng.normal())));
  return Promise.all(
    starts.map(async (s, k) => {
      const r = await minimize(evaluate, s, { seed: (opts.seed ?? 1) + 1 + k, sigma0: spread / 3, tolX: 1e-6, maxEvals: opts.evals, ...(opts.signal ? { signal: opts.signal } : {}) });
      return { x: r.x, f: r.f };
    }),
  );
}

/**
 * The profile intervals made to hold every local minimum as good as the best (objective within `threshold` of
 * `f`): such a point lies in the likelihood-based confidence region, so PL(θ_i) ≤ its value there and θ_i
 * belongs in the interval by the interval's own definition; a walk from one minimum cannot see a disjoint
 * valley, so it is added here. Returns the widened intervals (`multimodal` on those widened by more than `tol`
 * of the unit box) and, per widened parameter, the range of the equally good minima (unit box).
 */
export function multiStartCheck(
  intervals: readonly ProfileInterval[],
  minima: readonly { x: readonly number[]; f: number }[],
  f: number,
  threshold: number,
  tol = 0.01,
): { intervals: ProfileInterval[]; spread: ([number, number] | null)[]; good: number } {
  const good = minima.filter((m) => m.f <= f + threshold);
  const spread: ([number, number] | null)[] = intervals.map(() => null);
  const out = intervals.map((iv, i) => {
    const xs = good.map((m) => m.x[i]);
    if (!xs.length || iv.lo === undefined || iv.hi === undefined) return { ...iv };
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const below = iv.lo !== null && lo < iv.lo - tol;
    const above = iv.hi !== null && hi > iv.hi + tol;
    if (!below && !above) return { ...iv };
    spread[i] = [lo, hi];
    return { lo: below ? lo : iv.lo, hi: above ? hi : iv.hi, multimodal: true };
  });
  return { intervals: out, spread, good: good.length };
}

/**
 * The 0.975 quantile of Student's t with ν degrees of freedom, by the Cornish–Fisher expansion about the
 * normal quantile (Abramowitz & Stegun 26.7.5; within 1e-3 for ν ≥ 3): t² is the F(1, ν) quantile that bounds
 * a 95 % profile interval when the noise variance is estimated from ν residual degrees of freedom.
 */
export function t975(nu: number): number {
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3);
}
