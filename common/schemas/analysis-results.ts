/**
 * The result of every analysis of the registry (server/analysis-io/registry.ts declares each one's
 * `result`), as it is stored with a run and sent by the API and the CLI's --json: snake_case keys (keys
 * without a lower-to-upper step, such as `R` or `Aplus`, kept), typed arrays as arrays, a non-finite
 * number as null (server/analysis-io/json.ts toJson; docs/analysis.md "Naming convention"). Objects are
 * closed: a field added, renamed or dropped in the code and not here fails the typecheck (the registry's
 * `define` asks each analysis's `run` for exactly this Static type) and test/analysis-results.test.ts,
 * which runs every analysis on stored runs and checks each result with TypeBox's compiler. docs/analysis.md
 * "Results" lists these fields (generated from them, checked by server/analysis-io/registry-docs.test.ts).
 */
import { Type, type Static, type TProperties, type TSchema } from 'typebox';
import { nullable, oneOf } from './shared.ts';

/** A closed object: every field the code sends is listed. */
const obj = <T extends TProperties>(props: T, description?: string) => Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
/** A computed quantity: null where it is undefined (no spikes, a fit that failed ...). */
const num = (description?: string) => nullable(Type.Number(), description);
const int = (description?: string) => Type.Integer(description ? { description } : {});
const str = (description?: string) => Type.String(description ? { description } : {});
const numbers = (description?: string) => Type.Array(Type.Number(), description ? { description } : {});
const nums = (description?: string) => Type.Array(num(), description ? { description } : {});
const warnings = () => Type.Array(Type.String(), { description: 'why the result may not be supported by the data (docs/analysis.md "Warnings")' });

export const REGIMES = ['quiescent', 'oscillatory', 'irregular', 'bursting', 'saturated'] as const;
const regimeName = () => oneOf(REGIMES);

/** A power-law fit (server/analysis/powerlaw.ts; Clauset, Shalizi, Newman 2009). */
export const PowerLawFitResultSchema = obj({
  kind: oneOf(['discrete', 'continuous']),
  // a fit that could not be made is null as a whole: a fit has a finite exponent and xmin
  alpha: Type.Number({ description: 'exponent α of p(x) ∝ x^−α' }),
  alpha_se: num('standard error of α'),
  xmin: Type.Number({ description: 'lower bound of the power-law tail' }),
  n_tail: int('values ≥ xmin'),
  n_values: int('values used'),
  ks_d: num('KS distance of the tail to the fit'),
  log_likelihood: num('log-likelihood of the tail'),
});

/** Histogram of inter-spike intervals on log-spaced bins, and the autocorrelogram (server/analysis/trains.ts). */
const isiHist = obj({ edges_s: numbers('bin edges (log-spaced)'), counts: Type.Array(Type.Integer()) }, 'ISI histogram');
const acg = obj({ lags_s: numbers('bin centres'), counts: Type.Array(Type.Integer()) }, 'autocorrelogram');

/** A Gaussian mixture fitted by EM, the number of components chosen by BIC (server/analysis/gmm.ts). */
const mixture = obj({
  k: int('components'),
  components: Type.Array(obj({ weight: num(), mean: num(), sd: num() })),
  log_likelihood: num(),
  bic: num(),
  bic_by_k: nums('BIC of each number of components tried'),
});

/** `spikes`: per channel the detected spikes, the detection's levels, train statistics, adaptation and modes. */
export const SpikesResultSchema = obj({
  channels: Type.Array(
    obj({
      channel: str(),
      unit: str('unit of the channel (peaks, baseline, threshold)'),
      sample_rate_hz: Type.Number(),
      duration_s: Type.Number(),
      n_filled_samples: int('samples of dropped ranges held at the previous value'),
      n_spikes: int(),
      baseline: num(),
      threshold: num('threshold above the baseline'),
      noise: num('noise σ'),
      noise_method: str('robust | sd | sd-fallback | first-difference | none (stored events)'),
      threshold_rule: str('noise | range | level | none (stored events)'),
      dead_time_s: num(),
      dead_time_source: str('signal | given | none'),
      rearm_level: num(),
      times_s: numbers('spike times'),
      peaks: nums('peak values'),
      widths_s: nums('full widths at half height'),
      stats: obj({
        rate_hz: num(),
        isi_mean_s: num(),
        isi_cv: num('ISI coefficient of variation'),
        lv: num('local variation (Shinomoto et al. 2003)'),
        fano: num('Fano factor of the counts'),
        fano_window_s: num(),
        isi_hist: isiHist,
        acg,
      }),
      adaptation: obj({ index: num('mean of (ISI_{k+1} − ISI_k)/(ISI_{k+1} + ISI_k)'), initial_rate_hz: num(), steady_rate_hz: num(), ratio: num('steady/initial') }),
      mixtures: Type.Optional(obj({ amplitude: mixture, width: mixture, log10_isi: mixture }, 'with `modes` and at least 6 spikes')),
    }),
  ),
});

/** `bursts`: per channel the bursts found and their statistics. */
export const BurstsResultSchema = obj({
  method: oneOf(['log-isi', 'max-interval']),
  channels: Type.Array(
    obj({
      channel: str(),
      n_spikes: int(),
      bursts: Type.Array(obj({ start_s: Type.Number(), end_s: Type.Number(), n_spikes: int() })),
      burst_rate_hz: num('bursts per s'),
      mean_duration_s: num(),
      mean_spikes_per_burst: num(),
      burst_fraction: num('fraction of spikes in bursts'),
      isi_threshold_s: Type.Optional(num('log-isi: the ISI threshold found (null: none)')),
      max_interval: Type.Optional(
        obj(
          { max_begin_isi_s: num(), max_end_isi_s: num(), min_ibi_s: num(), min_duration_s: num(), scaled_to: oneOf(['given', 'mean-isi']) },
          'max-interval: the parameters used',
        ),
      ),
    }),
  ),
});

/** `avalanches`: sizes and durations with their power-law fits, branching ratio, crackling scaling. */
export const AvalancheResultSchema = obj({
  channels: Type.Array(Type.String()),
  n_events: int('events on all channels'),
  n_avalanches: int(),
  bin_width_s: num(),
  branching_ratio: num('Beggs-Plenz: mean n₂/n₁'),
  branching_ratio_pooled: num('Σn_{t+1}/Σn_t'),
  size: nullable(PowerLawFitResultSchema, 'size fit (τ)'),
  duration: nullable(PowerLawFitResultSchema, 'duration fit (α)'),
  crackling: nullable(
    obj({ gamma: num('fitted exponent of ⟨S⟩(T)'), gamma_se: num(), predicted: num('(α − 1)/(τ − 1)'), difference: num(), durations: numbers('bins'), mean_sizes: nums() }),
    'crackling-noise scaling (Friedman et al. 2012)',
  ),
  warnings: warnings(),
  sizes: Type.Array(Type.Integer(), { description: 'events per avalanche' }),
  durations: Type.Array(Type.Integer(), { description: 'bins per avalanche' }),
});

/** `psd`: per channel the Welch spectrum, its dominant frequencies and oscillation. */
export const PsdResultSchema = obj({
  channels: Type.Array(
    obj({
      channel: str(),
      unit: str('unit²/Hz'),
      df_hz: num('frequency resolution'),
      n_segments: int('Welch segments averaged'),
      dominant: Type.Array(obj({ frequency_hz: num(), power: num() })),
      oscillation: obj({ oscillating: Type.Boolean(), frequency_hz: num('fundamental'), strongest_hz: num('strongest peak'), peak_ratio: num('peak/median background') }),
      band_power: Type.Optional(obj({ band_hz: Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), power: num() }, 'with `band`')),
      freqs_hz: numbers(),
      psd: nums(),
    }),
  ),
});

/** The resonance of one response measure (server/analysis/resonance.ts resonanceSweep; Xu, Gottwald, Kuncic 2026). */
const sweepSummary = {
  resonance_frequency_hz: num(),
  peak_response: num(),
  baseline_response: num(),
  onset_fraction: Type.Number(),
  onset_frequency_hz: num(),
  optimal_frequency_hz: num('highest frequency below the onset'),
  resonance_uncertainty_hz: num(),
  onset_uncertainty_hz: num(),
  optimal_uncertainty_hz: num(),
};
const measured = {
  chirp: Type.Optional(obj({ f0_hz: Type.Number(), f1_hz: Type.Number(), sweep: oneOf(['linear', 'log']), duration_s: Type.Number(), start_s: Type.Number() }, 'one chirp input: the chirp read')),
  measure: oneOf(['rate', 'harmonics', 'conductance'], { description: 'the measure that decides the resonance' }),
  measures: obj({ rate: nullable(obj(sweepSummary)), harmonics: nullable(obj(sweepSummary)), conductance_swing: nullable(obj(sweepSummary)) }, 'the resonance of each measure'),
  points: Type.Array(
    obj({ frequency_hz: Type.Number(), span_hz: num(), response: num(), n_spikes: int(), rate_hz: num(), harmonics: num(), conductance_swing: num('S') }),
    { description: 'per window (chirp) or run (stepped sine)' },
  ),
  warnings: warnings(),
};
/** `resonance`: a measured sweep table, or a chirp run or runs at one frequency each. */
export const ResonanceResultSchema = Type.Union([
  obj({ ...sweepSummary, points: Type.Array(obj({ frequency_hz: Type.Number(), response: num(), span_hz: Type.Optional(num()) })) }, 'a frequency,response table'),
  obj(
    {
      ...measured,
      no_response: Type.Boolean({ description: 'the spike counts stay within counting noise: the frequencies are null' }),
      reason: Type.Optional(str('with no_response')),
      ...sweepSummary,
    },
    'a chirp run, or runs at one frequency each',
  ),
]);

const regimeFeatures = obj({
  rate_hz: num(),
  isi_cv: num('ISI coefficient of variation'),
  burst_fraction: num(),
  isi_threshold_s: num('log-ISI burst threshold'),
  active_fraction: num('fraction of samples beyond the threshold'),
  latched: nullable(Type.String(), 'what is held latched'),
  oscillating: Type.Boolean(),
  peak_frequency_hz: num(),
  peak_ratio: num(),
});

/** `regime` of one run (and of each step of a ladder run). */
export const RegimeResultSchema = obj({
  channel: str(),
  run_id: Type.Optional(int()),
  spikes_from: oneOf(['events', 'detection']),
  regime: regimeName(),
  reason: str(),
  features: regimeFeatures,
  dead_time_s: num(),
  steps: Type.Optional(
    Type.Array(obj({ level: num(), start_s: Type.Number(), end_s: Type.Number(), regime: regimeName(), rate_hz: num(), reason: str(), features: regimeFeatures }), { description: 'a ladder run: one per step' }),
  ),
}, 'one run');

/** `regime` of several runs: each run's regime and the phase diagram over the swept parameter. */
export const RegimeRunsResultSchema = obj({
  runs: Type.Array(RegimeResultSchema),
  phase_diagram: obj({
    param: str(),
    points: Type.Array(obj({ value: num(), regime: regimeName() })),
    transitions: Type.Array(obj({ at: num('midpoint between neighbours'), from: regimeName(), to: regimeName() })),
  }),
}, 'several runs (or `values` given)');

const exponentDifference = nullable(obj({ difference: num(), se: num(), ci: Type.Array(num(), { minItems: 2, maxItems: 2, description: '95 %' }), p: num() }));

/** `compare`: a measured run against its twin run (spike-train distances, Γ, waveform, exponents). */
export const CompareResultSchema = obj({
  measured: obj({ channel: str(), n_spikes: int() }),
  simulated: obj({ channel: str(), n_spikes: int() }),
  duration_s: Type.Number(),
  isi_distance: num(),
  spike_distance: num(),
  spike_sync: num(),
  van_rossum: num(),
  victor_purpura: num(),
  coincidence_factor: num('Γ'),
  coincidence: obj({ window_s: num(), chance: num('2νΔ'), n_coinc: int(), reason: nullable(Type.String()) }),
  warnings: warnings(),
  waveform: Type.Optional(obj({ nrmse: num(), correlation: num() }, 'equal sample rates only')),
  psd_distance_db: Type.Optional(num('equal sample rates only')),
  avalanche_exponents: nullable(obj({ size: exponentDifference, duration: exponentDifference }), 'measured − simulated exponent'),
});

/** `phase`: B's spikes in A's cycle. */
export const PhaseResultSchema = obj({
  reference: obj({ channel: str(), n_spikes: int() }),
  unit: obj({ channel: str(), n_spikes: int() }),
  dead_time_s: num(),
  phases: numbers('cycles, 0..1'),
  times_s: numbers('of the phases'),
  mean_phase: num('cycles'),
  circular_sd: num('cycles'),
  vector_strength: num(),
  locking_time_s: num(),
  n_locked: int(),
  n_phases: int(),
  tolerance: num('cycles'),
  warnings: warnings(),
});

const stdpBranch = obj({ A: num(), tau_s: num(), r2: num(), n_pairs: int() });

/** The two-exponential STDP curve fitted to (Δt, Δw) pairs (server/analysis/stdp.ts fitStdp). */
export const StdpFitSchema = obj({
  potentiation: stdpBranch,
  depression: stdpBranch,
  Aplus: num(),
  tau_plus_s: num(),
  Aminus: num(),
  tau_minus_s: num(),
});

/** `stdp`: Δw per pairing block of runs of the stdp protocol (or the rows of a dt,dw table) and their fit. */
export const StdpResultSchema = obj({
  pairs: Type.Array(
    obj({
      run_id: Type.Optional(int('the run of the pairing block (run inputs)')),
      dt_s: Type.Number({ description: 't_post − t_pre' }),
      dw: Type.Number({ description: 'relative weight change' }),
      g_before: Type.Optional(num('conductance read before the block, S (run inputs)')),
      g_after: Type.Optional(num('conductance read after the block, S (run inputs)')),
    }),
  ),
  fit: nullable(StdpFitSchema, 'null with fewer than two pairs'),
  warnings: warnings(),
});

const likelihoodRatio = obj({ R: num('> 0 favours the power law'), p: num(), params: Type.Record(Type.String(), num()), nested: Type.Boolean() });

/** `powerlaw`: a power-law fit of values, its bootstrap p-value and likelihood-ratio tests. */
export const PowerLawResultSchema = obj({
  kind: oneOf(['discrete', 'continuous']),
  alpha: Type.Number(),
  alpha_se: num(),
  xmin: Type.Number(),
  n_tail: int(),
  n_values: int(),
  ks_d: num(),
  log_likelihood: num(),
  p_value: Type.Optional(num('with `bootstrap`')),
  bootstrap: Type.Optional(obj({ n_reps: int(), n_exceed: int('replicates at least as far from their fit as the data'), n_threads: int(), seed: int() }, 'with `bootstrap`')),
  compare: Type.Optional(obj({ exponential: likelihoodRatio, lognormal: likelihoodRatio, truncated_power_law: likelihoodRatio }, 'with `compare`')),
  warnings: warnings(),
});

/** `distance`: the pairwise distance matrix of spike trains. */
export const DistanceResultSchema = obj({
  metric: oneOf(['isi', 'spike', 'spike-sync', 'van-rossum', 'victor-purpura']),
  n_trains: int(),
  start_s: Type.Number(),
  end_s: Type.Number(),
  tau_s: Type.Optional(Type.Number({ description: 'van-rossum' })),
  q: Type.Optional(Type.Number({ description: 'victor-purpura, 1/s' })),
  matrix: Type.Array(nums()),
  mean: num('over pairs'),
  warnings: warnings(),
});

/** `spike-stats`: the run's stored spike events summarised (the sweeps' curves). */
export const SpikeStatsResultSchema = obj({
  n_spikes: int(),
  duration_s: Type.Number(),
  rate_hz: Type.Number(),
  isi_mean_s: num(),
  isi_cv: num(),
  regime: regimeName(),
});

/** `spike-train`: train statistics of the run's stored spike events. */
export const SpikeTrainResultSchema = obj({
  n_spikes: int(),
  duration_s: Type.Number(),
  rate_hz: num(),
  isi_mean_s: num(),
  isi_cv: num(),
  lv: num(),
  fano: num(),
  fano_window_s: num(),
  isi_hist: isiHist,
  acg,
});

/** What is stored in place of a result when an analysis run for a run failed (automatic pairing, sweeps: results.ts runAnalyses). */
export const AnalysisFailureSchema = obj({ error: Type.String({ description: 'why the analysis failed' }) });
export type AnalysisFailure = Static<typeof AnalysisFailureSchema>;

/** Each analysis's result schema by name (the registry declares the same one; GET /api/analyses sends it). */
export const ANALYSIS_RESULT_SCHEMAS = {
  powerlaw: PowerLawResultSchema,
  distance: DistanceResultSchema,
  spikes: SpikesResultSchema,
  bursts: BurstsResultSchema,
  avalanches: AvalancheResultSchema,
  psd: PsdResultSchema,
  resonance: ResonanceResultSchema,
  phase: PhaseResultSchema,
  stdp: StdpResultSchema,
  // one run, or several with their phase diagram
  regime: Type.Union([RegimeResultSchema, RegimeRunsResultSchema]),
  compare: CompareResultSchema,
  'spike-stats': SpikeStatsResultSchema,
  'spike-train': SpikeTrainResultSchema,
} satisfies Record<string, TSchema>;

export type AnalysisName = keyof typeof ANALYSIS_RESULT_SCHEMAS;
/** The result type of each analysis by name. */
export type AnalysisResults = { [N in AnalysisName]: Static<(typeof ANALYSIS_RESULT_SCHEMAS)[N]> };

export type PowerLawFitResult = Static<typeof PowerLawFitResultSchema>;
export type SpikesResult = Static<typeof SpikesResultSchema>;
export type BurstsResult = Static<typeof BurstsResultSchema>;
export type AvalancheResult = Static<typeof AvalancheResultSchema>;
export type PsdResult = Static<typeof PsdResultSchema>;
export type ResonanceResult = Static<typeof ResonanceResultSchema>;
export type RegimeResult = Static<typeof RegimeResultSchema>;
export type RegimeRunsResult = Static<typeof RegimeRunsResultSchema>;
export type CompareResult = Static<typeof CompareResultSchema>;
export type PhaseResult = Static<typeof PhaseResultSchema>;
export type StdpResult = Static<typeof StdpResultSchema>;
export type StdpFit = Static<typeof StdpFitSchema>;
export type PowerLawResult = Static<typeof PowerLawResultSchema>;
export type DistanceResult = Static<typeof DistanceResultSchema>;
export type SpikeStatsResult = Static<typeof SpikeStatsResultSchema>;
export type SpikeTrainResult = Static<typeof SpikeTrainResultSchema>;
