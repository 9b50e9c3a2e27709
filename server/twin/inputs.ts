/**
 * Stimulus inputs of the twin (one per stimulus channel): a held constant, sampled values linearly
 * interpolated (like an ngspice PWL source), or exact constant pieces whose edges the integrator steps to.
 * Stimuli holds one twin's channels. Pure computation.
 */
import { TwinError } from './models.ts';

export interface Input {
  /** Value at t; `left`: the limit from the left at an edge (the piece that ends at t). */
  u(t: number, left?: boolean): number;
  du(t: number): number;
  /** Piecewise-constant inputs: the first edge after t (Infinity when none). */
  nextEdge?(t: number): number;
}
export class ConstInput implements Input {
  constructor(public value: number) {}
  u(): number {
    return this.value;
  }
  du(): number {
    return 0;
  }
}
/** Linear interpolation between samples (like an ngspice PWL source); held after the last sample. */
export class SampledInput implements Input {
  constructor(
    readonly samples: Float64Array,
    readonly sampleRate: number,
  ) {}
  u(t: number): number {
    const s = this.samples;
    const f = t * this.sampleRate;
    if (f <= 0) return s[0];
    const k = Math.floor(f);
    if (k >= s.length - 1) return s[s.length - 1];
    return s[k] + (f - k) * (s[k + 1] - s[k]);
  }
  du(t: number): number {
    const s = this.samples;
    const k = Math.floor(t * this.sampleRate * (1 + 1e-12));
    if (k < 0 || k >= s.length - 1) return 0;
    return (s[k + 1] - s[k]) * this.sampleRate;
  }
}

/**
 * Piecewise-constant input with exact edges (a DC step, square, pulse train, ladder, STDP pairing): value
 * values[k] on [times[k], times[k+1]), times[0] = 0, the last value held. The engine ends a step at every
 * edge and starts the next from the new value, so an edge is neither rounded to a sample nor smeared.
 */
export class PiecewiseInput implements Input {
  private k = 0;
  constructor(
    readonly times: Float64Array,
    readonly values: Float64Array,
  ) {
    if (times.length !== values.length || times.length === 0 || times[0] !== 0)
      throw new TwinError('TWIN_BAD_STIMULUS', 'piecewise stimulus: times and values of equal length, starting at t = 0');
    for (let i = 1; i < times.length; i++)
      if (!(times[i] > times[i - 1])) throw new TwinError('TWIN_BAD_STIMULUS', 'piecewise stimulus: times must increase');
  }
  /** Index of the piece containing t (right-continuous), from a cursor (accesses are mostly monotonic). */
  private piece(t: number): number {
    const T = this.times;
    let k = this.k;
    while (k > 0 && T[k] > t) k--;
    while (k + 1 < T.length && T[k + 1] <= t) k++;
    return (this.k = k);
  }
  u(t: number, left = false): number {
    const k = this.piece(t);
    return this.values[left && k > 0 && this.times[k] === t ? k - 1 : k];
  }
  du(): number {
    return 0;
  }
  nextEdge(t: number): number {
    const k = this.piece(t);
    return k + 1 < this.times.length ? this.times[k + 1] : Infinity;
  }
}

/**
 * The stimulus channels of one twin: one input each, their values (and slopes) at the time being
 * evaluated, and the input edge the current step ends on.
 */
export class Stimuli {
  readonly inputs: Input[];
  /** values and slopes of every channel at the last at() / slopes() call */
  readonly uv: Float64Array;
  readonly duv: Float64Array;
  /** An input edge the current step ends on (NaN: none): evaluations there take the value before it. */
  edgeT = NaN;

  constructor(
    channels: number,
    private readonly circuit: string,
  ) {
    this.inputs = Array.from({ length: channels }, () => new ConstInput(0));
    this.uv = new Float64Array(channels);
    this.duv = new Float64Array(channels);
  }

  set(channel: number, input: Input): void {
    if (!(Number.isInteger(channel) && channel >= 0 && channel < this.inputs.length))
      throw new TwinError('TWIN_BAD_STIMULUS', `stimulus channel ${channel} does not exist (circuit ${this.circuit} has ${this.inputs.length})`);
    this.inputs[channel] = input;
  }

  /** Stimulus values of every channel at t, in this.uv. */
  at(t: number): Float64Array {
    const uv = this.uv, ins = this.inputs;
    // a step ending on an edge lies wholly before it (its last stage may round past the edge)
    if (t >= this.edgeT) for (let c = 0; c < ins.length; c++) uv[c] = ins[c].u(this.edgeT, true);
    else for (let c = 0; c < ins.length; c++) uv[c] = ins[c].u(t);
    return uv;
  }

  /** Stimulus slopes at t in this.duv; false when all are 0. */
  slopes(t: number): boolean {
    const duv = this.duv, ins = this.inputs;
    let any = false;
    for (let c = 0; c < ins.length; c++) if ((duv[c] = ins[c].du(t)) !== 0) any = true;
    return any;
  }

  /** The earliest input edge in (t, b] (b when none); this.edgeT becomes that edge, else NaN. */
  nextEdge(t: number, b: number): number {
    this.edgeT = NaN;
    const ins = this.inputs;
    for (let c = 0; c < ins.length; c++) {
      const e = ins[c].nextEdge?.(t) ?? Infinity;
      if (e <= b) ((b = e), (this.edgeT = e));
    }
    return b;
  }
}
