/**
 * The STDP curve of stored runs of the `stdp` protocol: Δw per pairing block of each run (stdp-pairs.ts) and
 * the two-branch fit over all of them. Shared by `POST /api/experiments/stdp` and `spikeloop analyze stdp <runId...>`.
 */
import { AppError, runActive, runNotFound } from '../../common/errors.ts';
import type { StdpCurve } from '../../common/schemas/experiments.ts';
import { fitStdp } from '../analysis/stdp.ts';
import { toJson } from '../analysis-io/results.ts';
import { readRunSignal } from '../analysis-io/inputs.ts';
import { physical } from '../analysis-io/methods.ts';
import { validateProtocol } from '../protocols/index.ts';
import type { RunStore } from '../store/run-store.ts';
import { stdpPairsFromTrace, type StdpPoint } from './stdp-pairs.ts';
import { nonPlasticReason } from './stdp-circuit.ts';

export type { StdpCurve };

/** Reads each run's response channel (or `channel`), takes its Δw points and fits the curve. */
export function stdpCurveOfRuns(store: RunStore, runIds: number[], channel?: string, fitOpts: { tauMin?: number; tauMax?: number } = {}): StdpCurve {
  const pairs: StdpCurve['pairs'] = [];
  const warnings: string[] = [];
  for (const id of runIds) {
    const run = store.getRun(id);
    if (!run) throw runNotFound(id, '/runIds');
    if (run.status === 'running') throw runActive(id);
    let protocol;
    try {
      protocol = validateProtocol(run.protocol);
    } catch (err) {
      throw new AppError('VALIDATION', `/runIds: run ${id}: ${(err as Error).message}`, '/runIds');
    }
    if (protocol.kind !== 'stdp') throw new AppError('VALIDATION', `/runIds: run ${id} is a ${protocol.kind} run, not stdp`, '/runIds');
    const data = readRunSignal(store, id);
    const ch = channel ? data.channels.find((c) => c.name === channel) : data.channels.find((c) => c.role === 'response');
    if (!ch) throw new AppError('VALIDATION', `/channel: run ${id} has no ${channel ? `channel "${channel}"` : 'response channel'}`, '/channel');
    for (const pt of stdpPairsFromTrace(protocol, physical(ch), ch.fs)) pairs.push({ runId: id, ...pt });
    // a twin run's snapshot (twin-source.ts) holds the circuit it ran
    const circuit = run.source === 'twin' ? (run.twin as { circuit?: unknown } | null)?.circuit : undefined;
    const why = circuit !== undefined ? nonPlasticReason(circuit) : null;
    if (why) warnings.push(`run ${id}: ${why}; its STDP curve is not learning (use stdp-synapse, docs/experiments.md)`);
  }
  const fit = pairs.length >= 2 ? (toJson(fitStdp(pairs.map((p) => ({ dt: p.dt, dw: p.dw })), fitOpts)) as StdpCurve['fit']) : null;
  return { pairs, fit, warnings };
}

/** The curve as text: one line per pairing block (run, Δt in ms, Δw), the fit, the warnings. */
export function stdpCurveText(c: StdpCurve): string {
  const g = (x: unknown, scale = 1) => (typeof x === 'number' && Number.isFinite(x) ? (x * scale).toPrecision(3) : '-');
  const lines = ['run      Δt/ms        Δw', ...c.pairs.map((p) => `${String(p.runId).padEnd(6)} ${g(p.dt, 1e3).padStart(8)} ${g(p.dw).padStart(9)}`)];
  const f = c.fit;
  lines.push(
    f
      ? `fit: A+ = ${g(f.Aplus)}, τ+ = ${g(f.tau_plus, 1e3)} ms (R² ${g(f.potentiation.r2)}); A− = ${g(f.Aminus)}, τ− = ${g(f.tau_minus, 1e3)} ms (R² ${g(f.depression.r2)})`
      : 'fit: fewer than two pairs',
  );
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
