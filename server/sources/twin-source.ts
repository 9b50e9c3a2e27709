/**
 * The digital-twin run source (kind 'twin'): simulates a circuit (server/twin) on a sampled stimulus and
 * emits the same run stream as a bench — channel 0 the stimulus (role stimulus), then one float32
 * response channel per circuit output (V, A or state), and a `spike` event per neuron threshold crossing or
 * per spike of the circuit's own detectors (electrode current, junction switching: `spikes` in the circuit).
 *
 * Options (SourceContext.options):
 *   circuit   circuit JSON object, or the name of an example in server/twin/circuits (default "lif";
 *             "stdp-synapse" for the stdp protocol)
 *   method    'rk4' | 'euler' | 'adaptive' | 'implicit' (default: the circuit's recommended method, else rk4);
 *             dt internal step, s (default 1 / sampleRate)
 *   stimulus  optional recorded stimulus samples (number[] or Float64Array, SI units) replacing the
 *             protocol's waveform (a twin run fed from a measured run); quantity 'current' | 'voltage'
 * Without `stimulus` the protocol is sampled at the run's sample rate for its duration (the stored stimulus
 * channel); a piecewise-constant protocol drives the twin with its exact edges.
 * The simulation runs as fast as it can, yielding to the event loop between chunks; aborting stops it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChannelDescriptor, SourceMessage } from '../../common/run-stream.ts';
import { AppError } from '../../common/errors.ts';
import { protocolSummary, sampleStimulus } from '../protocols/index.ts';
import { stimulusPieces } from '../protocols/compile.ts';
import { expandCircuit, probeUnit, simulateChunks, type Method, type Stimulus } from '../twin/index.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';
import { defaultTwinCircuit } from '../experiments/stdp-circuit.ts';

const circuitsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../twin/circuits');

/** Names and descriptions of the example circuits. */
export function listExampleCircuits(): { name: string; kind: string; description: string }[] {
  return readdirSync(circuitsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const c = JSON.parse(readFileSync(path.join(circuitsDir, f), 'utf8')) as { kind: string; description?: string };
      return { name: f.replace(/\.json$/, ''), kind: c.kind, description: c.description ?? '' };
    });
}

/** An example circuit by name (BAD_CIRCUIT when unknown; `field` names where the caller gave it). */
export function loadExampleCircuit(name: string, field = '/circuit'): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !listExampleCircuits().some((c) => c.name === name))
    throw new AppError('BAD_CIRCUIT', `unknown example circuit "${name}" (known: ${listExampleCircuits().map((c) => c.name).join(', ')})`, field);
  return JSON.parse(readFileSync(path.join(circuitsDir, `${name}.json`), 'utf8'));
}

/** A circuit given by name (an example) or as a document. */
export function resolveCircuit(c: unknown, field = '/circuit'): unknown {
  return typeof c === 'string' ? loadExampleCircuit(c, field) : c;
}

const METHODS: Method[] = ['rk4', 'euler', 'adaptive', 'implicit'];
const CHUNK = 4096;

export function createTwinSource(ctx: SourceContext): CreatedSource {
  const o = ctx.options ?? {};
  // default: the plastic synapse for an stdp protocol (the LIF twins have no plasticity), else the LIF
  const circuit = typeof o.circuit === 'string' ? loadExampleCircuit(o.circuit) : (o.circuit ?? loadExampleCircuit(defaultTwinCircuit(ctx.protocol, 'lif') as string));
  if (typeof circuit !== 'object' || circuit === null) throw new Error('options.circuit must be a circuit object or an example name');
  const method = o.method as Method | undefined;
  if (method !== undefined && !METHODS.includes(method)) throw new Error(`options.method must be one of ${METHODS.join(', ')}`);
  const dt = o.dt === undefined ? undefined : Number(o.dt);
  if (dt !== undefined && !(dt > 0 && dt <= 1 / ctx.sampleRate)) throw new Error(`options.dt must be in (0, 1/sampleRate]`);
  const summary = protocolSummary(ctx.protocol);
  let stimulus: Stimulus;
  if (o.stimulus !== undefined) {
    const s = o.stimulus instanceof Float64Array ? o.stimulus : Array.isArray(o.stimulus) ? Float64Array.from(o.stimulus as number[]) : null;
    if (!s || s.length < 2 || !s.every(Number.isFinite)) throw new Error('options.stimulus must be an array of at least 2 finite numbers');
    const quantity = (o.quantity ?? summary.quantity) as Stimulus['quantity'];
    if (quantity !== 'current' && quantity !== 'voltage') throw new Error("options.quantity must be 'current' or 'voltage'");
    stimulus = { samples: s, sampleRate: ctx.sampleRate, quantity };
  } else {
    const n = Math.max(2, Math.round(summary.durationS * ctx.sampleRate));
    // a piecewise-constant protocol reaches the twin as its exact edges (the samples are the stored stimulus channel)
    const pieces = stimulusPieces(ctx.protocol);
    stimulus = { samples: sampleStimulus(ctx.protocol, ctx.sampleRate, 0, n), sampleRate: ctx.sampleRate, quantity: summary.quantity, ...(pieces ? { pieces } : {}) };
  }
  const net = expandCircuit(circuit);
  // builds the simulator now, so a bad circuit or a stimulus mismatch fails before the run starts
  const sim = simulateChunks(net, stimulus, { ...(method ? { method } : {}), ...(dt !== undefined ? { dt } : {}), chunkSize: CHUNK });
  const probes = sim.twin.outputs;
  const channels: ChannelDescriptor[] = [
    { name: 'stim', unit: stimulus.quantity === 'current' ? 'A' : 'V', sampleRate: ctx.sampleRate, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' },
    ...probes.map(
      (p): ChannelDescriptor => ({ name: p.name, unit: probeUnit(p.kind), sampleRate: ctx.sampleRate, dtype: 'float32', scale: 1, offset: 0, role: 'response' }),
    ),
  ];
  // a spike event goes on the channel of its element's current (an electrode's), else of its node's voltage
  const chanOfNode = new Map<string, number>();
  const chanOfElement = new Map<string, number>();
  probes.forEach((p, i) => {
    if (p.kind === 'v' && p.node) chanOfNode.set(p.node, i + 1);
    if (p.kind === 'i' && p.element) chanOfElement.set(p.element, i + 1);
  });
  return {
    kind: 'twin',
    bench: null,
    twin: { circuit, netlist: { name: net.name, info: net.info }, method: sim.twin.method, dt: dt ?? 1 / ctx.sampleRate, stimulusSource: o.stimulus !== undefined ? 'recorded' : 'protocol' },
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      yield { type: 'descriptor', channels };
      for (const chunk of sim.chunks) {
        if (signal.aborted) return;
        const n = chunk.data[0]?.length ?? Math.min(CHUNK, sim.total - chunk.first);
        yield { type: 'block', channel: 0, firstIndex: chunk.first, samples: stimulus.samples.slice(chunk.first, chunk.first + n) };
        for (let c = 0; c < chunk.data.length; c++) yield { type: 'block', channel: c + 1, firstIndex: chunk.first, samples: Float32Array.from(chunk.data[c]) };
        for (const e of chunk.events) {
          const ch = chanOfElement.get(e.element) ?? chanOfNode.get(e.node);
          yield { type: 'event', kind: 'spike', index: Math.min(e.index, sim.total - 1), ...(ch !== undefined ? { channel: ch } : {}), label: e.element };
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('twin', {
    title: 'Digital twin (simulated circuit, same stimulus)',
    available: async () => ({ available: true }),
    create: createTwinSource,
  });
}

/** Minimal view of the store needed to read a recorded stimulus channel back. */
interface StimulusStore {
  getRun(id: number):
    | { protocol: unknown; channels: { index: number; name: string; unit: string; scale: number; offset: number; sampleRate: number; sampleCount: number }[] }
    | undefined;
  readRaw(runId: number, channel: number, start: number, end: number): { start: number; samples: ArrayLike<number> }[];
}

/**
 * The stimulus actually applied in a stored run (physical values, SI), by channel name or index, at most
 * `maxSamples` long. Throws with a message naming what is missing.
 */
export function readRecordedStimulus(store: StimulusStore, runId: number, channel: string, maxSamples?: number) {
  const run = store.getRun(runId);
  if (!run) throw new AppError('RUN_NOT_FOUND', `run ${runId} does not exist`, '/stimulusRun');
  const ch = run.channels.find((c) => c.name === channel || String(c.index) === channel);
  if (!ch) throw new AppError('CHANNEL_NOT_FOUND', `run ${runId} has no channel "${channel}" (channels: ${run.channels.map((c) => c.name).join(', ')})`, '/stimulusRun');
  if (ch.unit !== 'A' && ch.unit !== 'V') throw new AppError('CHANNEL_NOT_FOUND', `channel ${ch.name} is in ${ch.unit}; a stimulus is in A or V`, '/stimulusRun');
  const n = Math.min(ch.sampleCount, maxSamples ?? Infinity);
  const samples = new Float64Array(n);
  for (const seg of store.readRaw(runId, ch.index, 0, n))
    for (let i = 0; i < seg.samples.length && seg.start + i < n; i++) samples[seg.start + i] = seg.samples[i] * ch.scale + ch.offset;
  return { protocol: run.protocol, sampleRate: ch.sampleRate, samples, quantity: (ch.unit === 'A' ? 'current' : 'voltage') as Stimulus['quantity'] };
}
