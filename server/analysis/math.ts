/**
 * Numerical helpers shared by the analyses: special functions (log-gamma, erfc, the normal CDF, the Hurwitz
 * zeta function and its derivatives in s), descriptive statistics and a Nelder-Mead minimiser. Pure: no I/O,
 * no clocks, no globals; every random draw comes from an `Rng` (common/random.ts) the caller seeds.
 */
import { Matrix, inverse, solve } from 'ml-matrix';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Complementary error function erfc(x) (Chebyshev expansion as in Numerical Recipes 3rd ed. §6.2.2; ~1e-16 relative). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  const cof = [
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
    1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
    -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
    3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
  ];
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j];
    dd = tmp;
  }
  const r = t * Math.exp(-z * z + 0.5 * (cof[0] + ty * d) - dd);
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(x). */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** ln Φ(x), accurate in the far lower tail. */
export function logNormCdf(x: number): number {
  if (x > -30) return Math.log(normCdf(x));
  // Asymptotic: Φ(x) ≈ φ(x)/|x| (1 - 1/x² + 3/x⁴)
  const x2 = x * x;
  return -0.5 * x2 - Math.log(-x) - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - 1 / x2 + 3 / (x2 * x2));
}

/** Upper tail of χ² with one degree of freedom: P(χ²₁ > x) = erfc(√(x/2)). */
export function chi2Sf1(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

// Bernoulli numbers B_2j / (2j)! for the Euler-Maclaurin tail of the Hurwitz zeta function.
const B2J_OVER_FACT = [
  1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000, 1 / 74724249600,
  -3617 / 10670622842880000, 43867 / 5109094217170944000,
];

/** Shift so that q + N >= this before applying Euler-Maclaurin; 9 Bernoulli terms then give ~1e-15. */
const EM_SHIFT = 12;

/**
 * Hurwitz zeta ζ(s, q) = Σ_{k>=0} (q + k)^(-s), for s > 1, q > 0, by Euler-Maclaurin summation
 * (direct sum up to q + N >= 12, then the integral, half-term and Bernoulli corrections).
 */
export function hurwitz(s: number, q: number): number {
  let sum = 0;
  let a = q;
  while (a < EM_SHIFT) {
    sum += Math.pow(a, -s);
    a += 1;
  }
  const la = Math.log(a);
  const as = Math.exp(-s * la); // a^-s
  sum += (a * as) / (s - 1) + 0.5 * as;
  // Bernoulli terms: Σ_j B_2j/(2j)! · s(s+1)...(s+2j-2) · a^(-s-2j+1)
  let poch = s; // s(s+1)...(s+2j-2), j = 1
  let pw = as / a; // a^(-s-1)
  const inv2 = 1 / (a * a);
  for (let j = 0; j < B2J_OVER_FACT.length; j++) {
    const term = B2J_OVER_FACT[j] * poch * pw;
    sum += term;
    if (Math.abs(term) < 1e-17 * sum) break;
    poch *= (s + 2 * j + 1) * (s + 2 * j + 2);
    pw *= inv2;
  }
  return sum;
}

/**
 * ζ(s, q) and its first two derivatives in s: [ζ, ∂ζ/∂s, ∂²ζ/∂s²] (s > 1, q > 0), by Euler-Maclaurin with
 * each term differentiated analytically. ∂ζ/∂s = -Σ ln(q+k) (q+k)^(-s).
 */
export function hurwitzJet(s: number, q: number): [number, number, number] {
  let f = 0;
  let f1 = 0;
  let f2 = 0;
  let a = q;
  while (a < EM_SHIFT) {
    const l = Math.log(a);
    const p = Math.exp(-s * l);
    f += p;
    f1 -= l * p;
    f2 += l * l * p;
    a += 1;
  }
  const L = Math.log(a);
  const as = Math.exp(-s * L);
  // Integral term g(s) = a^(1-s)/(s-1)
  {
    const e = a * as; // a^(1-s)
    const u = 1 / (s - 1);
    // g = e u; g' = -L e u - e u²; g'' = L² e u + 2 L e u² + 2 e u³
    f += e * u;
    f1 += -L * e * u - e * u * u;
    f2 += L * L * e * u + 2 * L * e * u * u + 2 * e * u * u * u;
  }
  // Half term a^-s / 2
  f += 0.5 * as;
  f1 += -0.5 * L * as;
  f2 += 0.5 * L * L * as;
  // Bernoulli terms c_j P_j(s) a^(-s-2j+1), P_j(s) = Π_{i=0}^{2j-2} (s+i); track P, P', P'' as a jet.
  let P = s;
  let P1 = 1;
  let P2 = 0;
  let pw = as / a;
  const inv2 = 1 / (a * a);
  for (let j = 0; j < B2J_OVER_FACT.length; j++) {
    const c = B2J_OVER_FACT[j];
    // term = c P(s) E(s), E = a^(-s-m): E' = -L E, E'' = L² E
    f += c * P * pw;
    f1 += c * (P1 - L * P) * pw;
    f2 += c * (P2 - 2 * L * P1 + L * L * P) * pw;
    // P *= (s + 2j + 1)(s + 2j + 2)
    for (const k of [2 * j + 1, 2 * j + 2]) {
      const nP2 = P2 * (s + k) + 2 * P1;
      const nP1 = P1 * (s + k) + P;
      P = P * (s + k);
      P1 = nP1;
      P2 = nP2;
    }
    pw *= inv2;
  }
  return [f, f1, f2];
}

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length ? s / x.length : NaN;
}

/** Sample variance (n - 1 denominator). */
export function variance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return s / (n - 1);
}

/** Quantile (linear interpolation between order statistics, type 7) of an ascending-sorted array. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function median(x: ArrayLike<number>): number {
  return quantileSorted(Float64Array.from(x).sort(), 0.5);
}

/**
 * Ordinary least squares line y = a + b x (ml-matrix: QR least squares on the design matrix [1 x]); returns
 * intercept, slope, the slope's standard error sqrt(σ² (XᵀX)⁻¹₁₁) with σ² = RSS / (n − 2), and R².
 */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>): { intercept: number; slope: number; slopeSe: number; r2: number } {
  const n = x.length;
  const X = new Matrix(n, 2);
  for (let i = 0; i < n; i++) {
    X.set(i, 0, 1);
    X.set(i, 1, x[i]);
  }
  const Y = Matrix.columnVector(Array.from(y));
  const beta = solve(X, Y);
  const intercept = beta.get(0, 0);
  const slope = beta.get(1, 0);
  const my = mean(y);
  let rss = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    rss += (y[i] - intercept - slope * x[i]) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const slopeSe = n > 2 ? Math.sqrt((rss / (n - 2)) * inverse(X.transpose().mmul(X)).get(1, 1)) : NaN;
  return { intercept, slope, slopeSe, r2: syy > 0 ? 1 - rss / syy : 1 };
}

/**
 * Nelder-Mead simplex minimiser (Nelder and Mead 1965; standard coefficients 1, 2, 0.5, 0.5).
 * Returns the best point and value; stops when the simplex values agree within `tol` or after `maxIter`.
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: number[],
  opts: { step?: number[]; tol?: number; maxIter?: number } = {},
): { x: number[]; value: number } {
  const n = x0.length;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 400 * n;
  const simplex: number[][] = [x0.slice()];
  for (let i = 0; i < n; i++) {
    const p = x0.slice();
    p[i] += opts.step?.[i] ?? (p[i] !== 0 ? 0.1 * Math.abs(p[i]) : 0.1);
    simplex.push(p);
  }
  const safe = (x: number[]) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let values = simplex.map(safe);
  for (let iter = 0; iter < maxIter; iter++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
    const s = order.map((i) => simplex[i]);
    const v = order.map((i) => values[i]);
    simplex.splice(0, simplex.length, ...s);
    values = v;
    if (Math.abs(values[n] - values[0]) <= tol * (Math.abs(values[0]) + tol)) break;
    const centroid = new Array(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i][j] / n;
    const worst = simplex[n];
    const at = (t: number) => centroid.map((c, j) => c + t * (worst[j] - c));
    const xr = at(-1);
    const fr = safe(xr);
    if (fr < values[0]) {
      const xe = at(-2);
      const fe = safe(xe);
      if (fe < fr) {
        simplex[n] = xe;
        values[n] = fe;
      } else {
        simplex[n] = xr;
        values[n] = fr;
      }
    } else if (fr < values[n - 1]) {
      simplex[n] = xr;
      values[n] = fr;
    } else {
      const xc = fr < values[n] ? at(-0.5) : at(0.5);
      const fc = safe(xc);
      if (fc < Math.min(fr, values[n])) {
        simplex[n] = xc;
        values[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i].map((x, j) => simplex[0][j] + 0.5 * (x - simplex[0][j]));
          values[i] = safe(simplex[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= n; i++) if (values[i] < values[best]) best = i;
  return { x: simplex[best], value: values[best] };
}
