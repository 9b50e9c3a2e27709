/**
 * Integrator constants and helpers of the twin's engine: the Dormand–Prince 5(4) tableau (Dormand &
 * Prince, J. Comput. Appl. Math. 6, 19 (1980)) and the root of a cubic Hermite interpolant (event times
 * inside a step). Pure computation.
 */

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
