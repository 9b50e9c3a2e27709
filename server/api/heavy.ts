/**
 * Heavy requests (analyses of data sent in the body or of stored runs, STDP curves, circuit checks, uploads
 * to parse) run on the worker pool, never on the main thread, so the server keeps answering (GET
 * /api/health, the live feed, other clients) while they run. At most `limit` run at once; one more is
 * refused with 503 BUSY instead of queueing without bound. A client that disconnects cancels its task (the
 * pool stops the thread running it).
 */
import type { FastifyReply } from 'fastify';
import type { TaskInput, TaskName, TaskOutput, TaskRunner } from '../workers/pool.ts';
import { onAbort } from '../workers/abort.ts';
import type { AnalysisJob } from '../workers/tasks.ts';
import { AppError } from '../../common/errors.ts';
import { outcome, readsFile, runsJob } from '../workers/analyses.ts';
import type { RunStore } from '../store/run-store.ts';

export { outcome } from '../workers/analyses.ts';

/** A signal aborted when the client of `reply` goes away before its answer has been sent. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort(new Error('the client disconnected'));
  });
  return ac.signal;
}

export class HeavyWork {
  private active = 0;

  /** Heavy requests running now. */
  get running(): number {
    return this.active;
  }

  constructor(
    private readonly pool: TaskRunner,
    /** Heavy requests at once (default: the pool's threads). */
    readonly limit = pool.threads,
    /** This machine's threads, for work whose input is here (an upload, a circuit, an export): default `pool` when it is one. */
    private readonly threads: TaskRunner = pool,
  ) {}

  /** Counts a heavy request in, or refuses it when `limit` run already. */
  private enter(): void {
    if (this.active >= this.limit) throw new AppError('BUSY', `${this.limit} heavy requests are running already; retry when one has finished`);
    this.active++;
  }

  /**
   * Runs a task on the pool (`local`: on this machine's threads) for the request answered by `reply`;
   * cancelled when its client goes away. `transfer` moves input buffers instead of copying them. With
   * `stop` (shared with the task, which checks it: exportFile), a client that goes away sets `stop[0]`
   * instead of the thread being stopped.
   */
  async run<K extends TaskName>(reply: FastifyReply, task: K, input: TaskInput<K>, opts: { local?: boolean; transfer?: ArrayBuffer[]; stop?: Int32Array } = {}): Promise<TaskOutput<K>> {
    this.enter();
    const gone = clientGone(reply);
    const stop = opts.stop;
    const unwatch = stop ? onAbort(gone, () => Atomics.store(stop, 0, 1)) : undefined;
    try {
      return await (opts.local ? this.threads : this.pool).run(task, input, { ...(stop ? {} : { signal: gone }), ...(opts.transfer ? { transfer: opts.transfer } : {}) });
    } finally {
      unwatch?.();
      this.active--;
    }
  }

  /** An analysis on the pool; a refused input is the request's 400, as when it runs here. */
  async analysis(reply: FastifyReply, job: AnalysisJob): Promise<unknown> {
    return outcome(await this.run(reply, 'analysis', job));
  }

  /** Analysis `name` of stored runs on the pool for the request answered by `reply` (workers/analyses.ts). */
  async analyzeRuns(reply: FastifyReply, store: RunStore, name: string, runIds: number[], params: unknown): Promise<unknown> {
    return this.analysis(reply, runsJob(this.pool, store, name, runIds, params));
  }

  /** Whether a task can read `store` from its file itself (`local`: a task on this machine's threads, as `run`'s). */
  readsFile(store: RunStore, opts: { local?: boolean } = {}): boolean {
    return readsFile(opts.local ? this.threads : this.pool, store);
  }

  /** A circuit (a built-in name or a document) checked by expanding it on a thread; the document (BAD_CIRCUIT naming `field`). */
  async circuit(reply: FastifyReply, circuit: unknown, field = '/circuit'): Promise<unknown> {
    return this.run(reply, 'circuit', { circuit, field }, { local: true });
  }
}
