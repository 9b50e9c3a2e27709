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
 * A chirp is turned into sweep points by `chirpPoints`: the run is cut into windows, each labelled with
 * the chirp's instantaneous frequency at its centre.
 */

export interface SweepPoint {
  /** Stimulus frequency, Hz. */
  frequency: number;
  /** Response measure (unit of the chosen measure). */
  response: number;
}

export interface ResonanceResult {
  points: SweepPoint[];
  resonanceFrequency: number;
  peakResponse: number;
  baselineResponse: number;
  onsetFraction: number;
  onsetFrequency: number;
  optimalFrequency: number;
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
  for (let i = 0; i < points.length; i++) {
    if (points[i].response >= level) {
      if (i === 0) onset = points[0].frequency;
      else {
        const a = points[i - 1];
        const b = points[i];
        onset = a.frequency + ((level - a.response) / (b.response - a.response)) * (b.frequency - a.frequency);
        optimal = a.frequency;
      }
      break;
    }
  }
  return {
    points,
    resonanceFrequency: points[ip].frequency,
    peakResponse: peak,
    baselineResponse: base,
    onsetFraction: fraction,
    onsetFrequency: onset,
    optimalFrequency: optimal,
  };
}

/**
 * Sweep points from a linear chirp f(t) = f0 + (f1 - f0) t / T (t from the chirp start, s): the response in
 * each of `windows` equal windows is the spike rate (spikes/s) there.
 */
export function chirpPoints(spikeTimes: ArrayLike<number>, chirp: { f0: number; f1: number; duration: number; start?: number }, windows = 20): SweepPoint[] {
  const t0 = chirp.start ?? 0;
  const w = chirp.duration / windows;
  const counts = new Array<number>(windows).fill(0);
  for (let i = 0; i < spikeTimes.length; i++) {
    const k = Math.floor((spikeTimes[i] - t0) / w);
    if (k >= 0 && k < windows) counts[k]++;
  }
  return counts.map((c, k) => ({ frequency: chirp.f0 + ((chirp.f1 - chirp.f0) * (k + 0.5)) / windows, response: c / w }));
}
