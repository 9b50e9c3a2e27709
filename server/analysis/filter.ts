/**
 * Zero-phase Butterworth band-pass: low- and high-pass biquads (bilinear transform, Bristow-Johnson
 * "Audio EQ cookbook" coefficients with the Butterworth Q values of a 4th-order section pair), applied
 * forwards and backwards (as scipy.signal.filtfilt), so spike timing is not shifted. Frequencies in Hz.
 */

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function lowpass(f: number, fs: number, q: number): Biquad {
  const w = (2 * Math.PI * f) / fs;
  const alpha = Math.sin(w) / (2 * q);
  const c = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
}

function highpass(f: number, fs: number, q: number): Biquad {
  const w = (2 * Math.PI * f) / fs;
  const alpha = Math.sin(w) / (2 * q);
  const c = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
}

function run(x: Float64Array, s: Biquad, reverse: boolean): void {
  const n = x.length;
  // start from steady state for the first sample's value (avoids an edge transient)
  const x0 = x[reverse ? n - 1 : 0];
  const dc = (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
  let x1 = x0;
  let x2 = x0;
  let y1 = dc * x0;
  let y2 = dc * x0;
  for (let k = 0; k < n; k++) {
    const i = reverse ? n - 1 - k : k;
    const xi = x[i];
    const y = s.b0 * xi + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
    x2 = x1;
    x1 = xi;
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

/** Butterworth Q values of the two second-order sections of a 4th-order filter. */
const Q4 = [0.5411961001461969, 1.3065629648763766];

/**
 * Band-pass `x` (sampled at fs Hz) between `low` and `high` Hz, 4th-order Butterworth each side, zero
 * phase. `low` = 0 skips the high-pass; `high` >= fs/2 skips the low-pass. Returns a new array.
 */
export function bandpass(x: ArrayLike<number>, fs: number, low: number, high: number): Float64Array {
  if (!(fs > 0)) throw new RangeError('sample rate must be > 0 Hz');
  if (low < 0 || !(high > low)) throw new RangeError(`band must satisfy 0 <= low < high (got ${low}, ${high})`);
  const y = Float64Array.from(x);
  const sections: Biquad[] = [];
  if (low > 0) for (const q of Q4) sections.push(highpass(low, fs, q));
  if (high < fs / 2) for (const q of Q4) sections.push(lowpass(high, fs, q));
  for (const s of sections) run(y, s, false);
  for (const s of sections) run(y, s, true);
  return y;
}
