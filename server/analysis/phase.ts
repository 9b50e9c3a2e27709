/**
 * Phase of one unit's spikes in another unit's cycle (e.g. the anti-phase locking of a two-unit CPG).
 *
 * Each spike of B at time t with A's spikes a_k <= t < a_{k+1} has the phase φ = (t − a_k)/(a_{k+1} − a_k)
 * in [0, 1) (the linear phase between reference events; Pikovsky, Rosenblum, Kurths, "Synchronization",
 * 2001, §3.2). Circular statistics of θ = 2πφ (Mardia and Jupp, "Directional Statistics", 2000):
 * mean resultant R = |⟨e^{iθ}⟩| (the vector strength, Goldberg and Brown 1969), mean phase arg⟨e^{iθ}⟩/2π,
 * circular standard deviation √(−2 ln R)/2π (cycles).
 *
 * Transient: two units often start in phase and lock only later. The locked phase is the circular mean of
 * the second half of the phases; the locking time is the time of the first B spike from which every phase
 * stays within `tolerance` cycles of it (default: the larger of 0.05 and 3 circular SDs of the second half).
 * The statistics are over the phases from the locking on. No such spike (the phases keep drifting) means
 * no locking: the statistics are over all phases and a warning says so.
 */

export interface PhaseResult {
  /** Each phase (cycles, [0, 1)) and the time of its B spike, s. */
  phases: Float64Array;
  times: Float64Array;
  /** Circular mean phase of the locked part, cycles in [0, 1). */
  meanPhase: number;
  /** Circular standard deviation, cycles. */
  circularSd: number;
  /** Mean resultant length R in [0, 1]. */
  vectorStrength: number;
  /** Time of the first locked phase, s (NaN when the phases never lock). */
  lockingTimeS: number;
  /** Phases used for the statistics (after locking) and in all. */
  nLocked: number;
  n: number;
  tolerance: number;
  warnings: string[];
}

/** Circular mean (cycles, [0, 1)) and mean resultant length of phases in cycles. */
export function circularMean(phases: ArrayLike<number>, from = 0, to = phases.length): { mean: number; r: number } {
  let c = 0;
  let s = 0;
  for (let i = from; i < to; i++) {
    c += Math.cos(2 * Math.PI * phases[i]);
    s += Math.sin(2 * Math.PI * phases[i]);
  }
  const n = to - from;
  if (n <= 0) return { mean: NaN, r: NaN };
  const mean = Math.atan2(s, c) / (2 * Math.PI);
  return { mean: mean - Math.floor(mean), r: Math.hypot(c, s) / n };
}

/** Shortest distance between two phases on the circle, cycles in [0, 0.5]. */
function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 1;
  return Math.min(d, 1 - d);
}

const circularSd = (r: number) => (r > 0 ? Math.sqrt(-2 * Math.log(Math.min(1, r))) / (2 * Math.PI) : Infinity);

/** Phase of B's spikes in A's cycle (times in s, ascending). Throws RangeError with fewer than 2 A spikes. */
export function spikePhases(a: ArrayLike<number>, b: ArrayLike<number>, opts: { tolerance?: number } = {}): PhaseResult {
  if (a.length < 2) throw new RangeError(`the reference unit has ${a.length} spike(s); a cycle needs at least 2`);
  const phases: number[] = [];
  const times: number[] = [];
  let k = 0;
  for (let j = 0; j < b.length; j++) {
    const t = b[j];
    if (t < a[0] || t >= a[a.length - 1]) continue;
    while (k + 1 < a.length && a[k + 1] <= t) k++;
    const period = a[k + 1] - a[k];
    if (period > 0) {
      phases.push((t - a[k]) / period);
      times.push(t);
    }
  }
  const n = phases.length;
  const warnings: string[] = [];
  if (n === 0) throw new RangeError('no spike of the second unit falls inside a cycle of the reference unit');
  const late = circularMean(phases, Math.floor(n / 2));
  const tolerance = opts.tolerance ?? Math.max(0.05, 3 * circularSd(late.r));
  let lock = n;
  while (lock > 0 && circularDistance(phases[lock - 1], late.mean) <= tolerance) lock--;
  const locked = lock < n && n - lock >= Math.min(n, 3) && tolerance < 0.25;
  const from = locked ? lock : 0;
  if (!locked) warnings.push('the phases do not lock: statistics over all phases');
  if (n - from < 10) warnings.push(`only ${n - from} phases after locking; fewer than 10 give a rough circular mean`);
  const m = circularMean(phases, from);
  return {
    phases: Float64Array.from(phases),
    times: Float64Array.from(times),
    meanPhase: m.mean,
    circularSd: circularSd(m.r),
    vectorStrength: m.r,
    lockingTimeS: locked ? times[lock] : NaN,
    nLocked: n - from,
    n,
    tolerance,
    warnings,
  };
}
