/**
 * Online spike detection on one channel's raw sample codes, block by block (pure: arrays in, events out; the
 * state lives in the detector object, carried across blocks and gaps). It is the stored-run detection of
 * spikes.ts with an absolute threshold, run as a stream: the same excursion scan (ExcursionScanner:
 * hysteresis re-arm, half-height end), the same reset rule (endsInReset) and dead time, so a run's live
 * events are what `detectSpikes(trace, fs, spikeDetectOptions(config))` finds on its stored trace.
 *
 * Configuration (physical units; `spikeDetectorConfig` validates it, naming the field):
 *   threshold    the channel's unit, a level measured from `baseline` (default 0)
 *   direction    'rising'  — an excursion above threshold (baseline below it);
 *                'falling' — an excursion below threshold (baseline above it);
 *                'reset'   — an excursion beyond baseline + dropFraction × (threshold − baseline) that ends in
 *                            a drop of at least dropFraction × its height (an integrate-and-fire membrane's
 *                            reset: the drop is a jump, while a sub-threshold decay between two samples is a
 *                            small fraction of it): the reset-type rule of spikes.ts with dropFraction for its 0.5;
 *   refractoryS  s, default 0: an excursion starting closer than this to the previous event's start is not one;
 *   dropFraction for 'reset', default 0.5.
 *
 * Each event is the excursion's extreme (index and physical value), or for 'reset' the first sample after
 * the reset with the value before it (the height the membrane reached), emitted when the excursion ends.
 *
 * Gaps (a block whose first index is not the one after the previous block's last): an excursion open at
 * the gap is dropped (its end is unknown), so nothing is inferred across missing data; the refractory time
 * still counts from the last event's start. `finish()` ends an excursion still open when the stream ends (as
 * the stored trace's last sample ends it).
 */

import { firstProblem } from '../../common/schema-check.ts';
import { SpikeDetectionSchema, type SpikeDetection } from '../../common/schemas/bench.ts';
import { absoluteLevel, deadSamples, DEFAULT_REARM, endsInReset, ExcursionScanner, rawPolarity, type Excursion, type SpikeDetectOptions } from './spikes.ts';

/** The settings' schema is the bench configuration's (common/schemas/bench.ts); DAQ run options use it too. */
export type SpikeDetectorConfig = SpikeDetection;
export type SpikeDirection = SpikeDetectorConfig['direction'];

export interface DetectedSpike {
  index: number;
  value: number;
}

/**
 * Checks a spike detector configuration against its schema and the rules across settings the schema cannot
 * state (the threshold on the side of the baseline its direction names; a reset's threshold away from the
 * baseline: the drop is a fraction of it); throws an Error naming `where` and the field (`where.threshold: must be number`).
 */
export function spikeDetectorConfig(x: unknown, where = 'spikes'): SpikeDetectorConfig {
  const problem = firstProblem(SpikeDetectionSchema, x);
  if (problem) throw new Error(`${where}${problem.path.replaceAll('/', '.')}: ${problem.message}`);
  const out = x as SpikeDetectorConfig;
  const b = out.baseline ?? 0;
  if (out.direction === 'reset' && out.threshold === b) throw new Error(`${where}.threshold must not be ${b} (the baseline) for direction reset (the drop is a fraction of it)`);
  if (out.direction === 'rising' && !(out.threshold > b)) throw new Error(`${where}.threshold must be above the baseline ${b} for direction rising`);
  if (out.direction === 'falling' && !(out.threshold < b)) throw new Error(`${where}.threshold must be below the baseline ${b} for direction falling (set baseline to the level the channel rests at)`);
  return out;
}

/** The stored-run detection (detectSpikes, spikes.ts) that finds the same spikes as this configuration online. */
export function spikeDetectOptions(c: SpikeDetectorConfig): SpikeDetectOptions {
  const b = c.baseline ?? 0;
  const f = c.dropFraction ?? 0.5;
  const value = c.direction === 'reset' ? b + f * (c.threshold - b) : c.threshold;
  return {
    threshold: { mode: 'absolute', value, baseline: b },
    polarity: c.threshold > b ? 'positive' : 'negative',
    refractory: c.refractoryS ?? 0,
    ...(c.direction === 'reset' ? { reset: f } : {}),
  };
}

/**
 * A detector for one channel whose physical value is raw × scale + offset, sampled at sampleRate. The
 * levels are converted to raw codes once, as detectSpikes does; `push` is one pass over the block.
 */
export class OnlineSpikeDetector {
  private readonly scanner: ExcursionScanner;
  private readonly base: number;
  private readonly reset?: number;
  private readonly dead: number;
  private readonly ended: Excursion[] = [];
  /** Index the next sample should have; -1 before the first block. */
  private next = -1;
  private lastStart = -Infinity;
  /** Events emitted so far. */
  count = 0;

  constructor(
    readonly config: SpikeDetectorConfig,
    readonly channel: { sampleRate: number; scale: number; offset: number },
  ) {
    const { scale, offset } = channel;
    if (!(scale !== 0) || !Number.isFinite(scale)) throw new Error('spike detector: the channel scale must be a finite non-zero number');
    const o = spikeDetectOptions(config);
    const { base, thr } = absoluteLevel(o.threshold as { value: number; baseline: number }, scale, offset);
    this.base = base;
    this.scanner = new ExcursionScanner(base, thr, DEFAULT_REARM * thr, rawPolarity(o.polarity!, scale));
    this.reset = o.reset;
    this.dead = deadSamples(o.refractory!, channel.sampleRate);
  }

  /** Feeds one block (raw codes starting at sample index firstIndex); returns the events that ended in it, in order. */
  push(firstIndex: number, samples: ArrayLike<number>): DetectedSpike[] {
    if (samples.length === 0) return [];
    if (firstIndex !== this.next) this.scanner.forget();
    this.next = firstIndex + samples.length;
    this.scanner.push(samples, firstIndex, this.ended);
    return this.take();
  }

  /** The stream ended: an excursion still open ends here. */
  finish(): DetectedSpike[] {
    this.scanner.finish(this.next, this.ended);
    return this.take();
  }

  private take(): DetectedSpike[] {
    const out: DetectedSpike[] = [];
    const { scale, offset } = this.channel;
    for (const e of this.ended) {
      if (this.reset !== undefined && !endsInReset(e.peakValue, e.lastValue, e.endValue, this.base, this.reset)) continue;
      if (e.start - this.lastStart < this.dead) continue;
      this.lastStart = e.start;
      this.count++;
      out.push(this.reset !== undefined ? { index: e.end, value: e.lastValue * scale + offset } : { index: e.peak, value: e.peakValue * scale + offset });
    }
    this.ended.length = 0;
    return out;
  }
}
