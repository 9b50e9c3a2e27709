/** WebSocket GET /api/runs/:id/live : the live feed of a run (see ../live-feed.ts and docs/api.md). */
import { runNotFound } from '../../../common/errors.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/live',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        summary: 'WebSocket: hello, decimated min/max blocks, events, rate/dropped notices, stop',
        params: RunIdParams,
        response: { ...errorResponses },
      },
      // Unknown runs are refused with a 404 before the upgrade.
      preValidation: async (req) => {
        const id = Number((req.params as unknown as { id: string }).id);
        if (Number.isInteger(id) && id > 0 && !ctx.store.getRun(id)) throw runNotFound(id);
      },
    },
    (socket, req) => {
      const id = req.params.id;
      // The hello's event counts plus the events that follow it are the run's exact totals.
      ctx.runs.commit(id);
      const run = ctx.store.getRun(id);
      if (!run) {
        socket.close(1008, 'run not found');
        return;
      }
      ctx.live.serve(socket, run, (listener) => ctx.runs.subscribe(id, listener));
    },
  );
};
export default plugin;
