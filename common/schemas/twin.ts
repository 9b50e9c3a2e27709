/**
 * The digital twin over HTTP (server/api/routes/twin.ts, pairing.ts; docs/twin/README.md): circuits,
 * device models, starting a twin run, pairing a stored run with the twin.
 */
import { Type, type Static } from 'typebox';
import { TWIN_MAX_SAMPLE_RATE } from '../limits.ts';
import { CircuitRefSchema, kindDocument, oneOf } from './shared.ts';

/** `GET /api/twin/circuits`: the built-in circuits, usable by name wherever a circuit is asked for. */
export const CircuitInfoSchema = Type.Object({ name: Type.String(), kind: Type.String(), description: Type.String() });

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

export type CircuitInfo = Static<typeof CircuitInfoSchema>;
export type DeviceModelInfo = Static<typeof DeviceModelInfoSchema>;
export type TwinMethod = (typeof TWIN_METHODS)[number];
export type TwinRunBody = Static<typeof TwinRunBodySchema>;
export type PairBody = Static<typeof PairBodySchema>;
export type PairResult = Static<typeof PairResultSchema>;
