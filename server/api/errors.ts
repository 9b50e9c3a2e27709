/**
 * The API's one error catalogue: every error the API returns has a code, an HTTP status and a message
 * template ({name} placeholders). Responses are `{ error: { code, message, field? } }`; tests assert the code.
 * Errors thrown by the store (StoreError), the run manager (RunError) and fastify itself (validation, body
 * size, malformed JSON) are all translated here, so bad input never becomes a 500.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RunError } from '../runs/run-manager.ts';

export const ERRORS = {
  VALIDATION: { status: 400, message: '{detail}' },
  MALFORMED_JSON: { status: 400, message: 'body is not valid JSON: {detail}' },
  BAD_PROTOCOL: { status: 400, message: '{detail}' },
  BAD_SAMPLE_RATE: { status: 400, message: '{detail}' },
  BAD_RANGE: { status: 400, message: '{detail}' },
  SOURCE_UNKNOWN: { status: 400, message: '{detail}' },
  BAD_SOURCE_OPTIONS: { status: 400, message: '{detail}' },
  BAD_STREAM: { status: 400, message: '{detail}' },
  BAD_BLOCK: { status: 400, message: '{detail}' },
  RUN_NOT_FOUND: { status: 404, message: 'run {id} does not exist' },
  CHANNEL_NOT_FOUND: { status: 404, message: '{detail}' },
  ROUTE_NOT_FOUND: { status: 404, message: 'no route {method} {url}' },
  RUN_ACTIVE: { status: 409, message: 'run {id} is running; stop it first' },
  RUN_FINISHED: { status: 409, message: '{detail}' },
  RUN_NOT_ACTIVE: { status: 409, message: '{detail}' },
  LIMIT_EXCEEDED: { status: 400, message: '{detail}' },
  PROGRAM_LIMIT: { status: 400, message: '{detail}' },
  BAD_SWEEP: { status: 400, message: '{detail}' },
  SWEEP_NOT_FOUND: { status: 404, message: 'sweep {id} does not exist' },
  NO_TWIN: { status: 409, message: '{detail}' },
  BAD_CIRCUIT: { status: 400, message: '{detail}' },
  SOURCE_UNAVAILABLE: { status: 409, message: '{detail}' },
  SOURCE_FAILED: { status: 409, message: '{detail}' },
  INSTRUMENT_NOT_FOUND: { status: 404, message: '{detail}' },
  INSTRUMENT_NOT_CONNECTED: { status: 409, message: '{detail}' },
  INSTRUMENT_BUSY: { status: 409, message: '{detail}' },
  INSTRUMENT_FAILED: { status: 502, message: '{detail}' },
  BAD_INSTRUMENT: { status: 400, message: '{detail}' },
  BODY_TOO_LARGE: { status: 413, message: 'request body is larger than {limit} bytes' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'content type {type} is not supported; send application/json' },
  SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  STORE_LOCKED: { status: 503, message: '{detail}' },
  STORE_CLOSED: { status: 503, message: '{detail}' },
  STORE_TOO_NEW: { status: 500, message: '{detail}' },
  EXPORT_RATES_DIFFER: { status: 400, message: '{detail}' },
  BAD_IMPORT: { status: 400, message: '{detail}' },
  INTERNAL: { status: 500, message: 'internal error: {detail}' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    params: Record<string, string | number> = {},
    readonly field?: string,
    /** Replaces the template (errors that arrive with their own message, e.g. from the store). */
    message?: string,
  ) {
    super(message ?? ERRORS[code].message.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? `{${k}}`)));
    this.name = 'ApiError';
    this.status = ERRORS[code].status;
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

export const notFound = (id: number | string) => new ApiError('RUN_NOT_FOUND', { id });

interface ValidationItem {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turns anything thrown in a handler (or by fastify before it) into an ApiError. */
export function toApiError(err: unknown, bodyLimit: number, contentType = 'given'): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RunError) return new ApiError(err.code, {}, err.field, err.message);
  const e = err as Partial<FastifyError> & { code?: string; validation?: ValidationItem[]; validationContext?: string };
  if (e && e.name === 'StoreError' && typeof e.code === 'string' && e.code in ERRORS) {
    return new ApiError(e.code as ApiErrorCode, {}, undefined, e.message ?? e.code);
  }
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
    let message = v.message ?? 'is invalid';
    if (part === 'body' && !pointer) return new ApiError('VALIDATION', { detail: `body: ${message} (send a JSON object)` }, '/');
    if (v.keyword === 'required') message = 'is required';
    else if (v.keyword === 'additionalProperties' || message === 'schema is false') message = 'is not an allowed field';
    return new ApiError('VALIDATION', { detail: `${field}: ${message}` }, field);
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('BODY_TOO_LARGE', { limit: bodyLimit });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('MALFORMED_JSON', { detail: e.message ?? '' }, 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', { type: contentType });
  }
  if (err instanceof SyntaxError) return new ApiError('MALFORMED_JSON', { detail: err.message }, 'body');
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return new ApiError('BODY_TOO_LARGE', { limit: bodyLimit });
  if (status >= 400 && status < 500) return new ApiError('VALIDATION', { detail: e?.message ?? 'bad request' });
  return new ApiError('INTERNAL', { detail: e?.message ?? String(err) });
}

export function errorHandler(bodyLimit: number) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const api = toApiError(err, bodyLimit, String(req.headers['content-type'] ?? 'none'));
    if (api.status >= 500) req.log.error({ err }, 'request failed');
    void reply.status(api.status).type('application/json').send(api.body());
  };
}
