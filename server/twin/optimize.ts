/**
 * Derivative-free minimisation for twin calibration: CMA-ES (covariance matrix adaptation evolution
 * strategy) with IPOP restarts, on a box.
 *
 * - CMA-ES, default strategy parameters and update equations of N. Hansen, "The CMA Evolution Strategy: A
 *   Tutorial", arXiv:1604.00772 (2016), Table 1 and Fig. 6 (rank-one + rank-μ update, cumulative step-size
 *   adaptation, the h_σ stall of the rank-one path).
 * - IPOP restarts: A. Auger and N. Hansen, "A restart CMA evolution strategy with increasing population
 *   size", IEEE CEC 2005: after a run stops on its own, start again from the best point with twice the
 *   population.
 * - Bounds by transformation: the search runs in an unbounded space u whose coordinates are folded into
 *   [0, 1] by reflection (u mod 2, mirrored above 1); the caller maps [0, 1] onto each parameter's bounds
 *   (linearly or logarithmically). Every candidate evaluated is inside the box; nothing is clamped.
 *
 * Why CMA-ES: a few to a dozen parameters, objectives that are noisy and non-smooth (spike counts change in
 * steps), and a whole population evaluated at once, which the worker pool runs in parallel. No maintained npm
 * package offers it (the one derivative-free minimiser there, fmin, is an unseeded, unbounded Nelder–Mead last
 * published in 2016), so this is a small one. Seeded by common/random.ts: the same seed and objective give the
 * same sequence of candidates. Pure computation.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Rng } from '../../common/random.ts';

/** Folds an unbounded coordinate into [0, 1] by reflection at 0 and 1. */
export function reflect(u: number): number {
  const t = ((u % 2) + 2) % 2;
  return t > 1 ? 2 - t : t;
}

export interface CmaOptions {
  /** Seed of the sampling stream (common/random.ts). */
  seed?: number;
  /** Initial step size in the unit box (default 0.25: a quarter of every parameter's range). */
  sigma0?: number;
  /** Population size λ of the first run (default 4 + ⌊3 ln n⌋). */
  popSize?: number;
  /** Stop when the search distribution's widest axis σ·√max(C_ii) falls below this (unit box; default 1e-4). */
  tolX?: number;
  /** Stop when the best values of the last 10 + ⌈30n/λ⌉ generations and the current one all lie within this (default 1e-12, absolute). */
  tolFun?: number;
}

/** One CMA-ES run: ask for a population, tell its values, until `stop` is set. Coordinates in the unit box. */
export class Cmaes {
  readonly n: number;
  readonly lambda: number;
  private readonly mu: number;
  private readonly w: number[];
  private readonly mueff: number;
  private readonly cs: number;
  private readonly ds: number;
  private readonly cc: number;
  private readonly c1: number;
  private readonly cmu: number;
  private readonly chiN: number;
  private m: number[];
  private sigma: number;
  private C: Matrix;
  private B: Matrix;
  private D: number[];
  private ps: number[];
  private pc: number[];
  private gen = 0;
  private readonly history: number[] = [];
  private readonly tolX: number;
  private readonly tolFun: number;
  private asked: { u: number[]; y: number[] }[] = [];
  /** Why the run ended: 'tolX' | 'tolFun' | 'degenerate', or undefined while it goes on. */
  stop: string | undefined;

  constructor(
    x0: readonly number[],
    private readonly rng: Rng,
    opts: CmaOptions = {},
  ) {
    const n = (this.n = x0.length);
    if (n < 1) throw new RangeError('CMA-ES needs at least one parameter');
    this.lambda = Math.max(2, Math.floor(opts.popSize ?? 4 + Math.floor(3 * Math.log(n))));
    this.mu = Math.floor(this.lambda / 2);
    const raw = Array.from({ length: this.mu }, (_, i) => Math.log((this.lambda + 1) / 2) - Math.log(i + 1));
    const sw = raw.reduce((a, b) => a + b, 0);
    this.w = raw.map((x) => x / sw);
    this.mueff = 1 / this.w.reduce((a, b) => a + b * b, 0);
    const me = this.mueff;
    this.cs = (me + 2) / (n + me + 5);
    this.ds = 1 + 2 * Math.max(0, Math.sqrt((me - 1) / (n + 1)) - 1) + this.cs;
    this.cc = (4 + me / n) / (n + 4 + (2 * me) / n);
    this.c1 = 2 / ((n + 1.3) ** 2 + me);
    this.cmu = Math.min(1 - this.c1, (2 * (me - 2 + 1 / me)) / ((n + 2) ** 2 + me));
    this.chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    this.m = [...x0];
    this.sigma = opts.sigma0 ?? 0.25;
    this.C = Matrix.eye(n);
    this.B = Matrix.eye(n);
    this.D = new Array(n).fill(1);
    this.ps = new Array(n).fill(0);
    this.pc = new Array(n).fill(0);
    this.tolX = opts.tolX ?? 1e-4;
    this.tolFun = opts.tolFun ?? 1e-12;
  }

  /** The mean of the search distribution, folded into the unit box. */
  get mean(): number[] {
    return this.m.map(reflect);
  }

  /** λ new candidates in the unit box. */
  ask(): number[][] {
    const n = this.n;
    this.asked = [];
    for (let k = 0; k < this.lambda; k++) {
      const z = Array.from({ length: n }, () => this.rng.normal());
      const y = new Array(n).fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += this.B.get(i, j) * this.D[j] * z[j];
      this.asked.push({ u: this.m.map((mi, i) => mi + this.sigma * y[i]), y });
    }
    return this.asked.map((a) => a.u.map(reflect));
  }

  /** The values of the last asked population, in the same order (non-finite counts as +Infinity). */
  tell(values: readonly number[]): void {
    const n = this.n;
    if (values.length !== this.asked.length) throw new RangeError(`tell: ${values.length} values for ${this.asked.length} candidates`);
    const f = values.map((v) => (Number.isFinite(v) ? v : Infinity));
    const order = f.map((_, i) => i).sort((a, b) => f[a] - f[b] || a - b);
    const yw = new Array(n).fill(0);
    for (let k = 0; k < this.mu; k++) {
      const y = this.asked[order[k]].y;
      for (let i = 0; i < n; i++) yw[i] += this.w[k] * y[i];
    }
    this.m = this.m.map((mi, i) => mi + this.sigma * yw[i]);
    // C^{-1/2} yw = B D^{-1} Bᵀ yw
    const bt = new Array(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) bt[j] += this.B.get(i, j) * yw[i];
    const cInvHalf = new Array(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cInvHalf[i] += (this.B.get(i, j) * bt[j]) / this.D[j];
    const a = Math.sqrt(this.cs * (2 - this.cs) * this.mueff);
    this.ps = this.ps.map((p, i) => (1 - this.cs) * p + a * cInvHalf[i]);
    const psNorm = Math.hypot(...this.ps);
    this.gen++;
    const hs = psNorm / Math.sqrt(1 - (1 - this.cs) ** (2 * this.gen)) < (1.4 + 2 / (n + 1)) * this.chiN ? 1 : 0;
    const b = Math.sqrt(this.cc * (2 - this.cc) * this.mueff);
    this.pc = this.pc.map((p, i) => (1 - this.cc) * p + hs * b * yw[i]);
    const dh = (1 - hs) * this.cc * (2 - this.cc);
    const next = new Matrix(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let rankMu = 0;
        for (let k = 0; k < this.mu; k++) {
          const y = this.asked[order[k]].y;
          rankMu += this.w[k] * y[i] * y[j];
        }
        const c = (1 - this.c1 - this.cmu) * this.C.get(i, j) + this.c1 * (this.pc[i] * this.pc[j] + dh * this.C.get(i, j)) + this.cmu * rankMu;
        next.set(i, j, c);
        next.set(j, i, c);
      }
    this.C = next;
    this.sigma *= Math.exp((this.cs / this.ds) * (psNorm / this.chiN - 1));
    const eig = new EigenvalueDecomposition(this.C, { assumeSymmetric: true });
    const ev = eig.realEigenvalues;
    if (!ev.every((e) => Number.isFinite(e) && e > 0)) {
      this.stop = 'degenerate';
      return;
    }
    this.B = eig.eigenvectorMatrix;
    this.D = ev.map(Math.sqrt);
    // stopping rules (Hansen's tutorial, appendix B.3, simplified)
    this.history.push(f[order[0]]);
    const span = 10 + Math.ceil((30 * n) / this.lambda);
    const recent = this.history.slice(-span);
    const all = [...recent, ...f.filter(Number.isFinite)];
    if (this.history.length >= span && Math.max(...all) - Math.min(...all) <= this.tolFun) this.stop = 'tolFun';
    const widest = this.sigma * Math.sqrt(Math.max(...Array.from({ length: n }, (_, i) => this.C.get(i, i))));
    if (widest < this.tolX) this.stop = 'tolX';
  }
}

export interface MinimizeOptions extends CmaOptions {
  /** Objective evaluations at most, over all restarts (default 2000). */
  maxEvals?: number;
  /** IPOP restarts after a run ends on its own (default 0). */
  restarts?: number;
  /** Checked between generations: an aborted signal rejects with its reason. */
  signal?: { readonly aborted: boolean; readonly reason?: unknown };
  /** After every generation: evaluations so far, their budget, the best value so far. */
  onProgress?: (p: { evals: number; maxEvals: number; best: number; generation: number; restart: number }) => void;
}

export interface MinimizeResult {
  /** Best point found, unit box. */
  x: number[];
  f: number;
  evals: number;
  generations: number;
  restarts: number;
  /** Why the last run ended: 'tolX' | 'tolFun' | 'degenerate' | 'maxEvals'. */
  stop: string;
}

/**
 * Minimises `evaluate` over the unit box [0, 1]^n from `x0`. `evaluate` gets a whole population and returns
 * its values in order, so it may compute them in parallel.
 */
export async function minimize(evaluate: (xs: number[][]) => Promise<number[]>, x0: readonly number[], opts: MinimizeOptions = {}): Promise<MinimizeResult> {
  const rng = new Rng(opts.seed ?? 1);
  const maxEvals = opts.maxEvals ?? 2000;
  let best = { x: x0.map(reflect), f: Infinity };
  let evals = 0;
  let generations = 0;
  let restart = 0;
  let stop = 'maxEvals';
  let popSize = opts.popSize;
  for (;;) {
    const es = new Cmaes(best.x, rng, { ...opts, ...(popSize !== undefined ? { popSize } : {}) });
    while (!es.stop && evals + es.lambda <= maxEvals) {
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error(String(opts.signal.reason ?? 'aborted'));
      const xs = es.ask();
      const fs = await evaluate(xs);
      evals += xs.length;
      generations++;
      fs.forEach((f, i) => {
        if (Number.isFinite(f) && f < best.f) best = { x: xs[i], f };
      });
      es.tell(fs);
      opts.onProgress?.({ evals, maxEvals, best: best.f, generation: generations, restart });
    }
    stop = es.stop ?? 'maxEvals';
    if (!es.stop || restart >= (opts.restarts ?? 0) || evals + 2 * es.lambda > maxEvals) break;
    restart++;
    popSize = 2 * es.lambda;
  }
  return { x: best.x, f: best.f, evals, generations, restarts: restart, stop };
}
