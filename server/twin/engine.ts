/**
 * The twin's solver: modified nodal analysis of a netlist, with device state equations, capacitors and
 * threshold-and-reset neurons, integrated in time. Pure computation: no clocks, no I/O, no globals.
 *
 * Formulation. Nodes are of three classes:
 *  - fixed: ground and the nodes of grounded voltage sources (electrodes) — true Dirichlet nodes;
 *  - dynamic: nodes with a capacitor — their voltages are state variables (C·dv/dt = KCL residual,
 *    with the capacitance matrix, floating capacitors included, factored once);
 *  - algebraic: the rest — solved at every evaluation from G(x)·v = i, an SPD sparse system whose
 *    pattern is analysed once (sparse.ts) and whose values change with the device conductances.
 * The state vector is [dynamic node voltages, device states]. It is integrated by classic RK4 or forward
 * Euler at a fixed step, or by Dormand–Prince 5(4) with error control. Neuron thresholds are located
 * inside a step (cubic Hermite interpolation, bisection), the step is re-integrated up to the crossing,
 * the node is reset, and held for the refractory period (whose end also splits a step).
 */
import { TwinError, getModel, resolveParams, type DeviceModel, type Params } from './models.ts';
import type { Netlist, Probe, SpikeDetector } from './circuit.ts';
import { SpdSystem } from './sparse.ts';
import { ConstInput, PiecewiseInput, SampledInput, type Input } from './inputs.ts';
import { DP_A, DP_B, DP_C, DP_E, hermiteRoot } from './integrators.ts';

export type Method = 'rk4' | 'euler' | 'adaptive' | 'implicit';

export interface TwinOptions {
  /**
   * Integration method (default rk4). 'implicit': capacitors by the backward-Euler companion model
   * (conductance C/dt in parallel with a current source) solved with the network, device states by
   * forward Euler; L-stable for stiff RC, first order; circuits with neurons are refused.
   */
  method?: Method;
  /** Fixed step, or first/max step of the adaptive method, in s. simulate() defaults it to 1/sampleRate. */
  dt?: number;
  /** Adaptive method tolerances (defaults 1e-6, 1e-9). */
  rtol?: number;
  atol?: number;
  /** Linear solver for the algebraic nodes: refactor at every evaluation, or warm-started PCG (default). */
  solver?: 'direct' | 'pcg';
}

export interface TwinEvent {
  kind: 'spike';
  /** Time of the threshold crossing in s (not snapped to the grid). */
  time: number;
  /** The neuron, the switching junction, or the electrode (voltage source) whose current crossed. */
  element: string;
  node: string;
}

const GMIN = 1e-12;

type GBatch = NonNullable<DeviceModel['gBatch']>;
type RateBatch = NonNullable<DeviceModel['rateBatch']>;
interface DeviceGroup {
  model: DeviceModel;
  p: Params;
  /** first device, device count, first branch */
  d0: number;
  count: number;
  base: number;
  lo: number;
  hi: number;
  /** states at the last gBatch call (NaN: not yet) */
  gLast: Float64Array;
  vd: Float64Array;
}

function sameParams(a: Params, b: Params): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k])) return false;
  return true;
}

interface DeviceInfo {
  name: string;
  model: DeviceModel;
  p: Params;
  a: number;
  b: number;
  /** branch index, or -1 for nonlinear-in-v devices */
  branch: number;
  lo: number;
  hi: number;
}

export class Twin {
  readonly name: string;
  readonly nodeNames: string[];
  private nodeIdx = new Map<string, number>();
  /** 0 fixed, 1 dynamic, 2 algebraic */
  private cls: Int8Array;
  private slot: Int32Array; // index within its class
  readonly nDyn: number;
  readonly nAlg: number;
  readonly nDev: number;
  private dynNodes: Int32Array;
  private algNodes: Int32Array;
  // fixed node sources
  private fixedNodes: Int32Array;
  private fixedStim: Uint8Array;
  private fixedValue: Float64Array;
  private fixedGain: Float64Array;
  // conductive branches (resistors and linear devices)
  private brA: Int32Array;
  private brB: Int32Array;
  private brG: Float64Array;
  private brEdge: Int32Array; // edge index in the algebraic system, or -1
  private algBranches: Int32Array; // branches touching an algebraic node
  private dynBranches: Int32Array; // branches touching a dynamic node
  // current sources
  private isA: Int32Array;
  private isB: Int32Array;
  private isStim: Uint8Array;
  private isValue: Float64Array;
  private isGain: Float64Array;
  /** stimulus channel of each fixed node and each current source */
  private fixedCh: Int32Array;
  private isCh: Int32Array;
  /**
   * Resistors with a current compliance (SMU-style): branch, the current source standing in for them while
   * in compliance, conductance and limit. The mode is decided once per step (see updateCompliance).
   */
  private limBranch: Int32Array;
  private limIs: Int32Array;
  private limG: Float64Array;
  private limMax: Float64Array;
  /** switching detector: level per device (NaN: none); current detectors: electrode node, threshold, last current */
  private swLevel: Float64Array | null = null;
  private swMerge = 0;
  private swLast = -Infinity;
  private curDet: { element: string; node: number; threshold: number; highpass: number; avg: number; last: number }[] = [];
  // capacitors
  private capA: Int32Array;
  private capB: Int32Array;
  private capC: Float64Array;
  private cinv: Float64Array; // nDyn × nDyn
  private capEdge: Int32Array;
  private implicit: boolean;
  /** implicit method: node voltages at the previous step */
  private Vold: Float64Array;
  private hImplicit = 0;
  private devs: DeviceInfo[];
  /**
   * Fast path: runs of consecutive linear devices of one model with equal parameter values and contiguous
   * branches, evaluated by the model's batch functions (one tight loop per run); the rest one by one.
   */
  private groups: DeviceGroup[] = [];
  private singles: Int32Array;
  private devA: Int32Array;
  private devB: Int32Array;
  private devLo: Float64Array;
  private devHi: Float64Array;
  private vd: Float64Array;
  /** precomputed stamps of the algebraic branches (see evaluate) */
  private stA: Int32Array;
  private stB: Int32Array;
  private stE: Int32Array;
  private stO: Int32Array;
  private nonlinDevs: number[];
  private neurons: { name: string; node: number; slot: number; vth: number; vreset: number; tref: number }[];
  private refUntil: Float64Array;
  /** Neurons held in refractory during the current step (steps never straddle a refractory end). */
  private frozen: Uint8Array;
  private sys: SpdSystem | null;
  private rhs: Float64Array;
  private valg: Float64Array;
  /** previous algebraic solution and the times of the last two solves (warm-start extrapolation) */
  private valgPrev: Float64Array;
  private solveT0 = -Infinity;
  private solveT1 = -Infinity;
  /** All node voltages at the last evaluation. */
  readonly V: Float64Array;
  private res: Float64Array;
  /** An input edge the current step ends on (NaN: none): evaluations there take the value before it. */
  private edgeT = NaN;
  /** one input per stimulus channel, and their values (and slopes) at the time being evaluated */
  private inputs: Input[];
  private uv: Float64Array;
  private duv: Float64Array;
  readonly stimulusQuantity: 'current' | 'voltage' | null;
  private elements: Map<string, { type: string; index: number }>;
  private resistors: { a: number; b: number; branch: number; is: number }[] = [];
  private probes: Probe[];
  // integration
  readonly method: Method;
  dt: number;
  private rtol: number;
  private atol: number;
  private solverMode: 'direct' | 'pcg';
  t = 0;
  readonly y: Float64Array;
  private f0: Float64Array;
  private f0Valid = false;
  private k: Float64Array[];
  private ytmp: Float64Array;
  private y1: Float64Array;
  private f1: Float64Array;
  private hAdapt: number;
  /** Events since the last takeEvents(). */
  private events: TwinEvent[] = [];
  readonly stats = { steps: 0, rejected: 0, evaluations: 0 };

  constructor(net: Netlist, opts: TwinOptions = {}) {
    this.name = net.name;
    this.method = opts.method ?? net.method ?? 'rk4';
    this.dt = opts.dt ?? 1e-5;
    this.rtol = opts.rtol ?? 1e-6;
    this.atol = opts.atol ?? 1e-9;
    this.solverMode = opts.solver ?? 'pcg';
    this.hAdapt = this.dt;
    if (!(this.dt > 0)) throw new TwinError('TWIN_BAD_OPTION', 'dt must be > 0');
    const node = (nm: string): number => {
      let i = this.nodeIdx.get(nm);
      if (i === undefined) {
        i = this.nodeIdx.size;
        this.nodeIdx.set(nm, i);
      }
      return i;
    };
    node('0');
    const els = net.elements;
    for (const e of els) {
      if ('node' in e) node(e.node);
      if ('a' in e) (node(e.a), node(e.b));
    }
    const N = this.nodeIdx.size;
    this.nodeNames = [...this.nodeIdx.keys()];
    const cls = new Int8Array(N).fill(2);
    cls[0] = 0;
    const fixed: number[] = [0], fStim: number[] = [0], fVal: number[] = [0], fGain: number[] = [0], fCh: number[] = [0];
    let stimQ: 'current' | 'voltage' | null = null;
    for (const e of els)
      if (e.type === 'V') {
        const i = node(e.node);
        if (cls[i] === 0) throw new TwinError('TWIN_BAD_CIRCUIT', `node ${e.node} has two voltage sources`);
        cls[i] = 0;
        fixed.push(i);
        fStim.push(e.stimulus ? 1 : 0);
        fVal.push(e.stimulus ? (e.offset ?? 0) : (e.value as number));
        fGain.push(e.gain ?? 1);
        fCh.push(e.channel ?? 0);
        if (e.stimulus) stimQ = 'voltage';
      }
    const implicit = this.method === 'implicit';
    if (implicit && els.some((e) => e.type === 'neuron'))
      throw new TwinError('TWIN_BAD_OPTION', "method 'implicit' does not support neurons (threshold-and-reset); use rk4 or adaptive");
    if (!implicit) for (const e of els) if (e.type === 'C') for (const nd of [node(e.a), node(e.b)]) if (cls[nd] === 2) cls[nd] = 1;
    this.cls = cls;
    const slot = new Int32Array(N);
    const dyn: number[] = [], alg: number[] = [];
    for (let i = 0; i < N; i++) {
      if (cls[i] === 1) (slot[i] = dyn.length), dyn.push(i);
      else if (cls[i] === 2) (slot[i] = alg.length), alg.push(i);
    }
    this.slot = slot;
    for (let k = 0; k < fixed.length; k++) slot[fixed[k]] = k;
    this.dynNodes = Int32Array.from(dyn);
    this.algNodes = Int32Array.from(alg);
    this.nDyn = dyn.length;
    this.nAlg = alg.length;
    this.fixedNodes = Int32Array.from(fixed);
    this.fixedStim = Uint8Array.from(fStim);
    this.fixedValue = Float64Array.from(fVal);
    this.fixedGain = Float64Array.from(fGain);
    this.fixedCh = Int32Array.from(fCh);

    // branches, devices, sources, capacitors
    const brA: number[] = [], brB: number[] = [], brG: number[] = [];
    const devs: DeviceInfo[] = [];
    const isA: number[] = [], isB: number[] = [], isS: number[] = [], isV: number[] = [], isGn: number[] = [], isC: number[] = [];
    const limB: number[] = [], limI: number[] = [], limG: number[] = [], limM: number[] = [];
    const capA: number[] = [], capB: number[] = [], capC: number[] = [];
    this.neurons = [];
    this.elements = new Map();
    const x0: number[] = [];
    els.forEach((e) => {
      const nm = e.name as string;
      switch (e.type) {
        case 'R':
          this.elements.set(nm, { type: 'R', index: this.resistors.length });
          this.resistors.push({ a: node(e.a), b: node(e.b), branch: brA.length, is: e.imax ? isA.length : -1 });
          if (e.imax) {
            // in compliance the branch opens and a current source of ±imax (a → b) stands in for it
            limB.push(brA.length), limI.push(isA.length), limG.push(1 / e.value), limM.push(e.imax);
            isA.push(node(e.a)), isB.push(node(e.b)), isS.push(0), isV.push(0), isGn.push(1), isC.push(0);
          }
          brA.push(node(e.a)), brB.push(node(e.b)), brG.push(1 / e.value);
          break;
        case 'C':
          this.elements.set(nm, { type: 'C', index: capA.length });
          capA.push(node(e.a)), capB.push(node(e.b)), capC.push(e.value);
          break;
        case 'V':
          this.elements.set(nm, { type: 'V', index: node(e.node) });
          break;
        case 'I':
          this.elements.set(nm, { type: 'I', index: isA.length });
          isA.push(node(e.a)), isB.push(node(e.b)), isS.push(e.stimulus ? 1 : 0);
          isV.push(e.stimulus ? (e.offset ?? 0) : (e.value as number)), isGn.push(e.gain ?? 1), isC.push(e.channel ?? 0);
          if (e.stimulus) stimQ = 'current';
          break;
        case 'device': {
          const model = getModel(e.model);
          const p = resolveParams(model, e.params);
          const a = node(e.a), b = node(e.b);
          let branch = -1;
          if (model.nonlinearV) {
            if (cls[a] === 2 || cls[b] === 2)
              throw new TwinError('TWIN_BAD_CIRCUIT', `device ${nm} (${model.name}) is nonlinear in v: both its nodes need a capacitor or a voltage source`);
          } else {
            branch = brA.length;
            brA.push(a), brB.push(b), brG.push(model.g(e.x0 ?? model.x0, p));
          }
          const [lo, hi] = model.bounds(p);
          this.elements.set(nm, { type: 'device', index: devs.length });
          devs.push({ name: nm, model, p, a, b, branch, lo, hi });
          x0.push(e.x0 ?? model.x0);
          break;
        }
        case 'neuron': {
          const nd = node(e.node);
          if (cls[nd] !== 1) throw new TwinError('TWIN_BAD_CIRCUIT', `neuron ${nm}: node ${e.node} needs a capacitor (and no voltage source)`);
          this.elements.set(nm, { type: 'neuron', index: this.neurons.length });
          this.neurons.push({ name: nm, node: nd, slot: slot[nd], vth: e.vth, vreset: e.vreset, tref: e.tref ?? 0 });
          break;
        }
      }
    });
    this.stimulusQuantity = stimQ;
    this.brA = Int32Array.from(brA);
    this.brB = Int32Array.from(brB);
    this.brG = Float64Array.from(brG);
    this.devs = devs;
    this.nDev = devs.length;
    this.nonlinDevs = devs.map((d, i) => (d.branch < 0 ? i : -1)).filter((i) => i >= 0);
    this.devA = Int32Array.from(devs, (d) => d.a);
    this.devB = Int32Array.from(devs, (d) => d.b);
    this.devLo = Float64Array.from(devs, (d) => d.lo);
    this.devHi = Float64Array.from(devs, (d) => d.hi);
    this.vd = new Float64Array(devs.length);
    const singles: number[] = [];
    for (let d = 0; d < devs.length; ) {
      const d0 = devs[d];
      if (d0.branch < 0 || !d0.model.gBatch || !d0.model.rateBatch) {
        singles.push(d++);
        continue;
      }
      let e = d + 1;
      while (e < devs.length && devs[e].model === d0.model && devs[e].branch === d0.branch + (e - d) && sameParams(devs[e].p, d0.p)) e++;
      this.groups.push({
        model: d0.model, p: d0.p, d0: d, count: e - d, base: d0.branch, lo: d0.lo, hi: d0.hi,
        gLast: new Float64Array(e - d).fill(NaN), vd: new Float64Array(e - d),
      });
      d = e;
    }
    this.singles = Int32Array.from(singles);
    this.isA = Int32Array.from(isA);
    this.isB = Int32Array.from(isB);
    this.isStim = Uint8Array.from(isS);
    this.isValue = Float64Array.from(isV);
    this.isGain = Float64Array.from(isGn);
    this.isCh = Int32Array.from(isC);
    this.limBranch = Int32Array.from(limB);
    this.limIs = Int32Array.from(limI);
    this.limG = Float64Array.from(limG);
    this.limMax = Float64Array.from(limM);
    const nCh = 1 + Math.max(0, ...fCh, ...isC);
    this.inputs = Array.from({ length: nCh }, () => new ConstInput(0));
    this.uv = new Float64Array(nCh);
    this.duv = new Float64Array(nCh);
    this.capA = Int32Array.from(capA);
    this.capB = Int32Array.from(capB);
    this.capC = Float64Array.from(capC);
    this.refUntil = new Float64Array(this.neurons.length).fill(-Infinity);
    this.frozen = new Uint8Array(this.neurons.length);

    // algebraic system pattern
    const edgeOf = new Map<number, number>();
    const ei: number[] = [], ej: number[] = [];
    /** The off-diagonal entry joining algebraic slots i and j (one per pair, whichever elements share it). */
    const edgeFor = (i: number, j: number): number => {
      const key = Math.min(i, j) * this.nAlg + Math.max(i, j);
      let e = edgeOf.get(key);
      if (e === undefined) {
        e = ei.length;
        edgeOf.set(key, e);
        ei.push(i), ej.push(j);
      }
      return e;
    };
    this.brEdge = new Int32Array(brA.length).fill(-1);
    const algB: number[] = [], dynB: number[] = [];
    for (let b = 0; b < brA.length; b++) {
      const ca = cls[brA[b]], cb = cls[brB[b]];
      if (ca === 2 || cb === 2) algB.push(b);
      if (ca === 1 || cb === 1) dynB.push(b);
      if (ca === 2 && cb === 2) this.brEdge[b] = edgeFor(slot[brA[b]], slot[brB[b]]);
    }
    this.algBranches = Int32Array.from(algB);
    // stamps: stA/stB = algebraic slots of the two ends (stB -1 when the other end is known), stE = edge,
    // stO = the known other node
    this.stA = new Int32Array(algB.length);
    this.stB = new Int32Array(algB.length);
    this.stE = new Int32Array(algB.length);
    this.stO = new Int32Array(algB.length);
    for (let q = 0; q < algB.length; q++) {
      const b = algB[q];
      const a = brA[b], c = brB[b];
      this.stE[q] = this.brEdge[b];
      if (this.brEdge[b] >= 0) ((this.stA[q] = slot[a]), (this.stB[q] = slot[c]), (this.stO[q] = -1));
      else if (cls[a] === 2) ((this.stA[q] = slot[a]), (this.stB[q] = -1), (this.stO[q] = c));
      else ((this.stA[q] = slot[c]), (this.stB[q] = -1), (this.stO[q] = a));
    }
    this.dynBranches = Int32Array.from(dynB);
    // companion model: capacitors between algebraic nodes join the pattern
    this.capEdge = new Int32Array(capA.length).fill(-1);
    if (implicit)
      for (let c = 0; c < capA.length; c++) {
        if (cls[capA[c]] !== 2 || cls[capB[c]] !== 2) continue;
        this.capEdge[c] = edgeFor(slot[capA[c]], slot[capB[c]]);
      }
    this.implicit = implicit;
    this.Vold = new Float64Array(N);
    this.sys = this.nAlg > 0 ? new SpdSystem(this.nAlg, Int32Array.from(ei), Int32Array.from(ej)) : null;
    this.rhs = new Float64Array(this.nAlg);
    this.valg = new Float64Array(this.nAlg);
    this.valgPrev = new Float64Array(this.nAlg);
    this.V = new Float64Array(N);
    this.res = new Float64Array(this.nDyn);

    // capacitance matrix of the dynamic nodes, inverted once
    const nd = this.nDyn;
    const Cm = new Float64Array(nd * nd);
    for (let c = 0; c < capA.length; c++) {
      const a = capA[c], b = capB[c], C = capC[c];
      if (cls[a] === 1) Cm[slot[a] * nd + slot[a]] += C;
      if (cls[b] === 1) Cm[slot[b] * nd + slot[b]] += C;
      if (cls[a] === 1 && cls[b] === 1) (Cm[slot[a] * nd + slot[b]] -= C), (Cm[slot[b] * nd + slot[a]] -= C);
    }
    this.cinv = invert(Cm, nd);

    const ny = nd + this.nDev;
    this.y = new Float64Array(ny);
    for (let d = 0; d < this.nDev; d++) this.y[nd + d] = x0[d];
    this.f0 = new Float64Array(ny);
    this.k = Array.from({ length: 7 }, () => new Float64Array(ny));
    this.ytmp = new Float64Array(ny);
    this.y1 = new Float64Array(ny);
    this.f1 = new Float64Array(ny);
    this.probes = net.outputs;
    for (const p of this.probes) this.checkProbe(p);
    for (const d of net.spikes ?? []) this.addDetector(d);
  }

  private addDetector(d: SpikeDetector): void {
    if (d.kind === 'switching') {
      const lv = d.level ?? 0.5;
      this.swLevel = Float64Array.from(this.devs, (dv) => dv.lo + lv * (dv.hi - dv.lo));
      this.swMerge = d.merge ?? 0;
      return;
    }
    const el = this.elements.get(`E${d.electrode}`);
    if (!el || el.type !== 'V') throw new TwinError('TWIN_BAD_CIRCUIT', `spike detector: no electrode E${d.electrode}`);
    this.curDet.push({ element: `E${d.electrode}`, node: el.index, threshold: d.threshold, highpass: d.highpass ?? 0, avg: NaN, last: NaN });
  }

  // ------------------------------------------------------------------------------------------- input
  /** Number of stimulus channels (electrodes or current sources may each name one; default 0). */
  get inputChannels(): number {
    return this.inputs.length;
  }
  /** Holds stimulus channel `channel` at `value` (A or V) until changed (zero-order hold). */
  setInput(value: number, channel = 0): void {
    this.inputs[this.checkChannel(channel)] = new ConstInput(value);
    this.f0Valid = false;
  }
  /** Uses a sampled waveform as stimulus channel `channel`, linearly interpolated, t = 0 at samples[0]. */
  setSampledInput(samples: Float64Array, sampleRate: number, channel = 0): void {
    this.inputs[this.checkChannel(channel)] = new SampledInput(samples, sampleRate);
    this.f0Valid = false;
  }
  /** Uses a piecewise-constant waveform with exact edges as stimulus channel `channel` (see PiecewiseInput). */
  setPiecewiseInput(times: Float64Array, values: Float64Array, channel = 0): void {
    this.inputs[this.checkChannel(channel)] = new PiecewiseInput(times, values);
    this.f0Valid = false;
  }
  private checkChannel(ch: number): number {
    if (!(Number.isInteger(ch) && ch >= 0 && ch < this.inputs.length))
      throw new TwinError('TWIN_BAD_STIMULUS', `stimulus channel ${ch} does not exist (circuit ${this.name} has ${this.inputs.length})`);
    return ch;
  }
  /** Stimulus values of every channel at t, in this.uv. */
  private inputAt(t: number): Float64Array {
    const uv = this.uv, ins = this.inputs;
    // a step ending on an edge lies wholly before it (its last stage may round past the edge)
    if (t >= this.edgeT) for (let c = 0; c < ins.length; c++) uv[c] = ins[c].u(this.edgeT, true);
    else for (let c = 0; c < ins.length; c++) uv[c] = ins[c].u(t);
    return uv;
  }
  /** Stimulus slopes at t in this.duv; false when all are 0. */
  private slopeAt(t: number): boolean {
    const duv = this.duv, ins = this.inputs;
    let any = false;
    for (let c = 0; c < ins.length; c++) if ((duv[c] = ins[c].du(t)) !== 0) any = true;
    return any;
  }

  // ------------------------------------------------------------------------------------------- evaluation
  /** dy/dt at (t, y); leaves all node voltages of that point in this.V. */
  evaluate(t: number, y: Float64Array, dy: Float64Array): void {
    this.stats.evaluations++;
    const { V, nDyn: nd, cls, slot, brA, brB, brG, fixedCh, isCh } = this;
    const u = this.inputAt(t);
    for (let k = 0; k < this.fixedNodes.length; k++)
      V[this.fixedNodes[k]] = this.fixedStim[k] ? this.fixedValue[k] + this.fixedGain[k] * u[fixedCh[k]] : this.fixedValue[k];
    for (let k = 0; k < nd; k++) V[this.dynNodes[k]] = y[k];
    const devs = this.devs;
    const groups = this.groups;
    const singles = this.singles;
    this.updateConductances(y);
    // algebraic nodes
    const sys = this.sys;
    if (sys && !this.implicit) {
      const diag = sys.diag, off = sys.off, rhs = this.rhs;
      diag.fill(GMIN);
      off.fill(0);
      rhs.fill(0);
      const ab = this.algBranches, stA = this.stA, stB = this.stB, stE = this.stE, stO = this.stO;
      for (let q = 0; q < ab.length; q++) {
        const g = brG[ab[q]];
        const i = stA[q], j = stB[q];
        diag[i] += g;
        if (j >= 0) {
          diag[j] += g;
          off[stE[q]] -= g;
        } else rhs[i] += g * V[stO[q]];
      }
      for (let s = 0; s < this.isA.length; s++) {
        const I = this.isStim[s] ? this.isValue[s] + this.isGain[s] * u[isCh[s]] : this.isValue[s];
        if (cls[this.isB[s]] === 2) rhs[slot[this.isB[s]]] += I;
        if (cls[this.isA[s]] === 2) rhs[slot[this.isA[s]]] -= I;
      }
      const x = this.valg;
      const direct = this.solverMode === 'direct' || sys.alwaysDirect;
      // warm start (PCG only): extrapolate the last two solutions linearly in time
      const xp = this.valgPrev, t1 = this.solveT1, t0 = this.solveT0;
      if (direct) {
        // no start value needed
      } else if (t > t1 && t1 > t0) {
        const w = (t - t1) / (t1 - t0);
        for (let k = 0; k < x.length; k++) {
          const xk = x[k];
          x[k] = xk + w * (xk - xp[k]);
          xp[k] = xk;
        }
      } else xp.set(x);
      if (direct) sys.solveDirect(rhs, x);
      else sys.solve(rhs, x);
      if (t !== t1) ((this.solveT0 = t1), (this.solveT1 = t));
      const an = this.algNodes;
      for (let k = 0; k < x.length; k++) V[an[k]] = x[k];
    }
    // dynamic nodes: C dv/dt = residual
    if (nd > 0) {
      const r = this.res;
      r.fill(0);
      const db = this.dynBranches;
      for (let q = 0; q < db.length; q++) {
        const b = db[q];
        const a = brA[b], c = brB[b];
        const i = brG[b] * (V[a] - V[c]);
        if (cls[a] === 1) r[slot[a]] -= i;
        if (cls[c] === 1) r[slot[c]] += i;
      }
      for (const d of this.nonlinDevs) {
        const dv = devs[d];
        const i = dv.model.current(V[dv.a] - V[dv.b], y[nd + d], dv.p);
        if (cls[dv.a] === 1) r[slot[dv.a]] -= i;
        if (cls[dv.b] === 1) r[slot[dv.b]] += i;
      }
      for (let s = 0; s < this.isA.length; s++) {
        const I = this.isStim[s] ? this.isValue[s] + this.isGain[s] * u[isCh[s]] : this.isValue[s];
        if (cls[this.isB[s]] === 1) r[slot[this.isB[s]]] += I;
        if (cls[this.isA[s]] === 1) r[slot[this.isA[s]]] -= I;
      }
      // capacitors to stimulus-driven voltage nodes: C·dV/dt of the fixed end
      if (this.slopeAt(t))
        for (let c = 0; c < this.capA.length; c++) {
          const a = this.capA[c], b = this.capB[c];
          if (cls[a] === 1 && cls[b] === 0) r[slot[a]] += this.capC[c] * this.fixedSlope(b);
          if (cls[b] === 1 && cls[a] === 0) r[slot[b]] += this.capC[c] * this.fixedSlope(a);
        }
      const ci = this.cinv;
      for (let i = 0; i < nd; i++) {
        let s = 0;
        for (let j = 0; j < nd; j++) s += ci[i * nd + j] * r[j];
        dy[i] = s;
      }
      for (let n = 0; n < this.neurons.length; n++) if (this.frozen[n]) dy[this.neurons[n].slot] = 0;
    }
    const devA = this.devA, devB = this.devB;
    for (let gi = 0; gi < groups.length; gi++) {
      const gr = groups[gi];
      const vd = gr.vd, o = nd + gr.d0, cnt = gr.count, d0 = gr.d0;
      if (gr.model.rateNodes) {
        gr.model.rateNodes(V, devA, devB, d0, y, o, cnt, dy, gr.p);
        continue;
      }
      for (let k = 0; k < cnt; k++) vd[k] = V[devA[d0 + k]] - V[devB[d0 + k]];
      (gr.model.rateBatch as RateBatch)(vd, y, o, cnt, dy, gr.p);
      const lo = gr.lo, hi = gr.hi;
      for (let k = o, e = o + cnt; k < e; k++) {
        const x = y[k], r = dy[k];
        if ((x >= hi && r > 0) || (x <= lo && r < 0)) dy[k] = 0;
      }
    }
    for (let q = 0; q < singles.length; q++) {
      const d = singles[q];
      const dv = devs[d];
      const x = y[nd + d];
      let r = dv.model.rate(V[dv.a] - V[dv.b], x, dv.p);
      if ((x >= dv.hi && r > 0) || (x <= dv.lo && r < 0)) r = 0;
      dy[nd + d] = r;
    }
  }

  /** Device branch conductances from the states in y. */
  private updateConductances(y: Float64Array): void {
    const nd = this.nDyn, brG = this.brG, devs = this.devs, groups = this.groups, singles = this.singles;
    for (let gi = 0; gi < groups.length; gi++) {
      const gr = groups[gi];
      (gr.model.gBatch as GBatch)(y, nd + gr.d0, gr.count, brG, gr.base, gr.p, gr.gLast);
    }
    for (let q = 0; q < singles.length; q++) {
      const d = singles[q];
      const dv = devs[d];
      if (dv.branch >= 0) brG[dv.branch] = dv.model.g(y[nd + d], dv.p);
    }
  }

  /** dV/dt of a fixed node from the stimulus slopes in this.duv. */
  private fixedSlope(node: number): number {
    const k = this.slot[node];
    return this.fixedStim[k] ? this.fixedGain[k] * this.duv[this.fixedCh[k]] : 0;
  }

  // ------------------------------------------------------------------------------------------- stepping
  private clampStates(y: Float64Array): void {
    const nd = this.nDyn, lo = this.devLo, hi = this.devHi;
    for (let d = 0, n = this.nDev; d < n; d++) {
      const x = y[nd + d];
      if (x > hi[d]) y[nd + d] = hi[d];
      else if (x < lo[d]) y[nd + d] = lo[d];
    }
  }

  /** One step of the fixed-step method from (t, y, f0) to y1 (no error estimate). */
  private fixedStep(t: number, y: Float64Array, f0: Float64Array, h: number, y1: Float64Array): void {
    const n = y.length;
    if (this.method === 'euler') {
      // the step and the state clamp in one pass
      const nd = this.nDyn, lo = this.devLo, hi = this.devHi;
      for (let i = 0; i < nd; i++) y1[i] = y[i] + h * f0[i];
      for (let i = nd; i < n; i++) {
        const x = y[i] + h * f0[i];
        const d = i - nd;
        y1[i] = x > hi[d] ? hi[d] : x < lo[d] ? lo[d] : x;
      }
      return;
    }
    const [k2, k3, k4] = this.k;
    const yt = this.ytmp;
    for (let i = 0; i < n; i++) yt[i] = y[i] + 0.5 * h * f0[i];
    this.evaluate(t + 0.5 * h, yt, k2);
    for (let i = 0; i < n; i++) yt[i] = y[i] + 0.5 * h * k2[i];
    this.evaluate(t + 0.5 * h, yt, k3);
    for (let i = 0; i < n; i++) yt[i] = y[i] + h * k3[i];
    this.evaluate(t + h, yt, k4);
    for (let i = 0; i < n; i++) y1[i] = y[i] + (h / 6) * (f0[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }

  /** Dormand–Prince 5(4) step; returns the scaled error norm; k[6] holds f(t+h, y1). */
  private dpStep(t: number, y: Float64Array, f0: Float64Array, h: number, y1: Float64Array): number {
    const n = y.length;
    const k = this.k;
    const yt = this.ytmp;
    const A = DP_A;
    const stages = [f0, k[0], k[1], k[2], k[3], k[4]];
    for (let s = 1; s < 6; s++) {
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < s; j++) acc += A[s][j] * stages[j][i];
        yt[i] = y[i] + h * acc;
      }
      this.evaluate(t + DP_C[s] * h, yt, stages[s]);
    }
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < 6; j++) acc += DP_B[j] * stages[j][i];
      y1[i] = y[i] + h * acc;
    }
    this.clampStates(y1);
    this.evaluate(t + h, y1, k[6]);
    let err = 0;
    for (let i = 0; i < n; i++) {
      let e = DP_E[6] * k[6][i];
      for (let j = 0; j < 6; j++) e += DP_E[j] * stages[j][i];
      const sc = this.atol + this.rtol * Math.max(Math.abs(y[i]), Math.abs(y1[i]));
      const q = (h * e) / sc;
      err += q * q;
    }
    return Math.sqrt(err / Math.max(1, n));
  }

  private updateFrozen(): void {
    for (let n = 0; n < this.frozen.length; n++) this.frozen[n] = this.t < this.refUntil[n] ? 1 : 0;
  }

  /**
   * Implicit method: solves the network at t1 with every capacitor replaced by its backward-Euler companion
   * (conductance C/h, current source C/h·(v_a − v_b) of the previous step), conductances from this.y.
   */
  private solveCompanion(t1: number, h: number): void {
    const { V, Vold, cls, slot, brA, brB, brG } = this;
    this.hImplicit = h;
    const u = this.inputAt(t1);
    for (let k = 0; k < this.fixedNodes.length; k++)
      V[this.fixedNodes[k]] = this.fixedStim[k] ? this.fixedValue[k] + this.fixedGain[k] * u[this.fixedCh[k]] : this.fixedValue[k];
    this.updateConductances(this.y);
    const sys = this.sys;
    if (!sys) return;
    const diag = sys.diag, off = sys.off, rhs = this.rhs;
    diag.fill(GMIN);
    off.fill(0);
    rhs.fill(0);
    const ab = this.algBranches, be = this.brEdge;
    for (let q = 0; q < ab.length; q++) {
      const b = ab[q];
      const a = brA[b], c = brB[b], g = brG[b];
      if (be[b] >= 0) {
        diag[slot[a]] += g;
        diag[slot[c]] += g;
        off[be[b]] -= g;
      } else if (cls[a] === 2) ((diag[slot[a]] += g), (rhs[slot[a]] += g * V[c]));
      else ((diag[slot[c]] += g), (rhs[slot[c]] += g * V[a]));
    }
    for (let s = 0; s < this.isA.length; s++) {
      const I = this.isStim[s] ? this.isValue[s] + this.isGain[s] * u[this.isCh[s]] : this.isValue[s];
      if (cls[this.isB[s]] === 2) rhs[slot[this.isB[s]]] += I;
      if (cls[this.isA[s]] === 2) rhs[slot[this.isA[s]]] -= I;
    }
    for (let c = 0; c < this.capA.length; c++) {
      const a = this.capA[c], b = this.capB[c], g = this.capC[c] / h;
      const hist = g * (Vold[a] - Vold[b]);
      if (cls[a] === 2) ((diag[slot[a]] += g), (rhs[slot[a]] += hist + (cls[b] === 2 ? 0 : g * V[b])));
      if (cls[b] === 2) ((diag[slot[b]] += g), (rhs[slot[b]] += -hist + (cls[a] === 2 ? 0 : g * V[a])));
      if (this.capEdge[c] >= 0) off[this.capEdge[c]] -= g;
    }
    const x = this.valg;
    if (this.solverMode === 'direct') sys.solveDirect(rhs, x);
    else sys.solve(rhs, x);
    for (let k = 0; k < x.length; k++) V[this.algNodes[k]] = x[k];
  }

  private ensureF0(): void {
    if (this.implicit && this.hImplicit === 0) {
      // initial state: capacitors uncharged (a companion step of negligible length)
      this.Vold.fill(0);
      this.solveCompanion(this.t, this.dt * 1e-9);
    }
    if (!this.f0Valid) {
      this.updateFrozen();
      this.evaluate(this.t, this.y, this.f0);
      this.f0Valid = true;
    }
  }

  /** Integrates from this.t to tEnd; events are collected (see takeEvents). */
  advanceTo(tEnd: number): void {
    if (tEnd <= this.t) return;
    this.ensureF0();
    if (this.method === 'adaptive') {
      while (this.t < tEnd) {
        const rem = tEnd - this.t;
        let h = Math.min(this.hAdapt, this.dt, rem);
        if (rem - h < rem * 1e-9) h = rem; // do not leave a sliver before tEnd
        const brk = this.nextBreak(this.t, this.t + h);
        let isBreak = false;
        if (brk < this.t + h || this.edgeT === brk) ((h = brk - this.t), (isBreak = true));
        this.updateFrozen();
        const err = this.dpStep(this.t, this.y, this.f0, h, this.y1);
        if (err > 1 && h > 1e-15) {
          this.stats.rejected++;
          this.hAdapt = h * Math.max(0.2, 0.9 * Math.pow(err, -0.2));
          continue;
        }
        const hNext = h * Math.min(5, Math.max(0.2, 0.9 * Math.pow(Math.max(err, 1e-10), -0.2)));
        // a step cut short (by a break or the end of the interval) must not shrink the step size
        this.hAdapt = h < this.hAdapt ? Math.max(this.hAdapt, hNext) : hNext;
        this.accept(h, this.k[6], isBreak ? brk : h === rem ? tEnd : undefined);
        if (isBreak) this.f0Valid = false;
        this.edgeT = NaN;
        this.ensureF0();
        this.afterStep();
      }
      return;
    }
    if (this.implicit) {
      const span = tEnd - this.t;
      const nSteps = Math.max(1, Math.round(span / this.dt - 1e-9));
      const t0 = this.t;
      for (let s = 1; s <= nSteps; s++) {
        const t1 = s === nSteps ? tEnd : t0 + (span * s) / nSteps;
        while (this.t < t1) {
          const tb = this.nextBreak(this.t, t1); // a stimulus edge ends the step
          const h = tb - this.t;
          this.ensureF0();
          const sw = this.swLevel;
          if (sw) this.ytmp.set(this.y);
          for (let i = 0; i < this.y.length; i++) this.y[i] += h * this.f0[i];
          this.clampStates(this.y);
          this.Vold.set(this.V);
          this.solveCompanion(tb, h);
          if (sw) this.detectSwitching(this.t, tb, this.ytmp, this.y, sw);
          this.t = tb;
          this.edgeT = NaN;
          this.stats.steps++;
          this.f0Valid = false;
          this.afterStep();
        }
      }
      this.ensureF0();
      return;
    }
    const span = tEnd - this.t;
    const nSteps = Math.max(1, Math.round(span / this.dt - 1e-9));
    const t0 = this.t;
    for (let s = 1; s <= nSteps; s++) {
      const target = s === nSteps ? tEnd : t0 + (span * s) / nSteps;
      while (this.t < target) {
        let h = target - this.t;
        const brk = this.nextBreak(this.t, target);
        const cut = brk < target || this.edgeT === brk;
        if (brk < target) h = brk - this.t;
        this.updateFrozen();
        this.fixedStep(this.t, this.y, this.f0, h, this.y1);
        if (this.method !== 'euler') this.clampStates(this.y1); // the Euler step clamps as it goes
        this.evaluate(this.t + h, this.y1, this.f1);
        this.accept(h, this.f1, brk < target ? brk : target);
        if (cut) this.f0Valid = false; // the next step starts from the value after the edge
        this.edgeT = NaN;
        this.ensureF0();
        this.afterStep();
      }
    }
  }

  /** Advance by h seconds. */
  advance(h: number): void {
    this.advanceTo(this.t + h);
  }

  /** Earliest refractory end or stimulus edge in (t, tEnd], else tEnd; this.edgeT is the edge it ends on. */
  private nextBreak(t: number, tEnd: number): number {
    let b = tEnd;
    for (let n = 0; n < this.refUntil.length; n++) {
      const r = this.refUntil[n];
      if (r > t && r < b) b = r;
    }
    this.edgeT = NaN;
    const ins = this.inputs;
    for (let c = 0; c < ins.length; c++) {
      const e = ins[c].nextEdge?.(t) ?? Infinity;
      if (e <= b) ((b = e), (this.edgeT = e));
    }
    return b;
  }

  /** Accepts the step to (t+h, y1, f1) unless a neuron crosses threshold inside it. */
  private accept(h: number, f1: Float64Array, exactT?: number): void {
    const t = this.t;
    let first = -1;
    let tc = Infinity;
    for (let n = 0; n < this.neurons.length; n++) {
      const nr = this.neurons[n];
      if (t < this.refUntil[n]) continue;
      const i = nr.slot;
      const v0 = this.y[i], v1 = this.y1[i];
      if (v0 < nr.vth && v1 >= nr.vth) {
        const s = hermiteRoot(v0 - nr.vth, this.f0[i] * h, v1 - nr.vth, f1[i] * h);
        const tn = t + s * h;
        if (tn < tc) ((tc = tn), (first = n));
      }
    }
    this.stats.steps++;
    if (first < 0) {
      if (this.swLevel) this.detectSwitching(t, exactT ?? t + h, this.y, this.y1, this.swLevel);
      this.t = exactT ?? t + h;
      this.y.set(this.y1);
      this.f0.set(f1);
      return;
    }
    // re-integrate to the crossing, reset, continue from there
    const hc = tc - t;
    if (hc > 0) {
      if (this.method === 'adaptive') this.dpStep(t, this.y, this.f0, hc, this.y1);
      else this.fixedStep(t, this.y, this.f0, hc, this.y1);
      this.clampStates(this.y1);
      this.y.set(this.y1);
    }
    const nr = this.neurons[first];
    this.y[nr.slot] = nr.vreset;
    this.t = tc;
    this.refUntil[first] = nr.tref > 0 ? tc + nr.tref : -Infinity;
    this.events.push({ kind: 'spike', time: tc, element: nr.name, node: this.nodeNames[nr.node] });
    this.f0Valid = false;
    this.ensureF0();
  }

  /**
   * After an accepted step (node voltages of the new point in this.V): current spike detectors, and the
   * compliance of limited resistors — an SMU's loop decides once per step whether the source is in
   * compliance (|i| held at imax) or back to voltage mode (the resistor alone would carry ≤ imax).
   */
  private afterStep(): void {
    const V = this.V;
    for (const d of this.curDet) {
      let i = this.sourceCurrent(d.node);
      if (d.highpass > 0) {
        // AC coupling: the current minus its moving average (exact exponential weight for the step length)
        const raw = i;
        i = Number.isNaN(d.avg) ? 0 : raw - d.avg;
        d.avg = Number.isNaN(d.avg) ? raw : d.avg + (raw - d.avg) * (1 - Math.exp(-(this.t - this.lastStepStart) / d.highpass));
      }
      const th = d.threshold, last = d.last;
      const crossed = th > 0 ? last < th && i >= th : last > th && i <= th;
      if (crossed && this.lastStepStart < this.t) {
        const s = (th - last) / (i - last);
        this.events.push({ kind: 'spike', time: this.lastStepStart + s * (this.t - this.lastStepStart), element: d.element, node: this.nodeNames[d.node] });
      }
      d.last = i;
    }
    this.lastStepStart = this.t;
    let changed = false;
    for (let k = 0; k < this.limBranch.length; k++) {
      const b = this.limBranch[k], s = this.limIs[k], g = this.limG[k], max = this.limMax[k];
      // the current the resistor would carry at the programmed source voltage
      const i = g * (V[this.brA[b]] - V[this.brB[b]]);
      const now = this.brG[b] === 0 ? Math.sign(this.isValue[s]) : 0;
      // enter compliance beyond the limit; leave it once the source could no longer push the limit current
      const mode = now === 0 ? (i > max ? 1 : i < -max ? -1 : 0) : now * i > max ? now : 0;
      if (mode === now) continue;
      this.brG[b] = mode === 0 ? g : 0;
      this.isValue[s] = mode * max;
      changed = true;
    }
    if (changed) {
      this.f0Valid = false;
      this.ensureF0();
    }
  }
  private lastStepStart = 0;

  /** Switching events: device states rising through their level between (t0, y0) and (t1, y1), time interpolated. */
  private detectSwitching(t0: number, t1: number, y0: Float64Array, y1: Float64Array, level: Float64Array): void {
    const nd = this.nDyn;
    let first = -1, tFirst = Infinity, tLast = -Infinity;
    for (let d = 0; d < this.nDev; d++) {
      const a = y0[nd + d], b = y1[nd + d], L = level[d];
      if (a < L && b >= L) {
        const t = t0 + ((L - a) / (b - a)) * (t1 - t0);
        if (this.swMerge > 0) {
          if (t < tFirst) ((tFirst = t), (first = d));
          if (t > tLast) tLast = t;
          continue;
        }
        const dv = this.devs[d];
        this.events.push({ kind: 'spike', time: t, element: dv.name, node: this.nodeNames[dv.a] });
      }
    }
    if (first < 0) return;
    // a switching within `merge` of the last one continues the cascade (no new network spike)
    const lastSw = this.swLast;
    this.swLast = tLast;
    if (tFirst - lastSw <= this.swMerge) return;
    const dv = this.devs[first];
    this.events.push({ kind: 'spike', time: tFirst, element: dv.name, node: this.nodeNames[dv.a] });
  }

  /** Spike events since the last call, in time order. */
  takeEvents(): TwinEvent[] {
    const e = this.events;
    this.events = [];
    return e.length > 1 ? e.sort((p, q) => p.time - q.time) : e;
  }

  // ------------------------------------------------------------------------------------------- reading
  private checkProbe(p: Probe): void {
    if (p.kind === 'v') {
      if (!p.node || !this.nodeIdx.has(p.node)) throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: unknown node ${p.node}`);
    } else {
      const e = p.element ? this.elements.get(p.element) : undefined;
      if (!e) throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: unknown element ${p.element}`);
      if (p.kind === 'x' && e.type !== 'device') throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: only devices have a state`);
      if (p.kind === 'i' && e.type === 'neuron') throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: a neuron has no current`);
    }
  }

  get outputs(): Probe[] {
    return this.probes;
  }

  /** Node voltage (V) at the current time. */
  voltage(node: string): number {
    this.ensureF0();
    const i = this.nodeIdx.get(node);
    if (i === undefined) throw new TwinError('TWIN_BAD_PROBE', `unknown node ${node}`);
    return this.V[i];
  }

  /** Reads a probe at the current time (V, A or state). */
  read(p: Probe): number {
    this.ensureF0();
    if (p.kind === 'v') return this.V[this.nodeIdx.get(p.node as string) as number];
    const e = this.elements.get(p.element as string) as { type: string; index: number };
    const nd = this.nDyn;
    const V = this.V;
    switch (e.type) {
      case 'device': {
        const dv = this.devs[e.index];
        const x = this.y[nd + e.index];
        return p.kind === 'x' ? x : dv.model.current(V[dv.a] - V[dv.b], x, dv.p);
      }
      case 'R': {
        const r = this.resistors[e.index];
        const i = this.brG[r.branch] * (V[r.a] - V[r.b]);
        return r.is >= 0 ? i + this.isValue[r.is] : i;
      }
      case 'C':
        return this.capC[e.index] * (this.nodeSlope(this.capA[e.index]) - this.nodeSlope(this.capB[e.index]));
      case 'I':
        return this.isStim[e.index] ? this.isValue[e.index] + this.isGain[e.index] * this.inputAt(this.t)[this.isCh[e.index]] : this.isValue[e.index];
      case 'V':
        return this.sourceCurrent(e.index);
    }
    return NaN;
  }

  private nodeSlope(node: number): number {
    if (this.implicit) return this.hImplicit > 0 && this.t > 0 ? (this.V[node] - this.Vold[node]) / this.hImplicit : 0;
    if (this.cls[node] === 1) return this.f0[this.slot[node]];
    if (this.cls[node] === 0) return this.slopeAt(this.t) ? this.fixedSlope(node) : 0;
    return 0;
  }

  /** Current delivered by the voltage source at `node` into the circuit (A). */
  private sourceCurrent(node: number): number {
    const V = this.V;
    let i = 0;
    for (let b = 0; b < this.brA.length; b++) {
      if (this.brA[b] === node) i += this.brG[b] * (V[node] - V[this.brB[b]]);
      else if (this.brB[b] === node) i += this.brG[b] * (V[node] - V[this.brA[b]]);
    }
    for (const d of this.nonlinDevs) {
      const dv = this.devs[d];
      const c = dv.model.current(V[dv.a] - V[dv.b], this.y[this.nDyn + d], dv.p);
      if (dv.a === node) i += c;
      else if (dv.b === node) i -= c;
    }
    for (let c = 0; c < this.capA.length; c++) {
      const a = this.capA[c], b = this.capB[c];
      if (a === node) i += this.capC[c] * (this.nodeSlope(a) - this.nodeSlope(b));
      else if (b === node) i += this.capC[c] * (this.nodeSlope(b) - this.nodeSlope(a));
    }
    const u = this.inputAt(this.t);
    for (let s = 0; s < this.isA.length; s++) {
      const I = this.isStim[s] ? this.isValue[s] + this.isGain[s] * u[this.isCh[s]] : this.isValue[s];
      if (this.isB[s] === node) i -= I;
      if (this.isA[s] === node) i += I;
    }
    return i;
  }

  /** Approximate bytes held by the simulator's typed arrays (solver included). */
  get bytes(): number {
    const ta = [this.brA, this.brB, this.brG, this.brEdge, this.algBranches, this.dynBranches, this.y, this.f0, this.ytmp, this.y1, this.f1, this.V, ...this.k];
    let b = ta.reduce((s, a) => s + a.byteLength, 0) + (this.sys?.bytes ?? 0);
    b += this.devs.length * 64; // DeviceInfo objects (shared params)
    return b;
  }

  get solverStats() {
    return this.sys?.stats ?? { factorisations: 0, pcgIterations: 0, solves: 0, columns: 0 };
  }
}

function invert(A: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A);
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    if (!(Math.abs(M[p * n + c]) > 0)) throw new TwinError('TWIN_BAD_CIRCUIT', 'capacitance matrix is singular (a capacitor-only node without a path to ground?)');
    if (p !== c)
      for (let k = 0; k < n; k++) {
        [M[c * n + k], M[p * n + k]] = [M[p * n + k], M[c * n + k]];
        [I[c * n + k], I[p * n + k]] = [I[p * n + k], I[c * n + k]];
      }
    const d = M[c * n + c];
    for (let k = 0; k < n; k++) ((M[c * n + k] /= d), (I[c * n + k] /= d));
    for (let r = 0; r < n; r++)
      if (r !== c) {
        const f = M[r * n + c];
        if (f !== 0) for (let k = 0; k < n; k++) ((M[r * n + k] -= f * M[c * n + k]), (I[r * n + k] -= f * I[c * n + k]));
      }
  }
  return I;
}
