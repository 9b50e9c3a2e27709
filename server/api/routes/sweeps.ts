/**
 * Sweeps as groups of runs (server/experiments/sweep-runner.ts), paired with the twin:
 *   POST /api/sweeps            { sweep, mode?, source?, sampleRate?, label?, circuit? } → 201 { sweep }
 *   GET  /api/sweeps            → { sweeps }
 *   GET  /api/sweeps/:id        → { sweep }
 *   POST /api/sweeps/:id/stop   → { sweep }
 */
import { Type } from '@fastify/type-provider-typebox';
import { defaultTwinCircuit } from '../../experiments/stdp-circuit.ts';
import { MAX_SAMPLE_RATE } from '../../runs/run-manager.ts';
import { resolveCircuit } from '../../sources/twin-source.ts';
import type { RoutePlugin } from '../app.ts';
import { SummarySchema, errorResponses } from '../schemas.ts';

const Nullable = (t: ReturnType<typeof Type.Number>) => Type.Union([t, Type.Null()]);
const PointStatsSchema = Type.Object(
  {
    count: Type.Integer(),
    rateHz: Type.Number(),
    meanIsiS: Nullable(Type.Number()),
    cvIsi: Nullable(Type.Number()),
    regime: Type.String({ description: 'quiescent | oscillatory | irregular | bursting | saturated' }),
  },
  { description: 'spike-stats of the run' },
);

const SweepPointSchema = Type.Object(
  {
    index: Type.Integer(),
    label: Type.String(),
    values: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()])),
    status: Type.String({ description: 'pending | running | completed | aborted | failed | interrupted' }),
    runId: Type.Optional(Type.Integer()),
    twinRunId: Type.Optional(Type.Integer()),
    twinStatus: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    stats: Type.Optional(PointStatsSchema),
    twinStats: Type.Optional(PointStatsSchema),
  },
  { additionalProperties: false },
);

const SweepStatusSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  mode: Type.String({ description: 'bench | twin' }),
  state: Type.String({ description: 'running | completed | aborted | failed | interrupted (the server ended while it ran)' }),
  reason: Type.Optional(Type.String()),
  summary: SummarySchema,
  fraction: Type.Number(),
  createdAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  points: Type.Array(SweepPointSchema),
});

const SweepIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { sweeps, bench } = ctx;

  app.post(
    '/api/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'Start a sweep: one run per point (bench mode, each paired with the twin when a circuit is given) or twin runs on all cores (twin mode)',
        body: Type.Object(
          {
            sweep: Type.Object({ kind: Type.Literal('sweep') }, { additionalProperties: true, description: 'Sweep document, see docs/protocols.md' }),
            mode: Type.Optional(Type.Union([Type.Literal('bench'), Type.Literal('twin')], { default: 'bench' })),
            source: Type.Optional(Type.String({ maxLength: 32, description: 'bench mode: source kind of the measured runs' })),
            sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_SAMPLE_RATE })),
            label: Type.Optional(Type.String({ maxLength: 200 })),
            circuit: Type.Optional(
              Type.Union([Type.String({ maxLength: 64 }), Type.Object({ kind: Type.String() }, { additionalProperties: true })], {
                description: 'Twin circuit: a built-in name (GET /api/twin/circuits) or a circuit document',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ sweep: SweepStatusSchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      // bench mode pairs each run with the bench's twin circuit unless the request names one
      // twin mode without one: the plastic synapse for an stdp sweep (stdp-circuit.ts)
      const c = b.circuit ?? ((b.mode ?? 'bench') === 'bench' ? bench.twin?.circuit : defaultTwinCircuit(b.sweep));
      const status = sweeps.start({ ...b, ...(c !== undefined ? { circuit: resolveCircuit(c) } : {}) });
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
