/**
 * Burst detection on one spike train (times in s).
 *
 * - Max-interval method (NeuroExplorer; as reviewed by Cotterill et al., J. Neurophysiol. 116, 306 (2016)):
 *   a burst starts at an ISI <= maxBeginIsi, continues while ISIs <= maxEndIsi; bursts closer than
 *   minIbi are merged; bursts shorter than minDuration or with fewer than minSpikes spikes are dropped.
 *   NeuroExplorer's defaults (0.17 s, 0.3 s, 0.2 s, 10 ms) are made for cortical neurons and merge every
 *   burst of a µs–ms device into one; here the defaults scale with the train's own mean ISI m (our rule):
 *   maxBeginIsi = 0.8·m, maxEndIsi = m, minIbi = m, minDuration = 0 (a burst begins at an interval clearly
 *   shorter than the mean and lasts while intervals stay below it). The values used are reported.
 * - log-ISI histogram method (Pasquale, Martinoia, Chiappalone, J. Comput. Neurosci. 29, 213 (2010)):
 *   histogram of log10(ISI) (bins of 0.1 decade, smoothed over 3 bins); the intra-burst peak is the
 *   largest peak below `maxIntraIsi` (100 ms); the ISI threshold is the minimum between it and the next
 *   peak with the largest void parameter 1 - h_min/sqrt(h_1 h_2), if that is >= 0.7 (peaks lower than
 *   max(1, 5 % of the intra-burst peak) — a few stray long intervals — are not candidates); bursts are runs of
 *   >= minSpikes spikes with ISI <= threshold. No such peak pair means no bursts (threshold NaN).
 */

export interface Burst {
  start: number;
  end: number;
  nSpikes: number;
}

export interface BurstSummary {
  bursts: Burst[];
  /** Bursts per second over the window. */
  burstRate: number;
  meanDuration: number;
  meanSpikesPerBurst: number;
  /** Fraction of all spikes that lie in bursts. */
  burstFraction: number;
  /** log-ISI method only: the ISI threshold used, s. */
  isiThreshold?: number;
  /** max-interval method only: the parameters used, s (given, or scaled to the train). */
  maxInterval?: { maxBeginIsi: number; maxEndIsi: number; minIbi: number; minDuration: number; scaledTo: 'given' | 'mean-isi' };
}

export interface MaxIntervalOptions {
  maxBeginIsi?: number;
  maxEndIsi?: number;
  minIbi?: number;
  minDuration?: number;
  minSpikes?: number;
}

function summary(bursts: Burst[], nSpikes: number, duration: number): BurstSummary {
  let d = 0;
  let s = 0;
  for (const b of bursts) {
    d += b.end - b.start;
    s += b.nSpikes;
  }
  const k = bursts.length;
  return {
    bursts,
    burstRate: duration > 0 ? k / duration : NaN,
    meanDuration: k ? d / k : NaN,
    meanSpikesPerBurst: k ? s / k : NaN,
    burstFraction: nSpikes ? s / nSpikes : NaN,
  };
}

/** Defaults scaled to the train's mean ISI m: maxBeginIsi 0.8·m, maxEndIsi m, minIbi m, minDuration 0; minSpikes 3. */
export function maxIntervalBursts(times: ArrayLike<number>, opts: MaxIntervalOptions = {}, duration?: number): BurstSummary {
  const n = times.length;
  const m = n >= 2 ? (times[n - 1] - times[0]) / (n - 1) : NaN;
  const scaled = opts.maxBeginIsi === undefined || opts.maxEndIsi === undefined || opts.minIbi === undefined || opts.minDuration === undefined;
  const begin = opts.maxBeginIsi ?? 0.8 * m;
  const endIsi = opts.maxEndIsi ?? m;
  const minIbi = opts.minIbi ?? m;
  const minDur = opts.minDuration ?? 0;
  const minSpikes = opts.minSpikes ?? 3;
  const used = { maxBeginIsi: begin, maxEndIsi: endIsi, minIbi, minDuration: minDur, scaledTo: scaled ? ('mean-isi' as const) : ('given' as const) };
  const raw: { s: number; e: number }[] = []; // spike index ranges
  let i = 0;
  while (i < n - 1) {
    if (times[i + 1] - times[i] <= begin) {
      let e = i + 1;
      while (e + 1 < n && times[e + 1] - times[e] <= endIsi) e++;
      raw.push({ s: i, e });
      i = e + 1;
    } else i++;
  }
  const merged: { s: number; e: number }[] = [];
  for (const b of raw) {
    const last = merged[merged.length - 1];
    if (last && times[b.s] - times[last.e] < minIbi) last.e = b.e;
    else merged.push({ ...b });
  }
  const bursts = merged
    .map((b) => ({ start: times[b.s], end: times[b.e], nSpikes: b.e - b.s + 1 }))
    .filter((b) => b.end - b.start >= minDur && b.nSpikes >= minSpikes);
  return { ...summary(bursts, n, duration ?? (n ? times[n - 1] - times[0] : 0)), maxInterval: used };
}

export function logIsiBursts(
  times: ArrayLike<number>,
  opts: { maxIntraIsi?: number; minSpikes?: number; voidThreshold?: number } = {},
  duration?: number,
): BurstSummary {
  const n = times.length;
  const dur = duration ?? (n ? times[n - 1] - times[0] : 0);
  const maxIntra = opts.maxIntraIsi ?? 0.1;
  const minSpikes = opts.minSpikes ?? 3;
  const voidTh = opts.voidThreshold ?? 0.7;
  const logs: number[] = [];
  for (let i = 1; i < n; i++) if (times[i] > times[i - 1]) logs.push(Math.log10(times[i] - times[i - 1]));
  if (logs.length < 3) return { ...summary([], n, dur), isiThreshold: NaN };
  const bin = 0.1;
  const lo = Math.floor(Math.min(...logs) / bin) * bin;
  const nb = Math.floor((Math.max(...logs) - lo) / bin) + 1;
  const h = new Float64Array(nb);
  for (const l of logs) h[Math.min(nb - 1, Math.floor((l - lo) / bin))]++;
  const sm = h.map((_, i) => (h[Math.max(0, i - 1)] + h[i] + h[Math.min(nb - 1, i + 1)]) / 3);
  const peaks: number[] = [];
  for (let i = 0; i < nb; i++) {
    const l = i > 0 ? sm[i - 1] : -Infinity;
    const r = i + 1 < nb ? sm[i + 1] : -Infinity;
    if (sm[i] > 0 && sm[i] >= l && sm[i] > r) peaks.push(i);
  }
  const centre = (i: number) => 10 ** (lo + (i + 0.5) * bin);
  const intra = peaks.filter((p) => centre(p) <= maxIntra).sort((a, b) => sm[b] - sm[a])[0];
  let threshold = NaN;
  if (intra !== undefined) {
    let bestVoid = -Infinity;
    for (const p of peaks) {
      // a peak made of a few stray long intervals (a Poisson tail) is not an inter-burst mode
      if (p <= intra || sm[p] < Math.max(1, 0.05 * sm[intra])) continue;
      let m = intra;
      for (let k = intra; k <= p; k++) if (sm[k] < sm[m]) m = k;
      const v = 1 - sm[m] / Math.sqrt(sm[intra] * sm[p]);
      if (v > bestVoid) {
        bestVoid = v;
        if (v >= voidTh) threshold = centre(m);
      }
    }
  }
  const bursts: Burst[] = [];
  if (threshold > 0) {
    let i = 0;
    while (i < n - 1) {
      if (times[i + 1] - times[i] <= threshold) {
        let e = i + 1;
        while (e + 1 < n && times[e + 1] - times[e] <= threshold) e++;
        if (e - i + 1 >= minSpikes) bursts.push({ start: times[i], end: times[e], nSpikes: e - i + 1 });
        i = e + 1;
      } else i++;
    }
  }
  return { ...summary(bursts, n, dur), isiThreshold: threshold };
}
