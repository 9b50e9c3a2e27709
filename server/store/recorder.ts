/**
 * The writer: consumes one run's stream and commits it to the database in batches.
 *
 * Per channel it keeps the raw row being filled and, for every pyramid level, the bucket being
 * accumulated and the row of finished buckets being filled. A commit writes, in one transaction, every
 * finished row, the partly filled rows (upserted: the same row is rewritten until it is full), the
 * channels' committed extents, events and dropped ranges. Commits happen when the oldest uncommitted
 * message is `commitIntervalMs` old (checked on every write and by the store's timer), when a channel has
 * `commitIntervalMs` worth of uncommitted samples by its own sample clock, when 64 MiB are buffered, or when
 * 4096 events are.
 */
import type Database from 'better-sqlite3';
import {
  SAMPLE_ARRAY,
  type BlockMessage,
  type ChannelDescriptor,
  EVENT_KINDS,
  type EventKind,
  type FinalStatus,
  type RunMessage,
  type SampleArray,
} from '../../common/run-stream.ts';
import { StoreError, isDiskFull } from './errors.ts';
import { BUCKET, FACTOR, MAX_LEVEL, ROW_CAP, encodeBlob } from './pyramid.ts';

type ArrayCtor = { new (n: number): SampleArray; BYTES_PER_ELEMENT: number };

const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Events committed at once at most: an imported run's 10⁶ events arrive within one commit interval, and inserting them in one transaction held the event loop ~1 s. */
const MAX_PENDING_EVENTS = 4096;

// Result registers of the min/max kernels (avoids allocating a pair per bucket).
let kMin = 0;
let kMax = 0;

/** Min and max of s[from..to), to > from, integer arrays. Seeded from the first sample: stays in int registers. */
function minMaxInt(s: SampleArray, from: number, to: number): void {
  let mn = s[from]!;
  let mx = mn;
  for (let k = from + 1; k < to; k++) {
    const v = s[k]!;
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  kMin = mn;
  kMax = mx;
}

/** Min and max of s[from..to) for float arrays; NaN samples are skipped (+Inf/-Inf if all are NaN). */
function minMaxFloat(s: SampleArray, from: number, to: number): void {
  let mn = Infinity;
  let mx = -Infinity;
  for (let k = from; k < to; k++) {
    const v = s[k]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  kMin = mn;
  kMax = mx;
}

interface Row {
  level: number;
  first: number;
  count: number;
  data: SampleArray;
}

/**
 * The row of one level being filled, plus full rows not yet committed. The row buffer starts small and
 * doubles up to the row cap, so slow channels and high levels cost little memory.
 */
class LevelRows {
  private buf: SampleArray;
  private first = -1;
  private n = 0;
  private dirty = false;
  private readonly cap: number;
  private readonly width: number;
  done: Row[] = [];
  /**
   * Buffers of full rows already committed, for the next full rows: recording 4 x 1 MS/s allocates about
   * 8 MB/s of row buffers otherwise, garbage that a loaded machine frees late (resident memory).
   */
  private spare: SampleArray[] = [];

  constructor(
    readonly level: number,
    private readonly Ctor: ArrayCtor,
  ) {
    this.cap = ROW_CAP[level]!;
    this.width = level === 0 ? 1 : 2;
    this.buf = new Ctor(Math.min(this.cap, 1024) * this.width);
  }

  /** Room for at least `items` more items (up to the cap). */
  private reserve(items: number): void {
    const want = Math.min(this.cap, this.n + items) * this.width;
    if (want <= this.buf.length) return;
    const bigger = new this.Ctor(Math.min(this.cap * this.width, Math.max(want, 2 * this.buf.length)));
    bigger.set(this.buf.subarray(0, this.n * this.width) as never);
    this.buf = bigger;
  }

  /** Closes the current row (a gap or a full row); it is queued for commit if it has new items. */
  private close(): void {
    if (this.n > 0 && this.dirty) {
      this.done.push({ level: this.level, first: this.first, count: this.n, data: this.buf.subarray(0, this.n * this.width) });
      const next = this.spare.pop();
      this.buf = next && next.length === this.buf.length ? next : new this.Ctor(this.buf.length);
    }
    this.first = -1;
    this.n = 0;
    this.dirty = false;
  }

  appendRaw(index: number, samples: SampleArray): void {
    const cap = this.cap;
    if (this.n > 0 && index !== this.first + this.n) this.close();
    let pos = 0;
    while (pos < samples.length) {
      if (this.n === cap) this.close();
      if (this.n === 0) this.first = index + pos;
      const take = Math.min(cap - this.n, samples.length - pos);
      this.reserve(take);
      this.buf.set(samples.subarray(pos, pos + take) as never, this.n);
      this.n += take;
      pos += take;
      this.dirty = true;
    }
  }

  appendBucket(j: number, mn: number, mx: number): void {
    if (this.n > 0 && (j !== this.first + this.n || this.n === this.cap)) this.close();
    if (this.n === 0) this.first = j;
    if (2 * this.n === this.buf.length) this.reserve(1);
    this.buf[2 * this.n] = mn;
    this.buf[2 * this.n + 1] = mx;
    this.n++;
    this.dirty = true;
  }

  /** Rows to write at the next commit: full rows, then the partly filled row if it changed. */
  pending(out: Row[]): void {
    for (const r of this.done) out.push(r);
    if (this.dirty && this.n > 0) out.push({ level: this.level, first: this.first, count: this.n, data: this.buf.subarray(0, this.n * this.width) });
  }

  /** The pending rows are in the database: their buffers may be reused (full-size ones, two at most). */
  committed(): void {
    for (const r of this.done) {
      if (this.spare.length < 2 && r.data.length === this.cap * this.width && r.data.byteOffset === 0) this.spare.push(r.data);
    }
    this.done = [];
    this.dirty = false;
  }
}

/** One channel's writer state: raw rows and the pyramid accumulators. */
class ChannelWriter {
  /** Next sample index expected (everything below was handed to the recorder). */
  next = 0;
  /** Extent committed to the database. */
  committedNext = 0;
  readonly rows: LevelRows[];
  // Bucket being accumulated at each level (index 0 unused): bucket index (-1: none), min, max.
  private readonly accJ: Float64Array;
  private readonly accMin: Float64Array;
  private readonly accMax: Float64Array;
  dropped: { start: number; end: number }[] = [];
  private readonly minMax: (s: SampleArray, from: number, to: number) => void;

  constructor(
    readonly id: number,
    readonly index: number,
    readonly desc: ChannelDescriptor,
  ) {
    const Ctor = SAMPLE_ARRAY[desc.dtype] as ArrayCtor;
    this.rows = BUCKET.map((_, l) => new LevelRows(l, Ctor));
    this.accJ = new Float64Array(MAX_LEVEL + 1).fill(-1);
    this.accMin = new Float64Array(MAX_LEVEL + 1);
    this.accMax = new Float64Array(MAX_LEVEL + 1);
    this.minMax = desc.dtype === 'float32' || desc.dtype === 'float64' ? minMaxFloat : minMaxInt;
  }

  write(firstIndex: number, s: SampleArray): void {
    if (firstIndex < this.next) {
      throw new StoreError(
        'BAD_BLOCK',
        `channel ${this.index}: block starts at sample ${firstIndex}, but samples up to ${this.next - 1} were already written`,
      );
    }
    const n = s.length;
    if (n === 0) return;
    if (firstIndex > this.next) this.dropped.push({ start: this.next, end: firstIndex });
    this.rows[0]!.appendRaw(firstIndex, s);

    // Level 1 from raw samples, one bucket-aligned stretch at a time.
    const B = BUCKET[1]!;
    const accJ = this.accJ;
    let i = firstIndex;
    let pos = 0;
    while (pos < n) {
      const j = Math.floor(i / B);
      const bucketEnd = (j + 1) * B;
      let mn: number;
      let mx: number;
      if (accJ[1] === j) {
        mn = this.accMin[1]!;
        mx = this.accMax[1]!;
      } else {
        if (accJ[1]! >= 0) this.emit(1, accJ[1]!, this.accMin[1]!, this.accMax[1]!);
        accJ[1] = j;
        mn = Infinity;
        mx = -Infinity;
      }
      const stop = pos + Math.min(n - pos, bucketEnd - i);
      this.minMax(s, pos, stop);
      if (kMin < mn) mn = kMin;
      if (kMax > mx) mx = kMax;
      i += stop - pos;
      pos = stop;
      if (i === bucketEnd) {
        accJ[1] = -1;
        this.emit(1, j, mn, mx);
      } else {
        this.accMin[1] = mn;
        this.accMax[1] = mx;
      }
    }
    this.next = firstIndex + n;
  }

  /** A finished bucket j of `level`: store it and fold it into the parent level's bucket. */
  private emit(level: number, j: number, mn: number, mx: number): void {
    this.rows[level]!.appendBucket(j, mn, mx);
    if (level === MAX_LEVEL) return;
    const up = level + 1;
    const pj = Math.floor(j / FACTOR);
    const accJ = this.accJ;
    if (accJ[up] !== pj) {
      if (accJ[up]! >= 0) this.emit(up, accJ[up]!, this.accMin[up]!, this.accMax[up]!);
      accJ[up] = pj;
      this.accMin[up] = mn;
      this.accMax[up] = mx;
    } else {
      if (mn < this.accMin[up]!) this.accMin[up] = mn;
      if (mx > this.accMax[up]!) this.accMax[up] = mx;
    }
    if ((j + 1) % FACTOR === 0) {
      accJ[up] = -1;
      this.emit(up, pj, this.accMin[up]!, this.accMax[up]!);
    }
  }

  /** Emits every partly filled bucket (end of the run). */
  sealBuckets(): void {
    for (let l = 1; l <= MAX_LEVEL; l++) {
      const j = this.accJ[l]!;
      if (j >= 0) {
        this.accJ[l] = -1;
        this.emit(l, j, this.accMin[l]!, this.accMax[l]!);
      }
    }
  }

  pendingBytes(): number {
    return (this.next - this.committedNext) * SAMPLE_ARRAY[this.desc.dtype].BYTES_PER_ELEMENT;
  }
}

export interface RunRecorder {
  /** Consumes the run's stream: start, descriptor, blocks, events, stop (stop sets status/reason/endedAt and flushes). */
  write(msg: RunMessage): void;
  /** Commits everything buffered now. */
  flush(): void;
  /** Samples committed so far, summed over all channels. */
  readonly committedSamples: number;
}

export interface RecorderHooks {
  /** Called once when the recorder is finished (stop written or store closing). */
  onClosed(runId: number): void;
  /** SQLite reported the disk full while this run was being written. */
  onDiskFull(): void;
}

/** The reason a run that filled the disk ends with. */
export const DISK_FULL_REASON = 'disk full: the database could not grow; what was committed before is kept, the samples after it are lost';

type State = 'open' | 'described' | 'closed';

export class Recorder implements RunRecorder {
  private state: State = 'open';
  private channels: ChannelWriter[] = [];
  private events: { kind: EventKind; channel: number | null; index: number; label: string | null; value: number | null; timeS: number | null }[] = [];
  private firstPendingAt = -1;
  private failure: Error | null = null;
  private startedAt: string | null = null;
  /** Commit when a channel holds this many seconds of uncommitted samples by its own clock. */
  private readonly pendingSeconds: number;
  private readonly stmt: {
    insertChannel: Database.Statement;
    upsertSegment: Database.Statement;
    setCount: Database.Statement;
    insertEvent: Database.Statement;
    insertDropped: Database.Statement;
    touch: Database.Statement;
    setStarted: Database.Statement;
    finish: Database.Statement;
  };

  constructor(
    private readonly db: Database.Database,
    readonly runId: number,
    private readonly commitIntervalMs: number,
    private readonly hooks: RecorderHooks,
  ) {
    this.pendingSeconds = commitIntervalMs / 1000;
    this.stmt = {
      insertChannel: db.prepare(
        `INSERT INTO channels (run_id, idx, name, unit, sample_rate, dtype, scale, offset, role)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertSegment: db.prepare(
        `INSERT INTO segments (channel_id, level, first, count, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (channel_id, level, first) DO UPDATE SET count = excluded.count, data = excluded.data`,
      ),
      setCount: db.prepare('UPDATE channels SET sample_count = ? WHERE id = ?'),
      insertEvent: db.prepare('INSERT INTO events (run_id, kind, channel, idx, label, value, time_s) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      insertDropped: db.prepare('INSERT INTO dropped (run_id, channel, start, "end") VALUES (?, ?, ?, ?)'),
      touch: db.prepare('UPDATE runs SET updated_at = ? WHERE id = ?'),
      setStarted: db.prepare('UPDATE runs SET started_at = ? WHERE id = ?'),
      finish: db.prepare('UPDATE runs SET status = ?, reason = ?, ended_at = ?, updated_at = ? WHERE id = ?'),
    };
  }

  get committedSamples(): number {
    let n = 0;
    for (const c of this.channels) n += c.committedNext;
    return n;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  write(msg: RunMessage): void {
    // a full disk met by the timer's commit still lets the stop record the run's end (finish: failed, disk full)
    if (this.failure && !(msg.type === 'stop' && this.sawDiskFull)) throw this.failure;
    if (this.state === 'closed') throw new StoreError('BAD_STREAM', `run ${this.runId}: message '${msg.type}' after the recorder was closed`);
    switch (msg.type) {
      case 'start':
        if (msg.runId !== this.runId) {
          throw new StoreError('BAD_STREAM', `start message for run ${msg.runId} given to the recorder of run ${this.runId}`);
        }
        this.startedAt = msg.wallTime;
        this.markPending();
        break;
      case 'descriptor':
        this.describe(msg.channels);
        break;
      case 'block':
        this.block(msg);
        break;
      case 'event': {
        if (!EVENT_KINDS.includes(msg.kind)) throw new StoreError('BAD_STREAM', `unknown event kind '${String(msg.kind)}'`);
        if (!Number.isSafeInteger(msg.index)) throw new StoreError('BAD_STREAM', `event index must be an integer, got ${msg.index}`);
        if (msg.channel !== undefined && this.state === 'described' && !this.channels[msg.channel]) {
          throw new StoreError('BAD_STREAM', `event for unknown channel ${msg.channel}`);
        }
        this.events.push({
          kind: msg.kind,
          channel: msg.channel ?? null,
          index: msg.index,
          label: msg.label ?? null,
          value: msg.value ?? null,
          timeS: Number.isFinite(msg.timeS) ? (msg.timeS as number) : null,
        });
        this.markPending();
        break;
      }
      case 'stop':
        this.finish(msg.status, msg.reason ?? null);
        return;
      default:
        throw new StoreError('BAD_STREAM', `unknown message type '${(msg as { type: string }).type}'`);
    }
    this.maybeCommit();
  }

  private describe(channels: ChannelDescriptor[]): void {
    if (this.state !== 'open') throw new StoreError('BAD_STREAM', `run ${this.runId}: a second descriptor`);
    const names = new Set<string>();
    for (const c of channels) {
      if (!SAMPLE_ARRAY[c.dtype]) throw new StoreError('BAD_STREAM', `channel '${c.name}': unknown dtype '${String(c.dtype)}'`);
      if (names.has(c.name)) throw new StoreError('BAD_STREAM', `duplicate channel name '${c.name}'`);
      if (!(c.sampleRate > 0)) throw new StoreError('BAD_STREAM', `channel '${c.name}': sample rate must be > 0`);
      names.add(c.name);
    }
    this.db.transaction(() => {
      channels.forEach((c, i) => {
        const id = Number(
          this.stmt.insertChannel.run(this.runId, i, c.name, c.unit, c.sampleRate, c.dtype, c.scale, c.offset, c.role).lastInsertRowid,
        );
        this.channels.push(new ChannelWriter(id, i, { ...c }));
      });
    })();
    this.state = 'described';
  }

  private block(msg: BlockMessage): void {
    if (this.state !== 'described') throw new StoreError('BAD_STREAM', `run ${this.runId}: block before the descriptor`);
    const ch = this.channels[msg.channel];
    if (!ch) throw new StoreError('BAD_BLOCK', `block for unknown channel ${msg.channel}`);
    if (!(msg.samples instanceof SAMPLE_ARRAY[ch.desc.dtype])) {
      throw new StoreError('BAD_BLOCK', `channel ${msg.channel} is ${ch.desc.dtype}, block samples are ${msg.samples.constructor.name}`);
    }
    if (!Number.isSafeInteger(msg.firstIndex) || msg.firstIndex < 0) {
      throw new StoreError('BAD_BLOCK', `block firstIndex must be a non-negative integer, got ${msg.firstIndex}`);
    }
    ch.write(msg.firstIndex, msg.samples);
    this.markPending();
  }

  private markPending(): void {
    if (this.firstPendingAt < 0) this.firstPendingAt = performance.now();
  }

  private maybeCommit(): void {
    if (this.firstPendingAt < 0) return;
    if (performance.now() - this.firstPendingAt >= this.commitIntervalMs || this.events.length >= MAX_PENDING_EVENTS) return this.flush();
    let bytes = 0;
    for (const c of this.channels) {
      if (c.next - c.committedNext >= this.pendingSeconds * c.desc.sampleRate) return this.flush();
      bytes += c.pendingBytes();
    }
    if (bytes >= MAX_BUFFERED_BYTES) this.flush();
  }

  /** Called by the store's timer: commits when the oldest uncommitted message is old enough. */
  tick(now = performance.now()): void {
    if (this.state === 'closed' || this.failure || this.firstPendingAt < 0) return;
    if (now - this.firstPendingAt < this.commitIntervalMs) return;
    try {
      this.flush();
    } catch (err) {
      // Reported to the writer on its next write (a timer has nobody to throw to).
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  private sawDiskFull = false;

  flush(): void {
    if (this.state === 'closed') return;
    this.commit(null);
  }

  /** Writes everything pending in one transaction; `end` also sets the final status. */
  private commit(end: { status: FinalStatus; reason: string | null } | null): void {
    // after a full disk, no more samples: the reserve the store gave back is for recording the run's end
    if (this.sawDiskFull) throw new StoreError('DISK_FULL', DISK_FULL_REASON);
    const rows: { ch: ChannelWriter; rows: Row[] }[] = [];
    for (const ch of this.channels) {
      const r: Row[] = [];
      for (const lr of ch.rows) lr.pending(r);
      rows.push({ ch, rows: r });
    }
    const events = this.events;
    const now = new Date().toISOString();
    const s = this.stmt;
    const write = this.db.transaction(() => {
      if (this.startedAt) s.setStarted.run(this.startedAt, this.runId);
      for (const { ch, rows: rs } of rows) {
        for (const r of rs) s.upsertSegment.run(ch.id, r.level, r.first, r.count, encodeBlob(r.data));
        for (const d of ch.dropped) s.insertDropped.run(this.runId, ch.index, d.start, d.end);
        if (ch.next !== ch.committedNext) s.setCount.run(ch.next, ch.id);
      }
      for (const e of events) s.insertEvent.run(this.runId, e.kind, e.channel, e.index, e.label, e.value, e.timeS);
      if (end) s.finish.run(end.status, end.reason, now, now, this.runId);
      else s.touch.run(now, this.runId);
    });
    try {
      write();
    } catch (err) {
      if (isDiskFull(err)) {
        this.sawDiskFull = true;
        this.hooks.onDiskFull();
      }
      throw err;
    }
    // Only now, with the transaction committed, forget what was written.
    this.startedAt = null;
    for (const ch of this.channels) {
      for (const lr of ch.rows) lr.committed();
      ch.dropped = [];
      ch.committedNext = ch.next;
    }
    this.events = [];
    this.firstPendingAt = -1;
  }

  private finish(status: FinalStatus, reason: string | null): void {
    for (const ch of this.channels) ch.sealBuckets();
    try {
      if (!this.sawDiskFull) this.commit({ status, reason });
    } catch (err) {
      if (!isDiskFull(err)) throw err;
    }
    if (this.sawDiskFull) {
      // The disk filled during this run: what is pending cannot be written, what was committed stays. The
      // end alone is one small row update, for which the store gave back its reserve; if even that fails
      // the run stays 'running' in the file and is marked interrupted at the next open.
      try {
        const now = new Date().toISOString();
        this.stmt.finish.run('failed', DISK_FULL_REASON, now, now, this.runId);
      } catch {
        /* marked interrupted at the next open */
      }
    }
    this.state = 'closed';
    this.hooks.onClosed(this.runId);
  }

  /** The store is closing without a stop message: commit what we have and mark the run interrupted. */
  closeInterrupted(reason: string): void {
    if (this.state === 'closed') return;
    this.finish('interrupted', reason);
  }
}
