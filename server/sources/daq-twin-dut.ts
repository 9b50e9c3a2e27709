/**
 * The digital twin (server/twin) as the circuit on the virtual DAQ board's pins: a DUT stepper
 * (drivers/daq/virtual.ts `DutStepper`) that the emulated board drives in lockstep, in emulated time. The
 * board's stimulus output voltage drives the circuit's stimulus element; chosen circuit signals drive the
 * ADC pins A0..A5 (clamped to 0..5 V by the harness).
 *
 * The mapping comes from an optional `daq` section of the circuit document (ignored by the twin itself):
 *   "daq": { "pins": ["v_mem", "stimulus"], "seriesOhms": 5000, "dt": 1e-5 }
 *   pins        A0, A1, ... (up to 6): "stimulus" (the board's stimulus voltage), the name of one of the
 *               circuit's outputs (its value, read as volts), or a node name (its voltage); null = 0 V.
 *               Default: the circuit's voltage outputs in order (at most 5), then "stimulus".
 *   seriesOhms  for a current-stimulus circuit: the board drives it through this resistor, taken as a
 *               current source I = V / seriesOhms (default 5000, as the DAQ source's current protocols).
 *   dt          the twin's RK4 step, s (default 10 µs; an interval between two pin reads is split into
 *               steps of at most dt, neuron thresholds are located inside steps).
 *   spikes      online spike detection on pins, keyed by the pin's entry in `pins` (e.g. "v_mem"):
 *               {threshold, direction: 'rising' | 'falling' | 'reset', refractoryS?, dropFraction?}
 *               (server/analysis/online-spikes.ts); a DAQ run on the virtual board with this circuit records
 *               `spike` events on that pin's channel a<n> (server/sources/daq-source.ts).
 * A voltage-stimulus circuit takes the board's voltage as it is.
 *
 * `twinDaqDut(circuit)` checks the circuit now (throws a clear error) and returns the spec that
 * VirtualBoard.start({ dut }) hands to its worker, which calls `createDutStepper` from this module.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CircuitSpec, DutSpec, DutStepper } from '../../drivers/daq/virtual.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';
import { createTwin, expandCircuit, type Netlist, type Probe, type Twin } from '../twin/index.ts';
import { spikeDetectorConfig, type SpikeDetectorConfig } from '../analysis/online-spikes.ts';

export const DAQ_PINS = 6;
export const DEFAULT_SERIES_OHMS = 5000;
export const DEFAULT_DUT_DT = 1e-5;

export interface DaqMapping {
  /** Per pin A0..: 'stimulus', a probe, or null (0 V). */
  pins: ({ kind: 'stimulus' } | { kind: 'probe'; probe: Probe } | null)[];
  /** Input to the twin per stimulus volt (1 for a voltage circuit, 1/seriesOhms for a current circuit). */
  gain: number;
  quantity: 'voltage' | 'current';
  dt: number;
  /** Spike detection per recorded channel name (a<pin>), from daq.spikes. */
  spikes: Record<string, SpikeDetectorConfig>;
}

const fail = (net: string, msg: string): never => {
  throw new Error(`circuit ${net}: ${msg}`);
};

/** Resolves the `daq` section (or its defaults) of a circuit against its expanded netlist. */
export function daqMapping(circuit: unknown, net: Netlist): DaqMapping {
  const daq = ((circuit as { daq?: unknown }).daq ?? {}) as { pins?: unknown; seriesOhms?: unknown; dt?: unknown; spikes?: unknown };
  if (typeof daq !== 'object' || daq === null || Array.isArray(daq)) fail(net.name, '"daq" must be an object');
  const stim = net.elements.find((e) => (e.type === 'V' || e.type === 'I') && e.stimulus);
  if (!stim) fail(net.name, 'has no stimulus element (a V or I source with "stimulus": true) for the board to drive');
  const quantity = stim!.type === 'V' ? 'voltage' : 'current';
  const seriesOhms = daq.seriesOhms ?? DEFAULT_SERIES_OHMS;
  if (typeof seriesOhms !== 'number' || !(seriesOhms > 0) || !Number.isFinite(seriesOhms)) fail(net.name, 'daq.seriesOhms must be a number > 0');
  const dt = daq.dt ?? DEFAULT_DUT_DT;
  if (typeof dt !== 'number' || !(dt > 0) || !(dt <= 1e-3)) fail(net.name, 'daq.dt must be a number in (0, 1e-3] s');
  let names: unknown[];
  if (daq.pins === undefined) {
    names = net.outputs.filter((p) => p.kind === 'v').slice(0, DAQ_PINS - 1).map((p) => p.name);
    names.push('stimulus');
  } else if (Array.isArray(daq.pins)) names = daq.pins;
  else return fail(net.name, 'daq.pins must be an array of pin sources (A0, A1, ...)');
  if (names.length > DAQ_PINS) fail(net.name, `daq.pins lists ${names.length} pins; the board has ${DAQ_PINS} analog inputs`);
  const nodes = new Set<string>();
  for (const e of net.elements) for (const k of ['a', 'b', 'node'] as const) if (k in e) nodes.add((e as unknown as Record<string, string>)[k]);
  const pins = names.map((n, i): DaqMapping['pins'][number] => {
    if (n === null) return null;
    if (n === 'stimulus') return { kind: 'stimulus' };
    if (typeof n !== 'string') return fail(net.name, `daq.pins[${i}] must be "stimulus", an output name, a node name or null`);
    const probe = net.outputs.find((p) => p.name === n) ?? (nodes.has(n) ? { name: n, kind: 'v' as const, node: n } : undefined);
    if (!probe) return fail(net.name, `daq.pins[${i}] "${n}" is neither an output (${net.outputs.map((p) => p.name).join(', ')}) nor a node`);
    return { kind: 'probe', probe };
  });
  const spikes: Record<string, SpikeDetectorConfig> = {};
  if (daq.spikes !== undefined) {
    if (typeof daq.spikes !== 'object' || daq.spikes === null || Array.isArray(daq.spikes)) fail(net.name, 'daq.spikes must be an object keyed by pin (an entry of daq.pins)');
    for (const [key, cfg] of Object.entries(daq.spikes as Record<string, unknown>)) {
      const pin = names.indexOf(key);
      if (pin < 0) fail(net.name, `daq.spikes.${key}: not a pin (daq.pins: ${names.map(String).join(', ')})`);
      try {
        spikes[`a${pin}`] = spikeDetectorConfig(cfg, `daq.spikes.${key}`);
      } catch (err) {
        fail(net.name, (err as Error).message);
      }
    }
  }
  return { pins, gain: quantity === 'voltage' ? 1 : 1 / (seriesOhms as number), quantity, dt: dt as number, spikes };
}

/** The spike detection a circuit's `daq.spikes` asks for, per recorded channel name (a<pin>); checked. */
export function circuitDaqSpikes(circuit: unknown): Record<string, SpikeDetectorConfig> {
  return daqMapping(circuit, expandCircuit(circuit)).spikes;
}

class TwinDutStepper implements DutStepper {
  private readonly twin: Twin;
  private stim = 0;

  constructor(
    readonly net: Netlist,
    readonly map: DaqMapping,
  ) {
    this.twin = createTwin(net, { method: 'rk4', dt: map.dt });
    this.twin.setInput(0);
    // every pin source must be readable (unknown nodes/elements fail here, not mid-run)
    const out = new Float64Array(DAQ_PINS);
    this.pins(0, out);
  }

  setStimulus(t: number, volts: number): void {
    this.twin.advanceTo(t);
    this.stim = volts;
    this.twin.setInput(volts * this.map.gain);
  }

  pins(t: number, out: Float64Array): void {
    this.twin.advanceTo(t);
    this.twin.takeEvents(); // spikes are seen on the pins; the list must not grow without bound
    const { pins } = this.map;
    for (let i = 0; i < pins.length; i++) {
      const p = pins[i];
      out[i] = p === null ? 0 : p.kind === 'stimulus' ? this.stim : this.twin.read(p.probe);
    }
  }
}

/** Called in the virtual board's circuit worker (drivers/daq/dut-worker.mjs). */
export function createDutStepper(config: { circuit: unknown }): DutStepper {
  const net = expandCircuit(config.circuit);
  return new TwinDutStepper(net, daqMapping(config.circuit, net));
}

/** Checks a circuit document for use on the board's pins (throws a clear error) and returns its DUT spec. */
export function twinDaqDut(circuit: unknown): DutSpec {
  const stepper = createDutStepper({ circuit }) as TwinDutStepper;
  return { module: import.meta.url, config: { circuit }, name: stepper.net.name };
}

// ------------------------------------------------------------------------------------------- choosing a DUT
/** The circuit of the virtual DAQ bench when none is named (server/twin/circuits/lif-daq.json). */
export const DAQ_BENCH_CIRCUIT = 'lif-daq';
/** The harness's built-in C models (kept for bit-exact tests and as a fallback). */
export const BUILTIN_MODELS = ['direct', 'rc', 'lif'] as const;

export type DaqDutChoice =
  | { kind: 'builtin'; name: string; circuit: CircuitSpec }
  | { kind: 'twin'; name: string; dut: DutSpec; circuit: unknown };

function builtinSpec(doc: { kind: string; params?: unknown }, where: string): CircuitSpec {
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries((doc.params ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: parameter ${k} must be a finite number`);
    params[k] = v;
  }
  return { kind: doc.kind as CircuitSpec['kind'], params };
}

function fromDocument(doc: unknown, where: string, fallbackName: string): DaqDutChoice {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${where}: a circuit must be a JSON object`);
  const kind = (doc as { kind?: unknown }).kind;
  if (typeof kind === 'string' && (BUILTIN_MODELS as readonly string[]).includes(kind)) {
    return { kind: 'builtin', name: kind, circuit: builtinSpec(doc as { kind: string }, where) };
  }
  try {
    const dut = twinDaqDut(doc);
    return { kind: 'twin', name: dut.name ?? fallbackName, dut, circuit: doc };
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

/**
 * What goes on the virtual board's pins: undefined → the bench circuit (lif-daq); "direct" | "rc" | "lif" →
 * the harness's built-in model; another bare name → that example circuit of server/twin/circuits; a path
 * → that JSON file (a twin circuit, or {"kind": "direct|rc|lif", "params": {...}}); an object → that
 * document. Throws a clear error (naming the file) for anything unusable.
 */
export function resolveDaqDut(what: unknown): DaqDutChoice {
  if (what === undefined || what === null) what = DAQ_BENCH_CIRCUIT;
  if (typeof what !== 'string') return fromDocument(what, 'circuit', 'circuit');
  if ((BUILTIN_MODELS as readonly string[]).includes(what)) return { kind: 'builtin', name: what, circuit: { kind: what as CircuitSpec['kind'] } };
  const builtIn = builtInCircuit(what);
  if (builtIn !== undefined) return fromDocument(builtIn, what, what);
  const file = what;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read the circuit file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: not valid JSON (${(err as Error).message})`);
  }
  return fromDocument(doc, what, path.basename(file, '.json'));
}
