/**
 * Power-law fitting by Clauset, Shalizi and Newman, "Power-law distributions in empirical data",
 * SIAM Review 51, 661-703 (2009) [CSN]:
 *
 * - maximum-likelihood alpha for continuous data (CSN eq. 3.1) and for integer data through the Hurwitz
 *   zeta function (CSN eq. 3.5, solved by Newton's method on the score equation, not the x - 1/2
 *   approximation);
 * - xmin chosen as the value that minimises the Kolmogorov-Smirnov distance between the tail data and the
 *   fitted model (CSN §3.3), scanning every distinct value that leaves at least `minTail` points. For
 *   continuous data the KS distance is computed as CSN's plfit.m computes it (and so the published
 *   xmin and n_tail of CSN Table 3): over the sorted tail x_(0) <= ... <= x_(n-1),
 *   D = max_i |F(x_(i)) − i/n|, comparing the model CDF with the empirical CDF just below each point; with
 *   tied values this differs from the proper empirical CDF, which is kept as `ks: 'ecdf'`
 *   (D = max_i max(F − i/n, (i+1)/n − F)), and from the Python `powerlaw` package (Alstott, Bullmore,
 *   Plenz 2014; v2), kept as `ks: 'powerlaw'`: D = max over the distinct values u of |F(u) − #(x < u)/n|
 *   (the empirical CDF below each distinct value only), which moves x̂min on data with many ties
 *   (earthquakes 10 instead of 0.794, surnames 14.92 instead of 111.92, as that package's tests
 *   record). Discrete data compare the CDFs at every integer (plfit.m's
 *   discrete branch does the same);
 * - the standard error of alpha: (alpha - 1)/sqrt(n) (continuous, CSN eq. 3.2) and
 *   1/sqrt(n [ζ''/ζ - (ζ'/ζ)²]) (discrete, CSN eq. 3.6);
 * - the goodness-of-fit p-value by semi-parametric bootstrap (CSN §4.1): see `bootstrapReplicateD`;
 * - likelihood-ratio tests (CSN §5, Vuong 1989) against exponential, lognormal and, nested, the power law
 *   with exponential cutoff ("truncated power law").
 *
 * Units: the data's own unit (sizes in events, durations in bins or seconds); alpha is dimensionless.
 * Pure computation: arrays in, numbers out.
 */
import { Rng } from '../../common/random.ts';
import { chi2Sf1, erfc, hurwitz, hurwitzJet, nelderMead } from './math.ts';

export type PowerLawKind = 'continuous' | 'discrete';
export type KsVariant = 'plfit' | 'ecdf' | 'powerlaw';

/** A power-law fit. Results send it under the result names (alpha_se, n_tail, n_values, ks_d, log_likelihood: methods.ts powerLawFitJson; docs/analysis.md). */
export interface PowerLawFit {
  kind: PowerLawKind;
  alpha: number;
  /** Standard error of alpha (CSN eq. 3.2 / 3.6). */
  alphaSe: number;
  xmin: number;
  /** Number of values >= xmin. */
  nTail: number;
  /** Number of values used (finite, > 0). */
  n: number;
  /** KS distance between the tail and the fitted model. */
  ksD: number;
  /** Log-likelihood of the tail under the fitted model. */
  logLik: number;
}

export interface PowerLawOptions {
  kind: PowerLawKind;
  /** Fix xmin instead of scanning for it. */
  xmin?: number;
  /** Smallest tail (number of points >= xmin) an xmin candidate may leave; default 10. */
  minTail?: number;
  /**
   * Continuous KS distance: 'plfit' (default, as CSN's plfit.m), 'ecdf' (the proper empirical CDF) or
   * 'powerlaw' (as the Python powerlaw package: at distinct values, the CDF below each).
   */
  ks?: KsVariant;
}

/** Sorted, validated data with distinct values, their counts, and tail sums for the xmin scan. */
export interface PreparedData {
  kind: PowerLawKind;
  sorted: Float64Array;
  /** Distinct values ascending. */
  values: Float64Array;
  /** Index in `sorted` of the first occurrence of values[j]. */
  first: Int32Array;
  /** Σ ln x over sorted[first[j]..]. */
  tailLogSum: Float64Array;
  /** ln of each sorted value (continuous only; empty for discrete). */
  logs: Float64Array;
}

/**
 * Validates and prepares data for fitting: drops non-finite and non-positive values; for `discrete` every
 * value must be an integer >= 1 (throws otherwise).
 */
export function preparePowerLawData(data: ArrayLike<number>, kind: PowerLawKind): PreparedData {
  const buf = new Float64Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x) || x <= 0) continue;
    if (kind === 'discrete' && (x !== Math.floor(x) || x < 1)) {
      throw new RangeError(`discrete power-law data must be integers >= 1 (got ${x})`);
    }
    buf[n++] = x;
  }
  const sorted = buf.subarray(0, n).sort();
  const values: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      values.push(sorted[i]);
      first.push(i);
    }
  }
  const k = values.length;
  const tailLogSum = new Float64Array(k);
  let acc = 0;
  for (let j = k - 1; j >= 0; j--) {
    const end = j + 1 < k ? first[j + 1] : n;
    acc += (end - first[j]) * Math.log(values[j]);
    tailLogSum[j] = acc;
  }
  const logs = kind === 'continuous' ? sorted.map(Math.log) : new Float64Array(0);
  return { kind, sorted, values: Float64Array.from(values), first: Int32Array.from(first), tailLogSum, logs };
}

/** Continuous MLE (CSN eq. 3.1): alpha = 1 + n / Σ ln(x_i/xmin). */
function alphaContinuous(nTail: number, logSum: number, xmin: number): number {
  return 1 + nTail / (logSum - nTail * Math.log(xmin));
}

/**
 * Discrete MLE (CSN eq. 3.5): maximise L(α) = -n ln ζ(α, xmin) - α Σ ln x_i by Newton's method on
 * dL/dα = -n ζ'/ζ - Σ ln x_i, started from the x - 1/2 approximation (CSN eq. 3.7).
 */
export function alphaDiscrete(nTail: number, logSum: number, xmin: number): number {
  const meanLog = logSum / nTail;
  let a = 1 + nTail / (logSum - nTail * Math.log(xmin - 0.5));
  if (!(a > 1.0001)) a = 1.5;
  for (let it = 0; it < 60; it++) {
    const [z, z1, z2] = hurwitzJet(a, xmin);
    const r = z1 / z;
    const g = -r - meanLog; // score per point
    const h = -(z2 / z - r * r); // second derivative per point (< 0)
    let step = -g / h;
    if (!Number.isFinite(step)) break;
    // keep alpha > 1
    while (a + step <= 1.000001) step *= 0.5;
    a += step;
    if (Math.abs(step) < 1e-12 * a) break;
  }
  return a;
}

function seDiscrete(nTail: number, alpha: number, xmin: number): number {
  const [z, z1, z2] = hurwitzJet(alpha, xmin);
  const r = z1 / z;
  return 1 / Math.sqrt(nTail * (z2 / z - r * r));
}

/**
 * KS distance of the tail starting at distinct-value index j under a continuous power law; returns early
 * with a value > `bound` once the distance exceeds `bound` (the scan only needs the minimum).
 */
function ksContinuous(p: PreparedData, j: number, alpha: number, bound: number, ks: KsVariant): number {
  const { logs } = p;
  const lmin = Math.log(p.values[j]);
  const start = p.first[j];
  const n = logs.length - start;
  const e = 1 - alpha;
  const invN = 1 / n;
  const ecdf = ks === 'ecdf';
  // the powerlaw package compares at distinct values only: skip the second and later of tied points
  const distinct = ks === 'powerlaw';
  const tied = (i: number) => distinct && i > 0 && logs[start + i] === logs[start + i - 1];
  if (bound < Infinity) {
    // Probe a few ranks first: any deviation above `bound` already rules this xmin out.
    for (let m = 0; m < 64; m++) {
      const i = Math.floor(((m + 0.5) * n) / 64);
      if (tied(i)) continue;
      const f = 1 - Math.exp(e * (logs[start + i] - lmin));
      const dd = ecdf ? Math.max(f - i * invN, (i + 1) * invN - f) : Math.abs(f - i * invN);
      if (dd > bound) return dd;
    }
  }
  let d = 0;
  for (let i = 0; i < n; i++) {
    const ccdf = Math.exp(e * (logs[start + i] - lmin)); // 1 - F(x)
    const below = i * invN;
    // remaining possible deviation is at most max(1 - below, ccdf)
    if (1 - below <= d && ccdf <= d) break;
    if (tied(i)) continue;
    const f = 1 - ccdf;
    const dd = ecdf ? Math.max(f - below, below + invN - f) : Math.abs(f - below);
    if (dd > d) {
      d = dd;
      if (d > bound) return d;
    }
  }
  return d;
}

/**
 * KS distance of the tail starting at distinct-value index j under a discrete power law. The model CDF is
 * compared with the empirical CDF at every integer from xmin to the largest value (the empirical CDF is
 * flat between data values, so only each data value and the integer just before the next one matter).
 */
function ksDiscrete(p: PreparedData, j: number, alpha: number, bound: number): number {
  const { values, first, sorted } = p;
  const xmin = values[j];
  const start = first[j];
  const n = sorted.length - start;
  const k = values.length;
  const z0 = hurwitz(alpha, xmin);
  let zx = 1; // P(X >= values[i]) under the model
  let d = 0;
  let below = 0; // empirical P(X < values[i])
  for (let i = j; i < k; i++) {
    const u = values[i];
    if (i > j) {
      // P(X >= u) from P(X >= prev + 1): subtract the few missing terms, or evaluate ζ directly for long gaps.
      const prev = values[i - 1];
      if (u - prev <= 16) {
        for (let x = prev; x < u; x++) zx -= Math.pow(x, -alpha) / z0;
      } else {
        zx = hurwitz(alpha, u) / z0;
      }
    }
    if (1 - below <= d && zx <= d) break;
    const cnt = (i + 1 < k ? first[i + 1] : sorted.length) - first[i];
    const after = below + cnt / n;
    // at u - 1 (model 1 - zx, empirical `below`, flat since the previous value) and at u
    const fAt = 1 - zx + Math.pow(u, -alpha) / z0;
    const dd = Math.max(Math.abs(below - (1 - zx)), Math.abs(after - fAt));
    if (dd > d) {
      d = dd;
      if (d > bound) return d;
    }
    below = after;
  }
  return d;
}

function logLikelihood(p: PreparedData, j: number, alpha: number): number {
  const xmin = p.values[j];
  const n = p.sorted.length - p.first[j];
  const s = p.tailLogSum[j];
  if (p.kind === 'continuous') return n * Math.log((alpha - 1) / xmin) - alpha * (s - n * Math.log(xmin));
  return -n * Math.log(hurwitz(alpha, xmin)) - alpha * s;
}

function fitAt(p: PreparedData, j: number): number {
  const n = p.sorted.length - p.first[j];
  return p.kind === 'continuous'
    ? alphaContinuous(n, p.tailLogSum[j], p.values[j])
    : alphaDiscrete(n, p.tailLogSum[j], p.values[j]);
}

/**
 * Fits a power law p(x) ∝ x^-alpha for x >= xmin (CSN 2009). Without `xmin`, scans every distinct value
 * leaving at least `minTail` (default 10) points, and more than one distinct value, and keeps the one with
 * the smallest KS distance (first one on ties). Throws RangeError when no candidate is possible.
 */
export function fitPowerLaw(data: ArrayLike<number> | PreparedData, opts: PowerLawOptions): PowerLawFit {
  const p = 'sorted' in data ? data : preparePowerLawData(data, opts.kind);
  const N = p.sorted.length;
  const k = p.values.length;
  const minTail = Math.max(2, opts.minTail ?? 10);
  const ks = opts.ks ?? 'plfit';
  if (opts.xmin !== undefined) {
    const xmin = opts.xmin;
    if (!(xmin > 0)) throw new RangeError('xmin must be > 0');
    if (p.kind === 'discrete' && xmin !== Math.floor(xmin)) throw new RangeError('discrete xmin must be an integer');
    let j = 0;
    while (j < k && p.values[j] < xmin) j++;
    if (j >= k - 1) throw new RangeError(`fewer than two distinct values >= xmin ${xmin}`);
    // A fixed xmin need not be a data value: fit the tail x >= xmin with that xmin.
    const sub = p.values[j] === xmin ? p : prepareTail(p, j, xmin);
    const jj = sub === p ? j : 0;
    const alpha = fitAt(sub, jj);
    const ksD = p.kind === 'continuous' ? ksContinuous(sub, jj, alpha, Infinity, ks) : ksDiscrete(sub, jj, alpha, Infinity);
    return finish(sub, jj, alpha, ksD, N);
  }
  let bestJ = -1;
  let bestD = Infinity;
  let bestAlpha = NaN;
  for (let j = 0; j < k - 1; j++) {
    const nTail = N - p.first[j];
    if (nTail < minTail) break;
    const alpha = fitAt(p, j);
    if (!(alpha > 1) || !Number.isFinite(alpha)) continue;
    const d = p.kind === 'continuous' ? ksContinuous(p, j, alpha, bestD, ks) : ksDiscrete(p, j, alpha, bestD);
    if (d < bestD) {
      bestD = d;
      bestJ = j;
      bestAlpha = alpha;
    }
  }
  // say what was left after dropping values <= 0: an empty or all-negative input otherwise reads as a tail too short
  if (bestJ < 0) throw new RangeError(`no xmin candidate leaves ${minTail} points and two distinct values (${N} values > 0, ${k} distinct)`);
  return finish(p, bestJ, bestAlpha, bestD, N);
}

/**
 * Why the data may not support a fit, one sentence each (empty when nothing is wrong):
 * - fewer than 50 points in the tail: CSN §3.5 and Fig. 3 show xmin and α settle only from about 50 tail
 *   points on;
 * - a bootstrap p-value below 0.1: CSN §4.1 rule the power law out below 0.1.
 */
export function powerLawWarnings(fit: PowerLawFit, pValue?: number): string[] {
  const w: string[] = [];
  if (fit.nTail < 50) w.push(`only ${fit.nTail} points in the tail: fewer than ~50 make α and xmin unreliable (Clauset et al. 2009, §3.5)`);
  if (pValue !== undefined && pValue < 0.1) w.push(`bootstrap p = ${+pValue.toPrecision(2)} < 0.1: the power law is ruled out (Clauset et al. 2009, §4.1)`);
  return w;
}

/** Data x >= xmin re-based so that index 0 is a (virtual) distinct value xmin with zero count. */
function prepareTail(p: PreparedData, j: number, xmin: number): PreparedData {
  const sorted = p.sorted.subarray(p.first[j]);
  const values = new Float64Array(p.values.length - j + 1);
  const first = new Int32Array(values.length);
  const tailLogSum = new Float64Array(values.length);
  values[0] = xmin;
  first[0] = 0;
  tailLogSum[0] = p.tailLogSum[j];
  for (let i = j; i < p.values.length; i++) {
    values[i - j + 1] = p.values[i];
    first[i - j + 1] = p.first[i] - p.first[j];
    tailLogSum[i - j + 1] = p.tailLogSum[i];
  }
  return { kind: p.kind, sorted, values, first, tailLogSum, logs: p.kind === 'continuous' ? p.logs.subarray(p.first[j]) : p.logs };
}

function finish(p: PreparedData, j: number, alpha: number, ksD: number, n: number): PowerLawFit {
  const xmin = p.values[j];
  const nTail = p.sorted.length - p.first[j];
  const alphaSe = p.kind === 'continuous' ? (alpha - 1) / Math.sqrt(nTail) : seDiscrete(nTail, alpha, xmin);
  return { kind: p.kind, alpha, alphaSe, xmin, nTail, n, ksD, logLik: logLikelihood(p, j, alpha) };
}

/**
 * Exact sampler of the power law above xmin. Continuous: inverse CDF x = xmin (1-u)^(-1/(α-1)).
 * Discrete: inverse of P(X >= x) = ζ(α, x)/ζ(α, xmin) through a precomputed table for the first 2^14
 * integers and, beyond it, doubling and bisection on the Hurwitz zeta function (CSN Appendix D, exact
 * rather than the rounding approximation).
 */
export class PowerLawSampler {
  private readonly table: Float64Array | null = null;
  private readonly z0: number = 1;

  constructor(
    readonly kind: PowerLawKind,
    readonly alpha: number,
    readonly xmin: number,
  ) {
    if (!(alpha > 1)) throw new RangeError('alpha must be > 1');
    if (kind === 'discrete') {
      const T = 1 << 14;
      const z0 = hurwitz(alpha, xmin);
      const t = new Float64Array(T);
      let z = 1;
      for (let i = 0; i < T; i++) {
        t[i] = z; // P(X >= xmin + i)
        z -= Math.pow(xmin + i, -alpha) / z0;
      }
      this.table = t;
      this.z0 = z0;
    }
  }

  sample(rng: Rng): number {
    const u = rng.open();
    if (this.kind === 'continuous') return this.xmin * Math.pow(u, -1 / (this.alpha - 1));
    const t = this.table!;
    const T = t.length;
    if (u <= t[T - 1]) {
      // X >= xmin + T - 1: find the largest x with P(X >= x) >= u by doubling + bisection on ζ.
      let lo = this.xmin + T - 1; // P(X >= lo) >= u
      let step = T;
      let hi = lo + step;
      while (hurwitz(this.alpha, hi) / this.z0 >= u) {
        lo = hi;
        step *= 2;
        hi = lo + step;
      }
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (hurwitz(this.alpha, mid) / this.z0 >= u) lo = mid;
        else hi = mid;
      }
      return lo;
    }
    // largest i with t[i] >= u (t is decreasing, t[0] = 1 >= u)
    let lo = 0;
    let hi = T - 1; // t[hi] < u
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid] >= u) lo = mid;
      else hi = mid;
    }
    return this.xmin + lo;
  }
}

/** Seed of bootstrap replicate `rep` derived from the user seed, so results do not depend on thread count. */
export function replicateSeed(seed: number, rep: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(rep + 1, 0x9e3779b1)) >>> 0;
}

/**
 * One semi-parametric bootstrap replicate (CSN §4.1): draw n values, each with probability nTail/n from
 * the fitted power law above xmin and otherwise uniformly from the observed values below xmin; refit the
 * same way as the original (xmin scanned again unless it was fixed) and return the replicate's KS distance.
 */
export function bootstrapReplicateD(
  prepared: PreparedData,
  fit: PowerLawFit,
  opts: PowerLawOptions,
  seed: number,
  sampler = new PowerLawSampler(fit.kind, fit.alpha, fit.xmin),
): number {
  const rng = new Rng(seed);
  const n = prepared.sorted.length;
  const nBelow = n - fit.nTail;
  const pTail = fit.nTail / n;
  const synth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    synth[i] = nBelow === 0 || rng.random() < pTail ? sampler.sample(rng) : prepared.sorted[rng.int(nBelow)];
  }
  try {
    return fitPowerLaw(synth, opts).ksD;
  } catch {
    return Infinity; // a degenerate replicate fits worse than anything observed
  }
}

/**
 * KS distances of bootstrap replicates [from, to): replicate r uses `replicateSeed(seed, r)`, so a range
 * split over threads gives the same distances as one loop.
 */
export function bootstrapDistances(data: ArrayLike<number>, fit: PowerLawFit, opts: PowerLawOptions, seed: number, from: number, to: number): Float64Array {
  const prepared = preparePowerLawData(data, fit.kind);
  const sampler = new PowerLawSampler(fit.kind, fit.alpha, fit.xmin);
  const ds = new Float64Array(Math.max(0, to - from));
  for (let r = from; r < to; r++) ds[r - from] = bootstrapReplicateD(prepared, fit, opts, replicateSeed(seed, r), sampler);
  return ds;
}

/** Goodness-of-fit p-value on one thread: fraction of `reps` replicates with KS distance >= the observed one. */
export function powerLawPValue(
  data: ArrayLike<number>,
  fit: PowerLawFit,
  opts: PowerLawOptions,
  reps: number,
  seed = 1,
): { p_value: number; reps: number; ds: Float64Array } {
  const ds = bootstrapDistances(data, fit, opts, seed, 0, reps);
  let count = 0;
  for (const d of ds) if (d >= fit.ksD) count++;
  return { p_value: count / reps, reps, ds };
}

// ---------------------------------------------------------------------------------------------------
// Alternatives and likelihood-ratio tests (CSN §5 and Appendix C; Vuong 1989)
// ---------------------------------------------------------------------------------------------------

export interface LikelihoodRatio {
  /** Log-likelihood ratio Σ (ln p_powerlaw - ln p_alternative) over the tail; > 0 favours the power law. */
  R: number;
  /** Two-sided Vuong p-value (non-nested) or the χ²₁ p-value of the nested test (truncated power law). */
  p: number;
  /** Fitted parameters of the alternative. */
  params: Record<string, number>;
  nested: boolean;
}

/** Pointwise log-likelihoods of the fitted power law on the tail values. */
function powerLawPointLL(tail: Float64Array, fit: PowerLawFit): Float64Array {
  const out = new Float64Array(tail.length);
  const c = fit.kind === 'continuous' ? Math.log((fit.alpha - 1) / fit.xmin) + fit.alpha * Math.log(fit.xmin) : -Math.log(hurwitz(fit.alpha, fit.xmin));
  for (let i = 0; i < tail.length; i++) out[i] = c - fit.alpha * Math.log(tail[i]);
  return out;
}

function exponentialLL(tail: Float64Array, kind: PowerLawKind, xmin: number): { ll: Float64Array; params: Record<string, number> } {
  let m = 0;
  for (const x of tail) m += x;
  m /= tail.length;
  const ll = new Float64Array(tail.length);
  // continuous: p = λ e^{-λ(x - xmin)}, λ = 1/(mean - xmin); discrete (geometric on x >= xmin):
  // p = (1 - e^{-λ}) e^{-λ(x - xmin)}, λ = ln(1 + 1/(mean - xmin)).
  const lambda = kind === 'continuous' ? 1 / (m - xmin) : Math.log(1 + 1 / (m - xmin));
  const c = kind === 'continuous' ? Math.log(lambda) : Math.log(-Math.expm1(-lambda));
  for (let i = 0; i < tail.length; i++) ll[i] = c - lambda * (tail[i] - xmin);
  return { ll, params: { lambda } };
}

/** ln(Φ(b) - Φ(a)) for a < b, accurate in both tails. */
function logNormInterval(a: number, b: number): number {
  if (a > 0) return Math.log(0.5 * erfc(a / Math.SQRT2) - 0.5 * erfc(b / Math.SQRT2));
  return Math.log(0.5 * erfc(-b / Math.SQRT2) - 0.5 * erfc(-a / Math.SQRT2));
}

function lognormalLL(tail: Float64Array, kind: PowerLawKind, xmin: number): { ll: Float64Array; params: Record<string, number> } {
  const n = tail.length;
  const logs = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) m += logs[i] = Math.log(tail[i]);
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (logs[i] - m) ** 2;
  const s0 = Math.sqrt(v / n) || 1;
  const point = (x: number, lx: number, mu: number, sigma: number, logNorm: number) => {
    if (kind === 'continuous') {
      const z = (lx - mu) / sigma;
      return -lx - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI) - 0.5 * z * z - logNorm;
    }
    return logNormInterval((Math.log(x - 0.5) - mu) / sigma, (Math.log(x + 0.5) - mu) / sigma) - logNorm;
  };
  const norm = (mu: number, sigma: number) => {
    // log P(X >= xmin) of the untruncated distribution (continuous) or P(X > xmin - 1/2) (discrete)
    const z = ((kind === 'continuous' ? Math.log(xmin) : Math.log(xmin - 0.5)) - mu) / sigma;
    return Math.log(0.5 * erfc(z / Math.SQRT2));
  };
  const nll = ([mu, ls]: number[]) => {
    const sigma = Math.exp(ls);
    const ln = norm(mu, sigma);
    if (!Number.isFinite(ln)) return Infinity;
    let s = 0;
    for (let i = 0; i < n; i++) s += point(tail[i], logs[i], mu, sigma, ln);
    return -s;
  };
  const best = nelderMead(nll, [m, Math.log(s0)], { step: [s0, 0.3], tol: 1e-12, maxIter: 600 });
  const [mu, ls] = best.x;
  const sigma = Math.exp(ls);
  const ln = norm(mu, sigma);
  const ll = new Float64Array(n);
  for (let i = 0; i < n; i++) ll[i] = point(tail[i], logs[i], mu, sigma, ln);
  return { ll, params: { mu, sigma } };
}

/** ln ∫_lo^∞ x^-α e^-λx dx by composite Simpson on t = ln(x/lo) (integrand smooth and decaying in t). */
function logTplIntegral(alpha: number, lambda: number, lo: number): number {
  // ∫_0^∞ lo^{1-α} exp((1-α) t - λ lo e^t) dt; find where the exponent has dropped by ~40 from its maximum
  const g = (t: number) => (1 - alpha) * t - lambda * lo * Math.exp(t);
  // maximum of g on t >= 0
  let tMax = 0;
  if (alpha < 1) tMax = Math.max(0, Math.log((1 - alpha) / (lambda * lo)));
  const gMax = g(tMax);
  let tEnd = tMax + 1;
  while (g(tEnd) > gMax - 45 && tEnd < 2000) tEnd = tMax + (tEnd - tMax) * 2;
  const M = 2000;
  const h = tEnd / M;
  let s = 0;
  for (let i = 0; i <= M; i++) {
    const w = i === 0 || i === M ? 1 : i % 2 ? 4 : 2;
    s += w * Math.exp(g(i * h) - gMax);
  }
  return (1 - alpha) * Math.log(lo) + gMax + Math.log((s * h) / 3);
}

/** ln Σ_{k>=xmin} k^-α e^-λk: direct sum of the first 2000 terms, the rest by the midpoint integral. */
function logTplSum(alpha: number, lambda: number, xmin: number): number {
  const K = 2000;
  const c = -alpha * Math.log(xmin) - lambda * xmin; // log of the first term, used as a scale
  let s = 0;
  for (let k = 0; k < K; k++) {
    const x = xmin + k;
    const t = Math.exp(-alpha * Math.log(x) - lambda * x - c);
    s += t;
    if (t < 1e-17 * s) return c + Math.log(s);
  }
  const rest = logTplIntegral(alpha, lambda, xmin + K - 0.5);
  return c + Math.log(s + Math.exp(rest - c));
}

function truncatedPowerLawLL(tail: Float64Array, fit: PowerLawFit): { ll: Float64Array; params: Record<string, number> } {
  const { kind, xmin } = fit;
  const n = tail.length;
  let sumLog = 0;
  let sum = 0;
  for (const x of tail) {
    sumLog += Math.log(x);
    sum += x;
  }
  const logNorm = (alpha: number, lambda: number) =>
    kind === 'continuous' ? logTplIntegral(alpha, lambda, xmin) : logTplSum(alpha, lambda, xmin);
  const nll = ([alpha, ll]: number[]) => {
    const lambda = Math.exp(ll);
    return alpha * sumLog + lambda * sum + n * logNorm(alpha, lambda);
  };
  const mean = sum / n;
  let best = { x: [fit.alpha, Math.log(1e-3 / mean)], value: Infinity };
  for (const l0 of [1e-3 / mean, 0.1 / mean, 1 / mean]) {
    const r = nelderMead(nll, [fit.alpha, Math.log(l0)], { step: [0.2, 1], tol: 1e-12, maxIter: 500 });
    if (r.value < best.value) best = r;
  }
  const [alpha, lnl] = best.x;
  const lambda = Math.exp(lnl);
  const ln = logNorm(alpha, lambda);
  const ll = new Float64Array(n);
  for (let i = 0; i < n; i++) ll[i] = -alpha * Math.log(tail[i]) - lambda * tail[i] - ln;
  return { ll, params: { alpha, lambda } };
}

function vuong(l1: Float64Array, l2: Float64Array): { R: number; p: number } {
  const n = l1.length;
  let R = 0;
  for (let i = 0; i < n; i++) R += l1[i] - l2[i];
  const m = R / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (l1[i] - l2[i] - m) ** 2;
  v /= n;
  // CSN eq. C.6: p = erfc(|R| / sqrt(2 n σ²))
  const p = v > 0 ? erfc(Math.abs(R) / Math.sqrt(2 * n * v)) : 1;
  return { R, p };
}

/**
 * Likelihood-ratio comparisons of the fitted power law's tail with exponential, lognormal (both
 * non-nested: Vuong's normalised test, CSN eq. C.6) and truncated power law p ∝ x^-α e^-λx (nested:
 * p = P(χ²₁ > 2 (LL_tpl - LL_pl)), CSN §5 / Appendix C). R > 0 favours the power law.
 */
export function comparePowerLaw(data: ArrayLike<number>, fit: PowerLawFit): Record<'exponential' | 'lognormal' | 'truncated_power_law', LikelihoodRatio> {
  const p = preparePowerLawData(data, fit.kind);
  let j = 0;
  while (j < p.sorted.length && p.sorted[j] < fit.xmin) j++;
  const tail = p.sorted.slice(j);
  const pl = powerLawPointLL(tail, fit);
  const ex = exponentialLL(tail, fit.kind, fit.xmin);
  const lo = lognormalLL(tail, fit.kind, fit.xmin);
  const tp = truncatedPowerLawLL(tail, fit);
  let Rt = 0;
  for (let i = 0; i < tail.length; i++) Rt += pl[i] - tp.ll[i];
  return {
    exponential: { ...vuong(pl, ex.ll), params: ex.params, nested: false },
    lognormal: { ...vuong(pl, lo.ll), params: lo.params, nested: false },
    truncated_power_law: { R: Rt, p: chi2Sf1(2 * Math.max(0, -Rt)), params: tp.params, nested: true },
  };
}

