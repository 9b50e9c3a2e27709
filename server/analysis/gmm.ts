/**
 * One-dimensional Gaussian mixture fitted by expectation-maximisation (Dempster, Laird, Rubin 1977), the
 * number of modes K in 1..maxK chosen by the Bayesian information criterion
 * BIC = -2 ln L + (3K - 1) ln n (Schwarz 1978). Used for multi-modal spike amplitudes, widths and ISIs
 * (fit log10 ISIs for intervals). Deterministic: initial means at the K quantiles of the data.
 */

export interface MixtureComponent {
  weight: number;
  mean: number;
  sd: number;
}

export interface MixtureFit {
  k: number;
  components: MixtureComponent[];
  logLik: number;
  bic: number;
  /** BIC of each K tried, index K-1. */
  bicByK: number[];
}

function emFit(x: Float64Array, k: number, maxIter: number): { comps: MixtureComponent[]; ll: number } {
  const n = x.length;
  const sorted = Float64Array.from(x).sort();
  let gm = 0;
  for (const v of x) gm += v;
  gm /= n;
  let gv = 0;
  for (const v of x) gv += (v - gm) ** 2;
  gv /= n;
  const floor = Math.max(gv * 1e-6, 1e-300);
  const comps: MixtureComponent[] = Array.from({ length: k }, (_, j) => ({
    weight: 1 / k,
    mean: sorted[Math.min(n - 1, Math.floor(((j + 0.5) / k) * n))],
    sd: Math.sqrt(gv) / k,
  }));
  const r = new Float64Array(n * k);
  let ll = -Infinity;
  for (let it = 0; it < maxIter; it++) {
    // E step (log-sum-exp per point)
    let newLl = 0;
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let j = 0; j < k; j++) {
        const c = comps[j];
        const z = (x[i] - c.mean) / c.sd;
        const lp = Math.log(c.weight) - Math.log(c.sd) - 0.5 * Math.log(2 * Math.PI) - 0.5 * z * z;
        r[i * k + j] = lp;
        if (lp > mx) mx = lp;
      }
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(r[i * k + j] - mx);
      const lse = mx + Math.log(s);
      newLl += lse;
      for (let j = 0; j < k; j++) r[i * k + j] = Math.exp(r[i * k + j] - lse);
    }
    // M step
    for (let j = 0; j < k; j++) {
      let w = 0;
      let m = 0;
      for (let i = 0; i < n; i++) {
        w += r[i * k + j];
        m += r[i * k + j] * x[i];
      }
      if (w < 1e-12) continue;
      m /= w;
      let v = 0;
      for (let i = 0; i < n; i++) v += r[i * k + j] * (x[i] - m) ** 2;
      comps[j] = { weight: w / n, mean: m, sd: Math.sqrt(Math.max(v / w, floor)) };
    }
    if (Math.abs(newLl - ll) < 1e-9 * Math.abs(newLl)) {
      ll = newLl;
      break;
    }
    ll = newLl;
  }
  return { comps, ll };
}

export function fitGaussianMixture(data: ArrayLike<number>, opts: { maxK?: number; maxIter?: number } = {}): MixtureFit {
  const x = Float64Array.from(data).filter(Number.isFinite);
  const n = x.length;
  if (n < 2) throw new RangeError('Gaussian mixture needs at least 2 finite values');
  const maxK = Math.max(1, Math.min(opts.maxK ?? 5, Math.floor(n / 3) || 1));
  let best: MixtureFit | null = null;
  const bicByK: number[] = [];
  for (let k = 1; k <= maxK; k++) {
    const { comps, ll } = emFit(x, k, opts.maxIter ?? 500);
    const bic = -2 * ll + (3 * k - 1) * Math.log(n);
    bicByK.push(bic);
    if (!best || bic < best.bic) best = { k, components: comps.slice().sort((a, b) => a.mean - b.mean), logLik: ll, bic, bicByK };
  }
  return { ...best!, bicByK };
}
