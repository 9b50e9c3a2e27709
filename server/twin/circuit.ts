/**
 * Circuit descriptions (JSON) and the generators of self-organising networks.
 *
 * A circuit file is either an explicit netlist (`kind: "netlist"`) or a network generator
 * (`"erdos-renyi"`, `"nanowire"`, `"lattice"`) that expands, seeded, into a netlist. Node "0" is ground.
 * Format reference: docs/twin/circuits.md.
 */
import { getModel, resolveParams, TwinError, type Params } from './models.ts';
import { Rng } from '../../common/random.ts';

export type Element =
  /**
   * Resistor; with `imax` (A) an SMU-style current compliance: |i| is held at imax (the source turns into a
   * current source) while the resistor would carry more, decided once per time step like an SMU's loop.
   */
  | { type: 'R'; name?: string; a: string; b: string; value: number; imax?: number }
  | { type: 'C'; name?: string; a: string; b: string; value: number }
  /** Grounded voltage source (an electrode, a Dirichlet node): v(node) = value, or offset + gain·stimulus. */
  | { type: 'V'; name?: string; node: string; value?: number; stimulus?: boolean; gain?: number; offset?: number; channel?: number }
  /** Current source from a through the source to b (injects into b), DC or offset + gain·stimulus. */
  | { type: 'I'; name?: string; a: string; b: string; value?: number; stimulus?: boolean; gain?: number; offset?: number; channel?: number }
  | { type: 'device'; name?: string; a: string; b: string; model: string; params?: Params; x0?: number }
  /** Threshold-and-reset on a capacitor node: spike when v(node) rises through vth, then v = vreset, held for tref. */
  | { type: 'neuron'; name?: string; node: string; vth: number; vreset: number; tref?: number };

export interface Probe {
  name: string;
  /** v: node voltage (V), i: element current (A, a→b; for V sources the current delivered), x: device state. */
  kind: 'v' | 'i' | 'x';
  node?: string;
  element?: string;
  /** kind x: one of the device's extra states by name (e.g. the diffusive memristor's "theta"); default x. */
  state?: string;
}

/**
 * How a circuit's spikes are found (twin runs then carry them as spike events):
 *  - current: the current of electrode `electrode` rises through `threshold` (A; negative: falls through);
 *    with `highpass` (s) the current minus its exponential moving average of that time constant (an
 *    AC-coupled trigger: a transient counts, a steady conduction does not);
 *  - switching: a junction state rises through `level` (default 0.5 of its range); with `merge` (s) the
 *    switchings of a cascade — each within `merge` of the previous one — make one network spike (at the
 *    first), else every junction's switching is an event.
 */
export type SpikeDetector = { kind: 'current'; electrode: number; threshold: number; highpass?: number } | { kind: 'switching'; level?: number; merge?: number };

/** Integration methods a circuit may recommend (the engine's Method). */
export type CircuitMethod = 'rk4' | 'euler' | 'adaptive' | 'implicit';

export interface NetlistCircuit {
  kind: 'netlist';
  name?: string;
  description?: string;
  elements: Element[];
  outputs?: Probe[];
  method?: CircuitMethod;
  spikes?: SpikeDetector[];
}

export interface JunctionSpec {
  model: string;
  params?: Params;
  x0?: number;
  /**
   * Device-to-device variability: relative spread per parameter; each junction's value is the nominal
   * one times exp(σ·z − σ²/2), z standard normal (log-normal with the nominal mean).
   */
  spread?: Record<string, number>;
  /** Seed of the variability draw (default: the circuit seed + 1), so one topology can get several device sets. */
  seed?: number;
}
export interface ElectrodeSpec {
  /** Node index in the generated network; negative counts from the end (-1 = last node). */
  node: number;
  value?: number;
  stimulus?: boolean;
  gain?: number;
  /** Stimulus channel driving this electrode (default 0): several electrodes can get different waveforms. */
  channel?: number;
  /** Source resistance between the instrument and the node, Ω (default none: the node is the source). */
  sourceResistance?: number;
  /** Current compliance of the instrument, A (needs sourceResistance). */
  compliance?: number;
  /** Capacitance of the electrode (pad and cable) to ground, F; replaces the node's parasitic capacitance. */
  capacitance?: number;
}
interface NetworkCommon {
  name?: string;
  description?: string;
  seed?: number;
  junction: JunctionSpec;
  electrodes: ElectrodeSpec[];
  /** Extra probes: "nodes" records every node voltage; "states" every junction state (x_J<k>, and a model's further states as <name>_J<k>). */
  record?: ('nodes' | 'states')[];
  /** Parasitic capacitance of every node to ground, F. */
  capacitance?: number;
  /** Capacitance across every junction, F. */
  junctionCapacitance?: number;
  /** Recommended integration method (capacitive networks: 'implicit', the stable companion model). */
  method?: CircuitMethod;
  spikes?: SpikeDetector[];
}
export interface ErdosRenyiCircuit extends NetworkCommon {
  kind: 'erdos-renyi';
  n: number;
  p: number;
}
export interface NanowireCircuit extends NetworkCommon {
  kind: 'nanowire';
  wires: number;
  /** wires per um² (0.06–0.14 in the studies). */
  density: number;
  lengthMean?: number;
  lengthSd?: number;
}
export interface LatticeCircuit extends NetworkCommon {
  kind: 'lattice';
  rows: number;
  cols: number;
  /** lattice: nearest-neighbour grid; crossbar: every row line to every column line. */
  topology?: 'lattice' | 'crossbar';
}

export type Circuit = NetlistCircuit | ErdosRenyiCircuit | NanowireCircuit | LatticeCircuit;

/** An expanded netlist ready to compile. */
export interface Netlist {
  name: string;
  elements: Element[];
  outputs: Probe[];
  /** Generator facts (node count, junctions, wire geometry summary). */
  info: Record<string, number | string>;
  /** Recommended integration method (used when a run does not name one). */
  method?: CircuitMethod;
  /** Spike detectors; electrode k is the voltage source E<k>. */
  spikes?: SpikeDetector[];
}

// --------------------------------------------------------------------------------- seeded randomness
// --------------------------------------------------------------------------------- validation
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
function need(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new TwinError('TWIN_BAD_CIRCUIT', msg);
}

function checkElement(e: Element, i: number): void {
  const where = `element ${i} (${e.name ?? e.type})`;
  switch (e.type) {
    case 'R':
    case 'C':
      need(typeof e.a === 'string' && typeof e.b === 'string' && e.a !== e.b, `${where}: needs distinct nodes a and b`);
      need(isNum(e.value) && e.value > 0, `${where}: value must be > 0`);
      need(e.type === 'C' || e.imax === undefined || (isNum(e.imax) && e.imax > 0), `${where}: imax must be > 0`);
      break;
    case 'V':
      need(typeof e.node === 'string' && e.node !== '0', `${where}: needs a node other than ground`);
      need(e.stimulus === true || isNum(e.value), `${where}: needs a value or stimulus: true`);
      need(e.channel === undefined || (Number.isInteger(e.channel) && e.channel >= 0 && e.channel < 16), `${where}: channel must be an integer 0..15`);
      break;
    case 'I':
      need(typeof e.a === 'string' && typeof e.b === 'string' && e.a !== e.b, `${where}: needs distinct nodes a and b`);
      need(e.stimulus === true || isNum(e.value), `${where}: needs a value or stimulus: true`);
      need(e.channel === undefined || (Number.isInteger(e.channel) && e.channel >= 0 && e.channel < 16), `${where}: channel must be an integer 0..15`);
      break;
    case 'device': {
      need(typeof e.a === 'string' && typeof e.b === 'string' && e.a !== e.b, `${where}: needs distinct nodes a and b`);
      const m = getModel(e.model);
      resolveParams(m, e.params);
      break;
    }
    case 'neuron':
      need(typeof e.node === 'string', `${where}: needs a node`);
      need(isNum(e.vth) && isNum(e.vreset) && e.vreset < e.vth, `${where}: needs vreset < vth`);
      need(e.tref === undefined || (isNum(e.tref) && e.tref >= 0), `${where}: tref must be >= 0`);
      break;
    default:
      throw new TwinError('TWIN_BAD_CIRCUIT', `${where}: unknown element type "${(e as { type: string }).type}"`);
  }
}

/** Checks a circuit document and expands it into a netlist. Throws TwinError (code TWIN_BAD_CIRCUIT). */
export function expandCircuit(json: unknown): Netlist {
  need(typeof json === 'object' && json !== null, 'circuit must be a JSON object');
  const c = json as Circuit;
  let net: Netlist;
  switch (c.kind) {
    case 'netlist':
      need(Array.isArray(c.elements) && c.elements.length > 0, 'netlist needs elements');
      net = { name: c.name ?? 'netlist', elements: c.elements, outputs: c.outputs ?? defaultProbes(c.elements), info: {}, ...(c.method ? { method: c.method } : {}), ...(c.spikes ? { spikes: c.spikes } : {}) };
      break;
    case 'erdos-renyi':
      net = erdosRenyi(c);
      break;
    case 'nanowire':
      net = nanowireNetwork(c);
      break;
    case 'lattice':
      net = latticeNetwork(c);
      break;
    default:
      throw new TwinError('TWIN_BAD_CIRCUIT', `unknown circuit kind "${(c as { kind?: string }).kind}"`);
  }
  net.elements.forEach(checkElement);
  const names = new Set<string>();
  net.elements.forEach((e, i) => {
    if (!e.name) e.name = `${e.type}${i}`;
    need(!names.has(e.name), `duplicate element name "${e.name}"`);
    names.add(e.name);
  });
  const kinds = new Set(net.elements.filter((e) => (e.type === 'V' || e.type === 'I') && e.stimulus).map((e) => e.type));
  need(kinds.size <= 1, 'stimulus elements must all be current sources or all voltage sources');
  need(net.method === undefined || ['rk4', 'euler', 'adaptive', 'implicit'].includes(net.method), `unknown method "${net.method}"`);
  for (const d of net.spikes ?? []) {
    if (d.kind === 'current') {
      need(names.has(`E${d.electrode}`), `spikes: no electrode ${d.electrode}`);
      need(isNum(d.threshold) && d.threshold !== 0, 'spikes: a current detector needs a non-zero threshold (A)');
      need(d.highpass === undefined || (isNum(d.highpass) && d.highpass > 0), 'spikes: highpass must be > 0 (s)');
    } else {
      need(d.kind === 'switching' && (d.level === undefined || (isNum(d.level) && d.level > 0 && d.level < 1)), 'spikes: kind must be "current" or "switching" (level in (0, 1))');
      need(d.merge === undefined || (isNum(d.merge) && d.merge > 0), 'spikes: merge must be > 0 (s)');
    }
  }
  return net;
}

function defaultProbes(elements: Element[]): Probe[] {
  const probes: Probe[] = [];
  const nodes = new Set<string>();
  for (const e of elements) {
    if ('node' in e) nodes.add(e.node);
    if ('a' in e) (nodes.add(e.a), nodes.add(e.b));
  }
  nodes.delete('0');
  for (const nd of nodes) probes.push({ name: `v_${nd}`, kind: 'v', node: nd });
  elements.forEach((e, i) => {
    const nm = e.name ?? `${e.type}${i}`;
    if (e.type === 'device') probes.push({ name: `i_${nm}`, kind: 'i', element: nm }, { name: `x_${nm}`, kind: 'x', element: nm });
    if (e.type === 'V') probes.push({ name: `i_${nm}`, kind: 'i', element: nm });
  });
  return probes;
}

function networkFromEdges(c: NetworkCommon & { kind: string }, nNodes: number, edges: [number, number][], info: Record<string, number | string>): Netlist {
  need(Array.isArray(c.electrodes) && c.electrodes.length >= 1, `${c.kind}: needs electrodes`);
  const model = getModel(c.junction?.model ?? 'threshold');
  const params = resolveParams(model, c.junction?.params);
  const spread = Object.entries(c.junction?.spread ?? {});
  for (const [k, sd] of spread) {
    need(k in params, `${c.kind}: junction spread names unknown parameter "${k}"`);
    need(isNum(sd) && sd >= 0, `${c.kind}: junction spread of ${k} must be >= 0`);
  }
  // a separate stream, so a spread leaves the topology of the seed unchanged
  const r = new Rng((c.junction?.seed ?? (c.seed ?? 1) + 1) >>> 0);
  const elements: Element[] = edges.map(([a, b], k) => {
    let p = params;
    if (spread.length) {
      p = { ...params };
      for (const [name, sd] of spread) p[name] = params[name] * Math.exp(sd * r.normal() - (sd * sd) / 2);
    }
    return { type: 'device', name: `J${k}`, a: `n${a}`, b: `n${b}`, model: model.name, params: p, x0: c.junction?.x0 ?? model.x0 };
  });
  const outputs: Probe[] = [];
  need(c.capacitance === undefined || (isNum(c.capacitance) && c.capacitance > 0), `${c.kind}: capacitance must be > 0 (F)`);
  need(c.junctionCapacitance === undefined || (isNum(c.junctionCapacitance) && c.junctionCapacitance > 0), `${c.kind}: junctionCapacitance must be > 0 (F)`);
  if (c.junctionCapacitance) edges.forEach(([a, b], k) => elements.push({ type: 'C', name: `CJ${k}`, a: `n${a}`, b: `n${b}`, value: c.junctionCapacitance as number }));
  const driven = new Set<number>();
  const padC = new Map<number, number>();
  c.electrodes.forEach((el, k) => {
    const nodeIx = el.node < 0 ? nNodes + el.node : el.node; // negative: counted from the end (-1 = last node)
    need(Number.isInteger(el.node) && nodeIx >= 0 && nodeIx < nNodes, `${c.kind}: electrode node ${el.node} is not in the network (0..${nNodes - 1}, or negative from the end)`);
    const rs = el.sourceResistance;
    need(rs === undefined || (isNum(rs) && rs > 0), `${c.kind}: electrode ${k} sourceResistance must be > 0 (Ohm)`);
    need(el.compliance === undefined || (rs !== undefined && isNum(el.compliance) && el.compliance > 0), `${c.kind}: electrode ${k} compliance must be > 0 (A) and needs a sourceResistance`);
    need(el.capacitance === undefined || (rs !== undefined && isNum(el.capacitance) && el.capacitance > 0), `${c.kind}: electrode ${k} capacitance must be > 0 (F) and needs a sourceResistance`);
    if (el.capacitance) padC.set(nodeIx, el.capacitance);
    const src = { stimulus: el.stimulus, gain: el.gain, value: el.value, ...(el.channel !== undefined ? { channel: el.channel } : {}) };
    if (rs === undefined) {
      driven.add(nodeIx);
      elements.push({ type: 'V', name: `E${k}`, node: `n${nodeIx}`, ...src });
    } else {
      // the instrument's terminal s<k> behind its source resistance (the current it measures flows through RS<k>)
      elements.push({ type: 'V', name: `E${k}`, node: `s${k}`, ...src });
      elements.push({ type: 'R', name: `RS${k}`, a: `s${k}`, b: `n${nodeIx}`, value: rs, ...(el.compliance ? { imax: el.compliance } : {}) });
    }
    outputs.push({ name: `i_E${k}`, kind: 'i', element: `E${k}` });
  });
  for (let i = 0; i < nNodes; i++) {
    const C = padC.get(i) ?? c.capacitance;
    if (C && !driven.has(i)) elements.push({ type: 'C', name: `CN${i}`, a: `n${i}`, b: '0', value: C });
  }
  if (c.record?.includes('nodes')) for (let i = 0; i < nNodes; i++) outputs.push({ name: `v_n${i}`, kind: 'v', node: `n${i}` });
  if (c.record?.includes('states')) {
    edges.forEach((_, k) => outputs.push({ name: `x_J${k}`, kind: 'x', element: `J${k}` }));
    // a model's further states (the diffusive memristor's temperature) as <state>_J<k>
    elements.forEach((e, k) => {
      if (e.type === 'device') for (const s of model.extraStates?.(e.params as Params) ?? []) outputs.push({ name: `${s.name}_J${k}`, kind: 'x', element: `J${k}`, state: s.name });
    });
  }
  return {
    name: c.name ?? c.kind, elements, outputs, info: { nodes: nNodes, junctions: edges.length, ...info },
    ...(c.method ? { method: c.method } : {}), ...(c.spikes ? { spikes: c.spikes } : {}),
  };
}

/*
 * Size caps of generated networks, from measured cost (2-core machine under load): expanding an
 * Erdős–Rényi network of 10,000 nodes took 11.5 s and a 300 x 300 lattice 3.8 s before any simulation,
 * while the largest built-in network (nwn2000) has 2,000 wires. Above these a document is refused.
 */
export const MAX_NETWORK_NODES = 5000;
export const MAX_NETWORK_JUNCTIONS = 50_000;
/*
 * What a simulation costs is set less by the node count than by how densely the network is connected: the
 * sparse factor of its conductance matrix fills in (an Erdős–Rényi network of 1,000 nodes at p = 0.02, 10,112
 * junctions, fills to about 490,000 nonzeros: 9 s to order and 10 s for its first step, where a 70 × 70
 * lattice of 9,660 junctions fills to 84,000 and takes 0.7 s). A step then costs about 80–330 ns per unit
 * of (devices + factor nonzeros) on one pool thread (docs/security.md). Caps: the factor's fill and the
 * ordering's work (it stops there, so a refusal costs at most that), and the work per step times the steps
 * (samples × substeps).
 */
export const MAX_FACTOR_NONZEROS = 150_000;
/** Set operations of the minimum-degree ordering (about 80 ns each): the setup a refused network costs too. */
export const MAX_ORDERING_WORK = 3e7;
export const MAX_NETWORK_WORK = 1e9;

const capNetwork = (kind: string, nodes: number, junctions: number) => {
  need(nodes <= MAX_NETWORK_NODES, `${kind}: ${nodes} nodes; at most ${MAX_NETWORK_NODES}`);
  need(junctions <= MAX_NETWORK_JUNCTIONS, `${kind}: about ${Math.round(junctions)} junctions; at most ${MAX_NETWORK_JUNCTIONS}`);
};

/** Erdős–Rényi G(n, p) of junctions, seeded. */
export function erdosRenyi(c: ErdosRenyiCircuit): Netlist {
  need(Number.isInteger(c.n) && c.n >= 2, 'erdos-renyi: n must be an integer >= 2');
  need(isNum(c.p) && c.p > 0 && c.p <= 1, 'erdos-renyi: p must be in (0, 1]');
  capNetwork('erdos-renyi', c.n, (c.n * (c.n - 1) * c.p) / 2);
  const r = new Rng(c.seed ?? 1);
  const u = () => r.next();
  const edges: [number, number][] = [];
  for (let i = 0; i < c.n; i++) for (let j = i + 1; j < c.n; j++) if (u() < c.p) edges.push([i, j]);
  return networkFromEdges(c, c.n, edges, { p: c.p });
}

/** Square lattice (nearest neighbours) or crossbar (rows × cols lines, a junction at every crossing). */
export function latticeNetwork(c: LatticeCircuit): Netlist {
  need(Number.isInteger(c.rows) && Number.isInteger(c.cols) && c.rows >= 1 && c.cols >= 1, 'lattice: rows, cols must be positive integers');
  if (c.topology === 'crossbar') capNetwork('crossbar', c.rows + c.cols, c.rows * c.cols);
  else capNetwork('lattice', c.rows * c.cols, 2 * c.rows * c.cols);
  const edges: [number, number][] = [];
  if (c.topology === 'crossbar') {
    for (let r = 0; r < c.rows; r++) for (let k = 0; k < c.cols; k++) edges.push([r, c.rows + k]);
    return networkFromEdges(c, c.rows + c.cols, edges, { topology: 'crossbar' });
  }
  const id = (r: number, k: number) => r * c.cols + k;
  for (let r = 0; r < c.rows; r++)
    for (let k = 0; k < c.cols; k++) {
      if (k + 1 < c.cols) edges.push([id(r, k), id(r, k + 1)]);
      if (r + 1 < c.rows) edges.push([id(r, k), id(r + 1, k)]);
    }
  return networkFromEdges(c, c.rows * c.cols, edges, { topology: 'lattice' });
}

/**
 * 2-D random nanowire deposition: wire centres uniform in a square of side sqrt(wires/density), angles
 * uniform, lengths gamma(mean, sd); a junction where two wires cross; only the largest connected
 * component is kept and renumbered 0..N-1 by the x of the wire centre, so node 0 is the leftmost wire
 * (source side) and node N-1 the rightmost (drain side). Electrode node indices refer to this order.
 */
export function nanowireNetwork(c: NanowireCircuit): Netlist {
  need(Number.isInteger(c.wires) && c.wires >= 2, 'nanowire: wires must be an integer >= 2');
  capNetwork('nanowire', c.wires, 0);
  need(isNum(c.density) && c.density > 0, 'nanowire: density (wires/um^2) must be > 0');
  const mean = c.lengthMean ?? 10;
  const sd = c.lengthSd ?? 1;
  const side = Math.sqrt(c.wires / c.density);
  const r = new Rng(c.seed ?? 1);
  const u = () => r.next();
  const k = (mean / sd) ** 2;
  const theta = (sd * sd) / mean;
  const N = c.wires;
  const x1 = new Float64Array(N), y1 = new Float64Array(N), x2 = new Float64Array(N), y2 = new Float64Array(N), cx = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const x = u() * side, y = u() * side, ang = u() * Math.PI, len = r.gamma(k) * theta;
    const dx = (Math.cos(ang) * len) / 2, dy = (Math.sin(ang) * len) / 2;
    x1[i] = x - dx; y1[i] = y - dy; x2[i] = x + dx; y2[i] = y + dy; cx[i] = x;
  }
  const cross = (i: number, j: number): boolean => {
    const d1 = (x2[i] - x1[i]) * (y1[j] - y1[i]) - (y2[i] - y1[i]) * (x1[j] - x1[i]);
    const d2 = (x2[i] - x1[i]) * (y2[j] - y1[i]) - (y2[i] - y1[i]) * (x2[j] - x1[i]);
    const d3 = (x2[j] - x1[j]) * (y1[i] - y1[j]) - (y2[j] - y1[j]) * (x1[i] - x1[j]);
    const d4 = (x2[j] - x1[j]) * (y2[i] - y1[j]) - (y2[j] - y1[j]) * (x2[i] - x1[j]);
    return d1 * d2 < 0 && d3 * d4 < 0;
  };
  const all: [number, number][] = [];
  for (let i = 0; i < N; i++)
    for (let j = i + 1; j < N; j++) {
      if (Math.max(x1[i], x2[i]) < Math.min(x1[j], x2[j]) || Math.max(x1[j], x2[j]) < Math.min(x1[i], x2[i])) continue;
      if (Math.max(y1[i], y2[i]) < Math.min(y1[j], y2[j]) || Math.max(y1[j], y2[j]) < Math.min(y1[i], y2[i])) continue;
      if (cross(i, j)) all.push([i, j]);
    }
  // largest connected component (union-find)
  const parent = Int32Array.from({ length: N }, (_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  for (const [a, b] of all) parent[find(a)] = find(b);
  const size = new Int32Array(N);
  for (let i = 0; i < N; i++) size[find(i)]++;
  let root = 0;
  for (let i = 0; i < N; i++) if (size[i] > size[root]) root = i;
  const keep = [...Array(N).keys()].filter((i) => find(i) === root).sort((a, b) => cx[a] - cx[b] || a - b);
  const newId = new Int32Array(N).fill(-1);
  keep.forEach((w, i) => (newId[w] = i));
  const edges = all.filter(([a]) => newId[a] >= 0).map(([a, b]) => [newId[a], newId[b]] as [number, number]);
  return networkFromEdges(c, keep.length, edges, { wiresDeposited: N, side_um: side, density: c.density });
}
