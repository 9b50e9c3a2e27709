/**
 * Twin calibration (docs/twin/calibration.md): fit free parameters of a circuit so that the twin, fed run X's
 * own recorded stimulus (./stimulus.ts, the one reader, replayed exactly as a pairing replays it), reproduces
 * X's measured response; then store the fitted circuit by name with its provenance and pair X with it
 * (./pairing.ts), so Compare uses the calibrated twin.
 *
 * The search is CMA-ES (server/twin/optimize.ts) in the unit box of the parameters' bounds; each population's
 * twin evaluations run in parallel on the one worker pool (task `fit`, ./twin-task.ts). The identifiability
 * report (server/twin/calibration.ts) evaluates the Hessian stencil and each parameter at its bounds, also in
 * parallel. A fit of a run with spike events (spikes objective, or the waveform of a spiking run, whose resets
 * are kinks) takes its intervals from the spike times instead (spikeTimeIntervals: polish, multi-start check,
 * profile). An AbortSignal cancels it all (queued tasks dropped, running threads stopped).
 */
import { AppError } from '../../common/errors.ts';
import type { FitJob } from '../../common/schemas/twin.ts';
import type { RunManager } from '../runs/run-manager.ts';
import type { RunStore } from '../store/run-store.ts';
import type { TaskRunner } from '../workers/pool.ts';
import { readRunSignal } from '../analysis-io/inputs.ts';
import { expandCircuit, type Method, type Netlist } from '../twin/index.ts';
import {
  defaultFreeParams,
  freeParams,
  fromUnit,
  identifiability,
  identifiabilityPoints,
  misfitWarning,
  paramValue,
  toUnit,
  withParams,
  type BoundSpec,
  type FitTarget,
  type FreeParam,
  type ObjectiveKind,
  type ObjectiveSpec,
  type ObjectiveValue,
  type ParamReport,
} from '../twin/calibration.ts';
import { minimize } from '../twin/optimize.ts';
import { multiStart, multiStartCheck, profileIntervals, t975, type ProfileInterval } from '../twin/profile.ts';
import { DEFAULT_PAIR_ANALYSES, runPairAnalyses } from './auto-pair.ts';
import { pairWithTwin, type TwinStimulus } from './pairing.ts';
import { poolSimulate } from './twin-task.ts';
import { poolCompute, readsFile } from '../workers/analyses.ts';
import { readStimulus } from './stimulus.ts';

export interface FitOptions {
  /** The circuit to calibrate (a document; its values are the start of the search). */
  circuit: unknown;
  /** Free parameters `element.parameter` (default: calibration.ts defaultFreeParams). */
  params?: string[];
  /** Bounds per parameter (default: a factor of 4 either side of the start). */
  bounds?: Record<string, BoundSpec>;
  objective?: ObjectiveKind;
  /** Twin outputs compared (default: every voltage and current output the run also recorded). */
  channels?: string[];
  /** van Rossum τ of the spikes objective, s. */
  tau?: number;
  seed?: number;
  /** Objective evaluations of the search at most (default 1500). */
  maxEvals?: number;
  /** IPOP restarts (default 0). */
  restarts?: number;
  /** Population of the first CMA-ES run (default: optimize.ts). */
  popSize?: number;
  /** The twin's method and internal step (default: the circuit's method, the run's sample period). */
  twin?: { method?: Method; dt?: number };
  /** What the fit compares, read from the run already (checkFit); read when absent. */
  prepared?: PreparedFit;
  /**
   * The circuit's twin work per step (devices + factor nonzeros, from a pool thread): given, a fit that could
   * cost more than MAX_FIT_WORK in all is refused before it starts (the API's fits; the CLI's are the user's own).
   */
  workPerStep?: number;
  signal?: AbortSignal;
  onProgress?: (p: FitProgress) => void;
}

/**
 * The most twin work a fit started over the API may need: its evaluations at most (fitEvaluationsAtMost) × the
 * run's samples × the circuit's work per step, in the units of MAX_NETWORK_WORK (twin/circuit.ts). 2e10 units
 * are 0.5–2 hours of one pool thread for a network (80–390 ns a unit, docs/security.md) and more for a circuit
 * without devices (a LIF step, one unit, takes 2.6–6 µs). Without it a fit's cost was bounded only by each
 * evaluation's MAX_NETWORK_WORK times up to about 50 × maxEvals evaluations: days of the pool.
 */
export const MAX_FIT_WORK = 2e10;

/**
 * The most objective evaluations a fit can make (./fit.ts fit): the start, the search's stages (each at least
 * 20), the spike-time intervals when it takes them (`spikeTimes`: the spikes objective, or a run with spike
 * events; polish, then up to ROUNDS rounds of the multi-start check, the profile walks (three passes of their
 * budget at most, twin/profile.ts) and a polish), and the identifiability stencil.
 */
export function fitEvaluationsAtMost(maxEvals: number, nFree: number, spikeTimes: boolean): number {
  const search = 1 + [0.35, 0.3, 0.35].reduce((n, share) => n + Math.max(20, Math.round(share * maxEvals)), 0);
  const polish = 100 * nFree;
  const intervals = spikeTimes ? 2 + polish + ROUNDS * (STARTS * 60 * nFree + 3 * 4 * maxEvals + polish) : 0;
  return search + intervals + identifiabilityPoints(new Array<number>(nFree).fill(0.5)).length;
}

export interface FitProgress {
  phase: 'search' | 'identifiability';
  /** Evaluations done and planned (the search's budget plus the identifiability points). */
  evals: number;
  total: number;
  /** Best residual so far. */
  residual: number;
}

export interface FitResult {
  runId: number;
  objective: ObjectiveKind;
  channels: string[];
  /** Fitted values by parameter name. */
  params: Record<string, number>;
  /** 95 % interval by parameter name, null when not determined. */
  ci: Record<string, [number, number] | null>;
  /** The objective's residual at the fit (√ of the minimised value: an NRMSE for waveform and iv). */
  residual: number;
  start: Record<string, number>;
  startResidual: number;
  bounds: Record<string, { min: number; max: number; log: boolean }>;
  report: ParamReport[];
  warnings: string[];
  evals: number;
  generations: number;
  stop: string;
  seed: number;
  seconds: number;
  /** The fitted circuit document. */
  fitted: unknown;
}

/** The run's response on the twin's output names: the same name (a twin run), or the circuit's DAQ pin map (a<i> ← daq.pins[i]). */
function matchChannels(circuit: unknown, net: Netlist, names: string[]): Map<string, string> {
  const pins = ((circuit as { daq?: { pins?: unknown } }).daq?.pins ?? []) as unknown[];
  const out = new Map<string, string>();
  for (const p of net.outputs) {
    if (names.includes(p.name)) out.set(p.name, p.name);
    else {
      const i = pins.indexOf(p.name);
      if (i >= 0 && names.includes(`a${i}`)) out.set(p.name, `a${i}`);
    }
  }
  return out;
}

/** What a fit compares, read from its run (fitTarget). */
export interface PreparedFit {
  target: FitTarget;
  stimulus: TwinStimulus;
  spec: Omit<ObjectiveSpec, 'tau'>;
}

/** What the objective compares: the run's stimulus, response channels and spikes, on the twin's names. */
export function fitTarget(store: RunStore, runId: number, circuit: unknown, kind: ObjectiveKind, channels?: string[]): PreparedFit {
  const run = store.getRun(runId);
  if (!run) throw new AppError('RUN_NOT_FOUND', `run ${runId} does not exist`, '/runId');
  if (run.status === 'running') throw new AppError('RUN_ACTIVE', `run ${runId} is still running; fit it once it has ended`, '/runId');
  const stim = readStimulus(store, runId);
  const net = expandCircuit(circuit);
  const signal = readRunSignal(store, runId);
  const responses = signal.channels.filter((c) => c.role === 'response');
  const match = matchChannels(circuit, net, responses.map((c) => c.name));
  const stimElements = new Set(net.elements.filter((e) => (e.type === 'V' || e.type === 'I') && e.stimulus).map((e) => e.name));
  // what an instrument measures: voltages and currents, not a device's internal state nor the drive itself
  const measurable = net.outputs.filter((p) => p.kind !== 'x' && !(p.kind === 'i' && p.element && stimElements.has(p.element)) && match.has(p.name));
  let chosen: string[];
  if (channels?.length) {
    for (const c of channels)
      if (!match.has(c))
        throw new AppError('VALIDATION', `channel ${c}: the twin output must be one the run recorded (matched: ${[...match.keys()].join(', ') || 'none'})`, '/channels');
    chosen = channels;
  } else if (kind === 'iv') {
    // the response of the I–V loop: the current under a voltage drive, the voltage under a current drive
    const want = stim.quantity === 'voltage' ? 'i' : 'v';
    chosen = measurable.filter((p) => p.kind === want).slice(0, 1).map((p) => p.name);
  } else chosen = kind === 'waveform' ? measurable.map((p) => p.name) : [];
  if (kind !== 'spikes' && chosen.length === 0)
    throw new AppError('VALIDATION', `run ${runId} recorded none of the twin's outputs (${net.outputs.map((p) => p.name).join(', ')}; run channels ${responses.map((c) => c.name).join(', ')})`, '/channels');
  const n = Math.min(stim.samples.length, ...chosen.map((c) => signal.channels.find((x) => x.name === match.get(c))!.samples.length));
  const physical: Record<string, Float64Array> = {};
  for (const c of chosen) {
    const ch = signal.channels.find((x) => x.name === match.get(c))!;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = ch.samples[i] * ch.scale + ch.offset;
    physical[c] = x;
  }
  const fs = stim.sampleRate;
  const spikes = Float64Array.from(store.listEvents(runId, { kind: 'spike', limit: 1_000_000 }).map((e) => e.time_s ?? e.index / fs)).sort();
  if (kind === 'spikes' && spikes.length === 0) throw new AppError('VALIDATION', `run ${runId} has no spike events: fit its waveform (objective waveform) instead`, '/objective');
  return {
    target: { sampleRate: fs, samples: n, channels: physical, spikes, stimulus: stim.samples.subarray(0, n) },
    stimulus: { samples: stim.samples, sampleRate: fs, quantity: stim.quantity, ...(stim.hold ? { hold: true } : {}) },
    spec: { kind, channels: chosen },
  };
}

/**
 * fitTarget on a thread of the pool when it can read the run from the database file (the run's samples and
 * spikes read and scaled: 0.1-0.2 s of the event loop for a run of 1.2e6 samples), else here.
 */
function prepareFit(store: RunStore, pool: TaskRunner, runId: number, opts: FitOptions): Promise<PreparedFit> {
  const kind = opts.objective ?? 'waveform';
  return readsFile(pool, store)
    ? pool.run('fitTarget', { dbFile: store.file, runId, circuit: opts.circuit, kind, ...(opts.channels ? { channels: opts.channels } : {}) })
    : Promise.resolve().then(() => fitTarget(store, runId, opts.circuit, kind, opts.channels));
}

/**
 * Refuses what a fit would refuse (parameters, bounds, channels, the run, and with `workPerStep` its total
 * work) before it starts: for callers that answer at once. What it read is the fit's `prepared`.
 */
export async function checkFit(store: RunStore, pool: TaskRunner, runId: number, opts: FitOptions): Promise<PreparedFit> {
  const free = freeParams(opts.circuit, opts.params?.length ? opts.params : defaultFreeParams(opts.circuit), opts.bounds ?? {});
  const kind = opts.objective ?? 'waveform';
  const prepared = await prepareFit(store, pool, runId, opts);
  const { target } = prepared;
  if (opts.workPerStep === undefined) return prepared;
  const evals = fitEvaluationsAtMost(opts.maxEvals ?? 1500, free.length, kind === 'spikes' || target.spikes.length > 0);
  const perEval = opts.workPerStep * target.samples;
  if (evals * perEval > MAX_FIT_WORK) {
    throw new AppError(
      'TWIN_TOO_COSTLY',
      `this fit could take up to ${evals} twin evaluations (maxEvals ${opts.maxEvals ?? 1500}, ${free.length} parameter(s)${kind === 'spikes' || target.spikes.length > 0 ? ', spike-time intervals' : ''}) of ${opts.workPerStep} units of work per step (devices + factor nonzeros) × ${target.samples} samples each = ${(evals * perEval).toExponential(2)}; at most MAX_FIT_WORK = ${MAX_FIT_WORK.toExponential(0)} (hours of the worker pool): lower maxEvals, fit fewer parameters, fit a shorter run, or use a smaller circuit`,
      '/maxEvals',
    );
  }
  return prepared;
}

/** Fits the circuit's free parameters to run `runId` (see the file comment); an aborted signal rejects with CANCELLED. */
export async function fitTwinToRun(store: RunStore, pool: TaskRunner, runId: number, opts: FitOptions): Promise<FitResult> {
  try {
    return await fit(store, pool, runId, opts);
  } catch (err) {
    if (opts.signal?.aborted && !(err instanceof AppError && err.code === 'CANCELLED')) {
      const why = opts.signal.reason instanceof Error ? opts.signal.reason.message : String(opts.signal.reason ?? 'aborted');
      throw new AppError('CANCELLED', `the fit was cancelled: ${why}`);
    }
    throw err;
  }
}

async function fit(store: RunStore, pool: TaskRunner, runId: number, opts: FitOptions): Promise<FitResult> {
  const t0 = Date.now();
  const kind = opts.objective ?? 'waveform';
  const names = opts.params?.length ? opts.params : defaultFreeParams(opts.circuit);
  const free = freeParams(opts.circuit, names, opts.bounds ?? {});
  const { target, stimulus, spec: base } = opts.prepared ?? (await prepareFit(store, pool, runId, opts));
  const spec: ObjectiveSpec = { ...base, ...(opts.tau !== undefined ? { tau: opts.tau } : {}) };
  const options = { ...(opts.twin?.method ? { method: opts.twin.method } : {}), ...(opts.twin?.dt !== undefined ? { dt: opts.twin.dt } : {}) };
  const seed = opts.seed ?? 1;
  const maxEvals = opts.maxEvals ?? 1500;
  const nStencil = identifiabilityPoints(free.map(() => 0.5)).length;
  const total = maxEvals + nStencil;
  let done = 0;
  let bestResidual = Infinity;
  const circuitAt = (u: readonly number[]) => withParams(opts.circuit, Object.fromEntries(free.map((p, i) => [p.name, fromUnit(p, u[i])])));
  const evaluate = async (xs: number[][], objective = spec): Promise<ObjectiveValue[]> =>
    Promise.all(
      xs.map(async (u) => {
        const v = await pool.run('fit', { circuit: circuitAt(u), stimulus, target, objective, options }, { signal: opts.signal });
        done++;
        return v;
      }),
    );

  const startValues = Object.fromEntries(free.map((p) => [p.name, paramValue(opts.circuit, p.name)]));
  const x0 = free.map((p) => toUnit(p, startValues[p.name]));
  const [start] = await evaluate([x0]);
  if (!Number.isFinite(start.value)) throw new AppError('TWIN_BAD_CIRCUIT', 'the twin cannot simulate the circuit at its start values on this run (see `spikeloop twin run`)', '/circuit');
  bestResidual = start.residual;
  opts.onProgress?.({ phase: 'search', evals: done, total, residual: bestResidual });
  // A spiking run (spikes measured, or from the twin at its start) is searched coarse to fine: wide smoothing
  // first (its objective has a minimum at every alignment of the two trains), then the objective itself, each
  // stage from the last one's best point. Anything else in one stage.
  const T = target.samples / target.sampleRate;
  const spiking = target.spikes.length > 0 || start.spikes > 0;
  const stages = spiking
    ? [
        { smooth: T / 20, share: 0.35, sigma0: 0.25 },
        { smooth: T / 200, share: 0.3, sigma0: 0.1 },
        { smooth: 0, share: 0.35, sigma0: 0.05 },
      ]
    : [{ smooth: 0, share: 1, sigma0: 0.25 }];
  let xBest = x0;
  let found = { f: start.value, generations: 0, stop: 'maxEvals' };
  for (const [k, st] of stages.entries()) {
    const stageSpec: ObjectiveSpec = { ...spec, ...(st.smooth > 0 ? { smooth: st.smooth } : {}) };
    const last = k === stages.length - 1;
    const r = await minimize(async (xs) => (await evaluate(xs, stageSpec)).map((v) => v.value), xBest, {
      seed: seed + k,
      maxEvals: Math.max(20, Math.round(st.share * maxEvals)),
      restarts: last ? (opts.restarts ?? 0) : 0,
      sigma0: st.sigma0,
      // the last stage converges below the intervals it reports (1e-6 of a search range)
      ...(last ? { tolX: 1e-6 } : {}),
      ...(opts.popSize !== undefined ? { popSize: opts.popSize } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (p) => {
        if (last) bestResidual = Math.min(bestResidual, Math.sqrt(p.best));
        opts.onProgress?.({ phase: 'search', evals: done, total, residual: bestResidual });
      },
    });
    xBest = r.x;
    found = { f: r.f, generations: found.generations + r.generations, stop: r.stop };
  }
  let x = found.f < start.value ? xBest : x0;
  // the spike-time sum of squares comes with the spikes objective's evaluation, whatever the fit's objective
  const spikeSpec: ObjectiveSpec = { kind: 'spikes', channels: [] };
  const sse = async (xs: number[][]) => (await evaluate(xs, spikeSpec)).map((v) => v.sse ?? Infinity);
  const signal = opts.signal ? { signal: opts.signal } : {};
  const notes: string[] = [];
  let profiled: (ProfileInterval | null)[] | undefined;
  // the spike times' profile: the spikes objective's intervals, and those of a waveform fit of a spiking run,
  // whose minimum is a kink at the resets (unless that fit missed the run: its warning says so, no interval)
  const [atSearch] = kind === 'waveform' && target.spikes.length > 0 ? await evaluate([x]) : [];
  if (kind === 'spikes' || (atSearch && !misfitWarning(spec, target, atSearch))) {
    opts.onProgress?.({ phase: 'identifiability', evals: done, total: Math.max(total, done), residual: bestResidual });
    const st = await spikeTimeIntervals(sse, x, free, target, seed, maxEvals, signal);
    notes.push(...st.warnings);
    profiled = st.intervals;
    // the spikes objective reports the spike-time estimate; a waveform fit keeps its own, with these intervals
    if (kind === 'spikes') x = st.x;
  } else if (kind === 'waveform' && spiking && target.spikes.length === 0)
    notes.push(`run ${runId} has no spike events, so its spike times cannot give the intervals the resets deny the waveform (a twin or DAQ run records them, an imported recording does not)`);
  const values = await evaluate(identifiabilityPoints(x));
  const atFit = values[0];
  const id = identifiability(free, x, values.map((v) => v.value), atFit.n, profiled);
  const misfit = misfitWarning(spec, target, atFit);
  if (misfit) id.warnings.unshift(misfit);
  id.warnings.push(...notes);
  if (kind === 'waveform' && profiled)
    for (const p of id.params)
      if (p.ci && (p.value < p.ci[0] || p.value > p.ci[1]))
        id.warnings.push(`${p.name}: the waveform's estimate ${p.value.toPrecision(4)} lies outside the spike times' interval [${p.ci[0].toPrecision(4)}, ${p.ci[1].toPrecision(4)}]: the waveform and the spike times disagree on it`);
  opts.onProgress?.({ phase: 'identifiability', evals: done, total: done, residual: atFit.residual });
  const params = Object.fromEntries(id.params.map((p) => [p.name, p.value]));
  return {
    runId,
    objective: kind,
    channels: spec.channels,
    params,
    ci: Object.fromEntries(id.params.map((p) => [p.name, p.ci])),
    residual: atFit.residual,
    start: startValues,
    startResidual: start.residual,
    bounds: Object.fromEntries(free.map((p) => [p.name, { min: p.min, max: p.max, log: p.log }])),
    report: id.params,
    warnings: id.warnings,
    evals: done,
    generations: found.generations,
    stop: found.stop,
    seed,
    seconds: (Date.now() - t0) / 1000,
    fitted: withParams(opts.circuit, params),
  };
}

/** Local spike-time fits of the multi-start check, and the spread of their starts (unit box). */
const STARTS = 8;
const SPREAD = 0.15;
/** Rounds of the multi-start check: a clearly lower minimum moves the fit there and the check runs again around it. */
const ROUNDS = 4;
const ratio = (r: number) => (r >= 10 ? String(Math.round(r)) : r.toPrecision(2));
/** How much lower `to` is than `from`: a factor ("102×"), or a percentage when the two are close ("3.2 %"). */
const lowerBy = (from: number, to: number) => {
  const r = from / Math.max(to, Number.MIN_VALUE);
  return r >= 1.5 ? `${ratio(r)}×` : `${(100 * (1 - to / from)).toPrecision(2)} %`;
};
/** Distance in the unit box beyond which two minima count as distinct parameter sets (1 % of a search range). */
const APART = 0.01;

type Minimum = { x: number[]; f: number };

/**
 * The spike-time regression from the search's optimum x (docs/twin/calibration.md, "Spike-timing fits"):
 * polish (least squares of the spike times), the multi-start check (./profile.ts multiStart: a local fit from
 * each of STARTS points around the polished one), then the profile intervals. A minimum clearly lower than the
 * fit (by more than the threshold, at distinct parameters), from a start or a profile walk, moves the fit there
 * (polished again) and the check runs again around it, up to ROUNDS times (the multi-start strategy of Raue et
 * al. 2013 for the global optimum); a moved fit must also be reached again by a start around it. The fit that
 * survives a round gets its profile intervals, widened to hold
 * every local minimum as good as the best, with a warning naming the parameters whose equally good minima lie
 * apart. Returns the spike-time estimate, its intervals (none without residual degrees of freedom, nor while a
 * lower minimum is still found) and the warnings.
 */
async function spikeTimeIntervals(
  sse: (xs: number[][]) => Promise<number[]>,
  x: number[],
  free: readonly FreeParam[],
  target: FitTarget,
  seed: number,
  maxEvals: number,
  signal: { signal?: AbortSignal },
): Promise<{ x: number[]; intervals?: (ProfileInterval | null)[]; warnings: string[] }> {
  // seeds: the search's three stages took seed … seed + 2
  const polish = async (from: Minimum, k: number): Promise<Minimum> => {
    const r = await minimize(sse, from.x, { seed: seed + 3 + 1000 * k, sigma0: 0.03, tolX: 1e-7, restarts: 1, maxEvals: 100 * free.length, ...signal });
    return r.f < from.f ? { x: r.x, f: r.f } : from;
  };
  const [atX] = await sse([x]);
  let best = await polish({ x, f: atX }, 0);
  const M = target.spikes.length;
  const dof = M - free.length;
  if (dof <= 0) return { x: best.x, warnings: [`${M} measured spikes for ${free.length} parameters leave no residual degrees of freedom: no interval from the spike times`] };
  // Δ of the sum of squares that bounds a 95 % interval with the jitter variance estimated from the fit
  // (F(1, ν) = t²); the floor, a millionth of a sample per spike, for noise-free data
  const threshold = (f: number) => Math.max((t975(dof) ** 2 * f) / dof, M * (1e-6 / target.sampleRate) ** 2);
  const range = (i: number, us: number[]) => `${free[i].name} ${us.map((u) => fromUnit(free[i], u).toPrecision(4)).join(' → ')}`;
  // significantly lower (by more than Δ) at distinct parameters: the fit had stopped in a local minimum
  const lower = (to: Minimum, from: Minimum) => to.f < from.f - threshold(to.f) && to.x.some((u, i) => Math.abs(u - from.x[i]) > APART);
  const start = best;
  const moves: string[] = [];
  const movedNote = (to: Minimum) => {
    const moved = free.flatMap((_, i) => (Math.abs(to.x[i] - start.x[i]) > APART ? [range(i, [start.x[i], to.x[i]])] : []));
    return `the search stopped in a local minimum of the spike times: ${moves.join(', then ')} reached a ${lowerBy(start.f, to.f)} lower sum of squares at distinct values (${moved.join('; ')})`;
  };
  let prof: Awaited<ReturnType<typeof profileIntervals>> | undefined;
  let minima: Minimum[] = [];
  for (let round = 0; ; round++) {
    minima = await multiStart(sse, best.x, { starts: STARTS, spread: SPREAD, evals: 60 * free.length, seed: seed + 200 + 10 * round, ...signal });
    const lowest = minima.reduce((a, b) => (b.f < a.f ? b : a));
    let next: Minimum | undefined;
    if (lower(lowest, best)) {
      next = lowest;
      moves.push(`a local fit from one of ${minima.length} starts around ${round ? 'that' : 'it'}`);
    } else {
      // a moved fit has shown the search can be fooled: it stands only if a start around it reaches it again
      // (the best fit found repeatedly, Raue et al. 2013), not in a landscape of distinct minima
      if (moves.length && !minima.some((m) => m.f <= best.f + threshold(best.f))) {
        return {
          x: best.x,
          intervals: free.map(() => null),
          warnings: [
            `${movedNote(best)}; the fit moved there, but none of ${minima.length} local fits from starts around it reached it again: the run's spike times have several distinct minima and nothing shows the lowest found is the global one (multi-start check, Raue et al. 2013), so no intervals for ${free.map((p) => p.name).join(', ')}: measure at a drive that shows every parameter, or fix some of them`,
          ],
        };
      }
      // walked from this fit already (it came from a walk's lower point, and no start went lower since), unless
      // that point was found after the walks' last re-centring: their intervals are then of the centre before it
      if (!prof || prof.x !== best.x || prof.stale) prof = await profileIntervals(sse, best.x, best.f, { threshold, seed: seed + 100 + 10 * round, maxEvals: 4 * maxEvals, ...signal });
      if (!lower(prof, best)) break;
      next = prof;
      moves.push(`a profile walk from ${round ? 'that' : 'it'}`);
    }
    if (round + 1 >= ROUNDS) {
      return {
        x: next.x,
        intervals: free.map(() => null),
        warnings: [
          `${movedNote(next)}; after ${ROUNDS} moves a lower minimum is still found, and nothing shows the lowest found is the global one (multi-start check, Raue et al. 2013), so no intervals for ${free.map((p) => p.name).join(', ')}: measure at a drive that shows every parameter, or fix some of them`,
        ],
      };
    }
    // a walk's centre is a profile point already re-optimised; a start's local fit is polished like the first fit
    best = next === prof ? { x: prof.x, f: prof.f } : await polish(next, round + 1);
    if (next === prof) prof = { ...prof, x: best.x };
  }
  const check = multiStartCheck(prof.intervals, [...minima, best], prof.f, threshold(prof.f), APART);
  const apart = free.flatMap((_, i) => {
    const r = check.spread[i];
    return r ? [{ name: free[i].name, text: range(i, [Math.min(r[0], prof!.x[i]), Math.max(r[1], prof!.x[i])]).replace(' → ', '–') }] : [];
  });
  // "reached again" accepts any local fit within Δ: at the fit itself, or an equally good minimum elsewhere
  const same = minima.some((m) => m.f <= best.f + threshold(best.f) && m.x.every((u, i) => Math.abs(u - best.x[i]) <= APART));
  const reached = same ? 'some reached it again' : 'none reached it again, but some reached an equally good minimum (within the 95 % threshold) at distinct values';
  const warnings = moves.length
    ? [`${movedNote(best)}; the fit moved there, and of ${STARTS} local fits from starts around it none went lower and ${reached} (multi-start check, Raue et al. 2013): the estimate and intervals are those of that minimum`]
    : [];
  if (apart.length)
    warnings.push(
      `${apart.map((a) => a.name).join(', ')}: ${check.good} of ${minima.length + 1} local spike-time fits (the fit and ${minima.length} from starts around it) are equally good within the 95 % threshold at distinct values (${apart.map((a) => a.text).join('; ')}): the run has several minima and does not determine ${apart.length > 1 ? 'these parameters' : 'it'} (multi-start check, Raue et al. 2013); ${apart.length > 1 ? 'their intervals are' : 'its interval is'} widened to hold them`,
    );
  return { x: prof.x, intervals: check.intervals, warnings };
}

export interface CalibrateOptions extends FitOptions {
  /** The circuit's name (a built-in or stored one, or a file name), for the stored name and the provenance. */
  circuitName: string;
  /** Name to store the fitted circuit under (default `<circuit>-fit-run<id>`, numbered when taken). */
  name?: string;
  /** Pair the run with the fitted circuit (default true). */
  pair?: boolean;
  /** Analyses run on the run and its new twin (default DEFAULT_PAIR_ANALYSES). */
  analyses?: readonly string[];
  /** The API's id of this fit and its start, kept in the provenance so the result outlives the job (./fit-jobs.ts). */
  fitId?: string;
  startedAt?: string;
}

export interface CalibrationResult extends FitResult {
  /** Name of the stored fitted circuit. */
  circuit: string;
  /** The twin run of the pairing with the fitted circuit. */
  twinRunId: number | null;
}

/** A calibration's result as the API gives it (and the provenance keeps it): without the document, the report compact. */
export type CompactResult = NonNullable<FitJob['result']>;

export function compactResult(r: CalibrationResult): CompactResult {
  const { fitted: _doc, report, ...rest } = r;
  return { ...rest, report: report.map((p) => ({ name: p.name, value: p.value, ci: p.ci, identifiable: p.identifiable })) };
}

/** A fitted circuit's provenance: the compact result, the run, the circuit it started from, the date and the API's fit id. */
export type FitProvenance = CompactResult & { kind: 'fit'; run: number; from: string; date: string; fitId?: string; startedAt?: string };

/** A name not yet stored: `base`, else `base-2`, `base-3` ... */
function freeName(store: RunStore, base: string): string {
  if (!store.getCircuit(base)) return base;
  for (let k = 2; ; k++) if (!store.getCircuit(`${base}-${k}`)) return `${base}-${k}`;
}

/**
 * The whole calibration: fit (fitTwinToRun), pair the run with the fitted circuit through the run manager,
 * and store the fitted circuit by name with its provenance (the run, the compact result with the pairing's
 * twin run, the date).
 */
export async function calibrateRun(store: RunStore, runs: RunManager, pool: TaskRunner, runId: number, opts: CalibrateOptions): Promise<CalibrationResult> {
  const fit = await fitTwinToRun(store, pool, runId, opts);
  opts.signal?.throwIfAborted();
  const name = opts.name ?? freeName(store, `${opts.circuitName.replace(/^.*\//, '').replace(/\.json$/, '')}-fit-run${runId}`);
  const doc = fit.fitted as Record<string, unknown>;
  const fitted = {
    ...doc,
    name,
    description: `${opts.circuitName} fitted to run ${runId} (objective ${fit.objective}, residual ${fit.residual.toPrecision(3)}): ${Object.entries(fit.params)
      .map(([k, v]) => `${k} = ${v.toPrecision(4)}`)
      .join(', ')}`,
  };
  let twinRunId: number | null = null;
  if (opts.pair ?? true) {
    const r = await pairWithTwin(store, runs, runId, { circuit: fitted, simulate: poolSimulate(pool), analyses: [], options: opts.twin ?? {}, label: `twin of run ${runId} (fitted: ${name})`, ...(opts.signal ? { signal: opts.signal } : {}) });
    twinRunId = r.twinRunId;
    await runPairAnalyses(store, runId, twinRunId, opts.analyses ?? DEFAULT_PAIR_ANALYSES, poolCompute(pool, store, opts.signal));
  }
  const result: CalibrationResult = { ...fit, fitted, circuit: name, twinRunId };
  const provenance: FitProvenance = {
    kind: 'fit',
    run: runId,
    from: opts.circuitName,
    date: new Date().toISOString(),
    ...(opts.fitId ? { fitId: opts.fitId, startedAt: opts.startedAt ?? new Date(Date.now() - fit.seconds * 1000).toISOString() } : {}),
    ...compactResult(result),
  };
  store.saveCircuit(name, fitted, provenance);
  return result;
}
