/**
 * The analysis registry: every analysis declared once as { name, params schema, inputs, run }. From it
 * are derived the CLI commands and flags (server/cli/commands/analyze.ts), the API routes and
 * `GET /api/analyses` (server/api/routes/analysis.ts), the stored result (json.ts, results.ts: snake_case JSON
 * under the name and canonical parameters), and the analyses auto-pairing and sweeps run on runs.
 *
 * Input kinds:
 *   signal   one run (stored with it) or a trace file (CSV/NPY)
 *   signals  one or several runs/files; one input behaves as `signal`, several give one combined result;
 *            with `table`, a CSV table with the columns named in `table.columns` (or `table.key` rows in the
 *            API body) instead (resonance: frequency,response; stdp: dt,dw)
 *   pair     a measured and a simulated input; stored on the measured run (`with` = the simulated run)
 *   values   a list of numbers (file, or `values` in the API body)
 *   trains   spike trains, one per line (file, or `trains` in the API body)
 *   events   one run's stored spike events (spike-stats, spike-train: the sweeps' and pairing's summaries)
 */
import { Type, type Static, type TObject, type TSchema } from 'typebox';
import { ANALYSIS_RESULT_SCHEMAS, type AnalysisName, type AnalysisResults } from '../../common/schemas/analysis-results.ts';
import { toJson, type ExtraFields } from './json.ts';
import { comparePowerLaw, fitPowerLaw, powerLawWarnings, type PowerLawFit, type PowerLawOptions } from '../analysis/powerlaw.ts';
import { distanceMatrix, type DistanceMetric } from '../analysis/distances.ts';
import { BURST_PARAMS, SPIKE_PARAMS, band, channel, choice, flag, int, names, num, numbers, optChoice, optFlag, text } from './params.ts';
import { InputError, type Signal } from './inputs.ts';
import {
  avalanchesMethod,
  burstsMethod,
  compareMethod,
  phaseMethod,
  powerLawFitJson,
  psdMethod,
  regimeMethod,
  resonanceMethod,
  spikeStatsMethod,
  spikeTrainMethod,
  spikesMethod,
  stdpMethod,
} from './methods.ts';
import { powerLawPValueParallel } from './bootstrap.ts';
import { WorkerPool, type TaskRunner } from '../workers/pool.ts';

export type InputKind = 'signal' | 'signals' | 'pair' | 'values' | 'trains' | 'events';

export interface InputOf {
  signal: Signal;
  signals: Signal[];
  pair: [Signal, Signal];
  values: Float64Array;
  trains: Float64Array[];
  events: Signal;
}

export interface RunContext {
  /** Progress of long computations (bootstrap replicates). */
  onProgress?: (done: number, total: number) => void;
  /** The worker pool for heavy analyses (the server's); without it one is started for the call. */
  pool?: TaskRunner;
}

/** The result of any analysis, as stored and sent. */
export type AnalysisResult = AnalysisResults[AnalysisName];

export interface AnalysisDef<K extends InputKind = InputKind, P extends TObject = TObject, R = AnalysisResult> {
  name: string;
  title: string;
  description: string;
  /** The method's source (paper or tool); docs/analysis.md has the details. */
  source: string;
  inputs: K;
  /** A table instead of traces (`signals` inputs): the columns a CSV must have and the API body key of the rows. */
  table?: { key: string; columns: string[] };
  /** Runs it takes, by protocol kind (default: any); the dashboard offers it only on these runs. */
  protocols?: string[];
  params: P;
  /**
   * The result as stored and sent (common/schemas/analysis-results.ts): the API's response schema, the CLI's
   * --json, GET /api/analyses and docs/analysis.md "Results" come from it; test/analysis-results.test.ts
   * checks every analysis's real result against it.
   */
  result: TSchema;
  /** The result as stored and sent: JSON of the type `result` declares (the method's output through toJson). */
  run(input: InputOf[K], params: Static<P>, ctx: RunContext): R | Promise<R>;
}

/**
 * One analysis; its result schema must be the one common/schemas names for it (the dashboard's types), and
 * `run` must return that schema's Static type and no field beyond it: a method whose output (through
 * toJson) drifts from the schema (a field missing, added or of another type) fails the typecheck here,
 * not only test/analysis-results.test.ts at run time.
 */
function define<N extends AnalysisName, K extends InputKind, P extends TObject, R extends AnalysisResults[N]>(
  d: AnalysisDef<K, P, R> & { name: N; result: (typeof ANALYSIS_RESULT_SCHEMAS)[N] } & Closed<R, AnalysisResults[N]>,
): AnalysisDef<K, P> {
  return d;
}

/** A result with a field its closed schema lacks names it (TypeScript itself lets extra fields pass). */
type Closed<R, S> = [ExtraFields<R, S>] extends [never] ? unknown : { 'result fields the schema lacks': ExtraFields<R, S> };

const obj = <T extends Parameters<typeof Type.Object>[0]>(props: T) => Type.Object(props, { additionalProperties: false });

const spikes = define({
  name: 'spikes',
  title: 'Spikes',
  description: 'Detect spikes; per channel times, peaks, widths, rate, ISI statistics, autocorrelogram, adaptation',
  source: 'Quian Quiroga et al. 2004 (robust noise); IEEE Std 181-2011 (mesial level); Shinomoto et al. 2003 (LV)',
  inputs: 'signal',
  params: obj({
    ...SPIKE_PARAMS,
    modes: flag({ title: 'Modes', description: 'Gaussian-mixture modes (BIC) of amplitude, width and log10 ISI' }),
    max_k: int({ title: 'Most mixture components', default: 5, minimum: 1, maximum: 20 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.spikes,
  run: (sig, p) => toJson(spikesMethod(sig, p)),
});

const bursts = define({
  name: 'bursts',
  title: 'Bursts',
  description: 'Bursts (log-ISI histogram or max-interval method): rate, duration, spikes per burst',
  source: 'Pasquale et al. 2010 (log-ISI); NeuroExplorer max-interval (Cotterill et al. 2016)',
  inputs: 'signal',
  params: obj({ ...SPIKE_PARAMS, ...BURST_PARAMS }),
  result: ANALYSIS_RESULT_SCHEMAS.bursts,
  run: (sig, p) => toJson(burstsMethod(sig, p)),
});

const avalanches = define({
  name: 'avalanches',
  title: 'Avalanches',
  description: 'Neuronal avalanches from spikes on all channels: size/duration power laws, branching ratio, crackling-noise scaling',
  source: 'Beggs and Plenz 2003; Clauset et al. 2009; Friedman et al. 2012',
  inputs: 'signal',
  params: obj({
    ...SPIKE_PARAMS,
    bin_width: num({ title: 'Bin width', unit: 's', description: 'default: mean inter-event interval', exclusiveMinimum: 0, cli: { flag: '--bin' } }),
    min_tail: int({ title: 'Smallest tail', description: 'smallest tail for the power-law xmin scan', default: 10, minimum: 2 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.avalanches,
  run: (sig, p) => toJson(avalanchesMethod(sig, p)),
});

const psd = define({
  name: 'psd',
  title: 'Power spectrum',
  description: 'Welch power spectral density, dominant frequencies, band power, oscillation detection',
  source: 'Welch 1967',
  inputs: 'signal',
  params: obj({
    channel,
    segment: int({ title: 'Welch segment', description: 'segment length, samples (power of two); default: up to 4096', minimum: 2, maximum: 2 ** 26 }),
    band: band({ title: 'Band', unit: 'Hz', description: 'report the power in this band' }),
    peaks: int({ title: 'Dominant frequencies', default: 3, minimum: 1, maximum: 100 }),
    oscillation_ratio: num({ title: 'Oscillation ratio', description: 'peak/background ratio that counts as an oscillation', default: 10, minimum: 1 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.psd,
  run: (sig, p) => toJson(psdMethod(sig, p)),
});

const resonance = define({
  name: 'resonance',
  title: 'Resonance',
  description:
    'Resonance sweep: response per frequency (spike rate, harmonic power, conductance swing), resonance, onset and optimal operating frequency with their resolution. One input: a chirp run (read from its protocol), a chirp trace with f0/f1, or a frequency,response table; several inputs: one run per stimulus frequency (stepped sine)',
  source: 'Xu, Gottwald, Kuncic 2026',
  inputs: 'signals',
  table: { key: 'points', columns: ['frequency', 'response'] },
  params: obj({
    ...SPIKE_PARAMS,
    f0: num({ title: 'Chirp start frequency', unit: 'Hz', description: "default: the run's chirp protocol", minimum: 0 }),
    f1: num({ title: 'Chirp end frequency', unit: 'Hz', description: "default: the run's chirp protocol", minimum: 0 }),
    sweep: optChoice(['linear', 'log'], { title: 'Chirp sweep', description: "default: the run's chirp protocol (log when it names none), linear for f0/f1" }),
    chirp_start: num({ title: 'Chirp start', unit: 's', description: 'chirp start time in the trace', minimum: 0 }),
    chirp_duration: num({ title: 'Chirp duration', unit: 's', description: 'default: to the end', exclusiveMinimum: 0 }),
    windows: int({ title: 'Windows', description: 'frequency windows along the chirp', default: 20, minimum: 2, maximum: 1_000_000 }),
    frequencies: numbers({ title: 'Stimulus frequencies', unit: 'Hz', description: "several inputs: stimulus frequency of each (default: each run protocol's frequency_param)" }),
    frequency_param: text({ title: 'Frequency parameter', description: 'several inputs: protocol parameter holding the stimulus frequency', default: 'frequencyHz' }),
    measure: choice(['rate', 'harmonics', 'conductance'], {
      title: 'Response measure',
      description: 'spike rate, power at harmonics 2-5 relative to the fundamental, or conductance swing (all three are reported; this one decides the resonance)',
      default: 'rate',
    }),
    onset_fraction: num({ title: 'Onset fraction', description: 'onset: first frequency where the response exceeds this fraction of its rise to the peak', default: 0.1, exclusiveMinimum: 0, maximum: 1 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.resonance,
  run: (sigs, p) => toJson(resonanceMethod(sigs, p)),
});

const REGIME_THRESHOLDS = {
  min_rate: num({ title: 'Quiescent below', unit: 'Hz', default: 0.1, minimum: 0 }),
  max_active_fraction: num({ title: 'Saturated active fraction', description: 'fraction of samples beyond threshold that means saturated', default: 0.5, minimum: 0, maximum: 1 }),
  saturation_rate: num({ title: 'Saturated rate', unit: 'Hz', description: 'rate at or above which the run is saturated', exclusiveMinimum: 0 }),
  min_burst_fraction: num({ title: 'Bursting burst fraction', description: 'fraction of spikes in bursts (with bimodal intervals) that means bursting', default: 0.5, minimum: 0, maximum: 1 }),
  max_regular_cv: num({ title: 'Regular CV', description: 'CV at or below which firing counts as oscillatory', default: 0.3, minimum: 0 }),
  oscillation_ratio: num({ title: 'Oscillation ratio', description: 'spectral peak/background ratio that counts as an oscillation', default: 10, minimum: 1 }),
};

const regime = define({
  name: 'regime',
  title: 'Regime',
  description: 'Classify runs as quiescent, oscillatory, bursting, saturated (or irregular), a ladder run also step by step (`steps`); with several inputs, a phase diagram over `param`',
  source: 'Hochstetter et al. 2021',
  inputs: 'signals',
  params: obj({
    ...SPIKE_PARAMS,
    events: optFlag({
      title: 'Stored events',
      description: "run input: spikes from the events stored with the run; default: yes for a twin run that stored spike events on the channel (the twin's own spikes, e.g. a network's), else detected on the trace",
    }),
    ...REGIME_THRESHOLDS,
    param: text({ title: 'Swept parameter', description: 'several inputs: read from each run protocol, or given by values', default: 'amplitude' }),
    values: numbers({ title: 'Parameter values', description: 'several inputs: the parameter value of each input' }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.regime,
  run: (sigs, p) => toJson(regimeMethod(sigs, p)),
});

const compare = define({
  name: 'compare',
  title: 'Measured vs simulated',
  description:
    'Measured vs simulated: ISI/SPIKE distances, SPIKE-sync, van Rossum, Victor-Purpura, Γ, waveform NRMSE and r, PSD distance, avalanche exponent differences. Without a simulated input, a run is compared with its linked twin run',
  source: 'Kreuz et al. 2007/2013/2015; van Rossum 2001; Victor and Purpura 1996; Kistler et al. 1997',
  inputs: 'pair',
  params: obj({
    ...SPIKE_PARAMS,
    with: int({ title: 'Simulated run', description: 'run id of the simulated (twin) run; default: the twin run linked to this run', minimum: 1, cli: { hidden: true } }),
    sim_channel: text({ title: 'Simulated channel', description: 'channel of the simulated input (default: same as channel)' }),
    tau: num({ title: 'van Rossum τ', unit: 's', default: 0.01, exclusiveMinimum: 0 }),
    q: num({ title: 'Victor-Purpura cost', unit: '1/s', default: 100, minimum: 0 }),
    window: num({ title: 'Γ coincidence window', unit: 's', description: "default: 2 % of the measured train's mean ISI (2νΔ ≈ 0.04), at least one sample period", exclusiveMinimum: 0 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.compare,
  run: (pair, p) => toJson(compareMethod(pair, p)),
});

const { channel: _one, ...SPIKE_DETECTION } = SPIKE_PARAMS;

const phase = define({
  name: 'phase',
  title: 'Phase',
  description: "Phase of unit B's spikes in unit A's cycle (0..1): mean phase, circular SD, vector strength, locking time; the transient before locking is excluded",
  source: 'Pikovsky et al. 2001 (linear phase); Mardia and Jupp 2000 (circular statistics); Goldberg and Brown 1969 (vector strength)',
  inputs: 'signal',
  params: obj({
    channels: names({ title: 'Channels', description: 'the reference unit A and the unit B, e.g. v_outA,v_outB', minItems: 2, maxItems: 2 }),
    ...SPIKE_DETECTION,
    tolerance: num({ title: 'Locking tolerance', description: 'phases within this many cycles of the locked phase count as locked; default: max(0.05, 3 circular SDs)', exclusiveMinimum: 0, maximum: 0.5 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.phase,
  run: (sig, p) => toJson(phaseMethod(sig, p)),
});

const stdp = define({
  name: 'stdp',
  title: 'STDP curve',
  description: 'Δw per pairing block of runs of the stdp protocol (read pulses around each block), or a dt,dw table, and the fitted STDP curve Δw(Δt): A+ exp(-Δt/τ+) for Δt > 0, -A- exp(Δt/τ-) for Δt < 0',
  source: 'Bi and Poo 1998; Song et al. 2000',
  inputs: 'signals',
  table: { key: 'pairs', columns: ['dt', 'dw'] },
  protocols: ['stdp'],
  params: obj({
    channel: text({ title: 'Channel', description: 'runs of the stdp protocol: the channel read (default: the response channel)' }),
    tau_min: num({ title: 'Smallest τ', unit: 's', default: 1e-6, exclusiveMinimum: 0 }),
    tau_max: num({ title: 'Largest τ', unit: 's', default: 10, exclusiveMinimum: 0 }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.stdp,
  run: (sigs, p) => toJson(stdpMethod(sigs, p)),
});

const powerlaw = define({
  name: 'powerlaw',
  title: 'Power law',
  description: 'Fit a power law (Clauset-Shalizi-Newman 2009): MLE alpha, xmin by minimum KS distance, bootstrap p-value, likelihood-ratio tests',
  source: 'Clauset, Shalizi, Newman 2009',
  inputs: 'values',
  params: obj({
    kind: optChoice(['discrete', 'continuous'], { title: 'Kind', description: 'default: discrete when every value is an integer', cli: { asFlags: true } }),
    xmin: num({ title: 'Fixed xmin', description: 'fix xmin instead of scanning for the KS minimum', exclusiveMinimum: 0 }),
    min_tail: int({ title: 'Smallest tail', description: 'smallest tail an xmin candidate may leave', default: 10, minimum: 2 }),
    // 2,500 replicates give p to within about 0.01 (Clauset, Shalizi & Newman 2009, sec. 4.1); more only costs
    bootstrap: int({ title: 'Bootstrap replicates', description: 'goodness-of-fit p-value from this many semi-parametric bootstrap replicates (worker threads); at most 2,500 (p to about 0.01)', minimum: 1, maximum: 2500 }),
    seed: int({ title: 'Bootstrap seed', default: 1, minimum: 0, maximum: 2 ** 32 - 1 }),
    threads: int({ title: 'Bootstrap threads', description: 'CLI: worker threads (default: all cores); the server uses its pool', minimum: 1, maximum: 1024 }),
    compare: flag({ title: 'Compare', description: 'likelihood-ratio tests against exponential, lognormal and truncated power law' }),
    ks: choice(['plfit', 'ecdf', 'powerlaw'], {
      title: 'KS distance',
      description:
        "continuous data: plfit (as Clauset's plfit.m, reproduces the published xmin), ecdf (the proper empirical CDF) or powerlaw (as the Python powerlaw package, CDF below each distinct value); they differ on tied values",
      default: 'plfit',
    }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.powerlaw,
  async run(values, p, ctx) {
    const kind = p.kind ?? (values.every((v) => v === Math.floor(v)) ? 'discrete' : 'continuous');
    const opts = { kind, minTail: p.min_tail, ks: p.ks, ...(p.xmin !== undefined ? { xmin: p.xmin } : {}) } as const;
    const fit = fitPowerLaw(values, opts);
    const b = p.bootstrap ? await bootstrap(values, fit, opts, p.bootstrap, p, ctx) : undefined;
    return toJson({
      ...powerLawFitJson(fit),
      kind,
      pValue: b?.p_value,
      bootstrap: b && { nReps: b.reps, nExceed: b.exceed, nThreads: b.threads, seed: p.seed },
      compare: p.compare ? comparePowerLaw(values, fit) : undefined,
      warnings: powerLawWarnings(fit, b?.p_value),
    });
  },
});

/** The bootstrap p-value on the given pool, or on one started for the call. */
async function bootstrap(values: Float64Array, fit: PowerLawFit, opts: PowerLawOptions, reps: number, p: { threads?: number; seed: number }, ctx: RunContext) {
  const pool = ctx.pool ?? new WorkerPool({ threads: p.threads });
  return powerLawPValueParallel(pool, values, fit, opts, reps, { seed: p.seed, onProgress: ctx.onProgress }).finally(() => (ctx.pool ? undefined : pool.close()));
}

const distance = define({
  name: 'distance',
  title: 'Spike-train distances',
  description: 'Pairwise spike-train distances (ISI, SPIKE, SPIKE-sync, van Rossum, Victor-Purpura)',
  source: 'Kreuz et al. 2007/2013/2015; van Rossum 2001; Victor and Purpura 1996',
  inputs: 'trains',
  params: obj({
    metric: choice(['isi', 'spike', 'spike-sync', 'van-rossum', 'victor-purpura'], { title: 'Metric' }),
    tau: num({ title: 'van Rossum τ', unit: 's', default: 0.01, exclusiveMinimum: 0 }),
    q: num({ title: 'Victor-Purpura cost', unit: '1/s', default: 100, minimum: 0 }),
    t_start: num({ title: 'Window start', unit: 's', description: 'default: earliest spike' }),
    t_end: num({ title: 'Window end', unit: 's', description: 'default: latest spike' }),
  }),
  result: ANALYSIS_RESULT_SCHEMAS.distance,
  run(trains, p) {
    if (trains.length < 2) throw new InputError(`need at least 2 trains, found ${trains.length}`, '/trains');
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of trains) if (t.length) (lo = Math.min(lo, t[0])), (hi = Math.max(hi, t[t.length - 1]));
    const tStart = p.t_start ?? (Number.isFinite(lo) ? lo : 0);
    const tEnd = p.t_end ?? (Number.isFinite(hi) && hi > tStart ? hi : tStart + 1);
    const metric: DistanceMetric = p.metric;
    const r = distanceMatrix(trains, metric, { tStart, tEnd, tau: p.tau, q: p.q });
    return toJson({ metric, nTrains: trains.length, startS: tStart, endS: tEnd, ...(metric === 'van-rossum' ? { tauS: p.tau } : {}), ...(metric === 'victor-purpura' ? { q: p.q } : {}), matrix: r.matrix, mean: r.mean, warnings: r.warnings });
  },
});

const spikeStats = define({
  name: 'spike-stats',
  title: 'Spike statistics',
  description: 'Spike count, rate, ISI mean and CV and a coarse regime from the spike events stored with the run (the sweeps’ curves)',
  source: 'Dayan and Abbott 2001 ch. 1 (rate, ISI); Softky and Koch 1993 (ISI CV)',
  inputs: 'events',
  params: obj({}),
  result: ANALYSIS_RESULT_SCHEMAS['spike-stats'],
  run: (sig) => toJson(spikeStatsMethod(sig)),
});

const spikeTrain = define({
  name: 'spike-train',
  title: 'Spike-train statistics',
  description: 'Rate, ISI mean/CV, LV, Fano factor, ISI histogram and autocorrelogram of the spike events stored with the run',
  source: 'Shinomoto et al. 2003 (LV)',
  inputs: 'events',
  params: obj({}),
  result: ANALYSIS_RESULT_SCHEMAS['spike-train'],
  run: (sig) => toJson(spikeTrainMethod(sig)),
});

/** Every analysis, in the order the CLI help and `GET /api/analyses` list them. */
export const ANALYSES: readonly AnalysisDef[] = [powerlaw, distance, spikes, bursts, avalanches, psd, resonance, phase, stdp, regime, compare, spikeStats, spikeTrain];

export function findAnalysis(name: string): AnalysisDef | undefined {
  return ANALYSES.find((a) => a.name === name);
}

/** Analyses that take one run (signal, signals, pair, events): the ones a run can have stored, and auto-pairing can run. */
export const RUN_ANALYSES = ANALYSES.filter((a) => a.inputs === 'signal' || a.inputs === 'signals' || a.inputs === 'pair' || a.inputs === 'events').map((a) => a.name);
