/**
 * Coverage of the spike-time profile intervals (docs/twin/calibration.md, "Coverage"): the fraction of noisy runs
 * whose reported 95 % interval holds the true value. The LIF under a 30 µA square wave (Cm 100 nF, Rm 100 kΩ,
 * 0.2 s, 20 kS/s) is recorded once; each seed gives it spike events with 0.2 ms Gaussian jitter on the 50 µs
 * sample tick (test/fit-runs.ts jitterSpikes), and the spikes objective is fitted from 30–50 % off, as in
 * test/twin-fit-recovery.test.ts, on a two-thread worker pool.
 *   twin_fit_interval_coverage        intervals that hold the truth / intervals reported, both parameters
 *   twin_fit_interval_coverage_cm     the same for Cm.value
 *   twin_fit_interval_coverage_rm     the same for Rm.value
 * The note gives the Wilson 95 % interval of each proportion and how many intervals were withheld. Opt-in (20–45 s a
 * seed): `npm run bench -- coverage`; COVERAGE_SEEDS (default 40) and COVERAGE_FIRST_SEED (1) choose the
 * seeds. One line per seed goes to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fitTwinToRun } from '../server/experiments/fit.ts';
import { buildServices } from '../server/services.ts';
import { RunStore } from '../server/store/run-store.ts';
import { withParams } from '../server/twin/calibration.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { WorkerPool } from '../server/workers/pool.ts';
import { fitRuns } from '../test/fit-runs.ts';
import type { Metric } from './run.ts';

/** Wilson score interval of k successes in n at 95 % (Wilson, J. Am. Stat. Assoc. 22, 209 (1927)). */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const mid = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = ((z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)));
  return [mid - half, mid + half];
}

export default async function* (): AsyncIterable<Metric> {
  const seeds = Number(process.env.COVERAGE_SEEDS ?? 40);
  const first = Number(process.env.COVERAGE_FIRST_SEED ?? 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-coverage-'));
  const store = RunStore.open(path.join(dir, 'runs.db'));
  const pool = new WorkerPool({ threads: 2 });
  const services = buildServices({ store, instruments: false, pool });
  const { record, noisy, jitterSpikes } = fitRuns({ dir, store, services });
  try {
    const lif = builtInCircuit('lif');
    const protocol = { kind: 'square', quantity: 'current', amplitude: 30e-6, frequencyHz: 20, duty: 0.5, durationS: 0.2 };
    const truth: Record<string, number> = { 'Cm.value': 100e-9, 'Rm.value': 100e3 };
    const start = { 'Cm.value': 145e-9, 'Rm.value': 65e3 };
    const measured = await record(lif, protocol, 20_000);
    const count = Object.fromEntries(Object.keys(truth).map((k) => [k, { held: 0, given: 0, withheld: 0 }]));
    let seconds = 0;
    for (let seed = first; seed < first + seeds; seed++) {
      const run = await noisy(measured, 0.01, seed);
      jitterSpikes(measured, run, 2e-4, seed);
      const t0 = performance.now();
      const r = await fitTwinToRun(store, pool, run, { circuit: withParams(lif, start), params: Object.keys(truth), objective: 'spikes' });
      seconds += (performance.now() - t0) / 1000;
      const line: Record<string, unknown> = { seed };
      for (const [k, v] of Object.entries(truth)) {
        const ci = r.ci[k];
        const c = count[k];
        if (!ci) c.withheld++;
        else {
          c.given++;
          if (ci[0] <= v && v <= ci[1]) c.held++;
        }
        line[k] = { fit: r.params[k], ci, held: ci ? ci[0] <= v && v <= ci[1] : null };
      }
      line.warnings = r.warnings.length;
      console.error(JSON.stringify(line));
    }
    const ratio = (held: number, given: number) => {
      const [lo, hi] = wilson(held, given);
      return `${held}/${given} (Wilson 95 % ${(100 * lo).toFixed(1)}–${(100 * hi).toFixed(1)} %)`;
    };
    const setup = `${seeds} seeds from ${first}, LIF 30 µA square, spikes with 0.2 ms jitter on the 50 µs tick, fitted from 30–50 % off; ${(seconds / seeds).toFixed(1)} s a fit`;
    const all = Object.values(count).reduce((a, c) => ({ held: a.held + c.held, given: a.given + c.given, withheld: a.withheld + c.withheld }), { held: 0, given: 0, withheld: 0 });
    yield { metric: 'twin_fit_interval_coverage', value: Number((all.held / all.given).toFixed(4)), unit: 'fraction', note: `nominal 0.95; ${ratio(all.held, all.given)}, ${all.withheld} withheld; ${setup}` };
    for (const [k, c] of Object.entries(count))
      yield { metric: `twin_fit_interval_coverage_${k.slice(0, 2).toLowerCase()}`, value: Number((c.held / c.given).toFixed(4)), unit: 'fraction', note: `nominal 0.95; ${k} ${ratio(c.held, c.given)}, ${c.withheld} withheld; ${setup}` };
  } finally {
    await services.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
