/**
 * Sweeps as groups of runs. Two modes:
 *
 * - "bench": each point is a measured run through the RunManager (one at a time: one bench), then its
 *   twin counterpart (the recorded stimulus fed to the twin, stored linked) and the analyses of both,
 *   queued on the worker pool so they run on every core while the next point is measured.
 * - "twin": the twin alone: every point's stimulus is sampled and simulated on the pool (all cores at
 *   once), each stored as a run of source "twin" (the resonance, phase-diagram and STDP sweeps).
 *
 * Every point is validated and checked against the bench limits before the first run starts; a refused
 * sweep starts nothing. Runs of a sweep carry the tag `sweep:<id>` and a label "[k/N] field=value".
 *
 * Every sweep is saved in the store (table `sweeps`) when it starts and at every change of a point, so a
 * server restart lists past sweeps with their points, runs and twin runs; a sweep that was running when
 * its process died is marked `interrupted` when the store is next opened (its unfinished points too).
 */
import { onAbort } from '../workers/abort.ts';
import { expandSweep, pointRefusalField, sweepSummary, type ExpandedSweep, type SweepSummary } from '../protocols/sweep.ts';
import type { RunManager } from '../runs/run-manager.ts';
import { AppError } from '../../common/errors.ts';
import type { RunStore, SweepRecord } from '../store/run-store.ts';
import { runAnalyses, type AnalysisCompute } from '../analysis-io/results.ts';
import { DEFAULT_RUN_ANALYSES, pairWithTwin, type TwinSimulate } from './pairing.ts';
import { resolveCircuit, type TwinInput } from '../sources/twin-source.ts';

import type { PointStats, SweepMode, SweepPointStatus, SweepStartBody, SweepState, SweepStatus } from '../../common/schemas/sweeps.ts';
import type { AnalysisFailure, SpikeStatsResult } from '../../common/schemas/analysis-results.ts';

export type { PointStats, SweepMode, SweepPointStatus, SweepState, SweepStatus };

interface ActiveSweep {
  status: SweepStatus;
  /** As submitted, its circuit resolved (a built-in name replaced by its document). */
  request: SweepStartBody;
  expanded: ExpandedSweep;
  controller: AbortController;
  done: Promise<SweepStatus>;
}

export interface SweepRunnerOptions {
  /** Runs the twin (normally poolSimulate(pool), on the one worker pool); without it twin mode and pairing are refused. */
  simulate?: TwinSimulate;
  /** Registry analyses stored with each run (default DEFAULT_RUN_ANALYSES; the curves read spike-stats). */
  analyses?: readonly string[];
  /** Computes them elsewhere (normally poolCompute, on the worker pool); default here. */
  compute?: AnalysisCompute;
  /** Default sample rate of twin-mode runs, S/s. */
  twinSampleRate?: number;
}

/**
 * Samples of one twin-mode point, which is simulated whole in memory before it is stored (about 24 bytes a
 * sample: the stimulus and two output channels). Measured: a LIF point of 1e7 samples took 26 s of one pool
 * thread and 240 MB (docs/security.md).
 */
export const MAX_TWIN_POINT_SAMPLES = 1e7;

let counter = 0;
const newId = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export class SweepRunner {
  private readonly sweeps = new Map<string, ActiveSweep>();

  constructor(
    private readonly store: RunStore,
    private readonly runs: RunManager,
    private readonly opts: SweepRunnerOptions = {},
  ) {}

  /**
   * Validates the whole sweep (every point, the limits), then starts it in the background. `circuitChecked`:
   * the caller has checked the circuit and resolved its name already (the API does it on a worker thread).
   */
  start(body: SweepStartBody, opts: { circuitChecked?: boolean } = {}): SweepStatus {
    const mode = body.mode ?? 'bench';
    let expanded: ExpandedSweep;
    try {
      expanded = expandSweep(body.sweep);
    } catch (err) {
      const e = err as { field?: string; message: string };
      throw new AppError('BAD_SWEEP', e.message, `/sweep${e.field ?? ''}`);
    }
    if ((mode === 'twin' || body.circuit !== undefined) && !this.opts.simulate) {
      throw new AppError('NO_TWIN', 'the digital twin is not available on this server', '/circuit');
    }
    if (mode === 'twin' && body.circuit === undefined) throw new AppError('BAD_SWEEP', 'twin mode needs a circuit', '/circuit');
    // a name or a document, checked by the twin (BAD_CIRCUIT) before anything starts
    const req = body.circuit === undefined || opts.circuitChecked ? body : { ...body, circuit: resolveCircuit(body.circuit) as SweepStartBody['circuit'] };
    // Limits for every point, before anything starts (the run manager checks them again at each start).
    const twinRate = req.sampleRate ?? this.opts.twinSampleRate ?? 10_000;
    let bytes = 0;
    for (const pt of expanded.points) {
      let v: ReturnType<RunManager['validate']>;
      try {
        v = this.runs.validate({ protocol: pt.protocol, source: mode === 'bench' ? req.source : undefined, sampleRate: req.sampleRate, ...(mode === 'bench' ? { options: req.options } : {}) });
      } catch (err) {
        if (err instanceof AppError) {
          const code = err.code === 'LIMIT_EXCEEDED' || err.code === 'PROGRAM_LIMIT' ? err.code : 'BAD_SWEEP';
          throw new AppError(code, `sweep point ${pt.index} (${pt.label}): ${err.message}`, pointRefusalField(expanded.sweep, err.field, '/sweep'));
        }
        throw err;
      }
      const d = v.protocol.durationS;
      if (mode === 'twin') {
        // a twin-mode point is simulated whole in memory (its stimulus and every output channel) before it is stored
        const samples = d * twinRate;
        if (samples > MAX_TWIN_POINT_SAMPLES) {
          throw new AppError('VALIDATION', `sweep point ${pt.index} (${pt.label}): ${d} s at ${twinRate} S/s is ${samples.toExponential(2)} samples; at most MAX_TWIN_POINT_SAMPLES = ${MAX_TWIN_POINT_SAMPLES.toExponential(0)} per twin-mode point (simulated whole in memory): shorten the points or lower sampleRate`, '/sampleRate');
        }
        bytes += this.runs.bytesOf(d, twinRate, 'twin');
      } else {
        // the measured run, and its twin when paired (the recorded stimulus at the run's rate)
        bytes += this.runs.bytesOf(d, v.sampleRate, v.kind) + (req.circuit !== undefined ? this.runs.bytesOf(d, v.sampleRate, 'twin') : 0);
      }
    }
    // every point's run together, against the free disk space: refused before the first run, not at its point
    this.store.checkSpace(bytes, `a sweep of ${expanded.points.length} runs (${sweepSummary(expanded).durationS} s in all)`);
    const id = newId();
    const label = req.label ?? expanded.sweep.label ?? `sweep of ${expanded.sweep.parameters.map((p) => p.field).join(' × ')}`;
    const status: SweepStatus = {
      id,
      label,
      mode,
      state: 'running',
      summary: sweepSummary(expanded),
      fraction: 0,
      createdAt: new Date().toISOString(),
      points: expanded.points.map((pt) => ({ index: pt.index, label: pt.label, values: pt.values, status: 'pending' })),
    };
    const controller = new AbortController();
    const active: ActiveSweep = { status, request: req, expanded, controller, done: Promise.resolve(status) };
    this.save(active);
    active.done = (mode === 'twin' ? this.runTwin(active, req) : this.runBench(active, req)).then(
      () => this.end(active),
      (err) => this.end(active, err),
    );
    this.sweeps.set(id, active);
    return status;
  }

  private end(active: ActiveSweep, err?: unknown): SweepStatus {
    const s = active.status;
    if (err) {
      s.state = 'failed';
      s.reason = err instanceof Error ? err.message : String(err);
    } else if (active.controller.signal.aborted) {
      s.state = 'aborted';
      s.reason = String(active.controller.signal.reason ?? 'stopped by user');
    } else {
      s.state = s.points.some((p) => p.status === 'failed' || p.twinStatus === 'failed') ? 'failed' : 'completed';
      if (s.state === 'failed') s.reason = 'some runs failed';
    }
    s.endedAt = new Date().toISOString();
    this.updateFraction(s);
    return s;
  }

  /** Recomputes the fraction done and saves the sweep (called at every change of a point). */
  private updateFraction(s: SweepStatus): void {
    const finished = s.points.filter((p) => p.status !== 'pending' && p.status !== 'running' && (p.twinStatus === undefined || p.twinStatus !== 'pending'));
    s.fraction = finished.length / s.points.length;
    const active = this.sweeps.get(s.id);
    if (active) this.save(active);
  }

  private save(active: ActiveSweep): void {
    const s = active.status;
    const { sweep, mode, source, sampleRate, label, circuit, options } = active.request;
    try {
      this.store.saveSweep({ ...s, request: { sweep, mode, source, sampleRate, label, circuit, options } });
    } catch {
      // The store closed under a running sweep (shutdown): the sweep is marked interrupted at the next open.
    }
  }

  /** The stored spike-stats of a run, if any. */
  private statsOf(runId: number): PointStats | undefined {
    // the stored spike-stats result, or { error } when it failed (results.ts runAnalyses)
    const r = this.store.listAnalyses(runId, 'spike-stats')[0]?.result as SpikeStatsResult | AnalysisFailure | undefined;
    if (!r || 'error' in r) return undefined;
    return { nSpikes: r.n_spikes, rateHz: r.rate_hz, isiMeanS: r.isi_mean_s, isiCv: r.isi_cv, regime: r.regime };
  }

  private tagOf(s: SweepStatus): string {
    return `sweep:${s.id}`;
  }

  private pointLabel(s: SweepStatus, i: number): string {
    return `${s.label} [${i + 1}/${s.points.length}] ${s.points[i].label}`;
  }

  private async runBench(active: ActiveSweep, req: SweepStartBody): Promise<void> {
    const s = active.status;
    const signal = active.controller.signal;
    const twins: Promise<void>[] = [];
    for (const pt of active.expanded.points) {
      if (signal.aborted) break;
      const ps = s.points[pt.index];
      ps.status = 'running';
      let runId: number;
      try {
        const run = await this.runs.start({ protocol: pt.protocol, source: req.source, sampleRate: req.sampleRate, label: this.pointLabel(s, pt.index), options: req.options });
        runId = run.id;
      } catch (err) {
        ps.status = 'failed';
        ps.error = err instanceof Error ? err.message : String(err);
        this.updateFraction(s);
        continue;
      }
      ps.runId = runId;
      this.store.setTags(runId, [this.tagOf(s)]);
      this.updateFraction(s);
      const unwatch = onAbort(signal, () => void this.runs.stop(runId, 'sweep stopped by user').catch(() => undefined));
      const stop = await this.runs.waitForEnd(runId).finally(unwatch);
      ps.status = stop?.status ?? this.store.getRun(runId)?.status ?? 'failed';
      if (ps.status === 'running') ps.status = 'failed';
      if (stop?.reason && ps.status !== 'completed') ps.error = stop.reason;
      const analyses = this.opts.analyses ?? DEFAULT_RUN_ANALYSES;
      if (ps.status === 'completed' && req.circuit !== undefined && this.opts.simulate) {
        ps.twinStatus = 'pending';
        twins.push(
          pairWithTwin(this.store, this.runs, runId, { circuit: req.circuit, simulate: this.opts.simulate, signal, analyses, compute: this.opts.compute }).then(
            (r) => {
              ps.twinRunId = r.twinRunId;
              ps.twinStatus = 'done';
              ps.stats = this.statsOf(runId);
              ps.twinStats = this.statsOf(r.twinRunId);
              this.store.setTags(r.twinRunId, [this.tagOf(s)]);
              this.updateFraction(s);
            },
            async (err) => {
              ps.twinStatus = 'failed';
              ps.error = `twin: ${err instanceof Error ? err.message : String(err)}`;
              // the measured run did record: its own statistics stay on the curve
              await runAnalyses(this.store, runId, analyses, {}, this.opts.compute).catch(() => undefined);
              ps.stats = this.statsOf(runId);
              this.updateFraction(s);
            },
          ),
        );
      } else if (ps.status === 'completed') {
        await runAnalyses(this.store, runId, analyses, {}, this.opts.compute);
        ps.stats = this.statsOf(runId);
      }
      this.updateFraction(s);
    }
    await Promise.all(twins);
  }

  private async runTwin(active: ActiveSweep, req: SweepStartBody): Promise<void> {
    const s = active.status;
    const signal = active.controller.signal;
    const simulate = this.opts.simulate!;
    const rate = req.sampleRate ?? this.opts.twinSampleRate ?? 10_000;
    const analyses = this.opts.analyses ?? DEFAULT_RUN_ANALYSES;
    await Promise.all(
      active.expanded.points.map(async (pt) => {
        const ps = s.points[pt.index];
        const p = pt.protocol;
        ps.status = 'running';
        try {
          // sampled and computed on the worker pool (the stimulus as the twin source samples it), recorded by
          // the run manager's twin source (a run like any other)
          const output = await simulate(req.circuit, { protocol: p, sampleRate: rate }, signal);
          if (signal.aborted) {
            ps.status = 'aborted';
            return;
          }
          const input: TwinInput = { output };
          const run = await this.runs.start({ protocol: p, source: 'twin', sampleRate: rate, label: this.pointLabel(s, pt.index), options: { circuit: req.circuit }, input });
          ps.runId = run.id;
          this.store.setTags(run.id, [this.tagOf(s)]);
          const stop = await this.runs.waitForEnd(run.id);
          ps.status = stop?.status ?? this.store.getRun(run.id)?.status ?? 'failed';
          if (ps.status !== 'completed') {
            if (stop?.reason) ps.error = stop.reason;
            return;
          }
          await runAnalyses(this.store, run.id, analyses, {}, this.opts.compute);
          ps.stats = this.statsOf(run.id);
        } catch (err) {
          ps.status = signal.aborted ? 'aborted' : 'failed';
          ps.error = err instanceof Error ? err.message : String(err);
        } finally {
          this.updateFraction(s);
        }
      }),
    );
  }

  /** A sweep of this process (live) or from the store (a past one). */
  get(id: string): SweepStatus {
    const a = this.sweeps.get(id);
    if (a) return a.status;
    const rec = this.store.getSweep(id);
    if (!rec) throw new AppError('SWEEP_NOT_FOUND', `sweep ${id} does not exist`);
    return fromRecord(rec);
  }

  /** Every stored sweep, newest first (this process's running ones as they are now). */
  list(limit = 200): SweepStatus[] {
    return this.store.listSweeps({ limit }).map((rec) => this.sweeps.get(rec.id)?.status ?? fromRecord(rec));
  }

  /** Resolves when the sweep has ended (all runs and twin runs stored). */
  wait(id: string): Promise<SweepStatus> {
    const a = this.sweeps.get(id);
    if (!a) return Promise.reject(new AppError('SWEEP_NOT_FOUND', `sweep ${id} does not exist`));
    return a.done;
  }

  /** Stops the sweep: the current run is aborted (outputs to zero), no further point starts. A past sweep is returned as it is. */
  async stop(id: string, reason = 'stopped by user'): Promise<SweepStatus> {
    const a = this.sweeps.get(id);
    if (!a) return this.get(id);
    if (!a.controller.signal.aborted) a.controller.abort(reason);
    return a.done;
  }

  /** Stops every sweep (server shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.sweeps.keys()].map((id) => this.stop(id, 'server shutdown').catch(() => undefined)));
  }
}

/** A stored sweep as the API shows it; the unfinished points of an interrupted sweep are marked interrupted. */
function fromRecord(rec: SweepRecord): SweepStatus {
  const { request: _request, ...rest } = rec;
  const points = rec.points as SweepPointStatus[];
  if (rec.state === 'interrupted') {
    for (const p of points) {
      if (p.status === 'pending' || p.status === 'running') p.status = 'interrupted';
      if (p.twinStatus === 'pending') {
        p.twinStatus = 'failed';
        p.error ??= 'twin: interrupted';
      }
    }
  }
  return { ...rest, mode: rec.mode as SweepMode, summary: rec.summary as SweepSummary, points };
}
