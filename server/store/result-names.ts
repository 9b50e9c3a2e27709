/**
 * Stored analysis results keep the field names they were written with; reading one renames the fields of
 * older shapes to today's (docs/analysis.md "Naming convention"), so a result stored by an earlier
 * spikeloop reads as common/schemas/analysis-results.ts declares it. Each row of `analyses` records the
 * shape it was written in (`shape`, schema migration 6; rows from before it are shape 1), and so does each
 * row of `sweeps` for its points' spike-stats (migration 7). A later rename is a new entry of RENAMES (or
 * SWEEP_RENAMES), applied after the ones before it, together with a schema migration (an empty one will
 * do): the shape column needs none, but without it a spikeloop of today opens the file and answers the newer
 * names as its own schema; with it, it refuses the file (STORE_TOO_NEW).
 */

/** A rename spec: a key mapped to its new name, or to a spec for its value (an object, or an array of objects). */
interface Spec {
  [key: string]: string | Spec;
}

const isiHist: Spec = { edges: 'edges_s' };
const acg: Spec = { lags: 'lags_s' };
const powerLawFit: Spec = { n: 'n_values', log_lik: 'log_likelihood' };
const mixture: Spec = { log_lik: 'log_likelihood' };
const features: Spec = { rate: 'rate_hz', cv: 'isi_cv', isi_threshold: 'isi_threshold_s', peak_frequency: 'peak_frequency_hz' };
const resonance: Spec = Object.fromEntries(
  ['resonance_frequency', 'onset_frequency', 'optimal_frequency', 'resonance_uncertainty', 'onset_uncertainty', 'optimal_uncertainty'].map((k) => [k, `${k}_hz`]),
);
const regimeRun: Spec = { features, dead_time: 'dead_time_s', steps: { features } };
const stdpBranch: Spec = { tau: 'tau_s', n: 'n_pairs' };

/**
 * Shape 1 → 2: units as the last part of a name (`_s`, `_hz`), counts as `n_<what>`, `log_likelihood`.
 * Only analyses of runs are stored (registry.ts RUN_ANALYSES), so powerlaw and distance have no entry.
 */
const SHAPE_2: Record<string, Spec> = {
  spikes: {
    channels: {
      sample_rate: 'sample_rate_hz',
      duration: 'duration_s',
      filled_samples: 'n_filled_samples',
      count: 'n_spikes',
      dead_time: 'dead_time_s',
      times: 'times_s',
      widths: 'widths_s',
      stats: { rate: 'rate_hz', isi_mean: 'isi_mean_s', cv: 'isi_cv', fano_window: 'fano_window_s', isi_hist: isiHist, acg },
      adaptation: { initial_rate: 'initial_rate_hz', steady_rate: 'steady_rate_hz' },
      mixtures: { amplitude: mixture, width: mixture, log10_isi: mixture },
    },
  },
  bursts: {
    channels: {
      spikes: 'n_spikes',
      bursts: { start: 'start_s', end: 'end_s' },
      burst_rate: 'burst_rate_hz',
      mean_duration: 'mean_duration_s',
      isi_threshold: 'isi_threshold_s',
      max_interval: { max_begin_isi: 'max_begin_isi_s', max_end_isi: 'max_end_isi_s', min_ibi: 'min_ibi_s', min_duration: 'min_duration_s' },
    },
  },
  avalanches: { events: 'n_events', count: 'n_avalanches', bin_width: 'bin_width_s', size: powerLawFit, duration: powerLawFit },
  psd: {
    channels: {
      df: 'df_hz',
      segments: 'n_segments',
      dominant: { frequency: 'frequency_hz' },
      oscillation: { frequency: 'frequency_hz', strongest: 'strongest_hz' },
      band_power: { band: 'band_hz' },
      freqs: 'freqs_hz',
    },
  },
  resonance: {
    ...resonance,
    chirp: { f0: 'f0_hz', f1: 'f1_hz' },
    measures: { rate: resonance, harmonics: resonance, conductance_swing: resonance },
    points: { frequency: 'frequency_hz', span: 'span_hz', count: 'n_spikes', rate: 'rate_hz' },
  },
  // one run, or several (`runs`) with their phase diagram
  regime: { ...regimeRun, runs: regimeRun },
  compare: { measured: { spikes: 'n_spikes' }, simulated: { spikes: 'n_spikes' }, duration: 'duration_s' },
  phase: { reference: { spikes: 'n_spikes' }, unit: { spikes: 'n_spikes' }, dead_time: 'dead_time_s', times: 'times_s', n: 'n_phases' },
  stdp: { pairs: { dt: 'dt_s' }, fit: { potentiation: stdpBranch, depression: stdpBranch, tau_plus: 'tau_plus_s', tau_minus: 'tau_minus_s' } },
  'spike-stats': { count: 'n_spikes', mean_isi_s: 'isi_mean_s', cv_isi: 'isi_cv' },
  'spike-train': { n: 'n_spikes', duration: 'duration_s', rate: 'rate_hz', isi_mean: 'isi_mean_s', fano_window: 'fano_window_s', isi_hist: isiHist, acg },
};

/** The renames by the shape they lead to: RENAMES[k] takes shape k + 1 to shape k + 2. */
const RENAMES: readonly Record<string, Spec>[] = [SHAPE_2];

/** The shape results are written in today. */
export const RESULT_SHAPE = RENAMES.length + 1;

/** A sweep point's spike-stats (common/schemas/sweeps.ts PointStats), shape 1 → 2: spike-stats's names in the API's camelCase. */
const pointStats: Spec = { count: 'nSpikes', meanIsiS: 'isiMeanS', cvIsi: 'isiCv' };
const SWEEP_RENAMES: readonly Spec[] = [{ stats: pointStats, twinStats: pointStats }];

/** The shape sweep points are written in today. */
export const SWEEP_SHAPE = SWEEP_RENAMES.length + 1;

function rename(value: unknown, spec: Spec): unknown {
  if (Array.isArray(value)) return value.map((v) => rename(v, spec));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const s = Object.hasOwn(spec, k) ? spec[k] : undefined;
      if (s === undefined) return [k, v];
      return typeof s === 'string' ? [s, v] : [k, rename(v, s)];
    }),
  );
}

/** A stored result of analysis `name` written in `shape`, with today's field names. */
export function currentResult(name: string, shape: number, result: unknown): unknown {
  return RENAMES.slice(shape - 1).reduce((r, specs) => (specs[name] ? rename(r, specs[name]) : r), result);
}

/** A stored sweep's points written in `shape`, with today's field names. */
export function currentSweepPoints(shape: number, points: unknown[]): unknown[] {
  return SWEEP_RENAMES.slice(shape - 1).reduce<unknown[]>((p, spec) => p.map((x) => rename(x, spec)), points);
}
