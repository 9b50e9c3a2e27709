/**
 * Digital twin: example circuits, device models, and starting a twin run.
 *   GET /api/twin/circuits   GET /api/twin/models   POST /api/twin/runs
 * A twin run is an ordinary run (source 'twin'): it streams on the live feed and is read back like any other.
 */
import { AppError } from '../../../common/errors.ts';
import { Type } from 'typebox';
import { RunSummarySchema } from '../../../common/schemas/runs.ts';
import { CircuitInfoSchema, DeviceModelInfoSchema, TwinRunBodySchema } from '../../../common/schemas/twin.ts';
import { loadExampleCircuit } from '../../sources/twin-source.ts';
import { listBuiltInCircuits } from '../../twin/circuits/index.ts';
import { startTwinOfRun } from '../../experiments/pairing.ts';
import { MODELS, expandCircuit } from '../../twin/index.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs } = ctx;

  app.get(
    '/api/twin/circuits',
    {
      schema: {
        tags: ['twin'],
        summary: 'Example circuits (usable by name in POST /api/twin/runs)',
        response: { 200: Type.Object({ circuits: Type.Array(CircuitInfoSchema) }) },
      },
    },
    async () => ({ circuits: listBuiltInCircuits() }),
  );

  app.get(
    '/api/twin/models',
    {
      schema: {
        tags: ['twin'],
        summary: 'Device models with their default parameter sets',
        response: {
          200: Type.Object({ models: Type.Array(DeviceModelInfoSchema) }),
        },
      },
    },
    async () => ({
      models: Object.values(MODELS).map((m) => ({ name: m.name, title: m.title, defaultSet: m.defaultSet, defaults: m.defaults, x0: m.x0 })),
    }),
  );

  app.post(
    '/api/twin/runs',
    {
      schema: {
        tags: ['twin'],
        summary: 'Start a twin run: a circuit fed a protocol, or the stimulus recorded in a stored run (then linked to it)',
        body: TwinRunBodySchema,
        response: { 201: Type.Object({ run: RunSummarySchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if ((b.protocol === undefined) === (b.stimulusRun === undefined))
        throw new AppError('VALIDATION', '/protocol: give exactly one of protocol and stimulusRun', '/protocol');
      let circuit: unknown;
      try {
        circuit = typeof b.circuit === 'string' ? loadExampleCircuit(b.circuit) : b.circuit;
        expandCircuit(circuit);
      } catch (err) {
        throw new AppError('VALIDATION', `/circuit: ${err instanceof Error ? err.message : String(err)}`, '/circuit');
      }
      const twinOpts = { ...(b.method ? { method: b.method } : {}), ...(b.dt !== undefined ? { dt: b.dt } : {}) };
      if (b.stimulusRun) {
        // the one path of a twin fed a stored run's recorded stimulus (experiments/pairing.ts)
        const { run } = await startTwinOfRun(store, runs, b.stimulusRun.runId, {
          circuit,
          channel: b.stimulusRun.channel,
          ...(b.durationS !== undefined ? { durationS: b.durationS } : {}),
          options: twinOpts,
          ...(b.label !== undefined ? { label: b.label } : {}),
          field: '/stimulusRun',
        });
        return reply.status(201).send({ run });
      }
      const run = await runs.start({
        source: 'twin',
        ...(b.label !== undefined ? { label: b.label } : {}),
        protocol: b.protocol,
        ...(b.sampleRate !== undefined ? { sampleRate: b.sampleRate } : {}),
        ...(b.durationS !== undefined ? { durationS: b.durationS } : {}),
        options: { circuit, ...twinOpts },
      });
      return reply.status(201).send({ run });
    },
  );
};
export default plugin;
