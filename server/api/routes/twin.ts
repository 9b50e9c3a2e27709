/**
 * Digital twin: example circuits, device models, and starting a twin run.
 *   GET /api/twin/circuits   GET /api/twin/models   POST /api/twin/runs
 * A twin run is an ordinary run (source 'twin'): it streams on the live feed and is read back like any other.
 */
import { Type } from 'typebox';
import { RunSummarySchema } from '../../../common/schemas/runs.ts';
import { CircuitInfoSchema, DeviceModelInfoSchema, TwinRunBodySchema } from '../../../common/schemas/twin.ts';
import { listBuiltInCircuits } from '../../twin/circuits/index.ts';
import { startTwinRun } from '../../experiments/pairing.ts';
import { MODELS } from '../../twin/index.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs } = ctx;

  app.get(
    '/api/twin/circuits',
    {
      schema: {
        tags: ['twin'],
        summary: 'Example circuits (usable by name in POST /api/twin/runs) and the circuits stored by twin fits (usable by name in POST /api/runs/:id/fit)',
        response: { 200: Type.Object({ circuits: Type.Array(CircuitInfoSchema) }) },
      },
    },
    async () => ({
      circuits: [
        ...listBuiltInCircuits(),
        ...store.listCircuits().map((c) => {
          const doc = c.document as { kind?: string; description?: string };
          return { name: c.name, kind: doc.kind ?? '', description: doc.description ?? '', stored: true };
        }),
      ],
    }),
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
    async (req, reply) => reply.status(201).send({ run: await startTwinRun(store, runs, req.body) }),
  );
};
export default plugin;
