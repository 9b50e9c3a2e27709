/**
 * Experiments across runs:
 *   POST /api/experiments/stdp   { runIds } → { pairs, fit }: the STDP curve of stdp-protocol runs, fitted
 */
import { StdpBodySchema, StdpCurveSchema } from '../../../common/schemas/experiments.ts';
import { stdpCurveOfRuns } from '../../experiments/stdp-runs.ts';
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
    async (req) => stdpCurveOfRuns(ctx.store, req.body.runIds, req.body.channel),
  );
};
export default plugin;
