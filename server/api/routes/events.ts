/** GET /api/runs/:id/events?start=&end=&kind=&limit= : spikes, markers and faults of a run. */
import { AppError, runNotFound } from '../../../common/errors.ts';
import { Type } from 'typebox';
import { EventsQuerySchema, StoredEventSchema } from '../../../common/schemas/runs.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Events of a run in sample-index order',
        params: RunIdParams,
        querystring: EventsQuerySchema,
        response: {
          200: Type.Object({ events: Type.Array(StoredEventSchema) }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!ctx.store.getRun(id)) throw runNotFound(id);
      const q = req.query;
      if (q.start !== undefined && q.end !== undefined && q.end <= q.start) {
        throw new AppError('BAD_RANGE', `end (${q.end}) must be greater than start (${q.start})`, '/query/end');
      }
      return {
        events: ctx.store.listEvents(id, {
          ...(q.start !== undefined ? { start: q.start } : {}),
          ...(q.end !== undefined ? { end: q.end } : {}),
          ...(q.kind ? { kind: q.kind } : {}),
          limit: q.limit ?? 10_000,
        }),
      };
    },
  );
};
export default plugin;
