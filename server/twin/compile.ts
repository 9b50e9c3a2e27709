/**
 * Netlist → typed-array topology: the twin engine's compile step. Nodes get a class (fixed, dynamic,
 * algebraic; see engine.ts), elements become index arrays (branches, current sources, capacitors,
 * devices, neurons), runs of identical linear devices become batch groups, the algebraic system's sparsity
 * pattern and stamps are laid out, and the capacitance matrix of the dynamic nodes is inverted once.
 * Pure computation; everything the step loop needs afterwards is an array lookup.
 */
import { TwinError, getModel, resolveParams, type DeviceModel, type ExtraState, type Params, type StateForms } from './models.ts';
import type { Netlist } from './circuit.ts';

/** Node classes. */
export const FIXED = 0, DYNAMIC = 1, ALGEBRAIC = 2;

export interface DeviceInfo {
  name: string;
  model: DeviceModel;
  p: Params;
  a: number;
  b: number;
  /** branch index, or -1 for nonlinear-in-v devices */
  branch: number;
  lo: number;
  hi: number;
  /** the states after x (model.extraStates), and the index of the first in the device states (-1: none) */
  extra: ExtraState[];
  extraAt: number;
  /** with extra states: the model's gStates and rates for these parameters (model.stateForms) */
  forms: StateForms | null;
}

/**
 * A run of consecutive linear devices of one model with equal parameter values and contiguous branches,
 * evaluated by the model's batch functions (one tight loop per run).
 */
export interface DeviceGroup {
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

export interface Neuron {
  name: string;
  node: number;
  slot: number;
  vth: number;
  vreset: number;
  tref: number;
}

/** A resistor as probes see it: its branch, and the current source standing in for it in compliance (or -1). */
export interface ResistorInfo {
  a: number;
  b: number;
  branch: number;
  is: number;
}

export interface Topology {
  name: string;
  nodeNames: string[];
  nodeIdx: Map<string, number>;
  /** FIXED, DYNAMIC or ALGEBRAIC per node */
  cls: Int8Array;
  /** index of each node within its class */
  slot: Int32Array;
  nDyn: number;
  nAlg: number;
  nDev: number;
  /** device states: x of every device (nDev), then the extra states of the devices that have them */
  nStates: number;
  dynNodes: Int32Array;
  algNodes: Int32Array;
  /** fixed nodes (ground first): stimulus-driven or not, value (offset when driven), gain, channel */
  fixedNodes: Int32Array;
  fixedStim: Uint8Array;
  fixedValue: Float64Array;
  fixedGain: Float64Array;
  fixedCh: Int32Array;
  /** conductive branches (resistors and linear devices); brG changes as device states and compliance do */
  brA: Int32Array;
  brB: Int32Array;
  brG: Float64Array;
  /** edge index in the algebraic system, or -1 */
  brEdge: Int32Array;
  /** branches touching an algebraic node, and a dynamic node */
  algBranches: Int32Array;
  dynBranches: Int32Array;
  /**
   * Stamps of the algebraic branches: stA/stB the algebraic slots of the two ends (stB -1 when the other
   * end is known), stE the edge, stO the known other node.
   */
  stA: Int32Array;
  stB: Int32Array;
  stE: Int32Array;
  stO: Int32Array;
  /** current sources (isValue changes when a compliance source switches) */
  isA: Int32Array;
  isB: Int32Array;
  isStim: Uint8Array;
  isValue: Float64Array;
  isGain: Float64Array;
  isCh: Int32Array;
  /**
   * Resistors with a current compliance (SMU-style): branch, the current source standing in for them while
   * in compliance, conductance and limit.
   */
  limBranch: Int32Array;
  limIs: Int32Array;
  limG: Float64Array;
  limMax: Float64Array;
  capA: Int32Array;
  capB: Int32Array;
  capC: Float64Array;
  /** inverse capacitance matrix of the dynamic nodes, nDyn × nDyn */
  cinv: Float64Array;
  /** implicit method: the algebraic edge of a capacitor between two algebraic nodes, or -1 */
  capEdge: Int32Array;
  /** algebraic system pattern: the off-diagonal entries (i, j) */
  edgeI: Int32Array;
  edgeJ: Int32Array;
  implicit: boolean;
  devs: DeviceInfo[];
  groups: DeviceGroup[];
  /** one-state devices evaluated one by one (not in a group) */
  singles: Int32Array;
  /** devices with extra states (evaluated one by one by their forms' rates) */
  multi: Int32Array;
  devA: Int32Array;
  devB: Int32Array;
  /** bounds and initial values of the device states (nStates each) */
  devLo: Float64Array;
  devHi: Float64Array;
  x0: Float64Array;
  /** devices whose current is not G(x)·v */
  nonlinDevs: number[];
  neurons: Neuron[];
  elements: Map<string, { type: string; index: number }>;
  resistors: ResistorInfo[];
  /** number of stimulus channels */
  nCh: number;
  stimulusQuantity: 'current' | 'voltage' | null;
}

function sameParams(a: Params, b: Params): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k])) return false;
  return true;
}

/** Compiles a netlist; `implicit`: capacitors become companion models solved with the network. */
export function compile(net: Netlist, implicit: boolean): Topology {
  const nodeIdx = new Map<string, number>();
  const node = (nm: string): number => {
    let i = nodeIdx.get(nm);
    if (i === undefined) {
      i = nodeIdx.size;
      nodeIdx.set(nm, i);
    }
    return i;
  };
  node('0');
  const els = net.elements;
  for (const e of els) {
    if ('node' in e) node(e.node);
    if ('a' in e) (node(e.a), node(e.b));
  }
  const N = nodeIdx.size;
  const cls = new Int8Array(N).fill(ALGEBRAIC);
  cls[0] = FIXED;
  const fixed: number[] = [0], fStim: number[] = [0], fVal: number[] = [0], fGain: number[] = [0], fCh: number[] = [0];
  let stimQ: 'current' | 'voltage' | null = null;
  for (const e of els)
    if (e.type === 'V') {
      const i = node(e.node);
      if (cls[i] === FIXED) throw new TwinError('TWIN_BAD_CIRCUIT', `node ${e.node} has two voltage sources`);
      cls[i] = FIXED;
      fixed.push(i);
      fStim.push(e.stimulus ? 1 : 0);
      fVal.push(e.stimulus ? (e.offset ?? 0) : (e.value as number));
      fGain.push(e.gain ?? 1);
      fCh.push(e.channel ?? 0);
      if (e.stimulus) stimQ = 'voltage';
    }
  if (implicit && els.some((e) => e.type === 'neuron'))
    throw new TwinError('TWIN_BAD_OPTION', "method 'implicit' does not support neurons (threshold-and-reset); use rk4 or adaptive");
  if (!implicit) for (const e of els) if (e.type === 'C') for (const nd of [node(e.a), node(e.b)]) if (cls[nd] === ALGEBRAIC) cls[nd] = DYNAMIC;
  const slot = new Int32Array(N);
  const dyn: number[] = [], alg: number[] = [];
  for (let i = 0; i < N; i++) {
    if (cls[i] === DYNAMIC) (slot[i] = dyn.length), dyn.push(i);
    else if (cls[i] === ALGEBRAIC) (slot[i] = alg.length), alg.push(i);
  }
  for (let k = 0; k < fixed.length; k++) slot[fixed[k]] = k;
  const nDyn = dyn.length, nAlg = alg.length;

  // branches, devices, sources, capacitors
  const brA: number[] = [], brB: number[] = [], brG: number[] = [];
  const devs: DeviceInfo[] = [];
  const isA: number[] = [], isB: number[] = [], isS: number[] = [], isV: number[] = [], isGn: number[] = [], isC: number[] = [];
  const limB: number[] = [], limI: number[] = [], limG: number[] = [], limM: number[] = [];
  const capA: number[] = [], capB: number[] = [], capC: number[] = [];
  const neurons: Neuron[] = [];
  const elements = new Map<string, { type: string; index: number }>();
  const resistors: ResistorInfo[] = [];
  const x0: number[] = [];
  for (const e of els) {
    const nm = e.name as string;
    switch (e.type) {
      case 'R':
        elements.set(nm, { type: 'R', index: resistors.length });
        resistors.push({ a: node(e.a), b: node(e.b), branch: brA.length, is: e.imax ? isA.length : -1 });
        if (e.imax) {
          // in compliance the branch opens and a current source of ±imax (a → b) stands in for it
          limB.push(brA.length), limI.push(isA.length), limG.push(1 / e.value), limM.push(e.imax);
          isA.push(node(e.a)), isB.push(node(e.b)), isS.push(0), isV.push(0), isGn.push(1), isC.push(0);
        }
        brA.push(node(e.a)), brB.push(node(e.b)), brG.push(1 / e.value);
        break;
      case 'C':
        elements.set(nm, { type: 'C', index: capA.length });
        capA.push(node(e.a)), capB.push(node(e.b)), capC.push(e.value);
        break;
      case 'V':
        elements.set(nm, { type: 'V', index: node(e.node) });
        break;
      case 'I':
        elements.set(nm, { type: 'I', index: isA.length });
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
          if (cls[a] === ALGEBRAIC || cls[b] === ALGEBRAIC)
            throw new TwinError('TWIN_BAD_CIRCUIT', `device ${nm} (${model.name}) is nonlinear in v: both its nodes need a capacitor or a voltage source`);
        } else {
          branch = brA.length;
          brA.push(a), brB.push(b), brG.push(model.g(e.x0 ?? model.x0, p));
        }
        const [lo, hi] = model.bounds(p);
        const extra = model.extraStates?.(p) ?? [];
        if (extra.length && (model.nonlinearV || !model.gStates || !model.rates)) throw new Error(`model ${model.name}: extra states need a linear-in-v model with gStates and rates`);
        const forms = extra.length ? (model.stateForms?.(p) ?? { gStates: model.gStates!, rates: model.rates! }) : null;
        elements.set(nm, { type: 'device', index: devs.length });
        devs.push({ name: nm, model, p, a, b, branch, lo, hi, extra, extraAt: -1, forms });
        x0.push(e.x0 ?? model.x0);
        break;
      }
      case 'neuron': {
        const nd = node(e.node);
        if (cls[nd] !== DYNAMIC) throw new TwinError('TWIN_BAD_CIRCUIT', `neuron ${nm}: node ${e.node} needs a capacitor (and no voltage source)`);
        elements.set(nm, { type: 'neuron', index: neurons.length });
        neurons.push({ name: nm, node: nd, slot: slot[nd], vth: e.vth, vreset: e.vreset, tref: e.tref ?? 0 });
        break;
      }
    }
  }

  // extra states after every device's x
  const lo = devs.map((d) => d.lo), hi = devs.map((d) => d.hi);
  const multi: number[] = [];
  devs.forEach((dv, d) => {
    if (!dv.extra.length) return;
    multi.push(d);
    dv.extraAt = x0.length;
    for (const e of dv.extra) (x0.push(e.x0), lo.push(e.lo), hi.push(e.hi));
  });

  // device groups: the fast path; the rest one by one
  const groups: DeviceGroup[] = [];
  const singles: number[] = [];
  for (let d = 0; d < devs.length; ) {
    const d0 = devs[d];
    if (d0.extra.length) {
      d++;
      continue;
    }
    if (d0.branch < 0 || !d0.model.gBatch || !d0.model.rateBatch) {
      singles.push(d++);
      continue;
    }
    let e = d + 1;
    while (e < devs.length && devs[e].model === d0.model && devs[e].branch === d0.branch + (e - d) && sameParams(devs[e].p, d0.p)) e++;
    groups.push({
      model: d0.model, p: d0.p, d0: d, count: e - d, base: d0.branch, lo: d0.lo, hi: d0.hi,
      gLast: new Float64Array(e - d).fill(NaN), vd: new Float64Array(e - d),
    });
    d = e;
  }

  // algebraic system pattern
  const edgeOf = new Map<number, number>();
  const ei: number[] = [], ej: number[] = [];
  /** The off-diagonal entry joining algebraic slots i and j (one per pair, whichever elements share it). */
  const edgeFor = (i: number, j: number): number => {
    const key = Math.min(i, j) * nAlg + Math.max(i, j);
    let e = edgeOf.get(key);
    if (e === undefined) {
      e = ei.length;
      edgeOf.set(key, e);
      ei.push(i), ej.push(j);
    }
    return e;
  };
  const brEdge = new Int32Array(brA.length).fill(-1);
  const algB: number[] = [], dynB: number[] = [];
  for (let b = 0; b < brA.length; b++) {
    const ca = cls[brA[b]], cb = cls[brB[b]];
    if (ca === ALGEBRAIC || cb === ALGEBRAIC) algB.push(b);
    if (ca === DYNAMIC || cb === DYNAMIC) dynB.push(b);
    if (ca === ALGEBRAIC && cb === ALGEBRAIC) brEdge[b] = edgeFor(slot[brA[b]], slot[brB[b]]);
  }
  const stA = new Int32Array(algB.length), stB = new Int32Array(algB.length);
  const stE = new Int32Array(algB.length), stO = new Int32Array(algB.length);
  for (let q = 0; q < algB.length; q++) {
    const b = algB[q];
    const a = brA[b], c = brB[b];
    stE[q] = brEdge[b];
    if (brEdge[b] >= 0) ((stA[q] = slot[a]), (stB[q] = slot[c]), (stO[q] = -1));
    else if (cls[a] === ALGEBRAIC) ((stA[q] = slot[a]), (stB[q] = -1), (stO[q] = c));
    else ((stA[q] = slot[c]), (stB[q] = -1), (stO[q] = a));
  }
  // companion model: capacitors between algebraic nodes join the pattern
  const capEdge = new Int32Array(capA.length).fill(-1);
  if (implicit)
    for (let c = 0; c < capA.length; c++) {
      if (cls[capA[c]] !== ALGEBRAIC || cls[capB[c]] !== ALGEBRAIC) continue;
      capEdge[c] = edgeFor(slot[capA[c]], slot[capB[c]]);
    }

  // capacitance matrix of the dynamic nodes, inverted once
  const nd = nDyn;
  const Cm = new Float64Array(nd * nd);
  for (let c = 0; c < capA.length; c++) {
    const a = capA[c], b = capB[c], C = capC[c];
    if (cls[a] === DYNAMIC) Cm[slot[a] * nd + slot[a]] += C;
    if (cls[b] === DYNAMIC) Cm[slot[b] * nd + slot[b]] += C;
    if (cls[a] === DYNAMIC && cls[b] === DYNAMIC) (Cm[slot[a] * nd + slot[b]] -= C), (Cm[slot[b] * nd + slot[a]] -= C);
  }

  return {
    name: net.name,
    nodeNames: [...nodeIdx.keys()],
    nodeIdx,
    cls,
    slot,
    nDyn,
    nAlg,
    nDev: devs.length,
    nStates: x0.length,
    dynNodes: Int32Array.from(dyn),
    algNodes: Int32Array.from(alg),
    fixedNodes: Int32Array.from(fixed),
    fixedStim: Uint8Array.from(fStim),
    fixedValue: Float64Array.from(fVal),
    fixedGain: Float64Array.from(fGain),
    fixedCh: Int32Array.from(fCh),
    brA: Int32Array.from(brA),
    brB: Int32Array.from(brB),
    brG: Float64Array.from(brG),
    brEdge,
    algBranches: Int32Array.from(algB),
    dynBranches: Int32Array.from(dynB),
    stA, stB, stE, stO,
    isA: Int32Array.from(isA),
    isB: Int32Array.from(isB),
    isStim: Uint8Array.from(isS),
    isValue: Float64Array.from(isV),
    isGain: Float64Array.from(isGn),
    isCh: Int32Array.from(isC),
    limBranch: Int32Array.from(limB),
    limIs: Int32Array.from(limI),
    limG: Float64Array.from(limG),
    limMax: Float64Array.from(limM),
    capA: Int32Array.from(capA),
    capB: Int32Array.from(capB),
    capC: Float64Array.from(capC),
    cinv: invert(Cm, nd),
    capEdge,
    edgeI: Int32Array.from(ei),
    edgeJ: Int32Array.from(ej),
    implicit,
    devs,
    groups,
    singles: Int32Array.from(singles),
    multi: Int32Array.from(multi),
    devA: Int32Array.from(devs, (d) => d.a),
    devB: Int32Array.from(devs, (d) => d.b),
    devLo: Float64Array.from(lo),
    devHi: Float64Array.from(hi),
    x0: Float64Array.from(x0),
    nonlinDevs: devs.map((d, i) => (d.branch < 0 ? i : -1)).filter((i) => i >= 0),
    neurons,
    elements,
    resistors,
    nCh: 1 + Math.max(0, ...fCh, ...isC),
    stimulusQuantity: stimQ,
  };
}

/** Gauss–Jordan inverse with partial pivoting (the capacitance matrix: small, inverted once). */
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
