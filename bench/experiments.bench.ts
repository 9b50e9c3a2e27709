/**
 * Experiments benches.
 *   sweep_runs_per_min: a 100-point twin voltage ladder (DC levels 0.05..5 V, 50 ms each at 10 kS/s) on an
 *   n = 100 memristive network (server/twin/circuits/er100.json), run as a twin-mode sweep on a worker pool
 *   using every core, each point stored as a run with its analyses. Runs stored per minute of wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Metric } from './run.ts';
import { RunStore } from '../server/store/run-store.ts';
import { SourceRegistry } from '../server/sources/registry.ts';
import { register as registerSimulated } from '../server/sources/simulated-bench.ts';
import { register as registerTwin } from '../server/sources/twin-source.ts';
import { RunManager } from '../server/runs/run-manager.ts';
import { SweepRunner } from '../server/experiments/sweep-runner.ts';
import { poolSimulate } from '../server/experiments/twin-task.ts';
import { WorkerPool } from '../server/workers/pool.ts';

/** The project's n = 100 network: server/twin/circuits/er100.json (Erdős–Rényi, threshold junctions). */
const N100_NETWORK = 'er100';

export default async function* (): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-exp-'));
  const store = RunStore.open(path.join(dir, 'runs.db'));
  const sources = new SourceRegistry();
  registerSimulated(sources);
  registerTwin(sources);
  const manager = new RunManager(store, sources);
  const cores = os.availableParallelism();
  const pool = new WorkerPool({ threads: cores });
  try {
    const sweeps = new SweepRunner(store, manager, { simulate: poolSimulate(pool) });
    const points = 100;
    // warm the workers (tsx load, JIT) outside the timing
    const warm = sweeps.start({
      mode: 'twin',
      circuit: N100_NETWORK,
      sampleRate: 10_000,
      sweep: { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage', durationS: 0.005 }, parameters: [{ field: 'level', values: Array(cores).fill(1) }] },
    });
    await sweeps.wait(warm.id);
    const t0 = performance.now();
    const s = sweeps.start({
      mode: 'twin',
      circuit: N100_NETWORK,
      sampleRate: 10_000,
      sweep: {
        kind: 'sweep',
        label: 'voltage ladder',
        base: { kind: 'dc', quantity: 'voltage', durationS: 0.05 },
        parameters: [{ field: 'level', start: 0.05, stop: 5, steps: points }],
      },
    });
    const done = await sweeps.wait(s.id);
    const minutes = (performance.now() - t0) / 60_000;
    const ok = done.points.filter((p) => p.status === 'completed').length;
    if (ok !== points) throw new Error(`only ${ok} of ${points} sweep points completed: ${done.reason ?? ''}`);
    yield {
      metric: 'sweep_runs_per_min',
      value: +(ok / minutes).toFixed(1),
      unit: 'runs/min',
      note: `${points}-point DC voltage ladder 0.05..5 V, 50 ms at 10 kS/s per run, er100 (Erdős–Rényi n=100 p=0.3, threshold junctions), ${cores} worker threads, runs and spike-stats stored`,
    };
  } finally {
    await pool.close();
    await manager.shutdown();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
