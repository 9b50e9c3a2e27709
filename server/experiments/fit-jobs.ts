/**
 * Twin calibrations started over the API (server/api/routes/fit.ts): each runs calibrateRun (./fit.ts) in the
 * background, with its progress, result or error kept in memory while the server runs. Progress is pushed to
 * watchers (the route's server-sent stream) at most every PUSH_MS and at every change of phase and at the end.
 * A completed fit stays retrievable by its id after its record is forgotten or the server restarted: the
 * stored fitted circuit's provenance carries the fit's id and result (fitRecord). A fit running when the
 * server stops is cancelled and lost. At most `limit` run at once: a fit uses every worker thread, so one more
 * is refused with 503 BUSY instead of queueing. DELETE (cancel) or closing stops a fit.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../common/errors.ts';
import type { FitJob } from '../../common/schemas/twin.ts';
import type { RunManager } from '../runs/run-manager.ts';
import type { RunStore } from '../store/run-store.ts';
import type { TaskRunner } from '../workers/pool.ts';
import { calibrateRun, checkFit, compactResult, type CalibrateOptions, type FitProvenance } from './fit.ts';

interface Job {
  record: FitJob;
  ac: AbortController;
  done: Promise<void>;
  watchers: Set<(fit: FitJob) => void>;
}

/** Progress pushed to watchers at most this often, ms (a generation of a small circuit takes a few ms). */
const PUSH_MS = 100;

/** The record of a completed fit rebuilt from its stored circuit's provenance (./fit.ts calibrateRun). */
export function fitRecord(name: string, p: FitProvenance): FitJob {
  const { kind: _kind, run: _run, from, date, fitId, startedAt, ...result } = p;
  return { id: fitId ?? '', runId: result.runId, circuit: from, objective: result.objective, state: 'completed', startedAt: startedAt ?? date, endedAt: date, progress: { phase: 'identifiability', evals: result.evals, total: result.evals, residual: result.residual }, result: { ...result, circuit: name } };
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

  /** Fits being checked (checkFit reads the run on a thread), counted against the limit. */
  private checking = 0;

  /** Starts a calibration of run `runId`, once checked; the record of the running job. */
  async start(runId: number, opts: Omit<CalibrateOptions, 'signal' | 'onProgress' | 'prepared'>): Promise<FitJob> {
    if (this.running + this.checking >= this.limit) throw new AppError('BUSY', `${this.limit} twin fit(s) running already (a fit uses every worker thread); retry when it has finished`);
    this.checking++;
    let prepared;
    try {
      prepared = await checkFit(this.store, this.pool, runId, opts);
    } finally {
      this.checking--;
    }
    const id = randomUUID();
    const ac = new AbortController();
    const startedAt = new Date().toISOString();
    const record: FitJob = { id, runId, circuit: opts.circuitName, objective: opts.objective ?? 'waveform', state: 'running', startedAt, progress: { phase: 'search', evals: 0, total: opts.maxEvals ?? 1500, residual: null } };
    const watchers = new Set<(fit: FitJob) => void>();
    const push = () => watchers.forEach((w) => w(record));
    let pushed = 0;
    const done = calibrateRun(this.store, this.runs, this.pool, runId, {
      ...opts,
      prepared,
      fitId: id,
      startedAt,
      signal: ac.signal,
      onProgress: (p) => {
        const phaseChanged = p.phase !== record.progress.phase;
        record.progress = { phase: p.phase, evals: p.evals, total: p.total, residual: Number.isFinite(p.residual) ? p.residual : null };
        if (phaseChanged || Date.now() - pushed >= PUSH_MS) ((pushed = Date.now()), push());
      },
    })
      .then(
        (r) => {
          record.result = compactResult(r);
          record.state = 'completed';
        },
        (err: unknown) => {
          record.state = ac.signal.aborted ? 'cancelled' : 'failed';
          record.error = err instanceof AppError ? { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
        },
      )
      .finally(() => {
        record.endedAt = new Date().toISOString();
        push();
        watchers.clear();
      });
    this.jobs.set(id, { record, ac, done, watchers });
    const ended = [...this.jobs.values()].filter((j) => j.record.state !== 'running');
    for (const j of ended.slice(0, Math.max(0, ended.length - KEEP))) this.jobs.delete(j.record.id);
    return record;
  }

  /**
   * Calls `listener` with the fit's record as it progresses and once when it has ended (then no more); a fit
   * that has ended already, at once. Returns the unsubscribe.
   */
  watch(id: string, listener: (fit: FitJob) => void): () => void {
    const job = this.jobs.get(id);
    if (!job || job.record.state !== 'running') {
      listener(this.get(id));
      return () => {};
    }
    job.watchers.add(listener);
    listener(job.record);
    return () => job.watchers.delete(listener);
  }

  /** A fit by id: a job of this server, else a completed fit found by its stored circuit. */
  get(id: string): FitJob {
    const job = this.jobs.get(id);
    if (job) return job.record;
    const stored = this.store.listCircuits().find((c) => (c.provenance as Partial<FitProvenance> | null)?.fitId === id);
    if (stored) return fitRecord(stored.name, stored.provenance as FitProvenance);
    throw new AppError('FIT_NOT_FOUND', `no twin fit ${id} (a running or failed fit is kept in memory while the server runs; a completed one by its stored circuit)`, '/params/fitId');
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
