/**
 * The live plot's memory for one channel: a fixed-capacity ring of (time, min, max) pairs as they arrive
 * over the WebSocket, and the reduction of any time window to at most one min/max pair per pixel column
 * (so a one-sample spike stays visible however far the view is zoomed out). Bounded memory: the oldest
 * pairs are overwritten.
 */

export interface Columns {
  x: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  /** Number of valid entries (arrays may be longer). NaN in lo/hi marks a gap. */
  length: number;
}

export class MinMaxBuffer {
  private t: Float64Array;
  private lo: Float64Array;
  private hi: Float64Array;
  /** Logical index of the oldest entry and count held. */
  private head = 0;
  private count = 0;
  /** Next expected sample index (for gap detection), -1 before the first block. */
  private nextIndex = -1;
  /** Pairs received in total. */
  received = 0;

  constructor(
    readonly sampleRate: number,
    readonly capacity = 1 << 17,
  ) {
    this.t = new Float64Array(capacity);
    this.lo = new Float64Array(capacity);
    this.hi = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Time (s) just after the newest sample held, or 0 when empty. */
  get endTime(): number {
    return this.nextIndex < 0 ? 0 : this.nextIndex / this.sampleRate;
  }

  /**
   * Appends pairs, each covering `stride` samples from firstIndex + k*stride. A jump in indices of at least
   * one pair's width becomes a gap (a smaller one is a decimation boundary, not lost data).
   */
  push(firstIndex: number, stride: number, min: ArrayLike<number>, max: ArrayLike<number>): void {
    if (this.nextIndex >= 0 && firstIndex - this.nextIndex >= Math.max(1, stride)) this.gap(this.nextIndex);
    const n = Math.min(min.length, max.length);
    for (let k = 0; k < n; k++) this.put((firstIndex + k * stride) / this.sampleRate, min[k], max[k]);
    this.received += n;
    this.nextIndex = Math.max(this.nextIndex, firstIndex + n * stride);
  }

  /** Marks samples [start, end) as missing (a dropped range reported by the server). */
  drop(start: number, end: number): void {
    this.gap(start);
    this.nextIndex = Math.max(this.nextIndex, end);
  }

  private gap(index: number): void {
    this.put(index / this.sampleRate, NaN, NaN);
  }

  private put(t: number, lo: number, hi: number): void {
    const cap = this.capacity;
    let slot: number;
    if (this.count < cap) {
      slot = (this.head + this.count) % cap;
      this.count++;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % cap;
    }
    this.t[slot] = t;
    this.lo[slot] = lo;
    this.hi[slot] = hi;
  }

  private at(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /** First logical index whose time is >= t (binary search; times are ascending). */
  private lowerBound(t: number): number {
    let a = 0;
    let b = this.count;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.t[this.at(m)] < t) a = m + 1;
      else b = m;
    }
    return a;
  }

  /**
   * The pairs inside [t0, t1), at most `pixels` columns: when there are more than two pairs per pixel they
   * are merged into per-column min/max (a column with no data, or with a gap in it, is NaN).
   */
  window(t0: number, t1: number, pixels: number, out?: Columns): Columns {
    const i0 = this.lowerBound(t0);
    const i1 = this.lowerBound(t1);
    const n = i1 - i0;
    const cols = Math.max(1, Math.floor(pixels));
    if (n <= 2 * cols) {
      const o = ensure(out, n);
      for (let i = 0; i < n; i++) {
        const s = this.at(i0 + i);
        o.x[i] = this.t[s];
        o.lo[i] = this.lo[s];
        o.hi[i] = this.hi[s];
      }
      o.length = n;
      return o;
    }
    const o = ensure(out, cols);
    o.lo.fill(Infinity, 0, cols);
    o.hi.fill(-Infinity, 0, cols);
    const w = (t1 - t0) / cols;
    for (let c = 0; c < cols; c++) o.x[c] = t0 + (c + 0.5) * w;
    const gapCol = new Uint8Array(cols);
    for (let i = i0; i < i1; i++) {
      const s = this.at(i);
      const c = Math.min(cols - 1, Math.floor((this.t[s] - t0) / w));
      const lo = this.lo[s];
      if (Number.isNaN(lo)) {
        gapCol[c] = 1;
        continue;
      }
      if (lo < o.lo[c]) o.lo[c] = lo;
      const hi = this.hi[s];
      if (hi > o.hi[c]) o.hi[c] = hi;
    }
    for (let c = 0; c < cols; c++) {
      if (gapCol[c] || o.lo[c] === Infinity) {
        o.lo[c] = NaN;
        o.hi[c] = NaN;
      }
    }
    o.length = cols;
    return o;
  }
}

function ensure(out: Columns | undefined, n: number): Columns {
  if (out && out.x.length >= n) return out;
  const cap = Math.max(n, 16);
  return { x: new Float64Array(cap), lo: new Float64Array(cap), hi: new Float64Array(cap), length: 0 };
}
