/**
 * Pairing a run with the digital twin (DESIGN.md "One stimulus, two consumers"): a pairing is a twin run
 * whose stimulus is run X's recorded stimulus channel (./stimulus.ts, the one reader), started through
 * the run manager like every run (state machine, live feed, interruption marking) and linked to X. Then
 * the configured analyses run on both runs and are stored with each.
 *
 * The simulation may be computed first on the worker pool (`simulate`, so a sweep's pairings use every
 * core while the main thread records); the run manager's twin source then streams that result. Without
 * it the twin source simulates in process.
 */
import { onAbort } from '../workers/abort.ts';
import { AppError } from '../../common/errors.ts';
import type { TwinRunBody } from '../../common/schemas/twin.ts';
import type { Protocol } from '../protocols/index.ts';
import type { RunManager } from '../runs/run-manager.ts';
import type { RequestOrigin } from '../sources/options.ts';
import type { RunDetail, RunStore } from '../store/run-store.ts';
import { loadExampleCircuit, type TwinInput } from '../sources/twin-source.ts';
import { runAnalyses, type AnalysisCompute } from '../analysis-io/results.ts';
import { filledSamples, readStimulusOff, type RecordedStimulus } from './stimulus.ts';

export interface TwinStimulus {
  samples: Float64Array;
  sampleRate: number;
  quantity: 'current' | 'voltage';
  /** Each sample held for its sample period (a DAQ board's output), not interpolated (server/twin Stimulus). */
  hold?: boolean;
  /** A piecewise-constant protocol's exact edges (server/twin Stimulus.pieces), as the twin source uses them. */
  pieces?: { times: Float64Array; values: Float64Array };
}

/** The part of the twin's simulate() result the pairing stores. */
export interface TwinOutput {
  channels: { name: string; unit: string; data: Float64Array }[];
  events: { kind: 'spike'; index: number; time: number; node?: string; element?: string }[];
}

/** A protocol the simulation samples itself, where it runs (sources/twin-source.ts protocolStimulus): a twin sweep's point. */
export interface ProtocolStimulus {
  protocol: Protocol;
  sampleRate: number;
}

/** Simulates the twin; `signal` cancels it (a sweep stopped mid-way). */
export type TwinSimulate = (circuit: unknown, stimulus: TwinStimulus | ProtocolStimulus, signal?: AbortSignal) => Promise<TwinOutput>;

export interface TwinOfRunOptions {
  /** The twin circuit (JSON, as the twin's expandCircuit takes it). */
  circuit: unknown;
  /** Stimulus channel by name or index (default: the run's stimulus channel). */
  channel?: string;
  /** Only the first durationS seconds of the recording. */
  durationS?: number;
  /** The twin source's options besides the circuit (method, dt). */
  options?: { method?: string; dt?: number };
  label?: string;
  /** Computes the simulation first, off the main thread (the worker pool); default: the twin source simulates in process. */
  simulate?: TwinSimulate;
  /** Cancels the computation (a sweep stopped mid-way). */
  signal?: AbortSignal;
  /** Where the caller named the run, for errors (default `/runId`). */
  field?: string;
}

export interface PairOptions extends TwinOfRunOptions {
  /** Names of registry analyses run on both runs (default DEFAULT_RUN_ANALYSES). */
  analyses?: readonly string[];
  /** Computes them elsewhere (the server's worker pool); default here. */
  compute?: AnalysisCompute;
}

/** The analyses stored with every measured run and its twin unless configured otherwise. */
export const DEFAULT_RUN_ANALYSES = ['spike-stats', 'spike-train'] as const;

export interface PairResult {
  measuredRunId: number;
  twinRunId: number;
  /** Stored analysis ids by run, then by analysis name. */
  analyses: Record<number, Record<string, number>>;
  /** Stimulus samples that were missing in the recording (filled by the reader's rule). */
  filledSamples: number;
}

/**
 * Starts a twin run fed run `runId`'s recorded stimulus, linked to it, through the run manager; resolves
 * once the run has started (its end: `runs.waitForEnd`).
 */
export async function startTwinOfRun(store: RunStore, runs: RunManager, runId: number, opts: TwinOfRunOptions): Promise<{ run: RunDetail; stimulus: RecordedStimulus }> {
  const field = opts.field ?? '/runId';
  const measured = store.getRun(runId);
  if (measured?.status === 'running') throw new AppError('RUN_ACTIVE', `run ${runId} is still running; pair it once it has ended`, field);
  const stim = await readStimulusOff(store, runs.pool, runId, { field, ...(opts.channel !== undefined ? { channel: opts.channel } : {}), ...(opts.durationS !== undefined ? { durationS: opts.durationS } : {}) });
  const stimulus = { samples: stim.samples, quantity: stim.quantity, ...(stim.hold ? { hold: true } : {}) };
  const output = opts.simulate ? await opts.simulate(opts.circuit, { ...stimulus, sampleRate: stim.sampleRate }, opts.signal) : undefined;
  const input: TwinInput = { stimulus, ...(output ? { output } : {}) };
  const run = await runs.start({
    protocol: stim.protocol,
    source: 'twin',
    sampleRate: stim.sampleRate,
    durationS: stim.samples.length / stim.sampleRate,
    linkedRunId: runId,
    label: opts.label ?? `twin of run ${runId}${measured?.label ? ` (${measured.label})` : ''}`,
    options: { circuit: opts.circuit, ...opts.options },
    input,
  });
  return { run, stimulus: stim };
}

/**
 * A twin run as `POST /api/twin/runs` and `spikeloop twin run` ask for it (common/schemas/twin.ts): the
 * circuit (an example's name or a document) fed a protocol, or the recorded stimulus of a stored run
 * (startTwinOfRun, linked to it). Resolves once the run has started.
 */
export async function startTwinRun(store: RunStore, runs: RunManager, body: Omit<TwinRunBody, 'circuit'> & { circuit: unknown }, from: RequestOrigin = 'network'): Promise<RunDetail> {
  if ((body.protocol === undefined) === (body.stimulusRun === undefined)) throw new AppError('VALIDATION', '/protocol: give exactly one of protocol and stimulusRun', '/protocol');
  // checked where it is expanded, with the simulation on the worker pool (a network at its caps takes a few
  // hundred ms to expand): the twin's refusal of the document is the request's /circuit
  const circuit: unknown = typeof body.circuit === 'string' ? loadExampleCircuit(body.circuit) : body.circuit;
  const options = { ...(body.method ? { method: body.method } : {}), ...(body.dt !== undefined ? { dt: body.dt } : {}) };
  const label = body.label !== undefined ? { label: body.label } : {};
  const duration = body.durationS !== undefined ? { durationS: body.durationS } : {};
  try {
    if (body.stimulusRun) {
      const { runId, channel } = body.stimulusRun;
      return (await startTwinOfRun(store, runs, runId, { circuit, channel, options, ...label, ...duration, field: '/stimulusRun' })).run;
    }
    return await runs.start({
      source: 'twin',
      protocol: body.protocol,
      ...(body.sampleRate !== undefined ? { sampleRate: body.sampleRate } : {}),
      options: { circuit, ...options },
      ...label,
      ...duration,
      from,
    });
  } catch (err) {
    if (err instanceof AppError && CIRCUIT_CODES.has(err.code)) throw new AppError('VALIDATION', `/circuit: ${err.message.replace(/^source "twin": /, '')}`, '/circuit');
    throw err;
  }
}

/** The twin's refusals of a circuit document. */
const CIRCUIT_CODES = new Set(['BAD_CIRCUIT', 'TWIN_BAD_CIRCUIT', 'TWIN_UNKNOWN_MODEL', 'TWIN_BAD_PARAM', 'TWIN_BAD_PROBE']);

/**
 * Pairs run `measuredRunId` with the twin: the twin run (startTwinOfRun) to its end, then the analyses of
 * both. `signal` stops the twin run (a sweep stopped, the client gone).
 */
export async function pairWithTwin(store: RunStore, runs: RunManager, measuredRunId: number, opts: PairOptions): Promise<PairResult> {
  const { run, stimulus } = await startTwinOfRun(store, runs, measuredRunId, opts);
  const unwatch = onAbort(opts.signal, () => void runs.stop(run.id, String(opts.signal?.reason?.message ?? opts.signal?.reason ?? 'stopped')).catch(() => undefined));
  const stop = await runs.waitForEnd(run.id).finally(unwatch);
  if (stop && stop.status !== 'completed') throw new AppError('TASK_FAILED', `twin run ${run.id} ${stop.status}${stop.reason ? `: ${stop.reason}` : ''}`);
  const analyses = opts.analyses ?? DEFAULT_RUN_ANALYSES;
  const ids: PairResult['analyses'] = {
    [measuredRunId]: await runAnalyses(store, measuredRunId, analyses, {}, opts.compute),
    [run.id]: await runAnalyses(store, run.id, analyses, {}, opts.compute),
  };
  return { measuredRunId, twinRunId: run.id, analyses: ids, filledSamples: filledSamples(stimulus) };
}
