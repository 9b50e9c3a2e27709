/**
 * Sweeps as groups of runs (server/experiments/sweep-runner.ts), paired with the twin:
 *   POST /api/sweeps            { sweep, mode?, source?, sampleRate?, label?, circuit?, options? } → 201 { sweep }
 *   GET  /api/sweeps            → { sweeps }
 *   GET  /api/sweeps/:id        → { sweep }
 *   POST /api/sweeps/:id/stop   → { sweep }
 */
import { Type } from 'typebox';
import { SweepStartBodySchema, SweepStatusSchema } from '../../../common/schemas/sweeps.ts';
import { defaultTwinCircuit } from '../../experiments/stdp-circuit.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const SweepIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { sweeps, bench } = ctx;

  app.post(
    '/api/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'Start a sweep: one run per point (bench mode, each paired with the twin when a circuit is given) or twin runs on all cores (twin mode)',
        body: SweepStartBodySchema,
        response: { 201: Type.Object({ sweep: SweepStatusSchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      // bench mode pairs each run with the bench's twin circuit unless the request names one
      // twin mode without one: the plastic synapse for an stdp sweep (stdp-circuit.ts)
      const c = b.circuit ?? ((b.mode ?? 'bench') === 'bench' ? bench.twin?.circuit : defaultTwinCircuit(b.sweep));
      // checked on a thread (a network at its caps takes a few hundred ms to expand), not again by start()
      const circuit = c !== undefined ? ((await ctx.heavy.circuit(reply, c)) as typeof c) : undefined;
      const status = sweeps.start({ ...b, ...(circuit !== undefined ? { circuit } : {}) }, { circuitChecked: true });
      return reply.status(201).send({ sweep: status });
    },
  );

  app.get(
    '/api/sweeps',
    { schema: { tags: ['sweeps'], summary: 'Sweeps in the store (past ones too, across restarts), newest first', response: { 200: Type.Object({ sweeps: Type.Array(SweepStatusSchema) }) } } },
    async () => ({ sweeps: sweeps.list() }),
  );

  app.get(
    '/api/sweeps/:id',
    {
      schema: { tags: ['sweeps'], summary: 'One sweep with its points and their runs', params: SweepIdParams, response: { 200: Type.Object({ sweep: SweepStatusSchema }), ...errorResponses } },
    },
    async (req) => {
      return { sweep: sweeps.get(req.params.id) };
    },
  );

  app.post(
    '/api/sweeps/:id/stop',
    {
      schema: { tags: ['sweeps'], summary: 'Stop a sweep (current run aborted, outputs to zero)', params: SweepIdParams, response: { 200: Type.Object({ sweep: SweepStatusSchema }), ...errorResponses } },
    },
    async (req) => {
      return { sweep: await sweeps.stop(req.params.id) };
    },
  );
};
export default plugin;
