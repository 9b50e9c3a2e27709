/**
 * The WAL's checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the commit
 * that passes 1000 pages (64 MiB here): it copies the WAL into the database file and syncs both, 70–90 ms
 * of the event loop on a loaded machine (CPU profile of a 10 MS/s twin run, docs/security.md "Bounded
 * work"). Here a second connection checkpoints (PASSIVE: never waits for, nor blocks, the writer) every
 * `everyMs` on a worker thread, and the writer's automatic checkpoint is off while it runs. Not the worker
 * pool: its threads can be held for minutes by twin runs, and the WAL cannot wait that long.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
const state = new Int32Array(workerData.state);
// A statement prepared once, and a thread asleep in Atomics.wait rather than on a timer, so a checkpoint
// allocates nothing: db.pragma() prepared one per call, whose native memory only this thread's collector
// freed, minutes later, and a timer's tick leaves ~300 bytes of garbage (1.7 MB resident, 1 MB of young
// generation; bench soak_rss_slope_mb_per_h).
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').pluck();
while (Atomics.wait(state, STOP, 0, workerData.everyMs) === 'timed-out') {
  Atomics.store(state, BUSY, 1);
  if (Atomics.load(state, HOLD) === 0) {
    try {
      checkpoint.get();
    } catch {
      // a full disk: the writer's own commit reports it; the next tick tries again
    }
  }
  Atomics.store(state, BUSY, 0);
  Atomics.notify(state, BUSY);
}
db.close();
Atomics.store(state, CLOSED, 1);
Atomics.notify(state, CLOSED);`;

/**
 * Slots of the state shared with the thread: its connection closed; checkpoints held; a checkpoint running;
 * asked to stop.
 */
const CLOSED = 0;
const HOLD = 1;
const BUSY = 2;
const STOP = 3;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(16));
  private stopped = false;

  /** `onFailure` when the thread fails: the writer checkpoints by itself again. */
  constructor(file: string, onFailure: () => void, everyMs = 200) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const source = `const CLOSED = ${CLOSED}, HOLD = ${HOLD}, BUSY = ${BUSY}, STOP = ${STOP};` + SOURCE;
    this.worker = new Worker(source, { eval: true, workerData: { sqlite, file, everyMs, state: this.state.buffer } });
    this.worker.unref();
    this.worker.once('error', () => {
      if (!this.stopped) onFailure();
    });
    this.worker.once('exit', () => {
      if (!this.stopped) onFailure();
    });
  }

  /**
   * No checkpoints from now on, and none running when this returns (waiting at most 2 s): a full disk's
   * freed reserve is for recording the runs' end, and a checkpoint growing the database file would take it.
   * (Each side stores its flag before reading the other's, so a checkpoint either sees the hold or is waited for.)
   */
  hold(): void {
    Atomics.store(this.state, HOLD, 1);
    Atomics.wait(this.state, BUSY, 1, 2000);
  }

  /** Checkpoints again (space has returned). */
  release(): void {
    Atomics.store(this.state, HOLD, 0);
  }

  /**
   * Closes the thread's connection (waiting at most 2 s), so that the writer's close is the last one and
   * leaves no WAL beside the file.
   */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.state, STOP, 1);
    Atomics.notify(this.state, STOP);
    Atomics.wait(this.state, CLOSED, 0, 2000);
    void this.worker.terminate();
  }
}
