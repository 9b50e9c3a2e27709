/**
 * `spikeloop analyze ...`: the analyses of server/analysis from the command line.
 *
 *   analyze powerlaw <file> [--discrete | --continuous] [--xmin <v>] [--bootstrap <reps>] [--compare] --json
 *   analyze distance <file> --metric isi|spike|spike-sync|van-rossum|victor-purpura [--tau <s>] [--q <1/s>]
 *                    [--t-start <s>] [--t-end <s>] --json
 *   analyze <spikes|bursts|avalanches|psd|resonance|stdp|regime|compare> <runId | file.csv | file.npy> [options] --json
 *
 * Run inputs read the database (--db); their results are stored with the run and reused when the same
 * method is asked again with the same parameters (--recompute forces a new computation).
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { DEFAULT_DB, numberIn, progressBar } from '../shared.ts';
import type { Signal } from '../../analyze/inputs.ts';

const num = (name: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE) => numberIn(name, min, max);
const int = (name: string, min: number, max: number) => numberIn(name, min, max, true);

function pair(name: string) {
  return (v: string): [number, number] => {
    const p = v.split(/[,:]/).map(Number);
    if (p.length !== 2 || !p.every(Number.isFinite) || !(p[1] > p[0])) throw new Error(`${name} must be "low,high" with low < high`);
    return [p[0], p[1]];
  };
}

function list(name: string) {
  return (v: string): number[] => {
    const p = v.split(',').map(Number);
    if (!p.every(Number.isFinite)) throw new Error(`${name} must be comma-separated numbers`);
    return p;
  };
}

function print(obj: unknown, json: boolean, text?: () => string): void {
  const replacer = (_k: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);
  if (json) console.log(JSON.stringify(obj, replacer));
  else console.log(text ? text() : JSON.stringify(obj, replacer, 2));
}

interface InputOpts {
  db: string;
  rate?: number;
  scale?: number;
  offset?: number;
  recompute?: boolean;
}

/** A run id (digits, not an existing file), a .csv or a .npy file. */
async function loadInput(input: string, o: InputOpts): Promise<{ signal: Signal; close: () => void; store?: import('../../store/run-store.ts').RunStore }> {
  const inputs = await import('../../analyze/inputs.ts');
  if (/^\d+$/.test(input) && !existsSync(input)) {
    if (!existsSync(o.db)) throw new Error(`no database at ${o.db} (pass --db)`);
    const { RunStore } = await import('../../store/run-store.ts');
    let store: import('../../store/run-store.ts').RunStore;
    try {
      store = RunStore.open(o.db);
    } catch {
      // another process holds the writer lock (a running server): read only, results not stored
      store = RunStore.open(o.db, { readonly: true });
    }
    try {
      return { signal: inputs.readRunSignal(store, Number(input)), store, close: () => store.close() };
    } catch (e) {
      store.close();
      throw e;
    }
  }
  if (!existsSync(input)) throw new Error(`no such file or run: ${input}`);
  if (input.toLowerCase().endsWith('.npy')) return { signal: inputs.readNpySignal(input, o.rate, o.scale, o.offset), close: () => {} };
  return { signal: inputs.readCsvSignal(input, o.rate), close: () => {} };
}

function inputOptions(c: Command): Command {
  return c
    .option('--db <file>', 'SQLite database file (run inputs)', DEFAULT_DB)
    .option('--rate <Hz>', 'sample rate of a CSV/NPY input (default 1: times in samples)', num('--rate', Number.MIN_VALUE))
    .option('--scale <v>', 'NPY input: physical = raw * scale + offset', num('--scale'))
    .option('--offset <v>', 'NPY input: physical = raw * scale + offset', num('--offset'))
    .option('-c, --channel <name>', 'channel name (default: every response channel)')
    .option('--recompute', 'run input: compute again even if a stored result exists', false)
    .option('--json', 'print one JSON object on stdout', false);
}

function spikeOptions(c: Command): Command {
  return c
    .addOption(new Option('--threshold <mode>', 'threshold mode').choices(['robust', 'sd', 'absolute']).default('robust'))
    .option('-k, --k <k>', 'multiplier of the robust noise (median|x|/0.6745) or SD', num('-k', Number.MIN_VALUE), 5)
    .option('--value <v>', 'absolute threshold level, physical unit', num('--value'))
    .addOption(new Option('--polarity <p>', 'spike polarity').choices(['positive', 'negative', 'both']).default('positive'))
    .option('--refractory <s>', 'dead time after each spike, s', num('--refractory', 0), 0.001)
    .option('--bandpass <lo,hi>', 'zero-phase Butterworth band-pass before detection, Hz', pair('--bandpass'))
    .option('--switching', 'detect memristive switching events on dG/dt (channel read as conductance, S)', false)
    .option('--events', 'run input: use the spike events stored with the run instead of detecting spikes', false);
}

type Opts = Record<string, unknown> & InputOpts & { channel?: string; json: boolean };

function spikeParams(o: Opts) {
  return {
    channel: o.channel,
    threshold: o.threshold as 'robust' | 'sd' | 'absolute',
    k: o.k as number,
    value: o.value as number | undefined,
    polarity: o.polarity as 'positive' | 'negative' | 'both',
    refractory: o.refractory as number,
    bandpass: o.bandpass as [number, number] | undefined,
    switching: Boolean(o.switching),
    ...(o.events ? { events: true } : {}),
  };
}

async function runSignalMethod(input: string, o: Opts, method: string, params: Record<string, unknown>, compute: (s: Signal) => unknown): Promise<void> {
  const { signal, store, close } = await loadInput(input, o);
  try {
    if (store && signal.runId !== undefined) {
      const { analyzeRun } = await import('../../analyze/methods.ts');
      const r = analyzeRun(store, signal.runId, method, params, () => compute(signal), { recompute: o.recompute });
      print(r, o.json);
    } else {
      print({ input, method, params, result: compute(signal) }, o.json);
    }
  } finally {
    close();
  }
}

export function register(program: Command): void {
  const analyze = program
    .command('analyze')
    .description('Analyses of runs and files: power laws, spike-train distances, spikes, bursts, avalanches, spectra, resonance, STDP, regimes');

  analyze
    .command('powerlaw')
    .description('Fit a power law (Clauset-Shalizi-Newman 2009) to the values in <file> (one per line)')
    .argument('<file>', 'values, one per line (commas or spaces also accepted)')
    .option('--discrete', 'integer data: discrete MLE via the Hurwitz zeta function (default when all values are integers)')
    .option('--continuous', 'continuous MLE')
    .option('--xmin <v>', 'fix xmin instead of scanning for the KS minimum', num('--xmin', Number.MIN_VALUE))
    .option('--min-tail <n>', 'smallest tail an xmin candidate may leave', int('--min-tail', 2, 1e9), 10)
    .option('--bootstrap <reps>', 'goodness-of-fit p-value from this many semi-parametric bootstrap replicates (all cores)', int('--bootstrap', 1, 1e7))
    .option('--seed <n>', 'bootstrap seed', int('--seed', 0, 2 ** 32 - 1), 1)
    .option('--threads <n>', 'bootstrap worker threads (default: all cores)', int('--threads', 1, 1024))
    .option('--compare', 'likelihood-ratio tests against exponential, lognormal and truncated power law', false)
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (file: string, o: { discrete?: boolean; continuous?: boolean; xmin?: number; minTail: number; bootstrap?: number; seed: number; threads?: number; compare: boolean; json: boolean }) => {
      if (o.discrete && o.continuous) throw new Error('--discrete and --continuous exclude each other');
      const { readValues } = await import('../../analyze/inputs.ts');
      const { fitPowerLaw, comparePowerLaw } = await import('../../analysis/powerlaw.ts');
      const data = readValues(file);
      const kind = o.discrete ? 'discrete' : o.continuous ? 'continuous' : data.every((v) => v === Math.floor(v)) ? 'discrete' : 'continuous';
      const opts = { kind, minTail: o.minTail, ...(o.xmin !== undefined ? { xmin: o.xmin } : {}) } as const;
      const fit = fitPowerLaw(data, opts);
      const out: Record<string, unknown> = {
        kind,
        alpha: fit.alpha,
        alpha_se: fit.alphaSe,
        xmin: fit.xmin,
        n_tail: fit.nTail,
        n: fit.n,
        ks_d: fit.ksD,
        log_likelihood: fit.logLik,
      };
      if (o.bootstrap) {
        const [{ powerLawPValueParallel }, { WorkerPool }] = await Promise.all([import('../../analyze/bootstrap.ts'), import('../../workers/pool.ts')]);
        const pool = new WorkerPool({ threads: o.threads });
        const bar = progressBar(o.bootstrap, 'bootstrap [{bar}] {value}/{total} replicates');
        const b = await powerLawPValueParallel(pool, data, fit, opts, o.bootstrap, { seed: o.seed, onProgress: (d) => bar.update(d) }).finally(() => pool.close());
        bar.stop();
        out.p_value = b.p_value;
        out.bootstrap = { reps: b.reps, exceed: b.exceed, threads: b.threads, seed: o.seed };
      }
      if (o.compare) out.compare = comparePowerLaw(data, fit);
      print(out, o.json, () =>
        [
          `${kind} power law: alpha = ${fit.alpha.toFixed(4)} ± ${fit.alphaSe.toFixed(4)}, xmin = ${fit.xmin}, n_tail = ${fit.nTail} of ${fit.n}, KS D = ${fit.ksD.toFixed(5)}`,
          ...(out.p_value !== undefined ? [`bootstrap p = ${out.p_value}`] : []),
          ...(o.compare
            ? Object.entries(out.compare as Record<string, { R: number; p: number }>).map(([k, v]) => `vs ${k}: R = ${v.R.toFixed(3)}, p = ${v.p.toPrecision(3)}`)
            : []),
        ].join('\n'),
      );
    });

  analyze
    .command('distance')
    .description('Pairwise spike-train distances of the trains in <file> (one train per line)')
    .argument('<file>', 'one spike train per line, times in s separated by spaces or commas')
    .addOption(new Option('--metric <m>', 'distance measure').choices(['isi', 'spike', 'spike-sync', 'van-rossum', 'victor-purpura']).makeOptionMandatory())
    .option('--tau <s>', 'van Rossum time constant, s', num('--tau', Number.MIN_VALUE), 0.01)
    .option('--q <1/s>', 'Victor-Purpura cost per second of shift, 1/s', num('--q', 0), 100)
    .option('--t-start <s>', 'window start, s (default: earliest spike)', num('--t-start'))
    .option('--t-end <s>', 'window end, s (default: latest spike)', num('--t-end'))
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (file: string, o: { metric: string; tau: number; q: number; tStart?: number; tEnd?: number; json: boolean }) => {
      const { readTrains } = await import('../../analyze/inputs.ts');
      const { distanceMatrix } = await import('../../analysis/distances.ts');
      const trains = readTrains(file);
      if (trains.length < 2) throw new Error(`${file}: need at least 2 trains, found ${trains.length}`);
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of trains) if (t.length) (lo = Math.min(lo, t[0])), (hi = Math.max(hi, t[t.length - 1]));
      const tStart = o.tStart ?? (Number.isFinite(lo) ? lo : 0);
      const tEnd = o.tEnd ?? (Number.isFinite(hi) && hi > tStart ? hi : tStart + 1);
      const r = distanceMatrix(trains, o.metric as 'isi', { tStart, tEnd, tau: o.tau, q: o.q });
      print({ metric: o.metric, n: trains.length, t_start: tStart, t_end: tEnd, ...(o.metric === 'van-rossum' ? { tau: o.tau } : {}), ...(o.metric === 'victor-purpura' ? { q: o.q } : {}), matrix: r.matrix, mean: r.mean }, o.json, () =>
        [`${o.metric} over [${tStart}, ${tEnd}] s, mean over pairs = ${r.mean}`, ...r.matrix.map((row) => row.map((v) => v.toFixed(4)).join(' '))].join('\n'),
      );
    });

  spikeOptions(inputOptions(analyze.command('spikes').description('Detect spikes; per channel times, peaks, widths, rate, ISI statistics, autocorrelogram, adaptation').argument('<input>', 'runId, file.csv or file.npy')))
    .option('--modes', 'Gaussian-mixture modes (BIC) of amplitude, width and log10 ISI', false)
    .option('--max-k <n>', 'most mixture components tried', int('--max-k', 1, 20), 5)
    .action(async (input: string, o: Opts) => {
      const params = { ...spikeParams(o), modes: Boolean(o.modes), maxK: o.maxK as number };
      const { spikesMethod } = await import('../../analyze/methods.ts');
      await runSignalMethod(input, o, 'spikes', params, (s) => spikesMethod(s, params));
    });

  const burstOptions = (c: Command) =>
    c
      .addOption(new Option('--method <m>', 'burst detector').choices(['max-interval', 'log-isi']).default('max-interval'))
      .option('--max-begin-isi <s>', 'max-interval: largest ISI that starts a burst', num('--max-begin-isi', 0), 0.17)
      .option('--max-end-isi <s>', 'max-interval: largest ISI inside a burst', num('--max-end-isi', 0), 0.3)
      .option('--min-ibi <s>', 'max-interval: bursts closer than this merge', num('--min-ibi', 0), 0.2)
      .option('--min-duration <s>', 'max-interval: shortest burst', num('--min-duration', 0), 0.01)
      .option('--min-spikes <n>', 'fewest spikes in a burst', int('--min-spikes', 2, 1e9), 3);
  const burstParams = (o: Opts) => ({
    ...spikeParams(o),
    method: o.method as 'max-interval' | 'log-isi',
    maxBeginIsi: o.maxBeginIsi as number,
    maxEndIsi: o.maxEndIsi as number,
    minIbi: o.minIbi as number,
    minDuration: o.minDuration as number,
    minSpikes: o.minSpikes as number,
  });

  burstOptions(spikeOptions(inputOptions(analyze.command('bursts').description('Bursts (max-interval or log-ISI histogram method): rate, duration, spikes per burst').argument('<input>', 'runId, file.csv or file.npy')))).action(
    async (input: string, o: Opts) => {
      const params = burstParams(o);
      const { burstsMethod } = await import('../../analyze/methods.ts');
      await runSignalMethod(input, o, 'bursts', params, (s) => burstsMethod(s, params));
    },
  );

  spikeOptions(inputOptions(analyze.command('avalanches').description('Neuronal avalanches from spikes on all channels: size/duration power laws, branching ratio, crackling-noise scaling').argument('<input>', 'runId, file.csv or file.npy')))
    .option('--bin <s>', 'bin width, s (default: mean inter-event interval)', num('--bin', Number.MIN_VALUE))
    .option('--min-tail <n>', 'smallest tail for the power-law xmin scan', int('--min-tail', 2, 1e9), 10)
    .action(async (input: string, o: Opts) => {
      const params = { ...spikeParams(o), binWidth: o.bin as number | undefined, minTail: o.minTail as number };
      const { avalanchesMethod } = await import('../../analyze/methods.ts');
      await runSignalMethod(input, o, 'avalanches', params, (s) => avalanchesMethod(s, params));
    });

  inputOptions(analyze.command('psd').description('Welch power spectral density, dominant frequencies, band power, oscillation detection').argument('<input>', 'runId, file.csv or file.npy'))
    .option('--segment <n>', 'Welch segment length, samples (power of two)', int('--segment', 2, 2 ** 26))
    .option('--band <lo,hi>', 'report the power in this band, Hz', pair('--band'))
    .option('--peaks <n>', 'number of dominant frequencies', int('--peaks', 1, 100), 3)
    .option('--oscillation-ratio <r>', 'peak/background ratio that counts as an oscillation', num('--oscillation-ratio', 1), 10)
    .action(async (input: string, o: Opts) => {
      const params = { channel: o.channel, segment: o.segment as number | undefined, band: o.band as [number, number] | undefined, peaks: o.peaks as number, oscillationRatio: o.oscillationRatio as number };
      const { psdMethod } = await import('../../analyze/methods.ts');
      await runSignalMethod(input, o, 'psd', params, (s) => psdMethod(s, params));
    });

  spikeOptions(
    inputOptions(
      analyze
        .command('resonance')
        .description(
          'Resonance sweep: response per frequency, resonance frequency, onset and optimal operating frequency. One input: a frequency,response table, or a chirp run/trace with --f0/--f1; several inputs: one run per stimulus frequency',
        )
        .argument('<inputs...>', 'runIds or files (file.csv trace or sweep table with frequency,response; file.npy)'),
    ),
  )
    .option('--f0 <Hz>', 'chirp start frequency', num('--f0', 0))
    .option('--f1 <Hz>', 'chirp end frequency', num('--f1', 0))
    .option('--chirp-start <s>', 'chirp start time in the trace', num('--chirp-start', 0))
    .option('--chirp-duration <s>', 'chirp duration (default: to the end)', num('--chirp-duration', Number.MIN_VALUE))
    .option('--windows <n>', 'frequency windows along the chirp', int('--windows', 2, 1e6), 20)
    .option('--frequencies <list>', 'several inputs: stimulus frequency of each, Hz (default: each run protocol\'s --frequency-param)', list('--frequencies'))
    .option('--frequency-param <name>', 'several inputs: protocol parameter holding the stimulus frequency', 'frequencyHz')
    .addOption(new Option('--measure <m>', 'several inputs: response measure').choices(['rate', 'harmonics']).default('rate'))
    .option('--onset-fraction <f>', 'onset: first frequency where the response exceeds this fraction of its rise to the peak', num('--onset-fraction', Number.MIN_VALUE, 1), 0.1)
    .action(async (inputs: string[], o: Opts) => {
      const { resonanceMethod, resonanceRunsMethod } = await import('../../analyze/methods.ts');
      if (inputs.length > 1) {
        const params = { ...spikeParams(o), frequencyParam: o.frequencyParam as string, measure: o.measure as 'rate' | 'harmonics', onsetFraction: o.onsetFraction as number, ...(o.frequencies ? { frequencies: o.frequencies as number[] } : {}) };
        const loaded = [];
        try {
          for (const i of inputs) loaded.push(await loadInput(i, o));
          print({ inputs, method: 'resonance', params, result: resonanceRunsMethod(loaded.map((l) => l.signal), params) }, o.json);
        } finally {
          for (const l of loaded) l.close();
        }
        return;
      }
      const input = inputs[0];
      const params = { ...spikeParams(o), f0: o.f0 as number | undefined, f1: o.f1 as number | undefined, chirpStart: o.chirpStart as number | undefined, chirpDuration: o.chirpDuration as number | undefined, windows: o.windows as number, onsetFraction: o.onsetFraction as number };
      if (input.toLowerCase().endsWith('.csv') && existsSync(input)) {
        const { readTable } = await import('../../analyze/inputs.ts');
        const t = readTable(input);
        if ('frequency' in t) {
          print({ input, method: 'resonance', params, result: resonanceMethod(t, params) }, o.json);
          return;
        }
      }
      await runSignalMethod(input, o, 'resonance', params, (s) => resonanceMethod(s, params));
    });

  analyze
    .command('stdp')
    .description('Fit the STDP curve Δw(Δt): A+ exp(-Δt/τ+) for Δt > 0, -A- exp(Δt/τ-) for Δt < 0')
    .argument(
      '<inputs...>',
      'runs of the stdp protocol (ids; Δw from the read pulses around each pairing block), or one CSV with columns dt (s, t_post - t_pre) and dw (relative conductance change)',
    )
    .option('--db <file>', 'SQLite database file (run inputs)', DEFAULT_DB)
    .option('--channel <name>', 'run inputs: the channel read (default: the response channel)')
    .option('--tau-min <s>', 'smallest time constant searched', num('--tau-min', Number.MIN_VALUE), 1e-6)
    .option('--tau-max <s>', 'largest time constant searched', num('--tau-max', Number.MIN_VALUE), 10)
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (inputs: string[], o: { db: string; channel?: string; tauMin: number; tauMax: number; json: boolean }) => {
      const params = { tauMin: o.tauMin, tauMax: o.tauMax };
      if (inputs.every((i) => /^\d+$/.test(i) && !existsSync(i))) {
        if (!existsSync(o.db)) throw new Error(`no database at ${o.db} (pass --db)`);
        const [{ RunStore }, { stdpCurveOfRuns, stdpCurveText }] = await Promise.all([import('../../store/run-store.ts'), import('../../experiments/stdp-runs.ts')]);
        const store = RunStore.open(o.db, { readonly: true });
        try {
          const result = stdpCurveOfRuns(store, inputs.map(Number), o.channel, params);
          print({ input: inputs.map(Number), method: 'stdp', result }, o.json, () => stdpCurveText(result));
        } finally {
          store.close();
        }
        return;
      }
      if (inputs.length !== 1) throw new Error('give run ids, or exactly one CSV file of dt,dw pairs');
      const [file] = inputs;
      const { readTable } = await import('../../analyze/inputs.ts');
      const { stdpMethod } = await import('../../analyze/methods.ts');
      if (!existsSync(file)) throw new Error(`no such file or run: ${file}`);
      print({ input: file, method: 'stdp', params, result: stdpMethod(readTable(file), params) }, o.json);
    });

  burstOptions(
    spikeOptions(
      inputOptions(
        analyze
          .command('regime')
          .description('Classify runs as quiescent, oscillatory, bursting, saturated (or irregular); with several inputs, a phase diagram over --param')
          .argument('<inputs...>', 'runIds or files'),
      ),
    ),
  )
    .option('--param <name>', 'swept parameter: read from each run protocol, or given by --values', 'amplitude')
    .option('--values <list>', 'parameter value of each input, comma-separated', list('--values'))
    .option('--min-rate <Hz>', 'below this rate: quiescent', num('--min-rate', 0), 0.1)
    .option('--max-active-fraction <f>', 'fraction of samples above threshold that means saturated', num('--max-active-fraction', 0, 1), 0.5)
    .option('--min-burst-fraction <f>', 'burst fraction that means bursting (with CV >= --min-burst-cv)', num('--min-burst-fraction', 0, 1), 0.5)
    .option('--min-burst-cv <cv>', 'CV required for bursting', num('--min-burst-cv', 0), 1)
    .option('--max-regular-cv <cv>', 'CV at or below which firing counts as oscillatory', num('--max-regular-cv', 0), 0.3)
    .action(async (inputs: string[], o: Opts) => {
      const params = {
        ...burstParams(o),
        minRate: o.minRate as number,
        maxActiveFraction: o.maxActiveFraction as number,
        minBurstFraction: o.minBurstFraction as number,
        minBurstCv: o.minBurstCv as number,
        maxRegularCv: o.maxRegularCv as number,
        ...(inputs.length > 1 ? { param: o.param as string, ...(o.values ? { values: o.values as number[] } : {}) } : {}),
      };
      const { regimeMethod } = await import('../../analyze/methods.ts');
      if (inputs.length === 1) {
        await runSignalMethod(inputs[0], o, 'regime', params, (s) => regimeMethod([s], params));
        return;
      }
      const loaded = [];
      try {
        for (const i of inputs) loaded.push(await loadInput(i, o));
        print({ inputs, method: 'regime', params, result: regimeMethod(loaded.map((l) => l.signal), params) }, o.json);
      } finally {
        for (const l of loaded) l.close();
      }
    });

  spikeOptions(
    inputOptions(
      analyze
        .command('compare')
        .description(
          'Measured vs simulated: ISI/SPIKE distances, SPIKE-sync, van Rossum, Victor-Purpura, Γ, waveform NRMSE and r, PSD distance, avalanche exponent differences. Without <simulated>, a run is compared with its linked twin run',
        )
        .argument('<measured>', 'runId or file')
        .argument('[simulated]', 'runId or file (default for a run: the twin run linked to it)'),
    ),
  )
    .option('--sim-channel <name>', 'channel of the simulated input (default: same as --channel)')
    .option('--tau <s>', 'van Rossum time constant', num('--tau', Number.MIN_VALUE), 0.01)
    .option('--q <1/s>', 'Victor-Purpura cost', num('--q', 0), 100)
    .option('--window <s>', 'coincidence window of Γ', num('--window', Number.MIN_VALUE), 0.002)
    .action(async (measured: string, simulatedArg: string | undefined, o: Opts) => {
      const params = { ...spikeParams(o), simChannel: o.simChannel as string | undefined, tau: o.tau as number, q: o.q as number, window: o.window as number };
      const { compareMethod, analyzeRun, linkedRun } = await import('../../analyze/methods.ts');
      const a = await loadInput(measured, o);
      try {
        let simulated = simulatedArg;
        if (simulated === undefined) {
          const other = a.store && a.signal.runId !== undefined ? linkedRun(a.store, a.signal.runId) : undefined;
          if (other === undefined) throw new Error(`no <simulated> given and ${measured} has no linked twin run`);
          simulated = String(other);
        }
        if (a.store && a.signal.runId !== undefined && /^\d+$/.test(simulated) && !existsSync(simulated)) {
          // both are runs of the same database: read the second from the open store
          const { readRunSignal } = await import('../../analyze/inputs.ts');
          const sim = readRunSignal(a.store, Number(simulated));
          const r = analyzeRun(a.store, a.signal.runId, 'compare', { ...params, with: sim.runId }, () => compareMethod(a.signal, sim, params), { recompute: o.recompute });
          print(r, o.json);
          return;
        }
        const b = await loadInput(simulated, o);
        try {
          print({ measured, simulated, method: 'compare', params, result: compareMethod(a.signal, b.signal, params) }, o.json);
        } finally {
          b.close();
        }
      } finally {
        a.close();
      }
    });
}
