/**
 * JSON schemas shared by the route files (TypeBox: the schema is the only source of the HTTP types and of
 * the OpenAPI document at /docs/json).
 */
import { Type } from '@fastify/type-provider-typebox';
import { ErrorSchema } from '../../common/api-schemas.ts';

// The run shapes live in common/ (shared with the dashboard, types derived from them).
export { ChannelInfoSchema as ChannelSchema, ErrorSchema, RunDetailSchema, RunStatusSchema, RunSummarySchema } from '../../common/api-schemas.ts';

export const errorResponses = {
  400: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
};

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
