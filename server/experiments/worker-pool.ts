/**
 * A fixed pool of worker threads running one task module (a file whose default export is
 * `(input) => output | Promise<output>`), so CPU-heavy pure work (twin simulations, analyses) uses
 * every core while the main thread keeps serving the API and writing the store.
 *
 * Tasks queue in order; each worker runs one at a time. A task that throws rejects its promise with a
 * TaskError carrying the worker's message and code; a worker that dies is replaced. Typed arrays in
 * outputs are transferred (zero copy); pass `transfer` to move input buffers too.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { AppError, ERRORS, type ErrorCode } from '../../common/errors.ts';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);

/** A task that failed in its worker: the worker's AppError code when it threw one, else TASK_FAILED. */
export class TaskError extends AppError {
  constructor(
    message: string,
    readonly taskCode?: string,
  ) {
    super(taskCode !== undefined && taskCode in ERRORS ? (taskCode as ErrorCode) : 'TASK_FAILED', message, undefined, taskCode ? { taskCode } : undefined);
  }
}

interface Job {
  id: number;
  input: unknown;
  transfer: ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job: Job | null;
}

export class WorkerPool<I, O> {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  /** @param taskModule URL of the task module (e.g. new URL('./twin-task.ts', import.meta.url)). */
  constructor(
    private readonly taskModule: URL,
    size = availableParallelism(),
  ) {
    this.size = Math.max(1, Math.floor(size));
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT, { workerData: { module: this.taskModule.href } });
    worker.unref();
    const slot: Slot = { worker, job: null, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve) => {
      const onReady = (m: { ready?: boolean }) => {
        if (m && m.ready) {
          worker.off('message', onReady);
          resolve();
        }
      };
      worker.on('message', onReady);
    });
    worker.on('message', (m: { id?: number; ok?: boolean; output?: unknown; error?: { message: string; code?: string } }) => {
      if (m.id === undefined || !slot.job || slot.job.id !== m.id) return;
      const job = slot.job;
      slot.job = null;
      if (m.ok) job.resolve(m.output);
      else job.reject(new TaskError(m.error?.message ?? 'task failed', m.error?.code));
      this.pump();
    });
    const die = (err: Error) => {
      const job = slot.job;
      slot.job = null;
      const i = this.slots.indexOf(slot);
      if (job) job.reject(new TaskError(`worker died: ${err.message}`, 'WORKER_DIED'));
      if (i >= 0 && !this.closed) {
        this.slots[i] = this.spawn();
        this.pump();
      }
    };
    worker.on('error', die);
    worker.on('exit', (code) => {
      if (!this.closed) die(new Error(`exit code ${code}`));
    });
    return slot;
  }

  /** Runs one task; resolves with its output. */
  run(input: I, transfer: ArrayBuffer[] = []): Promise<O> {
    if (this.closed) return Promise.reject(new TaskError('the worker pool is closed', 'POOL_CLOSED'));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, transfer, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Tasks waiting plus running. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.job).length;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      void slot.ready.then(() => {
        if (slot.job === job) slot.worker.postMessage({ id: job.id, input: job.input }, job.transfer);
      });
    }
    for (const slot of this.slots) if (!slot.job) slot.worker.unref();
  }

  /** Rejects queued tasks and stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new TaskError('the worker pool is closed', 'POOL_CLOSED'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) s.job.reject(new TaskError('the worker pool is closed', 'POOL_CLOSED'));
        s.job = null;
        await s.worker.terminate();
      }),
    );
  }
}
