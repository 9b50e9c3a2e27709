/**
 * Heavy requests (analyses of data sent in the body or of stored runs, STDP curves) run on the worker pool, never on the main thread, so
 * the server keeps answering (GET /api/health, the live feed, other clients) while they run. At most
 * `limit` run at once; one more is refused with 503 BUSY instead of queueing without bound. A client that
 * disconnects cancels its task (the pool stops the thread running it).
 */
import type { FastifyReply } from 'fastify';
import { WorkerPool, type TaskInput, type TaskName, type TaskOutput, type TaskRunner } from '../workers/pool.ts';
import type { AnalysisJob, AnalysisOutcome } from '../workers/tasks.ts';
import { AppError, type ErrorCode } from '../../common/errors.ts';
import { InputError, readRunSignal } from '../analysis-io/inputs.ts';
import { findAnalysis } from '../analysis-io/registry.ts';
import { runInput } from '../analysis-io/results.ts';
import type { RunStore } from '../store/run-store.ts';

export class HeavyWork {
  private active = 0;

  /** Heavy requests running now. */
  get running(): number {
    return this.active;
  }

  /** Whether tasks run on this machine's threads (they can then read the database file themselves). */
  get local(): boolean {
    return this.pool instanceof WorkerPool;
  }

  constructor(
    private readonly pool: TaskRunner,
    /** Heavy requests at once (default: the pool's threads). */
    readonly limit = pool.threads,
  ) {}

  /** Runs a task on the pool for the request answered by `reply`; cancelled when its client goes away. */
  async run<K extends TaskName>(reply: FastifyReply, task: K, input: TaskInput<K>): Promise<TaskOutput<K>> {
    if (this.active >= this.limit) throw new AppError('BUSY', `${this.limit} heavy requests are running already; retry when one has finished`);
    const ac = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) ac.abort(new Error('the client disconnected'));
    };
    reply.raw.once('close', onClose);
    this.active++;
    try {
      return await this.pool.run(task, input, { signal: ac.signal });
    } finally {
      this.active--;
      reply.raw.off('close', onClose);
    }
  }

  /** An analysis on the pool; a refused input is the request's 400, as when it runs here. */
  async analysis(reply: FastifyReply, job: AnalysisJob): Promise<unknown> {
    return outcome(await this.run(reply, 'analysis', job));
  }

  /**
   * Analysis `name` of stored runs on the pool for the request answered by `reply` (or none), the runs read there from the database file; read here
   * and sent when the thread cannot open it (an in-memory store, or workers on other machines).
   */
  async analyzeRuns(reply: FastifyReply | null, store: RunStore, name: string, runIds: number[], params: unknown): Promise<unknown> {
    const def = findAnalysis(name);
    if (!def) throw new InputError(`unknown analysis "${name}"`, '/name');
    const job: AnalysisJob = this.readsFile(store)
      ? { name, runs: { dbFile: store.file, runIds }, params }
      : { name, input: runInput(def, runIds.map((id) => readRunSignal(store, id))), params };
    // without a request (the analyses that follow a pairing): on the pool, neither refused nor cancelled
    return reply ? this.analysis(reply, job) : outcome(await this.pool.run('analysis', job));
  }

  /** Whether a task can read `store` from its file itself. */
  readsFile(store: RunStore): boolean {
    return this.local && store.file !== ':memory:';
  }
}

/** A task's result, or its refusal of the input as the error it would have been here. */
export function outcome(out: AnalysisOutcome): unknown {
  if (!out.ok) throw out.code ? new AppError(out.code as ErrorCode, out.message, out.field) : new InputError(out.message, out.field);
  return out.result;
}
