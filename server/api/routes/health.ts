/** GET /api/health: liveness and version. */
import { HealthSchema } from '../../../common/schemas/server.ts';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['server'],
        summary: 'Liveness and software version',
        response: { 200: HealthSchema },
      },
    },
    async () => ({ ok: true, version: ctx.version }),
  );
};
export default plugin;
