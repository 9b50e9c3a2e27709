/**
 * Twin calibration (docs/twin/calibration.md):
 *   twin_fit_s_alif   wall time of fitting four parameters (M.Ron, M.Roff, M.tau, Cm.value) of the memristive
 *                     adaptive LIF (MMS) to a 10 ms run of it at 200 kS/s (0.5 mA, 1 kHz square: the memristor
 *                     switches over the first cycles), from 30–50 % off, on a two-thread worker pool: the search
 *                     and the identifiability report. Target ≤ 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fitTwinToRun } from '../server/experiments/fit.ts';
import { startTwinOfRun } from '../server/experiments/pairing.ts';
import { buildServices } from '../server/services.ts';
import { RunStore } from '../server/store/run-store.ts';
import { withParams } from '../server/twin/calibration.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { WorkerPool } from '../server/workers/pool.ts';
import type { Metric } from './run.ts';

export default async function* (): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-fit-'));
  const store = RunStore.open(path.join(dir, 'runs.db'));
  const pool = new WorkerPool({ threads: 2 });
  const services = buildServices({ store, instruments: false, pool });
  try {
    const truth = builtInCircuit('adaptive-lif');
    const protocol = { kind: 'square', quantity: 'current', amplitude: 0.5e-3, frequencyHz: 1000, duty: 0.5, durationS: 0.01 };
    const first = await services.runs.start({ protocol, source: 'twin', sampleRate: 200_000, options: { circuit: truth } });
    await services.runs.waitForEnd(first.id);
    const { run } = await startTwinOfRun(store, services.runs, first.id, { circuit: truth });
    await services.runs.waitForEnd(run.id);
    const values = { 'M.Ron': 500, 'M.Roff': 1500, 'M.tau': 1e-4, 'Cm.value': 50e-9 };
    const start = { 'M.Ron': 700, 'M.Roff': 975, 'M.tau': 1.5e-4, 'Cm.value': 35e-9 };
    const t0 = performance.now();
    const r = await fitTwinToRun(store, pool, run.id, { circuit: withParams(truth, start), params: Object.keys(values), channels: ['v_mem'] });
    const seconds = (performance.now() - t0) / 1000;
    const worst = Math.max(...Object.entries(values).map(([k, v]) => Math.abs(r.params[k] / v - 1)));
    yield {
      metric: 'twin_fit_s_alif',
      value: Number(seconds.toFixed(2)),
      unit: 's',
      note: `target <= 60 s; ${r.evals} evaluations on 2 threads, residual ${r.residual.toExponential(2)}, worst parameter error ${(100 * worst).toFixed(3)} %`,
    };
  } finally {
    await services.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
