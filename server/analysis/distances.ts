/**
 * Spike-train distances and synchrony measures. Spike times in seconds, ascending; results dimensionless
 * unless stated.
 *
 * - ISI-distance: Kreuz, Haas, Morelli, Abarbanel, Politi, J. Neurosci. Methods 165, 151 (2007).
 * - SPIKE-distance: Kreuz, Chicharro, Houghton, Andrzejak, Mormann, J. Neurophysiol. 109, 1457 (2013).
 * - SPIKE-synchronization: Kreuz, Mulansky, Bozanic, J. Neurophysiol. 113, 3432 (2015).
 * - van Rossum distance: van Rossum, Neural Comput. 13, 751 (2001).
 * - Victor-Purpura distance: Victor and Purpura, J. Neurophysiol. 76, 1310 (1996).
 * - Coincidence factor Γ: Kistler, Gerstner, van Hemmen, Neural Comput. 9, 1015 (1997); Jolivet et al.,
 *   J. Neurosci. Methods 169, 417 (2008).
 *
 * Edge convention of the ISI- and SPIKE-distance: that of SPIKY and PySpike (Kreuz et al. 2015; Mulansky
 * and Kreuz, SoftwareX 5, 36 (2016)), so results can be checked against those tools. The interval before
 * the first spike and after the last one has the length max(distance to the window edge, neighbouring
 * ISI) (just the distance to the edge for a one-spike train); in those edge intervals the SPIKE
 * dissimilarity S_n is the Δt of the adjacent spike; Δt of a spike is measured to the nearest spike of the
 * other train or to its auxiliary edge spikes, placed at min(tStart, 2 t_1 - t_2) and
 * max(tEnd, 2 t_M - t_{M-1}). A spike exactly at tStart or tEnd is a real spike (no edge interval there).
 * An empty train has one interval, the window, with S_n = 0. Spikes outside [tStart, tEnd] are ignored.
 * SPIKE-synchronization measures edge ISIs to the window edges.
 */

export type Train = ArrayLike<number>;

/** Spikes of `t` inside [t0, t1], with auxiliary spikes at t0 and t1 (used by SPIKE-synchronization). */
function augment(t: Train, t0: number, t1: number): Float64Array {
  const out: number[] = [t0];
  for (let i = 0; i < t.length; i++) {
    const x = t[i];
    if (x > t0 && x < t1) out.push(x);
  }
  out.push(t1);
  return Float64Array.from(out);
}

function checkWindow(t0: number, t1: number): void {
  if (!(t1 > t0)) throw new RangeError(`tEnd (${t1}) must be greater than tStart (${t0})`);
}

/** A train prepared for the ISI- and SPIKE-distance (see the edge convention above). */
interface Prepared {
  /** Real spikes in [t0, t1]. */
  r: Float64Array;
  /** Interval breakpoints: t0 (unless a spike sits there), the spikes, t1 (unless a spike sits there). */
  b: Float64Array;
  /** Length used as the ISI of each interval b[k]..b[k+1]. */
  x: Float64Array;
  /** First interval is an edge interval (before the first spike). */
  startEdge: boolean;
  /** Last interval is an edge interval (after the last spike). */
  endEdge: boolean;
  /** Auxiliary spikes and real spikes, for nearest-spike distances from the other train. */
  ext: Float64Array;
}

function prepare(t: Train, t0: number, t1: number): Prepared {
  const rr: number[] = [];
  for (let i = 0; i < t.length; i++) if (t[i] >= t0 && t[i] <= t1) rr.push(t[i]);
  rr.sort((p, q) => p - q);
  const r = Float64Array.from(rr);
  const m = r.length;
  if (m === 0) return { r, b: Float64Array.of(t0, t1), x: Float64Array.of(t1 - t0), startEdge: false, endEdge: false, ext: Float64Array.of(t0, t1) };
  const startEdge = r[0] > t0;
  const endEdge = r[m - 1] < t1;
  const b = Float64Array.from([...(startEdge ? [t0] : []), ...r, ...(endEdge ? [t1] : [])]);
  const x = new Float64Array(b.length - 1);
  for (let k = 0; k < x.length; k++) x[k] = b[k + 1] - b[k];
  if (startEdge) x[0] = m > 1 ? Math.max(r[0] - t0, r[1] - r[0]) : r[0] - t0;
  if (endEdge) x[x.length - 1] = m > 1 ? Math.max(t1 - r[m - 1], r[m - 1] - r[m - 2]) : t1 - r[m - 1];
  const a0 = m > 1 ? Math.min(t0, 2 * r[0] - r[1]) : t0;
  const a1 = m > 1 ? Math.max(t1, 2 * r[m - 1] - r[m - 2]) : t1;
  return { r, b, x, startEdge, endEdge, ext: Float64Array.from([a0, ...r, a1]) };
}

/**
 * ISI-distance D_I = (1/T) ∫ I(t) dt with I(t) = |x1(t) - x2(t)| / max(x1(t), x2(t)), x_n(t) the
 * inter-spike interval of train n that contains t (Kreuz et al. 2007). 0 for identical trains, < 1.
 */
export function isiDistance(a: Train, b: Train, t0: number, t1: number): number {
  checkWindow(t0, t1);
  return isiPrepared(prepare(a, t0, t1), prepare(b, t0, t1), t0, t1);
}

function isiPrepared(p1: Prepared, p2: Prepared, t0: number, t1: number): number {
  const b1 = p1.b;
  const b2 = p2.b;
  let i = 0;
  let j = 0;
  let last = t0;
  let acc = 0;
  while (i < p1.x.length && j < p2.x.length) {
    const x1 = p1.x[i];
    const x2 = p2.x[j];
    const next = Math.min(b1[i + 1], b2[j + 1]);
    const mx = Math.max(x1, x2);
    if (mx > 0) acc += (Math.abs(x1 - x2) / mx) * (next - last);
    last = next;
    if (b1[i + 1] === next) i++;
    if (b2[j + 1] === next) j++;
  }
  return acc / (t1 - t0);
}

/** For each spike of `s`, the distance to the nearest element of `o` (both ascending, o non-empty). */
function nearestDistances(s: Float64Array, o: Float64Array): Float64Array {
  const d = new Float64Array(s.length);
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i];
    while (j + 1 < o.length && o[j + 1] <= x) j++;
    let best = Math.abs(x - o[j]);
    if (j + 1 < o.length) best = Math.min(best, Math.abs(o[j + 1] - x));
    d[i] = best;
  }
  return d;
}

/**
 * SPIKE-distance D_S = (1/T) ∫ S(t) dt (Kreuz et al. 2013, eqs. 3-6):
 *   S_n(t) = (Δt_P^(n) x_F^(n)(t) + Δt_F^(n) x_P^(n)(t)) / x_ISI^(n)(t),
 *   S(t)   = (S_1 x_ISI^(2) + S_2 x_ISI^(1)) / (2 ⟨x_ISI⟩²),
 * where Δt_P/F are the distances of the previous/following spike of train n to the nearest spike of the
 * other train, x_P/F the time since the previous / until the following spike. S(t) is linear between
 * consecutive spikes of the merged trains, so the integral is exact. 0 for identical trains, <= 1.
 */
export function spikeDistance(a: Train, b: Train, t0: number, t1: number): number {
  checkWindow(t0, t1);
  return spikePrepared(prepare(a, t0, t1), prepare(b, t0, t1), t0, t1);
}

/** S_n on interval k of a prepared train as α + β t, written to out[o], out[o + 1]. */
function sLine(p: Prepared, D: Float64Array, k: number, out: Float64Array, o: number): void {
  const m = p.r.length;
  if (m === 0) {
    out[o] = 0;
    out[o + 1] = 0;
  } else if (p.startEdge && k === 0) {
    out[o] = D[0];
    out[o + 1] = 0;
  } else if (p.endEdge && k === p.x.length - 1) {
    out[o] = D[m - 1];
    out[o + 1] = 0;
  } else {
    const i = p.startEdge ? k - 1 : k; // interval between r[i] and r[i+1]
    const tp = p.r[i];
    const tf = p.r[i + 1];
    const x = tf - tp;
    out[o] = (D[i] * tf - D[i + 1] * tp) / x;
    out[o + 1] = (D[i + 1] - D[i]) / x;
  }
}

/** α, β of S_n on every interval of a train, for one pair (Δt depends on the other train). */
function sLines(p: Prepared, D: Float64Array): Float64Array {
  const out = new Float64Array(2 * p.x.length);
  for (let k = 0; k < p.x.length; k++) sLine(p, D, k, out, 2 * k);
  return out;
}

// The same merge over both trains' interval bounds as isiPrepared, written out again on purpose: the
// profile differs inside the loop, and a per-interval callback would slow this hot loop.
function spikePrepared(p1: Prepared, p2: Prepared, t0: number, t1: number): number {
  const L1 = sLines(p1, nearestDistances(p1.r, p2.ext));
  const L2 = sLines(p2, nearestDistances(p2.r, p1.ext));
  const b1 = p1.b;
  const b2 = p2.b;
  const X1 = p1.x;
  const X2 = p2.x;
  const n1 = X1.length;
  const n2 = X2.length;
  let i = 0;
  let j = 0;
  let last = t0;
  let acc = 0;
  let f1 = b1[1];
  let f2 = b2[1];
  for (;;) {
    const next = f1 < f2 ? f1 : f2;
    const x1 = X1[i];
    const x2 = X2[j];
    // S is linear on [last, next]: its mean is its value at the midpoint
    const mid = 0.5 * (last + next);
    const s1 = L1[2 * i] + L1[2 * i + 1] * mid;
    const s2 = L2[2 * j] + L2[2 * j + 1] * mid;
    const m = x1 + x2;
    acc += ((2 * (s1 * x2 + s2 * x1)) / (m * m)) * (next - last);
    last = next;
    if (f1 === next) {
      if (++i >= n1) break;
      f1 = b1[i + 1];
    }
    if (f2 === next) {
      if (++j >= n2) break;
      f2 = b2[j + 1];
    }
  }
  return acc / (t1 - t0);
}

/**
 * SPIKE-synchronization (Kreuz et al. 2015): each spike i of one train is coincident (C_i = 1) when the
 * nearest spike j of the other train is closer than τ_ij = min(ISIs around i and around j)/2 (edge ISIs
 * measured to the window edges); SYNC = Σ C / (M1 + M2), in [0, 1], 1 = every spike coincident. Two empty
 * trains give 1. This is a similarity: 1 - SYNC is the matching dissimilarity.
 */
export function spikeSync(a: Train, b: Train, t0: number, t1: number): number {
  checkWindow(t0, t1);
  const s1 = augment(a, t0, t1);
  const s2 = augment(b, t0, t1);
  const m1 = s1.length - 2;
  const m2 = s2.length - 2;
  if (m1 + m2 === 0) return 1;
  return (coincidences(s1, s2) + coincidences(s2, s1)) / (m1 + m2);
}

function coincidences(s: Float64Array, o: Float64Array): number {
  // real spikes are s[1..len-2]; o's real spikes o[1..len-2]
  const no = o.length - 2;
  if (no === 0) return 0;
  let c = 0;
  let j = 1;
  for (let i = 1; i < s.length - 1; i++) {
    const x = s[i];
    while (j + 1 <= no && o[j + 1] <= x) j++;
    let k = j;
    if (j + 1 <= no && Math.abs(o[j + 1] - x) < Math.abs(x - o[j])) k = j + 1;
    const tau = 0.5 * Math.min(x - s[i - 1], s[i + 1] - x, o[k] - o[k - 1], o[k + 1] - o[k]);
    if (Math.abs(x - o[k]) < tau) c++;
  }
  return c;
}

/** Σ_{i,j} exp(-|a_i - b_j|/τ) in O(n + m) for ascending trains (causal/anticausal running sums). */
function expKernelSum(a: Float64Array, b: Float64Array, tau: number): number {
  // pairs with b_j <= a_i, and pairs with b_j > a_i
  let total = 0;
  let acc = 0; // Σ_{b_j <= current} exp(-(current - b_j)/τ)
  let tLast = -Infinity;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    while (j < b.length && b[j] <= x) {
      acc = acc * Math.exp(-(b[j] - tLast) / tau) + 1;
      tLast = b[j];
      j++;
    }
    if (j > 0) total += acc * Math.exp(-(x - tLast) / tau);
  }
  acc = 0;
  tLast = Infinity;
  j = b.length - 1;
  for (let i = a.length - 1; i >= 0; i--) {
    const x = a[i];
    while (j >= 0 && b[j] > x) {
      acc = acc * Math.exp(-(tLast - b[j]) / tau) + 1;
      tLast = b[j];
      j--;
    }
    if (j < b.length - 1) total += acc * Math.exp(-(tLast - x) / tau);
  }
  return total;
}

function window(t: Train, t0: number, t1: number): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) if (t[i] >= t0 && t[i] <= t1) out.push(t[i]);
  return Float64Array.from(out);
}

/**
 * van Rossum distance with the causal exponential kernel e^{-t/τ} (τ in s), normalised as in van Rossum
 * (2001): D² = (1/τ) ∫ (f(t) - g(t))² dt over all time, in closed form
 * D² = ½ [Σ e^{-|a_i-a_j|/τ} + Σ e^{-|b_i-b_j|/τ} - 2 Σ e^{-|a_i-b_j|/τ}]. One spike vs none: D = √½.
 * Spikes outside [t0, t1] are dropped first.
 */
export function vanRossum(a: Train, b: Train, tau: number, t0 = -Infinity, t1 = Infinity): number {
  if (!(tau > 0)) throw new RangeError('van Rossum tau must be > 0 s');
  const x = window(a, t0, t1);
  const y = window(b, t0, t1);
  const d2 = 0.5 * (expKernelSum(x, x, tau) + expKernelSum(y, y, tau) - 2 * expKernelSum(x, y, tau));
  return Math.sqrt(Math.max(0, d2));
}

/**
 * Victor-Purpura distance D^spike[q] (q in 1/s): minimum cost of turning one train into the other with
 * insertions and deletions (cost 1) and shifts (cost q |Δt|); dynamic programming, O(n m).
 */
/**
 * Spike pairs (n × m, summed over train pairs) one request may ask Victor–Purpura's O(n m) dynamic programme
 * for: 5e7 took 1.7 s on a loaded 2-core machine (docs/security.md).
 */
export const MAX_PAIR_WORK = 1e8;
/**
 * Spike pairs `compare` may give Victor–Purpura for its one pair of trains (a measured run and its twin, on the
 * pool): 9e8 took 2.5 s on a quiet 2-core machine, so two 10-minute trains at 20 Hz (1.4e8, 0.4 s) are within it.
 */
export const MAX_COMPARE_PAIR_WORK = 1e9;

export function victorPurpura(a: Train, b: Train, q: number, t0 = -Infinity, t1 = Infinity): number {
  if (!(q >= 0)) throw new RangeError('Victor-Purpura q must be >= 0 (1/s)');
  const x = window(a, t0, t1);
  const y = window(b, t0, t1);
  const n = x.length;
  const m = y.length;
  let prev = new Float64Array(m + 1);
  let cur = new Float64Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + q * Math.abs(x[i - 1] - y[j - 1]));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[m];
}

/**
 * Coincidence factor Γ (Kistler, Gerstner, van Hemmen 1997; Jolivet et al. 2008) of a model train against
 * data, with coincidence window Δ (s) over a recording of length T = t1 - t0:
 *   Γ = (N_coinc - 2 ν Δ N_data) / (½ (N_data + N_model)) · 1 / (1 - 2 ν Δ),  ν = N_model / T.
 * N_coinc counts data spikes matched one-to-one (in time order) to a model spike within ±Δ.
 * 1 = perfect prediction, 0 = chance level; Γ <= 1 whenever 2νΔ < 1. When 2νΔ >= 1 the window holds a
 * chance coincidence for every spike (a kHz device with a 2 ms window) and Γ is undefined, as it is for
 * two empty trains: `gamma` is NaN and `reason` says why. `chance` = 2νΔ; above 0.5 a warning is given.
 */
export function coincidence(data: Train, model: Train, delta: number, t0: number, t1: number): { gamma: number; nCoinc: number; chance: number; reason: string | null; warning: string | null } {
  checkWindow(t0, t1);
  if (!(delta > 0)) throw new RangeError('coincidence window must be > 0 s');
  const d = window(data, t0, t1);
  const m = window(model, t0, t1);
  let nc = 0;
  let j = 0;
  for (let i = 0; i < d.length; i++) {
    while (j < m.length && m[j] < d[i] - delta) j++;
    if (j < m.length && Math.abs(m[j] - d[i]) <= delta) {
      nc++;
      j++;
    }
  }
  const nu = m.length / (t1 - t0);
  const chance = 2 * nu * delta;
  if (d.length + m.length === 0) return { gamma: NaN, nCoinc: 0, chance, reason: 'undefined: both trains are empty', warning: null };
  if (chance >= 1) {
    return {
      gamma: NaN,
      nCoinc: nc,
      chance,
      reason: `undefined: rate × window 2νΔ = ${+chance.toPrecision(3)} ≥ 1 (every spike has a chance coincidence); use a window below ${+(1 / (2 * nu)).toPrecision(3)} s`,
      warning: null,
    };
  }
  const gamma = (nc - chance * d.length) / (0.5 * (d.length + m.length)) / (1 - chance);
  const warning = chance > 0.5 ? `2νΔ = ${+chance.toPrecision(3)}: more than half of the window is chance coincidence, Γ has little resolution` : null;
  return { gamma, nCoinc: nc, chance, reason: null, warning };
}

/** Γ alone (NaN where `coincidence` gives a reason). */
export function coincidenceFactor(data: Train, model: Train, delta: number, t0: number, t1: number): number {
  return coincidence(data, model, delta, t0, t1).gamma;
}

export type DistanceMetric = 'isi' | 'spike' | 'spike-sync' | 'van-rossum' | 'victor-purpura';

export interface DistanceOptions {
  tStart: number;
  tEnd: number;
  /** van Rossum kernel time constant, s. */
  tau?: number;
  /** Victor-Purpura cost per second of shift, 1/s. */
  q?: number;
}

/**
 * All pairwise values of one metric: a symmetric matrix (diagonal 0 for distances, 1 for SPIKE-sync)
 * and the mean over pairs i < j.
 */
export function distanceMatrix(trains: Train[], metric: DistanceMetric, opts: DistanceOptions): { matrix: number[][]; mean: number; warnings: string[] } {
  const { tStart: t0, tEnd: t1 } = opts;
  checkWindow(t0, t1);
  const n = trains.length;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(metric === 'spike-sync' ? 1 : 0));
  const prep = metric === 'isi' || metric === 'spike' ? trains.map((t) => prepare(t, t0, t1)) : [];
  const empty = trains.map((t) => window(t, t0, t1).length === 0);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let v: number;
      switch (metric) {
        case 'isi':
          v = isiPrepared(prep[i], prep[j], t0, t1);
          break;
        case 'spike':
          v = spikePrepared(prep[i], prep[j], t0, t1);
          break;
        case 'spike-sync':
          v = spikeSync(trains[i], trains[j], t0, t1);
          break;
        case 'van-rossum':
          v = vanRossum(trains[i], trains[j], opts.tau ?? 0.01, t0, t1);
          break;
        case 'victor-purpura':
          v = victorPurpura(trains[i], trains[j], opts.q ?? 100, t0, t1);
          break;
        default:
          throw new RangeError(`unknown metric ${String(metric)}`);
      }
      if (empty[i] && empty[j]) v = NaN; // two empty trains: no spikes to compare, not a perfect match
      matrix[i][j] = matrix[j][i] = v;
      if (!Number.isNaN(v)) {
        sum += v;
        pairs++;
      }
    }
  }
  const warnings = empty.some(Boolean)
    ? [`train${empty.filter(Boolean).length > 1 ? 's' : ''} ${empty.flatMap((e, i) => (e ? [i + 1] : [])).join(', ')} empty in the window: distances between two empty trains are undefined (null)`]
    : [];
  return { matrix, mean: pairs ? sum / pairs : NaN, warnings };
}
