/**
 * The run store: one SQLite file (WAL) holding runs, their channels, chunked sample blobs with a min/max
 * pyramid, events, dropped ranges, notes/tags and analysis results. See docs/storage.md.
 *
 * One process writes (a lock file next to the database enforces it); any number may open it read-only.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type {
  ChannelDescriptor,
  EventKind,
  RunSourceKind,
  RunStatus,
  SampleArray,
  SampleType,
  StartMessage,
} from '../../common/run-stream.ts';
import type {
  ChannelInfo,
  DroppedRange,
  EnvelopeWindow,
  RunDetail as RunDetailBase,
  RunFilters,
  RunSummary,
  StoredAnalysis,
  StoredEvent,
} from '../../common/api-types.ts';
import { StoreError } from './errors.ts';
import { MAX_PIXELS } from './pyramid.ts';
import { SegmentReader } from './reader.ts';
import { Recorder, type RunRecorder } from './recorder.ts';
import { SCHEMA_VERSION, migrate } from './schema.ts';

export { StoreError } from './errors.ts';
export { pixelEdges, levelFor, BUCKET, MAX_PIXELS } from './pyramid.ts';
export type { StoreErrorCode } from './errors.ts';
export type { RunRecorder } from './recorder.ts';
export type { ChannelInfo, DroppedRange, RunSummary, StoredAnalysis, StoredEvent } from '../../common/api-types.ts';

export interface RunInit {
  protocol: { kind: string; [k: string]: unknown };
  source: RunSourceKind;
  bench: unknown;
  twin?: unknown;
  softwareVersion: string;
  linkedRunId?: number;
  label?: string;
}

/** The start message of a run created from `init`: the first message its recorder is given. */
export function startMessage(runId: number, init: RunInit): StartMessage {
  return {
    type: 'start',
    runId,
    protocol: init.protocol,
    source: init.source,
    bench: init.bench,
    ...(init.twin !== undefined ? { twin: init.twin } : {}),
    softwareVersion: init.softwareVersion,
    wallTime: new Date().toISOString(),
  };
}
/** Filters of `listRuns`; all given ones must hold. */
export interface RunListQuery extends RunFilters {
  status?: RunStatus;
  /** ISO 8601 UTC timestamps (`toISOString` form): created_at >= createdAfter and < createdBefore. */
  createdAfter?: string;
  createdBefore?: string;
}

/** The API's RunDetail (common/api-types.ts) plus what only the server uses. */
export interface RunDetail extends RunDetailBase {
  /** Wall time of the start message, if one was recorded. */
  startedAt: string | null;
}
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
/** A sweep as stored: its points and their runs, as JSON the sweep runner defines. */
export interface SweepRecord {
  id: string;
  label: string;
  mode: string;
  state: 'running' | 'completed' | 'aborted' | 'failed' | 'interrupted';
  reason?: string;
  /** The request as submitted (sweep document and options). */
  request: unknown;
  summary: unknown;
  points: unknown[];
  fraction: number;
  createdAt: string;
  endedAt?: string;
}
export interface StoreStats {
  file: string;
  schemaVersion: number;
  pageSize: number;
  /** Bytes of the database file and of its write-ahead log. */
  fileBytes: number;
  walBytes: number;
  /** Pages on the free list (space of deleted runs, reused by new ones; `vacuum()` returns it to the OS). */
  freePages: number;
  runs: Record<RunStatus, number>;
  channels: number;
  /** Committed samples over all channels and runs. */
  samples: number;
  segmentRows: number;
  events: number;
  analyses: number;
}
export interface OpenOptions {
  /** Commit interval of recorders (default 200 ms, so that with commit time no more than 250 ms is at risk). */
  commitIntervalMs?: number;
  /** Open without writing: no migration, no recovery, no recorders, no lock. */
  readonly?: boolean;
}

interface RunRow {
  id: number;
  status: RunStatus;
  reason: string | null;
  label: string | null;
  protocol: string;
  source: RunSourceKind;
  bench: string;
  twin: string | null;
  software_version: string;
  linked_run_id: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  notes: string;
}
interface SweepRow {
  id: string;
  label: string;
  mode: string;
  state: SweepRecord['state'];
  reason: string | null;
  request: string;
  summary: string;
  points: string;
  fraction: number;
  created_at: string;
  ended_at: string | null;
}
function sweepRecord(r: SweepRow): SweepRecord {
  return {
    id: r.id,
    label: r.label,
    mode: r.mode,
    state: r.state,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    request: JSON.parse(r.request),
    summary: JSON.parse(r.summary),
    points: JSON.parse(r.points) as unknown[],
    fraction: r.fraction,
    createdAt: r.created_at,
    ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  };
}
interface ChannelRow {
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

const DEFAULT_COMMIT_MS = 200;
const openFiles = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<file>.lock` holds the writer's pid; a lock left by a dead process is taken over. */
function acquireLock(file: string): string {
  const lock = `${file}.lock`;
  const key = path.resolve(file);
  if (openFiles.has(key)) throw new StoreError('STORE_LOCKED', `${file} is already open for writing in this process`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      openFiles.add(key);
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new StoreError('STORE_LOCKED', `${file} is open for writing by process ${pid} (lock ${lock})`);
      }
      rmSync(lock, { force: true });
    }
  }
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

export class RunStore {
  private readonly recorders = new Map<number, Recorder>();
  private readonly reader: SegmentReader;
  private timer: NodeJS.Timeout | null = null;
  private isClosed = false;

  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
    private readonly commitIntervalMs: number,
    readonly readonly: boolean,
    private readonly lock: string | null,
  ) {
    this.reader = new SegmentReader(db);
  }

  /** Opens (creating and migrating) the database; runs left 'running' by a dead process become 'interrupted'. */
  static open(file: string, opts: OpenOptions = {}): RunStore {
    const readonly = opts.readonly ?? false;
    const commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_MS;
    if (!(commitIntervalMs > 0)) throw new StoreError('BAD_RANGE', `commitIntervalMs must be > 0, got ${commitIntervalMs}`);
    const memory = file === ':memory:';
    const lock = readonly || memory ? null : acquireLock(file);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly, fileMustExist: readonly });
      if (!readonly) {
        // Large pages: sample rows are 64-256 KiB blobs, so fewer overflow pages per row (takes effect
        // only when the file is created). The WAL is checkpointed every 1000 pages (64 MiB).
        db.pragma('page_size = 65536');
        db.pragma('journal_mode = WAL');
        db.pragma('journal_size_limit = 134217728');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      if (readonly) {
        const v = db.pragma('user_version', { simple: true }) as number;
        if (v > SCHEMA_VERSION) throw new StoreError('STORE_TOO_NEW', `database schema version ${v} is newer than ${SCHEMA_VERSION}`);
      } else {
        migrate(db);
        const now = new Date().toISOString();
        db.prepare(
          `UPDATE runs SET status = 'interrupted', ended_at = updated_at,
             reason = coalesce(reason, 'the recording process ended without stopping the run (detected ' || ? || ')')
           WHERE status = 'running'`,
        ).run(now);
        db.prepare(
          `UPDATE sweeps SET state = 'interrupted', ended_at = updated_at,
             reason = coalesce(reason, 'the server ended while the sweep was running (detected ' || ? || ')')
           WHERE state = 'running'`,
        ).run(now);
      }
      return new RunStore(file, db, commitIntervalMs, readonly, lock);
    } catch (err) {
      db?.close();
      if (lock) {
        rmSync(lock, { force: true });
        openFiles.delete(path.resolve(file));
      }
      throw err;
    }
  }

  /** Flushes open recorders (their runs become 'interrupted'), closes the database, releases the lock. */
  close(): void {
    if (this.isClosed) return;
    let failure: unknown = null;
    for (const r of [...this.recorders.values()]) {
      try {
        r.closeInterrupted('the store was closed before the run stopped');
      } catch (err) {
        // Still close the file; the run stays 'running' in it and becomes 'interrupted' at the next open.
        failure ??= err;
        this.recorders.delete(r.runId);
      }
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.db.close();
    this.isClosed = true;
    if (this.lock) {
      rmSync(this.lock, { force: true });
      openFiles.delete(path.resolve(this.file));
    }
    if (failure) throw failure;
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** A prepared statement, prepared once per store. */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  private alive(): void {
    if (this.isClosed) throw new StoreError('STORE_CLOSED', 'the run store is closed');
  }

  private writable(): void {
    this.alive();
    if (this.readonly) throw new StoreError('STORE_LOCKED', `${this.file} is open read-only`);
  }

  /** Creates a run with status 'running'; returns its id. */
  createRun(init: RunInit): number {
    this.writable();
    if (!init.protocol || typeof init.protocol.kind !== 'string') {
      throw new StoreError('BAD_STREAM', 'run protocol must be an object with a string `kind`');
    }
    if (init.linkedRunId !== undefined) this.runRow(init.linkedRunId);
    const now = new Date().toISOString();
    return Number(
      this.sql(
          `INSERT INTO runs (status, label, protocol, protocol_kind, source, bench, twin, software_version,
                             linked_run_id, created_at, updated_at)
           VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          init.label ?? null,
          JSON.stringify(init.protocol),
          init.protocol.kind,
          init.source,
          JSON.stringify(init.bench ?? null),
          init.twin === undefined ? null : JSON.stringify(init.twin),
          init.softwareVersion,
          init.linkedRunId ?? null,
          now,
          now,
        ).lastInsertRowid,
    );
  }

  /** The writer for a 'running' run. One recorder per run. */
  recorder(runId: number): RunRecorder {
    this.writable();
    const row = this.runRow(runId);
    if (this.recorders.has(runId)) throw new StoreError('RUN_ACTIVE', `run ${runId} already has a recorder`);
    if (row.status !== 'running') throw new StoreError('RUN_FINISHED', `run ${runId} is ${row.status}, not running`);
    const rec = new Recorder(this.db, runId, this.commitIntervalMs, {
      onClosed: (id) => {
        this.recorders.delete(id);
        if (this.recorders.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
    });
    this.recorders.set(runId, rec);
    if (!this.timer) {
      const tick = Math.max(5, Math.min(50, this.commitIntervalMs / 4));
      this.timer = setInterval(() => {
        const now = performance.now();
        for (const r of this.recorders.values()) r.tick(now);
      }, tick);
      this.timer.unref();
    }
    return rec;
  }

  /** Whether the run has an open recorder in this process. */
  isRecording(runId: number): boolean {
    return this.recorders.has(runId);
  }

  listRuns(q: RunListQuery = {}): RunSummary[] {
    this.alive();
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (column: string, value: unknown) => {
      where.push(`${column} = ?`);
      args.push(value);
    };
    if (q.status) eq('status', q.status);
    if (q.kind) eq('protocol_kind', q.kind);
    if (q.source) eq('source', q.source);
    if (q.linkedTo !== undefined) eq('linked_run_id', q.linkedTo);
    // created_at is ISO 8601 UTC (toISOString), so string order is time order.
    if (q.createdAfter) {
      where.push('created_at >= ?');
      args.push(q.createdAfter);
    }
    if (q.createdBefore) {
      where.push('created_at < ?');
      args.push(q.createdBefore);
    }
    if (q.notes) {
      where.push(`notes LIKE ? ESCAPE '\\'`);
      args.push(`%${q.notes.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    }
    if (q.search) {
      const like = `%${q.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push(`(label LIKE ? ESCAPE '\\' OR protocol_kind LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag LIKE ? ESCAPE '\\'))`);
      args.push(like, like, like, like);
    }
    if (q.tag) {
      where.push('EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag = ?)');
      args.push(q.tag);
    }
    const limit = Math.min(Math.max(Math.floor(q.limit ?? 100), 0), 10000);
    const offset = Math.max(Math.floor(q.offset ?? 0), 0);
    const rows = this.sql(`SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as RunRow[];
    return rows.map((r) => this.summary(r));
  }

  getRun(id: number): RunDetail | undefined {
    this.alive();
    const row = this.sql('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return undefined;
    const dropped = this.sql('SELECT channel, start, "end" FROM dropped WHERE run_id = ? ORDER BY channel, start')
      .all(id) as DroppedRange[];
    const eventCounts: Record<EventKind, number> = { spike: 0, marker: 0, fault: 0 };
    for (const e of this.sql('SELECT kind, count(*) AS n FROM events WHERE run_id = ? GROUP BY kind').all(id) as {
      kind: EventKind;
      n: number;
    }[]) {
      eventCounts[e.kind] = e.n;
    }
    return { ...this.summary(row), startedAt: row.started_at, dropped, eventCounts };
  }

  /** Deletes a run and everything recorded with it. False if there is no such run. */
  deleteRun(id: number): boolean {
    this.writable();
    if (this.recorders.has(id)) throw new StoreError('RUN_ACTIVE', `run ${id} is recording; stop it before deleting`);
    return this.sql('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  setNotes(id: number, notes: string): void {
    this.writable();
    if (typeof notes !== 'string') throw new StoreError('BAD_STREAM', 'notes must be a string');
    if (this.sql('UPDATE runs SET notes = ? WHERE id = ?').run(notes, id).changes === 0) {
      throw new StoreError('RUN_NOT_FOUND', `no run ${id}`);
    }
  }

  /** Replaces the run's tags (trimmed, empty ones dropped, duplicates merged). */
  setTags(id: number, tags: string[]): void {
    this.writable();
    this.runRow(id);
    const clean = [...new Set(tags.map((t) => String(t).trim()).filter((t) => t.length > 0))];
    this.db.transaction(() => {
      this.sql('DELETE FROM run_tags WHERE run_id = ?').run(id);
      const ins = this.sql('INSERT INTO run_tags (run_id, tag) VALUES (?, ?)');
      for (const t of clean) ins.run(id, t);
    })();
  }

  /** Committed raw samples of [start, end), as contiguous segments (gaps split them). */
  readRaw(runId: number, channel: number, start: number, end: number): RawSegment[] {
    this.alive();
    checkRange(start, end);
    const ch = this.channelRow(runId, channel);
    return this.reader.readRaw(ch.id, ch.dtype, start, end);
  }

  /**
   * Streams the committed raw samples of [start, end) in stored rows (at most 65536 samples each, in
   * order, gaps skipped), for exports of any length. The samples are views: copy them to keep them.
   */
  *iterateRaw(runId: number, channel: number, start: number, end: number): Generator<RawSegment> {
    this.alive();
    checkRange(start, end);
    const ch = this.channelRow(runId, channel);
    yield* this.reader.rawChunks(ch.id, ch.dtype, start, end);
  }

  /** Min/max envelope of [start, end) at `pixels` columns, read from the pyramid level that fits. */
  readEnvelope(runId: number, channel: number, start: number, end: number, pixels: number): Envelope {
    this.alive();
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
    this.alive();
    this.runRow(runId);
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
    return this.sql(
        `SELECT id, kind, channel, idx AS "index", label, value FROM events WHERE ${where.join(' AND ')} ORDER BY idx, id LIMIT ?`,
      )
      .all(...args, limit) as StoredEvent[];
  }

  /** Stores an analysis result with the run; returns its id. `params` and `result` must be JSON-serialisable. */
  saveAnalysis(runId: number, name: string, params: unknown, result: unknown): number {
    this.writable();
    this.runRow(runId);
    return Number(
      this.sql('INSERT INTO analyses (run_id, name, params, result, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(runId, name, JSON.stringify(params ?? null), JSON.stringify(result ?? null), new Date().toISOString())
        .lastInsertRowid,
    );
  }

  /** The run's stored analyses, newest first, optionally only those called `name`. */
  listAnalyses(runId: number, name?: string): StoredAnalysis[] {
    this.alive();
    this.runRow(runId);
    const rows = (
      name === undefined
        ? this.sql('SELECT * FROM analyses WHERE run_id = ? ORDER BY id DESC').all(runId)
        : this.sql('SELECT * FROM analyses WHERE run_id = ? AND name = ? ORDER BY id DESC').all(runId, name)
    ) as { id: number; run_id: number; name: string; params: string; result: string; created_at: string }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      name: r.name,
      params: JSON.parse(r.params),
      result: JSON.parse(r.result),
      createdAt: r.created_at,
    }));
  }

  /** Creates or replaces a sweep record (the sweep runner saves it at every change). */
  saveSweep(rec: SweepRecord): void {
    this.writable();
    this.sql(
      `INSERT INTO sweeps (id, label, mode, state, reason, request, summary, points, fraction, created_at, updated_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET label = excluded.label, state = excluded.state, reason = excluded.reason,
         summary = excluded.summary, points = excluded.points, fraction = excluded.fraction,
         updated_at = excluded.updated_at, ended_at = excluded.ended_at`,
    ).run(
      rec.id,
      rec.label,
      rec.mode,
      rec.state,
      rec.reason ?? null,
      JSON.stringify(rec.request ?? null),
      JSON.stringify(rec.summary ?? null),
      JSON.stringify(rec.points),
      rec.fraction,
      rec.createdAt,
      new Date().toISOString(),
      rec.endedAt ?? null,
    );
  }

  getSweep(id: string): SweepRecord | undefined {
    this.alive();
    const row = this.sql('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
    return row && sweepRecord(row);
  }

  /** Stored sweeps, newest first. */
  listSweeps(q: { limit?: number; offset?: number } = {}): SweepRecord[] {
    this.alive();
    const limit = Math.min(Math.max(Math.floor(q.limit ?? 100), 0), 10000);
    const offset = Math.max(Math.floor(q.offset ?? 0), 0);
    return (this.sql('SELECT * FROM sweeps ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?').all(limit, offset) as SweepRow[]).map(sweepRecord);
  }

  /** Size and content counts of the database. */
  stats(): StoreStats {
    this.alive();
    const size = (f: string) => {
      try {
        return statSync(f).size;
      } catch {
        return 0;
      }
    };
    const count = (sql: string) => (this.sql(sql).get() as { n: number | null }).n ?? 0;
    const runs: Record<RunStatus, number> = { running: 0, completed: 0, aborted: 0, failed: 0, interrupted: 0 };
    for (const r of this.sql('SELECT status, count(*) AS n FROM runs GROUP BY status').all() as { status: RunStatus; n: number }[]) {
      runs[r.status] = r.n;
    }
    return {
      file: this.file,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      pageSize: this.db.pragma('page_size', { simple: true }) as number,
      fileBytes: size(this.file),
      walBytes: size(`${this.file}-wal`),
      freePages: this.db.pragma('freelist_count', { simple: true }) as number,
      runs,
      channels: count('SELECT count(*) AS n FROM channels'),
      samples: count('SELECT sum(sample_count) AS n FROM channels'),
      segmentRows: count('SELECT count(*) AS n FROM segments'),
      events: count('SELECT count(*) AS n FROM events'),
      analyses: count('SELECT count(*) AS n FROM analyses'),
    };
  }

  /** Rewrites the file without free pages (after deleting runs). Refused while a run records. */
  vacuum(): void {
    this.writable();
    if (this.recorders.size > 0) throw new StoreError('RUN_ACTIVE', 'cannot vacuum while a run is recording');
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private runRow(id: number): RunRow {
    const row = this.sql('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new StoreError('RUN_NOT_FOUND', `no run ${id}`);
    return row;
  }

  private channelRow(runId: number, channel: number): ChannelRow {
    const row = this.sql('SELECT * FROM channels WHERE run_id = ? AND idx = ?').get(runId, channel) as ChannelRow | undefined;
    if (row) return row;
    this.runRow(runId);
    throw new StoreError('CHANNEL_NOT_FOUND', `run ${runId} has no channel ${channel}`);
  }

  private summary(r: RunRow): RunSummary {
    const channels = (this.sql('SELECT * FROM channels WHERE run_id = ? ORDER BY idx').all(r.id) as ChannelRow[]).map(
      (c): ChannelInfo => ({
        index: c.idx,
        name: c.name,
        unit: c.unit,
        sampleRate: c.sample_rate,
        dtype: c.dtype,
        scale: c.scale,
        offset: c.offset,
        role: c.role,
        sampleCount: c.sample_count,
      }),
    );
    const tags = (this.sql('SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag').all(r.id) as { tag: string }[]).map(
      (t) => t.tag,
    );
    return {
      id: r.id,
      status: r.status,
      reason: r.reason,
      label: r.label,
      protocol: JSON.parse(r.protocol),
      source: r.source,
      bench: JSON.parse(r.bench),
      twin: r.twin === null ? null : JSON.parse(r.twin),
      softwareVersion: r.software_version,
      createdAt: r.created_at,
      endedAt: r.ended_at,
      linkedRunId: r.linked_run_id,
      notes: r.notes,
      tags,
      channels,
    };
  }
}
