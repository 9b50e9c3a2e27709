/**
 * Pairing a stored run with the digital twin (server/experiments/pairing.ts):
 *   POST /api/runs/:id/pair   { circuit } → 201 { measuredRunId, twinRunId, filledSamples }
 * (with bench.twin in the bench configuration, every measured run is paired when it ends: experiments/auto-pair.ts;
 * GET /api/twin/circuits, from routes/twin.ts, lists the built-in circuits usable by name as `circuit`)
 */
import { PairBodySchema, PairResultSchema } from '../../../common/schemas/twin.ts';
import { AppError, runActive, runNotFound } from '../../../common/errors.ts';
import { DEFAULT_PAIR_ANALYSES, runPairAnalyses } from '../../experiments/auto-pair.ts';
import { pairWithTwin } from '../../experiments/pairing.ts';
import { loadExampleCircuit } from '../../sources/twin-source.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';
import { clientGone } from '../heavy.ts';
import { poolCompute } from '../../workers/analyses.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs, bench } = ctx;

  app.post(
    '/api/runs/:id/pair',
    {
      schema: {
        tags: ['runs'],
        summary: "Feed this run's recorded stimulus to the twin; store the twin run linked to it and analyse both",
        params: RunIdParams,
        body: PairBodySchema,
        response: {
          201: PairResultSchema,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const run = store.getRun(id);
      if (!run) throw runNotFound(id);
      if (run.status === 'running') throw runActive(id);
      if (!run.channels.some((c) => c.role === 'stimulus')) throw new AppError('BAD_CIRCUIT', `run ${id} has no stimulus channel to feed the twin`, '/id');
      // a built-in circuit or a stored (fitted) one by name, or a document; it is expanded, checked and
      // simulated by the twin source on the worker pool, and the analyses computed there: none of it on the
      // event loop (a network at its caps takes a few hundred ms to expand)
      const stored = typeof req.body.circuit === 'string' ? store.getCircuit(req.body.circuit)?.document : undefined;
      const circuit = stored ?? (typeof req.body.circuit === 'string' ? loadExampleCircuit(req.body.circuit) : req.body.circuit);
      // a client that leaves stops the twin run and cancels the analyses under way
      const signal = clientGone(reply);
      const r = await pairWithTwin(store, runs, id, { circuit, analyses: [], field: '/params/id', signal });
      await runPairAnalyses(store, id, r.twinRunId, bench.twin?.analyses ?? DEFAULT_PAIR_ANALYSES, poolCompute(ctx.pool, store, signal));
      return reply.status(201).send({ measuredRunId: r.measuredRunId, twinRunId: r.twinRunId, filledSamples: r.filledSamples });
    },
  );
};
export default plugin;
