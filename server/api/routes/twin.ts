/**
 * Digital twin: example circuits, device models, and starting a twin run.
 *   GET /api/twin/circuits   GET /api/twin/models   POST /api/twin/runs
 * A twin run is an ordinary run (source 'twin'): it streams on the live feed and is read back like any other.
 */
import { AppError } from '../../../common/errors.ts';
import { Type } from '@fastify/type-provider-typebox';
import { TWIN_MAX_SAMPLE_RATE, loadExampleCircuit } from '../../sources/twin-source.ts';
import { listBuiltInCircuits } from '../../twin/circuits/index.ts';
import { startTwinOfRun } from '../../experiments/pairing.ts';
import { MODELS } from '../../twin/index.ts';
import type { RoutePlugin } from '../app.ts';
import { RunSummarySchema, errorResponses } from '../schemas.ts';

const CIRCUIT_CODES = new Set(['BAD_CIRCUIT', 'TWIN_BAD_CIRCUIT', 'TWIN_UNKNOWN_MODEL', 'TWIN_BAD_PARAM', 'TWIN_BAD_PROBE']);

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs } = ctx;

  app.get(
    '/api/twin/circuits',
    {
      schema: {
        tags: ['twin'],
        summary: 'Example circuits (usable by name in POST /api/twin/runs)',
        response: { 200: Type.Object({ circuits: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), description: Type.String() })) }) },
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
          200: Type.Object({
            models: Type.Array(
              Type.Object({ name: Type.String(), title: Type.String(), defaultSet: Type.String(), defaults: Type.Record(Type.String(), Type.Number()), x0: Type.Number() }),
            ),
          }),
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
        body: Type.Object(
          {
            circuit: Type.Union([Type.String({ maxLength: 64, description: 'example circuit name' }), Type.Object({}, { additionalProperties: true, description: 'circuit document' })]),
            protocol: Type.Optional(Type.Object({ kind: Type.String() }, { additionalProperties: true })),
            stimulusRun: Type.Optional(
              Type.Object({ runId: Type.Integer({ minimum: 1 }), channel: Type.String({ maxLength: 64, description: 'channel name or index' }) }, { additionalProperties: false }),
            ),
            sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: TWIN_MAX_SAMPLE_RATE, description: 'S/s for a protocol stimulus, default 100000 (twin runs up to 10 MS/s)' })),
            durationS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400, description: 'simulated time, s' })),
            method: Type.Optional(Type.Union([Type.Literal('rk4'), Type.Literal('euler'), Type.Literal('adaptive'), Type.Literal('implicit')])),
            dt: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'internal step, s' })),
            label: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ run: RunSummarySchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if ((b.protocol === undefined) === (b.stimulusRun === undefined))
        throw new AppError('VALIDATION', '/protocol: give exactly one of protocol and stimulusRun', '/protocol');
      // checked where it is expanded, on the worker thread (a network at its caps takes a few hundred ms)
      const circuit: unknown = typeof b.circuit === 'string' ? loadExampleCircuit(b.circuit) : b.circuit;
      const twinOpts = { ...(b.method ? { method: b.method } : {}), ...(b.dt !== undefined ? { dt: b.dt } : {}) };
      const start = async () => {
        if (b.stimulusRun) {
          // the one path of a twin fed a stored run's recorded stimulus (experiments/pairing.ts)
          return (
            await startTwinOfRun(store, runs, b.stimulusRun.runId, {
              circuit,
              channel: b.stimulusRun.channel,
              ...(b.durationS !== undefined ? { durationS: b.durationS } : {}),
              options: twinOpts,
              ...(b.label !== undefined ? { label: b.label } : {}),
              field: '/stimulusRun',
            })
          ).run;
        }
        return runs.start({
          source: 'twin',
          ...(b.label !== undefined ? { label: b.label } : {}),
          protocol: b.protocol,
          ...(b.sampleRate !== undefined ? { sampleRate: b.sampleRate } : {}),
          ...(b.durationS !== undefined ? { durationS: b.durationS } : {}),
          options: { circuit, ...twinOpts },
        });
      };
      try {
        return reply.status(201).send({ run: await start() });
      } catch (err) {
        // the twin's refusal of the document is the request's /circuit
        if (err instanceof AppError && CIRCUIT_CODES.has(err.code)) throw new AppError('VALIDATION', `/circuit: ${err.message.replace(/^source "twin": /, '')}`, '/circuit');
        throw err;
      }
    },
  );
};
export default plugin;
