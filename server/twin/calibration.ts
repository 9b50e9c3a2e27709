/**
 * Twin calibration, the pure part (docs/twin/calibration.md): circuit parameters named `element.parameter`,
 * their bounds and search scale, the objectives comparing a twin output with a measured run, and the
 * identifiability of a fit (confidence intervals from the local Hessian, insensitive parameters).
 *
 * Objectives (each returns `value`, what is minimised, a mean of squared normalised residuals, and `n`, the
 * number of terms it averages, used for the confidence intervals):
 *  - waveform: mean over the chosen channels of NRMSE² (server/analysis/compare.ts: residual RMS over the
 *    measured channel's range); reported residual √value, an NRMSE.
 *  - spikes: van Rossum distance (server/analysis/distances.ts; van Rossum, Neural Comput. 13, 751 (2001))
 *    plus the count distance (1/T)∫(N_meas(t) − N_twin(t))² dt of the counting functions, both over M, the
 *    measured spikes; τ half the measured mean ISI unless given; reported residual √value.
 *  - iv: the response (current under a voltage drive, voltage under a current drive) compared cycle by
 *    cycle, each cycle's residual normalised by that cycle's measured range, so every loop of a pinched
 *    hysteresis counts equally whatever its amplitude; cycles start at the rising crossings of the
 *    stimulus through its mid-range; reported residual √value.
 *
 * Confidence intervals: the objective near its minimum θ* is treated as a mean of n independent squared
 * Gaussian residuals, f(θ) = SSE(θ)/n. Then (Gauss–Newton) cov θ ≈ 2σ²H_SSE⁻¹ with σ² ≈ SSE(θ*)/(n − p),
 * i.e. cov θ ≈ 2 f(θ*)/(n − p) · H_f⁻¹, H_f the Hessian of f by central differences in the search
 * coordinates (Bates & Watts, Nonlinear Regression Analysis and Its Applications, Wiley 1988, ch. 2); the 95 %
 * interval is ±1.96 standard errors there, mapped back to the parameter (asymmetric on a log scale). A
 * parameter whose objective does not move when it is set to either of its bounds is reported as
 * not identifiable (no interval); one whose curvature differs between steps of h and 4h sits on a kink of the
 * objective, where that approximation does not hold (no interval either). The spikes objective's intervals
 * come from the profile of the spike-time sum of squares instead (spikeTimeSse, ./profile.ts).
 */
import { Matrix, inverse } from 'ml-matrix';
import { nrmse } from '../analysis/compare.ts';
import { vanRossum } from '../analysis/distances.ts';
import { getModel, TwinError } from './models.ts';
import type { ProfileInterval } from './profile.ts';

export type ObjectiveKind = 'waveform' | 'spikes' | 'iv';
export const OBJECTIVES: readonly ObjectiveKind[] = ['waveform', 'spikes', 'iv'];

/** A free parameter: its name, bounds and whether it is searched on a log scale (positive bounds). */
export interface FreeParam {
  name: string;
  min: number;
  max: number;
  log: boolean;
}

/** How a bounds file or request gives a parameter's bounds: [min, max] or { min, max, log? }. */
export type BoundSpec = [number, number] | { min: number; max: number; log?: boolean };

type Doc = Record<string, unknown> & { kind?: string; elements?: Record<string, unknown>[]; junction?: { model?: string; params?: Record<string, number> } };

const ELEMENT_FIELDS: Record<string, readonly string[]> = {
  R: ['value', 'imax'],
  C: ['value'],
  V: ['value', 'gain', 'offset'],
  I: ['value', 'gain', 'offset'],
  neuron: ['vth', 'vreset', 'tref'],
  device: ['x0'],
};

function bad(msg: string): never {
  throw new TwinError('TWIN_BAD_PARAM', msg);
}

/** Where `element.parameter` lives in a circuit document: the object holding it, its key and current value. */
function locate(doc: Doc, name: string): { holder: Record<string, unknown>; key: string; value: number } {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) bad(`parameter "${name}": expected element.parameter (e.g. M.Ron, Cm.value)`);
  const el = name.slice(0, dot);
  const key = name.slice(dot + 1);
  if (doc.kind !== 'netlist') {
    // a generated network: its junction model's parameters (junction.Ron ...) or its capacitances
    if (el === 'junction' && doc.junction) {
      const model = getModel(doc.junction.model ?? 'threshold');
      if (!Object.hasOwn(model.defaults, key)) bad(`parameter "${name}": model ${model.name} has no parameter "${key}" (${Object.keys(model.defaults).join(', ')})`);
      doc.junction.params ??= {};
      return { holder: doc.junction.params, key, value: doc.junction.params[key] ?? model.defaults[key] };
    }
    if (el === 'network' && (key === 'capacitance' || key === 'junctionCapacitance') && typeof doc[key] === 'number') return { holder: doc, key, value: doc[key] as number };
    bad(`parameter "${name}": a ${doc.kind} circuit has junction.<model parameter>, network.capacitance, network.junctionCapacitance`);
  }
  const elements = doc.elements ?? [];
  const i = elements.findIndex((e, k) => (e.name ?? `${String(e.type)}${k}`) === el);
  if (i < 0) bad(`parameter "${name}": no element "${el}" (elements: ${elements.map((e, k) => e.name ?? `${String(e.type)}${k}`).join(', ')})`);
  const e = elements[i];
  const type = String(e.type);
  if (type === 'device' && key !== 'x0') {
    const model = getModel(String(e.model));
    if (!Object.hasOwn(model.defaults, key)) bad(`parameter "${name}": model ${model.name} has no parameter "${key}" (${Object.keys(model.defaults).join(', ')})`);
    const params = (e.params ??= {}) as Record<string, number>;
    return { holder: params, key, value: params[key] ?? model.defaults[key] };
  }
  const fields = ELEMENT_FIELDS[type] ?? [];
  if (!fields.includes(key)) bad(`parameter "${name}": a ${type} element has ${[...fields, ...(type === 'device' ? ['<model parameter>'] : [])].join(', ')}`);
  const v = e[key] ?? (type === 'device' ? getModel(String(e.model)).x0 : type === 'neuron' && key === 'tref' ? 0 : undefined);
  if (typeof v !== 'number') bad(`parameter "${name}" is not set in the circuit; set it before fitting it`);
  return { holder: e, key, value: v };
}

/** The value of parameter `name` in a circuit document (a device's model default when the circuit leaves it). */
export function paramValue(circuit: unknown, name: string): number {
  return locate(JSON.parse(JSON.stringify(circuit)) as Doc, name).value;
}

/** A copy of the circuit with the given parameters set. */
export function withParams(circuit: unknown, values: Record<string, number>): unknown {
  const doc = JSON.parse(JSON.stringify(circuit)) as Doc;
  for (const [name, v] of Object.entries(values)) {
    const at = locate(doc, name);
    at.holder[at.key] = v;
  }
  return doc;
}

/**
 * Parameters to fit when none are named: the values of R and C elements and each device's model
 * parameters, except those that are not device properties (temperature, window shape and exponent).
 */
export function defaultFreeParams(circuit: unknown): string[] {
  const doc = circuit as Doc;
  if (doc.kind !== 'netlist') return doc.junction ? Object.keys(getModel(doc.junction.model ?? 'threshold').defaults).filter((k) => !NOT_FITTED.has(k)).map((k) => `junction.${k}`) : [];
  const out: string[] = [];
  (doc.elements ?? []).forEach((e, k) => {
    const name = (e.name as string | undefined) ?? `${String(e.type)}${k}`;
    if (e.type === 'R' || e.type === 'C') out.push(`${name}.value`);
    if (e.type === 'device') for (const p of Object.keys(getModel(String(e.model)).defaults)) if (!NOT_FITTED.has(p)) out.push(`${name}.${p}`);
  });
  return out;
}
const NOT_FITTED = new Set(['T', 'window', 'p', 'alphaOn', 'alphaOff']);

/**
 * The free parameters with their bounds: given ones, else a factor of 4 either side of the circuit's value
 * (searched on a log scale); a parameter at 0 needs given bounds. Log scale whenever both bounds are > 0,
 * unless the bound says `log: false`.
 */
export function freeParams(circuit: unknown, names: readonly string[], bounds: Record<string, BoundSpec> = {}): FreeParam[] {
  if (names.length === 0) bad('no parameters to fit');
  if (new Set(names).size !== names.length) bad(`a parameter is named twice: ${names.join(', ')}`);
  for (const k of Object.keys(bounds)) if (!names.includes(k)) bad(`bounds name "${k}", which is not a fitted parameter (${names.join(', ')})`);
  return names.map((name) => {
    const v = paramValue(circuit, name);
    const b = bounds[name];
    let min: number, max: number, log: boolean | undefined;
    if (b === undefined) {
      if (v === 0) bad(`parameter ${name} is 0 in the circuit: give its bounds`);
      [min, max] = v > 0 ? [v / 4, v * 4] : [v * 4, v / 4];
    } else if (Array.isArray(b)) [min, max] = b;
    else ({ min, max, log } = b);
    if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) bad(`bounds of ${name}: need finite min < max, got [${min}, ${max}]`);
    if (log === true && !(min > 0)) bad(`bounds of ${name}: a log scale needs min > 0`);
    return { name, min, max, log: log ?? min > 0 };
  });
}

/** Parameter value → search coordinate in [0, 1]. */
export function toUnit(p: FreeParam, v: number): number {
  const u = p.log ? Math.log(v / p.min) / Math.log(p.max / p.min) : (v - p.min) / (p.max - p.min);
  return Math.min(1, Math.max(0, u));
}
/** Search coordinate (any real; the fit keeps it in [0, 1]) → parameter value. */
export function fromUnit(p: FreeParam, u: number): number {
  return p.log ? p.min * Math.pow(p.max / p.min, u) : p.min + u * (p.max - p.min);
}

// ------------------------------------------------------------------------------------------ objectives

/** What a fit compares the twin with: the measured run, on the twin's output names. */
export interface FitTarget {
  sampleRate: number;
  /** Samples compared (the run's length). */
  samples: number;
  /** Measured response by twin output name (physical units). */
  channels: Record<string, Float64Array>;
  /** Measured spike times, s. */
  spikes: Float64Array;
  /** The stimulus the run applied (physical), for the I–V cycles. */
  stimulus: Float64Array;
}

export interface ObjectiveSpec {
  kind: ObjectiveKind;
  /** Twin outputs compared (waveform: all of them; iv: the first). */
  channels: string[];
  /** van Rossum τ, s (spikes; default half the measured mean ISI). */
  tau?: number;
  /**
   * Coarse stage of the search (experiments/fit.ts), s: waveform and iv compare moving averages of this width;
   * spikes use it as the van Rossum τ. Wide windows smooth away the resets and spike alignments that give a
   * spiking run's objective a local minimum at every alignment of two trains.
   */
  smooth?: number;
}

/** What a twin evaluation gives the objective. */
export interface SimOutput {
  channels: { name: string; data: Float64Array }[];
  spikes: ArrayLike<number>;
}

export interface ObjectiveValue {
  /** Minimised: a mean of squared normalised residuals. */
  value: number;
  /** Reported: √value (an NRMSE for waveform and iv). */
  residual: number;
  /** Terms averaged (samples × channels, or measured spikes), for the confidence intervals. */
  n: number;
  /** Spikes of the twin's output. */
  spikes: number;
  /** Spikes objective: the spike-time sum of squares (spikeTimeSse), s², for the profile intervals. */
  sse?: number;
}

function simChannel(sim: SimOutput, name: string): Float64Array {
  const c = sim.channels.find((x) => x.name === name);
  if (!c) throw new TwinError('TWIN_BAD_PARAM', `the twin has no output "${name}" (outputs: ${sim.channels.map((x) => x.name).join(', ')})`);
  return c.data;
}

/** Start indices of the stimulus cycles (rising crossings of its mid-range), always starting with 0. */
export function cycleStarts(stim: ArrayLike<number>): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < stim.length; i++) ((lo = Math.min(lo, stim[i])), (hi = Math.max(hi, stim[i])));
  const mid = (lo + hi) / 2;
  const band = (hi - lo) / 10; // hysteresis: noise on the stimulus does not split a cycle
  const starts = [0];
  let armed = stim.length > 0 && stim[0] < mid - band;
  for (let i = 1; i < stim.length; i++) {
    if (stim[i] < mid - band) armed = true;
    else if (armed && stim[i] >= mid) {
      if (i - starts[starts.length - 1] > 1) starts.push(i);
      armed = false;
    }
  }
  return starts;
}

/** (1/T) ∫₀ᵀ (N_a(t) − N_b(t))² dt, N the counting function of a sorted spike train. */
export function countDistance(a: ArrayLike<number>, b: ArrayLike<number>, T: number): number {
  let i = 0;
  let j = 0;
  let t = 0;
  let acc = 0;
  while (t < T) {
    const next = Math.min(i < a.length ? a[i] : Infinity, j < b.length ? b[j] : Infinity, T);
    acc += (i - j) ** 2 * (next - t);
    t = next;
    while (i < a.length && a[i] <= t) i++;
    while (j < b.length && b[j] <= t) j++;
    if (next === T) break;
  }
  return acc / T;
}

/**
 * Σ_k (b_k − a_k)², s², of two sorted spike trains paired in order (the k-th with the k-th): the sum of squares
 * of a spike-time regression, smooth in the parameters while the twin's spikes cross its threshold transversally.
 * A spike without a partner is paired with the end of the run T, so a spike entering or leaving the run at T
 * changes the sum continuously.
 */
export function spikeTimeSse(a: ArrayLike<number>, b: ArrayLike<number>, T: number): number {
  let acc = 0;
  for (let k = 0; k < Math.max(a.length, b.length); k++) acc += ((k < a.length ? a[k] : T) - (k < b.length ? b[k] : T)) ** 2;
  return acc;
}

/** Centred moving average over `w` samples (w ≤ 1: the samples themselves), by a running sum. */
export function movingAverage(x: ArrayLike<number>, w: number): Float64Array {
  const n = x.length;
  if (w <= 1) return Float64Array.from(x);
  const half = Math.floor(w / 2);
  const cum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + x[i];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half);
    const b = Math.min(n, i + half + 1);
    out[i] = (cum[b] - cum[a]) / (b - a);
  }
  return out;
}

/** The objective's value for one twin output against the target. */
export function evaluateObjective(spec: ObjectiveSpec, target: FitTarget, sim: SimOutput): ObjectiveValue {
  const n = target.samples;
  const w = spec.smooth ? Math.round(spec.smooth * target.sampleRate) : 0;
  if (spec.kind === 'waveform') {
    let acc = 0;
    for (const name of spec.channels) {
      const m = target.channels[name].subarray(0, n);
      const s = simChannel(sim, name).subarray(0, n);
      const e = w > 1 ? nrmse(movingAverage(m, w), movingAverage(s, w)) : nrmse(m, s);
      acc += Number.isFinite(e) ? e * e : Infinity;
    }
    const value = acc / spec.channels.length;
    return { value, residual: Math.sqrt(value), n: n * spec.channels.length, spikes: sim.spikes.length };
  }
  if (spec.kind === 'iv') {
    const m = w > 1 ? movingAverage(target.channels[spec.channels[0]].subarray(0, n), w) : target.channels[spec.channels[0]];
    const s = w > 1 ? movingAverage(simChannel(sim, spec.channels[0]).subarray(0, n), w) : simChannel(sim, spec.channels[0]);
    const starts = [...cycleStarts(target.stimulus.subarray(0, n)), n];
    let acc = 0;
    for (let c = 0; c + 1 < starts.length; c++) {
      let lo = Infinity;
      let hi = -Infinity;
      let sq = 0;
      for (let k = starts[c]; k < starts[c + 1]; k++) ((lo = Math.min(lo, m[k])), (hi = Math.max(hi, m[k])), (sq += (m[k] - s[k]) ** 2));
      acc += hi > lo ? sq / (hi - lo) ** 2 : sq === 0 ? 0 : Infinity;
    }
    const value = acc / n;
    return { value, residual: Math.sqrt(value), n, spikes: sim.spikes.length };
  }
  const a = target.spikes;
  const M = Math.max(1, a.length);
  const tau = spec.smooth ?? spec.tau ?? (a.length >= 2 ? (0.5 * (a[a.length - 1] - a[0])) / (a.length - 1) : n / target.sampleRate / 10);
  const d = vanRossum(a, sim.spikes, tau);
  // the count term, the mean squared difference of the two counting functions N(t) over the run, guides the
  // search while the trains are far apart, where the timing term alone has a minimum at every alignment
  const T = n / target.sampleRate;
  const rate = countDistance(a, sim.spikes, T);
  const value = (d * d + rate) / M;
  return { value, residual: Math.sqrt(value), n: a.length, spikes: sim.spikes.length, sse: spikeTimeSse(a, sim.spikes, T) };
}

// ------------------------------------------------------------------------------------- identifiability

export interface ParamReport {
  name: string;
  value: number;
  /** 95 % interval, or null when the parameter is not determined (flat or indefinite curvature). */
  ci: [number, number] | null;
  /** Standard error in the search coordinate (unit box), or null. */
  se: number | null;
  /** Objective with the parameter at its lower and upper bound (the others at the fit). */
  atMin: number;
  atMax: number;
  identifiable: boolean;
}

/** |correlation| of two estimates above which the fit warns that the run determines only their combination. */
const DEGENERATE = 0.99;

/**
 * Robust standard deviation of the noise on a sampled trace: the median absolute second difference over
 * 0.6745·√6 (the MAD estimator of Donoho & Johnstone, Biometrika 81, 425 (1994), on second differences, which
 * cancel a smooth signal's slope; resets and edges are outliers the median ignores).
 */
export function noiseSd(x: ArrayLike<number>): number {
  const d = new Float64Array(Math.max(0, x.length - 2));
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(x[i + 2] - 2 * x[i + 1] + x[i]);
  d.sort();
  return d.length ? d[d.length >> 1] / (0.6745 * Math.sqrt(6)) : 0;
}

/**
 * A warning when the fit reproduces the run far worse than its noise allows: a local minimum of the search,
 * or a model that cannot produce the run. Spikes: a spike count that differs, or spike times off by more than
 * a quarter of the mean interval (RMS). Waveform: a residual above 3× (and 0.02 above) the NRMSE the noise
 * alone would leave (noiseSd over each channel's range). Null when the fit is as good as the run allows.
 */
export function misfitWarning(spec: ObjectiveSpec, target: FitTarget, at: ObjectiveValue): string | null {
  const advice = 'a local minimum of the search, or a model that cannot reproduce this run (try restarts, another start, or fewer free parameters); the intervals describe that minimum';
  if (spec.kind === 'spikes') {
    const a = target.spikes;
    const M = a.length;
    const isi = M >= 2 ? (a[M - 1] - a[0]) / (M - 1) : target.samples / target.sampleRate;
    const rms = Math.sqrt((at.sse ?? Infinity) / Math.max(1, M, at.spikes));
    if (at.spikes === M && rms <= isi / 4) return null;
    return `the fit does not reproduce the run's spike train (${at.spikes} spikes for ${M} measured; RMS spike-time difference ${fmtS(rms)} for a mean interval of ${fmtS(isi)}): ${advice}`;
  }
  if (spec.kind !== 'waveform') return null;
  let floor = 0;
  for (const name of spec.channels) {
    const m = target.channels[name].subarray(0, target.samples);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of m) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
    floor += hi > lo ? (noiseSd(m) / (hi - lo)) ** 2 : 0;
  }
  floor = Math.sqrt(floor / spec.channels.length);
  if (!(at.residual > Math.max(3 * floor, 0.02))) return null;
  return `the fit leaves a residual of ${at.residual.toPrecision(3)} where the run's noise alone would leave about ${floor.toPrecision(2)}: ${advice}`;
}
const fmtS = (t: number) => (Number.isFinite(t) ? `${(t * 1e3).toPrecision(3)} ms` : 'unmatched');

/** Step of the central differences, unit box (0.5 % of a parameter's search range). */
export const HESSIAN_STEP = 1e-3;

/** How much farther the second, wider difference of each diagonal steps (the kink check). */
const WIDE = 4;

/**
 * The points identifiability() evaluates, in order: the centre, the Hessian stencil, each parameter at its
 * bounds, each parameter ±WIDE·h.
 */
export function identifiabilityPoints(x: readonly number[], h = HESSIAN_STEP): number[][] {
  const n = x.length;
  const at = (d: [number, number][]) => {
    const y = [...x];
    for (const [i, s] of d) y[i] += s;
    return y;
  };
  const pts: number[][] = [[...x]];
  for (let i = 0; i < n; i++) pts.push(at([[i, h]]), at([[i, -h]]));
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      pts.push(at([[i, h], [j, h]]), at([[i, h], [j, -h]]), at([[i, -h], [j, h]]), at([[i, -h], [j, -h]]));
  for (let i = 0; i < n; i++) {
    const lo = [...x];
    lo[i] = 0;
    const hi = [...x];
    hi[i] = 1;
    pts.push(lo, hi);
  }
  for (let i = 0; i < n; i++) pts.push(at([[i, WIDE * h]]), at([[i, -WIDE * h]]));
  return pts;
}

/**
 * Confidence intervals and insensitive parameters from the objective values at identifiabilityPoints(x)
 * (`values` in the same order); `nTerms` the objective's n at the fit. `profiled`: intervals from the profile
 * (./profile.ts, unit box) that replace the Hessian's, for an objective that is not smooth at its minimum; a
 * null one is withheld (the caller warns why).
 */
export function identifiability(
  params: readonly FreeParam[],
  x: readonly number[],
  values: readonly number[],
  nTerms: number,
  profiled?: readonly (ProfileInterval | null)[],
  h = HESSIAN_STEP,
): { params: ParamReport[]; warnings: string[] } {
  const n = x.length;
  const f0 = values[0];
  let k = 1;
  const H = Matrix.zeros(n, n);
  for (let i = 0; i < n; i++) {
    const fp = values[k++];
    const fm = values[k++];
    H.set(i, i, (fp - 2 * f0 + fm) / (h * h));
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const [pp, pm, mp, mm] = [values[k++], values[k++], values[k++], values[k++]];
      const hij = (pp - pm - mp + mm) / (4 * h * h);
      H.set(i, j, hij);
      H.set(j, i, hij);
    }
  const bounds = params.map(() => [values[k++], values[k++]] as [number, number]);
  // a smooth minimum has the same curvature at both steps; a kink (a reset or spike shifted across a sample
  // makes the residual grow with |δ|, not δ²) has a curvature that grows as the step shrinks: no interval then
  const kinked = params.map((_, i) => {
    const wide = (values[k++] - 2 * f0 + values[k++]) / (WIDE * WIDE * h * h);
    const ratio = H.get(i, i) / wide;
    return !(ratio > 0.4 && ratio < 2.5);
  });
  const dof = Math.max(1, nTerms - n);
  const s2 = (2 * Math.max(0, f0)) / dof;
  // the change of the objective that the 95 % interval spans (χ²₁ 3.84 on the SSE scale), or, noise-free, a relative floor
  const resolution = Math.max((3.84 * Math.max(0, f0)) / dof, 1e-9 * Math.abs(f0), 1e-15);
  const flat = bounds.map(([lo, hi]) => !(Math.max(lo, hi) - f0 > resolution));
  const keep = params.map((_, i) => !flat[i] && !kinked[i] && H.get(i, i) > 0 && Number.isFinite(H.get(i, i)));
  const idx = keep.flatMap((kp, i) => (kp ? [i] : []));
  const se: (number | null)[] = params.map(() => null);
  let inv: Matrix | undefined;
  if (idx.length) {
    // invert the curvature of the determined parameters only: a flat one would make H singular
    const sub = new Matrix(idx.map((i) => idx.map((j) => H.get(i, j))));
    try {
      inv = inverse(sub);
      idx.forEach((i, a) => {
        const v = inv!.get(a, a);
        se[i] = v > 0 && Number.isFinite(v) ? Math.sqrt(s2 * v) : null;
      });
    } catch {
      // singular: no intervals
    }
  }
  const warnings: string[] = [];
  // two determined parameters whose estimates move together: the run fixes a combination of them
  for (const [a, i] of idx.entries())
    for (const [b, j] of idx.entries()) {
      if (b <= a || se[i] === null || se[j] === null) continue;
      const rho = (inv?.get(a, b) ?? 0) * (s2 / (se[i]! * se[j]!));
      if (Math.abs(rho) > DEGENERATE)
        warnings.push(`${params[i].name} and ${params[j].name} are nearly degenerate at the fit (correlation ${rho.toFixed(4)}): the run fixes a combination of them far better than either; their intervals are wide together`);
    }
  const reports = params.map((p, i): ParamReport => {
    const value = fromUnit(p, x[i]);
    const prof = profiled?.[i];
    // withheld by the caller (who says why)
    if (prof === null) return { name: p.name, value, ci: null, se: null, atMin: bounds[i][0], atMax: bounds[i][1], identifiable: false };
    if (prof && !flat[i]) {
      if (prof.lo === undefined || prof.hi === undefined) {
        warnings.push(`${p.name}: its profile was not finished within the evaluation budget, no confidence interval`);
        return { name: p.name, value, ci: null, se: null, atMin: bounds[i][0], atMax: bounds[i][1], identifiable: false };
      }
      for (const [end, side, bound] of [[prof.lo, 'lower', p.min], [prof.hi, 'upper', p.max]] as const)
        if (end === null) warnings.push(`${p.name}: its profile stays within the 95 % threshold up to its ${side} bound ${bound}: the run does not bound it there`);
      return { name: p.name, value, ci: [fromUnit(p, prof.lo ?? 0), fromUnit(p, prof.hi ?? 1)], se: null, atMin: bounds[i][0], atMax: bounds[i][1], identifiable: prof.lo !== null && prof.hi !== null && !prof.multimodal };
    }
    const e = se[i];
    const ci: [number, number] | null = e === null ? null : [fromUnit(p, x[i] - 1.96 * e), fromUnit(p, x[i] + 1.96 * e)];
    if (flat[i]) warnings.push(`${p.name} does not change the objective within its bounds [${p.min}, ${p.max}]: it is not identifiable from this run and objective`);
    else if (kinked[i] && H.get(i, i) > 0) warnings.push(`${p.name}: the objective is not smooth at the fit (its curvature changes with the step: resets or spikes shifting across samples), no confidence interval`);
    else if (e === null) warnings.push(`${p.name}: the objective's curvature there is not positive (a flat or non-smooth minimum), no confidence interval`);
    return { name: p.name, value, ci, se: e, atMin: bounds[i][0], atMax: bounds[i][1], identifiable: !flat[i] && e !== null };
  });
  return { params: reports, warnings };
}
