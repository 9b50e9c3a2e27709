/**
 * The run store: one SQLite file (WAL) holding runs, their channels, chunked sample blobs with a min/max
 * pyramid, events, dropped ranges, notes/tags and analysis results. See docs/storage.md.
 *
 * One process writes (a lock file next to the database enforces it: ./lock.ts); any number may open it
 * read-only. The store owns the database, the lock and the recorders, checks that it is open (and
 * writable) for every call, and hands the queries to small repositories: ./runs.ts, ./traces.ts,
 * ./analyses.ts, ./sweeps.ts, ./circuits.ts.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EventKind, RunStatus, StartMessage } from '../../common/run-stream.ts';
import type { RunSummary, StoredAnalysis, StoredEvent } from '../../common/schemas/index.ts';
import { Analyses } from './analyses.ts';
import { Checkpointer } from './checkpointer.ts';
import { Circuits, type StoredCircuit } from './circuits.ts';
import { StoreError } from './errors.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { Recorder, type RunRecorder } from './recorder.ts';
import { Runs, type RunDetail, type RunInit, type RunListQuery } from './runs.ts';
import { SCHEMA_VERSION, migrate } from './schema.ts';
import { Statements } from './statements.ts';
import { Sweeps, type SweepRecord } from './sweeps.ts';
import { Traces, type Envelope, type RawSegment } from './traces.ts';

export { StoreError } from './errors.ts';
export { pixelEdges, levelFor, BUCKET, MAX_PIXELS } from './pyramid.ts';
export type { StoreErrorCode } from './errors.ts';
export type { RunRecorder } from './recorder.ts';
export type { ChannelInfo, DroppedRange, RunSummary, StoredAnalysis, StoredEvent } from '../../common/schemas/index.ts';
export type { RunDetail, RunInit, RunListQuery } from './runs.ts';
export type { SweepRecord } from './sweeps.ts';
export type { StoredCircuit } from './circuits.ts';
export { MAX_INDEX, type Envelope, type RawSegment } from './traces.ts';

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
  /** Free space kept spare when checking a run fits (default: 5 % of the file system, at most 1 GiB). */
  diskMarginBytes?: number;
}

const GiB = 1024 ** 3;
const RESERVE_BYTES = 1 << 20;
const fmtBytes = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)} GB` : `${(b / 1024 ** 2).toFixed(1)} MB`);

const DEFAULT_COMMIT_MS = 200;

export class RunStore {
  private readonly recorders = new Map<number, Recorder>();
  private timer: NodeJS.Timeout | null = null;
  private isClosed = false;
  /** Checkpoints the WAL off the event loop once runs record here (started by the first recorder). */
  private checkpointer: Checkpointer | null = null;
  /** SQLite reported the disk full during a run: new runs are refused until space returns (checkSpace). */
  diskFull = false;
  private diskMarginBytes?: number;
  private readonly st: Statements;
  private readonly runs: Runs;
  private readonly traces: Traces;
  private readonly analyses: Analyses;
  private readonly sweeps: Sweeps;
  private readonly circuits: Circuits;

  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
    private readonly commitIntervalMs: number,
    readonly readonly: boolean,
    private readonly lock: string | null,
  ) {
    this.st = new Statements(db);
    this.runs = new Runs(this.st);
    this.traces = new Traces(this.st, this.runs);
    this.analyses = new Analyses(this.st, this.runs);
    this.sweeps = new Sweeps(this.st);
    this.circuits = new Circuits(this.st);
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
        // only when the file is created). The WAL is checkpointed every 1000 pages (64 MiB), or, once runs
        // record, on a thread of its own (./checkpointer.ts).
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
      const store = new RunStore(file, db, commitIntervalMs, readonly, lock);
      store.diskMarginBytes = opts.diskMarginBytes;
      if (!readonly && file !== ':memory:') {
        store.reserveSpace();
        store.removeScratchLeft();
      }
      return store;
    } catch (err) {
      db?.close();
      if (lock) releaseLock(file, lock);
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
    this.checkpointer?.close();
    this.db.close();
    this.isClosed = true;
    if (this.lock) {
      rmSync(this.reserveFile, { force: true });
      releaseLock(this.file, this.lock);
    }
    if (failure) throw failure;
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
    return this.runs.create(init);
  }

  /** The writer for a 'running' run. One recorder per run. */
  recorder(runId: number): RunRecorder {
    this.writable();
    const row = this.runs.row(runId);
    if (this.recorders.has(runId)) throw new StoreError('RUN_ACTIVE', `run ${runId} already has a recorder`);
    if (row.status !== 'running') throw new StoreError('RUN_FINISHED', `run ${runId} is ${row.status}, not running`);
    const rec = new Recorder(this.db, runId, this.commitIntervalMs, {
      onDiskFull: () => {
        this.diskFull = true;
        // room for the runs' end to be recorded (a small row update the full disk refused), which a
        // checkpoint growing the database file must not take first
        this.checkpointer?.hold();
        rmSync(this.reserveFile, { force: true });
      },
      onClosed: (id) => {
        this.recorders.delete(id);
        if (this.recorders.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
    });
    this.recorders.set(runId, rec);
    if (!this.checkpointer && this.file !== ':memory:') {
      this.checkpointer = new Checkpointer(this.file, () => this.db.pragma('wal_autocheckpoint = 1000'));
      this.db.pragma('wal_autocheckpoint = 0');
    }
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

  /**
   * Refuses (DISK_FULL) a run of about `bytes` that the free space, minus a margin, cannot hold; and any run
   * while the disk is full after a run filled it, until space returns.
   */
  checkSpace(bytes: number, what: string): void {
    if (this.file === ':memory:') return;
    const dir = path.dirname(path.resolve(this.file));
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    const margin = this.diskMarginBytes ?? Math.min(GiB, 0.05 * fs.blocks * fs.bsize);
    if (this.diskFull && free > margin + RESERVE_BYTES) {
      this.diskFull = false;
      this.reserveSpace();
      this.checkpointer?.release();
    }
    if (this.diskFull) {
      throw new StoreError('DISK_FULL', `the disk holding ${this.file} filled up during a run; new runs are refused until more than ${fmtBytes(margin)} are free there (now ${fmtBytes(free)})`);
    }
    if (bytes > free - margin) {
      throw new StoreError('DISK_FULL', `${what} needs about ${fmtBytes(bytes)} but ${fmtBytes(free)} are free on ${dir} (keeping ${fmtBytes(margin)} spare): shorten it, lower the sample rate, or free space`);
    }
  }

  /**
   * `PRAGMA quick_check` (the fast form of integrity_check: every page, b-tree and record, not the index
   * contents): the problems SQLite reports, at most `max`; [] when the file is sound.
   */
  quickCheck(max = 10): string[] {
    try {
      const rows = this.db.pragma(`quick_check(${Math.max(1, Math.floor(max))})`) as { quick_check: string }[];
      const msgs = rows.map((r) => r.quick_check);
      return msgs.length === 1 && msgs[0] === 'ok' ? [] : msgs;
    } catch (err) {
      return [err instanceof Error ? err.message : String(err)];
    }
  }

  /**
   * A new scratch file's path beside the database, `<db>.scratch-<uuid>.tmp` (an export being written, on the
   * database's disk so checkSpace speaks for it); the caller removes it. Only the writer makes them, so those
   * found when the writer's lock is taken were left by a process that died, and are removed then.
   */
  scratchFile(): string {
    if (this.readonly || this.file === ':memory:') throw new StoreError('BAD_RANGE', 'scratch files are made beside a database open for writing');
    return `${path.resolve(this.file)}.scratch-${randomUUID()}.tmp`;
  }

  private removeScratchLeft(): void {
    const dir = path.dirname(path.resolve(this.file));
    const prefix = `${path.basename(this.file)}.scratch-`;
    for (const name of readdirSync(dir)) if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(path.join(dir, name), { force: true });
  }

  /** `<db>.reserve`: space set aside while the disk has room, given back when SQLite reports it full. */
  private get reserveFile(): string {
    return `${this.file}.reserve`;
  }

  private reserveSpace(): void {
    try {
      writeFileSync(this.reserveFile, Buffer.alloc(RESERVE_BYTES));
    } catch {
      rmSync(this.reserveFile, { force: true }); // no room even for that: checkSpace refuses runs anyway
    }
  }

  listRuns(q: RunListQuery = {}): RunSummary[] {
    this.alive();
    return this.runs.list(q);
  }

  getRun(id: number): RunDetail | undefined {
    this.alive();
    return this.runs.get(id);
  }

  /** Deletes a run and everything recorded with it. False if there is no such run. */
  deleteRun(id: number): boolean {
    this.writable();
    if (this.recorders.has(id)) throw new StoreError('RUN_ACTIVE', `run ${id} is recording; stop it before deleting`);
    return this.runs.delete(id);
  }

  setNotes(id: number, notes: string): void {
    this.writable();
    this.runs.setNotes(id, notes);
  }

  /** Replaces the run's tags (trimmed, empty ones dropped, duplicates merged). */
  setTags(id: number, tags: string[]): void {
    this.writable();
    this.runs.setTags(id, tags);
  }

  /** Committed raw samples of [start, end), as contiguous segments (gaps split them). */
  readRaw(runId: number, channel: number, start: number, end: number): RawSegment[] {
    this.alive();
    return this.traces.readRaw(runId, channel, start, end);
  }

  /** Streams the committed raw samples of [start, end) in stored rows (see Traces.iterateRaw). */
  *iterateRaw(runId: number, channel: number, start: number, end: number): Generator<RawSegment> {
    this.alive();
    yield* this.traces.iterateRaw(runId, channel, start, end);
  }

  /** Min/max envelope of [start, end) at `pixels` columns, read from the pyramid level that fits. */
  readEnvelope(runId: number, channel: number, start: number, end: number, pixels: number): Envelope {
    this.alive();
    return this.traces.readEnvelope(runId, channel, start, end, pixels);
  }

  listEvents(runId: number, q: { start?: number; end?: number; kind?: EventKind; limit?: number; channel?: number } = {}): StoredEvent[] {
    this.alive();
    return this.traces.listEvents(runId, q);
  }

  /** Stores an analysis result with the run; returns its id. `params` and `result` must be JSON-serialisable. */
  saveAnalysis(runId: number, name: string, params: unknown, result: unknown): number {
    this.writable();
    return this.analyses.save(runId, name, params, result);
  }

  /** The run's stored analyses, newest first, optionally only those called `name`. */
  listAnalyses(runId: number, name?: string): StoredAnalysis[] {
    this.alive();
    return this.analyses.list(runId, name);
  }

  /** Creates or replaces a sweep record (the sweep runner saves it at every change). */
  saveSweep(rec: SweepRecord): void {
    this.writable();
    this.sweeps.save(rec);
  }

  getSweep(id: string): SweepRecord | undefined {
    this.alive();
    return this.sweeps.get(id);
  }

  /** Stored sweeps, newest first. */
  listSweeps(q: { limit?: number; offset?: number } = {}): SweepRecord[] {
    this.alive();
    return this.sweeps.list(q);
  }

  /** Stores a circuit under a new name with its provenance (CIRCUIT_EXISTS when the name is taken). */
  saveCircuit(name: string, document: unknown, provenance: unknown): StoredCircuit {
    this.writable();
    return this.circuits.save(name, document, provenance);
  }

  getCircuit(name: string): StoredCircuit | undefined {
    this.alive();
    return this.circuits.get(name);
  }

  /** Stored circuits, newest first. */
  listCircuits(): StoredCircuit[] {
    this.alive();
    return this.circuits.list();
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
    const count = (sql: string) => (this.st.sql(sql).get() as { n: number | null }).n ?? 0;
    return {
      file: this.file,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      pageSize: this.db.pragma('page_size', { simple: true }) as number,
      fileBytes: size(this.file),
      walBytes: size(`${this.file}-wal`),
      freePages: this.db.pragma('freelist_count', { simple: true }) as number,
      runs: this.runs.countByStatus(),
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
}
