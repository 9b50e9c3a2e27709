/**
 * The SMU as a run source (kind 'smu'): a protocol (DC step, square, pulse train, sine — a sine in
 * voltage on a memristor is the I-V sweep that gives the pinched hysteresis loop) is compiled once to the
 * instrument's program (`compileSmuProgram`: a point list with a dwell per point, within the capabilities
 * the driver reports), the program's values are checked against the bench limits, and only then is the
 * output configured and turned on. The program is played at the point rate as buffered list sweeps in
 * chunks; each chunk's readings become blocks.
 *
 * Channels (float64, at the point rate):
 *   0 `stim`   the applied source quantity as the instrument measured it (V or A)  role stimulus
 *   1 `resp`   the measured other quantity (A or V)                                 role response
 *   2 `t_instr` the instrument's own timestamp of each point (s)                    role response
 *
 * Playing a program at a point rate: point k of the run (time k/rate) sources the program point that
 * covers that time. A staircase standing for a continuous waveform (sine, chirp, I-V triangle, linear CSV)
 * may have steps shorter than a point; any other program point (a pulse, a square half-period, a ladder
 * step) must last at least one point, or the protocol is refused naming minDwellS and the rate it needs.
 *
 * Safety: compliance is set first, and the output is ramped to zero and off on completion, abort, error
 * and disconnect (SafeSmu). An instrument connected on the Bench page (server/benchconfig/instruments.ts)
 * is used as it is (no second open of its port) and stays connected after the run, output off.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DescriptorMessage, RunSource, SourceMessage } from '../../common/run-stream.ts';
import { connectSmu } from '../../drivers/smu/connect.ts';
import { SafeSmu, checkSetupAgainstLimits, type BenchLimits } from '../../drivers/smu/safety.ts';
import type { SmuCapabilities, SmuDriver } from '../../drivers/smu/smu.ts';
import { CompileError, compileSmuProgram, type SmuProgram } from '../protocols/compile.ts';
import { protocolSummary, validateProtocol, type Protocol } from '../protocols/index.ts';
import { AppError } from '../../common/errors.ts';
import type { CreatedSource, SmuLease, SourceContext, SourceRegistry } from './registry.ts';
import { benchLabels, InstrumentOption } from './options.ts';
import { checkLimits, runLimits, tightenLimits, virtualBenchConfig, type Limits } from '../benchconfig/index.ts';
import { Type, type Static } from 'typebox';

export type { SmuLease };

/** Highest point rate accepted (points/s); an SMU is not a digitiser. */
export const SMU_MAX_POINT_RATE = 1000;

export interface SmuSourceOptions {
  /** VISA resource string, serial path or host:port (ignored when `lease` is given). */
  address: string;
  /** Protocol JSON (validated here). */
  protocol: unknown;
  limits: BenchLimits;
  /** Current limit (A) when sourcing voltage, voltage limit (V) when sourcing current. */
  compliance: number;
  /** Points per second (default 100). */
  pointRateHz?: number;
  /** Integration time; default: half the point period at 50 Hz, within 0.01 … 1 PLC. */
  nplc?: number;
  /** Serial baud rate (serial addresses only). */
  baudRate?: number;
  /** Points per buffered sweep (default: 0.5 s worth, at most 2500). */
  chunkPoints?: number;
  /** Reply time-out, ms (default 5000). */
  timeoutMs?: number;
  /** Narrows the driver's capabilities (the bench configuration's instrument.smu). */
  capabilities?: Partial<SmuCapabilities>;
  /** An instrument already connected: used instead of opening `address`, left connected (output off) at the end. */
  lease?: SmuLease;
}

/** Kinds whose SMU program is a staircase standing for a continuous waveform (resampled at the point rate). */
function isStaircase(p: Protocol): boolean {
  return p.kind === 'sine' || p.kind === 'chirp' || p.kind === 'iv-sweep' || (p.kind === 'arbitrary' && p.interpolation !== 'step');
}

/**
 * The SMU program of a protocol for an instrument with `caps`, played at `rate` points/s. Throws
 * CompileError naming the capability (maxPoints, minDwellS) when the protocol does not fit.
 */
export function planSmuProgram(protocol: Protocol, caps: SmuCapabilities, rate: number): SmuProgram {
  const period = 1 / rate;
  // A sine or chirp staircase is made no finer than the point rate plays it (and refused below 8 points a period).
  const minDwellS = protocol.kind === 'sine' || protocol.kind === 'chirp' ? Math.max(caps.minDwellS, period) : caps.minDwellS;
  const program = compileSmuProgram(protocol, { maxPoints: caps.maxPoints, minDwellS });
  if (!isStaircase(protocol)) {
    const pts = program.points;
    for (let k = 0; k < pts.length - 1; k++) {
      if (pts[k].dwellS < period * (1 - 1e-6)) {
        throw new CompileError(
          'minDwellS',
          `a ${protocol.kind} source point of ${+pts[k].dwellS.toPrecision(6)} s is shorter than one point at ${rate} points/s ` +
            `(${+period.toPrecision(6)} s); it needs a point rate of at least ${Math.ceil(1 / pts[k].dwellS - 1e-9)} points/s`,
        );
      }
    }
  }
  return program;
}

/** Start time of every program point, s. */
function pointStarts(program: SmuProgram): Float64Array {
  const t = new Float64Array(program.points.length);
  let acc = 0;
  program.points.forEach((pt, k) => {
    t[k] = acc;
    acc += pt.dwellS;
  });
  return t;
}

/** The levels of points [first, first + n) of the run: the program point covering each point's time. */
export function programLevels(program: SmuProgram, starts: Float64Array, rate: number, first: number, n: number): number[] {
  const out = new Array<number>(n);
  const eps = 1e-9 / rate;
  let j = 0;
  for (let k = 0; k < n; k++) {
    const t = (first + k) / rate + eps;
    while (j + 1 < starts.length && starts[j + 1] <= t) j++;
    out[k] = program.points[j].value;
  }
  return out;
}

/** The channels an SMU run records, in order (see the header). */
const SMU_CHANNELS = ['stim', 'resp', 't_instr'] as const;

export function createSmuSource(opts: SmuSourceOptions): RunSource {
  const protocol = validateProtocol(opts.protocol);
  const rate = opts.pointRateHz ?? 100;
  if (!(rate > 0 && rate <= SMU_MAX_POINT_RATE))
    throw new AppError('BAD_SAMPLE_RATE', `SMU point rate ${rate} points/s is out of range: use a sample rate of at most ${SMU_MAX_POINT_RATE} (e.g. --rate 100)`, '/sampleRate');
  const total = Math.max(1, Math.round(protocol.durationS * rate));
  const chunk = Math.max(1, Math.min(2500, opts.chunkPoints ?? Math.ceil(rate / 2)));
  const nplc = opts.nplc ?? Math.min(1, Math.max(0.01, Number(((0.5 / rate) * 50).toFixed(3))));
  const voltage = protocol.quantity === 'voltage';
  const descriptor: DescriptorMessage = {
    type: 'descriptor',
    channels: [
      { name: SMU_CHANNELS[0], unit: voltage ? 'V' : 'A', sampleRate: rate, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' },
      { name: SMU_CHANNELS[1], unit: voltage ? 'A' : 'V', sampleRate: rate, dtype: 'float64', scale: 1, offset: 0, role: 'response' },
      { name: SMU_CHANNELS[2], unit: 's', sampleRate: rate, dtype: 'float64', scale: 1, offset: 0, role: 'response' },
    ],
  };
  const lease = opts.lease;
  const narrow = lease?.capabilities ?? opts.capabilities;

  return {
    kind: 'smu',
    async *messages(signal: AbortSignal): AsyncIterable<SourceMessage> {
      let smu: SmuDriver | null = lease?.smu ?? null;
      let safe: SafeSmu | null = null;
      try {
        smu ??= await connectSmu(opts.address, { baudRate: opts.baudRate, timeoutMs: opts.timeoutMs ?? 5000 });
        // The instrument program, within what this instrument can play (refusal names the capability) ...
        const caps: SmuCapabilities = {
          maxPoints: Math.min(smu.capabilities.maxPoints, narrow?.maxPoints ?? Infinity),
          minDwellS: Math.max(smu.capabilities.minDwellS, narrow?.minDwellS ?? 0),
        };
        const program = planSmuProgram(protocol, caps, rate);
        const setup = { func: voltage ? 'voltage' : 'current', level: 0, compliance: opts.compliance, nplc } as const;
        // ... its values against the bench limits, before anything is configured or turned on.
        const values = program.points.map((pt) => pt.value);
        checkSetupAgainstLimits(setup, opts.limits, values);
        safe = new SafeSmu(smu, opts.limits, lease ? {} : { reconnect: () => connectSmu(opts.address, { baudRate: opts.baudRate }) });
        await safe.configure(setup, values);
        yield descriptor;
        await safe.on();
        const starts = pointStarts(program);
        const period = 1 / rate;
        const measureS = nplc / 50;
        // Source delay per point so the instrument runs at the point rate; corrected after each chunk from the
        // instrument's own timestamps (its per-point overhead is model-specific).
        let delayS = Math.max(0, period - measureS - 2e-4);
        for (let first = 0; first < total; first += chunk) {
          if (signal.aborted) {
            await safe.shutdown('abort');
            yield { type: 'stop', status: 'aborted', reason: 'aborted by the user' };
            return;
          }
          const n = Math.min(chunk, total - first);
          const levels = programLevels(program, starts, rate, first, n);
          const r = await safe.listSweep(levels, { delayS });
          const stim = new Float64Array(n);
          const resp = new Float64Array(n);
          const t = new Float64Array(n);
          for (let k = 0; k < n; k++) {
            stim[k] = voltage ? r[k].v : r[k].i;
            resp[k] = voltage ? r[k].i : r[k].v;
            t[k] = r[k].t;
          }
          if (n > 1) delayS = Math.max(0, delayS + period - (t[n - 1] - t[0]) / (n - 1));
          yield { type: 'block', channel: 0, firstIndex: first, samples: stim };
          yield { type: 'block', channel: 1, firstIndex: first, samples: resp };
          yield { type: 'block', channel: 2, firstIndex: first, samples: t };
        }
        const rep = await safe.shutdown('stop');
        if (!rep.ok) yield { type: 'stop', status: 'failed', reason: `output could not be confirmed off: ${rep.error}` };
      } catch (err) {
        if (safe) await safe.shutdown('error');
        yield { type: 'stop', status: 'failed', reason: err instanceof Error ? err.message : String(err) };
      } finally {
        if (lease) {
          // A connected instrument stays connected: output off (shutdown is idempotent), then lent back.
          if (safe) await safe.shutdown('close');
          lease.release();
        } else if (safe) await safe.close();
        else if (smu) await smu.close().catch(() => undefined);
      }
    },
  };
}


export type SmuRunOptions = Static<typeof SmuOptionsSchema>;

/**
 * A limit a run may only lower; `benchLimit` (an extra keyword, read by the dashboard's forms) names the bench
 * limit that caps it (`compliance`: the bench compliance of the quantity not sourced).
 */
const lowerLimit = (m: { title: string; unit?: string; quantityUnit?: 'other'; benchLimit: string; description: string }) =>
  Type.Optional(Type.Number({ exclusiveMinimum: 0, ...m }));

/**
 * The `smu` source's run options (checked by the registry before create() sees them). Where a run names
 * none: the address from env SPIKELOOP_SMU, compliance and limits from env SPIKELOOP_SMU_COMPLIANCE,
 * _MAX_VOLTAGE, _MAX_CURRENT, _MAX_POWER or 1 mA, 2 V, 10 mA, 20 mW (envDefaults).
 */
export const SmuOptionsSchema = Type.Object(
  {
    instrument: InstrumentOption,
    address: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, title: 'Address', description: 'Instrument address (serial device or host:port); CLI only. A connected bench instrument on this address is used as it is' }),
    ),
    compliance: lowerLimit({
      title: 'Compliance',
      quantityUnit: 'other',
      benchLimit: 'compliance',
      description: 'Limit on the quantity not sourced (A when sourcing voltage, V when sourcing current); at most the bench compliance',
    }),
    maxVoltage: lowerLimit({ title: 'Max voltage', unit: 'V', benchLimit: 'maxVoltage', description: 'May only lower the bench limit' }),
    maxCurrent: lowerLimit({ title: 'Max current', unit: 'A', benchLimit: 'maxCurrent', description: 'May only lower the bench limit' }),
    maxPower: lowerLimit({ title: 'Max power', unit: 'W', benchLimit: 'maxPower', description: 'May only lower the bench limit' }),
    baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 4_000_000, title: 'Baud rate', description: 'Serial baud rate; CLI only' })),
    nplc: Type.Optional(Type.Number({ minimum: 0.01, maximum: 10, title: 'Integration time', unit: 'PLC', description: 'Per reading, in power-line cycles' })),
    chunkPoints: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, title: 'Points per block', description: 'Readings sent to the store at a time' })),
  },
  { additionalProperties: false },
);

/** The SMU source's environment variables besides SPIKELOOP_SMU (the address). */
const SMU_ENV = ['SPIKELOOP_SMU_COMPLIANCE', 'SPIKELOOP_SMU_MAX_VOLTAGE', 'SPIKELOOP_SMU_MAX_CURRENT', 'SPIKELOOP_SMU_MAX_POWER', 'SPIKELOOP_SMU_BAUD'];

/**
 * The SMU's own conservative defaults (env SPIKELOOP_SMU_MAX_VOLTAGE ... or 2 V, 10 mA, 20 mW, 1 mA compliance), used
 * where a run names none. A value that is not a positive number, or a SPIKELOOP_SMU_* name it does not read, is
 * BAD_BENCH_CONFIG naming it; `serve` reads them at start, so a mistyped variable stops it there (it made every smu run a 500 while the server ran on).
 */
export function envDefaults() {
  const env = process.env;
  // a misspelt limit (SPIKELOOP_SMU_MAX_VOLTS=1) would leave the 2 V default in force while its writer thinks it lowered it
  const unknown = Object.keys(env).filter((k) => k.startsWith('SPIKELOOP_SMU_') && !SMU_ENV.includes(k));
  if (unknown.length) throw new AppError('BAD_BENCH_CONFIG', `unknown environment variable ${unknown.join(', ')}: the SMU reads ${SMU_ENV.join(', ')}`);
  const num = (name: string, dflt: number): number => {
    if (env[name] === undefined) return dflt;
    const x = Number(env[name]);
    if (!Number.isFinite(x) || x <= 0) throw new AppError('BAD_BENCH_CONFIG', `environment variable ${name} must be a positive number, got ${JSON.stringify(env[name])}`);
    return x;
  };
  num('SPIKELOOP_SMU_BAUD', 9600); // read per run (runOptions); checked here so a bad one stops serve too
  return {
    compliance: num('SPIKELOOP_SMU_COMPLIANCE', 1e-3),
    maxVoltage: num('SPIKELOOP_SMU_MAX_VOLTAGE', 2),
    maxCurrent: num('SPIKELOOP_SMU_MAX_CURRENT', 1e-2),
    maxPower: num('SPIKELOOP_SMU_MAX_POWER', 2e-2),
  };
}

/**
 * The run's options with its limits: the bench's (the ceiling), lowered by the run's options, else by the
 * SMU defaults; an option above a bench limit is refused (LimitError naming it).
 */
function runOptions(raw: SmuRunOptions | undefined, bench: Limits, sourcing: 'current' | 'voltage') {
  const o = raw ?? {};
  const env = process.env;
  const limits = tightenLimits(bench, sourcing, o, envDefaults());
  return {
    ...o,
    ...limits,
    address: o.address ?? env.SPIKELOOP_SMU,
    baudRate: o.baudRate ?? (env.SPIKELOOP_SMU_BAUD ? Number(env.SPIKELOOP_SMU_BAUD) : undefined),
  };
}

/** Without an instrument address, runs go to a virtual Keithley 2400 on a pseudo-terminal at this rate. */
const VIRTUAL_BAUD = 57_600;
/** The virtual instrument is a Keithley 2400 (drivers/smu/keithley2400.ts). */
const VIRTUAL_SMU_CAPABILITIES: SmuCapabilities = { maxPoints: 2500, minDwellS: 5e-4 };
const socatInstalled = () => ['/usr/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p));

/**
 * A run on a virtual Keithley 2400 (the hp-memristor twin circuit as the device) served on a real pty for this run
 * only, driven through the same serial driver as a real instrument.
 */
function virtualSmuRun(ctx: SourceContext, o: ReturnType<typeof runOptions>, limits: BenchLimits, labels: { labels?: Record<string, string> }): CreatedSource {
  const link = path.join(os.tmpdir(), `spikeloop-smu-run-${process.pid}-${ctx.runId}-${Date.now().toString(36)}`);
  return {
    kind: 'smu',
    bench: { instrument: 'smu', address: `virtual Keithley 2400 on ${link}`, virtual: true, limits, compliance: o.compliance, pointRateHz: ctx.sampleRate, ...labels },
    async *messages(signal: AbortSignal) {
      const [{ VirtualSmuServer }, { defaultSmuDut }] = await Promise.all([import('../../drivers/smu/virtual/server.ts'), import('./smu-twin-dut.ts')]);
      const instrument = await VirtualSmuServer.start('smu-2400', { ptyPath: link, baud: VIRTUAL_BAUD, dut: defaultSmuDut() });
      try {
        yield* createSmuSource({
          address: link,
          protocol: ctx.protocol,
          limits,
          compliance: o.compliance,
          pointRateHz: ctx.sampleRate,
          nplc: o.nplc,
          baudRate: VIRTUAL_BAUD,
          chunkPoints: o.chunkPoints,
        }).messages(signal);
      } finally {
        await instrument.close();
      }
    },
  };
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('smu', {
    title: 'Source-measure unit (Keithley 2400/2600B, Keysight B2900; a virtual 2400 when none is named)',
    // Readings per second a 2400 sustains over RS-232.
    defaultSampleRate: 100,
    options: SmuOptionsSchema,
    localOptions: ['address', 'baudRate'],
    async available() {
      const o = { address: process.env.SPIKELOOP_SMU, baudRate: process.env.SPIKELOOP_SMU_BAUD ? Number(process.env.SPIKELOOP_SMU_BAUD) : undefined };
      // Without SPIKELOOP_SMU the address comes with each run request (options.address), else a virtual 2400.
      if (!o.address) {
        return socatInstalled()
          ? { available: true, detail: 'virtual Keithley 2400 on a pty (pass options.address or set SPIKELOOP_SMU for an instrument)' }
          : { available: false, detail: 'no SMU address (options.address or SPIKELOOP_SMU), and socat for a virtual one is missing' };
      }
      try {
        const smu = await connectSmu(o.address, { baudRate: o.baudRate, timeoutMs: 1500, connectTimeoutMs: 1500 });
        await smu.close();
        return { available: true, detail: `${smu.model} at ${smu.session.transport.address}` };
      } catch (err) {
        return { available: false, detail: err instanceof Error ? err.message : String(err) };
      }
    },
    // Before anything starts (every run and every sweep point, RunManager.validate): the point rate, the run's
    // options within the bench limits (a compliance within its own maxCurrent ...), the protocol within them.
    check(ctx) {
      const rate = ctx.sampleRate;
      if (!(rate > 0 && rate <= SMU_MAX_POINT_RATE))
        throw new AppError('BAD_SAMPLE_RATE', `SMU point rate ${rate} points/s is out of range: use a sample rate of at most ${SMU_MAX_POINT_RATE} (e.g. --rate 100)`, '/sampleRate');
      const sourcing = ctx.protocol.quantity === 'voltage' ? 'voltage' : 'current';
      checkLimits(protocolSummary(ctx.protocol), runLimits(ctx.limits, sourcing, runOptions(ctx.options, ctx.limits, sourcing)), 'run');
    },
    create(ctx) {
      const o = runOptions(ctx.options, ctx.limits ?? virtualBenchConfig().limits, ctx.protocol.quantity === 'voltage' ? 'voltage' : 'current');
      const limits = { maxVoltage: o.maxVoltage, maxCurrent: o.maxCurrent, maxPower: o.maxPower };
      // Refused before the run exists (a 400, not a run that fails): the program within the instrument's
      // capabilities, its values within the limits (the rate and the protocol's peaks: check, above).
      const refuseEarly = (caps: SmuCapabilities) => {
        const rate = ctx.sampleRate;
        const program = planSmuProgram(ctx.protocol, caps, rate);
        checkSetupAgainstLimits({ func: ctx.protocol.quantity === 'voltage' ? 'voltage' : 'current', level: 0, compliance: o.compliance }, limits, program.points.map((pt) => pt.value));
      };
      // The bench configuration's channel labels of the run's SMU (the one leased or named, the one on this
      // address, else the configuration's first SMU), for the plots (server/store/channel-meta.ts).
      const smus = ctx.instruments?.configured('smu') ?? [];
      const labelsOf = (id = o.instrument) => {
        const inst = smus.find((i) => i.id === id) ?? smus.find((i) => o.address !== undefined && i.port === o.address) ?? smus[0];
        const labels = benchLabels(inst, { names: SMU_CHANNELS, response: 'resp' });
        return labels ? { labels } : {};
      };
      // A bench instrument connected on the Bench page (by id, by address, or the bench's stimulus SMU).
      const lease = ctx.instruments?.leaseSmu({ instrument: o.instrument, address: o.address });
      if (lease) {
        try {
          const rate = ctx.sampleRate;
          refuseEarly({
            maxPoints: Math.min(lease.smu.capabilities.maxPoints, lease.capabilities?.maxPoints ?? Infinity),
            minDwellS: Math.max(lease.smu.capabilities.minDwellS, lease.capabilities?.minDwellS ?? 0),
          });
          const src = createSmuSource({ address: lease.smu.session.transport.address, protocol: ctx.protocol, limits, compliance: o.compliance, pointRateHz: rate, nplc: o.nplc, chunkPoints: o.chunkPoints, lease });
          return Object.assign(src, {
            dispose: () => lease.release(),
            bench: { instrument: lease.id, model: lease.smu.model, idn: lease.smu.idn, address: lease.port ?? lease.smu.session.transport.address, limits, compliance: o.compliance, pointRateHz: rate, ...labelsOf(lease.id) },
          });
        } catch (err) {
          lease.release();
          throw err;
        }
      }
      if (!o.address) {
        refuseEarly(VIRTUAL_SMU_CAPABILITIES);
        return virtualSmuRun(ctx, o, limits, labelsOf());
      }
      const src = createSmuSource({
        address: o.address,
        protocol: ctx.protocol,
        limits,
        compliance: o.compliance,
        pointRateHz: ctx.sampleRate,
        nplc: o.nplc,
        baudRate: o.baudRate,
        chunkPoints: o.chunkPoints,
      });
      return Object.assign(src, { bench: { instrument: 'smu', address: o.address, limits, compliance: o.compliance, pointRateHz: ctx.sampleRate, ...labelsOf() } });
    },
  });
}
