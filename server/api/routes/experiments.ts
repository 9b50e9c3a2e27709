/**
 * Experiments: bench configuration and limits, protocol check with stimulus preview, pause/resume and
 * progress of runs, sweeps as groups of runs (paired with the twin).
 *
 *   GET  /api/bench                      the bench configuration (instruments, roles, limits)
 *   POST /api/protocols/check            { protocol } → summary, limits, segments, preview (or the sweep's points)
 *   POST /api/runs/:id/pause             → { progress }
 *   POST /api/runs/:id/resume            → { progress }
 *   GET  /api/runs/:id/progress          → { progress }
 *   POST /api/runs/:id/pair              { circuit } → 201 { twinRunId, ... }: the twin fed this run's recorded stimulus
 *   (with bench.twin in the bench configuration, every measured run is paired when it ends: experiments/auto-pair.ts)
 *   (GET /api/twin/circuits, from routes/twin.ts, lists the built-in circuits usable by name as `circuit`)
 *   POST /api/experiments/stdp           { runIds } → { pairs, fit }: the STDP curve of stdp-protocol runs, fitted
 *   POST /api/sweeps                     { sweep, mode?, source?, sampleRate?, label?, circuit? } → 201 { sweep }
 *   GET  /api/sweeps                     → { sweeps }
 *   GET  /api/sweeps/:id                 → { sweep }
 *   POST /api/sweeps/:id/stop            → { sweep }
 */
import { Type } from '@fastify/type-provider-typebox';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { LimitError, checkLimits, planStimulus } from '../../benchconfig/index.ts';
import { CompileError } from '../../protocols/compile.ts';
import { ProtocolError, protocolSegments, sampleStimulus, validateProtocol } from '../../protocols/index.ts';
import { expandSweep, isSweepDocument, sweepSummary } from '../../protocols/sweep.ts';
import { MAX_SAMPLE_RATE, RunError } from '../../runs/run-manager.ts';
import { SweepError, SweepRunner } from '../../experiments/sweep-runner.ts';
import { poolSimulate } from '../../experiments/twin-task.ts';
import { pairWithTwin } from '../../experiments/pairing.ts';
import { StdpRunError, stdpCurveOfRuns } from '../../experiments/stdp-runs.ts';
import { defaultTwinCircuit } from '../../experiments/stdp-circuit.ts';
import { DEFAULT_PAIR_ANALYSES, autoPairRuns, runPairAnalyses, unknownAnalyses } from '../../experiments/auto-pair.ts';
import type { RoutePlugin } from '../app.ts';
import { ApiError, notFound } from '../errors.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const circuitsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../twin/circuits');

function builtInCircuits(): { name: string; description: string }[] {
  try {
    return readdirSync(circuitsDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const c = JSON.parse(readFileSync(path.join(circuitsDir, f), 'utf8')) as { description?: string };
        return { name: f.replace(/\.json$/, ''), description: c.description ?? '' };
      });
  } catch {
    return [];
  }
}

/** A circuit given by name (a built-in) or as a document. */
function resolveCircuit(c: unknown): unknown {
  if (typeof c !== 'string') return c;
  if (!/^[A-Za-z0-9_-]+$/.test(c) || !builtInCircuits().some((b) => b.name === c)) {
    throw new ApiError('BAD_CIRCUIT', {}, '/circuit', `circuit "${c}" is not one of ${builtInCircuits().map((b) => b.name).join(', ')}`);
  }
  return JSON.parse(readFileSync(path.join(circuitsDir, `${c}.json`), 'utf8'));
}

const ProgressSchema = Type.Object({
  runId: Type.Integer(),
  state: Type.String({ description: 'starting | running | paused | stopping | done' }),
  status: Type.Optional(Type.String({ description: 'Final status once done' })),
  fraction: Type.Number({ description: '0..1 of the protocol samples received' }),
  samplesDone: Type.Integer(),
  samplesTotal: Type.Integer(),
  elapsedS: Type.Number({ description: 'Un-paused time since start, s' }),
  remainingS: Type.Number({ description: 'Stimulus time still to play, s' }),
  pausedS: Type.Number(),
});

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

const SummarySchema = Type.Object(
  {
    kind: Type.Optional(Type.String()),
    count: Type.Optional(Type.Integer()),
    quantity: Type.String(),
    unit: Type.String(),
    durationS: Type.Number(),
    min: Type.Number(),
    max: Type.Number(),
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
  const { store, runs, pool } = ctx;
  const sweeps = new SweepRunner(store, runs, { simulate: poolSimulate(pool) });
  // Automatic pairing (bench.twin): every measured run fed to the twin when it ends, analyses on both.
  const twinCfg = runs.bench.twin;
  let autoPair: ReturnType<typeof autoPairRuns> | undefined;
  if (twinCfg) {
    const unknown = unknownAnalyses(twinCfg.analyses ?? []);
    if (unknown.length) throw new Error(`bench configuration field /twin/analyses: unknown analysis "${unknown[0]}"`);
    let circuit: unknown;
    try {
      circuit = resolveCircuit(twinCfg.circuit);
    } catch (err) {
      throw new Error(`bench configuration field /twin/circuit: ${(err as Error).message}`);
    }
    autoPair = autoPairRuns(store, runs, {
      circuit,
      analyses: twinCfg.analyses,
      simulate: poolSimulate(pool),
      log: (line) => app.log.info(line),
    });
  }
  app.addHook('onClose', async () => {
    autoPair?.stop();
    await sweeps.shutdown();
    await autoPair?.idle();
  });

  const sweepError = (err: unknown): never => {
    if (err instanceof SweepError) {
      throw new ApiError(err.code, {}, err.field, err.message);
    }
    throw err;
  };
  const runError = (err: unknown): never => {
    if (err instanceof RunError) throw new ApiError(err.code, {}, err.field, err.message);
    throw err;
  };

  app.get(
    '/api/bench',
    {
      schema: {
        tags: ['experiments'],
        summary: 'The bench configuration: instruments, ports, channel roles and the limits every protocol is checked against',
        response: { 200: Type.Object({ bench: Type.Unknown() }) },
      },
    },
    async () => ({ bench: runs.bench }),
  );

  app.post(
    '/api/protocols/check',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Validate a protocol or sweep, state its duration and peaks, check the bench limits, preview the stimulus',
        body: Type.Object(
          {
            protocol: Type.Object({ kind: Type.String() }, { additionalProperties: true, description: 'Protocol or sweep document' }),
            points: Type.Optional(Type.Integer({ minimum: 2, maximum: 20_000, default: 1000, description: 'Preview samples' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            summary: SummarySchema,
            limits: Type.Optional(Type.Object({ peak: Type.Number(), worstPowerW: Type.Number() }, { additionalProperties: true })),
            segments: Type.Optional(Type.Array(Type.Object({ label: Type.String(), startS: Type.Number(), endS: Type.Number(), value: Type.Number() }))),
            preview: Type.Optional(Type.Object({ dt: Type.Number({ description: 's between preview samples' }), values: Type.Array(Type.Number()) })),
            points: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), label: Type.String(), summary: SummarySchema }))),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const doc = req.body.protocol;
      try {
        if (isSweepDocument(doc)) {
          const expanded = expandSweep(doc);
          const summary = sweepSummary(expanded);
          const points = expanded.points.map((pt) => ({ index: pt.index, label: pt.label, summary: planStimulus(pt.protocol, runs.bench).summary }));
          checkLimits(summary, runs.bench.limits);
          return { summary, points };
        }
        const p = validateProtocol(doc);
        const plan = planStimulus(p, runs.bench);
        const n = req.body.points ?? 1000;
        const dt = p.durationS / n;
        return { summary: plan.summary, limits: plan.limits, segments: protocolSegments(p), preview: { dt, values: Array.from(sampleStimulus(p, 1 / dt, 0, n)) } };
      } catch (err) {
        if (err instanceof ProtocolError) throw new ApiError('BAD_PROTOCOL', {}, `/protocol${err.field}`, err.message);
        if (err instanceof LimitError) throw new ApiError('LIMIT_EXCEEDED', {}, '/protocol', err.message);
        if (err instanceof CompileError) throw new ApiError('PROGRAM_LIMIT', {}, '/protocol', err.message);
        throw err;
      }
    },
  );

  const progressOf = (id: number) => {
    const live = runs.progress(id);
    if (live) return live;
    const run = store.getRun(id);
    if (!run) throw notFound(id);
    const stim = run.channels[0];
    const total = stim ? Math.max(stim.sampleCount, Math.round(Number((run.protocol as { durationS?: number }).durationS ?? 0) * stim.sampleRate)) : 0;
    const done = stim?.sampleCount ?? 0;
    return {
      runId: id,
      state: 'done',
      status: run.status,
      fraction: total > 0 ? done / total : 1,
      samplesDone: done,
      samplesTotal: total,
      elapsedS: stim ? done / stim.sampleRate : 0,
      remainingS: 0,
      pausedS: 0,
    };
  };

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/runs/:id/${action}`,
      {
        schema: {
          tags: ['runs'],
          summary: action === 'pause' ? 'Pause a running run (the source is held; its clock stands still)' : 'Resume a paused run',
          params: RunIdParams,
          response: { 200: Type.Object({ progress: ProgressSchema }), ...errorResponses },
        },
      },
      async (req) => {
        try {
          return { progress: action === 'pause' ? runs.pause(req.params.id) : runs.resume(req.params.id) };
        } catch (err) {
          return runError(err);
        }
      },
    );
  }

  app.get(
    '/api/runs/:id/progress',
    {
      schema: {
        tags: ['runs'],
        summary: 'Progress of a run: fraction done, time left, paused time',
        params: RunIdParams,
        response: { 200: Type.Object({ progress: ProgressSchema }), ...errorResponses },
      },
    },
    async (req) => ({ progress: progressOf(req.params.id) }),
  );

  app.post(
    '/api/runs/:id/pair',
    {
      schema: {
        tags: ['runs'],
        summary: "Feed this run's recorded stimulus to the twin; store the twin run linked to it and analyse both",
        params: RunIdParams,
        body: Type.Object(
          {
            circuit: Type.Union([Type.String({ maxLength: 64 }), Type.Object({ kind: Type.String() }, { additionalProperties: true })], {
              description: 'Twin circuit: a built-in name (GET /api/twin/circuits) or a circuit document',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            measuredRunId: Type.Integer(),
            twinRunId: Type.Integer(),
            filledSamples: Type.Integer({ description: 'Stimulus samples missing from the recording, held for the twin' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const run = store.getRun(id);
      if (!run) throw notFound(id);
      if (run.status === 'running') throw new ApiError('RUN_ACTIVE', { id });
      if (!run.channels.some((c) => c.role === 'stimulus')) throw new ApiError('BAD_CIRCUIT', {}, '/id', `run ${id} has no stimulus channel to feed the twin`);
      const circuit = resolveCircuit(req.body.circuit);
      try {
        const r = await pairWithTwin(store, id, { circuit, simulate: poolSimulate(pool), analyses: [] });
        await runPairAnalyses(store, id, r.twinRunId, twinCfg?.analyses ?? DEFAULT_PAIR_ANALYSES);
        return reply.status(201).send({ measuredRunId: r.measuredRunId, twinRunId: r.twinRunId, filledSamples: r.filledSamples });
      } catch (err) {
        const e = err as { name?: string; code?: string; message?: string };
        if (e.name === 'TaskError' || e.name === 'TwinError') throw new ApiError('BAD_CIRCUIT', {}, '/circuit', `twin: ${e.message}`);
        throw err;
      }
    },
  );

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
    async (req) => {
      try {
        return stdpCurveOfRuns(store, req.body.runIds, req.body.channel);
      } catch (err) {
        if (!(err instanceof StdpRunError)) throw err;
        if (err.code === 'RUN_NOT_FOUND') throw notFound(err.runId);
        if (err.code === 'RUN_ACTIVE') throw new ApiError('RUN_ACTIVE', { id: err.runId });
        throw new ApiError('VALIDATION', { detail: `${err.field}: ${err.message}` }, err.field);
      }
    },
  );

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
      try {
        // bench mode pairs each run with the bench's twin circuit unless the request names one
        // twin mode without one: the plastic synapse for an stdp sweep (stdp-circuit.ts)
        const c = b.circuit ?? ((b.mode ?? 'bench') === 'bench' ? twinCfg?.circuit : defaultTwinCircuit(b.sweep));
        const status = sweeps.start({ ...b, ...(c !== undefined ? { circuit: resolveCircuit(c) } : {}) });
        return reply.status(201).send({ sweep: status });
      } catch (err) {
        return sweepError(err);
      }
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
      try {
        return { sweep: sweeps.get(req.params.id) };
      } catch (err) {
        return sweepError(err);
      }
    },
  );

  app.post(
    '/api/sweeps/:id/stop',
    {
      schema: { tags: ['sweeps'], summary: 'Stop a sweep (current run aborted, outputs to zero)', params: SweepIdParams, response: { 200: Type.Object({ sweep: SweepStatusSchema }), ...errorResponses } },
    },
    async (req) => {
      try {
        return { sweep: await sweeps.stop(req.params.id) };
      } catch (err) {
        return sweepError(err);
      }
    },
  );
};
export default plugin;
