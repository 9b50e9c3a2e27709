/**
 * GET /api/workers: where the worker pool's tasks run. `local`: this server's threads. `queue`
 * (`serve --redis`): the BullMQ queue's job counts, the `spikeloop worker` processes connected to it and
 * the jobs they are running (server/workers/queue.ts). The Sweeps page shows it.
 */
import { WorkersSchema } from '../../../common/schemas/server.ts';
import type { QueuePool } from '../../workers/queue.ts';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/workers',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Where twin runs and heavy analyses run: local threads, or the workers of a Redis queue',
        response: { 200: WorkersSchema },
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
