/**
 * Request validation: TypeBox schemas checked by TypeBox's compiler. Bodies are checked as sent (no type
 * coercion: `"sampleRate": true` is a 400, not 1). Query strings and path parameters arrive as strings;
 * a string becomes a number only when it is a complete decimal literal, and is never rounded, so "1.5"
 * fails an integer schema instead of being truncated to 1, and "12abc" is refused; "true"/"false" become
 * booleans where the schema wants one (`?recompute=true`).
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

// `\d+(\.\d*)?`, not `\d+\.?\d*`, which backtracks quadratically: `?limit=` with 16,000 digits and a letter held the
// event loop 1.3 s
const NUMBER_LITERAL = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  anyOf?: JsonSchemaLike[];
}

function wants(s: JsonSchemaLike | undefined, type: string): boolean {
  if (!s) return false;
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return types.includes(type) || (s.anyOf ?? []).some((x) => wants(x, type));
}

/**
 * A query or path string as the schema's type: a decimal literal as a number (an integer schema only when
 * the value is an exact, safe integer: "1e20" stays a string and is refused, never rounded into the
 * database), "true"/"false" as a boolean.
 */
function asSchemaType(x: string, schema: JsonSchemaLike | undefined): unknown {
  if ((wants(schema, 'integer') || wants(schema, 'number')) && NUMBER_LITERAL.test(x.trim())) {
    const n = Number(x);
    if (wants(schema, 'number') || Number.isSafeInteger(n)) return n;
  }
  if (wants(schema, 'boolean') && (x === 'true' || x === 'false')) return x === 'true';
  return x;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const checker = Compile(schema);
  const props = (schema as JsonSchemaLike).properties ?? {};
  const fromText = httpPart !== 'body';
  return (value: unknown) => {
    let v = value;
    if (fromText && v && typeof v === 'object' && !Array.isArray(v)) {
      const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const [k, x] of Object.entries(copy)) {
        if (typeof x === 'string') copy[k] = asSchemaType(x, props[k]);
      }
      v = copy;
    }
    if (checker.Check(v)) return { value: v };
    return { error: checker.Errors(v) as unknown as FastifySchemaValidationError[] };
  };
};
