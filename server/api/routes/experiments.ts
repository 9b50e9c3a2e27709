/**
 * Experiments across runs:
 *   POST /api/experiments/stdp   { runIds } → { pairs, fit }: the STDP curve of stdp-protocol runs, fitted
 */
import { Type } from '@fastify/type-provider-typebox';
import { stdpCurveOfRuns, type StdpCurve } from '../../experiments/stdp-runs.ts';
import { outcome } from '../heavy.ts';
import { checkRunsSize } from './analysis.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

/*
 * Runs per curve, from measured cost: about 1.2 ms per run besides reading its samples (6-60 ns each), so
 * 256 runs cost about 0.3 s on a pool thread; their samples in all are capped as for analyses (checkRunsSize).
 */
export const MAX_STDP_RUNS = 256;

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/api/experiments/stdp',
    {
      schema: {
        tags: ['experiments'],
        summary: 'STDP curve of runs of the stdp protocol: Δw per pairing block from the read pulses around it, and the two-exponential fit',
        body: Type.Object(
          {
            runIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_STDP_RUNS }),
            channel: Type.Optional(Type.String({ maxLength: 64, description: 'Response channel name (default: the first response channel)' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            pairs: Type.Array(Type.Object({ runId: Type.Integer(), dt: Type.Number(), dw: Type.Number(), gBefore: Type.Number(), gAfter: Type.Number() })),
            fit: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], { description: 'fitStdp (snake_case): Aplus, tau_plus, Aminus, tau_minus, branches (null with < 2 pairs)' }),
            warnings: Type.Array(Type.String(), { description: 'Twin runs whose circuit has no plasticity (e.g. the LIF circuits): their Δw are not learning' }),
          }),
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
