/**
 * Writing runs into the store from the experiment orchestrator: a RunSource played into a recorder
 * (the stop message is written on every exit path: completed, aborted, failed), and computed arrays
 * (a twin result) stored as a run. Reading a run's stimulus back as physical values for the twin.
 */
import type { ChannelDescriptor, EventMessage, FinalStatus, RunSource, SampleArray } from '../../common/run-stream.ts';
import { startMessage, type RunInit, type RunStore } from '../store/run-store.ts';

export interface RecordedRun {
  runId: number;
  status: FinalStatus;
  reason?: string;
}

/**
 * Plays `source` into a new run of `store`. The stop is always written: the source's own stop, or
 * `aborted` when `signal` fires, or `failed` with the error's message when the source throws.
 */
export async function recordSource(store: RunStore, init: RunInit, source: RunSource, signal: AbortSignal): Promise<RecordedRun> {
  const runId = store.createRun(init);
  const rec = store.recorder(runId);
  rec.write(startMessage(runId, init));
  let status: FinalStatus = 'completed';
  let reason: string | undefined;
  try {
    for await (const msg of source.messages(signal)) {
      if (msg.type === 'stop') {
        status = msg.status;
        reason = msg.reason;
        break;
      }
      rec.write(msg);
    }
    if (signal.aborted && status === 'completed') {
      status = 'aborted';
      reason = String(signal.reason ?? 'stopped');
    }
  } catch (err) {
    status = signal.aborted ? 'aborted' : 'failed';
    reason = signal.aborted ? String(signal.reason ?? 'stopped') : err instanceof Error ? err.message : String(err);
  }
  rec.write({ type: 'stop', status, reason });
  return { runId, status, reason };
}

export interface ArrayChannel {
  descriptor: ChannelDescriptor;
  /** Samples in the descriptor's dtype. */
  data: SampleArray;
}

const BLOCK = 65_536;

/** Stores computed channels and events as one completed run; returns its id. */
export function recordArrays(store: RunStore, init: RunInit, channels: ArrayChannel[], events: Omit<EventMessage, 'type'>[]): number {
  const runId = store.createRun(init);
  const rec = store.recorder(runId);
  try {
    rec.write(startMessage(runId, init));
    rec.write({ type: 'descriptor', channels: channels.map((c) => c.descriptor) });
    channels.forEach((c, ch) => {
      for (let i = 0; i < c.data.length; i += BLOCK) rec.write({ type: 'block', channel: ch, firstIndex: i, samples: c.data.subarray(i, i + BLOCK) });
    });
    for (const e of events) rec.write({ type: 'event', ...e });
    rec.write({ type: 'stop', status: 'completed' });
  } catch (err) {
    rec.write({ type: 'stop', status: 'failed', reason: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  return runId;
}

export interface RecordedStimulus {
  channel: number;
  name: string;
  unit: string;
  sampleRate: number;
  quantity: 'current' | 'voltage';
  /** The stimulus was held for each sample period (a DAQ board): the twin replays it held, not interpolated. */
  hold: boolean;
  /** Physical values; samples missing from the recording hold the previous value. */
  samples: Float64Array;
  /** Sample ranges [start, end) that were missing and filled. */
  gaps: [number, number][];
}

const READ_CHUNK = 1_000_000;

/** Reads a stored run's stimulus channel (role "stimulus") as physical values. */
export function readStimulus(store: RunStore, runId: number): RecordedStimulus {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const ch = run.channels.find((c) => c.role === 'stimulus');
  if (!ch) throw new Error(`run ${runId} has no stimulus channel`);
  const n = ch.sampleCount;
  const samples = new Float64Array(n);
  const gaps: [number, number][] = [];
  let filled = 0; // next index not yet written
  let last = 0;
  for (let start = 0; start < n; start += READ_CHUNK) {
    for (const seg of store.readRaw(runId, ch.index, start, Math.min(n, start + READ_CHUNK))) {
      if (seg.start > filled) {
        samples.fill(last, filled, seg.start);
        gaps.push([filled, seg.start]);
      }
      for (let i = 0; i < seg.samples.length; i++) samples[seg.start + i] = seg.samples[i] * ch.scale + ch.offset;
      filled = seg.start + seg.samples.length;
      last = samples[filled - 1];
    }
  }
  if (filled < n) {
    samples.fill(last, filled, n);
    gaps.push([filled, n]);
  }
  // what the channel recorded decides (a DAQ board plays a current protocol as a voltage through its series
  // resistor and records volts); the protocol's quantity only when the unit says neither
  const declared = (run.protocol as { quantity?: unknown }).quantity;
  const quantity = ch.unit === 'A' ? 'current' : ch.unit === 'V' ? 'voltage' : declared === 'current' ? 'current' : 'voltage';
  // a DAQ board holds each stimulus value for a tick (its PWM/DAC output): the twin replays it held
  const hold = run.source === 'daq';
  return { channel: ch.index, name: ch.name, unit: ch.unit, sampleRate: ch.sampleRate, quantity, hold, samples, gaps };
}
