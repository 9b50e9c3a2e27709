/**
 * Runs: list, start, get, delete, stop, notes and tags.
 *   GET /api/runs   POST /api/runs   GET|DELETE /api/runs/:id   POST /api/runs/:id/stop
 *   PUT /api/runs/:id/notes   PUT /api/runs/:id/tags
 */
import { AppError, runNotFound, runActive } from '../../../common/errors.ts';
import { Type } from '@fastify/type-provider-typebox';
import type { RunStatus } from '../../../common/run-stream.ts';
import { MAX_SAMPLE_RATE } from '../../runs/run-manager.ts';
import { pairWhenEnded } from '../../experiments/auto-pair.ts';
import { resolveCircuit } from '../../sources/twin-source.ts';
import type { RoutePlugin } from '../app.ts';
import { RunDetailSchema, RunIdParams, RunSummarySchema, errorResponses } from '../schemas.ts';

const StatusQuery = Type.Union(['running', 'completed', 'aborted', 'failed', 'interrupted'].map((s) => Type.Literal(s)));

/** A date (`2026-11-23`, UTC midnight) or date-time in ISO 8601, as the store's `toISOString` form; else a 400 naming the field. */
function isoTime(text: string, field: string): string {
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text);
  const t = ok ? Date.parse(text) : NaN;
  if (!Number.isFinite(t)) throw new AppError('VALIDATION', `${field.slice(1)}: "${text}" is not an ISO 8601 date or date-time`, field);
  return new Date(t).toISOString();
}

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs } = ctx;
  const getOr404 = (id: number) => {
    const run = store.getRun(id);
    if (!run) throw runNotFound(id);
    return run;
  };

  app.get(
    '/api/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Stored runs, newest first',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            status: Type.Optional(StatusQuery),
            search: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of label, notes or protocol kind' })),
            tag: Type.Optional(Type.String({ maxLength: 64 })),
            kind: Type.Optional(Type.String({ maxLength: 64, description: 'Protocol kind, exact (e.g. square)' })),
            source: Type.Optional(Type.String({ maxLength: 64, description: 'Run source, exact (e.g. simulated, twin)' })),
            notes: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the notes' })),
            linkedTo: Type.Optional(Type.Integer({ minimum: 1, description: 'Runs linked to this run (its twin runs)' })),
            after: Type.Optional(Type.String({ maxLength: 40, description: 'Created at or after this date/time (ISO 8601)' })),
            before: Type.Optional(Type.String({ maxLength: 40, description: 'Created before this date/time (ISO 8601)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ runs: Type.Array(RunSummarySchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      return {
        runs: store.listRuns({
          limit: q.limit ?? 100,
          offset: q.offset ?? 0,
          ...(q.status ? { status: q.status as RunStatus } : {}),
          ...(q.search ? { search: q.search } : {}),
          ...(q.tag ? { tag: q.tag } : {}),
          ...(q.kind ? { kind: q.kind } : {}),
          ...(q.source ? { source: q.source } : {}),
          ...(q.notes ? { notes: q.notes } : {}),
          ...(q.linkedTo !== undefined ? { linkedTo: q.linkedTo } : {}),
          ...(q.after ? { createdAfter: isoTime(q.after, '/after') } : {}),
          ...(q.before ? { createdBefore: isoTime(q.before, '/before') } : {}),
        }),
      };
    },
  );

  app.post(
    '/api/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Start a run from a protocol (it starts immediately; duration = protocol.durationS)',
        body: Type.Object(
          {
            protocol: Type.Object(
              { kind: Type.String({ description: 'Protocol kind, see GET /api/protocols' }) },
              { additionalProperties: true, description: 'Protocol document: { kind, ...parameters }' },
            ),
            source: Type.Optional(Type.String({ description: 'Source kind, see GET /api/sources (default: simulated)' })),
            sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_SAMPLE_RATE, description: 'S/s per channel, default 100000' })),
            label: Type.Optional(Type.String({ maxLength: 200 })),
            options: Type.Optional(
              Type.Record(Type.String(), Type.Unknown(), {
                description: 'Source-specific run options, e.g. { "address": ... } for smu, { "port": ... } for daq (see docs of each source)',
              }),
            ),
            twin: Type.Optional(
              Type.Object(
                {
                  circuit: Type.Union([Type.String({ maxLength: 64 }), Type.Object({ kind: Type.String() }, { additionalProperties: true })], {
                    description: 'Twin circuit: a built-in name (GET /api/twin/circuits) or a circuit document',
                  }),
                },
                { additionalProperties: false, description: 'Pair with the twin: when the run ends, its recorded stimulus is fed to this circuit (as POST /api/runs/:id/pair)' },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ run: RunSummarySchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      // the circuit is checked before anything starts; the pairing itself waits for the run's end
      const circuit = b.twin ? resolveCircuit(b.twin.circuit, '/twin/circuit') : undefined;
      if (circuit !== undefined && !ctx.simulate) throw new AppError('NO_TWIN', 'the digital twin is not available on this server', '/twin');
      const run = await runs.start({
        protocol: b.protocol,
        ...(b.source !== undefined ? { source: b.source } : {}),
        ...(b.sampleRate !== undefined ? { sampleRate: b.sampleRate } : {}),
        ...(b.label !== undefined ? { label: b.label } : {}),
        ...(b.options !== undefined ? { options: b.options as Record<string, unknown> } : {}),
      });
      if (circuit !== undefined) {
        const analyses = ctx.bench.twin?.analyses;
        void pairWhenEnded(store, runs, run.id, { circuit, simulate: ctx.simulate!, ...(analyses ? { analyses } : {}), log: (line) => req.log.info(line) });
      }
      return reply.status(201).send({ run });
    },
  );

  app.get(
    '/api/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run with its channels, dropped ranges and event counts',
        params: RunIdParams,
        response: { 200: Type.Object({ run: RunDetailSchema }), ...errorResponses },
      },
    },
    async (req) => ({ run: getOr404(req.params.id) }),
  );

  app.delete(
    '/api/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'Delete a run and its data (409 while it is running)',
        params: RunIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      getOr404(id);
      if (runs.isActive(id)) throw runActive(id);
      if (!store.deleteRun(id)) throw runNotFound(id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/runs/:id/stop',
    {
      schema: {
        tags: ['runs'],
        summary: 'Stop a running run (status aborted, reason "stopped by user"); a finished run is returned as is',
        params: RunIdParams,
        response: { 200: Type.Object({ run: RunDetailSchema }), ...errorResponses },
      },
    },
    async (req) => {
      getOr404(req.params.id);
      return { run: await runs.stop(req.params.id) };
    },
  );

  app.put(
    '/api/runs/:id/notes',
    {
      schema: {
        tags: ['runs'],
        summary: 'Replace the notes of a run',
        params: RunIdParams,
        body: Type.Object({ notes: Type.String({ maxLength: 100_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ run: RunDetailSchema }), ...errorResponses },
      },
    },
    async (req) => {
      getOr404(req.params.id);
      store.setNotes(req.params.id, req.body.notes);
      return { run: getOr404(req.params.id) };
    },
  );

  app.put(
    '/api/runs/:id/tags',
    {
      schema: {
        tags: ['runs'],
        summary: 'Replace the tags of a run',
        params: RunIdParams,
        body: Type.Object(
          { tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ run: RunDetailSchema }), ...errorResponses },
      },
    },
    async (req) => {
      getOr404(req.params.id);
      store.setTags(req.params.id, [...new Set(req.body.tags)]);
      return { run: getOr404(req.params.id) };
    },
  );
};
export default plugin;
