/**
 * The one reader of the stimulus a stored run actually applied, as recorded on its stimulus channel
 * (DESIGN.md "One stimulus, two consumers"). Every twin fed from a run uses it: POST /api/twin/runs
 * { stimulusRun }, POST /api/runs/:id/pair, automatic pairing, bench sweeps, `spikeloop twin run|spice
 * --stimulus runId:channel`. The rule (docs/experiments.md, "The recorded stimulus"):
 *
 *  - gaps (dropped blocks): each missing sample holds the last recorded value before it, and samples
 *    missing before the first recorded one are 0 (the outputs are at zero before a run starts); the gaps
 *    are returned, so callers can report how much was filled;
 *  - held stimuli: a DAQ board holds each output value for one tick (its PWM/DAC), so a run of source
 *    `daq` is replayed held (zero-order hold, twin Stimulus.hold); every other stimulus is interpolated
 *    linearly between samples, as an SMU's or the simulated bench's;
 *  - the channel's unit decides the quantity (A: current, V: voltage; a DAQ board plays a current protocol
 *    as a voltage through its series resistor and records volts); a channel in any other unit is refused.
 */
import { AppError } from '../../common/errors.ts';
import type { RunStore } from '../store/run-store.ts';
import type { TaskRunner } from '../workers/pool.ts';
import { readsFile } from '../workers/analyses.ts';

export interface RecordedStimulus {
  runId: number;
  /** The run's protocol (as stored). */
  protocol: { kind: string; [k: string]: unknown };
  channel: number;
  name: string;
  unit: string;
  sampleRate: number;
  quantity: 'current' | 'voltage';
  /** Replay each sample held for its sample period (a DAQ board's output), not interpolated. */
  hold: boolean;
  /** Physical values, SI. */
  samples: Float64Array;
  /** Sample ranges [start, end) that were missing from the recording and filled. */
  gaps: [number, number][];
}

export interface ReadStimulusOptions {
  /** Channel name or index; default the run's channel of role `stimulus`. */
  channel?: string;
  /** Only the first durationS seconds. */
  durationS?: number;
  /** Where the caller named the run, for the error's `field` (default `/runId`). */
  field?: string;
}

const READ_CHUNK = 1_000_000;

export function readStimulus(store: Pick<RunStore, 'getRun' | 'readRaw'>, runId: number, opts: ReadStimulusOptions = {}): RecordedStimulus {
  const field = opts.field ?? '/runId';
  const run = store.getRun(runId);
  if (!run) throw new AppError('RUN_NOT_FOUND', `run ${runId} does not exist`, field);
  const ch = opts.channel === undefined ? run.channels.find((c) => c.role === 'stimulus') : run.channels.find((c) => c.name === opts.channel || String(c.index) === opts.channel);
  if (!ch) {
    const what = opts.channel === undefined ? 'stimulus channel' : `channel "${opts.channel}"`;
    throw new AppError('CHANNEL_NOT_FOUND', `run ${runId} has no ${what} (channels: ${run.channels.map((c) => c.name).join(', ')})`, field);
  }
  if (ch.unit !== 'A' && ch.unit !== 'V') throw new AppError('CHANNEL_NOT_FOUND', `channel ${ch.name} of run ${runId} is in ${ch.unit}; a stimulus is in A or V`, field);
  const n = Math.min(ch.sampleCount, opts.durationS === undefined ? Infinity : Math.round(opts.durationS * ch.sampleRate));
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
      const m = Math.min(seg.samples.length, n - seg.start);
      for (let i = 0; i < m; i++) samples[seg.start + i] = seg.samples[i] * ch.scale + ch.offset;
      filled = seg.start + m;
      last = samples[filled - 1];
    }
  }
  if (filled < n) {
    samples.fill(last, filled, n);
    gaps.push([filled, n]);
  }
  return {
    runId,
    protocol: run.protocol as RecordedStimulus['protocol'],
    channel: ch.index,
    name: ch.name,
    unit: ch.unit,
    sampleRate: ch.sampleRate,
    quantity: ch.unit === 'A' ? 'current' : 'voltage',
    hold: run.source === 'daq',
    samples,
    gaps,
  };
}

/**
 * readStimulus on a thread of `pool` when it can read the run from the database file (the samples read
 * and scaled, 6-20 ms of the event loop for 4e5 and the garbage they leave), else here.
 */
export async function readStimulusOff(store: RunStore, pool: TaskRunner | undefined, runId: number, opts: ReadStimulusOptions = {}): Promise<RecordedStimulus> {
  return pool && readsFile(pool, store) ? pool.run('stimulus', { dbFile: store.file, runId, opts }) : readStimulus(store, runId, opts);
}

/** Samples filled in gaps. */
export const filledSamples = (s: RecordedStimulus) => s.gaps.reduce((n, [a, b]) => n + b - a, 0);
