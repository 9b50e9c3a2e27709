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
import { InputError, readRunSignal, tableSignal } from '../../analysis-io/inputs.ts';
import { ANALYSES, type AnalysisDef } from '../../analysis-io/registry.ts';
import { analyzeRun, resolveParams, toJson } from '../../analysis-io/results.ts';

const RUN_INPUTS = new Set(['signal', 'signals', 'pair', 'events']);

/** Where an analysis is run over HTTP. */
function routeOf(def: AnalysisDef): string {
  return RUN_INPUTS.has(def.inputs) ? `/api/runs/:id/analyses/${def.name}` : `/api/analysis/${def.name}`;
}

/** The body of the data route: the input field(s) and the parameters, all optional (resolveParams checks). */
function dataBody(def: AnalysisDef): TObject {
  const input: Record<string, TSchema> = {};
  if (def.inputs === 'values') input.values = Type.Array(Type.Number(), { minItems: 2, maxItems: 5_000_000, title: 'Values' });
  if (def.inputs === 'trains') input.trains = Type.Array(Type.Array(Type.Number(), { maxItems: 1_000_000 }), { minItems: 2, maxItems: 10_000, title: 'Spike trains, s' });
  if (def.inputs === 'signals') input.runIds = Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10_000, title: 'Run ids' }));
  if (def.table) {
    const row = Type.Object(Object.fromEntries(def.table.columns.map((c) => [c, Type.Number()])), { additionalProperties: false });
    input[def.table.key] = Type.Optional(Type.Array(row, { minItems: 2, maxItems: 1_000_000, title: `Rows (${def.table.columns.join(', ')})` }));
  }
  return Type.Object({ ...input, ...Type.Partial(def.params).properties }, { additionalProperties: false });
}

/** Analysis-level failures (too few spikes, bad ranges) are the caller's input problem: 400 naming the field. */
function inputError(e: unknown): never {
  if (e instanceof RangeError) throw new AppError('VALIDATION', e.message);
  throw e;
}

const AnalysisResult = Type.Object(
  {
    runId: Type.Integer(),
    method: Type.String(),
    params: Type.Unknown(),
    cached: Type.Boolean({ description: 'true when the stored result was returned' }),
    stored: Type.Boolean(),
    analysisId: Type.Union([Type.Integer(), Type.Null()]),
    result: Type.Unknown(),
  },
  { additionalProperties: true },
);

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/analyses',
    {
      schema: {
        tags: ['analysis'],
        summary: 'The analyses: name, inputs, parameter schema (titles, units, defaults, bounds) and route',
        response: {
          200: Type.Object({
            analyses: Type.Array(
              Type.Object({
                name: Type.String(),
                title: Type.String(),
                description: Type.String(),
                source: Type.String(),
                inputs: Type.String(),
                table: Type.Optional(Type.Object({ key: Type.String(), columns: Type.Array(Type.String()) })),
                params: Type.Unknown({ description: 'JSON schema of the parameters' }),
                route: Type.String(),
              }),
            ),
          }),
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
        params: JSON.parse(JSON.stringify(d.params)) as unknown,
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
        querystring: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            analyses: Type.Array(Type.Object({ id: Type.Integer(), runId: Type.Integer(), name: Type.String(), params: Type.Unknown(), result: Type.Unknown(), createdAt: Type.String() })),
          }),
          ...errorResponses,
        },
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
          // A query string carries text: `?recompute=true` (a Boolean schema would refuse the string "true").
          querystring: Type.Object({ recompute: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, { additionalProperties: false }),
          body: Type.Optional(Type.Partial(def.params)),
          response: { 200: AnalysisResult, ...errorResponses },
        },
      },
      async (req) => {
        const { id } = req.params;
        const run = ctx.store.getRun(id);
        if (!run) throw runNotFound(id);
        if (run.status === 'running') throw runActive(id);
        const w = (req.body as { with?: number } | undefined)?.with;
        if (w !== undefined && !ctx.store.getRun(w)) throw runNotFound(w, '/with');
        try {
          return await analyzeRun(ctx.store, id, def.name, req.body ?? {}, { recompute: req.query.recompute === 'true', ctx: { pool: ctx.pool } });
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
          response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
        },
      },
      async (req) => {
        const all = req.body as Record<string, unknown>;
        const raw = Object.fromEntries(Object.entries(all).filter(([k]) => !inputKeys.includes(k)));
        try {
          const params = resolveParams(def, raw);
          let input: unknown;
          if (def.inputs === 'values') input = Float64Array.from(all.values as number[]);
          else if (def.inputs === 'trains') input = (all.trains as number[][]).map((t) => Float64Array.from(t).sort());
          else {
            const rows = def.table ? (all[def.table.key] as Record<string, number>[] | undefined) : undefined;
            const runIds = all.runIds as number[] | undefined;
            if ((rows === undefined) === (runIds === undefined)) {
              throw new InputError(def.table && def.inputs === 'signals' ? `give either ${def.table.key} or runIds` : `give ${def.table?.key ?? 'runIds'}`, '/');
            }
            if (rows) {
              const cols = Object.fromEntries(def.table!.columns.map((c) => [c, Float64Array.from(rows, (r) => r[c])]));
              input = def.inputs === 'table' ? cols : [tableSignal(cols)];
            } else {
              for (const id of runIds!) if (!ctx.store.getRun(id)) throw runNotFound(id);
              input = runIds!.map((id) => readRunSignal(ctx.store, id));
            }
          }
          return toJson(await def.run(input as never, params as never, { pool: ctx.pool })) as Record<string, unknown>;
        } catch (e) {
          return inputError(e);
        }
      },
    );
  }
};

export default plugin;
