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
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
const closed = new Int32Array(workerData.closed);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // a full disk: the writer's own commit reports it; the next tick tries again
  }
}, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort.close();
});`;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));
  private stopped = false;

  /** `onFailure` when the thread fails: the writer checkpoints by itself again. */
  constructor(file: string, onFailure: () => void, everyMs = 200) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(SOURCE, { eval: true, workerData: { sqlite, file, everyMs, closed: this.closed.buffer } });
    this.worker.unref();
    this.worker.once('error', () => {
      if (!this.stopped) onFailure();
    });
    this.worker.once('exit', () => {
      if (!this.stopped) onFailure();
    });
  }

  /**
   * Closes the thread's connection (waiting at most 2 s), so that the writer's close is the last one and
   * leaves no WAL beside the file.
   */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('close');
    Atomics.wait(this.closed, 0, 0, 2000);
    void this.worker.terminate();
  }
}
