/**
 * Pairing a measured run with the digital twin (DESIGN.md "One stimulus, two consumers"): the twin is
 * fed the stimulus as it was recorded on the measured run's stimulus channel, its response is stored as
 * a run of source "twin" linked to the measured one, and the configured analyses run on both runs and
 * are stored with each.
 *
 * The simulation itself is injected (`simulate`), normally a WorkerPool running the twin task, so
 * pairings of a sweep run on all cores while the main thread records.
 */
import type { ChannelDescriptor } from '../../common/run-stream.ts';
import type { RunStore } from '../store/run-store.ts';
import { SOFTWARE_VERSION } from '../version.ts';
import { runAnalyses } from '../analysis-io/results.ts';
import { readStimulus, recordArrays } from './record.ts';

export interface TwinStimulus {
  samples: Float64Array;
  sampleRate: number;
  quantity: 'current' | 'voltage';
  /** Each sample held for its sample period (a DAQ board's output), not interpolated (server/twin Stimulus). */
  hold?: boolean;
}

/** The part of the twin's simulate() result the pairing stores. */
export interface TwinOutput {
  channels: { name: string; unit: string; data: Float64Array }[];
  events: { kind: 'spike'; index: number; node?: string; element?: string }[];
}

/** Simulates the twin; `signal` cancels it (a sweep stopped mid-way). */
export type TwinSimulate = (circuit: unknown, stimulus: TwinStimulus, signal?: AbortSignal) => Promise<TwinOutput>;

export interface PairOptions {
  /** The twin circuit (JSON, as the twin's expandCircuit takes it). */
  circuit: unknown;
  simulate: TwinSimulate;
  /** Names of registry analyses run on both runs (default DEFAULT_RUN_ANALYSES). */
  analyses?: readonly string[];
}

/** The analyses stored with every measured run and its twin unless configured otherwise. */
export const DEFAULT_RUN_ANALYSES = ['spike-stats', 'spike-train'] as const;

export interface PairResult {
  measuredRunId: number;
  twinRunId: number;
  /** Stored analysis ids by run, then by analysis name. */
  analyses: Record<number, Record<string, number>>;
  /** Stimulus samples that were missing in the recording (held at the previous value for the twin). */
  filledSamples: number;
}

/** Feeds the recorded stimulus of `measuredRunId` to the twin, stores the twin run linked, analyses both. */
export async function pairWithTwin(store: RunStore, measuredRunId: number, opts: PairOptions): Promise<PairResult> {
  const measured = store.getRun(measuredRunId);
  if (!measured) throw new Error(`run ${measuredRunId} does not exist`);
  if (measured.status === 'running') throw new Error(`run ${measuredRunId} is still running`);
  const stim = readStimulus(store, measuredRunId);
  const out = await opts.simulate(opts.circuit, { samples: stim.samples, sampleRate: stim.sampleRate, quantity: stim.quantity, ...(stim.hold ? { hold: true } : {}) });
  const twinRunId = storeTwinResult(store, {
    protocol: measured.protocol,
    bench: measured.bench,
    circuit: opts.circuit,
    linkedRunId: measuredRunId,
    label: `twin of run ${measuredRunId}${measured.label ? ` (${measured.label})` : ''}`,
    stimulus: { ...stim, name: stim.name, unit: stim.unit },
    output: out,
  });
  const analyses = opts.analyses ?? DEFAULT_RUN_ANALYSES;
  const ids: PairResult['analyses'] = {
    [measuredRunId]: await runAnalyses(store, measuredRunId, analyses),
    [twinRunId]: await runAnalyses(store, twinRunId, analyses),
  };
  const filledSamples = stim.gaps.reduce((n, [a, b]) => n + b - a, 0);
  return { measuredRunId, twinRunId, analyses: ids, filledSamples };
}

export interface TwinRunInput {
  protocol: { kind: string; [k: string]: unknown };
  bench: unknown;
  circuit: unknown;
  linkedRunId?: number;
  label: string;
  tags?: string[];
  stimulus: TwinStimulus & { name: string; unit: string };
  output: TwinOutput;
}

/** Stores a twin simulation as a completed run: the stimulus channel, the twin's probes, its spikes. */
export function storeTwinResult(store: RunStore, t: TwinRunInput): number {
  const rate = t.stimulus.sampleRate;
  const stimDesc: ChannelDescriptor = { name: t.stimulus.name, unit: t.stimulus.unit, sampleRate: rate, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' };
  const used = new Set([t.stimulus.name]);
  const channels = [
    { descriptor: stimDesc, data: t.stimulus.samples },
    ...t.output.channels.map((c) => {
      let name = c.name;
      for (let k = 2; used.has(name); k++) name = `${c.name}_${k}`;
      used.add(name);
      const descriptor: ChannelDescriptor = { name, unit: c.unit, sampleRate: rate, dtype: 'float32', scale: 1, offset: 0, role: 'response' };
      return { descriptor, data: Float32Array.from(c.data) };
    }),
  ];
  const responseChannel = channels.length > 1 ? 1 : 0;
  const events = t.output.events.map((e) => ({
    kind: 'spike' as const,
    channel: responseChannel,
    index: e.index,
    label: e.element ?? e.node,
  }));
  const id = recordArrays(
    store,
    { protocol: t.protocol, source: 'twin', bench: t.bench, twin: t.circuit, softwareVersion: SOFTWARE_VERSION, linkedRunId: t.linkedRunId, label: t.label },
    channels,
    events,
  );
  if (t.tags && t.tags.length > 0) store.setTags(id, t.tags);
  return id;
}
