/**
 * Modified nodal analysis of a compiled topology (compile.ts): the right-hand side dy/dt of the twin's state
 * [dynamic node voltages, device states], the algebraic nodes solved at every evaluation from G(x)·v = i
 * (an SPD sparse system, sparse.ts, PCG warm-started by linear extrapolation in time), the backward-Euler
 * companion solve of the implicit method, and the compliance switching of source resistors. Pure
 * computation.
 */
import { SpdSystem } from './sparse.ts';
import { MAX_FACTOR_NONZEROS, MAX_ORDERING_WORK } from './circuit.ts';
import type { DeviceModel, StateForms } from './models.ts';
import type { Stimuli } from './inputs.ts';
import { ALGEBRAIC, DYNAMIC, FIXED, type Topology } from './compile.ts';

/** Conductance to ground on every algebraic node, as in SPICE (keeps the system positive definite). */
const GMIN = 1e-12;

type GBatch = NonNullable<DeviceModel['gBatch']>;
type RateBatch = NonNullable<DeviceModel['rateBatch']>;

export class Mna {
  /** All node voltages at the last evaluation. */
  readonly V: Float64Array;
  /** implicit method: node voltages at the previous step, and that step's length (0: none yet) */
  readonly Vold: Float64Array;
  hImplicit = 0;
  readonly sys: SpdSystem | null;
  private rhs: Float64Array;
  private valg: Float64Array;
  /** previous algebraic solution and the times of the last two solves (warm-start extrapolation) */
  private valgPrev: Float64Array;
  private solveT0 = -Infinity;
  private solveT1 = -Infinity;
  private res: Float64Array;
  /** a multi-state device's states and rates (its forms' rates); the states of the last conductance update of each */
  private ms: Float64Array;
  private mr: Float64Array;
  private mLast: Float64Array;

  constructor(
    private readonly top: Topology,
    private readonly stim: Stimuli,
    /** neurons held in refractory (their node's dv/dt is 0), owned by the events */
    private readonly frozen: Uint8Array,
    private readonly solverMode: 'direct' | 'pcg',
    private readonly stats: { evaluations: number },
  ) {
    const N = top.nodeNames.length;
    this.V = new Float64Array(N);
    this.Vold = new Float64Array(N);
    this.sys = top.nAlg > 0 ? new SpdSystem(top.nAlg, top.edgeI, top.edgeJ, { fill: MAX_FACTOR_NONZEROS, ordering: MAX_ORDERING_WORK }) : null;
    this.rhs = new Float64Array(top.nAlg);
    this.valg = new Float64Array(top.nAlg);
    this.valgPrev = new Float64Array(top.nAlg);
    this.res = new Float64Array(top.nDyn);
    const width = 1 + top.devs.reduce((m, d) => Math.max(m, d.extra.length), 0);
    this.ms = new Float64Array(width);
    this.mr = new Float64Array(width);
    this.mLast = new Float64Array(top.multi.length * width).fill(NaN);
  }

  /** dy/dt at (t, y); leaves all node voltages of that point in this.V. */
  evaluate(t: number, y: Float64Array, dy: Float64Array): void {
    this.stats.evaluations++;
    const top = this.top;
    const V = this.V, nd = top.nDyn, cls = top.cls, slot = top.slot, brA = top.brA, brB = top.brB, brG = top.brG;
    const fixedCh = top.fixedCh, isCh = top.isCh;
    const u = this.stim.at(t);
    for (let k = 0; k < top.fixedNodes.length; k++)
      V[top.fixedNodes[k]] = top.fixedStim[k] ? top.fixedValue[k] + top.fixedGain[k] * u[fixedCh[k]] : top.fixedValue[k];
    for (let k = 0; k < nd; k++) V[top.dynNodes[k]] = y[k];
    const devs = top.devs;
    const groups = top.groups;
    const singles = top.singles;
    this.updateConductances(y);
    // algebraic nodes
    const sys = this.sys;
    if (sys && !top.implicit) {
      const diag = sys.diag, off = sys.off, rhs = this.rhs;
      diag.fill(GMIN);
      off.fill(0);
      rhs.fill(0);
      const ab = top.algBranches, stA = top.stA, stB = top.stB, stE = top.stE, stO = top.stO;
      for (let q = 0; q < ab.length; q++) {
        const g = brG[ab[q]];
        const i = stA[q], j = stB[q];
        diag[i] += g;
        if (j >= 0) {
          diag[j] += g;
          off[stE[q]] -= g;
        } else rhs[i] += g * V[stO[q]];
      }
      for (let s = 0; s < top.isA.length; s++) {
        const I = top.isStim[s] ? top.isValue[s] + top.isGain[s] * u[isCh[s]] : top.isValue[s];
        if (cls[top.isB[s]] === ALGEBRAIC) rhs[slot[top.isB[s]]] += I;
        if (cls[top.isA[s]] === ALGEBRAIC) rhs[slot[top.isA[s]]] -= I;
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
      const an = top.algNodes;
      for (let k = 0; k < x.length; k++) V[an[k]] = x[k];
    }
    // dynamic nodes: C dv/dt = residual
    if (nd > 0) {
      const r = this.res;
      r.fill(0);
      const db = top.dynBranches;
      for (let q = 0; q < db.length; q++) {
        const b = db[q];
        const a = brA[b], c = brB[b];
        const i = brG[b] * (V[a] - V[c]);
        if (cls[a] === DYNAMIC) r[slot[a]] -= i;
        if (cls[c] === DYNAMIC) r[slot[c]] += i;
      }
      for (const d of top.nonlinDevs) {
        const dv = devs[d];
        const i = dv.model.current(V[dv.a] - V[dv.b], y[nd + d], dv.p);
        if (cls[dv.a] === DYNAMIC) r[slot[dv.a]] -= i;
        if (cls[dv.b] === DYNAMIC) r[slot[dv.b]] += i;
      }
      for (let s = 0; s < top.isA.length; s++) {
        const I = top.isStim[s] ? top.isValue[s] + top.isGain[s] * u[isCh[s]] : top.isValue[s];
        if (cls[top.isB[s]] === DYNAMIC) r[slot[top.isB[s]]] += I;
        if (cls[top.isA[s]] === DYNAMIC) r[slot[top.isA[s]]] -= I;
      }
      // capacitors to stimulus-driven voltage nodes: C·dV/dt of the fixed end
      if (this.stim.slopes(t))
        for (let c = 0; c < top.capA.length; c++) {
          const a = top.capA[c], b = top.capB[c];
          if (cls[a] === DYNAMIC && cls[b] === FIXED) r[slot[a]] += top.capC[c] * this.fixedSlope(b);
          if (cls[b] === DYNAMIC && cls[a] === FIXED) r[slot[b]] += top.capC[c] * this.fixedSlope(a);
        }
      const ci = top.cinv;
      for (let i = 0; i < nd; i++) {
        let s = 0;
        for (let j = 0; j < nd; j++) s += ci[i * nd + j] * r[j];
        dy[i] = s;
      }
      const neurons = top.neurons, frozen = this.frozen;
      for (let n = 0; n < neurons.length; n++) if (frozen[n]) dy[neurons[n].slot] = 0;
    }
    const devA = top.devA, devB = top.devB;
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
    if (top.multi.length) this.multiRates(y, dy);
  }

  /** dy/dt of the devices with extra states (all their states, each clamped at its bounds); node voltages in this.V. */
  private multiRates(y: Float64Array, dy: Float64Array): void {
    const top = this.top, V = this.V, nd = top.nDyn, s = this.ms, r = this.mr, lo = top.devLo, hi = top.devHi;
    for (let q = 0; q < top.multi.length; q++) {
      const d = top.multi[q];
      const dv = top.devs[d];
      const ne = dv.extra.length;
      this.states(y, d);
      // the conductance of these states: set by updateConductances earlier in this evaluation
      (dv.forms as StateForms).rates(V[dv.a] - V[dv.b], s, dv.p, r, top.brG[dv.branch]);
      for (let k = 0; k <= ne; k++) {
        const j = k === 0 ? d : dv.extraAt + k - 1;
        const x = s[k], rk = r[k];
        dy[nd + j] = (x >= hi[j] && rk > 0) || (x <= lo[j] && rk < 0) ? 0 : rk;
      }
    }
  }

  /** Device branch conductances from the states in y. */
  private updateConductances(y: Float64Array): void {
    const top = this.top;
    const nd = top.nDyn, brG = top.brG, devs = top.devs, groups = top.groups, singles = top.singles;
    for (let gi = 0; gi < groups.length; gi++) {
      const gr = groups[gi];
      (gr.model.gBatch as GBatch)(y, nd + gr.d0, gr.count, brG, gr.base, gr.p, gr.gLast);
    }
    for (let q = 0; q < singles.length; q++) {
      const d = singles[q];
      const dv = devs[d];
      if (dv.branch >= 0) brG[dv.branch] = dv.model.g(y[nd + d], dv.p);
    }
    // a multi-state device's conductance only where its states moved (the implicit step's companion solve
    // and the next evaluation see the same states)
    const width = this.ms.length, last = this.mLast;
    for (let q = 0; q < top.multi.length; q++) {
      const dv = devs[top.multi[q]];
      const s = this.states(y, top.multi[q]);
      let same = true;
      for (let k = 0, o = q * width; k <= dv.extra.length; k++) if (last[o + k] !== s[k]) ((same = false), (last[o + k] = s[k]));
      if (!same) brG[dv.branch] = (dv.forms as StateForms).gStates(s, dv.p);
    }
  }

  /** The states [x, extra states…] of device d (a multi-state one) in y, in a scratch array. */
  private states(y: Float64Array, d: number): Float64Array {
    const s = this.ms, dv = this.top.devs[d], nd = this.top.nDyn;
    s[0] = y[nd + d];
    for (let k = 0; k < dv.extra.length; k++) s[k + 1] = y[nd + dv.extraAt + k];
    return s;
  }

  /** dV/dt of a fixed node from the stimulus slopes of the last Stimuli.slopes() call. */
  fixedSlope(node: number): number {
    const top = this.top;
    const k = top.slot[node];
    return top.fixedStim[k] ? top.fixedGain[k] * this.stim.duv[top.fixedCh[k]] : 0;
  }

  /**
   * Implicit method: solves the network at t1 with every capacitor replaced by its backward-Euler companion
   * (conductance C/h, current source C/h·(v_a − v_b) of the previous step, from this.Vold), conductances
   * from the states y.
   */
  solveCompanion(t1: number, h: number, y: Float64Array): void {
    const top = this.top;
    const V = this.V, Vold = this.Vold, cls = top.cls, slot = top.slot, brA = top.brA, brB = top.brB, brG = top.brG;
    this.hImplicit = h;
    const u = this.stim.at(t1);
    for (let k = 0; k < top.fixedNodes.length; k++)
      V[top.fixedNodes[k]] = top.fixedStim[k] ? top.fixedValue[k] + top.fixedGain[k] * u[top.fixedCh[k]] : top.fixedValue[k];
    this.updateConductances(y);
    const sys = this.sys;
    if (!sys) return;
    const diag = sys.diag, off = sys.off, rhs = this.rhs;
    diag.fill(GMIN);
    off.fill(0);
    rhs.fill(0);
    const ab = top.algBranches, be = top.brEdge;
    for (let q = 0; q < ab.length; q++) {
      const b = ab[q];
      const a = brA[b], c = brB[b], g = brG[b];
      if (be[b] >= 0) {
        diag[slot[a]] += g;
        diag[slot[c]] += g;
        off[be[b]] -= g;
      } else if (cls[a] === ALGEBRAIC) ((diag[slot[a]] += g), (rhs[slot[a]] += g * V[c]));
      else ((diag[slot[c]] += g), (rhs[slot[c]] += g * V[a]));
    }
    for (let s = 0; s < top.isA.length; s++) {
      const I = top.isStim[s] ? top.isValue[s] + top.isGain[s] * u[top.isCh[s]] : top.isValue[s];
      if (cls[top.isB[s]] === ALGEBRAIC) rhs[slot[top.isB[s]]] += I;
      if (cls[top.isA[s]] === ALGEBRAIC) rhs[slot[top.isA[s]]] -= I;
    }
    for (let c = 0; c < top.capA.length; c++) {
      const a = top.capA[c], b = top.capB[c], g = top.capC[c] / h;
      const hist = g * (Vold[a] - Vold[b]);
      if (cls[a] === ALGEBRAIC) ((diag[slot[a]] += g), (rhs[slot[a]] += hist + (cls[b] === ALGEBRAIC ? 0 : g * V[b])));
      if (cls[b] === ALGEBRAIC) ((diag[slot[b]] += g), (rhs[slot[b]] += -hist + (cls[a] === ALGEBRAIC ? 0 : g * V[a])));
      if (top.capEdge[c] >= 0) off[top.capEdge[c]] -= g;
    }
    const x = this.valg;
    if (this.solverMode === 'direct') sys.solveDirect(rhs, x);
    else sys.solve(rhs, x);
    for (let k = 0; k < x.length; k++) V[top.algNodes[k]] = x[k];
  }

  /**
   * The compliance of limited resistors after an accepted step (node voltages of the new point in this.V):
   * an SMU's loop decides once per step whether the source is in compliance (|i| held at imax, the branch
   * open) or back to voltage mode (the resistor alone would carry ≤ imax). True when a mode changed.
   */
  updateCompliance(): boolean {
    const top = this.top, V = this.V;
    let changed = false;
    for (let k = 0; k < top.limBranch.length; k++) {
      const b = top.limBranch[k], s = top.limIs[k], g = top.limG[k], max = top.limMax[k];
      // the current the resistor would carry at the programmed source voltage
      const i = g * (V[top.brA[b]] - V[top.brB[b]]);
      const now = top.brG[b] === 0 ? Math.sign(top.isValue[s]) : 0;
      // enter compliance beyond the limit; leave it once the source could no longer push the limit current
      const mode = now === 0 ? (i > max ? 1 : i < -max ? -1 : 0) : now * i > max ? now : 0;
      if (mode === now) continue;
      top.brG[b] = mode === 0 ? g : 0;
      top.isValue[s] = mode * max;
      changed = true;
    }
    return changed;
  }

  get solverStats() {
    return this.sys?.stats ?? { factorisations: 0, pcgIterations: 0, solves: 0, columns: 0 };
  }
}
