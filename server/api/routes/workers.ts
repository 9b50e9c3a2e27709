/**
 * GET /api/workers: where the worker pool's tasks run. `local`: this server's threads. `queue`
 * (`serve --redis`): the BullMQ queue's job counts, the `spikeloop worker` processes connected to it and
 * the jobs they are running (server/workers/queue.ts). The Sweeps page shows it.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { QueuePool } from '../../workers/queue.ts';
import type { RoutePlugin } from '../app.ts';

const Count = Type.Integer({ minimum: 0 });

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/workers',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Where twin runs and heavy analyses run: local threads, or the workers of a Redis queue',
        response: {
          200: Type.Object({
            mode: Type.Union([Type.Literal('local'), Type.Literal('queue')]),
            threads: Type.Integer(),
            redis: Type.Optional(Type.String()),
            counts: Type.Optional(Type.Object({ waiting: Count, active: Count, completed: Count, failed: Count, delayed: Count })),
            workers: Type.Optional(Type.Array(Type.Object({ name: Type.String(), addr: Type.String(), ageS: Type.Number() }))),
            active: Type.Optional(Type.Array(Type.Object({ id: Type.String(), task: Type.String(), worker: Type.Optional(Type.String()), attempts: Type.Integer() }))),
          }),
        },
      },
    },
    async () => {
      // duck-typed, so the server without --redis never loads BullMQ
      const queue = 'status' in ctx.pool ? (ctx.pool as QueuePool) : undefined;
      return queue ? { mode: 'queue' as const, threads: queue.threads, ...(await queue.status()) } : { mode: 'local' as const, threads: ctx.pool.threads };
    },
  );
};
export default plugin;
