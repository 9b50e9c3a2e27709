/**
 * Route-only schemas: path parameters and the error responses every route declares. The shapes of
 * requests and answers live in common/schemas (shared with the CLI and the dashboard).
 */
import { Type } from 'typebox';
import { ErrorSchema } from '../../common/schemas/shared.ts';

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
