/** GET /api/health: liveness and version. */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['server'],
        summary: 'Liveness and software version',
        response: { 200: Type.Object({ ok: Type.Boolean(), version: Type.String() }) },
      },
    },
    async () => ({ ok: true, version: ctx.version }),
  );
};
export default plugin;
