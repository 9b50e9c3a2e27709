/**
 * Spectra: Welch's averaged periodogram (Welch, IEEE Trans. Audio Electroacoust. 15, 70 (1967)) with a
 * Hann window, 50 % overlap, mean removed per segment, one-sided density in unit²/Hz (so that
 * Σ psd · Δf = signal variance, as scipy.signal.welch(scaling='density')); dominant frequencies, band
 * power and oscillation detection on it. Goertzel-free harmonic power via the same PSD.
 */

/** In-place radix-2 complex FFT (length a power of two). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const ar = re[i + k + len / 2] * cr - im[i + k + len / 2] * ci;
        const ai = re[i + k + len / 2] * ci + im[i + k + len / 2] * cr;
        re[i + k + len / 2] = re[i + k] - ar;
        im[i + k + len / 2] = im[i + k] - ai;
        re[i + k] += ar;
        im[i + k] += ai;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

export interface Psd {
  freqs: Float64Array;
  psd: Float64Array;
  /** Frequency resolution, Hz. */
  df: number;
  segments: number;
}

/**
 * Welch PSD of `x` sampled at fs Hz; `segment` samples per segment (power of two, default the largest
 * power of two <= min(n, 4096)).
 */
export function welch(x: ArrayLike<number>, fs: number, opts: { segment?: number; overlap?: number } = {}): Psd {
  const n = x.length;
  if (!(fs > 0)) throw new RangeError('sample rate must be > 0 Hz');
  let L = opts.segment ?? 2 ** Math.floor(Math.log2(Math.min(n, 4096)));
  if (L < 2 || (L & (L - 1)) !== 0) throw new RangeError('segment length must be a power of two >= 2');
  if (L > n) throw new RangeError(`segment (${L}) longer than the signal (${n})`);
  const step = Math.max(1, Math.round(L * (1 - (opts.overlap ?? 0.5))));
  const w = new Float64Array(L);
  let wss = 0;
  for (let i = 0; i < L; i++) {
    w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / L); // periodic Hann, as scipy's default
    wss += w[i] * w[i];
  }
  const nf = L / 2 + 1;
  const acc = new Float64Array(nf);
  const re = new Float64Array(L);
  const im = new Float64Array(L);
  let segs = 0;
  for (let s = 0; s + L <= n; s += step) {
    let m = 0;
    for (let i = 0; i < L; i++) m += x[s + i];
    m /= L;
    for (let i = 0; i < L; i++) {
      re[i] = (x[s + i] - m) * w[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < nf; k++) acc[k] += re[k] * re[k] + im[k] * im[k];
    segs++;
  }
  const psd = new Float64Array(nf);
  const freqs = new Float64Array(nf);
  for (let k = 0; k < nf; k++) {
    const one = k === 0 || k === L / 2 ? 1 : 2;
    psd[k] = (one * acc[k]) / (segs * fs * wss);
    freqs[k] = (k * fs) / L;
  }
  return { freqs, psd, df: fs / L, segments: segs };
}

/** Power in [lo, hi] Hz: Σ psd · Δf over the bins whose centre lies in the band (unit²). */
export function bandPower(p: Psd, lo: number, hi: number): number {
  let s = 0;
  for (let k = 0; k < p.freqs.length; k++) if (p.freqs[k] >= lo && p.freqs[k] <= hi) s += p.psd[k];
  return s * p.df;
}

/** Local maxima of the PSD (excluding DC), strongest first, frequency refined by a parabola on log power. */
export function dominantFrequencies(p: Psd, count = 3): { frequency: number; power: number }[] {
  const out: { frequency: number; power: number }[] = [];
  const { psd, df } = p;
  for (let k = 1; k < psd.length - 1; k++) {
    if (psd[k] > psd[k - 1] && psd[k] >= psd[k + 1]) {
      const a = Math.log(psd[k - 1] || 1e-300);
      const b = Math.log(psd[k]);
      const c = Math.log(psd[k + 1] || 1e-300);
      const den = a - 2 * b + c;
      const dx = den !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
      out.push({ frequency: (k + dx) * df, power: psd[k] });
    }
  }
  return out.sort((x, y) => y.power - x.power).slice(0, count);
}

/**
 * Oscillation detection: the strongest PSD peak counts as an oscillation when it exceeds `ratio` (default
 * 10) times the median PSD over [f/2, 2f] with the peak's ±2 bins left out (ratio capped at 1e12 when that
 * median is 0). A spike train's strongest peak is often a harmonic (sharp spikes put more power at 2f than
 * at f), so the reported `frequency` is the fundamental: the lowest f_peak/k (k = 2..5, above 2 bins) where
 * the PSD has a local peak of at least 10 % of the strongest; `strongest` is the strongest peak itself.
 */
export function detectOscillation(p: Psd, ratio = 10): { oscillating: boolean; frequency: number; strongest: number; peakRatio: number } {
  const top = dominantFrequencies(p, 1)[0];
  if (!top) return { oscillating: false, frequency: NaN, strongest: NaN, peakRatio: NaN };
  const k0 = Math.round(top.frequency / p.df);
  const bg: number[] = [];
  for (let k = 1; k < p.psd.length; k++) {
    const f = p.freqs[k];
    if (f >= top.frequency / 2 && f <= top.frequency * 2 && Math.abs(k - k0) > 2) bg.push(p.psd[k]);
  }
  bg.sort((a, b) => a - b);
  const med = bg.length ? bg[Math.floor(bg.length / 2)] : 0;
  const peakRatio = med > 0 ? Math.min(1e12, top.power / med) : 1e12;
  return { oscillating: peakRatio >= ratio, frequency: fundamental(p, top.frequency, top.power), strongest: top.frequency, peakRatio };
}

/** The lowest sub-harmonic f/k (k = 5..2) of a peak at f where the PSD has a local peak >= 10 % of the peak's power; else f. */
function fundamental(p: Psd, f: number, power: number): number {
  for (let k = 5; k >= 2; k--) {
    const c = Math.round(f / k / p.df);
    if (c < 2) continue;
    let best = c;
    for (let j = c - 1; j <= c + 1; j++) if (j > 0 && j < p.psd.length - 1 && p.psd[j] > p.psd[best]) best = j;
    if (best > 0 && best < p.psd.length - 1 && p.psd[best] >= p.psd[best - 1] && p.psd[best] >= p.psd[best + 1] && p.psd[best] >= 0.1 * power) {
      const a = Math.log(p.psd[best - 1] || 1e-300);
      const b = Math.log(p.psd[best]);
      const d = Math.log(p.psd[best + 1] || 1e-300);
      const den = a - 2 * b + d;
      return (best + (den !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - d)) / den)) : 0)) * p.df;
    }
  }
  return f;
}

/**
 * Nonlinear response to a drive at f0 Hz: power at harmonics 2..nHarmonics (±1 bin each) relative to the
 * power at the fundamental, and the absolute harmonic power (unit²).
 */
export function harmonicPower(x: ArrayLike<number>, fs: number, f0: number, nHarmonics = 5, segment?: number): { fundamental: number; harmonics: number; ratio: number } {
  const p = welch(x, fs, { segment });
  const around = (f: number) => bandPower(p, f - p.df * 1.01, f + p.df * 1.01);
  const fundamental = around(f0);
  let harmonics = 0;
  for (let h = 2; h <= nHarmonics && h * f0 < fs / 2; h++) harmonics += around(h * f0);
  return { fundamental, harmonics, ratio: fundamental > 0 ? harmonics / fundamental : NaN };
}

/**
 * Spectral distance between two PSDs on the same frequency grid: RMS of 10 log10(P1/P2) in dB over
 * bins in [lo, hi] Hz where both are > 0.
 */
export function psdDistance(a: Psd, b: Psd, lo = 0, hi = Infinity): number {
  if (a.freqs.length !== b.freqs.length || Math.abs(a.df - b.df) > 1e-9 * a.df) {
    throw new RangeError('PSDs must share one frequency grid (same sample rate and segment length)');
  }
  let s = 0;
  let c = 0;
  for (let k = 1; k < a.psd.length; k++) {
    const f = a.freqs[k];
    if (f < lo || f > hi || !(a.psd[k] > 0) || !(b.psd[k] > 0)) continue;
    const d = 10 * Math.log10(a.psd[k] / b.psd[k]);
    s += d * d;
    c++;
  }
  return c ? Math.sqrt(s / c) : NaN;
}
