/**
 * Online spike detection on one channel's raw sample codes, block by block (pure: arrays in, events out; the
 * state lives in the detector object, carried across blocks and gaps).
 *
 * Configuration (physical units; `spikeDetectorConfig` validates it, naming the field):
 *   threshold    V (the channel's unit)
 *   direction    'rising'  — an event at the first sample at or above threshold after one below it;
 *                'falling' — an event at the first sample at or below threshold after one above it;
 *                'reset'   — an event at the first sample after a drop of more than dropFraction × |threshold|
 *                            from the previous sample (an integrate-and-fire membrane's reset: the drop is a
 *                            jump, while the sub-threshold leak between two samples is a small fraction of it);
 *   refractoryS  s, default 0: events closer than this to the previous event are not emitted;
 *   dropFraction for 'reset', default 0.5.
 *
 * The event's value is the physical value of the sample before the event for 'reset' (the peak the
 * membrane reached), of the event's sample otherwise.
 *
 * Gaps (a block whose first index is not the one after the previous block's last): the previous sample is
 * forgotten, so no crossing or drop is inferred across missing data; the refractory time still counts from
 * the last event's index.
 */

import { firstProblem } from '../../common/schema-check.ts';
import { SpikeDetectionSchema, type SpikeDetection } from '../../common/schemas/bench.ts';

/** The settings' schema is the bench configuration's (common/schemas/bench.ts); DAQ run options use it too. */
export type SpikeDetectorConfig = SpikeDetection;
export type SpikeDirection = SpikeDetectorConfig['direction'];

export interface DetectedSpike {
  index: number;
  value: number;
}

/**
 * Checks a spike detector configuration against its schema and the one rule across settings the schema
 * cannot state (a reset's threshold is not 0: the drop is a fraction of it); throws an Error naming `where`
 * and the field (`where.threshold: must be number`).
 */
export function spikeDetectorConfig(x: unknown, where = 'spikes'): SpikeDetectorConfig {
  const problem = firstProblem(SpikeDetectionSchema, x);
  if (problem) throw new Error(`${where}${problem.path.replaceAll('/', '.')}: ${problem.message}`);
  const out = x as SpikeDetectorConfig;
  if (out.direction === 'reset' && out.threshold === 0) throw new Error(`${where}.threshold must not be 0 for direction reset (the drop is a fraction of it)`);
  return out;
}

/**
 * A detector for one channel whose physical value is raw × scale + offset, sampled at sampleRate. The
 * threshold is converted to raw codes once; `push` is one pass over the block.
 */
export class OnlineSpikeDetector {
  private readonly rawThreshold: number;
  private readonly rawDrop: number;
  private readonly refractory: number;
  private readonly mode: number;
  /** Index the next sample should have; -1 before the first block. */
  private next = -1;
  private prev = NaN;
  private lastEvent = -Infinity;
  /** Events emitted so far. */
  count = 0;

  constructor(
    readonly config: SpikeDetectorConfig,
    readonly channel: { sampleRate: number; scale: number; offset: number },
  ) {
    const { scale, offset } = channel;
    if (!(scale !== 0) || !Number.isFinite(scale)) throw new Error('spike detector: the channel scale must be a finite non-zero number');
    // a negative scale inverts the raw axis: rising in volts is falling in codes
    const flip = scale < 0;
    this.rawThreshold = (config.threshold - offset) / scale;
    this.rawDrop = ((config.dropFraction ?? 0.5) * Math.abs(config.threshold)) / Math.abs(scale);
    this.refractory = Math.round((config.refractoryS ?? 0) * channel.sampleRate);
    const d = config.direction;
    this.mode = d === 'reset' ? (flip ? 3 : 2) : (d === 'rising') !== flip ? 0 : 1;
  }

  /** Feeds one block (raw codes starting at sample index firstIndex); returns the events it holds, in order. */
  push(firstIndex: number, samples: ArrayLike<number>): DetectedSpike[] {
    const out: DetectedSpike[] = [];
    const n = samples.length;
    if (n === 0) return out;
    let prev = firstIndex === this.next ? this.prev : NaN;
    const th = this.rawThreshold;
    const drop = this.rawDrop;
    const { scale, offset } = this.channel;
    for (let i = 0; i < n; i++) {
      const x = samples[i];
      if (prev === prev) {
        let hit = false;
        switch (this.mode) {
          case 0:
            hit = prev < th && x >= th;
            break;
          case 1:
            hit = prev > th && x <= th;
            break;
          case 2:
            hit = prev - x > drop;
            break;
          default:
            hit = x - prev > drop;
        }
        if (hit) {
          const index = firstIndex + i;
          if (index - this.lastEvent >= this.refractory) {
            this.lastEvent = index;
            this.count++;
            out.push({ index, value: (this.mode >= 2 ? prev : x) * scale + offset });
          }
        }
      }
      prev = x;
    }
    this.prev = prev;
    this.next = firstIndex + n;
    return out;
  }
}
