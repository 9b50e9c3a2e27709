/** GET /api/sources: registered run sources and whether each can run now. */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Run sources (simulated, twin, daq, smu) and their availability',
        response: {
          200: Type.Object({
            sources: Type.Array(
              Type.Object({
                kind: Type.String(),
                title: Type.String(),
                available: Type.Boolean(),
                detail: Type.Optional(Type.String()),
                defaultSampleRate: Type.Optional(Type.Number({ description: 'S/s per channel used when a run names none' })),
                twinCircuit: Type.Optional(Type.String({ description: 'Built-in twin circuit of the device this source measures: the default for pairing its runs' })),
              }),
            ),
            default: Type.String(),
          }),
        },
      },
    },
    async () => ({ sources: await ctx.sources.list(), default: ctx.sources.defaultKind }),
  );
};
export default plugin;
