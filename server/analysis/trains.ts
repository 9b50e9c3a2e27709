/**
 * Spike-train statistics. Times in s, rates in 1/s (Hz).
 * - CV of inter-spike intervals (ISIs): sample SD / mean.
 * - Local variation LV = 3/(n-1) Σ ((I_i - I_{i+1})/(I_i + I_{i+1}))² over consecutive ISIs
 *   (Shinomoto, Shima, Tanji, Neural Comput. 15, 2823 (2003)); 1 for Poisson, 3/(2κ+1) for gamma order κ.
 * - Fano factor of spike counts in windows of `fanoWindow` s: variance / mean (Fano 1947); 1 for Poisson.
 * - Autocorrelogram: histogram of all pairwise lags 0 < |t_j - t_i| <= maxLag, counts per bin.
 */
import { mean, variance } from './math.ts';

export interface TrainStatsOptions {
  /** Observation window, s (default: 0 .. last spike). */
  tStart?: number;
  tEnd?: number;
  /** Counting window for the Fano factor, s (default: T/20). */
  fanoWindow?: number;
  /** Autocorrelogram bin and half-range, s (defaults: 1 ms and 100 bins). */
  acgBin?: number;
  acgMaxLag?: number;
  /** ISI histogram: number of log-spaced bins (default 30). */
  isiBins?: number;
}

export interface TrainStats {
  n: number;
  duration: number;
  rate: number;
  isiMean: number;
  isiCv: number;
  lv: number;
  fano: number;
  fanoWindow: number;
  /** ISI histogram on log-spaced edges, s. */
  isiHist: { edges: number[]; counts: number[] };
  /** Autocorrelogram: bin centres (s, positive lags; symmetric) and counts. */
  acg: { lags: number[]; counts: number[] };
}

export function isis(times: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, times.length - 1));
  for (let i = 1; i < times.length; i++) out[i - 1] = times[i] - times[i - 1];
  return out;
}

/** Coefficient of variation of the ISIs (NaN with fewer than 3 spikes). */
export function cv(times: ArrayLike<number>): number {
  const d = isis(times);
  return Math.sqrt(variance(d)) / mean(d);
}

/** Local variation (Shinomoto 2003); NaN with fewer than 3 spikes. */
export function localVariation(times: ArrayLike<number>): number {
  const d = isis(times);
  if (d.length < 2) return NaN;
  let s = 0;
  for (let i = 0; i + 1 < d.length; i++) {
    const r = (d[i] - d[i + 1]) / (d[i] + d[i + 1]);
    s += r * r;
  }
  return (3 * s) / (d.length - 1);
}

/** Fano factor of counts in consecutive windows of `w` s over [t0, t1). */
export function fanoFactor(times: ArrayLike<number>, w: number, t0: number, t1: number): number {
  const nb = Math.floor((t1 - t0) / w);
  if (nb < 2) return NaN;
  const c = new Float64Array(nb);
  for (let i = 0; i < times.length; i++) {
    const b = Math.floor((times[i] - t0) / w);
    if (b >= 0 && b < nb) c[b]++;
  }
  const m = mean(c);
  return m > 0 ? variance(c) / m : NaN;
}

export function autocorrelogram(times: ArrayLike<number>, bin: number, maxLag: number): { lags: number[]; counts: number[] } {
  const nb = Math.max(1, Math.round(maxLag / bin));
  const counts = new Array<number>(nb).fill(0);
  for (let i = 0; i < times.length; i++) {
    for (let j = i + 1; j < times.length; j++) {
      const d = times[j] - times[i];
      if (d > maxLag) break;
      if (d <= 0) continue;
      const b = Math.min(nb - 1, Math.floor(d / bin));
      counts[b] += 2; // both signs of the lag
    }
  }
  return { lags: counts.map((_, b) => (b + 0.5) * bin), counts };
}

export function trainStats(times: ArrayLike<number>, opts: TrainStatsOptions = {}): TrainStats {
  const n = times.length;
  const t0 = opts.tStart ?? 0;
  const t1 = opts.tEnd ?? (n ? times[n - 1] : 0);
  const T = t1 - t0;
  const d = isis(times);
  const fanoWindow = opts.fanoWindow ?? T / 20;
  const nbins = opts.isiBins ?? 30;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of d) {
    if (x > 0) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  }
  const edges: number[] = [];
  const counts: number[] = [];
  if (hi > 0) {
    const a = Math.log10(lo);
    const b = Math.log10(hi) + 1e-9;
    for (let i = 0; i <= nbins; i++) edges.push(10 ** (a + ((b - a) * i) / nbins));
    for (let i = 0; i < nbins; i++) counts.push(0);
    for (const x of d) if (x > 0) counts[Math.min(nbins - 1, Math.floor(((Math.log10(x) - a) / (b - a)) * nbins))]++;
  }
  const acgBin = opts.acgBin ?? 0.001;
  return {
    n,
    duration: T,
    rate: T > 0 ? n / T : NaN,
    isiMean: mean(d),
    isiCv: cv(times),
    lv: localVariation(times),
    fano: fanoWindow > 0 ? fanoFactor(times, fanoWindow, t0, t1) : NaN,
    fanoWindow,
    isiHist: { edges, counts },
    acg: autocorrelogram(times, acgBin, opts.acgMaxLag ?? 100 * acgBin),
  };
}

/**
 * Adaptation: adaptation index A = 1/(N-1) Σ (ISI_{k+1} - ISI_k)/(ISI_{k+1} + ISI_k) over consecutive ISIs
 * (as in the Allen Cell Types electrophysiology features; > 0 slowing down, < 0 speeding up), and the
 * ratio of steady-state rate (1/mean of the last `tailFraction` of ISIs, default 25 %) to initial rate
 * (1/mean of the first `initialIsis` ISIs, default 2).
 */
export function adaptation(times: ArrayLike<number>, opts: { initialIsis?: number; tailFraction?: number } = {}): {
  index: number;
  initialRate: number;
  steadyRate: number;
  ratio: number;
} {
  const d = isis(times);
  let s = 0;
  for (let i = 0; i + 1 < d.length; i++) s += (d[i + 1] - d[i]) / (d[i + 1] + d[i]);
  const index = d.length >= 2 ? s / (d.length - 1) : NaN;
  const k = Math.min(d.length, opts.initialIsis ?? 2);
  const tail = Math.max(1, Math.round(d.length * (opts.tailFraction ?? 0.25)));
  const initialRate = k > 0 ? 1 / mean(d.subarray(0, k)) : NaN;
  const steadyRate = d.length ? 1 / mean(d.subarray(d.length - tail)) : NaN;
  return { index, initialRate, steadyRate, ratio: steadyRate / initialRate };
}
