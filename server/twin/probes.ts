/**
 * Reading the twin: probes (node voltage, element current, device state) checked against the topology and
 * read at the current point, and the current an electrode delivers (what the instrument measures). Pure
 * computation.
 */
import { TwinError } from './models.ts';
import type { Probe } from './circuit.ts';
import type { Stimuli } from './inputs.ts';
import type { Mna } from './mna.ts';
import { DYNAMIC, FIXED, type Topology } from './compile.ts';

export class Probes {
  constructor(
    private readonly top: Topology,
    private readonly mna: Mna,
    private readonly stim: Stimuli,
  ) {}

  /** Throws TWIN_BAD_PROBE unless the probe names a node or an element it can read. */
  check(p: Probe): void {
    if (p.kind === 'v') {
      if (!p.node || !this.top.nodeIdx.has(p.node)) throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: unknown node ${p.node}`);
    } else {
      const e = p.element ? this.top.elements.get(p.element) : undefined;
      if (!e) throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: unknown element ${p.element}`);
      if (p.kind === 'x' && e.type !== 'device') throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: only devices have a state`);
      if (p.state !== undefined) {
        const dv = this.top.devs[e.index];
        if (p.kind !== 'x' || !dv.extra.some((s) => s.name === p.state))
          throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: device ${p.element} has no state "${p.state}" (its extra states: ${dv.extra.map((s) => s.name).join(', ') || 'none'})`);
      }
      if (p.kind === 'i' && e.type === 'neuron') throw new TwinError('TWIN_BAD_PROBE', `probe ${p.name}: a neuron has no current`);
    }
  }

  /** A checked probe at the point (t, y, f0 = dy/dt), node voltages in mna.V (V, A or state). */
  read(p: Probe, t: number, y: Float64Array, f0: Float64Array): number {
    const top = this.top;
    const V = this.mna.V;
    if (p.kind === 'v') return V[top.nodeIdx.get(p.node as string) as number];
    const e = top.elements.get(p.element as string) as { type: string; index: number };
    const nd = top.nDyn;
    switch (e.type) {
      case 'device': {
        const dv = top.devs[e.index];
        const x = y[nd + e.index];
        if (p.state !== undefined) return y[nd + dv.extraAt + dv.extra.findIndex((s) => s.name === p.state)];
        if (p.kind === 'x') return x;
        return dv.extra.length ? top.brG[dv.branch] * (V[dv.a] - V[dv.b]) : dv.model.current(V[dv.a] - V[dv.b], x, dv.p);
      }
      case 'R': {
        const r = top.resistors[e.index];
        const i = top.brG[r.branch] * (V[r.a] - V[r.b]);
        return r.is >= 0 ? i + top.isValue[r.is] : i;
      }
      case 'C':
        return top.capC[e.index] * (this.nodeSlope(top.capA[e.index], t, f0) - this.nodeSlope(top.capB[e.index], t, f0));
      case 'I':
        return top.isStim[e.index] ? top.isValue[e.index] + top.isGain[e.index] * this.stim.at(t)[top.isCh[e.index]] : top.isValue[e.index];
      case 'V':
        return this.sourceCurrent(e.index, t, y, f0);
    }
    return NaN;
  }

  /** dV/dt of a node at the point (t, f0). */
  private nodeSlope(node: number, t: number, f0: Float64Array): number {
    const top = this.top, mna = this.mna;
    if (top.implicit) return mna.hImplicit > 0 && t > 0 ? (mna.V[node] - mna.Vold[node]) / mna.hImplicit : 0;
    if (top.cls[node] === DYNAMIC) return f0[top.slot[node]];
    if (top.cls[node] === FIXED) return this.stim.slopes(t) ? mna.fixedSlope(node) : 0;
    return 0;
  }

  /** Current delivered by the voltage source at `node` into the circuit (A). */
  sourceCurrent(node: number, t: number, y: Float64Array, f0: Float64Array): number {
    const top = this.top;
    const V = this.mna.V;
    const brA = top.brA, brB = top.brB, brG = top.brG;
    let i = 0;
    for (let b = 0; b < brA.length; b++) {
      if (brA[b] === node) i += brG[b] * (V[node] - V[brB[b]]);
      else if (brB[b] === node) i += brG[b] * (V[node] - V[brA[b]]);
    }
    for (const d of top.nonlinDevs) {
      const dv = top.devs[d];
      const c = dv.model.current(V[dv.a] - V[dv.b], y[top.nDyn + d], dv.p);
      if (dv.a === node) i += c;
      else if (dv.b === node) i -= c;
    }
    for (let c = 0; c < top.capA.length; c++) {
      const a = top.capA[c], b = top.capB[c];
      if (a === node) i += top.capC[c] * (this.nodeSlope(a, t, f0) - this.nodeSlope(b, t, f0));
      else if (b === node) i += top.capC[c] * (this.nodeSlope(b, t, f0) - this.nodeSlope(a, t, f0));
    }
    const u = this.stim.at(t);
    for (let s = 0; s < top.isA.length; s++) {
      const I = top.isStim[s] ? top.isValue[s] + top.isGain[s] * u[top.isCh[s]] : top.isValue[s];
      if (top.isB[s] === node) i -= I;
      if (top.isA[s] === node) i += I;
    }
    return i;
  }
}
