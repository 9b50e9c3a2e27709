/**
 * The twin's solver façade: a netlist compiled to typed arrays (compile.ts), its network equations by
 * modified nodal analysis (mna.ts), integrated in time (integrators.ts), with neuron and spike-detector
 * events (events.ts) and probes (probes.ts). Pure computation: no clocks, no I/O, no globals.
 *
 * Formulation. Nodes are of three classes:
 *  - fixed: ground and the nodes of grounded voltage sources (electrodes) — true Dirichlet nodes;
 *  - dynamic: nodes with a capacitor — their voltages are state variables (C·dv/dt = KCL residual,
 *    with the capacitance matrix, floating capacitors included, factored once);
 *  - algebraic: the rest — solved at every evaluation from G(x)·v = i, an SPD sparse system whose
 *    pattern is analysed once (sparse.ts) and whose values change with the device conductances.
 * The state vector is [dynamic node voltages, device states x, further device states (compile.ts)]. It is integrated by classic RK4 or forward
 * Euler at a fixed step, or by Dormand–Prince 5(4) with error control. Neuron thresholds are located
 * inside a step (cubic Hermite interpolation, bisection), the step is re-integrated up to the crossing,
 * the node is reset, and held for the refractory period (whose end also splits a step).
 */
import { TwinError } from './models.ts';
import type { Netlist, Probe } from './circuit.ts';
import { ConstInput, PiecewiseInput, SampledInput, Stimuli } from './inputs.ts';
import { compile, type Topology } from './compile.ts';
import { Mna } from './mna.ts';
import { Integrator, growStep, shrinkStep, type Method } from './integrators.ts';
import { Events, type TwinEvent } from './events.ts';
import { Probes } from './probes.ts';
import { FactorTooLarge, NotPositiveDefinite } from './sparse.ts';

export type { Method } from './integrators.ts';
export type { TwinEvent } from './events.ts';

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

export class Twin {
  readonly name: string;
  readonly nodeNames: string[];
  readonly nDyn: number;
  readonly nAlg: number;
  readonly nDev: number;
  readonly stimulusQuantity: 'current' | 'voltage' | null;
  readonly method: Method;
  dt: number;
  t = 0;
  /** The state [dynamic node voltages, device states]. */
  readonly y: Float64Array;
  /** All node voltages at the last evaluation. */
  readonly V: Float64Array;
  readonly stats = { steps: 0, rejected: 0, evaluations: 0 };
  private readonly top: Topology;
  private readonly stim: Stimuli;
  private readonly mna: Mna;
  private readonly integ: Integrator;
  private readonly events: Events;
  private readonly probes: Probes;
  private readonly probeList: Probe[];
  /** dy/dt at (t, y), valid when f0Valid */
  private f0: Float64Array;
  private f0Valid = false;
  private y1: Float64Array;
  private f1: Float64Array;
  private hAdapt: number;
  private readonly currentAt = (node: number): number => this.probes.sourceCurrent(node, this.t, this.y, this.f0);

  constructor(net: Netlist, opts: TwinOptions = {}) {
    this.name = net.name;
    this.method = opts.method ?? net.method ?? 'rk4';
    this.dt = opts.dt ?? 1e-5;
    this.hAdapt = this.dt;
    if (!(this.dt > 0)) throw new TwinError('TWIN_BAD_OPTION', 'dt must be > 0');
    const top = compile(net, this.method === 'implicit');
    this.top = top;
    this.nodeNames = top.nodeNames;
    this.nDyn = top.nDyn;
    this.nAlg = top.nAlg;
    this.nDev = top.nDev;
    this.stimulusQuantity = top.stimulusQuantity;
    this.stim = new Stimuli(top.nCh, net.name);
    const refractory = new Uint8Array(top.neurons.length);
    try {
      this.mna = new Mna(top, this.stim, refractory, opts.solver ?? 'pcg', this.stats);
    } catch (err) {
      if (err instanceof FactorTooLarge) throw new TwinError('TWIN_TOO_COSTLY', `${net.name}: ${err.message} (MAX_FACTOR_NONZEROS, MAX_ORDERING_WORK: a network this densely connected takes seconds per step): use a smaller or sparser network`);
      throw err;
    }
    this.V = this.mna.V;
    this.integ = new Integrator(top, this.mna, this.method, opts.rtol ?? 1e-6, opts.atol ?? 1e-9);
    const ny = top.nDyn + top.nStates;
    this.y = new Float64Array(ny);
    this.y.set(top.x0, top.nDyn);
    this.f0 = new Float64Array(ny);
    this.y1 = new Float64Array(ny);
    this.f1 = new Float64Array(ny);
    this.probes = new Probes(top, this.mna, this.stim);
    this.probeList = net.outputs;
    for (const p of net.outputs) this.probes.check(p);
    this.events = new Events(top, net.spikes ?? [], refractory);
    this.events.initialDraws(this.y);
  }

  // ------------------------------------------------------------------------------------------- input
  /**
   * Work of one step, in the units of MAX_NETWORK_WORK (circuit.ts): devices plus the nonzeros of the network's
   * factor, and at least one: a circuit without devices (a LIF neuron) costs about 2.6 µs a step too, and with
   * a tiny `dt` its steps were uncapped (dt = 1e-12 s over 1 s: 1e12 steps, a pool thread held for days).
   */
  get workPerStep(): number {
    return Math.max(1, this.nDev + (this.mna.sys?.factorNonzeros ?? 0));
  }

  /** Number of stimulus channels (electrodes or current sources may each name one; default 0). */
  get inputChannels(): number {
    return this.stim.inputs.length;
  }
  /** Holds stimulus channel `channel` at `value` (A or V) until changed (zero-order hold). */
  setInput(value: number, channel = 0): void {
    this.stim.set(channel, new ConstInput(value));
    this.f0Valid = false;
  }
  /** Uses a sampled waveform as stimulus channel `channel`, linearly interpolated, t = 0 at samples[0]. */
  setSampledInput(samples: Float64Array, sampleRate: number, channel = 0): void {
    this.stim.set(channel, new SampledInput(samples, sampleRate));
    this.f0Valid = false;
  }
  /** Uses a piecewise-constant waveform with exact edges as stimulus channel `channel` (see PiecewiseInput). */
  setPiecewiseInput(times: Float64Array, values: Float64Array, channel = 0): void {
    this.stim.set(channel, new PiecewiseInput(times, values));
    this.f0Valid = false;
  }

  /** dy/dt at (t, y); leaves all node voltages of that point in this.V. */
  evaluate(t: number, y: Float64Array, dy: Float64Array): void {
    this.mna.evaluate(t, y, dy);
  }

  // ------------------------------------------------------------------------------------------- stepping
  private ensureF0(): void {
    if (this.top.implicit && this.mna.hImplicit === 0) {
      // initial state: capacitors uncharged (a companion step of negligible length)
      this.mna.Vold.fill(0);
      this.mna.solveCompanion(this.t, this.dt * 1e-9, this.y);
    }
    if (!this.f0Valid) {
      this.events.updateFrozen(this.t);
      this.mna.evaluate(this.t, this.y, this.f0);
      this.f0Valid = true;
    }
  }

  /** Integrates from this.t to tEnd; events are collected (see takeEvents). */
  advanceTo(tEnd: number): void {
    if (tEnd <= this.t) return;
    try {
      this.ensureF0();
      if (this.method === 'adaptive') this.advanceAdaptive(tEnd);
      else if (this.top.implicit) this.advanceImplicit(tEnd);
      else this.advanceFixed(tEnd);
    } catch (e) {
      if (!(e instanceof NotPositiveDefinite)) throw e;
      throw new TwinError(
        'TWIN_BAD_OPTION',
        `${this.name}: a step near t = ${this.t} s took a device state so far out of its range that the network's conductance matrix is no longer positive definite; use a smaller dt${this.method === 'adaptive' ? '' : ' or the adaptive method'}`,
      );
    }
  }

  /** Advance by h seconds. */
  advance(h: number): void {
    this.advanceTo(this.t + h);
  }

  private advanceAdaptive(tEnd: number): void {
    const integ = this.integ, stim = this.stim;
    while (this.t < tEnd) {
      const rem = tEnd - this.t;
      let h = Math.min(this.hAdapt, this.dt, rem);
      if (rem - h < rem * 1e-9) h = rem; // do not leave a sliver before tEnd
      const brk = this.nextBreak(this.t, this.t + h);
      let isBreak = false;
      if (brk < this.t + h || stim.edgeT === brk) ((h = brk - this.t), (isBreak = true));
      this.events.updateFrozen(this.t);
      let err: number;
      try {
        err = integ.dpStep(this.t, this.y, this.f0, h, this.y1);
      } catch (e) {
        // A stage with negative weights (a32 = -56/15, ...) can carry a device state below its range even
        // from a state inside it, where an affine conductance turns negative and G(x) is no longer SPD:
        // the stage's right-hand side is undefined, so the step is rejected and shortened, as when f
        // cannot be evaluated (Hairer, Nørsett & Wanner, Solving ODEs I, §II.4). Small steps keep the
        // stages near y, inside the range.
        if (!(e instanceof NotPositiveDefinite) || !(h > 1e-15)) throw e;
        err = Infinity;
      }
      if (err > 1 && h > 1e-15) {
        this.stats.rejected++;
        this.hAdapt = shrinkStep(h, err);
        continue;
      }
      const hNext = growStep(h, err);
      // a step cut short (by a break or the end of the interval) must not shrink the step size
      this.hAdapt = h < this.hAdapt ? Math.max(this.hAdapt, hNext) : hNext;
      this.accept(h, integ.k[6], isBreak ? brk : h === rem ? tEnd : undefined);
      if (isBreak) this.f0Valid = false;
      stim.edgeT = NaN;
      this.ensureF0();
      this.afterStep();
    }
  }

  private advanceImplicit(tEnd: number): void {
    const span = tEnd - this.t;
    const nSteps = Math.max(1, Math.round(span / this.dt - 1e-9));
    const t0 = this.t;
    for (let s = 1; s <= nSteps; s++) {
      const t1 = s === nSteps ? tEnd : t0 + (span * s) / nSteps;
      while (this.t < t1) {
        const tb = this.nextBreak(this.t, t1); // a stimulus edge ends the step
        const h = tb - this.t;
        this.ensureF0();
        const sw = this.events.switching, rd = this.events.redrawing;
        if (sw || rd) this.integ.ytmp.set(this.y);
        this.integ.implicitStep(tb, h, this.y, this.f0);
        if (sw) this.events.detectSwitching(this.t, tb, this.integ.ytmp, this.y);
        if (rd) this.events.redraw(this.integ.ytmp, this.y, tb);
        this.t = tb;
        this.stim.edgeT = NaN;
        this.stats.steps++;
        this.f0Valid = false;
        this.afterStep();
      }
    }
    this.ensureF0();
  }

  private advanceFixed(tEnd: number): void {
    const integ = this.integ;
    const span = tEnd - this.t;
    const nSteps = Math.max(1, Math.round(span / this.dt - 1e-9));
    const t0 = this.t;
    for (let s = 1; s <= nSteps; s++) {
      const target = s === nSteps ? tEnd : t0 + (span * s) / nSteps;
      while (this.t < target) {
        let h = target - this.t;
        const brk = this.nextBreak(this.t, target);
        const cut = brk < target || this.stim.edgeT === brk;
        if (brk < target) h = brk - this.t;
        this.events.updateFrozen(this.t);
        integ.fixedStep(this.t, this.y, this.f0, h, this.y1);
        if (this.method !== 'euler') integ.clampStates(this.y1); // the Euler step clamps as it goes
        this.mna.evaluate(this.t + h, this.y1, this.f1);
        this.accept(h, this.f1, brk < target ? brk : target);
        if (cut) this.f0Valid = false; // the next step starts from the value after the edge
        this.stim.edgeT = NaN;
        this.ensureF0();
        this.afterStep();
      }
    }
  }

  /** Earliest refractory end or stimulus edge in (t, tEnd], else tEnd; stim.edgeT is the edge it ends on. */
  private nextBreak(t: number, tEnd: number): number {
    return this.stim.nextEdge(t, this.events.refractoryEnd(t, tEnd));
  }

  /** Accepts the step to (t+h, y1, f1) unless a neuron crosses threshold inside it. */
  private accept(h: number, f1: Float64Array, exactT?: number): void {
    const t = this.t;
    const first = this.events.firstCrossing(t, h, this.y, this.y1, this.f0, f1);
    this.stats.steps++;
    if (first < 0) {
      this.events.detectSwitching(t, exactT ?? t + h, this.y, this.y1);
      const jumped = this.events.redraw(this.y, this.y1, exactT ?? t + h);
      this.t = exactT ?? t + h;
      this.y.set(this.y1);
      this.f0.set(f1);
      if (jumped) this.f0Valid = false; // f1 was taken before the redrawn states
      return;
    }
    // re-integrate to the crossing, reset, continue from there
    const tc = this.events.crossing;
    const hc = tc - t;
    if (hc > 0) {
      if (this.method === 'adaptive') this.integ.dpStep(t, this.y, this.f0, hc, this.y1);
      else this.integ.fixedStep(t, this.y, this.f0, hc, this.y1);
      this.integ.clampStates(this.y1);
      this.events.redraw(this.y, this.y1, tc);
      this.y.set(this.y1);
    }
    this.events.fire(first, tc, this.y);
    this.t = tc;
    this.f0Valid = false;
    this.ensureF0();
  }

  /**
   * After an accepted step (node voltages of the new point in this.V): current spike detectors, and the
   * compliance of limited resistors (mna.ts, updateCompliance).
   */
  private afterStep(): void {
    this.events.detectCurrents(this.t, this.currentAt);
    if (this.mna.updateCompliance()) {
      this.f0Valid = false;
      this.ensureF0();
    }
  }

  /** Spike events since the last call, in time order. */
  takeEvents(): TwinEvent[] {
    return this.events.take();
  }

  // ------------------------------------------------------------------------------------------- reading
  get outputs(): Probe[] {
    return this.probeList;
  }

  /** Node voltage (V) at the current time. */
  voltage(node: string): number {
    this.ensureF0();
    const i = this.top.nodeIdx.get(node);
    if (i === undefined) throw new TwinError('TWIN_BAD_PROBE', `unknown node ${node}`);
    return this.V[i];
  }

  /** Reads a probe at the current time (V, A or state). */
  read(p: Probe): number {
    this.ensureF0();
    return this.probes.read(p, this.t, this.y, this.f0);
  }

  /** Approximate bytes held by the simulator's typed arrays (solver included). */
  get bytes(): number {
    const top = this.top;
    const ta = [top.brA, top.brB, top.brG, top.brEdge, top.algBranches, top.dynBranches, this.y, this.f0, this.integ.ytmp, this.y1, this.f1, this.V, ...this.integ.k];
    let b = ta.reduce((s, a) => s + a.byteLength, 0) + (this.mna.sys?.bytes ?? 0);
    b += top.devs.length * 64; // DeviceInfo objects (shared params)
    return b;
  }

  get solverStats() {
    return this.mna.solverStats;
  }
}
