/**
 * The analyses as the registry runs them: each takes loaded inputs (a Signal, several, a pair, values,
 * trains or a table) and its resolved parameters (snake_case, defaults applied, see params.ts) and returns
 * a result object; the registry turns it into the stored JSON (json.ts toJson: snake_case keys, typed
 * arrays as arrays), typed against the analysis's result schema.
 * The computing is in the pure server/analysis functions; this file picks channels and maps parameters.
 */
import { detectSpikes, detectSwitching, type SpikeDetectOptions, type SpikeResult, type ThresholdSpec } from '../analysis/spikes.ts';
import { adaptation, isis, trainStats, type TrainStats } from '../analysis/trains.ts';
import { logIsiBursts, maxIntervalBursts, type BurstSummary } from '../analysis/bursts.ts';
import { fitGaussianMixture, type MixtureFit } from '../analysis/gmm.ts';
import { analyzeAvalanches, avalanchesFromEvents } from '../analysis/avalanches.ts';
import { bandPower, detectOscillation, dominantFrequencies, harmonicPower, psdDistance, welch } from '../analysis/spectra.ts';
import { aboveCountingNoise, chirpWindows, resonanceSweep, type Chirp, type ResonanceResult, type SweepPoint } from '../analysis/resonance.ts';
import { fitStdp } from '../analysis/stdp.ts';
import { classifyRegime, phaseDiagram, regimeFeatures, type Regime, type RegimeFeatures } from '../analysis/regime.ts';
import type { PowerLawFit } from '../analysis/powerlaw.ts';
import { protocolSegments, validateProtocol } from '../protocols/index.ts';
import { MAX_COMPARE_PAIR_WORK, coincidence, isiDistance, spikeDistance, spikeSync, vanRossum, victorPurpura } from '../analysis/distances.ts';
import { correlation, exponentDifference, nrmse } from '../analysis/compare.ts';
import { spikePhases } from '../analysis/phase.ts';
import { InputError, type Signal, type SignalChannel } from './inputs.ts';
import { stdpPairsFromTrace } from '../experiments/stdp-pairs.ts';
import { nonPlasticReason } from '../experiments/stdp-circuit.ts';

/*
 * The pure functions' outputs under the result names (docs/analysis.md "Naming convention": a time ends in
 * `_s`, a rate or frequency in `_hz`, a count is `n_<what>`); toJson then makes them snake_case.
 */

/** A train's statistics (trains.ts trainStats). */
function trainJson(s: TrainStats) {
  const { n, duration: durationS, rate: rateHz, isiMean: isiMeanS, fanoWindow: fanoWindowS, isiHist, acg, ...rest } = s;
  return { nSpikes: n, durationS, rateHz, isiMeanS, ...rest, fanoWindowS, isiHist: { edgesS: isiHist.edges, counts: isiHist.counts }, acg: { lagsS: acg.lags, counts: acg.counts } };
}

/** A power-law fit (powerlaw.ts fitPowerLaw). */
export function powerLawFitJson(f: PowerLawFit) {
  return { kind: f.kind, alpha: f.alpha, alphaSe: f.alphaSe, xmin: f.xmin, nTail: f.nTail, nValues: f.n, ksD: f.ksD, logLikelihood: f.logLik };
}

const mixtureJson = ({ logLik, ...m }: MixtureFit) => ({ ...m, logLikelihood: logLik });

function burstsJson(b: BurstSummary) {
  const m = b.maxInterval;
  return {
    bursts: b.bursts.map((x) => ({ startS: x.start, endS: x.end, nSpikes: x.nSpikes })),
    burstRateHz: b.burstRate,
    meanDurationS: b.meanDuration,
    meanSpikesPerBurst: b.meanSpikesPerBurst,
    burstFraction: b.burstFraction,
    isiThresholdS: b.isiThreshold,
    ...(m ? { maxInterval: { maxBeginIsiS: m.maxBeginIsi, maxEndIsiS: m.maxEndIsi, minIbiS: m.minIbi, minDurationS: m.minDuration, scaledTo: m.scaledTo } } : {}),
  };
}

/** A resonance's frequencies and responses (resonance.ts resonanceSweep), without its points. */
function resonanceJson(r: Omit<ResonanceResult, 'points'>) {
  return {
    resonanceFrequencyHz: r.resonanceFrequency,
    peakResponse: r.peakResponse,
    baselineResponse: r.baselineResponse,
    onsetFraction: r.onsetFraction,
    onsetFrequencyHz: r.onsetFrequency,
    optimalFrequencyHz: r.optimalFrequency,
    resonanceUncertaintyHz: r.resonanceUncertainty,
    onsetUncertaintyHz: r.onsetUncertainty,
    optimalUncertaintyHz: r.optimalUncertainty,
  };
}

const featuresJson = ({ rate, cv, isiThreshold, peakFrequency, ...f }: RegimeFeatures) => ({ rateHz: rate, isiCv: cv, ...f, isiThresholdS: isiThreshold, peakFrequencyHz: peakFrequency });

/** The STDP fit (stdp.ts fitStdp). */
function stdpFitJson(f: ReturnType<typeof fitStdp>) {
  const branch = (b: typeof f.potentiation) => ({ A: b.A, tauS: b.tau, r2: b.r2, nPairs: b.n });
  return { potentiation: branch(f.potentiation), depression: branch(f.depression), Aplus: f.Aplus, tauPlusS: f.tauPlus, Aminus: f.Aminus, tauMinusS: f.tauMinus };
}

/** Spike-detection parameters as resolved from params.ts SPIKE_PARAMS. */
export interface SpikeParams {
  channel?: string;
  threshold: 'robust' | 'sd' | 'absolute';
  k: number;
  value?: number;
  polarity: 'positive' | 'negative' | 'both';
  refractory?: number;
  rearm: number;
  bandpass?: [number, number];
  switching: boolean;
  events: boolean;
}

export function pickChannels(sig: Signal, name?: string): SignalChannel[] {
  if (name !== undefined) {
    const c = sig.channels.find((ch) => ch.name === name);
    if (!c) throw new InputError(`no channel "${name}" (have ${sig.channels.map((ch) => ch.name).join(', ')})`, '/channel');
    return [c];
  }
  const resp = sig.channels.filter((c) => c.role === 'response');
  return resp.length ? resp : sig.channels;
}

function detectOptions(p: SpikeParams): SpikeDetectOptions {
  let threshold: ThresholdSpec;
  if (p.threshold === 'absolute') {
    if (p.value === undefined || !Number.isFinite(p.value)) throw new InputError('an absolute threshold needs a value', '/value');
    threshold = { mode: 'absolute', value: p.value };
  } else threshold = { mode: p.threshold, k: p.k };
  return { threshold, polarity: p.polarity, rearm: p.rearm, ...(p.refractory !== undefined ? { refractory: p.refractory } : {}), ...(p.bandpass ? { bandpass: p.bandpass } : {}) };
}

/** The channel's samples in its physical unit. */
export function physical(c: SignalChannel): Float64Array {
  const x = new Float64Array(c.samples.length);
  for (let i = 0; i < x.length; i++) x[i] = c.samples[i] * c.scale + c.offset;
  return x;
}

/** Spikes from the run's stored events: asked for (`events`), or the run's own definition of its spikes (a network twin run). */
export const usesStoredEvents = (c: SignalChannel, p: SpikeParams): boolean => p.events || c.eventsDefineSpikes === true;

export function detect(c: SignalChannel, p: SpikeParams): SpikeResult {
  if (usesStoredEvents(c, p)) {
    if (!c.spikeEvents) throw new InputError('stored spike events exist only for run inputs', '/events');
    const ev = c.spikeEvents;
    return {
      // the exact (sub-sample) time where the source kept it
      times: Float64Array.from(ev, (e) => e.timeS ?? e.index / c.fs),
      indices: Int32Array.from(ev, (e) => e.index),
      peaks: Float64Array.from(ev, (e) => e.value ?? NaN),
      widths: new Float64Array(ev.length).fill(NaN),
      baseline: NaN,
      threshold: NaN,
      noise: NaN,
      noiseMethod: 'none',
      thresholdRule: 'none',
      deadTime: NaN,
      deadTimeSource: 'none',
      rearmLevel: NaN,
    };
  }
  const o = detectOptions(p);
  if (p.switching) return detectSwitching(physical(c), c.fs, o);
  return detectSpikes(c.samples, c.fs, o, c.scale, c.offset);
}

export function duration(c: SignalChannel): number {
  return c.samples.length / c.fs;
}

export function spikesMethod(sig: Signal, p: SpikeParams & { modes: boolean; max_k: number }) {
  const channels = pickChannels(sig, p.channel).map((c) => {
    const r = detect(c, p);
    const T = duration(c);
    const { nSpikes: _n, durationS: _T, ...stats } = trainJson(trainStats(r.times, { tStart: 0, tEnd: T }));
    const a = adaptation(r.times);
    const mixtures =
      p.modes && r.times.length >= 6
        ? {
            amplitude: mixtureJson(fitGaussianMixture(r.peaks, { maxK: p.max_k })),
            width: mixtureJson(fitGaussianMixture(r.widths.filter(Number.isFinite), { maxK: p.max_k })),
            log10Isi: mixtureJson(fitGaussianMixture(isis(r.times).filter((d) => d > 0).map(Math.log10), { maxK: p.max_k })),
          }
        : undefined;
    return {
      channel: c.name,
      unit: c.unit,
      sampleRateHz: c.fs,
      durationS: T,
      nFilledSamples: c.filled,
      nSpikes: r.times.length,
      baseline: r.baseline,
      threshold: r.threshold,
      noise: r.noise,
      noiseMethod: r.noiseMethod,
      thresholdRule: r.thresholdRule,
      deadTimeS: r.deadTime,
      deadTimeSource: r.deadTimeSource,
      rearmLevel: r.rearmLevel,
      timesS: r.times,
      peaks: r.peaks,
      widthsS: r.widths,
      stats,
      adaptation: { index: a.index, initialRateHz: a.initialRate, steadyRateHz: a.steadyRate, ratio: a.ratio },
      ...(mixtures ? { mixtures } : {}),
    };
  });
  return { channels };
}

export interface BurstParams extends SpikeParams {
  method: 'max-interval' | 'log-isi';
  max_begin_isi?: number;
  max_end_isi?: number;
  min_ibi?: number;
  min_duration?: number;
  min_spikes: number;
}

function bursts(times: Float64Array, T: number, p: BurstParams): BurstSummary {
  return p.method === 'log-isi'
    ? logIsiBursts(times, { minSpikes: p.min_spikes }, T)
    : maxIntervalBursts(times, { maxBeginIsi: p.max_begin_isi, maxEndIsi: p.max_end_isi, minIbi: p.min_ibi, minDuration: p.min_duration, minSpikes: p.min_spikes }, T);
}

export function burstsMethod(sig: Signal, p: BurstParams) {
  return {
    method: p.method,
    channels: pickChannels(sig, p.channel).map((c) => {
      const r = detect(c, p);
      return { channel: c.name, nSpikes: r.times.length, ...burstsJson(bursts(r.times, duration(c), p)) };
    }),
  };
}

/**
 * Time bins of an avalanche analysis: each is 4 bytes and a pass (1e8 bins: 400 MB and 1.6 s of a loaded pool
 * thread; a 1e-12 s width over a 20 s run asked for 2e13). The default width, the mean inter-event interval,
 * makes about one bin per event.
 */
export const MAX_AVALANCHE_BINS = 1e8;

export function avalanchesMethod(sig: Signal, p: SpikeParams & { bin_width?: number; min_tail: number }) {
  const chans = pickChannels(sig, p.channel);
  const all: number[] = [];
  let T = 0;
  for (const c of chans) {
    for (const t of detect(c, p).times) all.push(t);
    T = Math.max(T, duration(c));
  }
  if (all.length < 2) throw new InputError(`only ${all.length} events detected; avalanches need more`);
  const sorted = Float64Array.from(all).sort();
  // the default width (binEvents: the mean inter-event interval) is capped too: events bunched in a moment
  // of a long run (two 1 µs apart in 600 s) make as many bins as a tiny width asked for
  const width = p.bin_width ?? (sorted[sorted.length - 1] - sorted[0]) / (sorted.length - 1);
  if (T / width > MAX_AVALANCHE_BINS) {
    const which = p.bin_width === undefined ? `the default bin width (mean inter-event interval) ${width.toPrecision(3)} s` : `bin_width ${width} s`;
    throw new InputError(`${which} over ${T} s makes ${(T / width).toExponential(2)} bins; at most MAX_AVALANCHE_BINS = ${MAX_AVALANCHE_BINS.toExponential(0)} (widen the bins)`, '/bin_width');
  }
  const av = avalanchesFromEvents(all, { binWidth: p.bin_width, tStart: 0, tEnd: T });
  const a = analyzeAvalanches(av, { minTail: p.min_tail });
  // a single periodic train makes "avalanches" of a fixed size and duration: no critical process to fit
  const gaps = isis(sorted);
  const m = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  const cvGaps = Math.sqrt(gaps.reduce((x, y) => x + (y - m) ** 2, 0) / gaps.length) / m;
  const warnings = [...a.warnings];
  if (chans.length === 1 && cvGaps < 0.1) warnings.unshift(`the events are one periodic train (interval CV ${+cvGaps.toPrecision(2)}): its avalanches follow the period, not a power law`);
  return {
    channels: chans.map((c) => c.name),
    nEvents: all.length,
    nAvalanches: a.count,
    binWidthS: a.binWidth,
    branchingRatio: a.branchingRatio,
    branchingRatioPooled: a.branchingRatioPooled,
    size: a.size && powerLawFitJson(a.size),
    duration: a.duration && powerLawFitJson(a.duration),
    crackling: a.crackling,
    warnings,
    sizes: av.sizes,
    durations: av.durations,
  };
}

export function psdMethod(sig: Signal, p: { channel?: string; segment?: number; band?: [number, number]; peaks: number; oscillation_ratio: number }) {
  return {
    channels: pickChannels(sig, p.channel).map((c) => {
      const x = physical(c);
      const seg = p.segment ?? 2 ** Math.floor(Math.log2(Math.max(2, Math.min(x.length, 4096))));
      const ps = welch(x, c.fs, { segment: seg });
      const osc = detectOscillation(ps, p.oscillation_ratio);
      return {
        channel: c.name,
        unit: `${c.unit || 'unit'}^2/Hz`,
        dfHz: ps.df,
        nSegments: ps.segments,
        dominant: dominantFrequencies(ps, p.peaks).map((d) => ({ frequencyHz: d.frequency, power: d.power })),
        oscillation: { oscillating: osc.oscillating, frequencyHz: osc.frequency, strongestHz: osc.strongest, peakRatio: osc.peakRatio },
        ...(p.band ? { bandPower: { bandHz: p.band, power: bandPower(ps, p.band[0], p.band[1]) } } : {}),
        freqsHz: ps.freqs,
        psd: ps.psd,
      };
    }),
  };
}

export interface ResonanceParams extends SpikeParams {
  f0?: number;
  f1?: number;
  sweep?: 'linear' | 'log';
  chirp_start?: number;
  chirp_duration?: number;
  windows: number;
  frequencies?: number[];
  frequency_param: string;
  measure: 'rate' | 'harmonics' | 'conductance';
  onset_fraction: number;
}

/** A table input with `frequency` and `response` columns (a measured sweep, inputs.ts tableSignal). */
function sweepTable(sig: Signal): SweepPoint[] | undefined {
  if (sig.source !== 'table') return undefined;
  const f = sig.channels.find((c) => c.name === 'frequency');
  const r = sig.channels.find((c) => c.name === 'response');
  if (!f || !r) return undefined;
  return Array.from(f.samples, (freq, i) => ({ frequency: freq, response: r.samples[i] }));
}

/** The chirp of a run: f0/f1 given, else the run's stored chirp protocol. */
function chirpOf(sig: Signal, c: SignalChannel, p: ResonanceParams): Chirp {
  const proto = sig.run?.protocol as { kind?: string; startHz?: number; stopHz?: number; sweep?: 'linear' | 'log'; durationS?: number } | undefined;
  const fromProtocol = proto?.kind === 'chirp';
  const f0 = p.f0 ?? (fromProtocol ? proto.startHz : undefined);
  const f1 = p.f1 ?? (fromProtocol ? proto.stopHz : undefined);
  if (f0 === undefined || f1 === undefined) {
    throw new InputError(
      proto?.kind ? `the run's protocol is a ${proto.kind}, not a chirp: give f0 and f1, or one run per stimulus frequency (stepped sine)` : 'a chirp trace needs f0 and f1 (Hz)',
      '/f0',
    );
  }
  const start = p.chirp_start ?? 0;
  const sweep = p.sweep ?? (fromProtocol && p.f0 === undefined ? (proto.sweep ?? 'log') : 'linear');
  const dur = p.chirp_duration ?? (fromProtocol && proto.durationS ? proto.durationS : duration(c) - start);
  return { f0, f1, duration: dur, start, sweep };
}

/** Conductance I/V over the samples where the stimulus is at least 1 % of its largest magnitude. */
function conductanceSwing(stim: Float64Array, resp: Float64Array, a: number, b: number, voltageDriven: boolean): number {
  let vmax = 0;
  for (let i = a; i < b; i++) vmax = Math.max(vmax, Math.abs(stim[i]));
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = a; i < b; i++) {
    if (Math.abs(stim[i]) < 0.01 * vmax || vmax === 0) continue;
    const g = voltageDriven ? resp[i] / stim[i] : stim[i] / resp[i];
    if (!Number.isFinite(g)) continue;
    lo = Math.min(lo, g);
    hi = Math.max(hi, g);
  }
  return hi >= lo ? hi - lo : NaN;
}

/**
 * Per-window (chirp) or per-run (stepped sine) measures: spike rate, harmonic power ratio of the response
 * (harmonics 2-5 over the fundamental at the drive frequency) and conductance swing (max − min of G over the
 * window, G = I/V from the stimulus and response channels; NaN without a stimulus channel).
 */
function measures(sig: Signal, c: SignalChannel, spikes: Float64Array, from: number, to: number, f: number) {
  const x = physical(c);
  const a = Math.max(0, Math.round(from * c.fs));
  const b = Math.min(x.length, Math.round(to * c.fs));
  let count = 0;
  for (const t of spikes) if (t >= from && t < to) count++;
  const n = b - a;
  const seg = 2 ** Math.floor(Math.log2(Math.max(2, n)));
  const harmonics = n >= 64 && f * 5 < c.fs / 2 && f >= (2 * c.fs) / seg ? harmonicPower(x.subarray(a, b), c.fs, f, 5, seg).ratio : NaN;
  const stim = sig.channels.find((s) => s.role === 'stimulus' && s.fs === c.fs);
  const voltageDriven = stim ? stim.unit !== 'A' : true;
  const swing = stim ? conductanceSwing(physical(stim), x, a, b, voltageDriven) : NaN;
  return { count, rate: count / Math.max(1e-300, to - from), harmonics, conductanceSwing: swing };
}

/** The resonance of each measure; `no_response` (and null frequencies) when the spike counts stay within counting noise. */
function resonanceOf(points: (SweepPoint & { count: number; rate: number; harmonics: number; conductanceSwing: number })[], p: ResonanceParams) {
  const summary = (key: 'rate' | 'harmonics' | 'conductanceSwing') => {
    const pts = points.filter((q) => Number.isFinite(q[key])).map((q) => ({ frequency: q.frequency, response: q[key], span: q.span }));
    if (pts.length < 2) return null;
    return resonanceJson(resonanceSweep(pts, { onsetFraction: p.onset_fraction }));
  };
  const main = p.measure === 'conductance' ? 'conductanceSwing' : p.measure;
  const responded = p.measure !== 'rate' || aboveCountingNoise(points.map((q) => q.count));
  const byMeasure = { rate: summary('rate'), harmonics: summary('harmonics'), conductanceSwing: summary('conductanceSwing') };
  const top = responded ? byMeasure[main] : null;
  return {
    measure: p.measure,
    noResponse: !top,
    ...(top
      ? top
      : {
          reason:
            p.measure === 'rate'
              ? `no response: the spike counts per window (${Math.min(...points.map((q) => q.count))}–${Math.max(...points.map((q) => q.count))}) stay within counting noise`
              : `no response: the ${p.measure} measure is not defined on these inputs`,
          // the same fields as a resonance, undefined (one shape: common/schemas/analysis-results.ts)
          resonanceFrequencyHz: null,
          peakResponse: null,
          baselineResponse: null,
          onsetFraction: p.onset_fraction,
          onsetFrequencyHz: null,
          optimalFrequencyHz: null,
          resonanceUncertaintyHz: null,
          onsetUncertaintyHz: null,
          optimalUncertaintyHz: null,
        }),
    measures: byMeasure,
    points: points.map((q) => ({ frequencyHz: q.frequency, spanHz: q.span, response: q[main], nSpikes: q.count, rateHz: q.rate, harmonics: q.harmonics, conductanceSwing: q.conductanceSwing })),
    warnings: top ? [] : ['no response: the resonance, onset and optimal frequencies are undefined (null)'],
  };
}

/**
 * Resonance: from one chirp run (its stored chirp protocol, or f0/f1 for a trace), from a
 * frequency,response table, or from several runs at one stimulus frequency each (a stepped sine:
 * frequencies from `frequencies` or each run protocol's `frequency_param`).
 */
export function resonanceMethod(sigs: Signal[], p: ResonanceParams) {
  if (sigs.length === 1) {
    const table = sweepTable(sigs[0]);
    if (table) {
      const r = resonanceSweep(table, { onsetFraction: p.onset_fraction });
      return { ...resonanceJson(r), points: r.points.map((q) => ({ frequencyHz: q.frequency, response: q.response, spanHz: q.span })) };
    }
    const c = pickChannels(sigs[0], p.channel)[0];
    const chirp = chirpOf(sigs[0], c, p);
    const spikes = detect(c, p).times;
    const points = chirpWindows(chirp, p.windows).map((w) => ({ frequency: w.frequency, span: w.span, response: 0, ...measures(sigs[0], c, spikes, w.start, w.end, w.frequency) }));
    return { chirp: { f0Hz: chirp.f0, f1Hz: chirp.f1, sweep: chirp.sweep, durationS: chirp.duration, startS: chirp.start }, ...resonanceOf(points, p) };
  }
  const name = p.frequency_param;
  const freqs = p.frequencies ?? sigs.map((s) => Number((s.run?.protocol as Record<string, unknown> | undefined)?.[name]));
  if (freqs.length !== sigs.length) throw new InputError(`${freqs.length} frequencies for ${sigs.length} inputs`, '/frequencies');
  freqs.forEach((f, i) => {
    if (!(f > 0)) throw new InputError(`input ${i + 1}: no stimulus frequency (give frequencies, or runs whose protocol has "${name}")`, '/frequencies');
  });
  const sorted = [...freqs].sort((a, b) => a - b);
  const spanOf = (f: number) => {
    const i = sorted.indexOf(f);
    const lo = i > 0 ? (f - sorted[i - 1]) / 2 : Infinity;
    const hi = i < sorted.length - 1 ? (sorted[i + 1] - f) / 2 : Infinity;
    return 2 * Math.min(lo, hi);
  };
  const points = sigs.map((s, i) => {
    const c = pickChannels(s, p.channel)[0];
    return { frequency: freqs[i], span: spanOf(freqs[i]), response: 0, ...measures(s, c, detect(c, p).times, 0, duration(c), freqs[i]) };
  });
  return resonanceOf(points, p);
}

/**
 * The STDP curve of runs of the `stdp` protocol (Δw per pairing block from the read pulses around it,
 * stdp-pairs.ts; `channel` or the response channel) or of a table of `dt`, `dw` rows, and its two-exponential
 * fit (null with fewer than two pairs). A twin run of a circuit without plasticity is warned about.
 */
export function stdpMethod(sigs: Signal[], p: { channel?: string; tau_min?: number; tau_max?: number }) {
  const pairs: { runId?: number; dtS: number; dw: number; gBefore?: number; gAfter?: number }[] = [];
  const warnings: string[] = [];
  for (const sig of sigs) {
    if (sig.source === 'table') {
      const dt = sig.channels.find((c) => c.name === 'dt')?.samples;
      const dw = sig.channels.find((c) => c.name === 'dw')?.samples;
      if (!dt || !dw) throw new InputError('an STDP table needs columns "dt" (s, t_post - t_pre) and "dw" (relative change)');
      for (let i = 0; i < dt.length; i++) pairs.push({ dtS: dt[i], dw: dw[i] });
      continue;
    }
    const what = sig.runId !== undefined ? `run ${sig.runId}` : 'the input';
    const kind = (sig.run?.protocol as { kind?: unknown } | undefined)?.kind;
    if (kind !== 'stdp') throw new InputError(`${what} is ${kind ? `a ${String(kind)} run, not stdp` : 'not a run of the stdp protocol'}: an STDP curve needs runs of the stdp protocol or a dt,dw table`);
    let protocol;
    try {
      protocol = validateProtocol(sig.run!.protocol);
    } catch (err) {
      throw new InputError(`${what}: ${(err as Error).message}`);
    }
    const ch = p.channel ? sig.channels.find((c) => c.name === p.channel) : sig.channels.find((c) => c.role === 'response');
    if (!ch) throw new InputError(`${what} has no ${p.channel ? `channel "${p.channel}"` : 'response channel'}`, '/channel');
    for (const { dt, ...pt } of stdpPairsFromTrace(protocol, physical(ch), ch.fs)) pairs.push({ ...(sig.runId !== undefined ? { runId: sig.runId } : {}), dtS: dt, ...pt });
    // a twin run's snapshot (twin-source.ts) holds the circuit it ran
    const circuit = sig.run?.source === 'twin' ? (sig.run.twin as { circuit?: unknown } | null)?.circuit : undefined;
    const why = circuit !== undefined ? nonPlasticReason(circuit) : null;
    if (why) warnings.push(`${what}: ${why}; its STDP curve is not learning (use stdp-synapse, docs/experiments.md)`);
  }
  const fit = pairs.length >= 2 ? stdpFitJson(fitStdp(pairs.map((q) => ({ dt: q.dtS, dw: q.dw })), { tauMin: p.tau_min, tauMax: p.tau_max })) : null;
  return { pairs, fit, warnings };
}

export interface RegimeParams extends Omit<SpikeParams, 'events'> {
  /** Stored events (true), detection (false), or undefined: events for a twin run that stored them on the channel. */
  events?: boolean;
  min_rate: number;
  max_active_fraction: number;
  saturation_rate?: number;
  min_burst_fraction: number;
  max_regular_cv: number;
  oscillation_ratio: number;
  param: string;
  values?: number[];
}

/** The ladder steps of a run's stored protocol ([start, end) in s and the level), or undefined when it is not a ladder. */
export function ladderSteps(sig: Signal): { level: number; startS: number; endS: number }[] | undefined {
  const proto = sig.run?.protocol as { kind?: string } | undefined;
  if (proto?.kind !== 'ladder') return undefined;
  try {
    return protocolSegments(validateProtocol(proto)).map((s) => ({ level: s.value ?? NaN, startS: s.startS, endS: s.endS }));
  } catch {
    return undefined;
  }
}

/**
 * Regime of each input: spikes detected once on the whole channel (one threshold for the run), then the
 * features of the whole run and — for a ladder run — of each step's window (regime.ts). State channels
 * (name x_…, unit 1: a twin's device states) are passed for the latched test.
 */
function regimeOf(sig: Signal, p: RegimeParams) {
  const c = pickChannels(sig, p.channel)[0];
  // a twin run's stored spike events are the twin's own spikes (a network's are on no trace): used unless declined
  const events = p.events ?? (sig.run?.source === 'twin' && (c.spikeEvents?.length ?? 0) > 0);
  const q = { ...p, events };
  // declined (events: false): detected on the trace even for a network that declares its spikes
  const r = detect(events ? c : { ...c, eventsDefineSpikes: false }, q);
  const x = physical(c);
  // spikes from stored events carry no level: the trace's own detection threshold serves the latched and active tests
  const levels = events ? detect({ ...c, eventsDefineSpikes: false }, { ...q, events: false }) : r;
  const states = sig.channels.filter((s) => s.name.startsWith('x_') && (s.unit === '1' || s.unit === '') && s.fs === c.fs).map((s) => ({ name: s.name, values: physical(s) }));
  const baseline = levels.baseline;
  const threshold = levels.threshold;
  // the response per unit stimulus (NaN where the stimulus is off) and its lowest over the run; conduction
  // I/V from it (whichever is the current) and the conduction's median at the spikes
  const stim = sig.channels.find((s) => s.role === 'stimulus' && s.fs === c.fs && s.samples.length === c.samples.length);
  let transfer: { values: Float64Array; lowest: number; name: string; unit: string } | undefined;
  let g: Float64Array | undefined;
  let atSpikes = NaN;
  if (stim) {
    const u = physical(stim);
    let umax = 0;
    for (const v of u) umax = Math.max(umax, Math.abs(v));
    const values = Float64Array.from(u, (v, i) => (umax > 0 && Math.abs(v) > 0.01 * umax ? Math.abs(x[i] / v) : NaN));
    let lowest = Infinity;
    for (const v of values) if (v < lowest) lowest = v;
    const unit = c.unit === 'V' && stim.unit === 'A' ? 'Ω' : c.unit === 'A' && stim.unit === 'V' ? 'S' : c.unit === stim.unit ? '' : `${c.unit}/${stim.unit}`;
    if (Number.isFinite(lowest)) transfer = { values, lowest, name: c.name, unit };
    if (unit === 'S' || unit === 'Ω') {
      g = unit === 'S' ? values : values.map((v) => 1 / v);
      const at = Array.from(r.times, (t) => g![Math.min(g!.length - 1, Math.round(t * c.fs))]).filter(Number.isFinite).sort((a, b) => a - b);
      atSpikes = at.length ? at[Math.floor(at.length / 2)] : NaN;
    }
  }
  // an SMU run records its current compliance with the bench (A when sourcing voltage)
  const compliance = (sig.run?.bench as { compliance?: unknown } | undefined)?.compliance;
  const limit = typeof compliance === 'number' && compliance > 0 && c.unit === 'A' && stim?.unit === 'V' ? compliance : undefined;
  const thresholds = { minRate: p.min_rate, maxActiveFraction: p.max_active_fraction, saturationRate: p.saturation_rate, minBurstFraction: p.min_burst_fraction, maxRegularCv: p.max_regular_cv };
  const classify = (from: number, to: number) => {
    const a = Math.max(0, Math.min(x.length, Math.round(from * c.fs)));
    const b = Math.max(a, Math.min(x.length, Math.round(to * c.fs)));
    const times = r.times.filter((t) => t >= a / c.fs && t < b / c.fs);
    const f = regimeFeatures({
      times,
      duration: (b - a) / c.fs,
      trace: x.subarray(a, b),
      fs: c.fs,
      baseline,
      threshold,
      polarity: p.polarity,
      states: states.map((s) => ({ name: s.name, values: s.values.subarray(a, b) })),
      ...(g && atSpikes > 0 ? { conduction: { values: g.subarray(a, b), atSpikes } } : {}),
      ...(transfer ? { transfer: { ...transfer, values: transfer.values.subarray(a, b) } } : {}),
      ...(limit !== undefined ? { compliance: limit } : {}),
      oscillationRatio: p.oscillation_ratio,
    });
    return classifyRegime(f, thresholds);
  };
  const whole = classify(0, duration(c));
  const steps = ladderSteps(sig)?.map((s) => {
    const k = classify(s.startS, s.endS);
    return { level: s.level, startS: s.startS, endS: s.endS, regime: k.regime, rateHz: k.features.rate, reason: k.reason, features: featuresJson(k.features) };
  });
  const spikesFrom: 'events' | 'detection' = events ? 'events' : 'detection';
  return {
    channel: c.name,
    ...(sig.runId !== undefined ? { runId: sig.runId } : {}),
    spikesFrom,
    regime: whole.regime,
    reason: whole.reason,
    features: featuresJson(whole.features),
    deadTimeS: r.deadTime,
    ...(steps ? { steps } : {}),
  };
}

export function regimeMethod(sigs: Signal[], p: RegimeParams) {
  const runs = sigs.map((s) => regimeOf(s, p));
  if (sigs.length === 1 && !p.values) return runs[0];
  const name = p.param;
  const values = p.values ?? sigs.map((s) => Number((s.run?.protocol as Record<string, unknown> | undefined)?.[name]));
  if (values.length !== sigs.length) throw new InputError(`${values.length} parameter values for ${sigs.length} inputs`, '/values');
  const diagram = phaseDiagram(
    runs.map((r, i) => ({ params: { [name]: values[i] }, regime: r.regime as Regime })),
    name,
  );
  // points as { value, regime }: a key named after the swept parameter would not survive the snake_case rule
  return { runs, phaseDiagram: { param: diagram.param, points: diagram.points.map((pt) => ({ value: pt.params[name], regime: pt.regime })), transitions: diagram.transitions } };
}

export interface CompareParams extends SpikeParams {
  with?: number;
  sim_channel?: string;
  tau: number;
  q: number;
  window?: number;
}

export function compareMethod([measured, simulated]: [Signal, Signal], p: CompareParams) {
  const cm = pickChannels(measured, p.channel)[0];
  const cs = pickChannels(simulated, p.sim_channel ?? p.channel)[0];
  const T = Math.min(duration(cm), duration(cs));
  const a = detect(cm, p).times;
  const b = detect(cs, p).times;
  const xm = physical(cm);
  const xs = physical(cs);
  const warnings: string[] = [];
  // Γ's window: given, or 2 % of the measured mean ISI, so that 2νΔ ≈ 0.04 as for Jolivet et al.'s 2 ms at 10 Hz,
  // but never below the coarser sample period: a sampled spike time is known only to its tick, while a twin's
  // event keeps its exact time inside that tick
  const tick = 1 / Math.min(cm.fs, cs.fs);
  const win = p.window ?? Math.max(tick, a.length >= 2 ? (0.02 * (a[a.length - 1] - a[0])) / (a.length - 1) : 0.002);
  const g = coincidence(a, b, win, 0, T);
  if (g.warning) warnings.push(`Γ: ${g.warning}`);
  if (g.reason) warnings.push(`Γ ${g.reason}`);
  const bothEmpty = a.length === 0 && b.length === 0;
  if (bothEmpty) warnings.push('no spikes in either train: the spike-train distances are undefined (null)');
  const dist = (f: () => number) => (bothEmpty ? NaN : f());
  // Victor–Purpura is O(n m): two long stored runs' trains would hold a pool thread for hours
  const vpPairs = a.length * b.length;
  if (vpPairs > MAX_COMPARE_PAIR_WORK) warnings.push(`Victor–Purpura not computed (null): ${a.length} × ${b.length} spikes need ${vpPairs.toExponential(1)} spike-pair operations; at most MAX_COMPARE_PAIR_WORK = ${MAX_COMPARE_PAIR_WORK.toExponential(0)} (compare shorter runs)`);
  const n = Math.min(xm.length, xs.length);
  const seg = 2 ** Math.floor(Math.log2(Math.max(2, Math.min(n, 4096))));
  // waveform and spectrum only when the samples line up
  const sameRate =
    cm.fs === cs.fs
      ? {
          waveform: { nrmse: nrmse(xm.subarray(0, n), xs.subarray(0, n)), correlation: correlation(xm.subarray(0, n), xs.subarray(0, n)) },
          psdDistanceDb: psdDistance(welch(xm.subarray(0, n), cm.fs, { segment: seg }), welch(xs.subarray(0, n), cs.fs, { segment: seg })),
        }
      : {};
  let avalancheExponents: Record<'size' | 'duration', ReturnType<typeof exponentDifference> | null> | null;
  try {
    const am = avalanchesMethod(measured, { ...p, min_tail: 10 });
    const as = avalanchesMethod(simulated, { ...p, channel: p.sim_channel ?? p.channel, min_tail: 10 });
    avalancheExponents = {
      size: am.size && as.size ? exponentDifference(am.size, as.size) : null,
      duration: am.duration && as.duration ? exponentDifference(am.duration, as.duration) : null,
    };
  } catch {
    avalancheExponents = null;
  }
  return {
    measured: { channel: cm.name, nSpikes: a.length },
    simulated: { channel: cs.name, nSpikes: b.length },
    durationS: T,
    isiDistance: dist(() => isiDistance(a, b, 0, T)),
    spikeDistance: dist(() => spikeDistance(a, b, 0, T)),
    spikeSync: dist(() => spikeSync(a, b, 0, T)),
    vanRossum: dist(() => vanRossum(a, b, p.tau, 0, T)),
    victorPurpura: vpPairs > MAX_COMPARE_PAIR_WORK ? NaN : dist(() => victorPurpura(a, b, p.q, 0, T)),
    coincidenceFactor: g.gamma,
    coincidence: { windowS: win, chance: g.chance, nCoinc: g.nCoinc, reason: g.reason },
    warnings,
    ...sameRate,
    avalancheExponents,
  };
}

/** Spike times of a run's stored spike events, s, each on its channel's clock, sorted. */
export function storedSpikeTimes(sig: Signal): Float64Array {
  const t: number[] = [];
  for (const c of sig.channels) for (const e of c.spikeEvents ?? []) t.push(e.timeS ?? e.index / c.fs);
  return Float64Array.from(t).sort();
}

/** Run length, s (longest channel). */
export function signalDuration(sig: Signal): number {
  return Math.max(0, ...sig.channels.map(duration));
}

export interface SpikeStats {
  /** Spikes (events of kind "spike") in the run. */
  nSpikes: number;
  /** Run length, s (longest channel). */
  durationS: number;
  /** nSpikes / durationS, Hz. */
  rateHz: number;
  /** Mean and coefficient of variation of the inter-spike intervals, s and 1 (null with < 2 spikes). */
  isiMeanS: number | null;
  isiCv: number | null;
  /**
   * Coarse regime from the spike train: quiescent (no spikes), oscillatory (regular, CV < 0.5), bursting
   * (CV ≥ 1), irregular (in between), saturated (the mean rate reaches a quarter of the response channel's
   * sample rate).
   */
  regime: 'quiescent' | 'oscillatory' | 'irregular' | 'bursting' | 'saturated';
}

/**
 * Spike count, rate, ISI mean and CV (population sd) of the run's stored spike events, and a coarse regime
 * (Dayan and Abbott 2001 ch. 1; CV of the ISIs as in Softky and Koch 1993).
 */
export function spikeStatsMethod(sig: Signal): SpikeStats {
  const response = sig.channels.find((c) => c.role === 'response') ?? sig.channels[0];
  const fs = response?.fs ?? 1;
  const durationS = signalDuration(sig);
  const t = storedSpikeTimes(sig);
  const nSpikes = t.length;
  const rateHz = durationS > 0 ? nSpikes / durationS : 0;
  let isiMeanS: number | null = null;
  let isiCv: number | null = null;
  if (nSpikes >= 2) {
    const isi = isis(t);
    const mean = isi.reduce((s, x) => s + x, 0) / isi.length;
    const sd = Math.sqrt(isi.reduce((s, x) => s + (x - mean) ** 2, 0) / isi.length);
    isiMeanS = mean;
    isiCv = mean > 0 ? sd / mean : null;
  }
  let regime: SpikeStats['regime'];
  if (nSpikes === 0) regime = 'quiescent';
  else if (rateHz >= fs / 4) regime = 'saturated';
  else if (isiCv === null || isiCv < 0.5) regime = 'oscillatory';
  else if (isiCv >= 1) regime = 'bursting';
  else regime = 'irregular';
  return { nSpikes, durationS, rateHz, isiMeanS, isiCv, regime };
}

/** server/analysis trainStats (rate, ISI mean/CV, LV, Fano factor, ISI histogram, autocorrelogram) of the stored spike events. */
export function spikeTrainMethod(sig: Signal) {
  return trainJson(trainStats(storedSpikeTimes(sig), { tStart: 0, tEnd: signalDuration(sig) }));
}

/** Phase of unit B's spikes in unit A's cycle (server/analysis/phase.ts); `channels` = [A, B]. */
export function phaseMethod(sig: Signal, p: SpikeParams & { channels: string[]; tolerance?: number }) {
  if (p.channels.length !== 2) throw new InputError(`channels must name two channels, reference first (got ${p.channels.length})`, '/channels');
  const [a, b] = p.channels.map((name) => {
    const c = pickChannels(sig, name)[0];
    return { name: c.name, spikes: detect(c, p) };
  });
  const { times, n, ...r } = spikePhases(a.spikes.times, b.spikes.times, { tolerance: p.tolerance });
  return { reference: { channel: a.name, nSpikes: a.spikes.times.length }, unit: { channel: b.name, nSpikes: b.spikes.times.length }, deadTimeS: a.spikes.deadTime, ...r, timesS: times, nPhases: n };
}
