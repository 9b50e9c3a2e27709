/**
 * The analysis methods as the CLI and the API call them: each takes a loaded Signal (or table) and a
 * plain parameter object (the same keys as the CLI flags and the API body) and returns a JSON-friendly
 * result. Results of run-based analyses are stored with the run (`analyzeRun`), keyed by method name and
 * canonical parameters, so asking again returns the stored result instead of recomputing.
 */
import type { RunStore } from '../store/run-store.ts';
import { detectSpikes, detectSwitching, type Polarity, type SpikeDetectOptions, type SpikeResult, type ThresholdSpec } from '../analysis/spikes.ts';
import { adaptation, isis, trainStats } from '../analysis/trains.ts';
import { logIsiBursts, maxIntervalBursts, type BurstSummary } from '../analysis/bursts.ts';
import { fitGaussianMixture } from '../analysis/gmm.ts';
import { analyzeAvalanches, avalanchesFromEvents } from '../analysis/avalanches.ts';
import { bandPower, detectOscillation, dominantFrequencies, harmonicPower, psdDistance, welch } from '../analysis/spectra.ts';
import { chirpPoints, resonanceSweep, type SweepPoint } from '../analysis/resonance.ts';
import { fitStdp } from '../analysis/stdp.ts';
import { classifyRegime, phaseDiagram, type Regime, type RegimeThresholds } from '../analysis/regime.ts';
import { coincidenceFactor, isiDistance, spikeDistance, spikeSync, vanRossum, victorPurpura } from '../analysis/distances.ts';
import { correlation, exponentDifference, nrmse } from '../analysis/compare.ts';
import { InputError, type Signal, type SignalChannel } from './inputs.ts';

export const METHODS = ['spikes', 'bursts', 'avalanches', 'psd', 'resonance', 'stdp', 'regime', 'compare'] as const;
export type MethodName = (typeof METHODS)[number];

export interface SpikeParams {
  /** Channel name; default: every response channel (all channels when none is marked response). */
  channel?: string;
  threshold?: 'robust' | 'sd' | 'absolute';
  /** Multiplier for robust / sd thresholds (default 5). */
  k?: number;
  /** Level for absolute thresholds, physical unit. */
  value?: number;
  polarity?: Polarity;
  /** s (default 0.001). */
  refractory?: number;
  /** [low, high] Hz. */
  bandpass?: [number, number];
  /** Detect switching events on dG/dt of the channel (read as a conductance, S). */
  switching?: boolean;
  /** Run inputs: use the spike events stored with the run instead of detecting spikes in the trace. */
  events?: boolean;
}

function pickChannels(sig: Signal, name?: string): SignalChannel[] {
  if (name !== undefined) {
    const c = sig.channels.find((ch) => ch.name === name);
    if (!c) throw new InputError(`no channel "${name}" (have ${sig.channels.map((ch) => ch.name).join(', ')})`);
    return [c];
  }
  const resp = sig.channels.filter((c) => c.role === 'response');
  return resp.length ? resp : sig.channels;
}

function detectOptions(p: SpikeParams): SpikeDetectOptions {
  const mode = p.threshold ?? 'robust';
  let threshold: ThresholdSpec;
  if (mode === 'absolute') {
    if (p.value === undefined || !Number.isFinite(p.value)) throw new InputError('an absolute threshold needs a value');
    threshold = { mode, value: p.value };
  } else if (mode === 'robust' || mode === 'sd') {
    const k = p.k ?? 5;
    if (!(k > 0)) throw new InputError('threshold multiplier k must be > 0');
    threshold = { mode, k };
  } else throw new InputError(`unknown threshold mode ${String(mode)}`);
  return { threshold, polarity: p.polarity ?? 'positive', refractory: p.refractory ?? 0.001, ...(p.bandpass ? { bandpass: p.bandpass } : {}) };
}

function detect(c: SignalChannel, p: SpikeParams): SpikeResult {
  if (p.events) {
    if (!c.spikeEvents) throw new InputError('stored spike events exist only for run inputs');
    const ev = c.spikeEvents;
    return {
      times: Float64Array.from(ev, (e) => e.index / c.fs),
      indices: Int32Array.from(ev, (e) => e.index),
      peaks: Float64Array.from(ev, (e) => e.value ?? NaN),
      widths: new Float64Array(ev.length).fill(NaN),
      baseline: NaN,
      threshold: NaN,
      noise: NaN,
      noiseMethod: 'none',
    };
  }
  const o = detectOptions(p);
  if (p.switching) {
    const g = new Float64Array(c.samples.length);
    for (let i = 0; i < g.length; i++) g[i] = c.samples[i] * c.scale + c.offset;
    return detectSwitching(g, c.fs, o);
  }
  return detectSpikes(c.samples, c.fs, o, c.scale, c.offset);
}

function duration(c: SignalChannel): number {
  return c.samples.length / c.fs;
}

export function spikesMethod(sig: Signal, p: SpikeParams & { modes?: boolean; maxK?: number }) {
  const channels = pickChannels(sig, p.channel).map((c) => {
    const r = detect(c, p);
    const T = duration(c);
    const stats = trainStats(r.times, { tStart: 0, tEnd: T });
    const mixtures =
      p.modes && r.times.length >= 6
        ? {
            amplitude: fitGaussianMixture(r.peaks, { maxK: p.maxK }),
            width: fitGaussianMixture(r.widths.filter(Number.isFinite), { maxK: p.maxK }),
            log10Isi: fitGaussianMixture(isis(r.times).filter((d) => d > 0).map(Math.log10), { maxK: p.maxK }),
          }
        : undefined;
    return {
      channel: c.name,
      unit: c.unit,
      sampleRate: c.fs,
      duration: T,
      filledSamples: c.filled,
      count: r.times.length,
      baseline: r.baseline,
      threshold: r.threshold,
      noise: r.noise,
      noiseMethod: r.noiseMethod,
      times: r.times,
      peaks: r.peaks,
      widths: r.widths,
      stats: { rate: stats.rate, isiMean: stats.isiMean, cv: stats.isiCv, lv: stats.lv, fano: stats.fano, fanoWindow: stats.fanoWindow, isiHist: stats.isiHist, acg: stats.acg },
      adaptation: adaptation(r.times),
      ...(mixtures ? { mixtures } : {}),
    };
  });
  return { channels };
}

export interface BurstParams extends SpikeParams {
  method?: 'max-interval' | 'log-isi';
  maxBeginIsi?: number;
  maxEndIsi?: number;
  minIbi?: number;
  minDuration?: number;
  minSpikes?: number;
}

function bursts(times: Float64Array, T: number, p: BurstParams): BurstSummary {
  return (p.method ?? 'max-interval') === 'log-isi'
    ? logIsiBursts(times, { minSpikes: p.minSpikes }, T)
    : maxIntervalBursts(times, { maxBeginIsi: p.maxBeginIsi, maxEndIsi: p.maxEndIsi, minIbi: p.minIbi, minDuration: p.minDuration, minSpikes: p.minSpikes }, T);
}

export function burstsMethod(sig: Signal, p: BurstParams) {
  return {
    method: p.method ?? 'max-interval',
    channels: pickChannels(sig, p.channel).map((c) => {
      const r = detect(c, p);
      return { channel: c.name, spikes: r.times.length, ...bursts(r.times, duration(c), p) };
    }),
  };
}

export function avalanchesMethod(sig: Signal, p: SpikeParams & { binWidth?: number; minTail?: number }) {
  const chans = pickChannels(sig, p.channel);
  const all: number[] = [];
  let T = 0;
  for (const c of chans) {
    for (const t of detect(c, p).times) all.push(t);
    T = Math.max(T, duration(c));
  }
  if (all.length < 2) throw new InputError(`only ${all.length} events detected; avalanches need more`);
  const av = avalanchesFromEvents(all, { binWidth: p.binWidth, tStart: 0, tEnd: T });
  const a = analyzeAvalanches(av, { minTail: p.minTail });
  return { channels: chans.map((c) => c.name), events: all.length, ...a, sizes: av.sizes, durations: av.durations };
}

export function psdMethod(sig: Signal, p: { channel?: string; segment?: number; band?: [number, number]; peaks?: number; oscillationRatio?: number }) {
  return {
    channels: pickChannels(sig, p.channel).map((c) => {
      const x = new Float64Array(c.samples.length);
      for (let i = 0; i < x.length; i++) x[i] = c.samples[i] * c.scale + c.offset;
      const seg = p.segment ?? 2 ** Math.floor(Math.log2(Math.max(2, Math.min(x.length, 4096))));
      const ps = welch(x, c.fs, { segment: seg });
      return {
        channel: c.name,
        unit: `${c.unit || 'unit'}^2/Hz`,
        df: ps.df,
        segments: ps.segments,
        dominant: dominantFrequencies(ps, p.peaks ?? 3),
        oscillation: detectOscillation(ps, p.oscillationRatio),
        ...(p.band ? { bandPower: { band: p.band, power: bandPower(ps, p.band[0], p.band[1]) } } : {}),
        freqs: ps.freqs,
        psd: ps.psd,
      };
    }),
  };
}

export function resonanceMethod(
  input: Signal | Record<string, Float64Array>,
  p: SpikeParams & { f0?: number; f1?: number; chirpDuration?: number; chirpStart?: number; windows?: number; onsetFraction?: number },
) {
  let points: SweepPoint[];
  if ('channels' in input && Array.isArray(input.channels)) {
    const sig = input as Signal;
    if (p.f0 === undefined || p.f1 === undefined) throw new InputError('a chirp needs f0 and f1 (Hz)');
    const c = pickChannels(sig, p.channel)[0];
    const spikes = detect(c, p);
    points = chirpPoints(spikes.times, { f0: p.f0, f1: p.f1, duration: p.chirpDuration ?? duration(c) - (p.chirpStart ?? 0), start: p.chirpStart }, p.windows ?? 20);
  } else {
    const t = input as Record<string, Float64Array>;
    const f = t.frequency ?? t.frequencyHz ?? t.f;
    const r = t.response ?? t.rate ?? t.count;
    if (!f || !r) throw new InputError('a sweep table needs columns "frequency" and "response"');
    points = Array.from(f, (freq, i) => ({ frequency: freq, response: r[i] }));
  }
  return resonanceSweep(points, { onsetFraction: p.onsetFraction });
}

/**
 * Resonance from a set of runs (or files), one stimulus frequency each: frequencies from `frequencies`
 * or from each run protocol's `frequencyParam` (default "frequencyHz"); response per run = spike rate
 * (`measure: 'rate'`, spikes/s) or nonlinear harmonic power relative to the fundamental
 * (`measure: 'harmonics'`, harmonics 2-5 of the stimulus frequency).
 */
export function resonanceRunsMethod(
  sigs: Signal[],
  p: SpikeParams & { frequencies?: number[]; frequencyParam?: string; measure?: 'rate' | 'harmonics'; onsetFraction?: number },
) {
  const name = p.frequencyParam ?? 'frequencyHz';
  const freqs = p.frequencies ?? sigs.map((s) => Number((s.run?.protocol as Record<string, unknown> | undefined)?.[name]));
  if (freqs.length !== sigs.length) throw new InputError(`${freqs.length} frequencies for ${sigs.length} inputs`);
  freqs.forEach((f, i) => {
    if (!(f > 0)) throw new InputError(`input ${i + 1}: no stimulus frequency (give frequencies, or runs whose protocol has "${name}")`);
  });
  const measure = p.measure ?? 'rate';
  const points = sigs.map((s, i) => {
    const c = pickChannels(s, p.channel)[0];
    if (measure === 'harmonics') {
      const x = Float64Array.from(c.samples as ArrayLike<number>, (v) => v * c.scale + c.offset);
      const seg = 2 ** Math.floor(Math.log2(Math.max(2, Math.min(x.length, 1 << 16))));
      return { frequency: freqs[i], response: harmonicPower(x, c.fs, freqs[i], 5, seg).ratio };
    }
    return { frequency: freqs[i], response: detect(c, p).times.length / duration(c) };
  });
  return { measure, ...resonanceSweep(points, { onsetFraction: p.onsetFraction }) };
}

export function stdpMethod(table: Record<string, Float64Array>, p: { tauMin?: number; tauMax?: number }) {
  const dt = table.dt;
  const dw = table.dw;
  if (!dt || !dw) throw new InputError('an STDP table needs columns "dt" (s, t_post - t_pre) and "dw" (relative change)');
  return fitStdp(Array.from(dt, (d, i) => ({ dt: d, dw: dw[i] })), p);
}

export interface RegimeParams extends BurstParams, RegimeThresholds {
  oscillationRatio?: number;
}

/** Features of one channel for regime classification. */
export function regimeFeatures(c: SignalChannel, p: RegimeParams) {
  const r = detect(c, p);
  const T = duration(c);
  const b = bursts(r.times, T, p);
  // fraction of samples beyond the threshold, on the side(s) detected
  const pol = p.polarity ?? 'positive';
  let active = 0;
  for (let i = 0; i < c.samples.length; i++) {
    const d = c.samples[i] * c.scale + c.offset - r.baseline;
    if ((pol !== 'negative' && d > r.threshold) || (pol !== 'positive' && d < -r.threshold)) active++;
  }
  const x = new Float64Array(c.samples.length);
  for (let i = 0; i < x.length; i++) x[i] = c.samples[i] * c.scale + c.offset;
  let osc = { oscillating: false, frequency: NaN, peakRatio: NaN };
  if (x.length >= 256) osc = detectOscillation(welch(x, c.fs, { segment: 2 ** Math.floor(Math.log2(Math.min(x.length, 4096))) }), p.oscillationRatio);
  const st = trainStats(r.times, { tStart: 0, tEnd: T });
  return {
    rate: r.times.length / T,
    cv: Number.isFinite(st.isiCv) ? st.isiCv : 0,
    burstFraction: Number.isFinite(b.burstFraction) ? b.burstFraction : 0,
    activeFraction: c.samples.length ? active / c.samples.length : 0,
    oscillating: osc.oscillating,
    peakFrequency: osc.frequency,
    peakRatio: osc.peakRatio,
  };
}

export function regimeMethod(sigs: Signal[], p: RegimeParams & { param?: string; values?: number[] }) {
  const runs = sigs.map((s) => {
    const c = pickChannels(s, p.channel)[0];
    const cls = classifyRegime(regimeFeatures(c, p), p);
    return { channel: c.name, ...(s.runId !== undefined ? { runId: s.runId } : {}), ...cls };
  });
  if (sigs.length === 1 && !p.values) return runs[0];
  const name = p.param ?? 'value';
  const values = p.values ?? sigs.map((s) => Number((s.run?.protocol as Record<string, unknown> | undefined)?.[name]));
  if (values.length !== sigs.length) throw new InputError(`${values.length} parameter values for ${sigs.length} inputs`);
  const diagram = phaseDiagram(runs.map((r, i) => ({ params: { [name]: values[i] }, regime: r.regime as Regime })), name);
  return { runs, phaseDiagram: diagram };
}

export function compareMethod(measured: Signal, simulated: Signal, p: SpikeParams & { simChannel?: string; tau?: number; q?: number; window?: number; segment?: number }) {
  const cm = pickChannels(measured, p.channel)[0];
  const cs = pickChannels(simulated, p.simChannel ?? p.channel)[0];
  const T = Math.min(duration(cm), duration(cs));
  const a = detect(cm, p).times;
  const b = detect(cs, p).times;
  const phys = (c: SignalChannel) => Float64Array.from(c.samples as ArrayLike<number>, (v) => v * c.scale + c.offset);
  const xm = phys(cm);
  const xs = phys(cs);
  const res: Record<string, unknown> = {
    measured: { channel: cm.name, spikes: a.length },
    simulated: { channel: cs.name, spikes: b.length },
    duration: T,
    isiDistance: isiDistance(a, b, 0, T),
    spikeDistance: spikeDistance(a, b, 0, T),
    spikeSync: spikeSync(a, b, 0, T),
    vanRossum: vanRossum(a, b, p.tau ?? 0.01, 0, T),
    victorPurpura: victorPurpura(a, b, p.q ?? 100, 0, T),
    coincidenceFactor: coincidenceFactor(a, b, p.window ?? 0.002, 0, T),
  };
  if (cm.fs === cs.fs) {
    const n = Math.min(xm.length, xs.length);
    res.waveform = { nrmse: nrmse(xm.subarray(0, n), xs.subarray(0, n)), correlation: correlation(xm.subarray(0, n), xs.subarray(0, n)) };
    const seg = p.segment ?? 2 ** Math.floor(Math.log2(Math.max(2, Math.min(n, 4096))));
    res.psdDistanceDb = psdDistance(welch(xm.subarray(0, n), cm.fs, { segment: seg }), welch(xs.subarray(0, n), cs.fs, { segment: seg }));
  }
  try {
    const am = avalanchesMethod(measured, p);
    const as = avalanchesMethod(simulated, { ...p, channel: p.simChannel ?? p.channel });
    res.avalancheExponents = {
      size: am.size && as.size ? exponentDifference(am.size, as.size) : null,
      duration: am.duration && as.duration ? exponentDifference(am.duration, as.duration) : null,
    };
  } catch {
    res.avalancheExponents = null;
  }
  return res;
}

/**
 * The run to compare a run with when none is named: the newest run linked to it (a twin run fed this
 * run's stimulus records `linkedRunId`), else the run it is itself linked to. undefined when neither exists.
 */
export function linkedRun(store: RunStore, runId: number): number | undefined {
  const linked = store
    .listRuns({ limit: 1_000_000 })
    .filter((r) => r.linkedRunId === runId)
    .sort((a, b) => b.id - a.id)[0];
  if (linked) return linked.id;
  return store.getRun(runId)?.linkedRunId ?? undefined;
}

/** Canonical JSON of parameters (sorted keys, undefined dropped) — the key under which results are stored. */
export function canonical(params: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(params));
}

/** Typed arrays become plain arrays, non-finite numbers null: the result as stored and sent. */
export function toJson(result: unknown): unknown {
  return JSON.parse(JSON.stringify(result, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v)));
}

/**
 * Runs a method on a stored run, or returns the stored result for the same method and parameters.
 * Stores new results when the store is writable. `compute` gets the parameters back.
 */
export function analyzeRun<P>(
  store: RunStore,
  runId: number,
  method: string,
  params: P,
  compute: (params: P) => unknown,
  opts: { recompute?: boolean } = {},
): { runId: number; method: string; params: P; cached: boolean; stored: boolean; analysisId: number | null; result: unknown } {
  const key = canonical(params);
  if (!opts.recompute) {
    const hit = store.listAnalyses(runId, method).find((a) => canonical(a.params) === key);
    if (hit) return { runId, method, params, cached: true, stored: true, analysisId: hit.id, result: hit.result };
  }
  const result = toJson(compute(params));
  let analysisId: number | null = null;
  if (!store.readonly) analysisId = store.saveAnalysis(runId, method, JSON.parse(key), result);
  return { runId, method, params, cached: false, stored: analysisId !== null, analysisId, result };
}
