/**
 * Experiments across runs:
 *   POST /api/experiments/stdp   { runIds } → { pairs, fit }: the STDP curve of stdp-protocol runs, fitted
 */
import { StdpBodySchema, StdpCurveSchema } from '../../../common/schemas/experiments.ts';
import { stdpCurveOfRuns, type StdpCurve } from '../../experiments/stdp-runs.ts';
import { outcome } from '../heavy.ts';
import { checkRunsSize } from './analysis.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/api/experiments/stdp',
    {
      schema: {
        tags: ['experiments'],
        summary: 'STDP curve of runs of the stdp protocol: Δw per pairing block from the read pulses around it, and the two-exponential fit',
        body: StdpBodySchema,
        response: {
          200: StdpCurveSchema,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { runIds, channel } = req.body;
      checkRunsSize(ctx.store, runIds);
      // read and computed on the pool when a thread can open the database file; else here, within the caps
      if (!ctx.heavy.readsFile(ctx.store)) return stdpCurveOfRuns(ctx.store, runIds, channel);
      return outcome(await ctx.heavy.run(reply, 'stdpCurve', { dbFile: ctx.store.file, runIds, ...(channel !== undefined ? { channel } : {}) })) as StdpCurve;
    },
  );
};
export default plugin;
