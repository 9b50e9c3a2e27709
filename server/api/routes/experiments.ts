/**
 * Experiments across runs:
 *   POST /api/experiments/stdp   { runIds } → { pairs, fit }: the STDP curve of stdp-protocol runs, fitted
 */
import { Type } from '@fastify/type-provider-typebox';
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
        body: Type.Object(
          {
            runIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10_000 }),
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
    async (req) => stdpCurveOfRuns(ctx.store, req.body.runIds, req.body.channel),
  );
};
export default plugin;
