/**
 * Analyses over HTTP (server/api/routes/analysis.ts, derived from the analysis registry
 * server/analysis-io/registry.ts; docs/analysis.md): the registry's listing, stored results, and the
 * answer of running an analysis on a run. Parameters and results are snake_case JSON.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { QueryFlag, nullable } from './shared.ts';

/** How an analysis takes its input: a stored run's channels, several runs, data in the body. */
export const ANALYSIS_INPUTS = ['signal', 'signals', 'pair', 'events', 'values', 'trains'] as const;

/** One analysis of the registry (`GET /api/analyses`). `route` has `:id` for analyses of one stored run. */
export const AnalysisInfoSchema = Type.Object({
  name: Type.String(),
  title: Type.String(),
  description: Type.String(),
  source: Type.String({ description: 'The method it implements (paper, book)' }),
  inputs: Type.String({ description: ANALYSIS_INPUTS.join(' | ') }),
  table: Type.Optional(Type.Object({ key: Type.String(), columns: Type.Array(Type.String()) })),
  protocols: Type.Optional(Type.Array(Type.String(), { description: 'the protocol kinds of the runs it takes (default: any)' })),
  params: Type.Unknown({ description: 'JSON schema of the parameters (titles, units, defaults, bounds)' }),
  result: Type.Unknown({ description: 'JSON schema of the result (common/schemas/analysis-results.ts)' }),
  route: Type.String(),
});

/** An analysis result stored with a run. */
export const StoredAnalysisSchema = Type.Object({
  id: Type.Integer(),
  runId: Type.Integer(),
  name: Type.String(),
  params: Type.Unknown(),
  result: Type.Unknown({ description: "the analysis's result (its schema: GET /api/analyses), or { error } when it failed during automatic pairing or a sweep" }),
  createdAt: Type.String({ description: 'ISO 8601' }),
});

/** `GET /api/runs/:id/analyses`. */
export const StoredAnalysesQuerySchema = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false });

/** `POST /api/runs/:id/analyses/:name`: `?recompute=true` computes again although the parameters are stored. */
export const AnalysisRunQuerySchema = Type.Object({ recompute: Type.Optional(QueryFlag()) }, { additionalProperties: false });

/** The answer of `POST /api/runs/:id/analyses/:name`: the result (its analysis's schema), stored with the run. */
export const analysisRunOf = <R extends TSchema>(result: R) =>
  Type.Object(
    {
      runId: Type.Integer(),
      method: Type.String(),
      params: Type.Record(Type.String(), Type.Unknown()),
      cached: Type.Boolean({ description: 'true when the stored result was returned' }),
      stored: Type.Boolean(),
      analysisId: nullable(Type.Integer()),
      result,
    },
    { additionalProperties: false },
  );

/** The answer of any run analysis (the result typed by the analysis: common/schemas/analysis-results.ts). */
export const AnalysisRunSchema = analysisRunOf(Type.Unknown());

export type AnalysisInfo = Static<typeof AnalysisInfoSchema>;
export type StoredAnalysis = Static<typeof StoredAnalysisSchema>;
export type AnalysisRun = Static<typeof AnalysisRunSchema>;
