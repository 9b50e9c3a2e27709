/**
 * Automatic twin pairing: when the bench configuration names a twin circuit (`bench.twin.circuit`),
 * every measured run that ends with data (completed or aborted, not failed) is fed to the twin on its
 * recorded stimulus channel (pairWithTwin), the twin run is stored linked to it, and the configured
 * analyses run on both runs and are stored with each.
 *
 * Explicit hook: `autoPairRuns(store, runs, opts)` subscribes to the run manager's stop messages and
 * returns `{ stop, idle }`. Pairings run one after another (in the order the runs ended). Runs skipped:
 * twin runs, runs of a sweep (the sweep runner pairs its own runs), runs already linked to a twin run,
 * runs without a stimulus channel. A pairing that fails stores `{ error }` as analysis "twin-pairing"
 * on the measured run.
 */
import type { RunManager } from '../runs/run-manager.ts';
import type { RunStore } from '../store/run-store.ts';
import type { AnalysisFailure } from '../../common/schemas/analysis-results.ts';
import { findAnalysis, RUN_ANALYSES } from '../analysis-io/registry.ts';
import { analyzeRun, runAnalyses, type AnalysisCompute } from '../analysis-io/results.ts';
import { pairWithTwin, type TwinSimulate } from './pairing.ts';

/** The analyses run after a pairing when the bench configuration names none. */
export const DEFAULT_PAIR_ANALYSES = ['spike-stats', 'spike-train', 'avalanches', 'regime', 'compare'] as const;

/** Checks analysis names against the registry's run analyses; returns the unknown ones. */
export function unknownAnalyses(names: readonly string[]): string[] {
  return names.filter((n) => !RUN_ANALYSES.includes(n));
}

/** The spike parameters the analyses use on a run: the stored spike events when it has any. */
export function spikeParamsOf(store: RunStore, runId: number): { events?: true } {
  return store.listEvents(runId, { kind: 'spike', limit: 1 }).length > 0 ? { events: true } : {};
}

/**
 * Runs the registry analyses among `names` on a measured run and its twin run and stores them (the same
 * keys as `POST /api/runs/:id/analyses/<name>` with the same body, so the Compare page finds them
 * stored): one-run analyses on both, pair analyses (compare) on the measured run with the twin.
 * Per-analysis failures (too few spikes) are stored as `{ error }` and returned by `name@runId`.
 */
export async function runPairAnalyses(
  store: RunStore,
  measuredRunId: number,
  twinRunId: number,
  names: readonly string[],
  /** Computes each elsewhere (the server's worker pool), as analyzeRun's `compute`. */
  compute?: AnalysisCompute,
): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  const p = spikeParamsOf(store, measuredRunId);
  const single = names.filter((n) => findAnalysis(n)?.inputs !== 'pair');
  for (const runId of [measuredRunId, twinRunId]) {
    const ids = await runAnalyses(store, runId, single, p, compute);
    for (const [name, id] of Object.entries(ids)) {
      const r = store.listAnalyses(runId, name).find((a) => a.id === id)?.result as Partial<AnalysisFailure> | undefined;
      if (r?.error) errors[`${name}@${runId}`] = r.error;
    }
  }
  for (const name of names.filter((n) => findAnalysis(n)?.inputs === 'pair')) {
    try {
      await analyzeRun(store, measuredRunId, name, { ...p, with: twinRunId }, compute ? { compute: compute(name) } : {});
    } catch (err) {
      errors[`${name}@${measuredRunId}`] = err instanceof Error ? err.message : String(err);
    }
  }
  return errors;
}

export interface AutoPairOptions {
  circuit: unknown;
  simulate: TwinSimulate;
  /** Computes the analyses elsewhere (the server's worker pool); default here. */
  compute?: AnalysisCompute;
  /** Analysis names (default DEFAULT_PAIR_ANALYSES). */
  analyses?: readonly string[];
  log?: (line: string) => void;
}

export interface AutoPairHandle {
  /** Unsubscribes; pairings already queued still finish (await idle()). */
  stop(): void;
  /** Resolves when every queued pairing has finished. */
  idle(): Promise<void>;
  /** Measured run id → twin run id of the pairings done so far. */
  readonly paired: Map<number, number>;
}

/** Pairs the measured run with the twin now (the work `autoPairRuns` queues per run); undefined when skipped. */
export async function autoPairRun(store: RunStore, runs: RunManager, runId: number, opts: AutoPairOptions): Promise<number | undefined> {
  const run = store.getRun(runId);
  if (!run || run.source === 'twin' || run.status === 'running' || run.status === 'failed') return undefined;
  if (run.tags.some((t) => t.startsWith('sweep:'))) return undefined;
  const stim = run.channels.find((c) => c.role === 'stimulus');
  if (!stim || stim.sampleCount === 0) return undefined;
  if (store.listRuns({ limit: 1_000_000 }).some((r) => r.linkedRunId === runId && r.source === 'twin')) return undefined;
  const names = opts.analyses ?? DEFAULT_PAIR_ANALYSES;
  const r = await pairWithTwin(store, runs, runId, { circuit: opts.circuit, simulate: opts.simulate, analyses: [] });
  const errors = await runPairAnalyses(store, runId, r.twinRunId, names, opts.compute);
  for (const [k, m] of Object.entries(errors)) opts.log?.(`twin pairing of run ${runId}: analysis ${k}: ${m}`);
  return r.twinRunId;
}

/** autoPairRun, with a failure stored as `{ error }` (analysis "twin-pairing" on the measured run) instead of thrown. */
async function pairOrRecord(store: RunStore, runs: RunManager, runId: number, opts: AutoPairOptions): Promise<number | undefined> {
  try {
    const twinRunId = await autoPairRun(store, runs, runId, opts);
    if (twinRunId !== undefined) opts.log?.(`run ${runId} paired with twin run ${twinRunId}`);
    return twinRunId;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    opts.log?.(`twin pairing of run ${runId} failed: ${message}`);
    try {
      if (store.getRun(runId)) store.saveAnalysis(runId, 'twin-pairing', null, { error: message });
    } catch {
      // the store may be closing
    }
    return undefined;
  }
}

/** Pairs one run with the twin once it has ended (a run started with "pair with the twin", POST /api/runs `twin`). */
export async function pairWhenEnded(store: RunStore, runs: RunManager, runId: number, opts: AutoPairOptions): Promise<number | undefined> {
  const stop = await runs.waitForEnd(runId);
  if (stop?.status === 'failed') return undefined;
  return pairOrRecord(store, runs, runId, opts);
}

/** Subscribes to run ends and pairs each measured run with the twin (see the file comment). */
export function autoPairRuns(store: RunStore, runs: RunManager, opts: AutoPairOptions): AutoPairHandle {
  let chain: Promise<void> = Promise.resolve();
  const paired = new Map<number, number>();
  const unsubscribe = runs.subscribeAll((runId, msg) => {
    if (msg.type !== 'stop' || msg.status === 'failed') return;
    chain = chain.then(async () => {
      const twinRunId = await pairOrRecord(store, runs, runId, opts);
      if (twinRunId !== undefined) paired.set(runId, twinRunId);
    });
  });
  return {
    stop: unsubscribe,
    idle: async () => {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    paired,
  };
}
