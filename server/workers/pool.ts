/**
 * The one worker pool: CPU-heavy pure work (twin simulations, power-law bootstrap chunks) runs on worker
 * threads (tinypool) so the main thread keeps serving the API and writing the store. Twin runs, sweeps
 * and the bootstrap all share it; the composition root builds one per process.
 *
 * Each call names a task of ./tasks.ts. `threads` caps how many run at once (the rest queue in order);
 * an AbortSignal cancels a queued task, or stops the thread running it (the pool replaces it). A task
 * that throws rejects with a TaskError carrying its message and code. Typed arrays in a task's output are
 * transferred, not copied. Threads start on demand and end after a while idle, never holding the process
 * open.
 *
 * A streaming task (`stream()`, STREAM_TASKS in ./tasks.ts) sends its output as it goes, in batches, over a
 * MessagePort (the first item at once, then a batch per MiB, 512 items or 50 ms); the caller reads it as an
 * async iterable. Flow control is by credit: the task may have at most STREAM_WINDOW batches unread, then it waits (Atomics.wait on a shared counter) until the reader takes
 * one, so a slow reader (the run store, a paused run) bounds the memory in flight. While it waits it keeps
 * its thread. Ending the iteration early or the signal stops the thread.
 */
import { linkedSignal, onAbort } from './abort.ts';
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import Tinypool from 'tinypool';
import { AppError, ERRORS, type ErrorCode } from '../../common/errors.ts';
import type { StreamTaskName, StreamTasks, TaskName, Tasks } from './tasks.ts';

export type { TaskName, StreamTaskName } from './tasks.ts';
export type TaskInput<K extends TaskName> = Parameters<Tasks[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<Tasks[K]>>;
export type StreamInput<K extends StreamTaskName> = Parameters<StreamTasks[K]>[0];
export type StreamItem<K extends StreamTaskName> = ReturnType<StreamTasks[K]> extends Iterable<infer T> | AsyncIterable<infer T> ? T : never;

/** Batches a streaming task may send ahead of its reader. */
export const STREAM_WINDOW = 4;

/**
 * A task that failed: the AppError code the task threw (e.g. TWIN_BAD_CIRCUIT, carried across the thread),
 * else TASK_FAILED; `taskCode` is the code as the worker or the pool gave it (POOL_CLOSED, CANCELLED ...).
 */
export class TaskError extends AppError {
  constructor(
    message: string,
    readonly taskCode?: string,
    field?: string,
  ) {
    super(taskCode !== undefined && taskCode in ERRORS ? (taskCode as ErrorCode) : 'TASK_FAILED', message, field, taskCode ? { taskCode } : undefined);
  }
}

/**
 * What runs tasks: this process's threads (WorkerPool) or, with `serve --redis`, the `spikeloop worker`
 * processes of a BullMQ queue (QueuePool, queue.ts). Sweeps, pairings and the bootstrap take either.
 */
export interface TaskRunner {
  /** Tasks that can run at once (the bootstrap splits its replicates by it). */
  readonly threads: number;
  run<K extends TaskName>(task: K, input: TaskInput<K>, opts?: RunOptions): Promise<TaskOutput<K>>;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** Tasks running at once, one thread each (default: one per core). */
  threads?: number;
  /** An idle thread ends after this long, ms (default 30 s). */
  idleTimeoutMs?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Input buffers to move to the worker instead of copying (the caller loses them). */
  transfer?: ArrayBuffer[];
}

// Run from the TypeScript sources the entry loads tasks.ts (through tsx); from the compiled build, tasks.js.
const here = import.meta.url;
const TASKS = new URL(`./tasks${here.slice(here.lastIndexOf('.'))}`, here).href;
const ENTRY = new URL('./entry.mjs', here);

export class WorkerPool implements TaskRunner {
  readonly threads: number;
  private readonly pool: Tinypool;
  private running = 0;
  private closed = false;

  constructor(opts: WorkerPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
    this.pool = new Tinypool({
      filename: ENTRY.href,
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: opts.idleTimeoutMs ?? 30_000,
      workerData: { tasks: TASKS },
    });
  }

  /** Runs one task on a worker thread; resolves with its output. */
  async run<K extends TaskName>(task: K, input: TaskInput<K>, opts: RunOptions = {}): Promise<TaskOutput<K>> {
    if (this.closed) throw new TaskError('the worker pool is closed', 'POOL_CLOSED');
    opts.signal?.throwIfAborted();
    this.running++;
    // tinypool adds a listener per task: a signal of the task's own keeps the caller's (a sweep's, shared by all its points) at one
    const link = opts.signal && linkedSignal(opts.signal);
    try {
      return (await this.pool.run({ task, input }, { signal: link?.signal ?? null, transferList: opts.transfer })) as TaskOutput<K>;
    } catch (err) {
      throw asTaskError(err, opts.signal);
    } finally {
      link?.dispose();
      this.running--;
    }
  }

  /**
   * Runs a streaming task on a worker thread; yields its items in order. The first `next()` rejects with
   * the task's error when it fails before yielding (a bad circuit), as `run()` would.
   */
  async *stream<K extends StreamTaskName>(task: K, input: StreamInput<K>, opts: RunOptions = {}): AsyncGenerator<StreamItem<K>> {
    if (this.closed) throw new TaskError('the worker pool is closed', 'POOL_CLOSED');
    opts.signal?.throwIfAborted();
    const { port1, port2 } = new MessageChannel();
    const credit = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(credit, 0, STREAM_WINDOW);
    // our own controller: an early return (the run stopped) stops the thread too
    const ac = new AbortController();
    const unwatch = onAbort(opts.signal, () => ac.abort(opts.signal?.reason));
    const batches: unknown[][] = [];
    let ended = false;
    let failed: Error | undefined;
    let wake: (() => void) | undefined;
    const poke = () => {
      wake?.();
      wake = undefined;
    };
    port1.on('message', (m: { items?: unknown[]; end?: true }) => {
      if (m.end) ended = true;
      else batches.push(m.items!);
      poke();
    });
    this.running++;
    const done = this.pool
      .run({ task, input, stream: { port: port2, credit } }, { signal: ac.signal, transferList: [port2, ...(opts.transfer ?? [])] as never })
      .catch((err: unknown) => {
        failed = asTaskError(err, opts.signal?.aborted ? opts.signal : ac.signal.aborted ? ac.signal : undefined);
        poke();
      });
    try {
      for (;;) {
        const batch = batches.shift();
        if (batch) {
          Atomics.add(credit, 0, 1);
          Atomics.notify(credit, 0);
          for (const item of batch) yield item as StreamItem<K>;
          continue;
        }
        if (failed) throw failed;
        if (ended) break;
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      if (!ended && !failed) ac.abort(new Error('the reader stopped'));
      unwatch();
      port1.close();
      await done;
      this.running--;
    }
  }

  /** Tasks waiting plus running. */
  get pending(): number {
    return this.running;
  }

  /** Rejects queued tasks and stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.cancelPendingTasks();
    await this.pool.destroy();
  }
}

function asTaskError(err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new TaskError(`cancelled: ${String(signal.reason?.message ?? signal.reason ?? 'aborted')}`, 'CANCELLED');
  if (err instanceof TaskError) return err;
  const e = err as { message?: string; code?: string; field?: string } | undefined;
  const message = e?.message ?? String(err);
  // tinypool's own rejections: its queue cancelled or destroyed, or a thread that died mid-task
  if (/terminat|destroy|cancel/i.test(message) && e?.code === undefined) return new TaskError(`the worker pool is closed (${message})`, 'POOL_CLOSED');
  return new TaskError(message, e?.code, typeof e?.field === 'string' ? e.field : undefined);
}
