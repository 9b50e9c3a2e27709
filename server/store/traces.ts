/** A run's recorded channels: raw samples, min/max envelopes from the pyramid, and events. */
import type { ChannelDescriptor, EventKind, SampleArray, SampleType } from '../../common/run-stream.ts';
import type { EnvelopeWindow, StoredEvent } from '../../common/schemas/index.ts';
import { StoreError } from './errors.ts';
import { MAX_PIXELS } from './pyramid.ts';
import { SegmentReader } from './reader.ts';
import type { Runs } from './runs.ts';
import type { Statements } from './statements.ts';

/**
 * Min/max per pixel in physical units, NaN where the pixel has no sample. Pixel p covers samples
 * [edges[p], edges[p+1]) (see pixelEdges in pyramid.ts).
 */
export interface Envelope extends EnvelopeWindow {
  min: Float64Array;
  max: Float64Array;
  edges: Float64Array;
  /** Samples and buckets folded into the pixels: the read's cost, about 8 per pixel plus a constant. */
  itemsRead: number;
}
/** Raw dtype, contiguous present samples starting at sample index `start`. */
export interface RawSegment {
  start: number;
  samples: SampleArray;
}

export interface ChannelRow {
  id: number;
  run_id: number;
  idx: number;
  name: string;
  unit: string;
  sample_rate: number;
  dtype: SampleType;
  scale: number;
  offset: number;
  role: ChannelDescriptor['role'];
  sample_count: number;
}

function checkIndex(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('BAD_RANGE', `${what} must be a non-negative integer, got ${v}`);
}

/** Largest sample index a range may reach (keeps pixel-edge arithmetic exact in doubles). */
export const MAX_INDEX = Math.floor(Number.MAX_SAFE_INTEGER / MAX_PIXELS);

function checkRange(start: number, end: number): void {
  checkIndex(start, 'start');
  checkIndex(end, 'end');
  if (end > MAX_INDEX) throw new StoreError('BAD_RANGE', `end must be at most ${MAX_INDEX}, got ${end}`);
  if (start >= end) throw new StoreError('BAD_RANGE', `start (${start}) must be below end (${end})`);
}

export class Traces {
  private readonly reader: SegmentReader;
  constructor(
    private readonly st: Statements,
    private readonly runs: Runs,
  ) {
    this.reader = new SegmentReader(st.db);
  }

  /** Committed raw samples of [start, end), as contiguous segments (gaps split them). */
  readRaw(runId: number, channel: number, start: number, end: number): RawSegment[] {
    checkRange(start, end);
    const ch = this.channelRow(runId, channel);
    return this.reader.readRaw(ch.id, ch.dtype, start, end);
  }

  /**
   * Streams the committed raw samples of [start, end) in stored rows (at most 65536 samples each, in
   * order, gaps skipped), for exports of any length. The samples are views: copy them to keep them.
   */
  *iterateRaw(runId: number, channel: number, start: number, end: number): Generator<RawSegment> {
    checkRange(start, end);
    const ch = this.channelRow(runId, channel);
    yield* this.reader.rawChunks(ch.id, ch.dtype, start, end);
  }

  /** Min/max envelope of [start, end) at `pixels` columns, read from the pyramid level that fits. */
  readEnvelope(runId: number, channel: number, start: number, end: number, pixels: number): Envelope {
    checkRange(start, end);
    if (!Number.isInteger(pixels) || pixels < 1 || pixels > MAX_PIXELS) {
      throw new StoreError('BAD_RANGE', `pixels must be an integer in 1..${MAX_PIXELS}, got ${pixels}`);
    }
    const ch = this.channelRow(runId, channel);
    const env = this.reader.envelope(ch.id, ch.dtype, start, end, pixels);
    const { scale, offset } = ch;
    const min = env.min;
    const max = env.max;
    for (let p = 0; p < pixels; p++) {
      if (!(min[p]! <= max[p]!)) {
        min[p] = NaN;
        max[p] = NaN;
        continue;
      }
      const a = min[p]! * scale + offset;
      const b = max[p]! * scale + offset;
      min[p] = Math.min(a, b);
      max[p] = Math.max(a, b);
    }
    return {
      start,
      end,
      pixels,
      samplesPerPixel: (end - start) / pixels,
      level: env.level,
      min,
      max,
      edges: env.edges,
      itemsRead: env.itemsRead,
    };
  }

  listEvents(runId: number, q: { start?: number; end?: number; kind?: EventKind; limit?: number; channel?: number } = {}): StoredEvent[] {
    this.runs.row(runId);
    const where = ['run_id = ?'];
    const args: unknown[] = [runId];
    if (q.start !== undefined) {
      where.push('idx >= ?');
      args.push(q.start);
    }
    if (q.end !== undefined) {
      where.push('idx < ?');
      args.push(q.end);
    }
    if (q.kind) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    if (q.channel !== undefined) {
      where.push('channel = ?');
      args.push(q.channel);
    }
    const limit = Math.min(Math.max(Math.floor(q.limit ?? 10000), 0), 1_000_000);
    return this.st
      .sql(`SELECT id, kind, channel, idx AS "index", label, value, time_s FROM events WHERE ${where.join(' AND ')} ORDER BY idx, id LIMIT ?`)
      .all(...args, limit) as StoredEvent[];
  }

  private channelRow(runId: number, channel: number): ChannelRow {
    const row = this.st.sql('SELECT * FROM channels WHERE run_id = ? AND idx = ?').get(runId, channel) as ChannelRow | undefined;
    if (row) return row;
    this.runs.row(runId);
    throw new StoreError('CHANNEL_NOT_FOUND', `run ${runId} has no channel ${channel}`);
  }
}
