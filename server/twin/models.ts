/**
 * Two-terminal memristive device models. Pure functions, SI units (V, A, S, s).
 *
 * Every model has a scalar state x, a conductance G(x) (so i = G(x)·v, except GMMS whose Schottky part
 * is nonlinear in v), a state equation dx/dt = f(v, x), a named default parameter set, and ngspice
 * expressions of the same equations (used by `spice.ts`). A model may declare further states for some
 * parameter values (the diffusive memristor's temperature): then `rates` gives all of them. See
 * docs/twin/models.md for equations and papers.
 */

import { AppError, type ErrorCode } from '../../common/errors.ts';

export type ModelName = 'hp' | 'vteam' | 'mms' | 'gmms' | 'threshold' | 'nanowire' | 'switch' | 'diffusive';

export type Params = Record<string, number>;

/** A device state after x, integrated with it (e.g. a temperature). */
export interface ExtraState {
  /** Name, as a probe names it (`{ kind: 'x', element, state }`). */
  name: string;
  unit: string;
  x0: number;
  /** Bounds (the integrator never leaves them; ±Infinity for none). */
  lo: number;
  hi: number;
}

/** A device's conductance and rates over all its states (see DeviceModel.extraStates). */
export interface StateForms {
  /** Conductance in S from the states s = [x, extra states…]. */
  gStates(s: ArrayLike<number>, p: Params): number;
  /** out[k] = ds_k/dt at voltage v, g = gStates(s) (the engine clamps at the bounds). */
  rates(v: number, s: ArrayLike<number>, p: Params, out: Float64Array, g: number): void;
}

export interface DeviceModel {
  name: ModelName;
  /** One doc line. */
  title: string;
  /** Default parameter set (named `defaultSet`). */
  defaults: Params;
  defaultSet: string;
  /** Default initial state. */
  x0: number;
  /** Lower/upper bound of the state (the integrator never leaves it). */
  bounds(p: Params): [number, number];
  /** True when i is not G(x)·v (needs both terminals at known voltages). */
  nonlinearV: boolean;
  /** Conductance G(x) in S (for nonlinearV models: the memristive part only). */
  g(x: number, p: Params): number;
  /** Device current in A at voltage v (terminal a minus terminal b). */
  current(v: number, x: number, p: Params): number;
  /** dx/dt in 1/s at voltage v. */
  rate(v: number, x: number, p: Params): number;
  /** ngspice expressions in terms of the expression strings v (voltage) and x (state). */
  spiceCurrent(v: string, x: string, p: Params): string;
  spiceRate(v: string, x: string, p: Params): string;
  /**
   * Optional vectorised forms for networks of identical devices: g[gOff+d] = G(x[xOff+d]). With `last`
   * (the states of the previous call, length n, NaN initially) a model may skip devices whose state has
   * not changed and must then update `last`.
   */
  gBatch?(x: Float64Array, xOff: number, n: number, g: Float64Array, gOff: number, p: Params, last?: Float64Array): void;
  /** out[xOff+d] = rate(vd[d], x[xOff+d]). */
  rateBatch?(vd: Float64Array, x: Float64Array, xOff: number, n: number, out: Float64Array, p: Params): void;
  /**
   * Optional fused form of rateBatch for devices d0 … d0+n−1 between nodes na[d], nb[d] of the voltage
   * vector V, with the state clamp of the engine (a rate pushing a state at a bound outwards is 0):
   * out[xOff+k] = clamp(rate(V[na[d0+k]] − V[nb[d0+k]], x[xOff+k])). Same results as rateBatch + clamp.
   */
  rateNodes?(V: Float64Array, na: Int32Array, nb: Int32Array, d0: number, x: Float64Array, xOff: number, n: number, out: Float64Array, p: Params): void;
  /**
   * States after x for parameters p (none when absent or empty: g, rate and the spice forms are the whole
   * model). With extra states the four functions below replace them (linear-in-v models only).
   */
  extraStates?(p: Params): ExtraState[];
  gStates?: StateForms['gStates'];
  rates?: StateForms['rates'];
  /**
   * gStates and rates specialised to the configuration of p (the same results): the engine calls them for
   * every device at every evaluation, where testing p's options on each call costs a tenth of a step
   * (spiking-er). Default: gStates and rates.
   */
  stateForms?(p: Params): StateForms;
  /** ngspice expressions of the current and of the rates, clamped as the engine (s: the expressions of the states). */
  spiceCurrentStates?(v: string, s: string[], p: Params): string;
  spiceRates?(v: string, s: string[], p: Params): string[];
  /**
   * Stochastic switching (opt-in by parameters; null: deterministic): one extra state that is not
   * integrated (rate 0) but redrawn, seeded, when x falls through `level` (events.ts).
   */
  redraw?(p: Params): Redraw | null;
}

/** A state redrawn at random at an event of the device's x (see DeviceModel.redraw). */
export interface Redraw {
  /** The extra state redrawn (its name). */
  state: string;
  /** x falling through this level is the event (a bridge dissolving). */
  level: number;
  /** Seed of the device's stream (the document's; the engine adds the device index and the event count). */
  seed: number;
  /** Mean time between spontaneous redraws, s (a Poisson process per device; 0: only at the events). */
  every: number;
  /** The new value from a standard normal z. */
  value(z: number): number;
}

const n = (x: number): string => {
  if (!Number.isFinite(x)) throw new Error(`non-finite parameter ${x}`);
  return String(x); // shortest decimal that round-trips to the same double
};
export const num = n;

/**
 * Devices whose state w in [0, 1] mixes two conductances, G = Goff + (Gon − Goff)·w, ohmic in v (the
 * threshold junction, the volatile switch, the diffusive memristor): their state range, conductance and
 * current, one definition. `mixedGBatch` is the batched conductance, the same operations as `g`.
 */
const mixedConductance = {
  x0: 0,
  bounds: (): [number, number] => [0, 1],
  nonlinearV: false,
  g: (x: number, p: Params) => p.Goff + (p.Gon - p.Goff) * x,
  current: (v: number, x: number, p: Params) => (p.Goff + (p.Gon - p.Goff) * x) * v,
};
function mixedGBatch(x: Float64Array, xOff: number, cnt: number, g: Float64Array, gOff: number, p: Params): void {
  const lo = p.Goff, d = p.Gon - p.Goff;
  for (let k = 0; k < cnt; k++) g[gOff + k] = lo + d * x[xOff + k];
}

const clampRate = (r: number, x: number, lo: number, hi: number): number =>
  (x >= hi && r > 0) || (x <= lo && r < 0) ? 0 : r;
const spiceClamp = (r: string, x: string, lo: number, hi: number): string =>
  `((((${x}) >= ${n(hi)}) && ((${r}) > 0)) || (((${x}) <= ${n(lo)}) && ((${r}) < 0)) ? 0 : (${r}))`;

/** Thermal voltage kT/q at temperature T (K). */
export const thermalVoltage = (T: number): number => (1.380649e-23 * T) / 1.602176634e-19;

// ---------------------------------------------------------------------------------------------------
/**
 * Linear ion drift (Strukov et al., Nature 453, 80 (2008)). x = w/D in [0, 1].
 * R(x) = Ron·x + Roff·(1 − x); dx/dt = (mu_v·Ron/D²)·i·F(x, i).
 * window 1 = Joglekar & Wolf (2009): F = 1 − (2x − 1)^(2p);
 * window 2 = Biolek et al. (2009): F = 1 − (x − stp(−i))^(2p).
 */
const hp: DeviceModel = {
  name: 'hp',
  title: 'Linear ion drift (HP) with Joglekar or Biolek window',
  defaults: { Ron: 100, Roff: 16e3, D: 10e-9, mu: 1e-14, p: 2, window: 1 },
  defaultSet: 'Strukov 2008 / Joglekar 2009 (Ron 100 Ohm, Roff 16 kOhm, D 10 nm, mu_v 1e-14 m^2/(V s))',
  x0: 0.1,
  bounds: () => [0, 1],
  nonlinearV: false,
  g: (x, p) => 1 / (p.Ron * x + p.Roff * (1 - x)),
  current: (v, x, p) => v / (p.Ron * x + p.Roff * (1 - x)),
  rate(v, x, p) {
    const i = v / (p.Ron * x + p.Roff * (1 - x));
    const k = (p.mu * p.Ron) / (p.D * p.D);
    const q = 2 * p.p;
    const F = p.window === 2 ? 1 - Math.pow(Math.abs(x - (i < 0 ? 1 : 0)), q) : 1 - Math.pow(Math.abs(2 * x - 1), q);
    return clampRate(k * i * F, x, 0, 1);
  },
  spiceCurrent: (v, x, p) => `(${v})/(${n(p.Ron)}*(${x})+${n(p.Roff)}*(1-(${x})))`,
  spiceRate(v, x, p) {
    const i = `((${v})/(${n(p.Ron)}*(${x})+${n(p.Roff)}*(1-(${x}))))`;
    const k = (p.mu * p.Ron) / (p.D * p.D);
    const q = n(2 * p.p);
    const F =
      p.window === 2 ? `(1-pow(abs((${x})-((${i}) < 0 ? 1 : 0)),${q}))` : `(1-pow(abs(2*(${x})-1),${q}))`;
    return spiceClamp(`${n(k)}*${i}*${F}`, x, 0, 1);
  },
};

// ---------------------------------------------------------------------------------------------------
/**
 * VTEAM (Kvatinsky et al., IEEE TCAS-II 62, 786 (2015)), normalised state x = (w − w_on)/(w_off − w_on):
 * dx/dt = koff·(v/voff − 1)^alpha_off·F(x) for v > voff > 0; kon·(v/von − 1)^alpha_on·F(x) for v < von < 0;
 * 0 between. R = Ron + (Roff − Ron)·x (linear R–x). F = Joglekar window with exponent p.
 * (koff, kon here in 1/s, i.e. already divided by w_off − w_on.)
 */
const vteam: DeviceModel = {
  name: 'vteam',
  title: 'VTEAM voltage-threshold model',
  defaults: { Ron: 1e3, Roff: 50e3, von: -0.3, voff: 0.5, kon: -400, koff: 100, alphaOn: 3, alphaOff: 3, p: 2 },
  defaultSet: 'Kvatinsky 2015 style, normalised (Ron 1 kOhm, Roff 50 kOhm, von -0.3 V, voff 0.5 V)',
  x0: 0.5,
  bounds: () => [0, 1],
  nonlinearV: false,
  g: (x, p) => 1 / (p.Ron + (p.Roff - p.Ron) * x),
  current: (v, x, p) => v / (p.Ron + (p.Roff - p.Ron) * x),
  rate(v, x, p) {
    const F = 1 - Math.pow(Math.abs(2 * x - 1), 2 * p.p);
    let r = 0;
    if (v > p.voff) r = p.koff * Math.pow(v / p.voff - 1, p.alphaOff) * F;
    else if (v < p.von) r = p.kon * Math.pow(v / p.von - 1, p.alphaOn) * F;
    return clampRate(r, x, 0, 1);
  },
  spiceCurrent: (v, x, p) => `(${v})/(${n(p.Ron)}+${n(p.Roff - p.Ron)}*(${x}))`,
  spiceRate(v, x, p) {
    const F = `(1-pow(abs(2*(${x})-1),${n(2 * p.p)}))`;
    const r = `((${v}) > ${n(p.voff)} ? ${n(p.koff)}*pow((${v})/${n(p.voff)}-1,${n(p.alphaOff)})*${F} : ((${v}) < ${n(p.von)} ? ${n(p.kon)}*pow((${v})/${n(p.von)}-1,${n(p.alphaOn)})*${F} : 0))`;
    return spiceClamp(r, x, 0, 1);
  },
};

// ---------------------------------------------------------------------------------------------------
/**
 * Mean metastable switch (Molter & Nugent, arXiv:1605.00721 (2016); Knowm). x = N_on/N in [0, 1].
 * G_m = x/Ron + (1 − x)/Roff; beta = 1/(kT/q);
 * dx/dt = (1/tau)·[(1 − x)·σ(beta(v − Von)) − x·(1 − σ(beta(v + Voff)))], σ = logistic.
 * GMMS adds a Schottky diode in parallel: i = phi·G_m·v + (1 − phi)·[af(e^{bf v} − 1) − ar(e^{−br v} − 1)].
 */
function mmsRate(v: number, x: number, p: Params): number {
  const beta = 1 / thermalVoltage(p.T);
  const pOn = 1 / (1 + Math.exp(-beta * (v - p.Von)));
  const pOff = 1 - 1 / (1 + Math.exp(-beta * (v + p.Voff)));
  return ((1 - x) * pOn - x * pOff) / p.tau;
}
function mmsSpiceRate(v: string, x: string, p: Params): string {
  const beta = n(1 / thermalVoltage(p.T));
  return `(((1-(${x}))/(1+exp(-${beta}*((${v})-${n(p.Von)})))-(${x})*(1-1/(1+exp(-${beta}*((${v})+${n(p.Voff)})))))/${n(p.tau)})`;
}
const mmsDefaults = { Ron: 500, Roff: 1500, Von: 0.27, Voff: 0.27, tau: 1e-4, T: 298.5 };
const mms: DeviceModel = {
  name: 'mms',
  title: 'Mean metastable switch (Molter & Nugent), Knowm SDC default set',
  defaults: { ...mmsDefaults },
  defaultSet: 'Knowm self-directed-channel (Ron 500 Ohm, Roff 1500 Ohm, Von = Voff = 0.27 V, tau 1e-4 s, T 298.5 K)',
  x0: 0,
  bounds: () => [0, 1],
  nonlinearV: false,
  g: (x, p) => x / p.Ron + (1 - x) / p.Roff,
  current: (v, x, p) => (x / p.Ron + (1 - x) / p.Roff) * v,
  rate: mmsRate,
  spiceCurrent: (v, x, p) => `((${x})/${n(p.Ron)}+(1-(${x}))/${n(p.Roff)})*(${v})`,
  spiceRate: mmsSpiceRate,
};
const gmms: DeviceModel = {
  name: 'gmms',
  title: 'Generalised MMS with Schottky terms (Molter & Nugent)',
  defaults: { ...mmsDefaults, phi: 0.9, af: 1e-7, bf: 8, ar: 1e-7, br: 8 },
  defaultSet: 'Knowm SDC with phi 0.9 and symmetric Schottky terms (af = ar = 1e-7 A, bf = br = 8 /V)',
  x0: 0,
  bounds: () => [0, 1],
  nonlinearV: true,
  g: (x, p) => x / p.Ron + (1 - x) / p.Roff,
  current: (v, x, p) =>
    p.phi * (x / p.Ron + (1 - x) / p.Roff) * v +
    (1 - p.phi) * (p.af * (Math.exp(p.bf * v) - 1) - p.ar * (Math.exp(-p.br * v) - 1)),
  rate: mmsRate,
  spiceCurrent: (v, x, p) =>
    `${n(p.phi)}*((${x})/${n(p.Ron)}+(1-(${x}))/${n(p.Roff)})*(${v})+${n(1 - p.phi)}*(${n(p.af)}*(exp(${n(p.bf)}*(${v}))-1)-${n(p.ar)}*(exp(-${n(p.br)}*(${v}))-1))`,
  spiceRate: mmsSpiceRate,
};

// ---------------------------------------------------------------------------------------------------
/**
 * Threshold junction of self-organising network studies (Xu, Gottwald, Kuncic 2026): w in [0, 1],
 * G = Goff + (Gon − Goff)·w; dw/dt = (1 − w)·tanh(a(v − vth))/tau for v > vth,
 * −w·tanh(b(−v − vth))/tau for v < −vth, and inside the window −w/tau_relax (spontaneous relaxation of a
 * volatile junction; tau_relax = 0, the default, means none: the non-volatile junction, rate 0).
 */
const threshold: DeviceModel = {
  name: 'threshold',
  title: 'Threshold junction (self-organising networks)',
  defaults: { Gon: 1e-3, Goff: 1e-6, vth: 0.8, tau: 1e-3, a: 2, b: 3, tau_relax: 0 },
  defaultSet: 'Gon 1e-3 S, Goff 1e-6 S, vth 0.8 V, tau_w 1e-3 s, a 2, b 3, tau_relax 0 (non-volatile)',
  ...mixedConductance,
  rate(v, x, p) {
    if (v > p.vth) return ((1 - x) * Math.tanh(p.a * (v - p.vth))) / p.tau;
    if (v < -p.vth) return (-x * Math.tanh(p.b * (-v - p.vth))) / p.tau;
    return p.tau_relax > 0 ? -x / p.tau_relax : 0;
  },
  gBatch: mixedGBatch,
  rateBatch(vd, x, xOff, cnt, out, p) {
    // the same operations in the same order as rate(): bit-identical results
    const vth = p.vth, a = p.a, b = p.b, tau = p.tau, tr = p.tau_relax;
    for (let k = 0; k < cnt; k++) {
      const v = vd[k];
      const w = x[xOff + k];
      out[xOff + k] = v > vth ? ((1 - w) * Math.tanh(a * (v - vth))) / tau : v < -vth ? (-w * Math.tanh(b * (-v - vth))) / tau : tr > 0 ? -w / tr : 0;
    }
  },
  rateNodes(V, na, nb, d0, x, xOff, cnt, out, p) {
    const vth = p.vth, a = p.a, b = p.b, tau = p.tau, tr = p.tau_relax;
    for (let k = 0; k < cnt; k++) {
      const v = V[na[d0 + k]] - V[nb[d0 + k]];
      const w = x[xOff + k];
      let r = 0;
      if (v > vth) r = ((1 - w) * Math.tanh(a * (v - vth))) / tau;
      else if (v < -vth) r = (-w * Math.tanh(b * (-v - vth))) / tau;
      else if (tr > 0) r = -w / tr;
      // bounds [0, 1]
      out[xOff + k] = (w >= 1 && r > 0) || (w <= 0 && r < 0) ? 0 : r;
    }
  },
  spiceCurrent: (v, x, p) => `(${n(p.Goff)}+${n(p.Gon - p.Goff)}*(${x}))*(${v})`,
  // tanh(0) = 0, so max(·, 0) reproduces the three branches with a smaller expression tree
  spiceRate: (v, x, p) =>
    `((1-(${x}))*tanh(${n(p.a)}*max((${v})-${n(p.vth)},0))-(${x})*tanh(${n(p.b)}*max(-(${v})-${n(p.vth)},0)))/${n(p.tau)}` +
    (p.tau_relax > 0 ? `-(abs(${v}) <= ${n(p.vth)} ? (${x})/${n(p.tau_relax)} : 0)` : ''),
};

// ---------------------------------------------------------------------------------------------------
/**
 * Nanowire junction (Kuncic & Nakayama 2021; Hochstetter et al., Nat. Commun. 12, 4008 (2021)).
 * Filament state lambda in [−lmax, lmax]:
 * dλ/dt = (|v| − Vset)·sgn(v) for |v| > Vset; 0 for Vreset ≤ |v| ≤ Vset; b·(|v| − Vreset)·sgn(λ) for |v| < Vreset.
 * Conductance: tunnelling between Roff and Ron, G = Goff·(Gon/Goff)^s with s = min(|λ|, λcrit)/λcrit.
 */
const nanowire: DeviceModel = {
  name: 'nanowire',
  title: 'Nanowire junction (Kuncic / Hochstetter)',
  defaults: { Vset: 0.01, Vreset: 0.005, lcrit: 0.01, lmax: 0.015, b: 10, Ron: 12.9e3, Roff: 12.9e6 },
  defaultSet: 'Hochstetter 2021 (Vset 0.01 V, Vreset 0.005 V, lambda_crit 0.01, lambda_max 0.015, b 10, Ron 12.9 kOhm, Roff 12.9 MOhm)',
  x0: 0,
  bounds: (p) => [-p.lmax, p.lmax],
  nonlinearV: false,
  g(x, p) {
    const a = Math.abs(x);
    return (1 / p.Roff) * Math.exp((Math.log(p.Roff / p.Ron) / p.lcrit) * (a < p.lcrit ? a : p.lcrit));
  },
  current(v, x, p) {
    return this.g(x, p) * v;
  },
  rate(v, x, p) {
    const a = Math.abs(v);
    let r = 0;
    if (a > p.Vset) r = (a - p.Vset) * Math.sign(v);
    else if (a < p.Vreset) r = p.b * (a - p.Vreset) * Math.sign(x);
    return clampRate(r, x, -p.lmax, p.lmax);
  },
  rateBatch(vd, x, xOff, cnt, out, p) {
    const vs = p.Vset, vr = p.Vreset, b = p.b;
    for (let i = 0; i < cnt; i++) {
      const v = vd[i];
      const a = v < 0 ? -v : v;
      const l = x[xOff + i];
      out[xOff + i] = a > vs ? (v > 0 ? a - vs : vs - a) : a < vr ? (l > 0 ? b * (a - vr) : l < 0 ? -b * (a - vr) : 0) : 0;
    }
  },
  rateNodes(V, na, nb, d0, x, xOff, cnt, out, p) {
    const vs = p.Vset, vr = p.Vreset, b = p.b, hi = p.lmax, lo = -p.lmax;
    for (let i = 0; i < cnt; i++) {
      const v = V[na[d0 + i]] - V[nb[d0 + i]];
      const a = v < 0 ? -v : v;
      const l = x[xOff + i];
      const r = a > vs ? (v > 0 ? a - vs : vs - a) : a < vr ? (l > 0 ? b * (a - vr) : l < 0 ? -b * (a - vr) : 0) : 0;
      out[xOff + i] = (l >= hi && r > 0) || (l <= lo && r < 0) ? 0 : r;
    }
  },
  gBatch(x, xOff, cnt, g, gOff, p, last) {
    const g0 = 1 / p.Roff, k = Math.log(p.Roff / p.Ron) / p.lcrit, lc = p.lcrit;
    if (last) {
      // exp() only where the state moved since the last call (g is a pure function of the state)
      for (let i = 0; i < cnt; i++) {
        const xi = x[xOff + i];
        if (xi === last[i]) continue;
        last[i] = xi;
        const a = Math.abs(xi);
        g[gOff + i] = g0 * Math.exp(k * (a < lc ? a : lc));
      }
      return;
    }
    for (let i = 0; i < cnt; i++) {
      const a = Math.abs(x[xOff + i]);
      g[gOff + i] = g0 * Math.exp(k * (a < lc ? a : lc));
    }
  },
  spiceCurrent: (v, x, p) =>
    `${n(1 / p.Roff)}*exp(${n(Math.log(p.Roff / p.Ron) / p.lcrit)}*min(abs(${x}),${n(p.lcrit)}))*(${v})`,
  spiceRate(v, x, p) {
    const r = `(abs(${v}) > ${n(p.Vset)} ? (abs(${v})-${n(p.Vset)})*sgn(${v}) : (abs(${v}) < ${n(p.Vreset)} ? ${n(p.b)}*(abs(${v})-${n(p.Vreset)})*sgn(${x}) : 0))`;
    return spiceClamp(r, x, -p.lmax, p.lmax);
  },
};

// ---------------------------------------------------------------------------------------------------
/**
 * Volatile threshold switch (Mott / VO2-like, cf. Pickett et al., Nat. Mater. 12, 114 (2013)): metallic
 * fraction s in [0, 1], G = Goff + (Gon − Goff)·s. The switching threshold falls as the device turns on
 * (the positive feedback of Joule heating), giving a hysteretic, volatile switch:
 * s_∞ = σ((|v| − Vth + (Vth − Vhold)·s)/dv), ds/dt = (s_∞ − s)/tau_on when s_∞ > s, else (s_∞ − s)/tau_off.
 * Off below Vth, switches on at Vth, stays on while |v| > Vhold, relaxes off below (volatile).
 */
const sw: DeviceModel = {
  name: 'switch',
  title: 'Volatile threshold switch (Mott/VO2-like)',
  defaults: { Gon: 1e-3, Goff: 1e-6, Vth: 1.0, Vhold: 0.4, dv: 0.005, tauOn: 10e-6, tauOff: 10e-6 },
  defaultSet: 'VO2-like (Ron 1 kOhm, Roff 1 MOhm, Vth 1 V, Vhold 0.4 V, dv 5 mV, tau_on = tau_off = 10 us)',
  ...mixedConductance,
  rate(v, x, p) {
    const target = 1 / (1 + Math.exp(-(Math.abs(v) - p.Vth + (p.Vth - p.Vhold) * x) / p.dv));
    return (target - x) / (target > x ? p.tauOn : p.tauOff);
  },
  spiceCurrent: (v, x, p) => `(${n(p.Goff)}+${n(p.Gon - p.Goff)}*(${x}))*(${v})`,
  spiceRate(v, x, p) {
    const t = `(1/(1+exp(-(abs(${v})-${n(p.Vth)}+${n(p.Vth - p.Vhold)}*(${x}))/${n(p.dv)})))`;
    return `((${t})-(${x}))/((${t}) > (${x}) ? ${n(p.tauOn)} : ${n(p.tauOff)})`;
  },
};

// ---------------------------------------------------------------------------------------------------
/** Boltzmann constant, eV/K. */
const KB_EV = 8.617333262e-5;
/** Arrhenius factor of a thermally activated process at a temperature rise θ over T0: exp((Ea/k_B)(1/T0 − 1/(T0 + θ))). */
const arrhenius = (th: number, p: Params): number => Math.exp((p.Ea / KB_EV) * (1 / p.T0 - 1 / (p.T0 + th)));

/** The diffusive junction's extra states in any configuration: θ at s[1] if tau_th > 0, then f if sigma_sw > 0. */
const diffusiveAny: StateForms = {
  gStates: (s, p) => (p.tau_th > 0 ? p.Goff * arrhenius(s[1], p) : p.Goff) + (p.Gon - p.Goff) * s[0],
  rates(v, s, p, out, g) {
    const a = v < 0 ? -v : v;
    const thermal = p.tau_th > 0;
    const w = s[0], th = thermal ? s[1] : 0;
    const vth = p.sigma_sw > 0 ? p.Vth * s[thermal ? 2 : 1] : p.Vth;
    const form = 1 / (1 + Math.exp(-(a - vth - p.gamma * th + (vth - p.Vhold) * w) / p.dv));
    out[0] = ((1 - w) * form) / p.tau_on - w / p.tau_relax;
    if (thermal) out[1] = (p.Rth * g * v * v - th) / p.tau_th;
    if (p.sigma_sw > 0) out[thermal ? 2 : 1] = 0;
  },
};

/** The same with θ and no stochastic switching (tau_th > 0, sigma_sw 0): the same operations with f = 1 as Vth. */
const diffusiveThermal: StateForms = {
  gStates: (s, p) => p.Goff * arrhenius(s[1], p) + (p.Gon - p.Goff) * s[0],
  rates(v, s, p, out, g) {
    const a = v < 0 ? -v : v;
    const w = s[0], th = s[1];
    const form = 1 / (1 + Math.exp(-(a - p.Vth - p.gamma * th + (p.Vth - p.Vhold) * w) / p.dv));
    out[0] = ((1 - w) * form) / p.tau_on - w / p.tau_relax;
    out[1] = (p.Rth * g * v * v - th) / p.tau_th;
  },
};

/**
 * Diffusive (volatile) memristor, after Wang et al., Nat. Mater. 16, 101 (2017): Ag nanoclusters in an
 * oxide form a conducting bridge under bias and dissolve by diffusion when the bias falls (volatile
 * threshold switching, relaxation time tau_relax). Phenomenological reduction: bridge fraction
 * w in [0, 1], G = Goff + (Gon − Goff)·w,
 * dw/dt = (1 − w)·σ((|v| − Vth + (Vth − Vhold)·w)/dv)/tau_on − w/tau_relax, σ the logistic function.
 * A bridge forms above Vth; a formed bridge lowers the field needed to sustain it down to Vhold (the
 * hysteresis of the measured I–V); the diffusion term dissolves it at every bias.
 * With tau_th > 0 a second state, the temperature rise θ (K) of the paper's model, heated by the device's
 * power and cooled through a thermal resistance (C_th·dθ/dt = i·v − θ/Rth, tau_th = Rth·C_th):
 * dθ/dt = (Rth·i·v − θ)/tau_th; hot, the bridge needs more field (Vth and Vhold raised by gamma·θ: the
 * dissolving diffusion is thermally activated) and the off state leaks by Arrhenius,
 * G = Goff·A(θ) + (Gon − Goff)·w, A(θ) = exp((Ea/k_B)·(1/T0 − 1/(T0 + θ))). tau_th = 0 (the default):
 * one state, the equations above.
 * With sigma_sw > 0, stochastic switching: each formation needs its own threshold Vth·f, f a further state
 * (`vth_f`, Vhold unchanged) drawn log-normal with mean 1 (f = exp(sigma_sw·z − sigma_sw²/2)) at the start
 * and again every time the bridge dissolves (w falls through 1/2), from a stream set by seed_sw, the device
 * and the count of its dissolutions (events.ts): the cycle-to-cycle variability of filament formation,
 * the random opening and closing of tunnel gaps behind the avalanches of Mallinson et al., Sci. Adv. 5,
 * eaaw8438 (2019). With tau_sw > 0 f is also redrawn at the times of a Poisson process of rate 1/tau_sw (the
 * gap rearranging by itself, so a bridge that never dissolves does not keep its threshold for ever).
 * sigma_sw = 0 (the default): no draw, the equations above bit for bit.
 */
const diffusive: DeviceModel = {
  name: 'diffusive',
  title: 'Diffusive (volatile) memristor (Wang et al. 2017)',
  defaults: { Gon: 1e-3, Goff: 1e-6, Vth: 1.0, Vhold: 0.3, dv: 0.02, tau_on: 20e-6, tau_relax: 1e-3, tau_th: 0, Rth: 1e6, gamma: 0, Ea: 0.3, T0: 300, sigma_sw: 0, seed_sw: 1, tau_sw: 0 },
  defaultSet: 'Wang 2017-like (Ron 1 kOhm, Roff 1 MOhm, Vth 1 V, Vhold 0.3 V, dv 20 mV, tau_on 20 us, tau_relax 1 ms; no thermal state: tau_th 0, else Rth 1e6 K/W, gamma 0 V/K, Ea 0.3 eV, T0 300 K; deterministic: sigma_sw 0, else seed_sw 1, tau_sw 0)',
  ...mixedConductance,
  rate(v, x, p) {
    const a = v < 0 ? -v : v;
    const form = 1 / (1 + Math.exp(-(a - p.Vth + (p.Vth - p.Vhold) * x) / p.dv));
    return ((1 - x) * form) / p.tau_on - x / p.tau_relax;
  },
  gBatch: mixedGBatch,
  rateNodes(V, na, nb, d0, x, xOff, cnt, out, p) {
    // the same operations in the same order as rate(), with the engine's state clamp
    const vth = p.Vth, hy = p.Vth - p.Vhold, dv = p.dv, ton = p.tau_on, tr = p.tau_relax;
    for (let k = 0; k < cnt; k++) {
      const v = V[na[d0 + k]] - V[nb[d0 + k]];
      const a = v < 0 ? -v : v;
      const w = x[xOff + k];
      const form = 1 / (1 + Math.exp(-(a - vth + hy * w) / dv));
      const r = ((1 - w) * form) / ton - w / tr;
      out[xOff + k] = (w >= 1 && r > 0) || (w <= 0 && r < 0) ? 0 : r;
    }
  },
  rateBatch(vd, x, xOff, cnt, out, p) {
    const vth = p.Vth, hy = p.Vth - p.Vhold, dv = p.dv, ton = p.tau_on, tr = p.tau_relax;
    for (let k = 0; k < cnt; k++) {
      const v = vd[k];
      const a = v < 0 ? -v : v;
      const w = x[xOff + k];
      out[xOff + k] = ((1 - w) * (1 / (1 + Math.exp(-(a - vth + hy * w) / dv)))) / ton - w / tr;
    }
  },
  extraStates: (p) => [
    ...(p.tau_th > 0 ? [{ name: 'theta', unit: 'K', x0: 0, lo: 0, hi: Infinity }] : []),
    // x0 1 is replaced by the first draw (events.ts)
    ...(p.sigma_sw > 0 ? [{ name: 'vth_f', unit: '1', x0: 1, lo: 0, hi: Infinity }] : []),
  ],
  ...diffusiveAny,
  // the thermal state alone (spiking-er) without the tests of diffusiveAny
  stateForms: (p) => (p.sigma_sw > 0 ? diffusiveAny : diffusiveThermal),
  redraw: (p) => {
    if (!(p.sigma_sw >= 0 && p.tau_sw >= 0)) throw new TwinError('TWIN_BAD_PARAM', 'diffusive: sigma_sw and tau_sw must be >= 0 (0: off)');
    if (!(Number.isInteger(p.seed_sw) && p.seed_sw >= 0 && p.seed_sw < 2 ** 32)) throw new TwinError('TWIN_BAD_PARAM', 'diffusive: seed_sw must be an integer in 0 .. 2^32 - 1');
    if (!(p.sigma_sw > 0)) return null;
    const sd = p.sigma_sw;
    return { state: 'vth_f', level: 0.5, seed: p.seed_sw, every: p.tau_sw, value: (z) => Math.exp(sd * z - (sd * sd) / 2) };
  },
  spiceCurrent: (v, x, p) => `(${n(p.Goff)}+${n(p.Gon - p.Goff)}*(${x}))*(${v})`,
  spiceRate(v, x, p) {
    const form = `(1/(1+exp(-(abs(${v})-${n(p.Vth)}+${n(p.Vth - p.Vhold)}*(${x}))/${n(p.dv)})))`;
    return spiceClamp(`(1-(${x}))*${form}/${n(p.tau_on)}-(${x})/${n(p.tau_relax)}`, x, 0, 1);
  },
  spiceCurrentStates: (v, [x, th], p) => `${spiceConductance(x, th, p)}*(${v})`,
  spiceRates(v, [x, th], p) {
    const form = `(1/(1+exp(-(abs(${v})-${n(p.Vth)}-${n(p.gamma)}*(${th})+${n(p.Vth - p.Vhold)}*(${x}))/${n(p.dv)})))`;
    // θ ≥ 0 holds by itself (heating ≥ 0, cooling towards 0): no clamp
    return [
      spiceClamp(`(1-(${x}))*${form}/${n(p.tau_on)}-(${x})/${n(p.tau_relax)}`, x, 0, 1),
      `(${n(p.Rth)}*${spiceConductance(x, th, p)}*(${v})*(${v})-(${th}))/${n(p.tau_th)}`,
    ];
  },
};
const spiceConductance = (x: string, th: string, p: Params): string =>
  `(${n(p.Goff)}*exp(${n(p.Ea / KB_EV)}*(${n(1 / p.T0)}-1/(${n(p.T0)}+(${th}))))+${n(p.Gon - p.Goff)}*(${x}))`;

export const MODELS: Record<ModelName, DeviceModel> = { hp, vteam, mms, gmms, threshold, nanowire, switch: sw, diffusive };

export function getModel(name: string): DeviceModel {
  // own keys only: "constructor" or "__proto__" from a circuit document is an unknown model, not Object's
  const m = Object.hasOwn(MODELS, name) ? (MODELS as Record<string, DeviceModel>)[name] : undefined;
  if (!m) throw new TwinError('TWIN_UNKNOWN_MODEL', `unknown device model "${name}" (known: ${Object.keys(MODELS).join(', ')})`);
  return m;
}

/** Default parameters overridden by `over`; unknown parameter names are refused. */
export function resolveParams(model: DeviceModel, over: Params | undefined): Params {
  const p: Params = { ...model.defaults };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (!Object.hasOwn(model.defaults, k)) throw new TwinError('TWIN_BAD_PARAM', `model ${model.name} has no parameter "${k}"`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TwinError('TWIN_BAD_PARAM', `parameter ${model.name}.${k} must be a finite number`);
    p[k] = v;
  }
  return p;
}

/** AppError with one of the twin's codes (TWIN_BAD_CIRCUIT, TWIN_BAD_PARAM ...). */
export class TwinError extends AppError {
  declare readonly code: Extract<ErrorCode, `TWIN_${string}`>;
  constructor(code: Extract<ErrorCode, `TWIN_${string}`>, message: string) {
    super(code, message);
  }
}
