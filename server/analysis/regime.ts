/**
 * Regime classification of a run (or of one step of a ladder run) into quiescent, saturated, bursting,
 * oscillatory — or irregular when none applies — following the regime sequence reported for memristive
 * networks as the drive rises (quiescent → oscillatory → bursting → saturated; Hochstetter et al., Nat.
 * Commun. 12, 4008 (2021)). Rules, checked in this order (thresholds are options):
 *   saturated   output latched: over the second half of the window a state variable held at its bound
 *               (≥ 0.99), or the output held flat (range < 1 % of its level) at or beyond the spike
 *               threshold, or the conduction I/V held flat at or above the median conduction at the
 *               run's spikes (a permanently conducting path conducts at least as much as a path that has
 *               just switched; behind a source resistance a large network's off-state leakage reaches
 *               half of that without any path on), or — with no spikes to compare with, as
 *               for a latched switch recorded without its state — the response per unit stimulus held flat
 *               at ten times or more the run's lowest (a switch that turned on and stayed on; one decade,
 *               ours, well inside the ON/OFF ratios of threshold switches), or a current held at the
 *               instrument's compliance; or activeFraction >= maxActiveFraction
 *               (0.5); or rate >= saturationRate
 *   quiescent   rate < minRate (default 0.1 Hz)
 *   bursting    the ISI distribution is bimodal (log-ISI histogram with a void >= 0.7 between an
 *               intra-burst and an inter-burst peak, Pasquale et al. 2010; Selinger et al. 2007) and
 *               burstFraction >= minBurstFraction (0.5)
 *   oscillatory CV <= maxRegularCv (0.3), or a spectral peak (spectra.detectOscillation, harmonics folded
 *               to the fundamental)
 *   irregular   otherwise
 * The result carries every feature and a reason in words with rounded numbers.
 */
import { logIsiBursts } from './bursts.ts';
import { detectOscillation, welch } from './spectra.ts';
import { isis } from './trains.ts';

export type Regime = 'quiescent' | 'oscillatory' | 'bursting' | 'saturated' | 'irregular';

export interface RegimeFeatures {
  /** Spikes per second. */
  rate: number;
  /** Coefficient of variation of the ISIs (0 with fewer than 2 ISIs). */
  cv: number;
  /** Fraction of spikes in bursts (log-ISI method). */
  burstFraction: number;
  /** The log-ISI histogram has an intra- and an inter-burst peak (its threshold, s; NaN when unimodal). */
  isiThreshold: number;
  /** Fraction of samples beyond the detection threshold. */
  activeFraction: number;
  /** Why the output counts as latched (a sentence), or null. */
  latched: string | null;
  oscillating: boolean;
  /** Fundamental frequency of the strongest spectral peak (harmonics folded), Hz. */
  peakFrequency: number;
  peakRatio: number;
}

export interface RegimeThresholds {
  minRate?: number;
  maxActiveFraction?: number;
  saturationRate?: number;
  minBurstFraction?: number;
  maxRegularCv?: number;
}

export interface RegimeWindow {
  /** Spike times in the window, s (any origin). */
  times: ArrayLike<number>;
  /** Window length, s. */
  duration: number;
  /** The detected channel's samples in the window, physical unit. */
  trace: Float64Array;
  fs: number;
  /** Detection baseline and threshold distance (physical unit) and the side(s) detected. */
  baseline: number;
  threshold: number;
  polarity: 'positive' | 'negative' | 'both';
  /** State variables in [0, 1] over the window (e.g. a twin's x_ channels), with their names. */
  states?: { name: string; values: Float64Array }[];
  /** Conduction I/V over the window (S) and the median conduction at the run's spikes (the reference). */
  conduction?: { values: Float64Array; atSpikes: number };
  /**
   * Response per unit stimulus |response/stimulus| over the window (NaN where the stimulus is off), the
   * run's lowest, the response's name and the transfer's unit (Ω, S, ...).
   */
  transfer?: { values: Float64Array; lowest: number; name: string; unit: string };
  /** The instrument's current compliance (A) when the response is that current. */
  compliance?: number;
  oscillationRatio?: number;
}

const fmt = (x: number) => (Number.isFinite(x) ? String(+x.toPrecision(3)) : String(x));
const pct = (x: number) => `${Math.round(100 * x)} %`;
const hz = (f: number) => (f >= 1000 ? `${fmt(f / 1000)} kHz` : `${fmt(f)} Hz`);
/** A value with an SI prefix: 3.45e-5, 'S' → '34.5 µS'. */
const si = (x: number, unit: string) => {
  const e = x === 0 || !Number.isFinite(x) ? 0 : Math.max(-4, Math.min(3, Math.floor(Math.log10(Math.abs(x)) / 3)));
  return `${fmt(x / 10 ** (3 * e))} ${['p', 'n', 'µ', 'm', '', 'k', 'M', 'G'][e + 4]}${unit}`;
};
const sec = (t: number) => (t < 1e-3 ? `${fmt(t * 1e6)} µs` : t < 1 ? `${fmt(t * 1e3)} ms` : `${fmt(t)} s`);

/** Features of one window for classifyRegime. */
export function regimeFeatures(w: RegimeWindow): RegimeFeatures {
  const n = w.times.length;
  const d = isis(w.times);
  let cv = 0;
  if (d.length >= 2) {
    const m = d.reduce((a, b) => a + b, 0) / d.length;
    cv = m > 0 ? Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (d.length - 1)) / m : 0;
  }
  const b = logIsiBursts(w.times, {}, w.duration);
  let active = 0;
  for (const v of w.trace) {
    const x = v - w.baseline;
    if ((w.polarity !== 'negative' && x > w.threshold) || (w.polarity !== 'positive' && x < -w.threshold)) active++;
  }
  let latched: string | null = null;
  const half = (x: Float64Array) => x.subarray(Math.floor(x.length / 2));
  for (const s of w.states ?? []) {
    const h = half(s.values);
    if (h.length && h.every((v) => v >= 0.99)) latched = `${s.name} held at its bound (${fmt(h[h.length - 1])})`;
  }
  const h = half(w.trace);
  if (!latched && h.length) {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const v of h) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
    }
    const level = sum / h.length;
    const beyond = (w.polarity !== 'negative' && level - w.baseline >= w.threshold) || (w.polarity !== 'positive' && w.baseline - level >= w.threshold);
    if (beyond && hi - lo <= 0.01 * Math.abs(level)) latched = `output held at ${fmt(level)}, beyond the spike threshold`;
  }
  if (!latched && w.conduction && w.conduction.atSpikes > 0) {
    const g = half(w.conduction.values).filter(Number.isFinite);
    if (g.length) {
      const level = g.reduce((a, b) => a + b, 0) / g.length;
      const flat = Math.max(...g) - Math.min(...g) <= 0.01 * Math.abs(level);
      if (flat && level >= w.conduction.atSpikes) latched = `conduction held at ${si(level, 'S')}, at least the conduction at the run's spikes (${si(w.conduction.atSpikes, 'S')})`;
    }
  }
  if (!latched && w.transfer && !(w.conduction && w.conduction.atSpikes > 0)) {
    // only with no spikes to compare with (a network's leakage rises tenfold along a ladder with no path on);
    // held flat over (nearly) all of the second half, with the stimulus on
    const all = half(w.transfer.values);
    const t = all.filter(Number.isFinite);
    if (t.length && t.length >= 0.9 * all.length) {
      const level = t.reduce((a, b) => a + b, 0) / t.length;
      const flat = Math.max(...t) - Math.min(...t) <= 0.01 * level;
      const ratio = level / w.transfer.lowest;
      if (flat && level > 0 && ratio >= 10) {
        const u = w.transfer.unit;
        latched = `${w.transfer.name} per unit stimulus held at ${si(level, u)}, ${ratio < 1000 ? `${fmt(ratio)}×` : 'over 1000×'} the run's lowest (${si(w.transfer.lowest, u)})`;
      }
    }
  }
  if (!latched && w.compliance !== undefined && h.length) {
    let lo = Infinity;
    for (const v of h) lo = Math.min(lo, Math.abs(v));
    if (lo >= 0.99 * w.compliance) latched = `current held at the instrument's compliance (${si(w.compliance, 'A')})`;
  }
  let osc = { oscillating: false, frequency: NaN, peakRatio: NaN };
  if (w.trace.length >= 256 && n >= 2) osc = detectOscillation(welch(w.trace, w.fs, { segment: 2 ** Math.floor(Math.log2(Math.min(w.trace.length, 4096))) }), w.oscillationRatio);
  return {
    rate: w.duration > 0 ? n / w.duration : 0,
    cv,
    burstFraction: Number.isFinite(b.burstFraction) ? b.burstFraction : 0,
    isiThreshold: b.isiThreshold ?? NaN,
    activeFraction: w.trace.length ? active / w.trace.length : 0,
    latched,
    oscillating: osc.oscillating,
    peakFrequency: osc.oscillating ? osc.frequency : NaN,
    peakRatio: osc.peakRatio,
  };
}

export function classifyRegime(f: RegimeFeatures, t: RegimeThresholds = {}): { regime: Regime; reason: string; features: RegimeFeatures } {
  const minRate = t.minRate ?? 0.1;
  const maxActive = t.maxActiveFraction ?? 0.5;
  const satRate = t.saturationRate ?? Infinity;
  const minBurst = t.minBurstFraction ?? 0.5;
  const maxRegularCv = t.maxRegularCv ?? 0.3;
  const out = (regime: Regime, reason: string) => ({ regime, reason, features: f });
  if (f.latched) return out('saturated', `latched: ${f.latched}`);
  if (f.activeFraction >= maxActive) return out('saturated', `beyond the spike threshold ${pct(f.activeFraction)} of the time (saturated from ${pct(maxActive)})`);
  if (f.rate >= satRate) return out('saturated', `firing at ${hz(f.rate)}, at or above the saturation rate ${hz(satRate)}`);
  if (!(f.rate >= minRate)) return out('quiescent', `no sustained firing: ${hz(f.rate)}, below ${hz(minRate)}`);
  if (f.isiThreshold > 0 && f.burstFraction >= minBurst) {
    return out('bursting', `bimodal intervals (bursts split at ${sec(f.isiThreshold)}), ${pct(f.burstFraction)} of spikes in bursts (from ${pct(minBurst)})`);
  }
  if (f.cv <= maxRegularCv) return out('oscillatory', `regular firing at ${hz(f.rate)} (interval CV ${fmt(f.cv)}, regular up to ${fmt(maxRegularCv)})`);
  if (f.oscillating) return out('oscillatory', `spectral peak at ${hz(f.peakFrequency)}, ${fmt(f.peakRatio)}× the background`);
  return out('irregular', `irregular firing at ${hz(f.rate)}: interval CV ${fmt(f.cv)}, unimodal intervals, no spectral peak`);
}

export interface PhasePoint {
  /** Swept parameter values of this run, e.g. { voltage: 1.2 }. */
  params: Record<string, number>;
  regime: Regime;
}

/**
 * Phase diagram over a parameter sweep: the points sorted by `param`, and the transitions (midpoints
 * between consecutive points whose regime differs) along it.
 */
export function phaseDiagram(points: PhasePoint[], param: string): { param: string; points: PhasePoint[]; transitions: { at: number; from: Regime; to: Regime }[] } {
  const sorted = points.filter((p) => Number.isFinite(p.params[param])).sort((a, b) => a.params[param] - b.params[param]);
  const transitions: { at: number; from: Regime; to: Regime }[] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].regime !== sorted[i - 1].regime) {
      transitions.push({ at: (sorted[i].params[param] + sorted[i - 1].params[param]) / 2, from: sorted[i - 1].regime, to: sorted[i].regime });
    }
  }
  return { param, points: sorted, transitions };
}
