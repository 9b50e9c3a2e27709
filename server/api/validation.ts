/**
 * Request validation: TypeBox schemas checked by TypeBox's compiler. Bodies are checked as sent (no type
 * coercion: `"sampleRate": true` is a 400, not 1). Query strings and path parameters arrive as strings;
 * a string becomes a number only when it is a complete decimal literal, and is never rounded, so "1.5"
 * fails an integer schema instead of being truncated to 1, and "12abc" is refused.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from '@fastify/type-provider-typebox';
import { Compile } from 'typebox/compile';

const NUMBER_LITERAL = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  anyOf?: JsonSchemaLike[];
}

function wantsNumber(s: JsonSchemaLike | undefined): boolean {
  if (!s) return false;
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return types.includes('integer') || types.includes('number') || (s.anyOf ?? []).some(wantsNumber);
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const checker = Compile(schema);
  const props = (schema as JsonSchemaLike).properties ?? {};
  const convert = httpPart !== 'body';
  return (value: unknown) => {
    let v = value;
    if (convert && v && typeof v === 'object' && !Array.isArray(v)) {
      const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const [k, x] of Object.entries(copy)) {
        if (typeof x === 'string' && wantsNumber(props[k]) && NUMBER_LITERAL.test(x.trim())) copy[k] = Number(x);
      }
      v = copy;
    }
    if (checker.Check(v)) return { value: v };
    return { error: checker.Errors(v) as unknown as FastifySchemaValidationError[] };
  };
};
