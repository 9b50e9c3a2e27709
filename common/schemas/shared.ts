/**
 * Building blocks of the API schemas (common/schemas/*.ts): literal sets typed as exactly their union,
 * nullable values, the error body every failing request answers with, circuit references.
 */
import { Type, type Static, type TSchema } from 'typebox';

/** A union of string literals, typed as exactly that set (the compiler checks it against `T`). */
export const oneOf = <T extends string>(values: readonly T[], options: { description?: string; default?: T } = {}) =>
  Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), options));

export const nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});

/** Every error response: `{ error: { code, message, field? } }` (codes: common/errors.ts). */
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
export type ErrorBody = Static<typeof ErrorSchema>;

/** A sample index: an integer, end exclusive where it ends a range. */
export const sampleIndex = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

/** A twin circuit in a request: a built-in name (GET /api/twin/circuits) or a circuit document. */
export const CircuitRefSchema = Type.Union([Type.String({ maxLength: 64 }), Type.Object({ kind: Type.String() }, { additionalProperties: true })], {
  description: 'Twin circuit: a built-in name (GET /api/twin/circuits) or a circuit document',
});

/** A document `{ kind, ...parameters }` checked further by its own validator (protocols, sweeps). */
export const kindDocument = (description: string) => Type.Object({ kind: Type.String() }, { additionalProperties: true, description });

/** `?flag=true|false`: a query string carries text (a Boolean schema would refuse the string "true"). */
export const QueryFlag = (description?: string) => Type.Union([Type.Literal('true'), Type.Literal('false')], description ? { description } : {});
