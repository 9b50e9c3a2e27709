/**
 * The one path from an analysis request to a stored result, shared by the CLI, the API, auto-pairing and
 * sweeps: parameters resolved against the analysis's schema (defaults applied, unknown keys and bad
 * values refused), the run loaded once (inputs.ts), the result turned into JSON (snake_case keys, typed
 * arrays as arrays, non-finite numbers as null) and stored with the run under the analysis name and its
 * canonical parameters. Asking again with the same parameters returns the stored result.
 */
import type { AnalysisRun } from '../../common/schemas/analysis.ts';
import { AppError } from '../../common/errors.ts';
import type { AnalysisFailure } from '../../common/schemas/analysis-results.ts';
import { fillDefaults, firstProblem } from '../../common/schema-check.ts';
import type { RunStore } from '../store/run-store.ts';
import { findAnalysis, type AnalysisDef, type AnalysisResult, type RunContext } from './registry.ts';
import { InputError, readRunSignal, type Signal } from './inputs.ts';

/** The parameters with the schema's defaults applied; throws InputError naming the first bad field. */
export function resolveParams(def: AnalysisDef, raw: unknown): Record<string, unknown> {
  const given = raw ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new InputError('parameters must be an object', '/');
  const withDefaults = fillDefaults<Record<string, unknown>>(def.params, structuredClone(given));
  const first = firstProblem(def.params, withDefaults);
  if (first) throw new InputError(`${def.name}: ${first.path || '/'} ${first.message}`, first.path || '/');
  return withDefaults;
}

/** The input of a run analysis from its runs' signals, in order: one signal, or all of them (signals, pair). */
export function runInput(def: AnalysisDef, sigs: Signal[]): unknown {
  return def.inputs === 'signal' || def.inputs === 'events' ? sigs[0] : sigs;
}

/** Runs a registry analysis on loaded inputs (not stored): parameters resolved, result as JSON. */
export async function runAnalysis(name: string, input: unknown, rawParams: unknown = {}, ctx: RunContext = {}): Promise<AnalysisResult> {
  const def = findAnalysis(name);
  if (!def) throw new InputError(`unknown analysis "${name}"`, '/name');
  return def.run(input as never, resolveParams(def, rawParams) as never, ctx);
}

/** Canonical JSON of parameters (sorted keys, undefined dropped) — the key under which results are stored. */
export function canonical(params: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(params));
}

/**
 * The run to compare a run with when none is named: the newest run linked to it (a twin run fed this
 * run's stimulus records `linkedRunId`), else the run it is itself linked to. undefined when neither exists.
 */
export function linkedRun(store: RunStore, runId: number): number | undefined {
  const linked = store
    .listRuns({ limit: 1_000_000 })
    .filter((r) => r.linkedRunId === runId)
    .sort((a, b) => b.id - a.id)[0];
  if (linked) return linked.id;
  return store.getRun(runId)?.linkedRunId ?? undefined;
}

/** The answer of running an analysis on a stored run (common/schemas/analysis.ts). */
export type StoredResult = AnalysisRun;

/**
 * Runs a run-input analysis (signal, signals with one run, pair, events) on a stored run, or returns the
 * stored result for the same name and parameters. `compare` without `with` is compared with the linked
 * twin run. Stores new results when the store is writable.
 */
export async function analyzeRun(
  store: RunStore,
  runId: number,
  name: string,
  rawParams: unknown,
  opts: {
    recompute?: boolean;
    signal?: Signal;
    ctx?: RunContext;
    /** Computes elsewhere (the server's worker pool, reading the runs itself): runs read in order, the resolved parameters. */
    compute?: (runIds: number[], params: Record<string, unknown>) => Promise<unknown>;
  } = {},
): Promise<StoredResult> {
  const def = findAnalysis(name);
  if (!def) throw new InputError(`unknown analysis "${name}"`, '/name');
  if (!['signal', 'signals', 'pair', 'events'].includes(def.inputs)) throw new InputError(`${name} does not take a run`, '/name');
  const run = store.getRun(runId);
  if (!run) throw new InputError(`run ${runId} does not exist`, '/runId');
  const params = resolveParams(def, rawParams);
  if (def.inputs === 'pair' && params.with === undefined) {
    const other = linkedRun(store, runId);
    if (other === undefined) throw new InputError(`run ${runId} has no linked twin run; name the simulated run ("with", or the CLI's second argument: analyze compare <measured> <simulated>)`, '/with');
    params.with = other;
  }
  const key = canonical(params);
  if (!opts.recompute) {
    const hit = store.listAnalyses(runId, name).find((a) => canonical(a.params) === key);
    if (hit) return { runId, method: name, params, cached: true, stored: true, analysisId: hit.id, result: hit.result };
  }
  const runIds = def.inputs === 'pair' ? [runId, Number(params.with)] : [runId];
  if (def.inputs === 'pair' && !store.getRun(runIds[1])) throw new InputError(`run ${runIds[1]} does not exist`, '/with');
  let result: unknown;
  if (opts.compute && !opts.signal) result = await opts.compute(runIds, params);
  else {
    const sigs = runIds.map((id, k) => (k === 0 && opts.signal ? opts.signal : readRunSignal(store, id)));
    result = await def.run(runInput(def, sigs) as never, params as never, opts.ctx ?? {});
  }
  const analysisId = store.readonly ? null : store.saveAnalysis(runId, name, JSON.parse(key), result);
  return { runId, method: name, params, cached: false, stored: analysisId !== null, analysisId, result };
}

/** Computes analysis `name` of stored runs elsewhere (the server's worker pool), as analyzeRun's `compute`. */
export type AnalysisCompute = (name: string) => (runIds: number[], params: Record<string, unknown>) => Promise<unknown>;

/**
 * Runs the named run analyses on a run with their default parameters (plus `params` where the analysis
 * declares them) and stores each; a failing analysis is stored as `{ error }` under its name. Returns the
 * stored ids by name. Auto-pairing and sweeps use this after each run.
 */
export async function runAnalyses(
  store: RunStore,
  runId: number,
  names: readonly string[],
  params: Record<string, unknown> = {},
  /** Computes each elsewhere (the server's worker pool), as analyzeRun's `compute`. */
  compute?: AnalysisCompute,
): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  let sig: Signal | undefined;
  for (const name of names) {
    const def = findAnalysis(name);
    if (!def) throw new InputError(`unknown analysis "${name}"`, '/analyses');
    const own = Object.fromEntries(Object.entries(params).filter(([k]) => k in def.params.properties));
    try {
      if (!compute) sig ??= readRunSignal(store, runId);
      const r = await analyzeRun(store, runId, name, own, compute ? { compute: compute(name) } : { signal: sig });
      if (r.analysisId !== null) ids[name] = r.analysisId;
    } catch (err) {
      // cancelled (a sweep stopped, a client gone) is no result to keep
      if (err instanceof AppError && err.code === 'CANCELLED') throw err;
      ids[name] = store.saveAnalysis(runId, name, own, { error: err instanceof Error ? err.message : String(err) } satisfies AnalysisFailure);
    }
  }
  return ids;
}
