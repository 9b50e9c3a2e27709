/**
 * Measured vs simulated: waveform and exponent comparisons (the spike-train distances are in
 * distances.ts, the PSD distance in spectra.ts).
 * - NRMSE = sqrt(mean((m - s)²)) / (max(m) - min(m)) (normalised by the measured range; dimensionless).
 * - Pearson correlation r.
 * - Difference of two fitted exponents with a normal-approximation confidence interval
 *   Δ ± z · sqrt(se1² + se2²) (independent fits; z = 1.96 for 95 %) and its two-sided p-value.
 */
import { erfc } from './math.ts';

export function nrmse(measured: ArrayLike<number>, simulated: ArrayLike<number>): number {
  const n = Math.min(measured.length, simulated.length);
  if (n === 0) return NaN;
  let s = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    s += (measured[i] - simulated[i]) ** 2;
    lo = Math.min(lo, measured[i]);
    hi = Math.max(hi, measured[i]);
  }
  return Math.sqrt(s / n) / (hi - lo);
}

export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

export function exponentDifference(
  a: { alpha: number; alphaSe: number },
  b: { alpha: number; alphaSe: number },
  level = 0.95,
): { difference: number; se: number; ci: [number, number]; p: number } {
  const d = a.alpha - b.alpha;
  const se = Math.hypot(a.alphaSe, b.alphaSe);
  const z = normalQuantile(0.5 + level / 2);
  return { difference: d, se, ci: [d - z * se, d + z * se], p: se > 0 ? erfc(Math.abs(d) / se / Math.SQRT2) : NaN };
}

/** Inverse standard normal CDF (Acklam's rational approximation, refined by one Halley step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
