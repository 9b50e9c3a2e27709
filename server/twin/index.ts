/**
 * Public entry points of the digital twin (pure computation):
 *  - simulate(circuit, stimulus, opts): a whole run on a sampled stimulus → channels + spike events;
 *  - createTwin(circuit, opts): the incremental stepping API (setInput, advance, read).
 * See docs/twin/README.md.
 */
import { expandCircuit, MAX_NETWORK_WORK, type Netlist, type Probe } from './circuit.ts';
import { Twin, type TwinEvent, type TwinOptions } from './engine.ts';
import { TwinError, getModel, resolveParams } from './models.ts';

export { Twin } from './engine.ts';
export { SampledInput, PiecewiseInput } from './inputs.ts';
export type { TwinEvent, TwinOptions, Method } from './engine.ts';
export { expandCircuit } from './circuit.ts';
export type { Circuit, Netlist, Probe, Element, SpikeDetector } from './circuit.ts';
export { MODELS, getModel, TwinError } from './models.ts';
export { toSpice } from './spice.ts';

export interface Stimulus {
  /** Samples in SI units (A for current drive, V for voltage drive), t = k / sampleRate: stimulus channel 0. */
  samples: Float64Array;
  /** Stimulus channels 1, 2, … (same rate and quantity) for circuits whose electrodes name a channel. */
  channels?: Float64Array[];
  /**
   * Channel 0 as exact constant pieces (a piecewise-constant protocol): value `values[k]` from `times[k]`
   * (s, times[0] = 0). The twin then steps to every edge exactly instead of using the samples.
   */
  pieces?: { times: Float64Array; values: Float64Array };
  sampleRate: number;
  quantity: 'current' | 'voltage';
  /**
   * Zero-order hold: sample k is held over [k, k + 1) / sampleRate, as a DAQ board's output holds each value
   * for a tick; default false: linear interpolation between samples (like an ngspice PWL source).
   */
  hold?: boolean;
}

export interface Channel {
  name: string;
  unit: string;
  data: Float64Array;
}

export interface SimEvent extends TwinEvent {
  /** Output sample index nearest to the event time. */
  index: number;
}

export interface SimResult {
  channels: Channel[];
  events: SimEvent[];
  netlist: Netlist;
  stats: { steps: number; rejected: number; evaluations: number; factorisations: number; pcgIterations: number };
}

const UNIT = { v: 'V', i: 'A', x: '1' } as const;

/** Expands (if needed) and compiles a circuit into a stepping simulator. */
export function createTwin(circuit: unknown, opts: TwinOptions = {}): Twin {
  const net = isNetlist(circuit) ? circuit : expandCircuit(circuit);
  return new Twin(net, opts);
}

function isNetlist(c: unknown): c is Netlist {
  return typeof c === 'object' && c !== null && 'info' in c && 'outputs' in c && !('kind' in c);
}

export interface Chunk {
  /** Sample index of the first sample of this chunk. */
  first: number;
  /** One array per output probe (in `twin.outputs` order). */
  data: Float64Array[];
  events: SimEvent[];
}

/** Work per chunk at most (units of MAX_NETWORK_WORK): about a second on one thread. */
const CHUNK_WORK = 1e7;

/**
 * The same run as simulate(), delivered in chunks of `chunkSize` samples (fewer for a large network: at
 * most CHUNK_WORK each; a generator, still pure): what the twin run source streams. The Twin is created
 * first so errors surface before any chunk.
 */

export function simulateChunks(
  circuit: unknown,
  stimulus: Stimulus,
  opts: TwinOptions & { samples?: number; chunkSize?: number } = {},
): { twin: Twin; netlist: Netlist; total: number; chunks: Generator<Chunk> } {
  const net = isNetlist(circuit) ? circuit : expandCircuit(circuit);
  const fs = stimulus.sampleRate;
  if (!(fs > 0)) throw new TwinError('TWIN_BAD_STIMULUS', 'sampleRate must be > 0');
  const twin = new Twin(net, { ...opts, dt: opts.dt ?? 1 / fs });
  if (twin.stimulusQuantity && twin.stimulusQuantity !== stimulus.quantity)
    throw new TwinError('TWIN_BAD_STIMULUS', `circuit ${net.name} is driven by a ${twin.stimulusQuantity} stimulus, got ${stimulus.quantity}`);
  const total = opts.samples ?? stimulus.samples.length;
  // refused before it starts when it would hold its thread for minutes (circuit.ts MAX_NETWORK_WORK)
  const steps = total * Math.max(1, Math.round(1 / (fs * twin.dt)));
  const work = twin.workPerStep * steps;
  if (work > MAX_NETWORK_WORK) {
    throw new TwinError(
      'TWIN_TOO_COSTLY',
      `${net.name}: ${twin.workPerStep} units of work per step (devices + factor nonzeros) × ${steps} steps = ${work.toExponential(2)}; at most MAX_NETWORK_WORK = ${MAX_NETWORK_WORK.toExponential(0)} (minutes on one thread): shorten the run, lower the sample rate, or use a smaller network`,
    );
  }
  // a chunk of a large network is cut shorter, so its run streams (and shows progress) every second or so
  const chunkSize = Math.max(1, Math.min(opts.chunkSize ?? 4096, Math.floor(CHUNK_WORK / Math.max(1, twin.workPerStep))));
  const held = stimulus.hold === true;
  const stims = [stimulus.samples, ...(stimulus.channels ?? [])];
  if (stims.length > twin.inputChannels)
    throw new TwinError('TWIN_BAD_STIMULUS', `circuit ${net.name} has ${twin.inputChannels} stimulus channel(s), got ${stims.length}`);
  const heldValues = stims.map((s) => (s.length ? s[0] : 0));
  stims.forEach((s, c) => (held ? twin.setInput(heldValues[c], c) : twin.setSampledInput(s, fs, c)));
  const pieces = stimulus.pieces;
  if (pieces) twin.setPiecewiseInput(pieces.times, pieces.values);
  const probes = twin.outputs;
  function* gen(): Generator<Chunk> {
    for (let first = 0; first < total; first += chunkSize) {
      const n = Math.min(chunkSize, total - first);
      const data = probes.map(() => new Float64Array(n));
      const events: SimEvent[] = [];
      for (let j = 0; j < n; j++) {
        const k = first + j;
        if (k > 0) {
          if (held)
            for (let c = pieces ? 1 : 0; c < stims.length; c++) {
              // sample k-1 held over ((k-1)/fs, k/fs]; held after the last sample
              const stim = stims[c];
              const u = stim[Math.min(k - 1, stim.length - 1)];
              if (u !== heldValues[c]) twin.setInput((heldValues[c] = u), c);
            }
          twin.advanceTo(k / fs);
          for (const e of twin.takeEvents()) events.push({ ...e, index: Math.round(e.time * fs) });
        }
        for (let c = 0; c < probes.length; c++) data[c][j] = twin.read(probes[c]);
      }
      yield { first, data, events };
    }
  }
  return { twin, netlist: net, total, chunks: gen() };
}

/**
 * Runs the circuit on a sampled stimulus. Output channels are sampled at the stimulus rate, sample k at
 * t = k / sampleRate (sample 0 is the initial state); `opts.dt` (default 1/sampleRate) is the internal
 * fixed step (rounded so an integer number of steps fits a sample) or the adaptive method's max step.
 * The stimulus is linearly interpolated between samples (held, with `stimulus.hold`). Throws TwinError on a bad circuit or when the
 * stimulus quantity does not match the circuit's stimulus element.
 */
export function simulate(
  circuit: unknown,
  stimulus: Stimulus,
  opts: TwinOptions & { samples?: number; onProgress?: (done: number, total: number) => void } = {},
): SimResult {
  const { twin, netlist, total, chunks } = simulateChunks(circuit, stimulus, { ...opts, chunkSize: 8192 });
  const channels: Channel[] = twin.outputs.map((p) => ({ name: p.name, unit: probeUnit(p, netlist), data: new Float64Array(total) }));
  const events: SimEvent[] = [];
  for (const ch of chunks) {
    ch.data.forEach((d, c) => channels[c].data.set(d, ch.first));
    events.push(...ch.events);
    opts.onProgress?.(Math.min(total, ch.first + (ch.data[0]?.length ?? 0)), total);
  }
  const s = twin.solverStats;
  return { channels, events, netlist, stats: { ...twin.stats, factorisations: s.factorisations, pcgIterations: s.pcgIterations } };
}

/** Unit of a probe's values (an extra device state's: its model's; the probe checked by the Twin). */
export function probeUnit(p: Probe, net: Netlist): string {
  if (p.state === undefined) return UNIT[p.kind];
  const e = net.elements.find((x) => x.name === p.element);
  if (e?.type !== 'device') return UNIT[p.kind];
  const m = getModel(e.model);
  return m.extraStates?.(resolveParams(m, e.params)).find((s) => s.name === p.state)?.unit ?? UNIT[p.kind];
}
