/**
 * Public entry points of the digital twin (pure computation):
 *  - simulate(circuit, stimulus, opts): a whole run on a sampled stimulus → channels + spike events;
 *  - createTwin(circuit, opts): the incremental stepping API (setInput, advance, read).
 * See docs/twin/README.md.
 */
import { expandCircuit, type Netlist } from './circuit.ts';
import { Twin, type TwinEvent, type TwinOptions } from './engine.ts';
import { TwinError } from './models.ts';

export { Twin, SampledInput } from './engine.ts';
export type { TwinEvent, TwinOptions, Method } from './engine.ts';
export { expandCircuit, rng } from './circuit.ts';
export type { Circuit, Netlist, Probe, Element } from './circuit.ts';
export { MODELS, getModel, TwinError } from './models.ts';
export { toSpice } from './spice.ts';

export interface Stimulus {
  /** Samples in SI units (A for current drive, V for voltage drive), t = k / sampleRate. */
  samples: Float64Array;
  sampleRate: number;
  quantity: 'current' | 'voltage';
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

/**
 * Runs the circuit on a sampled stimulus. Output channels are sampled at the stimulus rate, sample k at
 * t = k / sampleRate (sample 0 is the initial state); `opts.dt` (default 1/sampleRate) is the internal
 * fixed step (rounded so an integer number of steps fits a sample) or the adaptive method's max step.
 * The stimulus is linearly interpolated between samples. Throws TwinError on a bad circuit or when the
 * stimulus quantity does not match the circuit's stimulus element.
 */
export function simulate(
  circuit: unknown,
  stimulus: Stimulus,
  opts: TwinOptions & { samples?: number; onProgress?: (done: number, total: number) => void } = {},
): SimResult {
  const net = isNetlist(circuit) ? circuit : expandCircuit(circuit);
  const fs = stimulus.sampleRate;
  if (!(fs > 0)) throw new TwinError('TWIN_BAD_STIMULUS', 'sampleRate must be > 0');
  const twin = new Twin(net, { ...opts, dt: opts.dt ?? 1 / fs });
  if (twin.stimulusQuantity && twin.stimulusQuantity !== stimulus.quantity)
    throw new TwinError('TWIN_BAD_STIMULUS', `circuit ${net.name} is driven by a ${twin.stimulusQuantity} stimulus, got ${stimulus.quantity}`);
  const N = opts.samples ?? stimulus.samples.length;
  twin.setSampledInput(stimulus.samples, fs);
  const probes = twin.outputs;
  const channels: Channel[] = probes.map((p) => ({ name: p.name, unit: UNIT[p.kind], data: new Float64Array(N) }));
  const events: SimEvent[] = [];
  const record = (k: number) => {
    for (let c = 0; c < probes.length; c++) channels[c].data[k] = twin.read(probes[c]);
  };
  record(0);
  for (let k = 1; k < N; k++) {
    twin.advanceTo(k / fs);
    for (const e of twin.takeEvents()) events.push({ ...e, index: Math.round(e.time * fs) });
    record(k);
    if (opts.onProgress && k % 1000 === 0) opts.onProgress(k, N);
  }
  const s = twin.solverStats;
  return { channels, events, netlist: net, stats: { ...twin.stats, factorisations: s.factorisations, pcgIterations: s.pcgIterations } };
}
