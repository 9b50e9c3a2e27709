/**
 * Neuronal avalanches (Beggs and Plenz, J. Neurosci. 23, 11167 (2003)): events (spikes on all channels,
 * or threshold crossings of one population signal) are binned; an avalanche is a run of non-empty bins
 * bounded by empty ones; its size is the number of events, its duration the number of bins.
 * Default bin width: the mean inter-event interval of the merged, sorted event times.
 *
 * Branching ratio: σ = mean over avalanches of n_2/n_1, the events in the second bin over the first
 * (Beggs and Plenz 2003; 0 for one-bin avalanches), and the pooled ratio Σ_t n_{t+1} / Σ_t n_t over all
 * bins t inside avalanches (including their last bin, whose successor is empty).
 *
 * Crackling noise (Sethna, Dahmen, Myers, Nature 410, 242 (2001); Friedman et al., PRL 108, 208102
 * (2012)): ⟨S⟩(T) ∝ T^γ; γ is fitted by least squares on log ⟨S⟩ vs log T over durations observed at least
 * `minCount` times and at least `minDuration` bins long (in `analyzeAvalanches`: the xmin of the duration
 * power-law fit, i.e. the range where durations scale), and compared with the prediction (α_T - 1)/(τ_S - 1) from the size and duration
 * exponents.
 */
import { linearFit } from './math.ts';
import { fitPowerLaw, powerLawWarnings, type PowerLawFit } from './powerlaw.ts';

export interface Avalanches {
  binWidth: number;
  sizes: Int32Array;
  durations: Int32Array;
  /** First bin of each avalanche. */
  starts: Int32Array;
  branchingRatio: number;
  branchingRatioPooled: number;
}

/** Avalanches from per-bin event counts (bin width given only for the record). */
export function avalanchesFromCounts(counts: ArrayLike<number>, binWidth = 1): Avalanches {
  const sizes: number[] = [];
  const durations: number[] = [];
  const starts: number[] = [];
  let bp = 0;
  let anc = 0;
  let desc = 0;
  let i = 0;
  const n = counts.length;
  // an avalanche touching the first or last bin is incomplete: it is dropped
  while (i < n && counts[i] > 0) i++;
  while (i < n) {
    if (counts[i] === 0) {
      i++;
      continue;
    }
    let e = i;
    let s = 0;
    while (e < n && counts[e] > 0) s += counts[e++];
    if (e >= n) break;
    sizes.push(s);
    durations.push(e - i);
    starts.push(i);
    bp += (e - i > 1 ? counts[i + 1] : 0) / counts[i];
    for (let k = i; k < e; k++) {
      anc += counts[k];
      desc += counts[k + 1];
    }
    i = e;
  }
  return {
    binWidth,
    sizes: Int32Array.from(sizes),
    durations: Int32Array.from(durations),
    starts: Int32Array.from(starts),
    branchingRatio: sizes.length ? bp / sizes.length : NaN,
    branchingRatioPooled: anc ? desc / anc : NaN,
  };
}

/** Bins event times (s) with `binWidth` (default: mean inter-event interval) over [t0, t1). */
export function binEvents(times: ArrayLike<number>, opts: { binWidth?: number; tStart?: number; tEnd?: number } = {}): { counts: Int32Array; binWidth: number } {
  const t = Float64Array.from(times).sort();
  const n = t.length;
  if (n < 2) throw new RangeError('avalanche analysis needs at least 2 events');
  const t0 = opts.tStart ?? t[0];
  const t1 = opts.tEnd ?? t[n - 1];
  const w = opts.binWidth ?? (t[n - 1] - t[0]) / (n - 1);
  if (!(w > 0)) throw new RangeError('bin width must be > 0 s');
  const nb = Math.max(1, Math.ceil((t1 - t0) / w) + 1);
  const counts = new Int32Array(nb);
  for (const x of t) {
    const b = Math.floor((x - t0) / w);
    if (b >= 0 && b < nb) counts[b]++;
  }
  return { counts, binWidth: w };
}

export function avalanchesFromEvents(times: ArrayLike<number>, opts: { binWidth?: number; tStart?: number; tEnd?: number } = {}): Avalanches {
  const { counts, binWidth } = binEvents(times, opts);
  return avalanchesFromCounts(counts, binWidth);
}

export interface CracklingResult {
  /** Fitted exponent of ⟨S⟩ vs T and its standard error. */
  gamma: number;
  gammaSe: number;
  /** (α_T - 1)/(τ_S - 1) from the power-law fits. */
  predicted: number;
  difference: number;
  /** Durations used and the mean size at each. */
  durations: number[];
  meanSizes: number[];
}

export function cracklingScaling(sizes: ArrayLike<number>, durations: ArrayLike<number>, tauS: number, alphaT: number, minCount = 5, minDuration = 1): CracklingResult {
  const byT = new Map<number, { s: number; c: number }>();
  for (let i = 0; i < sizes.length; i++) {
    const e = byT.get(durations[i]) ?? { s: 0, c: 0 };
    e.s += sizes[i];
    e.c++;
    byT.set(durations[i], e);
  }
  const ds: number[] = [];
  const ms: number[] = [];
  for (const [T, e] of [...byT.entries()].sort((a, b) => a[0] - b[0])) {
    if (e.c >= minCount && T >= minDuration) {
      ds.push(T);
      ms.push(e.s / e.c);
    }
  }
  const predicted = (alphaT - 1) / (tauS - 1);
  if (ds.length < 2) return { gamma: NaN, gammaSe: NaN, predicted, difference: NaN, durations: ds, meanSizes: ms };
  const f = linearFit(ds.map(Math.log), ms.map(Math.log));
  return { gamma: f.slope, gammaSe: f.slopeSe, predicted, difference: f.slope - predicted, durations: ds, meanSizes: ms };
}

export interface AvalancheAnalysis {
  count: number;
  binWidth: number;
  branchingRatio: number;
  branchingRatioPooled: number;
  size: PowerLawFit | null;
  duration: PowerLawFit | null;
  crackling: CracklingResult | null;
  /** Why the fits may not be supported by the data (powerLawWarnings of each fit). */
  warnings: string[];
}

/** Avalanches plus discrete power-law fits of sizes and durations and the crackling-noise check. */
export function analyzeAvalanches(av: Avalanches, opts: { minTail?: number } = {}): AvalancheAnalysis {
  const tryFit = (x: Int32Array) => {
    try {
      return fitPowerLaw(x, { kind: 'discrete', minTail: opts.minTail });
    } catch {
      return null;
    }
  };
  const size = tryFit(av.sizes);
  const duration = tryFit(av.durations);
  return {
    count: av.sizes.length,
    binWidth: av.binWidth,
    branchingRatio: av.branchingRatio,
    branchingRatioPooled: av.branchingRatioPooled,
    size,
    duration,
    crackling: size && duration ? cracklingScaling(av.sizes, av.durations, size.alpha, duration.alpha, 5, duration.xmin) : null,
    warnings: [
      ...(size ? powerLawWarnings(size).map((w) => `sizes: ${w}`) : ['sizes: no power-law fit possible']),
      ...(duration ? powerLawWarnings(duration).map((w) => `durations: ${w}`) : ['durations: no power-law fit possible']),
    ],
  };
}
