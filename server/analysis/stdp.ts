/**
 * STDP curve: relative conductance change Δw against spike timing Δt = t_post - t_pre (s) from a pairing
 * protocol, fitted with the two exponential branches of Bi and Poo (J. Neurosci. 18, 10464 (1998)) in the
 * usual form (Song, Miller, Abbott, Nat. Neurosci. 3, 919 (2000)):
 *   Δw = A+ exp(-Δt/τ+) for Δt > 0,   Δw = -A- exp(Δt/τ-) for Δt < 0.
 * Each branch by least squares: for a given τ the best amplitude is linear (A = Σ y e / Σ e²); τ by
 * golden-section search on ln τ over [τmin, τmax] (defaults 1e-6 s and 10 s). Pairs at Δt = 0 are ignored.
 */

export interface StdpPair {
  dt: number;
  dw: number;
}

export interface StdpBranch {
  A: number;
  tau: number;
  r2: number;
  n: number;
}

function fitBranch(x: number[], y: number[], tMin: number, tMax: number): StdpBranch {
  const n = x.length;
  if (n < 2) return { A: NaN, tau: NaN, r2: NaN, n };
  const sse = (lt: number) => {
    const tau = Math.exp(lt);
    let se = 0;
    let ee = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp(-x[i] / tau);
      se += y[i] * e;
      ee += e * e;
    }
    const A = ee > 0 ? se / ee : 0;
    let s = 0;
    for (let i = 0; i < n; i++) s += (y[i] - A * Math.exp(-x[i] / tau)) ** 2;
    return { s, A };
  };
  let a = Math.log(tMin);
  let b = Math.log(tMax);
  const g = (Math.sqrt(5) - 1) / 2;
  // coarse grid first (the objective may be multi-modal on a wide range), then golden section
  let best = a;
  let bestS = Infinity;
  for (let i = 0; i <= 200; i++) {
    const lt = a + ((b - a) * i) / 200;
    const s = sse(lt).s;
    if (s < bestS) {
      bestS = s;
      best = lt;
    }
  }
  const h = (b - a) / 200;
  a = best - h;
  b = best + h;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  for (let it = 0; it < 100; it++) {
    if (sse(c).s < sse(d).s) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  const lt = (a + b) / 2;
  const { s, A } = sse(lt);
  let my = 0;
  for (const v of y) my += v;
  my /= n;
  let st = 0;
  for (const v of y) st += (v - my) ** 2;
  return { A, tau: Math.exp(lt), r2: st > 0 ? 1 - s / st : NaN, n };
}

export function fitStdp(pairs: StdpPair[], opts: { tauMin?: number; tauMax?: number } = {}): { potentiation: StdpBranch; depression: StdpBranch; Aplus: number; tauPlus: number; Aminus: number; tauMinus: number } {
  const tMin = opts.tauMin ?? 1e-6;
  const tMax = opts.tauMax ?? 10;
  const pos = pairs.filter((p) => p.dt > 0);
  const neg = pairs.filter((p) => p.dt < 0);
  const potentiation = fitBranch(pos.map((p) => p.dt), pos.map((p) => p.dw), tMin, tMax);
  // depression: Δw = -A- exp(-|Δt|/τ-): fit |Δt| against -Δw
  const depression = fitBranch(neg.map((p) => -p.dt), neg.map((p) => -p.dw), tMin, tMax);
  return { potentiation, depression, Aplus: potentiation.A, tauPlus: potentiation.tau, Aminus: depression.A, tauMinus: depression.tau };
}
