/**
 * The DAQ board as a run source (kind `daq`): a real board given by `options.port` (or the
 * SPIKELOOP_DAQ_PORT environment variable, or the first board found by USB VID/PID), else the virtual Uno
 * (the firmware in simavr with a twin circuit on its pins, stepped in emulated time: `options.circuit`, an
 * example name, a circuit file or document, or "direct" | "rc" | "lif" for the harness's C models; default
 * the bench circuit lif-daq, so a run and its twin pairing come from the same circuit file).
 *
 * The protocol is compiled by server/protocols/compile.ts (`compileDaqProgram`) for the capabilities the
 * board reports once configured (exact sample rate, table memory, segment list, output range), then mapped
 * to output codes:
 *   voltage protocols: PWM code = round(V / 5 V * 255); MCP4725 code = round(V / 5 V * 4096), at most 4095;
 *   current protocols: driven through a series resistor (options.seriesOhms, default 5 kOhm, so 1 mA = 5 V),
 *   the same mapping applied to I * R.
 * What the board cannot play is refused with the compiler's CompileError (naming the capability): before
 * the run for the virtual Uno, whose capabilities are known; at connection for a real board.
 *
 * Options: port, channels (default [0, 1]), seriesOhms, onDisconnect ('gap' | 'fail'), output ('pwm' |
 * 'mcp4725'), dacAddress, pulses ({delayUs, periodUs, widthUs, count}: a digital pulse train on the timer pin,
 * recorded as marker events), spikes ({<channel name>: {threshold, direction, refractoryS?, dropFraction?}}: online
 * spike detection, below).
 *
 * Spike events: response channels with a spike detector configured (server/analysis/online-spikes.ts) get
 * `spike` events (channel, sample index, value in V) in the stream, computed on the raw codes of each block as
 * it passes (blocks are passed on unchanged, the events after their block). Per channel name the first of:
 * options.spikes; the `spikes` of the bench configuration's channel entry of that name (the DAQ instrument
 * named by options.instrument, else the one on this port, else the configuration's first DAQ instrument);
 * the circuit's `daq.spikes` (virtual board only: lif-daq detects the membrane's reset on a0).
 *
 * The drivers (serialport's native binding, the emulator control) load on first use, not when the server
 * discovers its sources.
 */
import type { SourceMessage } from '../../common/run-stream.ts';
import type { BoardProgram, OutputCaps } from '../../drivers/daq/source.ts';
import type { PulseTrain } from '../../drivers/daq/protocol.ts';
import { compileDaqProgram } from '../protocols/compile.ts';
import type { Protocol } from '../protocols/index.ts';
import type { Instrument } from '../benchconfig/index.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';
import { benchLabels, CircuitOption, InstrumentOption } from './options.ts';
import { Type, type Static } from 'typebox';
import { AppError } from '../../common/errors.ts';
import { SpikeDetectionSchema } from '../../common/schemas/bench.ts';
import { DAQ_BENCH_CIRCUIT, circuitDaqSpikes, resolveDaqDut } from './daq-twin-dut.ts';
import { OnlineSpikeDetector, spikeDetectorConfig, type DetectedSpike, type SpikeDetectorConfig } from '../analysis/online-spikes.ts';

export const STIM_FULL_SCALE_V = 5;
export const DEFAULT_SERIES_OHMS = 5000;

/**
 * What the virtual Uno (and a real Uno/Nano running this firmware) reports once configured; used to refuse
 * a protocol before a virtual run starts. test/daq-output.test.ts checks it against the firmware's replies.
 */
export function unoCaps(sampleRate: number, output: 'pwm' | 'mcp4725' = 'pwm'): OutputCaps {
  const wide = output === 'mcp4725';
  return { sampleRate, output, stimulusBits: wide ? 12 : 8, maxCode: wide ? 4095 : 255, maxTableLength: wide ? 128 : 256, maxSegments: 16, board: 'uno' };
}

/** Volts (or amperes through the series resistor) per output code, and the highest value the output makes. */
function scaleOf(caps: OutputCaps): { perCode: number; max: number } {
  const perCode = caps.output === 'mcp4725' ? STIM_FULL_SCALE_V / (caps.maxCode + 1) : STIM_FULL_SCALE_V / caps.maxCode;
  return { perCode, max: perCode * caps.maxCode };
}

/** Compiles a protocol to the board's program in output codes; throws CompileError naming what does not fit. */
export function daqBoardProgram(p: Protocol, caps: OutputCaps, seriesOhms = DEFAULT_SERIES_OHMS): BoardProgram {
  const { perCode, max } = scaleOf(caps);
  const unitScale = p.quantity === 'current' ? seriesOhms : 1; // protocol unit -> volts at the output
  const program = compileDaqProgram(p, {
    sampleRate: caps.sampleRate,
    maxTableLength: caps.maxTableLength,
    maxSegments: caps.maxSegments,
    outputRange: { min: 0, max: max / unitScale + 1e-12 },
  });
  const code = (x: number) => Math.min(caps.maxCode, Math.max(0, Math.round((x * unitScale) / perCode)));
  return {
    tables: program.tables.map((t) => Array.from(t, code)),
    segments: program.segments.map((g) => ({ table: g.table, samples: g.samples })),
    loop: false,
  };
}

/** The `daq` source's run options (checked by the registry before create() sees them). */
export const DaqOptionsSchema = Type.Object(
  {
    port: Type.Optional(Type.String({ minLength: 1, maxLength: 256, title: 'Port', description: 'Serial device of the board; CLI only' })),
    instrument: InstrumentOption,
    circuit: CircuitOption,
    seriesOhms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9, title: 'Series resistor', unit: 'Ω', description: 'Resistor a current protocol is played through' })),
    output: Type.Optional(Type.Union([Type.Literal('pwm'), Type.Literal('mcp4725')], { title: 'Output', description: 'pwm (default): the board\'s PWM pin; mcp4725: an MCP4725 DAC on I²C' })),
    pulses: Type.Optional(
      Type.Object(
        { delayUs: Type.Optional(Type.Number({ minimum: 0 })), periodUs: Type.Number({ minimum: 0 }), widthUs: Type.Number({ minimum: 0 }), count: Type.Optional(Type.Integer({ minimum: 0 })) },
        { additionalProperties: false, title: 'Pulses', description: 'A digital pulse train on the timer pin (delayUs, periodUs, widthUs, count), recorded as marker events' },
      ),
    ),
    channels: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 5 }), { minItems: 1, maxItems: 6, title: 'Analog inputs', description: 'Inputs recorded, 0..5 for A0..A5' })),
    onDisconnect: Type.Optional(Type.Union([Type.Literal('gap'), Type.Literal('fail')], { title: 'On disconnect', description: 'gap: record the lost range and go on after a reconnect; fail: end the run' })),
    dacAddress: Type.Optional(Type.Integer({ minimum: 0, maximum: 127, title: 'DAC address', description: 'I²C address of the MCP4725' })),
    spikes: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), SpikeDetectionSchema, { title: 'Spike detection', description: 'Spike detection per channel name (a0, a1, ...)' })),
  },
  { additionalProperties: false },
);

type DaqOptions = Static<typeof DaqOptionsSchema>;

/** The bench configuration's entry of this run's board: the instrument named by options.instrument, else the one on this port, else the first DAQ. */
function benchEntry(o: DaqOptions, port: string | undefined, daqs: Instrument[]): Instrument | undefined {
  return (o.instrument !== undefined ? daqs.find((i) => i.id === o.instrument) : undefined) ?? daqs.find((i) => port && i.port === port) ?? daqs[0];
}

/**
 * What the bench configuration says about the run's channels, for the run's bench snapshot (the API labels
 * channels from it, server/store/channel-meta.ts): labels by channel name, and the stimulus channel's
 * conversion to a current (`toCurrent`), keyed `stim` as the board's stimulus channel is named.
 */
function channelConfig(inst: Instrument | undefined): { labels?: Record<string, string>; stimulus?: { toCurrent: unknown } } {
  const labels = benchLabels(inst);
  const toCurrent = inst?.channels.find((ch) => ch.role === 'stimulus' && ch.toCurrent)?.toCurrent;
  return { ...(labels ? { labels } : {}), ...(toCurrent ? { stimulus: { toCurrent } } : {}) };
}

/** options.spikes: the schema checked each setting; the rule across settings (a reset threshold is not 0) is checked here. */
function spikeOptions(o: DaqOptions): Record<string, SpikeDetectorConfig> {
  const out: Record<string, SpikeDetectorConfig> = {};
  for (const [name, cfg] of Object.entries(o.spikes ?? {})) {
    try {
      out[name] = spikeDetectorConfig(cfg, `options.spikes.${name}`);
    } catch (err) {
      throw new AppError('BAD_SOURCE_OPTIONS', (err as Error).message, `/options/spikes/${name}`);
    }
  }
  return out;
}

/** Spike detection per channel name: options.spikes, then the bench configuration's channel entries, then the circuit's. */
function spikeConfigs(o: DaqOptions, inst: Instrument | undefined, circuit: Record<string, SpikeDetectorConfig>): Record<string, SpikeDetectorConfig> {
  const out: Record<string, SpikeDetectorConfig> = { ...circuit };
  for (const ch of inst?.channels ?? []) if (ch.spikes) out[ch.name] = ch.spikes;
  return { ...out, ...spikeOptions(o) };
}

/** Passes the stream on unchanged, adding a spike event after each block for each spike the channel's detector finds in it. */
export async function* withSpikeEvents(messages: AsyncIterable<SourceMessage>, configs: Record<string, SpikeDetectorConfig>): AsyncGenerator<SourceMessage> {
  let detectors: (OnlineSpikeDetector | undefined)[] = [];
  const events = (channel: number, spikes: DetectedSpike[]): SourceMessage[] => spikes.map((s) => ({ type: 'event', kind: 'spike', channel, index: s.index, value: s.value }));
  // an excursion still open when the stream ends is an event too (as the stored trace's end ends it)
  const finish = () => detectors.flatMap((d, ch) => (d ? events(ch, d.finish()) : []));
  for await (const m of messages) {
    if (m.type === 'stop') yield* finish();
    yield m;
    if (m.type === 'descriptor') {
      detectors = m.channels.map((c) => (configs[c.name] && c.role === 'response' ? new OnlineSpikeDetector(configs[c.name], c) : undefined));
    } else if (m.type === 'block') {
      const d = detectors[m.channel];
      if (d) yield* events(m.channel, d.push(m.firstIndex, m.samples));
    }
  }
  yield* finish();
}

const drivers = async () => {
  const [source, find, virtual] = await Promise.all([
    import('../../drivers/daq/source.ts'),
    import('../../drivers/daq/find.ts'),
    import('../../drivers/daq/virtual.ts'),
  ]);
  return { DaqRun: source.DaqRun, findBoards: find.findBoards, VirtualBoard: virtual.VirtualBoard, virtualBoardAvailable: virtual.virtualBoardAvailable };
};

/**
 * A connected bench board (by option instrument or port, else the bench's stimulus DAQ) is borrowed for the
 * run: its port handed over and taken back when the run ends or fails to start.
 */
async function createDaqSource(ctx: SourceContext<DaqOptions>): Promise<CreatedSource> {
  const o = ctx.options ?? {};
  const lease = await ctx.instruments?.leaseDaq({ instrument: o.instrument, address: o.port });
  if (!lease) return openDaqSource(ctx, o.port);
  let src: CreatedSource;
  try {
    src = await openDaqSource(ctx, lease.port);
  } catch (err) {
    await lease.release();
    throw err;
  }
  return {
    ...src,
    dispose: lease.release,
    async *messages(signal: AbortSignal) {
      try {
        yield* src.messages(signal);
      } finally {
        await lease.release();
      }
    },
  };
}

async function openDaqSource(ctx: SourceContext<DaqOptions>, givenPort: string | undefined): Promise<CreatedSource> {
  const { DaqRun, findBoards, VirtualBoard, virtualBoardAvailable } = await drivers();
  const o = ctx.options ?? {};
  const seriesOhms = o.seriesOhms ?? DEFAULT_SERIES_OHMS;
  const output = o.output ?? 'pwm';
  const pulses: PulseTrain | undefined = o.pulses && { delayUs: o.pulses.delayUs ?? 0, periodUs: o.pulses.periodUs, widthUs: o.pulses.widthUs, count: o.pulses.count ?? 0 };
  const channels = o.channels ?? [0, 1];
  let port = givenPort ?? process.env.SPIKELOOP_DAQ_PORT;
  if (!port) port = (await findBoards().catch(() => []))[0]?.path;
  const useVirtual = !port;
  if (useVirtual && !virtualBoardAvailable()) throw new Error('no DAQ board found and the virtual board is not built (npm run setup)');
  // the virtual Uno's capabilities are known: refuse what it cannot play before the run
  const preview = useVirtual ? daqBoardProgram(ctx.protocol, unoCaps(ctx.sampleRate, output), seriesOhms) : undefined;
  const onDisconnect = o.onDisconnect ?? 'gap';
  // the circuit on the virtual board's pins (checked now: a bad one fails before the run starts)
  const dut = useVirtual ? resolveDaqDut(o.circuit, { files: ctx.from === 'local' }) : undefined;
  const inst = benchEntry(o, port, ctx.instruments?.configured('daq') ?? []);
  const spikes = spikeConfigs(o, inst, dut?.kind === 'twin' ? circuitDaqSpikes(dut.circuit) : {});
  return {
    kind: 'daq',
    bench: {
      daq: {
        port: port ?? 'virtual uno (simavr)',
        virtual: useVirtual,
        channels,
        seriesOhms,
        onDisconnect,
        output,
        ...(pulses ? { pulses } : {}),
        ...(Object.keys(spikes).length ? { spikes } : {}),
        ...(preview ? { stimulusTable: preview.tables.reduce((n, t) => n + t.length, 0), segments: preview.segments.length } : {}),
        ...channelConfig(inst),
      },
      // the twin circuit this run pairs with (the Compare view's default): the one on the virtual board's pins
      ...(dut ? { circuit: dut.name, ...(dut.kind === 'twin' ? { twinCircuit: dut.circuit } : {}) } : {}),
    },
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      const vb = dut ? await VirtualBoard.start(dut.kind === 'twin' ? { dut: dut.dut } : { circuit: dut.circuit }) : undefined;
      try {
        const run = new DaqRun({
          path: vb ? vb.path : port!,
          channels,
          rate: ctx.sampleRate,
          program: (caps) => daqBoardProgram(ctx.protocol, caps, seriesOhms),
          output,
          dacAddress: typeof o.dacAddress === 'number' ? o.dacAddress : undefined,
          pulses,
          durationSamples: Math.round(ctx.protocol.durationS * ctx.sampleRate),
          onDisconnect,
        });
        yield* withSpikeEvents(run.messages(signal), spikes);
      } finally {
        await vb?.close();
      }
    },
  };
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('daq', {
    title: 'DAQ board (Arduino/Teensy over serial; the virtual Uno in simavr when none is plugged in)',
    available: async () => {
      const { findBoards, virtualBoardAvailable } = await drivers();
      const boards = await findBoards().catch(() => []);
      if (boards.length) return { available: true, detail: `${boards[0].name} on ${boards[0].path}` };
      if (process.env.SPIKELOOP_DAQ_PORT) return { available: true, detail: process.env.SPIKELOOP_DAQ_PORT };
      if (virtualBoardAvailable()) return { available: true, detail: `virtual Uno (firmware in simavr, twin circuit ${DAQ_BENCH_CIRCUIT} on its pins)`, twinCircuit: DAQ_BENCH_CIRCUIT };
      return { available: false, detail: 'no board found and the virtual board is not built (npm run setup)' };
    },
    // Two channels sustain about 7.5 kS/s each on the (emulated) Uno: docs/daq/overview.md.
    defaultSampleRate: 5000,
    // the board plays volts: a current protocol goes through seriesOhms and is recorded in V with a note
    protocol: { quantity: 'voltage', levelScale: DEFAULT_SERIES_OHMS },
    options: DaqOptionsSchema,
    localOptions: ['port'],
    check: (ctx) => void spikeOptions(ctx.options ?? {}),
    // the stimulus and two analog inputs, int16 each (more channels are rare; six would be 14)
    bytesPerSample: 6,
    create: createDaqSource,
  });
}
