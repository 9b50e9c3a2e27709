/**
 * Shared by the twin calibration tests: a temp store with the services on a two-thread worker pool, the runs of
 * ./fit-runs.ts on it, and the recovery table printed at the end (the issue's closing note).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { FitResult } from '../server/experiments/fit.ts';
import { buildServices, type Services } from '../server/services.ts';
import { RunStore } from '../server/store/run-store.ts';
import { WorkerPool } from '../server/workers/pool.ts';
import { fitRuns } from './fit-runs.ts';

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

  // fitRuns reads ctx when called, after beforeAll has filled it
  const { record, noisy, jitterSpikes } = fitRuns(ctx);

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
