/**
 * The DAQ board as a run source (kind `daq`): a real board given by `options.port` (or the
 * SPIKELOOP_DAQ_PORT environment variable, or the first board found by USB VID/PID), else the virtual Uno
 * (the firmware in simavr with a twin circuit on its pins, stepped in emulated time: `options.circuit`, an
 * example name, a circuit file or document, or "direct" | "rc" | "lif" for the harness's C models; default
 * the bench circuit lif-daq, so a run and its twin pairing come from the same circuit file).
 *
 * The protocol is compiled to the board's stimulus table (one period, looped on the sample clock):
 *   voltage protocols: code = round(V / 5 V * 255), refused outside 0..5 V;
 *   current protocols: driven through a series resistor (options.seriesOhms, default 5 kOhm, so 1 mA = 5 V),
 *   the same mapping applied to I * R.
 * Refused (before anything is sent) when the period does not fit the table or is not a whole number of
 * samples, and for a DC step with a delay (the table loops).
 *
 * The drivers (serialport's native binding, the emulator control) load on first use, not when the server
 * discovers its sources.
 */
import type { SourceMessage } from '../../common/run-stream.ts';
import { stimulusAt, type Protocol } from '../protocols/index.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';
import { resolveDaqDut } from './daq-twin-dut.ts';

export const STIM_FULL_SCALE_V = 5;
export const STIM_CODES = 255;
export const DEFAULT_SERIES_OHMS = 5000;
export const MAX_TABLE = 256;

export class DaqProtocolError extends Error {
  readonly code = 'daq-protocol';
}

/** One period of the protocol as PWM codes, and whether it loops. */
export function compileStimulus(p: Protocol, rate: number, seriesOhms = DEFAULT_SERIES_OHMS): { codes: number[]; loop: boolean } {
  const toVolts = (x: number) => (p.quantity === 'current' ? x * seriesOhms : x);
  let period: number;
  if (p.kind === 'dc') {
    if (p.delayS > 0) throw new DaqProtocolError('a DC step with a delay cannot be played by the DAQ table (it loops); use delayS = 0');
    period = 1;
  } else if (p.kind === 'square' || p.kind === 'sine' || p.kind === 'pulse-train') {
    const periodS = p.kind === 'pulse-train' ? p.periodS : 1 / p.frequencyHz;
    period = Math.round(periodS * rate);
    if (Math.abs(period - periodS * rate) > 1e-6 * period || period < 1) {
      throw new DaqProtocolError(`the stimulus period (${periodS} s) is not a whole number of samples at ${rate} S/s`);
    }
    if (period > MAX_TABLE) throw new DaqProtocolError(`the stimulus period needs ${period} table entries; the board holds ${MAX_TABLE} (raise the frequency or lower the rate)`);
  } else {
    // The other kinds (chirp, iv-sweep, ladder, stdp, arbitrary) need the segment programs of
    // server/protocols/compile.ts (compileDaqProgram), which this board's one looping table cannot play yet.
    throw new DaqProtocolError(`the DAQ board plays dc, square, sine and pulse-train protocols; not ${p.kind}`);
  }
  const codes: number[] = [];
  for (let i = 0; i < period; i++) {
    const v = toVolts(stimulusAt(p, i / rate));
    if (v < -1e-12 || v > STIM_FULL_SCALE_V + 1e-9) {
      throw new DaqProtocolError(`stimulus ${v.toFixed(3)} V at t=${(i / rate).toExponential(3)} s is outside the DAQ output range 0..${STIM_FULL_SCALE_V} V`);
    }
    codes.push(Math.round((Math.max(0, v) / STIM_FULL_SCALE_V) * STIM_CODES));
  }
  return { codes, loop: true };
}

const drivers = async () => {
  const [source, find, virtual] = await Promise.all([
    import('../../drivers/daq/source.ts'),
    import('../../drivers/daq/find.ts'),
    import('../../drivers/daq/virtual.ts'),
  ]);
  return { DaqRun: source.DaqRun, findBoards: find.findBoards, VirtualBoard: virtual.VirtualBoard, virtualBoardAvailable: virtual.virtualBoardAvailable };
};

async function createDaqSource(ctx: SourceContext): Promise<CreatedSource> {
  const { DaqRun, findBoards, VirtualBoard, virtualBoardAvailable } = await drivers();
  const o = ctx.options ?? {};
  const seriesOhms = typeof o.seriesOhms === 'number' ? o.seriesOhms : DEFAULT_SERIES_OHMS;
  const stimulus = compileStimulus(ctx.protocol, ctx.sampleRate, seriesOhms);
  const channels = Array.isArray(o.channels) ? (o.channels as number[]) : [0, 1];
  let port = typeof o.port === 'string' ? o.port : process.env.SPIKELOOP_DAQ_PORT;
  if (!port) port = (await findBoards().catch(() => []))[0]?.path;
  const useVirtual = !port;
  if (useVirtual && !virtualBoardAvailable()) throw new Error('no DAQ board found and the virtual board is not built (npm run setup)');
  const onDisconnect = o.onDisconnect === 'fail' ? 'fail' : 'gap';
  // the circuit on the virtual board's pins (checked now: a bad one fails before the run starts)
  const dut = useVirtual ? resolveDaqDut(o.circuit) : undefined;
  return {
    kind: 'daq',
    bench: {
      daq: { port: port ?? 'virtual uno (simavr)', virtual: useVirtual, channels, seriesOhms, onDisconnect, stimulusTable: stimulus.codes.length },
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
          stimulus,
          durationSamples: Math.round(ctx.protocol.durationS * ctx.sampleRate),
          onDisconnect,
        });
        yield* run.messages(signal);
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
      if (virtualBoardAvailable()) return { available: true, detail: 'virtual Uno (firmware in simavr, twin circuit lif-daq on its pins)' };
      return { available: false, detail: 'no board found and the virtual board is not built (npm run setup)' };
    },
    // Two channels sustain about 7.5 kS/s each on the (emulated) Uno: docs/daq/overview.md.
    defaultSampleRate: 5000,
    create: createDaqSource,
  });
}
