/**
 * Analyses of stored runs on the worker pool: the one way the server computes them (requests through
 * api/heavy.ts, the analyses of sweep points, pairings and automatic pairings through `poolCompute`), so
 * none of them runs on the event loop. The task reads the runs from the database file itself when it is on
 * this machine's threads (the file opened read-only beside the writer); otherwise (an in-memory store,
 * workers on other machines) the runs are read here and sent.
 */
import { WorkerPool, type TaskRunner } from './pool.ts';
import type { AnalysisJob, AnalysisOutcome } from './tasks.ts';
import { AppError, type ErrorCode } from '../../common/errors.ts';
import { InputError, readRunSignal } from '../analysis-io/inputs.ts';
import { findAnalysis } from '../analysis-io/registry.ts';
import { runInput } from '../analysis-io/results.ts';
import type { RunStore } from '../store/run-store.ts';

/** Whether a task of `pool` can read `store` from its file itself. */
export function readsFile(pool: TaskRunner, store: RunStore): boolean {
  return pool instanceof WorkerPool && store.file !== ':memory:';
}

/** The pool job of analysis `name` of stored runs `runIds`. */
export function runsJob(pool: TaskRunner, store: RunStore, name: string, runIds: number[], params: unknown): AnalysisJob {
  const def = findAnalysis(name);
  if (!def) throw new InputError(`unknown analysis "${name}"`, '/name');
  return readsFile(pool, store) ? { name, runs: { dbFile: store.file, runIds }, params } : { name, input: runInput(def, runIds.map((id) => readRunSignal(store, id))), params };
}

/** A task's result, or its refusal of the input as the error it would have been here. */
export function outcome(out: AnalysisOutcome): unknown {
  if (!out.ok) throw out.code ? new AppError(out.code as ErrorCode, out.message, out.field) : new InputError(out.message, out.field);
  return out.result;
}

/** analyzeRun's / runAnalyses' `compute` on the pool; `signal` cancels the analyses under way. */
export function poolCompute(pool: TaskRunner, store: RunStore, signal?: AbortSignal) {
  return (name: string) =>
    async (runIds: number[], params: Record<string, unknown>): Promise<unknown> =>
      outcome(await pool.run('analysis', runsJob(pool, store, name, runIds, params), signal ? { signal } : {}));
}
