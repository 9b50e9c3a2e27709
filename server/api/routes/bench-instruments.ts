/**
 * The bench configuration, its instruments and their connections (server/benchconfig/instruments.ts):
 *
 *   GET  /api/bench                              → { bench }        instruments, roles, limits
 *   GET  /api/bench/instruments                  → { instruments }  configured, found (USB VID/PID) and virtual
 *   GET  /api/bench/instruments/:id              → { instrument }
 *   POST /api/bench/instruments/:id/connect      → { instrument }   open, identify (*IDN? / HELLO), outputs off
 *   POST /api/bench/instruments/:id/disconnect   → { instrument }   outputs to zero, then close
 *
 * The instrument manager comes from the composition root (server/services.ts), which lends connected
 * instruments to runs; closing the app disconnects them (after the runs have stopped).
 */
import { AppError } from '../../../common/errors.ts';
import { Type } from 'typebox';
import { BenchConfigSchema, InstrumentStateSchema } from '../../../common/schemas/bench.ts';
import { ErrorSchema } from '../../../common/schemas/shared.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Instrument id (GET /api/bench/instruments)' }) },
  { additionalProperties: false },
);
/** connect and disconnect take no fields: a body with any is refused, naming the first. */
function noFields(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) throw new AppError('VALIDATION', 'body: send no body or an empty JSON object', '/');
  const first = Object.keys(body)[0];
  if (first !== undefined) throw new AppError('VALIDATION', `/${first}: is not an allowed field (this request takes no fields)`, `/${first}`);
}

const plugin: RoutePlugin = async (app, { ctx }) => {
  const manager = ctx.instruments;
  app.get(
    '/api/bench',
    {
      schema: {
        tags: ['experiments'],
        summary: 'The bench configuration: instruments, ports, channel roles and the limits every protocol is checked against',
        response: { 200: Type.Object({ bench: BenchConfigSchema }) },
      },
    },
    async () => ({ bench: ctx.bench }),
  );

  // services built without an instrument manager (instruments: false) have no instrument routes
  if (!manager) return;
  const responses = { 200: Type.Object({ instrument: InstrumentStateSchema }), ...errorResponses, 502: ErrorSchema };

  app.get(
    '/api/bench/instruments',
    {
      schema: {
        tags: ['bench'],
        summary: 'Instruments of the bench (configured, found by USB VID/PID, virtual) with their connection state, identity, outputs and limits',
        response: { 200: Type.Object({ instruments: Type.Array(InstrumentStateSchema) }) },
      },
    },
    async () => ({ instruments: await manager.list() }),
  );

  app.get(
    '/api/bench/instruments/:id',
    { schema: { tags: ['bench'], summary: 'One instrument and its state', params: IdParams, response: responses } },
    async (req) => ({ instrument: await manager.get(req.params.id) }),
  );

  app.post(
    '/api/bench/instruments/:id/connect',
    {
      schema: {
        tags: ['bench'],
        summary: 'Connect: open the port, identify (*IDN? for an SMU, HELLO for a DAQ board), turn outputs off. Runs then use this connection',
        params: IdParams,
        response: responses,
      },
    },
    async (req) => {
      noFields(req.body);
      return { instrument: await manager.connect(req.params.id) };
    },
  );

  app.post(
    '/api/bench/instruments/:id/disconnect',
    {
      schema: {
        tags: ['bench'],
        summary: 'Disconnect: outputs to zero, then close the port. Refused (409 INSTRUMENT_BUSY) while a run uses the instrument',
        params: IdParams,
        response: responses,
      },
    },
    async (req) => {
      noFields(req.body);
      return { instrument: await manager.disconnect(req.params.id) };
    },
  );
};
export default plugin;
