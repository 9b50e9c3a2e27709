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
 * In-process input (SourceContext.input, TwinInput; never from the network):
 *   stimulus  a recorded stimulus (server/experiments/stimulus.ts) replacing the protocol's waveform: a
 *             twin run fed from a measured run, held or interpolated as that reader says
 *   output    the simulation of exactly this stimulus, already computed on the worker pool (sweeps,
 *             pairings, possibly on another machine): the source streams it instead of simulating; the
 *             stored run is the same either way (simulate() and simulateChunks() give the same samples)
 * Without `stimulus` the protocol is sampled at the run's sample rate for its duration (the stored stimulus
 * channel); a piecewise-constant protocol drives the twin with its exact edges.
 * The simulation runs as fast as it can. With the server's worker pool (SourceContext.pool) all of it —
 * expanding the circuit, sampling the stimulus, simulating — runs on a worker thread (`twinRun`, streamed
 * to the run manager, which alone writes the store), so a large network never stalls the API; without a
 * pool (a bare RunManager) it runs here, yielding to the event loop between chunks. Aborting stops it.
 */
import type { ChannelDescriptor, SourceMessage } from '../../common/run-stream.ts';
import { AppError } from '../../common/errors.ts';
import { protocolSummary, sampleStimulus } from '../protocols/index.ts';
import { stimulusPieces } from '../protocols/compile.ts';
import { BUILT_IN_CIRCUITS, builtInCircuit } from '../twin/circuits/index.ts';
import { expandCircuit, probeUnit, simulateChunks, type Chunk, type Method, type Stimulus } from '../twin/index.ts';
import type { TwinOutput } from '../experiments/pairing.ts';
import { Type, type Static } from 'typebox';
import { TWIN_MAX_SAMPLE_RATE } from '../../common/limits.ts';
import { TWIN_METHODS } from '../../common/schemas/twin.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';
import { TaskError, type WorkerPool } from '../workers/pool.ts';
import type { Protocol } from '../protocols/index.ts';
import { CircuitOption } from './options.ts';
import { defaultTwinCircuit } from '../experiments/stdp-circuit.ts';

/** An example circuit by name (BAD_CIRCUIT when unknown; `field` names where the caller gave it). */
export function loadExampleCircuit(name: string, field = '/circuit'): unknown {
  const circuit = builtInCircuit(name);
  if (circuit === undefined) throw new AppError('BAD_CIRCUIT', `unknown example circuit "${name}" (known: ${BUILT_IN_CIRCUITS.join(', ')})`, field);
  return circuit;
}

/** A circuit given by name (an example) or as a document, checked (BAD_CIRCUIT naming `field` when the twin refuses it). */
export function resolveCircuit(c: unknown, field = '/circuit'): unknown {
  const circuit = typeof c === 'string' ? loadExampleCircuit(c, field) : c;
  try {
    expandCircuit(circuit);
  } catch (err) {
    throw new AppError('BAD_CIRCUIT', `circuit: ${err instanceof Error ? err.message : String(err)}`, field);
  }
  return circuit;
}

/**
 * The twin's stimulus of a protocol at `sampleRate` for its duration (the run's stored stimulus channel); a
 * piecewise-constant protocol also as its exact edges. Sweeps simulate exactly this (workers/tasks.ts twin).
 */
export function protocolStimulus(protocol: Protocol, sampleRate: number): Stimulus {
  const summary = protocolSummary(protocol);
  const n = Math.max(2, Math.round(summary.durationS * sampleRate));
  const pieces = stimulusPieces(protocol);
  return { samples: sampleStimulus(protocol, sampleRate, 0, n), sampleRate, quantity: summary.quantity, ...(pieces ? { pieces } : {}) };
}

/** The twin's integration methods, as the API and the CLI name them (the compiler checks them against Method). */
const METHODS: readonly Method[] = TWIN_METHODS;
const CHUNK = 4096;

/** What the caller hands the twin source in process (SourceContext.input). */
export interface TwinInput {
  stimulus?: { samples: Float64Array; quantity: 'current' | 'voltage'; hold?: boolean };
  output?: TwinOutput;
}

/** The twin source's run options (checked by the registry before createTwinSource sees them). */
export const TwinOptionsSchema = Type.Object(
  {
    circuit: CircuitOption,
    method: Type.Optional(Type.Union(METHODS.map((m) => Type.Literal(m)), { title: 'Integration method', description: METHODS.join(' | ') })),
    dt: Type.Optional(Type.Number({ exclusiveMinimum: 0, title: 'Integration step', unit: 's', description: 'At most 1 / sample rate' })),
  },
  { additionalProperties: false },
);

export function createTwinSource(ctx: SourceContext<Static<typeof TwinOptionsSchema>>): CreatedSource {
  const input = (ctx.input ?? {}) as TwinInput;
  const o = ctx.options ?? {};
  // default: the plastic synapse for an stdp protocol (the LIF twins have no plasticity), else the LIF
  const circuit = typeof o.circuit === 'string' ? loadExampleCircuit(o.circuit, '/options/circuit') : (o.circuit ?? loadExampleCircuit(defaultTwinCircuit(ctx.protocol, 'lif') as string));
  const method = o.method as Method | undefined;
  const dt = o.dt;
  // a rule across options the schema cannot state: a step longer than a sample would skip output samples
  if (dt !== undefined && dt > 1 / ctx.sampleRate) {
    throw new AppError('BAD_SOURCE_OPTIONS', `options.dt: ${dt} s is longer than one sample (1/sampleRate = ${1 / ctx.sampleRate} s)`, '/options/dt');
  }
  let stimulus: Stimulus;
  if (input.stimulus) {
    const { samples, quantity, hold } = input.stimulus;
    if (samples.length < 2) throw new AppError('BAD_CIRCUIT', `the recorded stimulus has ${samples.length} sample(s); the twin needs at least 2`);
    stimulus = { samples, sampleRate: ctx.sampleRate, quantity, ...(hold ? { hold: true } : {}) };
  } else stimulus = protocolStimulus(ctx.protocol, ctx.sampleRate);
  const net = expandCircuit(circuit);
  // builds the simulator now, so a bad circuit or a stimulus mismatch fails before the run starts
  let sim: { total: number; chunks: Generator<Chunk>; method: Method };
  if (input.output) {
    // the engine's default method (twin/engine.ts), which the worker's simulate() used
    sim = { ...computedChunks(input.output, stimulus.samples.length), method: method ?? net.method ?? 'rk4' };
  } else {
    const s = simulateChunks(net, stimulus, { ...(method ? { method } : {}), ...(dt !== undefined ? { dt } : {}), chunkSize: CHUNK });
    sim = { total: s.total, chunks: s.chunks, method: s.twin.method };
  }
  const probes = net.outputs;
  if (input.output && input.output.channels.length !== probes.length) throw new Error(`the computed twin output has ${input.output.channels.length} channels, the circuit ${probes.length} probes`);
  const channels: ChannelDescriptor[] = [
    { name: 'stim', unit: stimulus.quantity === 'current' ? 'A' : 'V', sampleRate: ctx.sampleRate, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' },
    ...probes.map(
      (p): ChannelDescriptor => ({ name: p.name, unit: probeUnit(p, net), sampleRate: ctx.sampleRate, dtype: 'float32', scale: 1, offset: 0, role: 'response' }),
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
    twin: { circuit, netlist: { name: net.name, info: net.info }, method: sim.method, dt: dt ?? 1 / ctx.sampleRate, stimulusSource: input.stimulus ? 'recorded' : 'protocol', ...(stimulus.hold ? { hold: true } : {}) },
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      yield { type: 'descriptor', channels };
      for (const chunk of sim.chunks) {
        if (signal.aborted) return;
        const n = chunk.data[0]?.length ?? Math.min(CHUNK, sim.total - chunk.first);
        yield { type: 'block', channel: 0, firstIndex: chunk.first, samples: stimulus.samples.slice(chunk.first, chunk.first + n) };
        for (let c = 0; c < chunk.data.length; c++) yield { type: 'block', channel: c + 1, firstIndex: chunk.first, samples: Float32Array.from(chunk.data[c]) };
        for (const e of chunk.events) {
          const ch = chanOfElement.get(e.element) ?? chanOfNode.get(e.node);
          yield { type: 'event', kind: 'spike', index: Math.min(e.index, sim.total - 1), timeS: e.time, ...(ch !== undefined ? { channel: ch } : {}), label: e.element };
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}

/** A twin run as data, for a worker thread (streamTasks.twinRun, server/workers/tasks.ts). */
export interface TwinRunSpec {
  protocol: Protocol;
  sampleRate: number;
  options?: Record<string, unknown>;
  stimulus?: TwinInput['stimulus'];
  /** The simulation, computed already (a sweep's or a pairing's): streamed as it is. */
  output?: TwinOutput;
}

/** What the twinRun task streams: first the run's twin snapshot, then its messages. */
export type TwinRunItem = { twin: unknown } | SourceMessage;

/** On the worker thread: the twin source built and run there. */
export async function* twinRunItems(spec: TwinRunSpec): AsyncGenerator<TwinRunItem> {
  const input: TwinInput = { ...(spec.stimulus ? { stimulus: spec.stimulus } : {}), ...(spec.output ? { output: spec.output } : {}) };
  const src = createTwinSource({ protocol: spec.protocol, sampleRate: spec.sampleRate, runId: 0, options: spec.options, input });
  yield { twin: src.twin };
  // never aborted from inside: the pool stops the thread
  yield* src.messages(new AbortController().signal);
}

/** The twin source whose work runs on the pool; resolves once the worker has built it (a bad circuit rejects here). */
async function pooledTwinSource(ctx: SourceContext, pool: WorkerPool): Promise<CreatedSource> {
  const ac = new AbortController();
  const { stimulus, output } = (ctx.input ?? {}) as TwinInput;
  // the computed output's buffers move to the thread (its caller is done with them)
  const transfer = output ? [...new Set(output.channels.map((c) => c.data.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))] : [];
  const spec: TwinRunSpec = { protocol: ctx.protocol, sampleRate: ctx.sampleRate, ...(ctx.options ? { options: ctx.options } : {}), ...(stimulus ? { stimulus } : {}), ...(output ? { output } : {}) };
  const items = pool.stream('twinRun', spec, { signal: ac.signal, transfer });
  let first: IteratorResult<TwinRunItem>;
  try {
    first = await items.next();
  } catch (err) {
    // the worker's refusal keeps its code and field (BAD_CIRCUIT, TWIN_BAD_STIMULUS ...); an untyped one is a
    // source that cannot start, as when it is thrown here
    if (err instanceof TaskError && err.code === 'TASK_FAILED') throw new Error(err.message);
    throw err;
  }
  if (first.done || !('twin' in first.value)) throw new Error('the twin worker ended before its first message');
  return {
    kind: 'twin',
    bench: null,
    twin: first.value.twin,
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      const stop = () => ac.abort(new Error('run stopped'));
      signal.addEventListener('abort', stop, { once: true });
      // A chunk (its block on every channel, then its spikes) goes out once the next one begins or the stream
      // ends: a stop cancels the thread at once, mid-chunk, and only whole chunks are kept.
      let chunk: SourceMessage[] = [];
      try {
        for await (const item of items) {
          const msg = item as SourceMessage;
          if (msg.type === 'descriptor') {
            yield msg;
            continue;
          }
          if (msg.type === 'block' && msg.channel === 0 && chunk.length > 0) {
            yield* chunk;
            chunk = [];
            if (signal.aborted) return;
          }
          chunk.push(msg);
        }
        yield* chunk;
      } catch (err) {
        if (signal.aborted) return;
        yield* chunk; // what the thread sent before it failed
        throw err;
      } finally {
        signal.removeEventListener('abort', stop);
        await items.return(undefined);
      }
    },
    dispose: async () => {
      ac.abort(new Error('run not started'));
      await items.return(undefined);
    },
  };
}

/** A result computed elsewhere (the worker pool), cut into the chunks simulateChunks() would give. */
function computedChunks(out: TwinOutput, total: number): { total: number; chunks: Generator<Chunk> } {
  const events = [...out.events].sort((a, b) => a.index - b.index);
  function* gen(): Generator<Chunk> {
    let e = 0;
    for (let first = 0; first < total; first += CHUNK) {
      const end = Math.min(total, first + CHUNK);
      const chunkEvents: Chunk['events'] = [];
      // simulateChunks puts an event in the chunk that advanced the time past it: index <= end (rounded)
      while (e < events.length && (events[e].index < end || end === total)) {
        chunkEvents.push(events[e++] as Chunk['events'][number]);
      }
      yield { first, data: out.channels.map((c) => c.data.subarray(first, end)), events: chunkEvents };
    }
  }
  return { total, chunks: gen() };
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('twin', {
    title: 'Digital twin (simulated circuit, same stimulus)',
    options: TwinOptionsSchema,
    // the float64 stimulus and, typically, one float32 output
    bytesPerSample: 12,
    maxSampleRate: TWIN_MAX_SAMPLE_RATE,
    available: async () => ({ available: true }),
    // with the server's pool, everything (expanding, sampling, simulating or streaming a result computed already) runs there
    create: (ctx) => (ctx.pool ? pooledTwinSource(ctx, ctx.pool) : createTwinSource(ctx)),
  });
}
