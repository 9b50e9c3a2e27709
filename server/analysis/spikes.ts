/**
 * Threshold spike detection on a sampled trace.
 *
 * Threshold modes (all in the trace's physical unit):
 * - `absolute`: the value itself (baseline 0);
 * - `sd`: baseline = mean, threshold = k · standard deviation;
 * - `robust`: baseline = median, threshold = k · σ_n with σ_n = median(|x - baseline|)/0.6745, the
 *   noise estimate of Quian Quiroga, Nadasdy, Ben-Shaul, Neural Comput. 16, 1661 (2004) (their
 *   median(|x|)/0.6745 on a band-passed, zero-median signal). When that is 0 (a noiseless simulated
 *   trace sitting at its baseline most of the time), σ falls back to the SD around the median
 *   (`noiseMethod: 'sd-fallback'`).
 * Reset-type traces (`thresholdRule: 'range'`, robust mode only): the k·σ rule assumes σ is noise. On the
 * membrane of an integrate-and-fire neuron (charging ramps, a reset after each spike) σ measures the
 * ramps instead, and k·σ can land above the trace's maximum: nothing would be found (the simulated
 * bench's LIF square: 1.02 V for 1 V spikes). When the k·σ level finds no excursion at all, the trace is
 * tried as reset-type: the threshold moves to the mesial level halfway between the baseline and the
 * extreme (the 50 % reference level of IEEE Std 181-2011, the same half height as the spike width), used
 * only when that half-range is more than k noise σ (σ from first differences, median|Δx|/(0.6745·√2): the
 * finest-scale Haar-wavelet MAD of Donoho and Johnstone, Biometrika 81, 425 (1994), blind to slow
 * ramps), and the spikes are the excursions that end in a reset: the sample after the excursion lies at
 * least half the spike's height below the excursion's last sample (a subthreshold bump or a smooth wave
 * decays instead, and is not a spike). No such excursion: the k·σ result (none) stands, unless the trace
 * rests (robust σ 0, e.g. a quiet baseline within one ADC step, where the SD fallback's k·σ includes the
 * spikes and can exceed them): a resting trace's excursions are pulses, and those beyond the mesial
 * level count without a reset.
 * Mesial floor (`noise` rule): when k·σ lies below the mesial level of the trace's spikes (halfway from
 * the baseline to the median excursion peak, IEEE Std 181-2011), only excursions reaching that level
 * count: σ of a clean device output measures subthreshold signal, not noise (mesialFloor).
 * Polarity `positive` detects x - baseline > thr, `negative` x - baseline < -thr, `both` either.
 * An absolute threshold is a level measured from `baseline` (default 0, physical unit).
 * `reset` (a fraction f): only excursions that end in a reset count, the reset-type rule's test with f in
 * place of its 0.5 (the sample after the excursion at least f × the spike's height below its last sample),
 * each spike at its reset (index the first sample after it, time half a sample before, peak the sample
 * before): the online detector's `reset` direction (online-spikes.ts), which runs this file's scan block by block.
 *
 * Re-arm and dead time (suited to devices whose spikes are µs–ms apart, not a fixed biological 1 ms):
 * - hysteresis: a spike's excursion lasts until the signal falls back below baseline + `rearm`·thr
 *   (default 0.5), so noise around the threshold is never counted twice (the Schmitt-trigger rule), or
 *   below half the spike's own height when that is higher (a tall spike re-arms at its half height,
 *   never above the threshold: a membrane that resets to a level above the re-arm level still counts);
 * - dead time: an excursion starting less than the dead time after the previous spike's threshold
 *   crossing is not a new spike. Given as `refractory` (s); by default derived from the signal: half
 *   the median duration of the threshold excursions, at least two sample periods (two spikes closer
 *   than about half a spike width cannot be told apart; closer than two samples the sampling does not
 *   resolve them at all).
 * The values used are reported (`deadTime`, `deadTimeSource`, `rearmLevel`).
 *
 * Per spike: time of the peak refined to sub-sample precision by fitting a parabola through the peak
 * sample and its neighbours, peak amplitude (x at the peak, physical unit, signed, not baseline-corrected),
 * full width at half height (s) measured between linear-interpolated crossings of baseline + (peak - baseline)/2.
 *
 * Memristive switching spikes: `detectSwitching` runs the same detector on dG/dt of a conductance trace
 * (SET events are positive, RESET events negative).
 */
import { bandpass } from './filter.ts';

export type ThresholdSpec = { mode: 'absolute'; value: number; baseline?: number } | { mode: 'sd'; k: number } | { mode: 'robust'; k: number };
export type Polarity = 'positive' | 'negative' | 'both';

/** The re-arm level's default fraction of the threshold distance (hysteresis, file comment). */
export const DEFAULT_REARM = 0.5;

export interface SpikeDetectOptions {
  threshold: ThresholdSpec;
  polarity?: Polarity;
  /** Dead time after each spike's peak, s; default derived from the signal (see the file comment). */
  refractory?: number;
  /** Re-arm level as a fraction of the threshold distance (0 = baseline, 1 = the threshold itself; default 0.5). */
  rearm?: number;
  /** Optional zero-phase Butterworth band-pass [low, high] Hz applied first. */
  bandpass?: [number, number];
  /** Only excursions that end in a reset of at least this fraction of the spike's height (file comment). */
  reset?: number;
}

export interface SpikeResult {
  /** Peak times, s from sample 0 (sub-sample). */
  times: Float64Array;
  /** Peak sample indices. */
  indices: Int32Array;
  /** Trace value at the peak, physical unit. */
  peaks: Float64Array;
  /** Full width at half height, s (NaN when a half-height crossing lies outside the trace). */
  widths: Float64Array;
  /** Baseline and threshold distance actually used, physical unit. */
  baseline: number;
  threshold: number;
  /** Noise estimate (σ), physical unit (NaN for absolute thresholds). */
  noise: number;
  /**
   * How σ was estimated; `sd-fallback`: the robust estimate was 0 (noiseless trace), SD around the median
   * used; `first-difference`: the reset-type rule's noise from first differences.
   */
  noiseMethod: 'robust' | 'sd' | 'sd-fallback' | 'first-difference' | 'none';
  /** Where the threshold came from: `noise` (k·σ), `range` (the mesial level of a reset-type trace), `level` (absolute). */
  thresholdRule: 'noise' | 'range' | 'level' | 'none';
  /** Dead time used, s, and where it came from (`given`: the refractory option; `signal`: derived). */
  deadTime: number;
  deadTimeSource: 'given' | 'signal' | 'none';
  /** Level the signal had to fall back to (positive side) before the next spike, physical unit. */
  rearmLevel: number;
}

/** Median and median absolute deviation of integer raw samples via a histogram (O(n), int16/uint16). */
function histMedianMad(x: Int16Array | Uint16Array): { median: number; mad: number } {
  const off = x instanceof Int16Array ? 32768 : 0;
  const n = x.length;
  // Bin index = the sample as unsigned 16 bits, with the sign bit flipped for int16 (= x + 32768).
  // Two interleaved histograms: consecutive samples often share a bin, which would serialise the increments.
  const u = new Uint16Array(x.buffer, x.byteOffset, n);
  const m = off ? 0x8000 : 0;
  const h = new Uint32Array(65536);
  const h2 = new Uint32Array(65536);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    h[u[i] ^ m]++;
    h2[u[i + 1] ^ m]++;
    h[u[i + 2] ^ m]++;
    h2[u[i + 3] ^ m]++;
  }
  for (; i < n; i++) h[u[i] ^ m]++;
  for (let v = 0; v < 65536; v++) h[v] += h2[v];
  const half = (n - 1) / 2;
  const kth = (hist: Uint32Array, k: number) => {
    let c = 0;
    for (let v = 0; v < hist.length; v++) {
      c += hist[v];
      if (c > k) return v;
    }
    return hist.length - 1;
  };
  const med = (kth(h, Math.floor(half)) + kth(h, Math.ceil(half))) / 2;
  // |x - med| histogram from the value histogram (in half-units, since med may be x.5)
  const d = new Uint32Array(2 * 65536 + 2);
  for (let v = 0; v < 65536; v++) if (h[v]) d[Math.abs(2 * v - 2 * med)] += h[v];
  const mad = (kth(d, Math.floor(half)) + kth(d, Math.ceil(half))) / 4;
  return { median: med - off, mad };
}

function medianOf(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/**
 * Detects spikes in raw samples (physical = raw · scale + offset) sampled at `fs` Hz. Int16/Uint16 input
 * without band-pass is processed in raw units with a histogram median (one pass, no copy). Throws
 * RangeError on a non-positive sample rate or threshold.
 */
export function detectSpikes(
  samples: ArrayLike<number> & { length: number },
  fs: number,
  opts: SpikeDetectOptions,
  scale = 1,
  offset = 0,
): SpikeResult {
  if (!(fs > 0)) throw new RangeError('sample rate must be > 0 Hz');
  if (scale === 0) throw new RangeError('scale must be non-zero');
  const polarity = opts.polarity ?? 'positive';
  const rearm = opts.rearm ?? DEFAULT_REARM;
  if (!(rearm >= 0 && rearm <= 1)) throw new RangeError('rearm must be in [0, 1]');
  if (opts.refractory !== undefined && !(opts.refractory >= 0)) throw new RangeError('refractory must be >= 0 s');
  // a noise threshold's mesial floor and range fallback read each excursion's peak, which `reset` moves to the reset
  if (opts.reset !== undefined && opts.threshold.mode !== 'absolute') throw new RangeError('reset needs an absolute threshold (the online detector\'s)');
  let x: ArrayLike<number> = samples;
  let sc = scale;
  let off = offset;
  if (opts.bandpass) {
    const phys = new Float64Array(samples.length);
    for (let i = 0; i < phys.length; i++) phys[i] = samples[i] * scale + offset;
    x = bandpass(phys, fs, opts.bandpass[0], opts.bandpass[1]);
    sc = 1;
    off = 0;
  }
  // baseline and threshold in raw units of x
  let base = 0;
  let thr: number;
  let noise = NaN;
  let noiseMethod: SpikeResult['noiseMethod'] = t0(opts.threshold.mode);
  const t = opts.threshold;
  if (t.mode === 'absolute') {
    ({ base, thr } = absoluteLevel(t, sc, off));
  } else if (t.mode === 'sd') {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    base = s / x.length;
    let v = 0;
    for (let i = 0; i < x.length; i++) v += (x[i] - base) ** 2;
    noise = Math.sqrt(v / Math.max(1, x.length - 1));
    thr = t.k * noise;
  } else {
    if (x instanceof Int16Array || x instanceof Uint16Array) {
      const r = histMedianMad(x);
      base = r.median;
      noise = r.mad / 0.6745;
    } else {
      const xf = Float64Array.from(x);
      base = medianOf(xf);
      for (let i = 0; i < xf.length; i++) xf[i] = Math.abs(xf[i] - base);
      noise = medianOf(xf) / 0.6745;
    }
    if (noise === 0) {
      // A noiseless trace (simulation) has zero median deviation: fall back to the SD around the median.
      let v = 0;
      for (let i = 0; i < x.length; i++) v += (x[i] - base) ** 2;
      noise = Math.sqrt(v / Math.max(1, x.length - 1));
      noiseMethod = 'sd-fallback';
    }
    thr = t.k * noise;
  }
  if (!(thr > 0)) {
    if (t.mode !== 'absolute' && noise === 0) thr = Number.MIN_VALUE;
    else throw new RangeError('threshold must be > 0');
  }
  const pol = rawPolarity(polarity, sc);
  let ex = x instanceof Int16Array ? scanInt16(x, base, thr, rearm * thr, pol) : scan(x, base, thr, rearm * thr, pol);
  // the `reset` option's spikes are at their resets (keepResets)
  const atReset = opts.reset !== undefined;
  if (atReset) ex = keepResets(x, base, ex, opts.reset!);
  let thresholdRule: SpikeResult['thresholdRule'] = t.mode === 'absolute' ? 'level' : 'noise';
  if (t.mode === 'robust' && ex.length === 0) {
    // a resting trace (median deviation 0: more than half the samples exactly at the baseline, e.g. a
    // quiet baseline within one ADC step) is a pulse train, not a smooth wave: no reset needed
    const r = resetType(x, base, t.k, rearm, pol, true) ?? (noiseMethod === 'sd-fallback' ? resetType(x, base, t.k, rearm, pol, false) : null);
    if (r) ({ ex, thr, noise } = r), (noiseMethod = 'first-difference'), (thresholdRule = 'range');
  } else if (t.mode !== 'absolute' && ex.length > 0) ex = mesialFloor(x, base, thr, ex);
  let dead: number;
  if (opts.refractory !== undefined) dead = deadSamples(opts.refractory, fs);
  else {
    const w = Float64Array.from({ length: ex.length / 3 }, (_, k) => ex[3 * k + 2] - ex[3 * k]);
    dead = Math.max(2, w.length ? Math.round(medianOf(w) / 2) : 2);
  }
  const idx = applyDeadTime(ex, dead);
  const n = idx.length;
  const times = new Float64Array(n);
  const peaks = new Float64Array(n);
  const widths = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    if (atReset) {
      // the reset lies between the spike's last sample and its index: half a sample before it; the peak is the last sample
      times[k] = (i - 0.5) / fs;
      peaks[k] = x[i - 1] * sc + off;
      widths[k] = halfWidth(x, i - 1, base) / fs;
      continue;
    }
    const y0 = i > 0 ? x[i - 1] : x[i];
    const y1 = x[i];
    const y2 = i + 1 < x.length ? x[i + 1] : x[i];
    const den = y0 - 2 * y1 + y2;
    const dx = den !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (y0 - y2)) / den)) : 0;
    times[k] = (i + dx) / fs;
    peaks[k] = y1 * sc + off;
    widths[k] = halfWidth(x, i, base) / fs;
  }
  return {
    times,
    indices: idx,
    peaks,
    widths,
    baseline: base * sc + off,
    threshold: thr * Math.abs(sc),
    noise: noise * Math.abs(sc),
    noiseMethod,
    thresholdRule,
    deadTime: dead / fs,
    deadTimeSource: opts.refractory !== undefined ? 'given' : 'signal',
    rearmLevel: (base + rearm * thr) * sc + off,
  };
}

/**
 * The reset-type rule (file comment): excursions beyond the mesial level that end in a reset, with that
 * level and the first-difference noise; null when the half-range is within k noise σ or no excursion resets.
 */
function resetType(x: ArrayLike<number>, base: number, k: number, rearm: number, pol: Polarity, needReset: boolean): { ex: Int32Array; thr: number; noise: number } | null {
  const n = x.length;
  if (n < 3) return null;
  let hi = -Infinity;
  let lo = Infinity;
  for (let i = 0; i < n; i++) {
    if (x[i] > hi) hi = x[i];
    if (x[i] < lo) lo = x[i];
  }
  const half = 0.5 * Math.max(pol !== 'negative' ? hi - base : 0, pol !== 'positive' ? base - lo : 0);
  const d = new Float64Array(n - 1);
  for (let i = 0; i + 1 < n; i++) d[i] = Math.abs(x[i + 1] - x[i]);
  const noise = medianOf(d) / (0.6745 * Math.SQRT2);
  if (!(half > k * noise)) return null;
  const all = scan(x, base, half, rearm * half, pol);
  // the spike at the excursion's extreme (the ramp's top, or the simulated bench's drawn spike sample)
  const kept = needReset ? keepResets(x, base, all, 0.5, false) : all;
  return kept.length ? { ex: kept, thr: half, noise } : null;
}

/**
 * Whether an excursion ends in a reset: the sample after it (`end`, NaN past the trace) lies at least
 * `fraction` × the spike's height (|peak - base|) beyond its last sample, towards the baseline.
 */
export function endsInReset(peak: number, last: number, end: number, base: number, fraction: number): boolean {
  const s = peak >= base ? 1 : -1;
  return s * (last - end) >= fraction * s * (peak - base);
}

/**
 * The excursions (start, peak, end triples of x) that end in a reset (endsInReset). `atReset`: the spike's
 * index is the first sample after the reset: the membrane fires at its reset, which may follow a lower
 * maximum (a membrane that rose, sagged, then crossed its threshold between two samples), and a twin run
 * records its resets where they fall; otherwise it stays at the excursion's extreme.
 */
function keepResets(x: ArrayLike<number>, base: number, ex: Int32Array, fraction: number, atReset = true): Int32Array {
  const kept: number[] = [];
  for (let j = 0; j < ex.length; j += 3) {
    const end = ex[j + 2];
    if (end < x.length && endsInReset(x[ex[j + 1]], x[end - 1], x[end], base, fraction)) kept.push(ex[j], atReset ? end : ex[j + 1], end);
  }
  return Int32Array.from(kept);
}

/** Baseline and threshold distance of an absolute threshold in raw units (physical = raw · sc + off): a level measured from its baseline. */
export function absoluteLevel(t: { value: number; baseline?: number }, sc: number, off: number): { base: number; thr: number } {
  const b = t.baseline ?? 0;
  return { base: (b - off) / sc, thr: Math.abs((t.value - b) / sc) };
}

/** The polarity in raw units: a negative scale flips it. */
export function rawPolarity(p: Polarity, sc: number): Polarity {
  return sc < 0 && p !== 'both' ? (p === 'positive' ? 'negative' : 'positive') : p;
}

/** A dead time in samples. */
export const deadSamples = (seconds: number, fs: number): number => Math.round(seconds * fs);

/**
 * The k·σ excursions that reach the mesial level of the trace's spikes: halfway from the baseline to the
 * median excursion peak (the 50 % reference level of IEEE Std 181-2011). Only when k·σ lies below that
 * level, i.e. σ is far below the spikes' height: on a clean device output σ measures subthreshold signal
 * (an off-state leak, coupling crosstalk), whose bumps would otherwise count (cpg2's v_outB: 17 bumps of
 * 0.2-0.7 mV beside 92 spikes of 70 mV).
 */
function mesialFloor(x: ArrayLike<number>, base: number, thr: number, ex: Int32Array): Int32Array {
  const m = ex.length / 3;
  const h = Float64Array.from({ length: m }, (_, j) => Math.abs(x[ex[3 * j + 1]] - base));
  const mesial = 0.5 * medianOf(h);
  if (!(mesial > thr)) return ex;
  const kept: number[] = [];
  for (let j = 0; j < m; j++) if (h[j] >= mesial) kept.push(ex[3 * j], ex[3 * j + 1], ex[3 * j + 2]);
  return Int32Array.from(kept);
}

/** Peaks of the excursions (start, peak, end triples) whose start is at least `dead` samples after the previous kept spike's start. */
function applyDeadTime(ex: Int32Array, dead: number): Int32Array {
  const out: number[] = [];
  let last = -Infinity;
  for (let k = 0; k < ex.length; k += 3) {
    if (ex[k] - last >= dead) {
      out.push(ex[k + 1]);
      last = ex[k];
    }
  }
  return Int32Array.from(out);
}

function t0(mode: ThresholdSpec['mode']): SpikeResult['noiseMethod'] {
  return mode === 'absolute' ? 'none' : mode === 'sd' ? 'sd' : 'robust';
}

/** One threshold excursion: sample indices of its start, extreme and end, and the values the reset rule reads. */
export interface Excursion {
  start: number;
  peak: number;
  /** The first sample back within the re-arm level (the trace's length for one still open at its end). */
  end: number;
  peakValue: number;
  /** The excursion's last sample and the one at `end` (NaN past the trace). */
  lastValue: number;
  endValue: number;
}

/**
 * The excursion scan as a stream: an excursion starts beyond the threshold and ends when the signal is back
 * within `re` of the baseline, or within half the spike's own height (never beyond the threshold): the
 * hysteresis of the file comment. `push` takes consecutive blocks and returns the excursions that ended in
 * them; one still open goes on in the next block. `scan` runs it over a whole trace, the online detector
 * (online-spikes.ts) block by block, so both find the same excursions.
 */
export class ExcursionScanner {
  private open = false;
  private up = true;
  private start = 0;
  private best = 0;
  private bv = 0;
  private last = NaN;

  constructor(
    readonly base: number,
    readonly thr: number,
    readonly re: number,
    readonly pol: Polarity,
  ) {}

  /** Samples x at indices first, first + 1, ...; appends the excursions that ended to `out`. */
  push(x: ArrayLike<number>, first: number, out: Excursion[]): void {
    const base = this.base;
    const hi = base + this.thr;
    const lo = base - this.thr;
    const reHi = base + this.re;
    const reLo = base - this.re;
    const pos = this.pol !== 'negative';
    const neg = this.pol !== 'positive';
    let { open, up, start, best, bv, last } = this;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (open) {
        const inside = up ? v > Math.max(reHi, Math.min(hi, base + 0.5 * (bv - base))) : v < Math.min(reLo, Math.max(lo, base + 0.5 * (bv - base)));
        if (inside) {
          if (up ? v > bv : v < bv) {
            bv = v;
            best = first + i;
          }
          last = v;
          continue;
        }
        out.push({ start, peak: best, end: first + i, peakValue: bv, lastValue: last, endValue: v });
        open = false;
      }
      // the sample that ended an excursion may start the next (polarity both)
      if ((pos && v > hi) || (neg && v < lo)) {
        open = true;
        up = pos && v > hi;
        start = best = first + i;
        bv = v;
      }
      last = v;
    }
    Object.assign(this, { open, up, start, best, bv, last });
  }

  /** The trace ends at index `n`: an excursion still open ends there. */
  finish(n: number, out: Excursion[]): void {
    if (this.open) out.push({ start: this.start, peak: this.best, end: n, peakValue: this.bv, lastValue: this.last, endValue: NaN });
    this.forget();
  }

  /** A gap in the samples: an open excursion is dropped (its end is unknown) and nothing is inferred across. */
  forget(): void {
    this.open = false;
    this.last = NaN;
  }
}

/** Threshold excursions of a whole trace as (start, peak, end) sample triples (ExcursionScanner). */
function scan(x: ArrayLike<number>, base: number, thr: number, re: number, pol: Polarity): Int32Array {
  const ex: Excursion[] = [];
  const scanner = new ExcursionScanner(base, thr, re, pol);
  scanner.push(x, 0, ex);
  scanner.finish(x.length, ex);
  const out = new Int32Array(3 * ex.length);
  ex.forEach((e, j) => out.set([e.start, e.peak, e.end], 3 * j));
  return out;
}

/** `scan` specialised for Int16Array input (the same rule as ExcursionScanner.push), so the hot loop stays monomorphic. */
function scanInt16(x: Int16Array, base: number, thr: number, re: number, pol: Polarity): Int32Array {
  const out: number[] = [];
  const n = x.length;
  const hi = base + thr;
  const lo = base - thr;
  const reHi = base + re;
  const reLo = base - re;
  const pos = pol !== 'negative';
  const neg = pol !== 'positive';
  let i = 0;
  while (i < n) {
    // tight skip over sub-threshold samples (the common case)
    if (pos && !neg) while (i < n && x[i] <= hi) i++;
    else if (neg && !pos) while (i < n && x[i] >= lo) i++;
    else while (i < n && x[i] <= hi && x[i] >= lo) i++;
    if (i >= n) break;
    const v = x[i];
    if ((pos && v > hi) || (neg && v < lo)) {
      const up = pos && v > hi;
      // follow the excursion to its end, tracking the extreme
      let best = i;
      let bv = v;
      let k = i + 1;
      if (up) {
        // ends below half the spike's height (never above the threshold) or below the re-arm level
        while (k < n && x[k] > Math.max(reHi, Math.min(hi, base + 0.5 * (bv - base)))) {
          if (x[k] > bv) {
            bv = x[k];
            best = k;
          }
          k++;
        }
      } else {
        while (k < n && x[k] < Math.min(reLo, Math.max(lo, base + 0.5 * (bv - base)))) {
          if (x[k] < bv) {
            bv = x[k];
            best = k;
          }
          k++;
        }
      }
      out.push(i, best, k);
      i = k;
    } else {
      i++;
    }
  }
  return Int32Array.from(out);
}

/** Full width at half height in samples, linear interpolation of both crossings. */
function halfWidth(x: ArrayLike<number>, i: number, base: number): number {
  const half = base + (x[i] - base) / 2;
  const up = x[i] > base;
  const above = (v: number) => (up ? v > half : v < half);
  let l = i;
  while (l > 0 && above(x[l - 1])) l--;
  if (l === 0) return NaN;
  let r = i;
  while (r < x.length - 1 && above(x[r + 1])) r++;
  if (r === x.length - 1) return NaN;
  const left = l - 1 + (half - x[l - 1]) / (x[l] - x[l - 1]);
  const right = r + (half - x[r]) / (x[r + 1] - x[r]);
  return right - left;
}

/**
 * Memristive switching events: spikes of dG/dt (S/s), with G the conductance trace (S) sampled at fs.
 * dG/dt by central differences (one-sided at the ends). `conductance` turns V and I traces into G = I/V
 * (NaN where |V| < vMin).
 */
export function detectSwitching(g: ArrayLike<number>, fs: number, opts: SpikeDetectOptions): SpikeResult {
  const n = g.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = g[Math.max(0, i - 1)];
    const b = g[Math.min(n - 1, i + 1)];
    const span = Math.min(n - 1, i + 1) - Math.max(0, i - 1);
    d[i] = span > 0 ? ((b - a) * fs) / span : 0;
  }
  return detectSpikes(d, fs, opts);
}

export function conductance(v: ArrayLike<number>, i: ArrayLike<number>, vMin = 1e-6): Float64Array {
  const g = new Float64Array(Math.min(v.length, i.length));
  for (let k = 0; k < g.length; k++) g[k] = Math.abs(v[k]) < vMin ? NaN : i[k] / v[k];
  return g;
}

/** Runs `detectSpikes` on each named channel. */
export function detectSpikesMulti(
  channels: { name: string; samples: ArrayLike<number>; fs: number; scale?: number; offset?: number }[],
  opts: SpikeDetectOptions,
): Record<string, SpikeResult> {
  const out: Record<string, SpikeResult> = {};
  for (const c of channels) out[c.name] = detectSpikes(c.samples, c.fs, opts, c.scale ?? 1, c.offset ?? 0);
  return out;
}
