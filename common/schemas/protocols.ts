/**
 * Protocols over HTTP (server/api/routes/protocols.ts, docs/protocols.md): the kinds with their JSON
 * schemas, and the check of a protocol or sweep against the bench limits with a preview of its stimulus.
 */
import { Type, type Static } from 'typebox';
import { kindDocument, nullable, oneOf } from './shared.ts';

const physics = {
  quantity: oneOf(['current', 'voltage'] as const),
  unit: oneOf(['A', 'V'] as const),
  durationS: Type.Number(),
  /** Lowest and highest value the stimulus takes, in unit. */
  min: Type.Number(),
  max: Type.Number(),
};
/** A protocol's summary (server/protocols protocolSummary) or a sweep's. */
export const SummarySchema = Type.Object(
  {
    kind: Type.Optional(Type.String()),
    count: Type.Optional(Type.Integer({ description: 'Points of a sweep' })),
    ...physics,
  },
  { additionalProperties: false },
);

/** What a sweep plays in all (server/protocols/sweep.ts sweepSummary). */
export const SweepSummarySchema = Type.Object(
  { count: Type.Integer({ description: 'Points' }), ...physics, durationS: Type.Number({ description: "Sum of the points' durations, s" }) },
  { additionalProperties: false },
);

/** `GET /api/protocols`: one kind; `schema` is its JSON schema (defaults, descriptions). */
export const ProtocolInfoSchema = Type.Object({ kind: Type.String(), title: Type.String(), schema: Type.Unknown() });

/** `POST /api/protocols/check`. */
export const ProtocolCheckBodySchema = Type.Object(
  {
    protocol: kindDocument('Protocol or sweep document'),
    points: Type.Optional(Type.Integer({ minimum: 2, maximum: 20_000, default: 1000, description: 'Preview samples' })),
    previewS: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Preview the first this many seconds (default: the whole protocol)' })),
    previewPeriods: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Preview only the first this many stimulus periods when the protocol lasts more than twice as long' }),
    ),
  },
  { additionalProperties: false },
);

export const ProtocolCheckSchema = Type.Object({
  summary: SummarySchema,
  limits: Type.Optional(Type.Object({ peak: Type.Number(), worstPowerW: Type.Number() }, { additionalProperties: true })),
  periodS: Type.Optional(
    nullable(Type.Number({ description: "Shortest stimulus period, s (server/protocols shortestPeriodS; a sweep's over its points); null: none" })),
  ),
  segments: Type.Optional(Type.Array(Type.Object({ label: Type.String(), startS: Type.Number(), endS: Type.Number(), value: Type.Number() }))),
  preview: Type.Optional(Type.Object({ dt: Type.Number({ description: 's between preview samples' }), values: Type.Array(Type.Number()) })),
  points: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), label: Type.String(), summary: SummarySchema }), { description: "A sweep's points" })),
});

export type Summary = Static<typeof SummarySchema>;
export type SweepSummary = Static<typeof SweepSummarySchema>;
export type ProtocolInfo = Static<typeof ProtocolInfoSchema>;
export type ProtocolCheckBody = Static<typeof ProtocolCheckBodySchema>;
export type ProtocolCheck = Static<typeof ProtocolCheckSchema>;
