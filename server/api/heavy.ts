/**
 * Heavy requests (analyses of data sent in the body) run on the worker pool, never on the main thread, so
 * the server keeps answering (GET /api/health, the live feed, other clients) while they run. At most
 * `limit` run at once; one more is refused with 503 BUSY instead of queueing without bound. A client that
 * disconnects cancels its task (the pool stops the thread running it).
 */
import type { FastifyReply } from 'fastify';
import { WorkerPool, type TaskRunner } from '../workers/pool.ts';
import type { AnalysisJob } from '../workers/tasks.ts';
import { AppError, type ErrorCode } from '../../common/errors.ts';
import { InputError } from '../analysis-io/inputs.ts';

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

  /** Runs `job` on the pool for the request answered by `reply`; cancelled when its client goes away. */
  async analysis(reply: FastifyReply, job: AnalysisJob): Promise<unknown> {
    if (this.active >= this.limit) throw new AppError('BUSY', `${this.limit} heavy requests are running already; retry when one has finished`);
    const ac = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) ac.abort(new Error('the client disconnected'));
    };
    reply.raw.once('close', onClose);
    this.active++;
    try {
      const out = await this.pool.run('analysis', job, { signal: ac.signal });
      if (!out.ok) throw out.code ? new AppError(out.code as ErrorCode, out.message, out.field) : new InputError(out.message, out.field);
      return out.result;
    } finally {
      this.active--;
      reply.raw.off('close', onClose);
    }
  }
}
