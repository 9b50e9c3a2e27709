/** GET /api/sources: registered run sources and whether each can run now. */
import { SourcesSchema } from '../../../common/schemas/server.ts';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Run sources (simulated, twin, daq, smu) and their availability',
        response: { 200: SourcesSchema },
      },
    },
    async () => ({ sources: await ctx.sources.list(), default: ctx.sources.defaultKind }),
  );
};
export default plugin;
