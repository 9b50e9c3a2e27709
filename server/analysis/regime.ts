/**
 * Regime classification of one run into quiescent, saturated, bursting, oscillatory — or irregular when
 * none applies — from spike-train and spectral features, following the regime sequence reported for
 * memristive networks as the drive rises (quiescent → oscillatory → bursting → saturated; Hochstetter et
 * al., Nat. Commun. 12, 4008 (2021)). Rules, checked in this order (thresholds are options):
 *   quiescent   rate < minRate (default 0.1 Hz)
 *   saturated   activeFraction >= maxActiveFraction (0.5: the trace spends half the time above threshold)
 *               or rate >= saturationRate (default Infinity)
 *   bursting    burstFraction >= minBurstFraction (0.5) and CV >= minBurstCv (1)
 *   oscillatory spectral peak detected (see spectra.detectOscillation) or CV <= maxRegularCv (0.3)
 *   irregular   otherwise
 * The result carries every feature value and the rule that decided.
 */

export type Regime = 'quiescent' | 'oscillatory' | 'bursting' | 'saturated' | 'irregular';

export interface RegimeFeatures {
  /** Spikes per second. */
  rate: number;
  cv: number;
  burstFraction: number;
  /** Fraction of samples beyond the detection threshold. */
  activeFraction: number;
  oscillating: boolean;
  /** Frequency of the strongest spectral peak, Hz. */
  peakFrequency: number;
  peakRatio: number;
}

export interface RegimeThresholds {
  minRate?: number;
  maxActiveFraction?: number;
  saturationRate?: number;
  minBurstFraction?: number;
  minBurstCv?: number;
  maxRegularCv?: number;
}

export function classifyRegime(f: RegimeFeatures, t: RegimeThresholds = {}): { regime: Regime; reason: string; features: RegimeFeatures } {
  const minRate = t.minRate ?? 0.1;
  const maxActive = t.maxActiveFraction ?? 0.5;
  const satRate = t.saturationRate ?? Infinity;
  const minBurst = t.minBurstFraction ?? 0.5;
  const minBurstCv = t.minBurstCv ?? 1;
  const maxRegularCv = t.maxRegularCv ?? 0.3;
  const out = (regime: Regime, reason: string) => ({ regime, reason, features: f });
  if (!(f.rate >= minRate)) return out('quiescent', `rate ${f.rate} Hz < ${minRate} Hz`);
  if (f.activeFraction >= maxActive) return out('saturated', `active fraction ${f.activeFraction} >= ${maxActive}`);
  if (f.rate >= satRate) return out('saturated', `rate ${f.rate} Hz >= ${satRate} Hz`);
  if (f.burstFraction >= minBurst && f.cv >= minBurstCv) return out('bursting', `burst fraction ${f.burstFraction} >= ${minBurst} and CV ${f.cv} >= ${minBurstCv}`);
  if (f.oscillating) return out('oscillatory', `spectral peak at ${f.peakFrequency} Hz, ${f.peakRatio}x background`);
  if (f.cv <= maxRegularCv) return out('oscillatory', `regular firing, CV ${f.cv} <= ${maxRegularCv}`);
  return out('irregular', 'no rule matched');
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
