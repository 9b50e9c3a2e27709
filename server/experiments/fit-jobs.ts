/**
 * Twin calibrations started over the API (server/api/routes/fit.ts): each runs calibrateRun (./fit.ts) in the
 * background, with its progress, result or error kept in memory while the server runs (the fitted circuit
 * and its pairing are stored; the job record is not). At most `limit` run at once: a fit uses every worker
 * thread, so one more is refused with 503 BUSY instead of queueing. DELETE (cancel) or closing stops a fit.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../common/errors.ts';
import type { FitJob } from '../../common/schemas/twin.ts';
import type { RunManager } from '../runs/run-manager.ts';
import type { RunStore } from '../store/run-store.ts';
import type { TaskRunner } from '../workers/pool.ts';
import { calibrateRun, checkFit, type CalibrateOptions } from './fit.ts';

interface Job {
  record: FitJob;
  ac: AbortController;
  done: Promise<void>;
}

/** Jobs kept after they end, newest first (older ones are forgotten). */
const KEEP = 50;

export class FitJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly store: RunStore,
    private readonly runs: RunManager,
    private readonly pool: TaskRunner,
    readonly limit = 1,
  ) {}

  get running(): number {
    return [...this.jobs.values()].filter((j) => j.record.state === 'running').length;
  }

  /** Starts a calibration of run `runId`; the record of the running job. */
  start(runId: number, opts: Omit<CalibrateOptions, 'signal' | 'onProgress'>): FitJob {
    if (this.running >= this.limit) throw new AppError('BUSY', `${this.limit} twin fit(s) running already (a fit uses every worker thread); retry when it has finished`);
    checkFit(this.store, runId, opts);
    const id = randomUUID();
    const ac = new AbortController();
    const record: FitJob = { id, runId, circuit: opts.circuitName, objective: opts.objective ?? 'waveform', state: 'running', startedAt: new Date().toISOString(), progress: { phase: 'search', evals: 0, total: opts.maxEvals ?? 1500, residual: null } };
    const done = calibrateRun(this.store, this.runs, this.pool, runId, {
      ...opts,
      signal: ac.signal,
      onProgress: (p) => (record.progress = { phase: p.phase, evals: p.evals, total: p.total, residual: Number.isFinite(p.residual) ? p.residual : null }),
    }).then(
      (r) => {
        const { fitted: _doc, report, ...rest } = r;
        record.result = { ...rest, report: report.map((p) => ({ name: p.name, value: p.value, ci: p.ci, identifiable: p.identifiable })) };
        record.state = 'completed';
      },
      (err: unknown) => {
        record.state = ac.signal.aborted ? 'cancelled' : 'failed';
        record.error = err instanceof AppError ? { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
      },
    );
    this.jobs.set(id, { record, ac, done: done.finally(() => (record.endedAt = new Date().toISOString())) });
    const ended = [...this.jobs.values()].filter((j) => j.record.state !== 'running');
    for (const j of ended.slice(0, Math.max(0, ended.length - KEEP))) this.jobs.delete(j.record.id);
    return record;
  }

  get(id: string): FitJob {
    const job = this.jobs.get(id);
    if (!job) throw new AppError('FIT_NOT_FOUND', `no twin fit ${id} (fits are kept in memory while the server runs)`, '/params/fitId');
    return job.record;
  }

  /** Waits for a job's end (its record then holds the result or the error). */
  async wait(id: string): Promise<FitJob> {
    await this.jobs.get(id)?.done;
    return this.get(id);
  }

  /** Cancels a running job (no-op for one that has ended); resolves once it has stopped. */
  async cancel(id: string, why = 'cancelled by the client'): Promise<FitJob> {
    const job = this.jobs.get(id);
    if (!job) return this.get(id);
    if (job.record.state === 'running') job.ac.abort(new Error(why));
    await job.done;
    return job.record;
  }

  /** Cancels every running job (the server is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.jobs.keys()].map((id) => this.cancel(id, 'the server is shutting down')));
  }
}
