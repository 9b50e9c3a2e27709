/**
 * JSON schemas shared by the route files (TypeBox: the schema is the only source of the HTTP types and of
 * the OpenAPI document at /docs/json).
 */
import { Type } from '@fastify/type-provider-typebox';

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

export const errorResponses = {
  400: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
};

export const RunStatusSchema = Type.Union(
  ['running', 'completed', 'aborted', 'failed', 'interrupted'].map((s) => Type.Literal(s)),
);

export const ChannelSchema = Type.Object({
  index: Type.Integer(),
  name: Type.String(),
  unit: Type.String(),
  sampleRate: Type.Number(),
  dtype: Type.String(),
  scale: Type.Number(),
  offset: Type.Number(),
  role: Type.String({ description: 'stimulus | response' }),
  sampleCount: Type.Integer({ description: 'Committed extent: highest committed sample index + 1' }),
});

const runSummaryProps = {
  id: Type.Integer(),
  status: Type.String({ description: 'running | completed | aborted | failed | interrupted' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  protocol: Type.Object({ kind: Type.String() }, { additionalProperties: true }),
  source: Type.String(),
  bench: Type.Unknown(),
  twin: Type.Unknown(),
  softwareVersion: Type.String(),
  createdAt: Type.String({ description: 'ISO 8601' }),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  linkedRunId: Type.Union([Type.Integer(), Type.Null()]),
  notes: Type.String(),
  tags: Type.Array(Type.String()),
  channels: Type.Array(ChannelSchema),
};

export const RunSummarySchema = Type.Object(runSummaryProps);

export const RunDetailSchema = Type.Object({
  ...runSummaryProps,
  dropped: Type.Array(Type.Object({ channel: Type.Integer(), start: Type.Integer(), end: Type.Integer() })),
  eventCounts: Type.Object({ spike: Type.Integer(), marker: Type.Integer(), fault: Type.Integer() }),
});

export const RunIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, description: 'Run id' }),
});

export const ChannelParams = Type.Object({
  id: Type.Integer({ minimum: 1, description: 'Run id' }),
  ch: Type.Integer({ minimum: 0, description: 'Channel index (from the run descriptor)' }),
});

/** Sample index ranges: integers, end exclusive. */
export const sampleIndex = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

/** A protocol's or sweep's summary (server/protocols summary, sweepSummary). */
export const SummarySchema = Type.Object(
  {
    kind: Type.Optional(Type.String()),
    count: Type.Optional(Type.Integer()),
    quantity: Type.String(),
    unit: Type.String(),
    durationS: Type.Number(),
    min: Type.Number(),
    max: Type.Number(),
  },
  { additionalProperties: false },
);
