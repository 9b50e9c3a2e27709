/**
 * Range reads: raw segments and min/max envelopes.
 *
 * An envelope of [start, end) at N pixels reads the coarsest pyramid level whose bucket fits in a pixel
 * (at most ~FACTOR buckets per pixel), plus, at each end of the range and for the not-yet-built tail of
 * a live or interrupted run, a few buckets of the levels below. Its cost is O(N * FACTOR + levels * row),
 * independent of the range length.
 */
import type Database from 'better-sqlite3';
import type { SampleArray, SampleType } from '../../common/run-stream.ts';
import { SAMPLE_ARRAY } from '../../common/run-stream.ts';
import { BUCKET, decodeBlob, levelFor, pixelEdges } from './pyramid.ts';

export interface SegmentRow {
  first: number;
  count: number;
  data: Uint8Array;
}

export class SegmentReader {
  private readonly rowsStmt: Database.Statement<[{ ch: number; lv: number; from: number; to: number }], SegmentRow>;
  private readonly nextRowStmt: Database.Statement<[{ ch: number; lv: number; from: number; to: number }], SegmentRow>;
  private readonly coverStmt: Database.Statement<[number, number], { e: number }>;

  constructor(db: Database.Database) {
    // The last row starting at or before `from` (it may reach into the range), then every row starting before `to`.
    this.rowsStmt = db.prepare(
      `SELECT first, count, data FROM segments
        WHERE channel_id = @ch AND level = @lv
          AND first >= coalesce((SELECT max(first) FROM segments WHERE channel_id = @ch AND level = @lv AND first <= @from), @from)
          AND first < @to
        ORDER BY first`,
    );
    this.nextRowStmt = db.prepare(
      `SELECT first, count, data FROM segments
        WHERE channel_id = @ch AND level = @lv
          AND first >= coalesce((SELECT max(first) FROM segments WHERE channel_id = @ch AND level = @lv AND first <= @from), @from)
          AND first < @to AND first + count > @from
        ORDER BY first LIMIT 1`,
    );
    this.coverStmt = db.prepare(
      'SELECT first + count AS e FROM segments WHERE channel_id = ? AND level = ? ORDER BY first DESC LIMIT 1',
    );
  }

  /** Rows of `level` that overlap items [from, to) (sample indices at level 0, bucket indices above). */
  rows(channelId: number, level: number, from: number, to: number): SegmentRow[] {
    return this.rowsStmt.all({ ch: channelId, lv: level, from, to }).filter((r) => r.first + r.count > from);
  }

  /** One past the last item stored at `level` (0 when the level is empty). */
  coverage(channelId: number, level: number): number {
    return this.coverStmt.get(channelId, level)?.e ?? 0;
  }

  /**
   * Raw samples in [start, end), one stored row at a time (views, not merged), each fetched by its own
   * short query so the connection stays free for the recorder between chunks.
   */
  *rawChunks(channelId: number, dtype: SampleType, start: number, end: number): Generator<{ start: number; samples: SampleArray }> {
    let from = start;
    while (from < end) {
      const r = this.nextRowStmt.get({ ch: channelId, lv: 0, from, to: end });
      if (!r) return;
      const a = Math.max(from, r.first);
      const b = Math.min(end, r.first + r.count);
      yield { start: a, samples: decodeBlob(r.data, dtype).subarray(a - r.first, b - r.first) };
      from = b;
    }
  }

  /** Raw samples in [start, end) as contiguous runs (copies, in the channel dtype). */
  readRaw(channelId: number, dtype: SampleType, start: number, end: number): { start: number; samples: SampleArray }[] {
    const out: { start: number; parts: SampleArray[]; end: number }[] = [];
    for (const r of this.rows(channelId, 0, start, end)) {
      const a = Math.max(start, r.first);
      const b = Math.min(end, r.first + r.count);
      if (a >= b) continue;
      const part = decodeBlob(r.data, dtype).subarray(a - r.first, b - r.first);
      const last = out[out.length - 1];
      if (last && last.end === a) {
        last.parts.push(part);
        last.end = b;
      } else out.push({ start: a, parts: [part], end: b });
    }
    const Ctor = SAMPLE_ARRAY[dtype];
    return out.map((s) => {
      const samples = new Ctor(s.end - s.start);
      let off = 0;
      for (const p of s.parts) {
        samples.set(p as never, off);
        off += p.length;
      }
      return { start: s.start, samples };
    });
  }

  /** Raw min/max per pixel (raw units, +Inf/-Inf where a pixel has no sample) and the level used. */
  envelope(
    channelId: number,
    dtype: SampleType,
    start: number,
    end: number,
    pixels: number,
  ): { level: number; edges: Float64Array; min: Float64Array; max: Float64Array; itemsRead: number } {
    const level = levelFor(start, end, pixels);
    const edges = pixelEdges(start, end, pixels, level);
    const min = new Float64Array(pixels).fill(Infinity);
    const max = new Float64Array(pixels).fill(-Infinity);
    const cover = new Map<number, number>();
    let itemsRead = 0;
    const coverage = (l: number): number => {
      let c = cover.get(l);
      if (c === undefined) cover.set(l, (c = this.coverage(channelId, l) * BUCKET[l]!));
      return c;
    };
    // Pixel cursor: reads arrive in increasing sample order, so it only moves forward.
    let p = 0;
    const pixelOf = (i: number): number => {
      if (i < edges[p]!) p = 0;
      while (p < pixels - 1 && edges[p + 1]! <= i) p++;
      return p;
    };

    const raw = (a: number, b: number): void => {
      for (const r of this.rows(channelId, 0, a, b)) {
        const data = decodeBlob(r.data, dtype);
        let i = Math.max(a, r.first);
        const stop = Math.min(b, r.first + r.count);
        if (stop > i) itemsRead += stop - i;
        while (i < stop) {
          const px = pixelOf(i);
          const pxEnd = Math.min(stop, px === pixels - 1 ? stop : edges[px + 1]!);
          let mn = min[px]!;
          let mx = max[px]!;
          for (let k = i - r.first, kEnd = pxEnd - r.first; k < kEnd; k++) {
            const v = data[k]!;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
          }
          min[px] = mn;
          max[px] = mx;
          i = pxEnd;
        }
      }
    };

    const walk = (l: number, a: number, b: number): void => {
      if (a >= b) return;
      if (l === 0) return raw(a, b);
      const B = BUCKET[l]!;
      const a1 = Math.ceil(a / B) * B;
      const b1 = Math.floor(b / B) * B;
      if (a1 >= b1) return walk(l - 1, a, b);
      walk(l - 1, a, a1);
      const m = Math.min(b1, coverage(l));
      if (m > a1) {
        const ja = a1 / B;
        const jb = m / B;
        for (const r of this.rows(channelId, l, ja, jb)) {
          const data = decodeBlob(r.data, dtype);
          const j0 = Math.max(ja, r.first);
          const j1 = Math.min(jb, r.first + r.count);
          if (j1 > j0) itemsRead += j1 - j0;
          for (let j = j0; j < j1; j++) {
            const k = 2 * (j - r.first);
            const mn = data[k]!;
            const mx = data[k + 1]!;
            if (!(mn <= mx)) continue; // a bucket of NaN samples only
            const px = pixelOf(j * B);
            if (mn < min[px]!) min[px] = mn;
            if (mx > max[px]!) max[px] = mx;
          }
        }
      }
      // Buckets this level has not built yet (live run, or interrupted before they were complete).
      walk(l - 1, Math.max(a1, m), b1);
      walk(l - 1, b1, b);
    };

    walk(level, start, end);
    return { level, edges, min, max, itemsRead };
  }
}
