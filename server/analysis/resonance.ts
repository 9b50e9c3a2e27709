/**
 * Resonance sweep: the response of the network (spike count, spike rate or nonlinear harmonic power) at
 * each stimulus frequency, the resonance frequency (largest response) and the optimal operating
 * frequency, after Xu, Gottwald, Kuncic (arXiv 2604.18015, 2026): the highest frequency below resonance
 * onset.
 *
 * Onset rule (ours, stated so it can be checked): let R_peak be the largest response and R_base the
 * smallest response at or below the resonance frequency. Scanning upwards from the lowest frequency, the
 * onset is the first frequency where R >= R_base + fraction · (R_peak - R_base) (fraction default 0.1),
 * linearly interpolated between the two sweep points around the crossing. The optimal operating frequency
 * is the highest swept frequency strictly below the onset (NaN when the very first point already
 * exceeds it).
 *
 * A chirp is turned into sweep points by `chirpWindows`/`chirpPoints`: the run is cut into equal time
 * windows, each labelled with the chirp's instantaneous frequency at its centre — f0 + (f1 − f0)·t/T for a
 * linear sweep, f0·(f1/f0)^(t/T) for a logarithmic one — and the frequency span it covers, which is the
 * frequency resolution and is reported as the uncertainty of the resonance, onset and optimal frequencies.
 *
 * No response: when the response does not rise above its own counting noise — the largest window count
 * exceeds the smallest by no more than 2·√(largest) (two Poisson standard deviations) — there is no
 * resonance to report (`noResponse`), rather than the first window's frequency.
 */

export interface SweepPoint {
  /** Stimulus frequency, Hz. */
  frequency: number;
  /** Response measure (unit of the chosen measure). */
  response: number;
  /** Frequency span the point stands for, Hz (its resolution); optional. */
  span?: number;
}

export interface ResonanceResult {
  points: SweepPoint[];
  resonanceFrequency: number;
  peakResponse: number;
  baselineResponse: number;
  onsetFraction: number;
  onsetFrequency: number;
  optimalFrequency: number;
  /** Frequency resolution at the resonance, onset and optimal frequencies, Hz (NaN without spans). */
  resonanceUncertainty: number;
  onsetUncertainty: number;
  optimalUncertainty: number;
}

export function resonanceSweep(pointsIn: SweepPoint[], opts: { onsetFraction?: number } = {}): ResonanceResult {
  const fraction = opts.onsetFraction ?? 0.1;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError('onset fraction must be in (0, 1]');
  const points = pointsIn.filter((p) => Number.isFinite(p.frequency) && Number.isFinite(p.response)).sort((a, b) => a.frequency - b.frequency);
  if (points.length < 2) throw new RangeError('a resonance sweep needs at least 2 frequencies');
  let ip = 0;
  for (let i = 1; i < points.length; i++) if (points[i].response > points[ip].response) ip = i;
  let base = Infinity;
  for (let i = 0; i <= ip; i++) base = Math.min(base, points[i].response);
  const peak = points[ip].response;
  const level = base + fraction * (peak - base);
  let onset = NaN;
  let optimal = NaN;
  let onsetU = NaN;
  let optimalU = NaN;
  const span = (q: SweepPoint) => q.span ?? NaN;
  for (let i = 0; i < points.length; i++) {
    if (points[i].response >= level) {
      if (i === 0) {
        onset = points[0].frequency;
        onsetU = span(points[0]);
      } else {
        const a = points[i - 1];
        const b = points[i];
        onset = a.frequency + ((level - a.response) / (b.response - a.response)) * (b.frequency - a.frequency);
        optimal = a.frequency;
        onsetU = Math.max(span(a), span(b));
        optimalU = span(a);
      }
      break;
    }
  }
  return {
    resonanceUncertainty: span(points[ip]),
    onsetUncertainty: onsetU,
    optimalUncertainty: optimalU,
    points,
    resonanceFrequency: points[ip].frequency,
    peakResponse: peak,
    baselineResponse: base,
    onsetFraction: fraction,
    onsetFrequency: onset,
    optimalFrequency: optimal,
  };
}

export interface Chirp {
  f0: number;
  f1: number;
  /** Sweep length, s. */
  duration: number;
  /** Sweep start in the trace, s (default 0). */
  start?: number;
  sweep?: 'linear' | 'log';
}

/** Instantaneous frequency of a chirp t s after its start, Hz. */
export function chirpFrequency(c: Chirp, t: number): number {
  const u = t / c.duration;
  return c.sweep === 'log' && c.f0 > 0 && c.f1 > 0 ? c.f0 * (c.f1 / c.f0) ** u : c.f0 + (c.f1 - c.f0) * u;
}

/** The chirp cut into `windows` equal time windows: [start, end) in s of the trace, centre frequency and span, Hz. */
export function chirpWindows(c: Chirp, windows = 20): { start: number; end: number; frequency: number; span: number }[] {
  if (!(c.duration > 0)) throw new RangeError('chirp duration must be > 0 s');
  if (c.sweep === 'log' && !(c.f0 > 0 && c.f1 > 0)) throw new RangeError('a logarithmic chirp needs f0, f1 > 0');
  const t0 = c.start ?? 0;
  const w = c.duration / windows;
  return Array.from({ length: windows }, (_, k) => ({
    start: t0 + k * w,
    end: t0 + (k + 1) * w,
    frequency: chirpFrequency(c, (k + 0.5) * w),
    span: Math.abs(chirpFrequency(c, (k + 1) * w) - chirpFrequency(c, k * w)),
  }));
}

/** Sweep points of a chirp: the spike rate (spikes/s) in each window, with the window's span. */
export function chirpPoints(spikeTimes: ArrayLike<number>, chirp: Chirp, windows = 20): SweepPoint[] {
  return chirpWindows(chirp, windows).map((w) => {
    let n = 0;
    for (let i = 0; i < spikeTimes.length; i++) if (spikeTimes[i] >= w.start && spikeTimes[i] < w.end) n++;
    return { frequency: w.frequency, response: n / (w.end - w.start), span: w.span };
  });
}

/** True when the largest count exceeds the smallest by more than two Poisson standard deviations (2·√largest). */
export function aboveCountingNoise(counts: ArrayLike<number>): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < counts.length; i++) {
    lo = Math.min(lo, counts[i]);
    hi = Math.max(hi, counts[i]);
  }
  return hi - lo > 2 * Math.sqrt(hi);
}
