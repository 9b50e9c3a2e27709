/**
 * Events of the twin: threshold-and-reset neurons (the crossing located inside a step by the root of a
 * cubic Hermite interpolant, the refractory hold), the circuits' spike detectors (junction switching,
 * electrode current thresholds; circuit.ts, SpikeDetector), and the seeded redraws of stochastic switching
 * (models.ts, Redraw). Pure computation.
 */
import { Rng } from '../../common/random.ts';
import { TwinError, type Redraw } from './models.ts';
import type { SpikeDetector } from './circuit.ts';
import type { Topology } from './compile.ts';

export interface TwinEvent {
  kind: 'spike';
  /** Time of the threshold crossing in s (not snapped to the grid). */
  time: number;
  /** The neuron, the switching junction, or the electrode (voltage source) whose current crossed. */
  element: string;
  node: string;
}

/**
 * A device with stochastic switching (its x is device states[device]): its redrawn state's index there, its
 * draw count and the time of its next spontaneous redraw.
 */
interface RedrawDevice {
  device: number;
  state: number;
  rule: Redraw;
  count: number;
  next: number;
}

/**
 * Draw k of device `device` under `seed`: a generator seeded by a function of the three integers only
 * (counter-based), so a run's draws do not depend on how it is chunked, stepped or threaded. The counters
 * are mixed with the multipliers of splitmix32/murmur3's finaliser; the project's one generator (sfc32)
 * gives the draw: first the standard normal of the new value, then the exponential wait to the next
 * spontaneous redraw.
 */
export function switchingDraw(seed: number, device: number, k: number): Rng {
  let h = Math.imul((seed >>> 0) ^ 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ device, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ k, 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}

interface CurrentDetector {
  element: string;
  node: number;
  threshold: number;
  highpass: number;
  avg: number;
  last: number;
}

export class Events {
  /** End of each neuron's refractory period (-Infinity: none). */
  readonly refUntil: Float64Array;
  /** time of the crossing found by the last firstCrossing() */
  crossing = Infinity;
  /** switching detector: level per device (null: none); cascades merged within swMerge */
  private swLevel: Float64Array | null = null;
  private swMerge = 0;
  private swLast = -Infinity;
  private curDet: CurrentDetector[] = [];
  private lastStepStart = 0;
  /** Events since the last take(). */
  private list: TwinEvent[] = [];
  private readonly redraws: RedrawDevice[] = [];

  constructor(
    private readonly top: Topology,
    detectors: SpikeDetector[],
    /** Neurons held in refractory during the current step (steps never straddle a refractory end): read by mna.ts. */
    private readonly frozen: Uint8Array,
  ) {
    this.refUntil = new Float64Array(top.neurons.length).fill(-Infinity);
    for (const d of detectors) this.addDetector(d);
    top.devs.forEach((dv, device) => {
      const rule = dv.model.redraw?.(dv.p);
      if (rule) this.redraws.push({ device, state: dv.extraAt + dv.extra.findIndex((e) => e.name === rule.state), rule, count: 0, next: Infinity });
    });
  }

  // ------------------------------------------------------------------------------------------- stochastic switching
  get redrawing(): boolean {
    return this.redraws.length > 0;
  }

  /** The first draws (number 0 of each stream) into the initial state y at t = 0. */
  initialDraws(y: Float64Array): void {
    for (const r of this.redraws) this.draw(r, y, 0);
  }

  /** Draw number r.count of device r into y at time t, and the time of its next spontaneous redraw. */
  private draw(r: RedrawDevice, y: Float64Array, t: number): void {
    const rng = switchingDraw(r.rule.seed, r.device, r.count);
    y[this.top.nDyn + r.state] = r.rule.value(rng.normal());
    r.next = r.rule.every > 0 ? t + rng.exponential(1 / r.rule.every) : Infinity;
  }

  /**
   * After a step from y0 to y1 ending at t1: each device whose x fell through its level, or whose
   * spontaneous redraw fell due (at the end of the step that passes its time), gets its next draw (in y1);
   * true when any did.
   */
  redraw(y0: Float64Array, y1: Float64Array, t1: number): boolean {
    const nd = this.top.nDyn;
    let any = false;
    for (const r of this.redraws) {
      const L = r.rule.level;
      if (!(y0[nd + r.device] >= L && y1[nd + r.device] < L) && t1 < r.next) continue;
      r.count++;
      this.draw(r, y1, t1);
      any = true;
    }
    return any;
  }

  private addDetector(d: SpikeDetector): void {
    if (d.kind === 'switching') {
      const lv = d.level ?? 0.5;
      this.swLevel = Float64Array.from(this.top.devs, (dv) => dv.lo + lv * (dv.hi - dv.lo));
      this.swMerge = d.merge ?? 0;
      return;
    }
    const el = this.top.elements.get(`E${d.electrode}`);
    if (!el || el.type !== 'V') throw new TwinError('TWIN_BAD_CIRCUIT', `spike detector: no electrode E${d.electrode}`);
    this.curDet.push({ element: `E${d.electrode}`, node: el.index, threshold: d.threshold, highpass: d.highpass ?? 0, avg: NaN, last: NaN });
  }

  get switching(): boolean {
    return this.swLevel !== null;
  }

  // ------------------------------------------------------------------------------------------- neurons
  updateFrozen(t: number): void {
    for (let n = 0; n < this.frozen.length; n++) this.frozen[n] = t < this.refUntil[n] ? 1 : 0;
  }

  /** The earliest refractory end in (t, b), else b. */
  refractoryEnd(t: number, b: number): number {
    for (let n = 0; n < this.refUntil.length; n++) {
      const r = this.refUntil[n];
      if (r > t && r < b) b = r;
    }
    return b;
  }

  /**
   * The neuron that crosses its threshold first in the step (t, y, f0) → (t+h, y1, f1), or -1; its time
   * in this.crossing.
   */
  firstCrossing(t: number, h: number, y: Float64Array, y1: Float64Array, f0: Float64Array, f1: Float64Array): number {
    let first = -1;
    let tc = Infinity;
    const neurons = this.top.neurons;
    for (let n = 0; n < neurons.length; n++) {
      const nr = neurons[n];
      if (t < this.refUntil[n]) continue;
      const i = nr.slot;
      const v0 = y[i], v1 = y1[i];
      if (v0 < nr.vth && v1 >= nr.vth) {
        const s = hermiteRoot(v0 - nr.vth, f0[i] * h, v1 - nr.vth, f1[i] * h);
        const tn = t + s * h;
        if (tn < tc) ((tc = tn), (first = n));
      }
    }
    this.crossing = tc;
    return first;
  }

  /** Neuron n fires at tc: its node is reset in y and held for its refractory period. */
  fire(n: number, tc: number, y: Float64Array): void {
    const nr = this.top.neurons[n];
    y[nr.slot] = nr.vreset;
    this.refUntil[n] = nr.tref > 0 ? tc + nr.tref : -Infinity;
    this.list.push({ kind: 'spike', time: tc, element: nr.name, node: this.top.nodeNames[nr.node] });
  }

  // ------------------------------------------------------------------------------------------- detectors
  /** Switching events: device states rising through their level between (t0, y0) and (t1, y1), time interpolated. */
  detectSwitching(t0: number, t1: number, y0: Float64Array, y1: Float64Array): void {
    const level = this.swLevel;
    if (!level) return;
    const top = this.top;
    const nd = top.nDyn;
    let first = -1, tFirst = Infinity, tLast = -Infinity;
    for (let d = 0; d < top.nDev; d++) {
      const a = y0[nd + d], b = y1[nd + d], L = level[d];
      if (a < L && b >= L) {
        const t = t0 + ((L - a) / (b - a)) * (t1 - t0);
        if (this.swMerge > 0) {
          if (t < tFirst) ((tFirst = t), (first = d));
          if (t > tLast) tLast = t;
          continue;
        }
        const dv = top.devs[d];
        this.list.push({ kind: 'spike', time: t, element: dv.name, node: top.nodeNames[dv.a] });
      }
    }
    if (first < 0) return;
    // a switching within `merge` of the last one continues the cascade (no new network spike)
    const lastSw = this.swLast;
    this.swLast = tLast;
    if (tFirst - lastSw <= this.swMerge) return;
    const dv = top.devs[first];
    this.list.push({ kind: 'spike', time: tFirst, element: dv.name, node: top.nodeNames[dv.a] });
  }

  /**
   * After an accepted step ending at t: electrode currents (`current(node)`, at the new point) crossing
   * their detectors' thresholds, the time interpolated linearly inside the step.
   */
  detectCurrents(t: number, current: (node: number) => number): void {
    for (const d of this.curDet) {
      let i = current(d.node);
      if (d.highpass > 0) {
        // AC coupling: the current minus its moving average (exact exponential weight for the step length)
        const raw = i;
        i = Number.isNaN(d.avg) ? 0 : raw - d.avg;
        d.avg = Number.isNaN(d.avg) ? raw : d.avg + (raw - d.avg) * (1 - Math.exp(-(t - this.lastStepStart) / d.highpass));
      }
      const th = d.threshold, last = d.last;
      const crossed = th > 0 ? last < th && i >= th : last > th && i <= th;
      if (crossed && this.lastStepStart < t) {
        const s = (th - last) / (i - last);
        this.list.push({ kind: 'spike', time: this.lastStepStart + s * (t - this.lastStepStart), element: d.element, node: this.top.nodeNames[d.node] });
      }
      d.last = i;
    }
    this.lastStepStart = t;
  }

  /** Events since the last call, in time order. */
  take(): TwinEvent[] {
    const e = this.list;
    this.list = [];
    return e.length > 1 ? e.sort((p, q) => p.time - q.time) : e;
  }
}

/** First root in [0, 1] of the cubic Hermite through (0, p0, slope m0) and (1, p1, m1), p0 < 0 ≤ p1. */
export function hermiteRoot(p0: number, m0: number, p1: number, m1: number): number {
  const H = (s: number) => {
    const s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * m1;
  };
  // scan for the first sign change (the cubic may wiggle), then bisect
  let lo = 0, hi = 1;
  const N = 8;
  for (let k = 1; k <= N; k++) {
    if (H(k / N) >= 0) {
      lo = (k - 1) / N;
      hi = k / N;
      break;
    }
  }
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (H(mid) >= 0) hi = mid;
    else lo = mid;
  }
  return hi;
}
