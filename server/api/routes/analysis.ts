/**
 * Analyses over HTTP, every route derived from the analysis registry (server/analysis-io/registry.ts;
 * docs/api.md, docs/analysis.md):
 *
 *   GET  /api/analyses                   every analysis: name, title, description, source, inputs, params
 *                                        (JSON schema with titles, units, defaults, bounds), route
 *   GET  /api/runs/:id/analyses?name=    stored analysis results of a run, newest first
 *   POST /api/runs/:id/analyses/:name    run an analysis that takes a run (body: its parameters); stored
 *                                        with the run; the same parameters again return the stored result
 *                                        (`cached: true`) unless ?recompute=true
 *   POST /api/analysis/:name             analyses of data sent in the body (values, trains, table rows)
 *                                        or of several runs (`runIds`); the result is returned, not stored
 *
 * Parameters and results are snake_case JSON. Input problems (too few spikes, bad parameters) are 400
 * VALIDATION errors naming the field.
 */
import { Type, type TObject, type TSchema } from 'typebox';
import type { RoutePlugin } from '../app.ts';
import { AppError, runActive, runNotFound } from '../../../common/errors.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';
import type { RunStore } from '../../store/run-store.ts';
import { AnalysisInfoSchema, AnalysisRunQuerySchema, StoredAnalysesQuerySchema, StoredAnalysisSchema, analysisRunOf } from '../../../common/schemas/analysis.ts';
import { InputError, tableSignal } from '../../analysis-io/inputs.ts';
import { ANALYSES, type AnalysisDef } from '../../analysis-io/registry.ts';
import { MAX_PAIR_WORK } from '../../analysis/distances.ts';
import { analyzeRun, resolveParams } from '../../analysis-io/results.ts';

const RUN_INPUTS = new Set(['signal', 'signals', 'pair', 'events']);

/** Where an analysis is run over HTTP. */
function routeOf(def: AnalysisDef): string {
  return RUN_INPUTS.has(def.inputs) ? `/api/runs/:id/analyses/${def.name}` : `/api/analysis/${def.name}`;
}

/** The body of the data route: the input field(s) and the parameters, all optional (resolveParams checks). */
function dataBody(def: AnalysisDef): TObject {
  const input: Record<string, TSchema> = {};
  if (def.inputs === 'values') input.values = Type.Array(Type.Number(), { minItems: 2, maxItems: 5_000_000, title: 'Values' });
  if (def.inputs === 'trains') input.trains = Type.Array(Type.Array(Type.Number(), { maxItems: MAX_TRAIN_SPIKES }), { minItems: 2, maxItems: MAX_TRAINS, title: 'Spike trains, s' });
  if (def.inputs === 'signals') input.runIds = Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_RUN_IDS, title: 'Run ids' }));
  if (def.table) {
    const row = Type.Object(Object.fromEntries(def.table.columns.map((c) => [c, Type.Number()])), { additionalProperties: false });
    input[def.table.key] = Type.Optional(Type.Array(row, { minItems: 2, maxItems: 1_000_000, title: `Rows (${def.table.columns.join(', ')})` }));
  }
  return Type.Object({ ...input, ...Type.Partial(def.params).properties }, { additionalProperties: false });
}

/** Analysis-level failures (too few spikes, bad ranges) are the caller's input problem: 400 naming the field. */
/*
 * Caps where the cost explodes, from measured cost (docs/security.md): a distance matrix costs about the
 * sum over train pairs of n_i * n_j (Victor-Purpura: 100 trains of 100 spikes, 5e7, took 1.7 s on a loaded
 * 2-core machine); a run-ids analysis reads every sample of every run before computing.
 */
export const MAX_TRAINS = 500;
export const MAX_TRAIN_SPIKES = 100_000;
export const MAX_RUN_IDS = 16;
export const MAX_RUN_IDS_SAMPLES = 20_000_000;

/** The bootstrap's threads are the server's to choose, not the request's: one, inside its task. */
const threadsOne = (params: Record<string, unknown>) => ('threads' in params ? { ...params, threads: 1 } : params);

/** Refuses run ids that do not exist or hold more than MAX_RUN_IDS_SAMPLES samples in all (a repeated id counts each time). */
export function checkRunsSize(store: RunStore, runIds: number[]): void {
  let samples = 0;
  const sizes = new Map<number, number>();
  for (const id of runIds) {
    if (!sizes.has(id)) {
      const run = store.getRun(id);
      if (!run) throw runNotFound(id, '/runIds');
      sizes.set(id, run.channels.reduce((n, c) => n + c.sampleCount, 0));
    }
    samples += sizes.get(id)!;
  }
  if (samples > MAX_RUN_IDS_SAMPLES) {
    throw new AppError('VALIDATION', `/runIds: these runs hold ${samples} samples; at most ${MAX_RUN_IDS_SAMPLES} per request`, '/runIds');
  }
}

/**
 * A result's schema documents the answer (OpenAPI) and is checked against real results by the tests; the
 * answer itself is written by JSON.stringify, as it is stored: fast-json-stringify would drop or refuse
 * fields of a result stored by an older version, and test each element of a long array against `number | null`.
 */
const asStored = () => (data: unknown) => JSON.stringify(data);

function inputError(e: unknown): never {
  if (e instanceof RangeError) throw new AppError('VALIDATION', e.message);
  throw e;
}

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/analyses',
    {
      schema: {
        tags: ['analysis'],
        summary: 'The analyses: name, inputs, parameter schema (titles, units, defaults, bounds) and route',
        response: {
          200: Type.Object({ analyses: Type.Array(AnalysisInfoSchema) }),
        },
      },
    },
    async () => ({
      analyses: ANALYSES.map((d) => ({
        name: d.name,
        title: d.title,
        description: d.description,
        source: d.source,
        inputs: d.inputs,
        ...(d.table ? { table: d.table } : {}),
        ...(d.protocols ? { protocols: d.protocols } : {}),
        params: JSON.parse(JSON.stringify(d.params)) as unknown,
        result: JSON.parse(JSON.stringify(d.result)) as unknown,
        route: routeOf(d),
      })),
    }),
  );

  app.get(
    '/api/runs/:id/analyses',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Stored analysis results of a run, newest first',
        params: RunIdParams,
        querystring: StoredAnalysesQuerySchema,
        response: { 200: Type.Object({ analyses: Type.Array(StoredAnalysisSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!ctx.store.getRun(id)) throw runNotFound(id);
      return { analyses: ctx.store.listAnalyses(id, req.query.name) };
    },
  );

  for (const def of ANALYSES.filter((d) => RUN_INPUTS.has(d.inputs))) {
    app.post(
      routeOf(def),
      {
        schema: {
          tags: ['analysis'],
          summary: `${def.title}: ${def.description} (stored with the run; cached by parameters)`,
          params: RunIdParams,
          querystring: AnalysisRunQuerySchema,
          body: Type.Optional(Type.Partial(def.params)),
          response: { 200: analysisRunOf(def.result), ...errorResponses },
        },
        serializerCompiler: asStored,
      },
      async (req, reply) => {
        const { id } = req.params;
        const run = ctx.store.getRun(id);
        if (!run) throw runNotFound(id);
        if (run.status === 'running') throw runActive(id);
        const w = (req.body as { with?: number } | undefined)?.with;
        if (w !== undefined && !ctx.store.getRun(w)) throw runNotFound(w, '/with');
        try {
          // computed on the pool (a long run's analysis would stall the API); stored here
          return await analyzeRun(ctx.store, id, def.name, req.body ?? {}, {
            recompute: req.query.recompute === 'true',
            compute: (runIds, params) => ctx.heavy.analyzeRuns(reply, ctx.store, def.name, runIds, params),
          });
        } catch (e) {
          return inputError(e);
        }
      },
    );
  }

  for (const def of ANALYSES.filter((d) => !RUN_INPUTS.has(d.inputs) || d.inputs === 'signals')) {
    const body = dataBody(def);
    const inputKeys = Object.keys(body.properties).filter((k) => !(k in def.params.properties));
    app.post(
      routeOf(def).replace('/api/runs/:id/analyses/', '/api/analysis/'),
      {
        schema: {
          tags: ['analysis'],
          summary: `${def.title}: ${def.description}`,
          body,
          response: { 200: def.result, ...errorResponses },
        },
        serializerCompiler: asStored,
      },
      async (req, reply) => {
        const all = req.body as Record<string, unknown>;
        const raw = Object.fromEntries(Object.entries(all).filter(([k]) => !inputKeys.includes(k)));
        try {
          const params = resolveParams(def, raw);
          let input: unknown;
          if (def.inputs === 'values') input = Float64Array.from(all.values as number[]);
          else if (def.inputs === 'trains') {
            const trains = all.trains as number[][];
            let total = 0;
            let work = 0;
            for (const t of trains) (work += total * t.length), (total += t.length);
            if (work > MAX_PAIR_WORK) {
              throw new AppError('VALIDATION', `/trains: ${trains.length} trains of ${total} spikes in all need ${work.toExponential(1)} spike-pair operations; at most ${MAX_PAIR_WORK.toExponential(0)} per request (send fewer or shorter trains)`, '/trains');
            }
            input = trains.map((t) => Float64Array.from(t).sort());
          }
          else {
            const rows = def.table ? (all[def.table.key] as Record<string, number>[] | undefined) : undefined;
            const runIds = all.runIds as number[] | undefined;
            if ((rows === undefined) === (runIds === undefined)) {
              throw new InputError(def.table ? `give either ${def.table.key} or runIds` : 'give runIds', '/');
            }
            if (rows) {
              const cols = Object.fromEntries(def.table!.columns.map((c) => [c, Float64Array.from(rows, (r) => r[c])]));
              input = [tableSignal(cols)];
            } else {
              checkRunsSize(ctx.store, runIds!);
              // read on the worker thread (the reads are synchronous SQLite)
              return (await ctx.heavy.analyzeRuns(reply, ctx.store, def.name, runIds!, threadsOne(params))) as Record<string, unknown>;
            }
          }
          // On the pool (the server keeps answering; a client that leaves cancels it).
          return (await ctx.heavy.analysis(reply, { name: def.name, input, params: threadsOne(params) })) as Record<string, unknown>;
        } catch (e) {
          return inputError(e);
        }
      },
    );
  }
};

export default plugin;
