/**
 * Shared by the twin calibration tests: a temp store with the services on a two-thread worker pool, runs
 * recorded from twin circuits (the "measured" run is the twin of a first run's recorded stimulus, so it was
 * computed from exactly the stimulus a fit replays), noisy copies of them through the import path, and the
 * recovery table printed at the end (the issue's closing note).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect } from 'vitest';
import { Rng } from '../common/random.ts';
import type { FitResult } from '../server/experiments/fit.ts';
import { startTwinOfRun } from '../server/experiments/pairing.ts';
import { importRecording, type Recording } from '../server/import/index.ts';
import { buildServices, type Services } from '../server/services.ts';
import { RunStore } from '../server/store/run-store.ts';
import { readRunSignal } from '../server/analysis-io/inputs.ts';
import { WorkerPool } from '../server/workers/pool.ts';

export function useFitBench() {
  const ctx = {} as { dir: string; store: RunStore; pool: WorkerPool; services: Services };

  beforeAll(() => {
    ctx.dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-fit-'));
    ctx.store = RunStore.open(path.join(ctx.dir, 'runs.db'));
    ctx.pool = new WorkerPool({ threads: 2 });
    ctx.services = buildServices({ store: ctx.store, instruments: false, pool: ctx.pool });
  });
  afterAll(async () => {
    await ctx.services?.close();
    ctx.store?.close();
    rmSync(ctx.dir, { recursive: true, force: true });
  });

  /** A run of `truth` fed the recorded stimulus of a first run of `protocol`; returns the measured run's id. */
  async function record(truth: unknown, protocol: Record<string, unknown>, sampleRate: number): Promise<number> {
    const first = await ctx.services.runs.start({ protocol, source: 'twin', sampleRate, options: { circuit: truth } });
    await ctx.services.runs.waitForEnd(first.id);
    const { run } = await startTwinOfRun(ctx.store, ctx.services.runs, first.id, { circuit: truth });
    expect(await ctx.services.runs.waitForEnd(run.id)).toMatchObject({ status: 'completed' });
    return run.id;
  }

  /**
   * The measured run with noise of standard deviation `sd` (relative to each channel's range) and the DAQ's
   * quantisation (10 bits over the channel's range), recorded as an imported run.
   */
  async function noisy(runId: number, sd: number, seed: number): Promise<number> {
    const sig = readRunSignal(ctx.store, runId);
    const rng = new Rng(seed);
    const channels = sig.channels.map((c) => {
      const x = Float64Array.from(c.samples, (v) => v * c.scale + c.offset);
      if (c.role === 'stimulus') return { name: c.name, unit: c.unit, role: c.role, values: x };
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
      const lsb = (hi - lo) / 1023;
      return { name: c.name, unit: c.unit, role: c.role, values: x.map((v) => lo + lsb * Math.round((v + sd * (hi - lo) * rng.normal() - lo) / lsb)) };
    });
    const rec: Recording = { format: 'csv', vendor: null, sampleRate: sig.channels[0].fs, t0: 0, rateFrom: 'header', channels, header: {} };
    return (await importRecording(ctx.services.runs, rec, `noisy-${runId}.csv`)).id;
  }

  /**
   * Gives run `toRun` the spike events of run `fromRun` as a DAQ's detector would report them: each time with
   * Gaussian jitter of `sd` seconds, then on the sample tick. Written into the store's events table directly
   * (an imported recording has no events), on a second connection to the same SQLite file.
   */
  function jitterSpikes(fromRun: number, toRun: number, sd: number, seed: number): number[] {
    const rng = new Rng(seed);
    const fs = readRunSignal(ctx.store, fromRun).channels[0].fs;
    const times = ctx.store.listEvents(fromRun, { kind: 'spike' }).map((e) => Math.round((e.time_s! + sd * rng.normal()) * fs) / fs);
    const db = new Database(path.join(ctx.dir, 'runs.db'));
    try {
      const insert = db.prepare('INSERT INTO events (run_id, kind, channel, idx, label, value, time_s) VALUES (?, ?, NULL, ?, NULL, NULL, ?)');
      db.transaction(() => times.forEach((t) => insert.run(toRun, 'spike', Math.round(t * fs), t)))();
    } finally {
      db.close();
    }
    return times;
  }

  const off = (truth: Record<string, number>, factors: Record<string, number>) => Object.fromEntries(Object.entries(truth).map(([k, v]) => [k, v * factors[k]]));

  /** The recovery table's rows (printed at the end, for the issue's closing note). */
  const table: string[] = [];
  function report(label: string, truth: Record<string, number>, start: Record<string, number>, r: FitResult) {
    for (const [k, v] of Object.entries(truth)) {
      const ci = r.ci[k];
      table.push(`| ${label} | ${k} | ${v.toPrecision(4)} | ${start[k].toPrecision(4)} | ${r.params[k].toPrecision(6)} | ${ci ? `${ci[0].toPrecision(4)} – ${ci[1].toPrecision(4)}` : '—'} | ${(100 * (r.params[k] / v - 1)).toFixed(3)} |`);
    }
  }
  afterAll(() => console.log(['| run | parameter | true | start | fitted | 95 % CI | error % |', '| --- | --- | --- | --- | --- | --- | --- |', ...table].join('\n')));

  function expectRecovered(truth: Record<string, number>, r: FitResult, within: 'two-percent' | 'ci') {
    for (const [k, v] of Object.entries(truth)) {
      if (within === 'two-percent') expect(Math.abs(r.params[k] / v - 1), `${k}: ${r.params[k]} for ${v}`).toBeLessThan(0.02);
      else {
        const ci = r.ci[k];
        expect(ci, `${k} has an interval`).not.toBeNull();
        expect(v, `${k}: ${v} in [${ci![0]}, ${ci![1]}]`).toBeGreaterThanOrEqual(ci![0]);
        expect(v).toBeLessThanOrEqual(ci![1]);
      }
    }
    // the intervals vouched for: no parameter flat, kinked or without curvature, no misfit (a degenerate pair's
    // intervals stand: they are wide together)
    if (within === 'ci') expect(r.warnings.filter((w) => !/nearly degenerate/.test(w))).toEqual([]);
  }


  return {
    get store() {
      return ctx.store;
    },
    get pool() {
      return ctx.pool;
    },
    get services() {
      return ctx.services;
    },
    record,
    noisy,
    jitterSpikes,
    off,
    report,
    expectRecovered,
  };
}
