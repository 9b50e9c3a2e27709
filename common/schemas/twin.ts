/**
 * The digital twin over HTTP (server/api/routes/twin.ts, pairing.ts; docs/twin/README.md): circuits,
 * device models, starting a twin run, pairing a stored run with the twin.
 */
import { Type, type Static } from 'typebox';
import { TWIN_MAX_SAMPLE_RATE } from '../limits.ts';
import { CircuitRefSchema, ErrorSchema, kindDocument, oneOf } from './shared.ts';

/** `GET /api/twin/circuits`: the built-in circuits, usable by name wherever a circuit is asked for, and the stored (fitted) ones. */
export const CircuitInfoSchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  stored: Type.Optional(Type.Boolean({ description: 'a circuit stored in the database (a twin fit), not a built-in one' })),
});

/** `GET /api/twin/models`: a device model with its default parameter set. */
export const DeviceModelInfoSchema = Type.Object({
  name: Type.String(),
  title: Type.String(),
  defaultSet: Type.String(),
  defaults: Type.Record(Type.String(), Type.Number()),
  x0: Type.Number(),
});

export const TWIN_METHODS = ['rk4', 'euler', 'adaptive', 'implicit'] as const;

/** `POST /api/twin/runs` (and `spikeloop twin run`): a circuit fed a protocol or a stored run's recorded stimulus. */
export const TwinRunBodySchema = Type.Object(
  {
    circuit: Type.Union([Type.String({ maxLength: 64, description: 'example circuit name' }), Type.Object({}, { additionalProperties: true, description: 'circuit document' })]),
    protocol: Type.Optional(kindDocument('Protocol document')),
    stimulusRun: Type.Optional(
      Type.Object({ runId: Type.Integer({ minimum: 1 }), channel: Type.String({ maxLength: 64, description: 'channel name or index' }) }, { additionalProperties: false }),
    ),
    sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: TWIN_MAX_SAMPLE_RATE, description: 'S/s for a protocol stimulus, default 100000 (twin runs up to 10 MS/s)' })),
    durationS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400, description: 'simulated time, s' })),
    method: Type.Optional(oneOf(TWIN_METHODS, { description: "integration method (default: the circuit's recommended one, else rk4)" })),
    dt: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'internal step, s' })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** `POST /api/runs/:id/pair`. */
export const PairBodySchema = Type.Object({ circuit: CircuitRefSchema }, { additionalProperties: false });
export const PairResultSchema = Type.Object({
  measuredRunId: Type.Integer(),
  twinRunId: Type.Integer(),
  filledSamples: Type.Integer({ description: 'Stimulus samples missing from the recording, filled for the twin (docs/experiments.md, the recorded stimulus)' }),
});

/** `POST /api/runs/:id/fit`: calibrate a circuit's parameters to the run (docs/twin/calibration.md). */
const BoundSchema = Type.Union([
  Type.Tuple([Type.Number(), Type.Number()]),
  Type.Object({ min: Type.Number(), max: Type.Number(), log: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
]);
export const FitBodySchema = Type.Object(
  {
    circuit: Type.Union([Type.String({ maxLength: 64, description: 'a built-in circuit or a stored (fitted) one, by name' }), Type.Object({ kind: Type.String() }, { additionalProperties: true, description: 'circuit document' })]),
    params: Type.Optional(Type.Array(Type.String({ maxLength: 64, pattern: '^[^.]+\\.[^.]+$' }), { minItems: 1, maxItems: 16, description: 'free parameters element.parameter (default: every R and C value and device parameter)' })),
    bounds: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), BoundSchema, { description: '[min, max] or { min, max, log } per parameter (default: a factor of 4 either side)' })),
    objective: Type.Optional(oneOf(['waveform', 'spikes', 'iv'] as const, { description: 'default waveform' })),
    channels: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16, description: 'twin outputs compared (default: every voltage and current output the run recorded)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    maxEvals: Type.Optional(Type.Integer({ minimum: 10, maximum: 20000, description: 'objective evaluations of the search at most (default 1500)' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'name of the stored fitted circuit' })),
    pair: Type.Optional(Type.Boolean({ description: 'pair the run with the fitted circuit (default true)' })),
    wait: Type.Optional(Type.Boolean({ description: 'answer with the result when the fit ends (the fit is cancelled if the client leaves); default: 202 at once, then GET /api/fits/:fitId' })),
  },
  { additionalProperties: false },
);

const FitReportSchema = Type.Object({ name: Type.String(), value: Type.Number(), ci: Type.Union([Type.Tuple([Type.Number(), Type.Number()]), Type.Null()]), identifiable: Type.Boolean() });

/** A fit's outcome (the JSON of `spikeloop twin fit --json` without the document). */
export const FitResultSchema = Type.Object(
  {
    runId: Type.Integer(),
    circuit: Type.String({ description: 'name of the stored fitted circuit' }),
    twinRunId: Type.Union([Type.Integer(), Type.Null()], { description: 'the twin run of the pairing with the fitted circuit' }),
    objective: Type.String(),
    channels: Type.Array(Type.String()),
    params: Type.Record(Type.String(), Type.Number(), { description: 'fitted values by parameter name' }),
    ci: Type.Record(Type.String(), Type.Union([Type.Tuple([Type.Number(), Type.Number()]), Type.Null()]), { description: '95 % interval per parameter; null: not determined' }),
    residual: Type.Number(),
    startResidual: Type.Number(),
    start: Type.Record(Type.String(), Type.Number()),
    bounds: Type.Record(Type.String(), Type.Object({ min: Type.Number(), max: Type.Number(), log: Type.Boolean() })),
    report: Type.Array(FitReportSchema),
    warnings: Type.Array(Type.String()),
    evals: Type.Integer(),
    generations: Type.Integer(),
    stop: Type.String(),
    seed: Type.Integer(),
    seconds: Type.Number(),
  },
  { additionalProperties: true },
);

/** `GET /api/fits/:fitId`: a fit started over the API, while it runs and after. */
export const FitJobSchema = Type.Object({
  id: Type.String(),
  runId: Type.Integer(),
  circuit: Type.String({ description: 'the circuit fitted (its name)' }),
  objective: Type.String(),
  state: oneOf(['running', 'completed', 'failed', 'cancelled'] as const),
  startedAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  progress: Type.Object({ phase: Type.String(), evals: Type.Integer(), total: Type.Integer(), residual: Type.Union([Type.Number(), Type.Null()]) }),
  result: Type.Optional(FitResultSchema),
  error: Type.Optional(ErrorSchema.properties.error),
});

export type FitBody = Static<typeof FitBodySchema>;
export type FitJob = Static<typeof FitJobSchema>;
export type CircuitInfo = Static<typeof CircuitInfoSchema>;
export type DeviceModelInfo = Static<typeof DeviceModelInfoSchema>;
export type TwinMethod = (typeof TWIN_METHODS)[number];
export type TwinRunBody = Static<typeof TwinRunBodySchema>;
export type PairBody = Static<typeof PairBodySchema>;
export type PairResult = Static<typeof PairResultSchema>;
