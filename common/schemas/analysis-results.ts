/**
 * The results of the analyses the dashboard reads (POST /api/runs/:id/analyses/:name and
 * /api/analysis/:name; server/analysis-io/methods.ts), as they are sent: snake_case keys, a non-finite
 * number sent as null (results.ts toJson). Each lists the fields clients read; a result may carry more.
 * The analysis tests check real results against these schemas (test/analysis-e2e.test.ts).
 */
import { Type, type Static } from 'typebox';
import { nullable } from './shared.ts';

/** A computed quantity: null where it is undefined (no spikes, a fit that failed ...). */
const num = nullable(Type.Number());

/** A power-law fit (server/analysis/powerlaw.ts; Clauset, Shalizi, Newman 2009). */
export const PowerLawFitResultSchema = Type.Object({
  kind: Type.String({ description: 'continuous | discrete' }),
  // a fit that could not be made is null as a whole: a fit has a finite exponent and xmin
  alpha: Type.Number(),
  alpha_se: num,
  xmin: Type.Number(),
  n_tail: Type.Integer(),
  n: Type.Integer(),
  ks_d: num,
  log_lik: num,
});

/** `avalanches`: sizes and durations with their power-law fits, branching ratio, crackling scaling. */
export const AvalancheResultSchema = Type.Object({
  channels: Type.Array(Type.String()),
  events: Type.Integer(),
  count: Type.Integer(),
  bin_width: num,
  branching_ratio: num,
  size: nullable(PowerLawFitResultSchema),
  duration: nullable(PowerLawFitResultSchema),
  crackling: nullable(Type.Object({ gamma: num, gamma_se: num, predicted: num, difference: num })),
  sizes: Type.Array(Type.Integer()),
  durations: Type.Array(Type.Integer()),
  /** Why the fits may not be supported (too few tail points, one periodic train ...). */
  warnings: Type.Array(Type.String()),
});

const regimeFeatures = Type.Object({ rate: num, cv: num, burst_fraction: num });

/** `regime` of one run. */
export const RegimeResultSchema = Type.Object({
  channel: Type.String(),
  regime: Type.String({ description: 'quiescent | oscillatory | irregular | bursting | saturated' }),
  reason: Type.String(),
  features: regimeFeatures,
});

/** `regime` of several runs: each run's regime and the phase diagram over the swept parameter. */
export const RegimeRunsResultSchema = Type.Object({
  runs: Type.Array(Type.Object({ run_id: Type.Optional(Type.Integer()), regime: Type.String(), reason: Type.String(), features: regimeFeatures })),
  phase_diagram: Type.Object({
    param: Type.String(),
    points: Type.Array(Type.Object({ value: num, regime: Type.String() })),
    transitions: Type.Array(Type.Object({ at: num, from: Type.String(), to: Type.String() })),
  }),
});

/** `resonance`: the response per frequency and the resonance, onset and optimal operating frequencies. */
export const ResonanceResultSchema = Type.Object({
  resonance_frequency: num,
  optimal_frequency: num,
  onset_frequency: num,
  peak_response: num,
});

const exponentDifference = nullable(Type.Object({ difference: num, ci: Type.Array(num, { minItems: 2, maxItems: 2 }) }));

/** `compare`: a measured run against its twin run (spike-train distances, Γ, waveform, exponents). */
export const CompareResultSchema = Type.Object({
  isi_distance: num,
  spike_distance: num,
  spike_sync: num,
  van_rossum: num,
  victor_purpura: num,
  coincidence_factor: num,
  coincidence: Type.Object({ window_s: num, reason: nullable(Type.String()) }),
  warnings: Type.Array(Type.String()),
  waveform: Type.Optional(Type.Object({ nrmse: num, correlation: num })),
  psd_distance_db: Type.Optional(num),
  avalanche_exponents: nullable(Type.Object({ size: exponentDifference, duration: exponentDifference })),
});

export type PowerLawFitResult = Static<typeof PowerLawFitResultSchema>;
export type AvalancheResult = Static<typeof AvalancheResultSchema>;
export type RegimeResult = Static<typeof RegimeResultSchema>;
export type RegimeRunsResult = Static<typeof RegimeRunsResultSchema>;
export type ResonanceResult = Static<typeof ResonanceResultSchema>;
export type CompareResult = Static<typeof CompareResultSchema>;
