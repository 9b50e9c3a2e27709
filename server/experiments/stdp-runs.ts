/**
 * The STDP curve of stored runs of the `stdp` protocol: the registry's `stdp` analysis (analysis-io/methods.ts
 * stdpMethod: Δw per pairing block of each run and the two-branch fit over all of them) on the runs read from
 * the store. Shared by `POST /api/experiments/stdp` and `spikeloop analyze stdp <runId...>`.
 */
import { runActive, runNotFound } from '../../common/errors.ts';
import type { StdpCurve } from '../../common/schemas/experiments.ts';
import { toJson } from '../analysis-io/json.ts';
import { InputError, readRunSignal } from '../analysis-io/inputs.ts';
import { stdpMethod } from '../analysis-io/methods.ts';
import type { RunStore } from '../store/run-store.ts';

export type { StdpCurve };

/**
 * Reads each run's response channel (or `channel`), takes its Δw points and fits the curve: the `stdp`
 * analysis's result as stored (toJson). `field` names the run ids in errors: the API's `/runIds`, the CLI's `<inputs...>`.
 */
export function stdpCurveOfRuns(store: RunStore, runIds: number[], channel?: string, fitOpts: { tauMin?: number; tauMax?: number } = {}, field = '/runIds'): StdpCurve {
  for (const id of runIds) {
    const run = store.getRun(id);
    if (!run) throw runNotFound(id, field);
    if (run.status === 'running') throw runActive(id);
  }
  try {
    return toJson(stdpMethod(runIds.map((id) => readRunSignal(store, id)), { channel, tau_min: fitOpts.tauMin, tau_max: fitOpts.tauMax }));
  } catch (err) {
    // which run is wrong is a fault of the request's run ids (a missing channel keeps its own field)
    if (err instanceof InputError && err.field === undefined) throw new InputError(`${field}: ${err.message}`, field);
    throw err;
  }
}

/** The curve as text: one line per pairing block (run, Δt in ms, Δw), the fit, the warnings. */
export function stdpCurveText(c: StdpCurve): string {
  const g = (x: unknown, scale = 1) => (typeof x === 'number' && Number.isFinite(x) ? (x * scale).toPrecision(3) : '-');
  const lines = ['run      Δt/ms        Δw', ...c.pairs.map((p) => `${String(p.run_id ?? '-').padEnd(6)} ${g(p.dt_s, 1e3).padStart(8)} ${g(p.dw).padStart(9)}`)];
  const f = c.fit;
  lines.push(
    f
      ? `fit: A+ = ${g(f.Aplus)}, τ+ = ${g(f.tau_plus_s, 1e3)} ms (R² ${g(f.potentiation.r2)}); A− = ${g(f.Aminus)}, τ− = ${g(f.tau_minus_s, 1e3)} ms (R² ${g(f.depression.r2)})`
      : 'fit: fewer than two pairs',
  );
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
