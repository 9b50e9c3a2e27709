/**
 * Analysis benches (issue 5):
 *   spike_detect_msps        robust-noise threshold detection on one int16 channel, MS/s (target >= 100)
 *   powerlaw_fit_ms_1e6      discrete fit with full xmin scan on 1e6 values, ms (target <= 1000)
 *   powerlaw_bootstrap_s_1e4 bootstrap p-value, 1000 reps on 1e4 values, all cores, s (target <= 30)
 *   distance_ms_100x1000     all pairwise SPIKE-distances of 100 trains x 1000 spikes, ms (target <= 2000)
 */
import type { Metric } from './run.ts';
import { Rng } from '../common/random.ts';
import { detectSpikes } from '../server/analysis/spikes.ts';
import { PowerLawSampler, fitPowerLaw } from '../server/analysis/powerlaw.ts';
import { powerLawPValueParallel } from '../server/analysis-io/bootstrap.ts';
import { WorkerPool } from '../server/workers/pool.ts';
import { distanceMatrix } from '../server/analysis/distances.ts';
import { availableParallelism, loadavg } from 'node:os';

/**
 * Best of `reps` runs of a single-threaded computation. `ms` is the process CPU time (user + system) of
 * the run: on a shared machine wall time measures the scheduler, CPU time the work done by the one core
 * the bench runs on. `wallMs` is reported alongside in the note.
 */
function best<T>(reps: number, f: () => T): { ms: number; wallMs: number; value: T } {
  let ms = Infinity;
  let wallMs = Infinity;
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    value = f();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    ms = Math.min(ms, (c.user + c.system) / 1000);
    wallMs = Math.min(wallMs, wall);
  }
  return { ms, wallMs, value };
}

const load = () => `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;

export default async function* (): AsyncIterable<Metric> {
  {
    // 2e7 samples of int16 noise (σ = 200 counts) with a spike every 1000 samples
    const n = 20_000_000;
    const rng = new Rng(1);
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.round(200 * rng.normal());
    for (let i = 500; i < n; i += 1000) x[i] = 8000;
    const r = best(5, () => detectSpikes(x, 1e6, { threshold: { mode: 'robust', k: 6 }, refractory: 0 }));
    if (r.value.times.length !== n / 1000) throw new Error(`expected ${n / 1000} spikes, got ${r.value.times.length}`);
    yield { metric: 'spike_detect_msps', value: +(n / r.ms / 1000).toFixed(1), unit: 'MS/s', note: `target >= 100; 2e7 int16 samples, robust k=6, best of 5, CPU time (wall ${(n / r.wallMs / 1000).toFixed(1)} MS/s); ${load()}` };
  }
  {
    const rng = new Rng(2);
    const s = new PowerLawSampler('discrete', 2.5, 1);
    const x = new Float64Array(1_000_000);
    for (let i = 0; i < x.length; i++) x[i] = s.sample(rng);
    const r = best(3, () => fitPowerLaw(x, { kind: 'discrete' }));
    yield { metric: 'powerlaw_fit_ms_1e6', value: +r.ms.toFixed(1), unit: 'ms', note: `target <= 1000; alpha=2.5 xmin=1 data, fitted alpha=${r.value.alpha.toFixed(4)} xmin=${r.value.xmin}; best of 3, CPU time (wall ${r.wallMs.toFixed(0)} ms); ${load()}` };
  }
  {
    const rng = new Rng(3);
    const s = new PowerLawSampler('discrete', 2.5, 1);
    const x = Array.from({ length: 10_000 }, () => s.sample(rng));
    const fit = fitPowerLaw(x, { kind: 'discrete' });
    const t0 = performance.now();
    const pool = new WorkerPool();
    const p = await powerLawPValueParallel(pool, x, fit, { kind: 'discrete' }, 1000, { seed: 1 }).finally(() => pool.close());
    const sec = (performance.now() - t0) / 1000;
    yield { metric: 'powerlaw_bootstrap_s_1e4', value: +sec.toFixed(2), unit: 's', note: `target <= 30; discrete, full xmin scan per replicate, p=${p.p_value}, ${p.threads} threads, wall time including worker start-up; ${load()}` };
  }
  {
    const rng = new Rng(4);
    const trains = Array.from({ length: 100 }, () => {
      const t = new Float64Array(1000);
      let s = 0;
      for (let i = 0; i < 1000; i++) t[i] = s += rng.exponential(10);
      return t;
    });
    const T = Math.max(...trains.map((t) => t[999])) + 0.1;
    const r = best(3, () => distanceMatrix(trains, 'spike', { tStart: 0, tEnd: T }));
    yield { metric: 'distance_ms_100x1000', value: +r.ms.toFixed(1), unit: 'ms', note: `target <= 2000; 4950 pairs, mean D_S=${r.value.mean.toFixed(4)}; best of 3, CPU time (wall ${r.wallMs.toFixed(0)} ms); ${load()}` };
  }
}
