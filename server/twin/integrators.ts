/**
 * Time integrators of the twin's state y = [dynamic node voltages, device states]: forward Euler (the state
 * clamp fused into the step), classic RK4, Dormand–Prince 5(4) with an error estimate (Dormand & Prince,
 * J. Comput. Appl. Math. 6, 19 (1980); step-size control as in Hairer, Nørsett & Wanner, Solving ODEs I,
 * §II.4), and the implicit method's step (device states by forward Euler, node voltages by the
 * backward-Euler companion solve of mna.ts). Device states are kept inside their bounds. Pure computation.
 */
import type { Topology } from './compile.ts';
import type { Mna } from './mna.ts';

export type Method = 'rk4' | 'euler' | 'adaptive' | 'implicit';


export const DP_C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
export const DP_A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
];
export const DP_B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
// error weights b5 - b4 (7 stages, the last is FSAL)
export const DP_E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];


/** Step size after a rejected Dormand–Prince step with error norm err > 1. */
export const shrinkStep = (h: number, err: number): number => h * Math.max(0.2, 0.9 * Math.pow(err, -0.2));
/** Proposed next step size after an accepted one. */
export const growStep = (h: number, err: number): number => h * Math.min(5, Math.max(0.2, 0.9 * Math.pow(Math.max(err, 1e-10), -0.2)));

export class Integrator {
  /** stage derivatives; k[6] holds f(t+h, y1) after a Dormand–Prince step */
  readonly k: Float64Array[];
  readonly ytmp: Float64Array;
  private readonly nd: number;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(
    top: Topology,
    private readonly mna: Mna,
    readonly method: Method,
    private readonly rtol: number,
    private readonly atol: number,
  ) {
    const ny = top.nDyn + top.nStates;
    this.nd = top.nDyn;
    this.lo = top.devLo;
    this.hi = top.devHi;
    this.k = Array.from({ length: 7 }, () => new Float64Array(ny));
    this.ytmp = new Float64Array(ny);
  }

  /** Device states back inside their bounds. */
  clampStates(y: Float64Array): void {
    const nd = this.nd, lo = this.lo, hi = this.hi;
    for (let d = 0, n = lo.length; d < n; d++) {
      const x = y[nd + d];
      if (x > hi[d]) y[nd + d] = hi[d];
      else if (x < lo[d]) y[nd + d] = lo[d];
    }
  }

  /** One step of the fixed-step method (euler or rk4) from (t, y, f0) to y1 (no error estimate). */
  fixedStep(t: number, y: Float64Array, f0: Float64Array, h: number, y1: Float64Array): void {
    const n = y.length;
    if (this.method === 'euler') {
      // the step and the state clamp in one pass
      const nd = this.nd, lo = this.lo, hi = this.hi;
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
    const mna = this.mna;
    for (let i = 0; i < n; i++) yt[i] = y[i] + 0.5 * h * f0[i];
    mna.evaluate(t + 0.5 * h, yt, k2);
    for (let i = 0; i < n; i++) yt[i] = y[i] + 0.5 * h * k2[i];
    mna.evaluate(t + 0.5 * h, yt, k3);
    for (let i = 0; i < n; i++) yt[i] = y[i] + h * k3[i];
    mna.evaluate(t + h, yt, k4);
    for (let i = 0; i < n; i++) y1[i] = y[i] + (h / 6) * (f0[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }

  /** Dormand–Prince 5(4) step; returns the scaled error norm; k[6] holds f(t+h, y1). */
  dpStep(t: number, y: Float64Array, f0: Float64Array, h: number, y1: Float64Array): number {
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
      this.mna.evaluate(t + DP_C[s] * h, yt, stages[s]);
    }
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < 6; j++) acc += DP_B[j] * stages[j][i];
      y1[i] = y[i] + h * acc;
    }
    this.clampStates(y1);
    this.mna.evaluate(t + h, y1, k[6]);
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

  /**
   * Implicit method, one step of length h to t1: device states by forward Euler from f0 (in place in y),
   * then the node voltages by the companion solve at t1 with the new states (this.mna.V).
   */
  implicitStep(t1: number, h: number, y: Float64Array, f0: Float64Array): void {
    for (let i = 0; i < y.length; i++) y[i] += h * f0[i];
    this.clampStates(y);
    this.mna.Vold.set(this.mna.V);
    this.mna.solveCompanion(t1, h, y);
  }
}
