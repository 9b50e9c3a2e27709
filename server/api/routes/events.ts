/** GET /api/runs/:id/events?start=&end=&kind=&limit= : spikes, markers and faults of a run. */
import { AppError, runNotFound } from '../../../common/errors.ts';
import { Type } from '@fastify/type-provider-typebox';
import type { EventKind } from '../../../common/run-stream.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses, sampleIndex } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Events of a run in sample-index order',
        params: RunIdParams,
        querystring: Type.Object(
          {
            start: Type.Optional(sampleIndex('First sample index')),
            end: Type.Optional(sampleIndex('End sample index, exclusive')),
            kind: Type.Optional(Type.Union([Type.Literal('spike'), Type.Literal('marker'), Type.Literal('fault')])),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            events: Type.Array(
              Type.Object({
                id: Type.Integer(),
                kind: Type.String(),
                channel: Type.Union([Type.Integer(), Type.Null()]),
                index: Type.Integer(),
                label: Type.Union([Type.String(), Type.Null()]),
                value: Type.Union([Type.Number(), Type.Null()]),
                time_s: Type.Union([Type.Number(), Type.Null()], { description: 'exact time in s when the source knew it finer than a sample (twin events), else null' }),
              }),
            ),
          }),
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
          ...(q.kind ? { kind: q.kind as EventKind } : {}),
          limit: q.limit ?? 10_000,
        }),
      };
    },
  );
};
export default plugin;
