/**
 * Twin calibration (server/experiments/fit.ts, docs/twin/calibration.md):
 *   POST   /api/runs/:id/fit   { circuit, params?, bounds?, objective?, ... } → 202 { fit } (progress: GET below),
 *                              or with wait: true 201 { fit } once it has ended (cancelled if the client leaves)
 *   GET    /api/fits/:fitId    → { fit }: state, progress (evaluations, residual), result or error
 *   GET    /api/fits/:fitId/events → text/event-stream: `fit` events with the same record as it progresses,
 *                              the last one when it has ended, then the stream closes
 *   DELETE /api/fits/:fitId    → { fit }: cancelled (no-op once ended)
 * The evaluations run on the worker pool; one fit at a time (a fit uses every thread): another is 503 BUSY.
 * The result stores the fitted circuit by name and pairs the run with it.
 */
import { Type } from 'typebox';
import { AppError, runActive, runNotFound } from '../../../common/errors.ts';
import { ErrorSchema } from '../../../common/schemas/shared.ts';
import { FitBodySchema, FitJobSchema } from '../../../common/schemas/twin.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const FitIdParams = Type.Object({ fitId: Type.String({ maxLength: 64, description: 'Fit id (from POST /api/runs/:id/fit)' }) });

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, fits } = ctx;

  app.post(
    '/api/runs/:id/fit',
    {
      schema: {
        tags: ['twin'],
        summary: "Fit a circuit's parameters so the twin fed this run's recorded stimulus reproduces its response; store the fitted circuit and pair the run with it",
        params: RunIdParams,
        body: FitBodySchema,
        response: { 201: Type.Object({ fit: FitJobSchema }), 202: Type.Object({ fit: FitJobSchema }), ...errorResponses, 503: ErrorSchema },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const run = store.getRun(id);
      if (!run) throw runNotFound(id, '/params/id');
      if (run.status === 'running') throw runActive(id);
      const b = req.body;
      const stored = typeof b.circuit === 'string' ? store.getCircuit(b.circuit)?.document : undefined;
      if (b.name !== undefined && store.getCircuit(b.name)) throw new AppError('CIRCUIT_EXISTS', `a circuit named "${b.name}" is stored already`, '/name');
      // checked by expanding it on a thread (a network at its caps: a few hundred ms), as sweeps do
      const circuit = await ctx.heavy.circuit(reply, stored ?? b.circuit);
      // its work per step (the factor's ordering: up to a few seconds), for the fit's total-work cap
      const workPerStep = await ctx.heavy.run(reply, 'twinWork', { circuit }, { local: true });
      const fit = await fits.start(id, {
        circuit,
        workPerStep,
        circuitName: typeof b.circuit === 'string' ? b.circuit : ((b.circuit as { name?: string }).name ?? 'circuit'),
        ...(b.params ? { params: b.params } : {}),
        ...(b.bounds ? { bounds: b.bounds } : {}),
        ...(b.objective ? { objective: b.objective } : {}),
        ...(b.channels ? { channels: b.channels } : {}),
        ...(b.seed !== undefined ? { seed: b.seed } : {}),
        ...(b.maxEvals !== undefined ? { maxEvals: b.maxEvals } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.pair !== undefined ? { pair: b.pair } : {}),
      });
      if (!b.wait) return reply.status(202).send({ fit });
      // a client that leaves before the end cancels the fit
      const onClose = () => {
        if (!reply.raw.writableFinished) void fits.cancel(fit.id, 'the client disconnected');
      };
      reply.raw.once('close', onClose);
      try {
        return reply.status(201).send({ fit: await fits.wait(fit.id) });
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );

  app.get(
    '/api/fits/:fitId',
    { schema: { tags: ['twin'], summary: 'A twin fit: state, progress, result or error', params: FitIdParams, response: { 200: Type.Object({ fit: FitJobSchema }), ...errorResponses } } },
    async (req) => ({ fit: fits.get(req.params.fitId) }),
  );

  app.get(
    '/api/fits/:fitId/events',
    {
      schema: {
        tags: ['twin'],
        summary: "A twin fit's progress pushed as server-sent events: `event: fit` with the GET record, at most every 100 ms, the last one when it has ended",
        params: FitIdParams,
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses },
      },
    },
    async (req, reply) => {
      fits.get(req.params.fitId);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      let stop = () => {};
      stop = fits.watch(req.params.fitId, (fit) => {
        res.write(`event: fit\ndata: ${JSON.stringify(fit)}\n\n`);
        if (fit.state !== 'running') {
          stop();
          res.end();
        }
      });
      res.once('close', () => stop());
    },
  );

  app.delete(
    '/api/fits/:fitId',
    { schema: { tags: ['twin'], summary: 'Cancel a twin fit (no-op once it has ended)', params: FitIdParams, response: { 200: Type.Object({ fit: FitJobSchema }), ...errorResponses } } },
    async (req) => {
      fits.get(req.params.fitId);
      return { fit: await fits.cancel(req.params.fitId) };
    },
  );
};
export default plugin;
