/**
 * The HTTP API's schemas for runs (TypeBox), shared by the server's routes (validation, serialisation, the
 * OpenAPI document at /docs/json) and the dashboard (web/src/api.ts); the TypeScript types of
 * common/api-types.ts are derived from them with Static<>, so the wire format, its docs and its types cannot
 * drift apart. Literal sets mirror common/run-stream.ts (the compiler checks that they match).
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { ChannelRole, EventKind, RunSourceKind, RunStatus, SampleType } from './run-stream.ts';

/** A union of string literals, typed as exactly that set (the compiler checks it against `T`). */
const oneOf = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {}));

export const RunStatusSchema = oneOf<RunStatus>(['running', 'completed', 'aborted', 'failed', 'interrupted']);
export const RunSourceKindSchema = oneOf<RunSourceKind>(['simulated', 'daq', 'smu', 'twin', 'replay', 'import']);
export const EventKindSchema = oneOf<EventKind>(['spike', 'marker', 'fault']);

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, e.g. RUN_NOT_FOUND' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'JSON pointer of the offending field, e.g. /protocol/frequencyHz' })),
    }),
  },
  { $id: 'Error', description: 'Every error response' },
);

/** A channel of a stored run. */
export const ChannelInfoSchema = Type.Object({
  index: Type.Integer(),
  name: Type.String({ description: 'Unique within a run, e.g. "stim", "v_mem", "a0"' }),
  unit: Type.String({ description: 'SI unit of the physical value: "V", "A", "S", ...' }),
  sampleRate: Type.Number({ description: 'Samples per second' }),
  dtype: oneOf<SampleType>(['int16', 'uint16', 'int32', 'float32', 'float64']),
  scale: Type.Number({ description: 'physical = raw * scale + offset' }),
  offset: Type.Number(),
  role: oneOf<ChannelRole>(['stimulus', 'response']),
  sampleCount: Type.Integer({ description: 'Committed extent: highest committed sample index + 1' }),
  label: Type.String({ description: 'What the channel records, from the circuit or bench configuration: "membrane v (A0)", "stimulus i"' }),
  convert: Type.Optional(
    Type.Object(
      {
        unit: Type.String({ description: "The protocol's own unit, e.g. A" }),
        factor: Type.Number({ description: 'value in `unit` = physical value × factor' }),
        via: Type.String({ description: 'How the bench makes it, e.g. "shunt resistor 1 kΩ"' }),
      },
      { description: 'A stimulus recorded in V shown in the protocol quantity (the bench configuration gives the conversion)' },
    ),
  ),
  notes: Type.Optional(Type.Array(Type.String(), { description: 'What a reader of the channel should know: no unit conversion, too few samples per stimulus period' })),
});

/** A run's protocol document as submitted (declarative JSON). */
export const ProtocolDocSchema = Type.Unsafe<{ kind: string; [param: string]: unknown }>(
  Type.Object({ kind: Type.String() }, { additionalProperties: true }),
);

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const runSummaryProps = {
  id: Type.Integer(),
  status: RunStatusSchema,
  reason: nullable(Type.String()),
  label: nullable(Type.String()),
  protocol: ProtocolDocSchema,
  source: RunSourceKindSchema,
  bench: Type.Unknown(),
  twin: Type.Unknown(),
  softwareVersion: Type.String(),
  createdAt: Type.String({ description: 'ISO 8601' }),
  endedAt: nullable(Type.String()),
  linkedRunId: nullable(Type.Integer()),
  notes: Type.String(),
  tags: Type.Array(Type.String()),
  channels: Type.Array(ChannelInfoSchema),
};

export const RunSummarySchema = Type.Object(runSummaryProps);

/** Samples [start, end) of a channel that never arrived. */
export const DroppedRangeSchema = Type.Object({ channel: Type.Integer(), start: Type.Integer(), end: Type.Integer() });

/** A run with its dropped ranges and event counts (`GET /api/runs/:id`). */
export const RunDetailSchema = Type.Object({
  ...runSummaryProps,
  dropped: Type.Array(DroppedRangeSchema),
  eventCounts: Type.Object({ spike: Type.Integer(), marker: Type.Integer(), fault: Type.Integer() }),
});

export const StoredEventSchema = Type.Object({
  id: Type.Integer(),
  kind: EventKindSchema,
  channel: nullable(Type.Integer()),
  index: Type.Integer(),
  label: nullable(Type.String()),
  value: nullable(Type.Number()),
  time_s: nullable(Type.Number({ description: 'Exact time in s when the source knew it finer than a sample (twin events), else null: index / rate' })),
});

/** An analysis result stored with a run. */
export const StoredAnalysisSchema = Type.Object({
  id: Type.Integer(),
  runId: Type.Integer(),
  name: Type.String(),
  params: Type.Unknown(),
  result: Type.Unknown(),
  createdAt: Type.String({ description: 'ISO 8601' }),
});

export type ChannelInfo = Static<typeof ChannelInfoSchema>;
export type ProtocolDoc = Static<typeof ProtocolDocSchema>;
export type RunSummary = Static<typeof RunSummarySchema>;
export type DroppedRange = Static<typeof DroppedRangeSchema>;
export type RunDetail = Static<typeof RunDetailSchema>;
export type StoredEvent = Static<typeof StoredEventSchema>;
export type StoredAnalysis = Static<typeof StoredAnalysisSchema>;
