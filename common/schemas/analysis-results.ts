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
  n: int('values used'),
  ks_d: num('KS distance of the tail to the fit'),
  log_lik: num('log-likelihood of the tail'),
});

/** Histogram of inter-spike intervals on log-spaced bins, and the autocorrelogram (server/analysis/trains.ts). */
const isiHist = obj({ edges: numbers('bin edges, s (log-spaced)'), counts: Type.Array(Type.Integer()) }, 'ISI histogram');
const acg = obj({ lags: numbers('bin centres, s'), counts: Type.Array(Type.Integer()) }, 'autocorrelogram');

/** A Gaussian mixture fitted by EM, the number of components chosen by BIC (server/analysis/gmm.ts). */
const mixture = obj({
  k: int('components'),
  components: Type.Array(obj({ weight: num(), mean: num(), sd: num() })),
  log_lik: num(),
  bic: num(),
  bic_by_k: nums('BIC of each number of components tried'),
});

/** `spikes`: per channel the detected spikes, the detection's levels, train statistics, adaptation and modes. */
export const SpikesResultSchema = obj({
  channels: Type.Array(
    obj({
      channel: str(),
      unit: str('unit of the channel (peaks, baseline, threshold)'),
      sample_rate: Type.Number({ description: 'Hz' }),
      duration: Type.Number({ description: 's' }),
      filled_samples: int('samples of dropped ranges held at the previous value'),
      count: int('spikes'),
      baseline: num(),
      threshold: num('threshold above the baseline'),
      noise: num('noise σ'),
      noise_method: str('robust | sd | sd-fallback | first-difference | none (stored events)'),
      threshold_rule: str('noise | range | level | none (stored events)'),
      dead_time: num('s'),
      dead_time_source: str('signal | given | none'),
      rearm_level: num(),
      times: numbers('spike times, s'),
      peaks: nums('peak values'),
      widths: nums('full widths at half height, s'),
      stats: obj({
        rate: num('Hz'),
        isi_mean: num('s'),
        cv: num('ISI coefficient of variation'),
        lv: num('local variation (Shinomoto et al. 2003)'),
        fano: num('Fano factor of the counts'),
        fano_window: num('s'),
        isi_hist: isiHist,
        acg,
      }),
      adaptation: obj({ index: num('mean of (ISI_{k+1} − ISI_k)/(ISI_{k+1} + ISI_k)'), initial_rate: num('Hz'), steady_rate: num('Hz'), ratio: num('steady/initial') }),
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
      spikes: int(),
      bursts: Type.Array(obj({ start: Type.Number({ description: 's' }), end: Type.Number({ description: 's' }), n_spikes: int() })),
      burst_rate: num('bursts per s'),
      mean_duration: num('s'),
      mean_spikes_per_burst: num(),
      burst_fraction: num('fraction of spikes in bursts'),
      isi_threshold: Type.Optional(num('log-isi: the ISI threshold found, s (null: none)')),
      max_interval: Type.Optional(
        obj(
          { max_begin_isi: num('s'), max_end_isi: num('s'), min_ibi: num('s'), min_duration: num('s'), scaled_to: oneOf(['given', 'mean-isi']) },
          'max-interval: the parameters used',
        ),
      ),
    }),
  ),
});

/** `avalanches`: sizes and durations with their power-law fits, branching ratio, crackling scaling. */
export const AvalancheResultSchema = obj({
  channels: Type.Array(Type.String()),
  events: int('events on all channels'),
  count: int('avalanches'),
  bin_width: num('s'),
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
      df: num('frequency resolution, Hz'),
      segments: int('Welch segments averaged'),
      dominant: Type.Array(obj({ frequency: num('Hz'), power: num() })),
      oscillation: obj({ oscillating: Type.Boolean(), frequency: num('fundamental, Hz'), strongest: num('strongest peak, Hz'), peak_ratio: num('peak/median background') }),
      band_power: Type.Optional(obj({ band: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'Hz' }), power: num() }, 'with `band`')),
      freqs: numbers('Hz'),
      psd: nums(),
    }),
  ),
});

/** The resonance of one response measure (server/analysis/resonance.ts resonanceSweep; Xu, Gottwald, Kuncic 2026). */
const sweepSummary = {
  resonance_frequency: num('Hz'),
  peak_response: num(),
  baseline_response: num(),
  onset_fraction: Type.Number(),
  onset_frequency: num('Hz'),
  optimal_frequency: num('highest frequency below the onset, Hz'),
  resonance_uncertainty: num('Hz'),
  onset_uncertainty: num('Hz'),
  optimal_uncertainty: num('Hz'),
};
const measured = {
  chirp: Type.Optional(obj({ f0: Type.Number(), f1: Type.Number(), sweep: oneOf(['linear', 'log']), duration_s: Type.Number(), start_s: Type.Number() }, 'one chirp input: the chirp read')),
  measure: oneOf(['rate', 'harmonics', 'conductance'], { description: 'the measure that decides the resonance' }),
  measures: obj({ rate: nullable(obj(sweepSummary)), harmonics: nullable(obj(sweepSummary)), conductance_swing: nullable(obj(sweepSummary)) }, 'the resonance of each measure'),
  points: Type.Array(
    obj({ frequency: Type.Number({ description: 'Hz' }), span: num('Hz'), response: num(), count: int('spikes'), rate: num('Hz'), harmonics: num(), conductance_swing: num() }),
    { description: 'per window (chirp) or run (stepped sine)' },
  ),
  warnings: warnings(),
};
/** `resonance`: a measured sweep table, or a chirp run or runs at one frequency each. */
export const ResonanceResultSchema = Type.Union([
  obj({ ...sweepSummary, points: Type.Array(obj({ frequency: Type.Number(), response: num(), span: Type.Optional(num()) })) }, 'a frequency,response table'),
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
  rate: num('Hz'),
  cv: num('ISI coefficient of variation'),
  burst_fraction: num(),
  isi_threshold: num('log-ISI burst threshold, s'),
  active_fraction: num('fraction of samples beyond the threshold'),
  latched: nullable(Type.String(), 'what is held latched'),
  oscillating: Type.Boolean(),
  peak_frequency: num('Hz'),
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
  dead_time: num('s'),
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
  measured: obj({ channel: str(), spikes: int() }),
  simulated: obj({ channel: str(), spikes: int() }),
  duration: Type.Number({ description: 's' }),
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
  reference: obj({ channel: str(), spikes: int() }),
  unit: obj({ channel: str(), spikes: int() }),
  dead_time: num('s'),
  phases: numbers('cycles, 0..1'),
  times: numbers('of the phases, s'),
  mean_phase: num('cycles'),
  circular_sd: num('cycles'),
  vector_strength: num(),
  locking_time_s: num(),
  n_locked: int(),
  n: int(),
  tolerance: num('cycles'),
  warnings: warnings(),
});

const stdpBranch = obj({ A: num(), tau: num('s'), r2: num(), n: int('pairs') });

/** The two-exponential STDP curve fitted to (Δt, Δw) pairs (server/analysis/stdp.ts fitStdp). */
export const StdpFitSchema = obj({
  potentiation: stdpBranch,
  depression: stdpBranch,
  Aplus: num(),
  tau_plus: num('s'),
  Aminus: num(),
  tau_minus: num('s'),
});

/** `stdp`: Δw per pairing block of runs of the stdp protocol (or the rows of a dt,dw table) and their fit. */
export const StdpResultSchema = obj({
  pairs: Type.Array(
    obj({
      run_id: Type.Optional(int('the run of the pairing block (run inputs)')),
      dt: Type.Number({ description: 't_post − t_pre, s' }),
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
  n: int(),
  ks_d: num(),
  log_likelihood: num(),
  p_value: Type.Optional(num('with `bootstrap`')),
  bootstrap: Type.Optional(obj({ reps: int(), exceed: int(), threads: int(), seed: int() }, 'with `bootstrap`')),
  compare: Type.Optional(obj({ exponential: likelihoodRatio, lognormal: likelihoodRatio, truncated_power_law: likelihoodRatio }, 'with `compare`')),
  warnings: warnings(),
});

/** `distance`: the pairwise distance matrix of spike trains. */
export const DistanceResultSchema = obj({
  metric: oneOf(['isi', 'spike', 'spike-sync', 'van-rossum', 'victor-purpura']),
  n: int('trains'),
  t_start: Type.Number({ description: 's' }),
  t_end: Type.Number({ description: 's' }),
  tau: Type.Optional(Type.Number({ description: 'van-rossum, s' })),
  q: Type.Optional(Type.Number({ description: 'victor-purpura, 1/s' })),
  matrix: Type.Array(nums()),
  mean: num('over pairs'),
  warnings: warnings(),
});

/** `spike-stats`: the run's stored spike events summarised (the sweeps' curves). */
export const SpikeStatsResultSchema = obj({
  count: int(),
  duration_s: Type.Number(),
  rate_hz: Type.Number(),
  mean_isi_s: num(),
  cv_isi: num(),
  regime: regimeName(),
});

/** `spike-train`: train statistics of the run's stored spike events. */
export const SpikeTrainResultSchema = obj({
  n: int('spikes'),
  duration: Type.Number({ description: 's' }),
  rate: num('Hz'),
  isi_mean: num('s'),
  isi_cv: num(),
  lv: num(),
  fano: num(),
  fano_window: num('s'),
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
