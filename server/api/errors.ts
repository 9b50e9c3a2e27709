/**
 * The one error-to-HTTP mapping. Every error spikeloop throws on purpose is an AppError (common/errors.ts),
 * answered with its catalogue status and `{ error: { code, message, field? } }`; fastify's own refusals
 * (schema validation, body size, malformed JSON, content type) are translated to the same shape. Anything
 * else is a bug: 500 INTERNAL, logged with its stack, never passed off as the caller's fault.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors.ts';
import { oneOfMessage } from '../../common/schema-check.ts';

interface ValidationItem {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turns anything thrown in a handler (or by fastify before it) into an AppError. */
export function toAppError(err: unknown, bodyLimit: number, contentType = 'given', accepted: readonly string[] = ['application/json']): AppError {
  if (err instanceof AppError) return err;
  const e = err as Partial<FastifyError> & { code?: string; validation?: ValidationItem[]; validationContext?: string };
  if (e?.validation && e.validation.length) {
    const v = e.validation[0];
    const part = e.validationContext ?? 'body';
    let pointer = v.instancePath ?? '';
    // A missing required property is reported on its parent; name the property itself.
    const missing = v.params?.requiredProperties ?? v.params?.missingProperty ?? v.params?.properties;
    if ((v.keyword === 'required') && missing !== undefined) {
      pointer += `/${Array.isArray(missing) ? missing[0] : String(missing)}`;
    }
    if (v.keyword === 'additionalProperties') {
      const extra = v.params?.additionalProperties ?? v.params?.additionalProperty;
      if (extra !== undefined) pointer += `/${Array.isArray(extra) ? extra[0] : String(extra)}`;
    }
    // Body fields are JSON pointers into the body ("/protocol/frequencyHz"); query and path parameters
    // are prefixed with where they live ("/query/limit", "/params/id").
    const field = part === 'body' ? pointer || '/' : `/${part === 'querystring' ? 'query' : part}${pointer}`;
    let message = oneOfMessage(e.validation, v.instancePath ?? '') ?? v.message ?? 'is invalid';
    if (part === 'body' && !pointer) return new AppError('VALIDATION', `body: ${message} (send a JSON object)`, '/');
    if (v.keyword === 'required') message = 'is required';
    else if (v.keyword === 'additionalProperties' || message === 'schema is false') message = 'is not an allowed field';
    return new AppError('VALIDATION', `${field}: ${message}`, field);
  }
  const tooLarge = () => new AppError('BODY_TOO_LARGE', `request body is larger than ${bodyLimit} bytes`);
  // fastify's own refusals, before the handler ran (FST_ERR_CTP_*: content-type parser)
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge();
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('MALFORMED_JSON', `body is not valid JSON: ${e.message ?? ''}`, 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', `content type ${contentType} is not supported; send ${accepted.join(' or ')}`);
  }
  // the JSON parser's own SyntaxError (fastify marks it 400); a SyntaxError elsewhere is a bug
  if (err instanceof SyntaxError && e.statusCode === 400) return new AppError('MALFORMED_JSON', `body is not valid JSON: ${err.message}`, 'body');
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return tooLarge();
  if (status >= 400 && status < 500) return new AppError('VALIDATION', e?.message ?? 'bad request');
  return new AppError('INTERNAL', `internal error: ${e?.message ?? String(err)}`);
}

/** File types a route that takes a file adds a parser for (the import); every other route takes JSON. */
const FILE_TYPES = ['application/octet-stream', 'text/csv'];

export function errorHandler(bodyLimit: number) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    // what this route's context parses, so POST /api/import's refusal does not say "send application/json"
    const files = FILE_TYPES.filter((t) => req.server.hasContentTypeParser(t));
    const app = toAppError(err, bodyLimit, String(req.headers['content-type'] ?? 'none'), files.length ? files : undefined);
    // a bug or a server-side failure: logged with the original error and its stack
    if (app.status >= 500) req.log.error({ err }, 'request failed');
    void reply.status(app.status).type('application/json').send(app.body());
  };
}
