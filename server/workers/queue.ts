/**
 * The worker pool across machines: with `spikeloop serve --redis <url>` the tasks of ./tasks.ts (twin runs
 * of sweeps and pairings, bootstrap chunks) go to a BullMQ queue on Redis instead of this process's
 * threads; `spikeloop worker --redis <url> --server <url>` processes run them on their own WorkerPool and
 * hand the output back through the queue (the job's return value). The server alone writes the store: the
 * sweep runner stores a point when its task resolves here, once.
 *
 * BullMQ provides the rest: a worker that dies mid-job loses its lock and the job is handed to another
 * worker (stalled-job check); a failed job is retried (`attempts`); each worker runs `concurrency` jobs at
 * once and holds one more next in line (PREFETCH); bulk tasks wait behind the rest (BULK). An AbortSignal
 * removes a job that has not started and cancels one that has: the server publishes the job's id on
 * BullMQ's Relay (CANCEL_TOPIC), the worker running it aborts it (`worker.cancelJob`, the processor's
 * AbortSignal stops its thread) and fails it without a retry; a job taken but not yet started when the
 * cancel comes is failed as cancelled when it starts (startQueueWorker). Redis restarted with its
 * append-only file keeps the queue, and every side reconnects and carries on.
 *
 * Typed arrays travel as base64 of their bytes, so outputs are bit-identical to the local pool's
 * (NaN and Infinity included, which JSON would lose).
 */
import { onAbort } from './abort.ts';
import { hostname } from 'node:os';
import { Queue, QueueEvents, Relay, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { TaskError, WorkerPool, type RunOptions, type TaskInput, type TaskName, type TaskOutput, type TaskRunner } from './pool.ts';
import type { QueueStatus } from '../../common/schemas/server.ts';

export const QUEUE_NAME = 'spikeloop-tasks';
/** Relay topic on which the server asks the workers to cancel a running job: `{ jobId, reason }`. */
export const CANCEL_TOPIC = 'spikeloop.tasks.cancel';

/**
 * Tasks that start new work in bulk (a sweep's twin runs, a fit's evaluations): queued behind the others
 * (BullMQ takes its waiting list before its prioritized set, each in order), so the analyses that complete
 * a stored sweep point, and a request someone waits for, are not held behind a sweep's remaining runs. In
 * order of arrival, a sweep's analyses all came after its last twin run, one point at a time through the
 * server: a tail in which the workers waited for it (the 100-point cluster bench: 136 of its 200 analyses).
 */
const BULK: ReadonlySet<TaskName> = new Set<TaskName>(['twin', 'fit']);

const TYPED = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;

/** A deep copy of `value` with typed arrays as `{ $typed, b64 }`, for JSON. */
export function encode(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name as TypedName;
    if (!(name in TYPED)) throw new TaskError(`cannot send a ${name} through the queue`, 'BAD_TASK_DATA');
    return { $typed: name, b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

/** The inverse of encode(). */
export function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    const o = value as { $typed?: TypedName; b64?: string };
    if (typeof o.$typed === 'string' && typeof o.b64 === 'string' && o.$typed in TYPED) {
      const bytes = Buffer.from(o.b64, 'base64');
      const Ctor = TYPED[o.$typed];
      const copy = new Uint8Array(bytes.byteLength); // aligned, owned buffer
      copy.set(bytes);
      return new Ctor(copy.buffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

/** ioredis options from a redis:// URL; `null` retries: block and reconnect for as long as it takes. */
export function connection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TaskError(`--redis: "${url}" is not a URL (redis://host:port)`, 'BAD_REDIS_URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TaskError(`--redis: "${url}" is not a redis:// URL`, 'BAD_REDIS_URL');
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A Redis URL as printed: without its credentials. */
export const shownRedis = (url: string): string => url.replace(/\/\/[^@]*@/, '//');

/**
 * Fails within about `timeoutMs` with "cannot reach Redis at …" when Redis does not answer a PING. `serve`
 * and `worker` check this at start: the queue's own connections retry forever, which would leave a server
 * that queues work nobody can take, or a worker that waits silently.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  let last: Error | undefined;
  const client = new Redis({ ...(connection(url) as RedisOptions), lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', (e: Error) => (last = e));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new TaskError(`cannot reach Redis at ${shownRedis(url)} (${(last ?? (err as Error)).message}); start it or give the right --redis URL`, 'REDIS_UNREACHABLE');
  } finally {
    client.disconnect();
  }
}

/** How long closing waits for Redis before dropping the connections, ms. */
const CLOSE_MS = 3000;

/** BullMQ's close() waits for Redis, forever if it is gone: after CLOSE_MS, `drop` the connections instead. */
async function closeWithin(closing: Promise<unknown>, drop: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_MS)));
  const outcome = await Promise.race([closing.catch(() => undefined), late]);
  clearTimeout(timer);
  if (outcome === 'late') void drop().catch(() => undefined);
}

/** Server side: a TaskRunner whose tasks run on the queue's workers. */
export class QueuePool implements TaskRunner {
  readonly threads: number;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly relay: Relay;
  private readonly ready: Promise<unknown>;
  private closed = false;

  /** @param threads how many tasks the bootstrap expects to run at once (sum of the workers' concurrency). */
  constructor(
    private readonly url: string,
    opts: { threads?: number; attempts?: number } = {},
  ) {
    this.threads = opts.threads ?? 8;
    const conn = connection(url);
    this.queue = new Queue(QUEUE_NAME, {
      connection: conn,
      defaultJobOptions: {
        attempts: opts.attempts ?? 3,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 24 * 3600 },
      },
    });
    this.events = new QueueEvents(QUEUE_NAME, { connection: conn });
    this.relay = new Relay({ connection: conn, name: 'spikeloop serve' });
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), this.relay.waitUntilReady()]);
    // ioredis reconnects by itself; errors while Redis is away are expected and retried
    this.queue.on('error', () => undefined);
    this.events.on('error', () => undefined);
    this.relay.on('error', () => undefined);
  }

  async run<K extends TaskName>(task: K, input: TaskInput<K>, opts: RunOptions = {}): Promise<TaskOutput<K>> {
    if (this.closed) throw new TaskError('the worker pool is closed', 'POOL_CLOSED');
    opts.signal?.throwIfAborted();
    await this.ready;
    const job = await this.queue.add(task, encode(input), BULK.has(task) ? { priority: 1 } : {});
    let cancel!: () => void;
    // a removed job never finishes: the caller's abort answers for it
    const aborted = new Promise<never>((_, reject) => {
      cancel = () => {
        const reason = String(opts.signal?.reason?.message ?? opts.signal?.reason ?? 'aborted');
        // waiting: removed; running (its lock refuses the removal): cancelled by the worker that runs it
        void job.remove().catch(() => this.relay.publish(CANCEL_TOPIC, { jobId: job.id, reason }).catch(() => undefined));
        reject(new TaskError(`cancelled: ${reason}`, 'CANCELLED'));
      };
    });
    aborted.catch(() => undefined);
    const unwatch = onAbort(opts.signal, cancel);
    try {
      const out = await Promise.race([job.waitUntilFinished(this.events), aborted]);
      return decode(out) as TaskOutput<K>;
    } catch (err) {
      if (opts.signal?.aborted) throw new TaskError(`cancelled: ${String(opts.signal.reason?.message ?? opts.signal.reason ?? 'aborted')}`, 'CANCELLED');
      const e = err as { message?: string };
      // BullMQ reports the worker's failure reason; the worker prefixes it with the task error's code
      const m = /^\[([A-Z_]+)\] (.*)$/s.exec(e.message ?? '');
      throw m ? new TaskError(m[2], m[1]) : new TaskError(e.message ?? String(err), 'WORKER_FAILED');
    } finally {
      unwatch();
    }
  }

  /** The queue as the Sweeps page shows it: job counts, connected workers, running jobs. */
  async status(): Promise<QueueStatus> {
    await this.ready;
    const [counts, workers, active] = await Promise.all([
      this.queue.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed'),
      this.queue.getWorkers(),
      this.queue.getActive(0, 99),
    ]);
    return {
      redis: shownRedis(this.url),
      // bulk tasks wait in BullMQ's prioritized set: waiting all the same
      counts: { waiting: counts.waiting + counts.prioritized, active: counts.active, completed: counts.completed, failed: counts.failed, delayed: counts.delayed },
      workers: workers.map((w) => ({ name: String(w.rawname ?? w.name ?? '').replace(/^.*:w:/, ''), addr: String(w.addr ?? ''), ageS: Number(w.age ?? 0) })),
      active: active.filter(Boolean).map((j) => ({ id: String(j.id), task: j.name, worker: j.processedBy, attempts: j.attemptsMade })),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeWithin(Promise.all([this.queue.close(), this.events.close(), this.relay.close()]), () => Promise.all([this.queue.disconnect(), this.events.disconnect()]));
  }
}

export interface QueueWorkerOptions {
  redis: string;
  /** Jobs at once (threads of the local pool). */
  concurrency: number;
  /** Shown on the Sweeps page. */
  name?: string;
  /** A job whose worker stops renewing its lock this long is handed to another worker, ms. */
  lockMs?: number;
}

/**
 * Jobs a worker takes beyond its threads: the next one is fetched, decoded and queued on its pool while the
 * threads work, so a thread that finishes a job starts the next at once instead of idling through the
 * round trip to Redis (the result handed back, the next job fetched and decoded). Cancelled, it leaves the
 * pool's queue without running.
 */
const PREFETCH = 1;

/** Cancels a worker keeps for jobs it does not run (yet): far more than the jobs a sweep has in flight. */
const MAX_PENDING_CANCELS = 10_000;

/** Worker side: takes jobs from the queue and runs them on a local WorkerPool. */
export function startQueueWorker(opts: QueueWorkerOptions): { worker: Worker; ready: Promise<unknown>; close: () => Promise<void> } {
  const pool = new WorkerPool({ threads: opts.concurrency });
  const lockDuration = opts.lockMs ?? 10_000;
  // Cancels of jobs not running here (yet): a job taken from the queue is active and locked, so the server's
  // removal is refused and it publishes the cancel, but BullMQ only tracks the job (and `cancelJob` finds it)
  // once its processor starts. A cancel in between would be lost and the job run; kept here, the processor
  // refuses the job when it starts, on whichever worker gets it (every worker hears every cancel).
  const cancelled = new Map<string, string>();
  const worker = new Worker(
    QUEUE_NAME,
    async (job, _token, signal) => {
      const early = job.id === undefined ? undefined : cancelled.get(job.id);
      if (early !== undefined) {
        cancelled.delete(job.id!);
        throw new UnrecoverableError(`[CANCELLED] cancelled: ${early}`);
      }
      try {
        return encode(await pool.run(job.name as TaskName, decode(job.data) as never, { ...(signal ? { signal } : {}) }));
      } catch (err) {
        // cancelled by the server: failed for good, never retried
        if (signal?.aborted) throw new UnrecoverableError(`[CANCELLED] cancelled: ${String(signal.reason?.message ?? signal.reason ?? 'aborted')}`);
        // the task's own error would repeat on any worker: no retry; a thread that died may be retried
        const e = err as TaskError;
        const message = e.taskCode ? `[${e.taskCode}] ${e.message}` : e.message;
        throw e.taskCode === 'WORKER_DIED' || e.taskCode === undefined ? new Error(message) : new UnrecoverableError(message);
      }
    },
    {
      connection: connection(opts.redis),
      concurrency: opts.concurrency + PREFETCH,
      name: opts.name ?? `${hostname()}:${process.pid}`,
      lockDuration,
      stalledInterval: lockDuration / 2,
      maxStalledCount: 2,
    },
  );
  worker.on('error', () => undefined); // connection errors while Redis is away: ioredis reconnects
  // the server's cancellations; a job not running here is a no-op
  const relay = new Relay({ connection: connection(opts.redis), name: `spikeloop worker ${worker.name}` });
  relay.on('error', () => undefined);
  const ready = relay.subscribe<{ jobId?: string; reason?: string }>(CANCEL_TOPIC, (m) => {
    const id = m.data?.jobId;
    if (typeof id !== 'string' || worker.cancelJob(id, m.data?.reason)) return;
    cancelled.set(id, String(m.data?.reason ?? 'aborted'));
    // bounded: the oldest forgotten first (a job another worker ran, or one long gone)
    if (cancelled.size > MAX_PENDING_CANCELS) cancelled.delete(cancelled.keys().next().value!);
  });
  return {
    worker,
    ready: Promise.all([worker.waitUntilReady(), ready]),
    close: async () => {
      await closeWithin((async () => {
        await relay.close();
        await worker.close();
      })(), () => worker.disconnect());
      await pool.close();
    },
  };
}
