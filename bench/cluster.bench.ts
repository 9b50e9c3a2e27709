/**
 * sweep_runs_per_min_bullmq: the sweep of experiments.bench.ts (sweep_runs_per_min: 100-point DC voltage
 * ladder on er100, 50 ms at 10 kS/s per run) through `spikeloop serve --redis` and two local
 * `spikeloop worker` processes with half the cores each, against Debian's redis-server on a free loopback
 * port. Timed from the POST of the sweep to its end, runs stored by the server. Target: within 10 % of
 * sweep_runs_per_min.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Metric } from './run.ts';
import { Redis, freePort, runSweep, startServer, startWorker, stopProcess } from '../test/cluster-helpers.ts';

const POINTS = 100;
const sweep = (values: unknown) => ({
  mode: 'twin',
  circuit: 'er100',
  sampleRate: 10_000,
  sweep: { kind: 'sweep', label: 'voltage ladder', base: { kind: 'dc', quantity: 'voltage', durationS: 0.05 }, parameters: [{ field: 'level', ...(values as object) }] },
});

export default async function* clusterBench(): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-cluster-'));
  const redis = new Redis(await freePort(), dir);
  const procs: ChildProcess[] = [];
  try {
    await redis.start();
    const server = await startServer(path.join(dir, 'runs.db'), redis.url);
    procs.push(server.proc);
    const each = Math.max(1, Math.floor(os.availableParallelism() / 2));
    procs.push(...(await Promise.all([startWorker(redis.url, server.base, 'bench-1', each), startWorker(redis.url, server.base, 'bench-2', each)])));
    await runSweep(server.base, sweep({ values: Array(2 * each).fill(1) })); // warm the workers' threads
    const t0 = performance.now();
    const done = await runSweep(server.base, sweep({ start: 0.05, stop: 5, steps: POINTS }));
    const minutes = (performance.now() - t0) / 60_000;
    const ok = done.points.filter((p) => p.status === 'completed').length;
    if (ok !== POINTS) throw new Error(`only ${ok} of ${POINTS} sweep points completed: ${done.reason ?? ''}`);
    yield {
      metric: 'sweep_runs_per_min_bullmq',
      value: +(ok / minutes).toFixed(1),
      unit: 'runs/min',
      note: `${POINTS}-point DC voltage ladder 0.05..5 V, 50 ms at 10 kS/s per run, er100; serve --redis + 2 spikeloop worker processes x ${each} jobs on one machine (redis-server on loopback), runs and spike-stats stored by the server; load average ${os.loadavg()[0].toFixed(1)}; compare sweep_runs_per_min (thread pool), target within 10 %`,
    };
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p)));
    await redis.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
