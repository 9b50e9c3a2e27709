/**
 * Checking a value against a TypeBox schema with one error the user can act on: the JSON pointer of the
 * offending field and what is wrong with it. Used wherever a document is validated outside an HTTP route
 * (protocols, sweeps, bench configurations, analysis parameters, CLI input), so the CLI and the API word
 * the same mistake the same way.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

export interface SchemaProblem {
  /** JSON pointer of the offending field ('' for the document itself), e.g. "/frequencyHz". */
  path: string;
  message: string;
}

/** Fills in the schema's defaults where fields are missing (mutates and returns `value`). */
export function fillDefaults<T = unknown>(schema: TSchema, value: unknown): T {
  return Value.Default(schema, value) as T;
}

/**
 * The first problem of `value` under `schema`, or undefined when it conforms. An unknown field is named
 * itself ("/frequncyHz: is not a field of this schema"), so is a missing one ("/steps: is required"); a value
 * outside a set of literals lists the allowed ones.
 */
export function firstProblem(schema: TSchema, value: unknown): SchemaProblem | undefined {
  const errors = Value.Errors(schema, value);
  if (errors.length === 0) return undefined;
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const names = (extra.params as { additionalProperties?: string[] }).additionalProperties ?? [];
    return { path: `${extra.instancePath}/${names[0] ?? ''}`, message: 'is not a field of this schema' };
  }
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (first.keyword === 'required') {
    const names = (first.params as { requiredProperties?: string[] }).requiredProperties ?? [];
    return { path: `${first.instancePath}/${names[0] ?? ''}`, message: 'is required' };
  }
  return { path: first.instancePath, message: oneOfMessage(errors, first.instancePath) ?? first.message };
}

/**
 * "must be one of "a", "b"" when the errors at `path` are a union of literals refusing the value (TypeBox
 * reports one `const` error per literal, each "must be equal to constant"); else undefined. Shared with the
 * API's error mapping (server/api/errors.ts).
 */
export function oneOfMessage(errors: readonly { keyword?: string; instancePath?: string; params?: unknown }[], path: string): string | undefined {
  const allowed = errors
    .filter((e) => e.keyword === 'const' && (e.instancePath ?? '') === path)
    .map((e) => JSON.stringify((e.params as { allowedValue?: unknown } | undefined)?.allowedValue));
  return allowed.length > 1 ? `must be one of ${allowed.join(', ')}` : undefined;
}
