import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.ts';
import { adaptation, trainStats } from './trains.ts';
import { logIsiBursts, maxIntervalBursts } from './bursts.ts';
import { fitGaussianMixture } from './gmm.ts';
import { bandPower, detectOscillation, dominantFrequencies, harmonicPower, psdDistance, welch } from './spectra.ts';
import { aboveCountingNoise, chirpPoints, chirpWindows, resonanceSweep } from './resonance.ts';
import { fitStdp } from './stdp.ts';
import { classifyRegime, phaseDiagram, regimeFeatures } from './regime.ts';
import { correlation, exponentDifference, normalQuantile, nrmse } from './compare.ts';

function renewal(rng: Rng, n: number, draw: () => number): Float64Array {
  const t = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) t[i] = s += draw();
  return t;
}

describe('spike-train statistics', () => {
  it('Poisson train: CV = LV = Fano = 1 (exponential ISIs), within sampling error', () => {
    const rng = new Rng(1);
    const t = renewal(rng, 20000, () => rng.exponential(20));
    const s = trainStats(t, { tStart: 0, tEnd: t[t.length - 1], fanoWindow: 1 });
    expect(s.rate).toBeCloseTo(20, 0);
    expect(Math.abs(s.isiCv - 1)).toBeLessThan(0.03);
    expect(Math.abs(s.lv - 1)).toBeLessThan(0.03);
    expect(Math.abs(s.fano - 1)).toBeLessThan(0.15);
  });
  it('gamma(κ = 4) train: CV = 1/√κ = 0.5 and LV = 3/(2κ+1) = 1/3 (Shinomoto et al. 2003)', () => {
    const rng = new Rng(2);
    const t = renewal(rng, 20000, () => rng.gamma(4) / 80);
    const s = trainStats(t);
    expect(Math.abs(s.isiCv - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(s.lv - 1 / 3)).toBeLessThan(0.02);
    expect(s.isiHist.counts.reduce((a, b) => a + b, 0)).toBe(t.length - 1);
  });
  it('periodic train: autocorrelogram peaks at the period', () => {
    const t = Float64Array.from({ length: 100 }, (_, i) => i * 0.01);
    const s = trainStats(t, { acgBin: 0.001, acgMaxLag: 0.05 });
    const top = s.acg.counts.indexOf(Math.max(...s.acg.counts));
    expect(s.acg.lags[top]).toBeCloseTo(0.0105, 6); // the 10-11 ms bin holds the first lag (10 ms)
    expect(s.isiCv).toBeLessThan(1e-9);
  });
  it('adaptation index of a slowing train with ISI_k = 10 ms · 1.1^k is (1.1 - 1)/(1.1 + 1)', () => {
    const isi = Array.from({ length: 20 }, (_, k) => 0.01 * 1.1 ** k);
    const t = [0];
    for (const d of isi) t.push(t[t.length - 1] + d);
    const a = adaptation(t);
    expect(a.index).toBeCloseTo(0.1 / 2.1, 12);
    expect(a.ratio).toBeLessThan(1);
  });
});

describe('bursts', () => {
  // 40 bursts of 6 spikes at 5 ms ISI, one every ~2 s, plus sparse isolated spikes
  const rng = new Rng(3);
  const t: number[] = [];
  for (let b = 0; b < 40; b++) {
    const s = b * 2 + 0.5 + 0.2 * rng.random();
    for (let k = 0; k < 6; k++) t.push(s + k * 0.005);
    t.push(s + 1); // one isolated spike between bursts
  }
  t.sort((a, b) => a - b);
  it('max-interval method finds the 40 bursts of 6 spikes', () => {
    const r = maxIntervalBursts(t, { maxBeginIsi: 0.01, maxEndIsi: 0.02, minIbi: 0.1 }, 80);
    expect(r.bursts.length).toBe(40);
    expect(r.meanSpikesPerBurst).toBe(6);
    expect(r.meanDuration).toBeCloseTo(0.025, 9);
    expect(r.burstRate).toBeCloseTo(0.5, 9);
    expect(r.burstFraction).toBeCloseTo(240 / 280, 9);
  });
  it('max-interval defaults scale with the train: the same 40 bursts without parameters; none in periodic or sparse Poisson trains', () => {
    const r = maxIntervalBursts(t, {}, 80);
    expect(r.bursts.length).toBe(40);
    expect(r.maxInterval).toMatchObject({ scaledTo: 'mean-isi' });
    expect(r.maxInterval!.maxEndIsi).toBeCloseTo((t[t.length - 1] - t[0]) / (t.length - 1), 12);
    // the same train 1000× faster (µs-ms device): the same bursts (the old fixed 0.17 s merged them all into one)
    const fast = t.map((x) => x / 1000);
    expect(maxIntervalBursts(fast, {}, 0.08).bursts.length).toBe(40);
    const periodic = Array.from({ length: 1000 }, (_, i) => i * 1e-4);
    expect(maxIntervalBursts(periodic, {}, 0.1).bursts.length).toBe(0);
    expect(logIsiBursts(periodic, {}, 0.1).bursts.length).toBe(0);
    // Poisson intervals: log-ISI histogram unimodal, no threshold, no bursts
    const rng2 = new Rng(21);
    const poisson: number[] = [];
    for (let x = rng2.exponential(50); x < 100; x += rng2.exponential(50)) poisson.push(x);
    const lp = logIsiBursts(poisson, {}, 100);
    expect(lp.isiThreshold).toBeNaN();
    expect(lp.bursts.length).toBe(0);
  });
  it('log-ISI method puts the threshold between 5 ms and ~1 s and finds the same bursts', () => {
    const r = logIsiBursts(t, {}, 80);
    expect(r.isiThreshold).toBeGreaterThan(0.005);
    expect(r.isiThreshold).toBeLessThan(0.8);
    expect(r.bursts.length).toBe(40);
  });
});

describe('Gaussian mixture by BIC', () => {
  it('picks two modes for two separated Gaussians and one for one', () => {
    const rng = new Rng(4);
    const two = Array.from({ length: 1000 }, (_, i) => (i % 3 ? 5 + 0.5 * rng.normal() : 10 + rng.normal()));
    const f = fitGaussianMixture(two, { maxK: 3 });
    expect(f.k).toBe(2);
    expect(f.components[0].mean).toBeCloseTo(5, 1);
    expect(f.components[1].mean).toBeCloseTo(10, 0);
    expect(f.components[1].weight).toBeCloseTo(1 / 3, 1);
    const one = Array.from({ length: 1000 }, () => rng.normal());
    expect(fitGaussianMixture(one, { maxK: 3 }).k).toBe(1);
  });
});

describe('Welch PSD', () => {
  it('a 50 Hz sine of amplitude 2 in white noise: peak at 50 Hz, band power A²/2, total = variance', () => {
    const rng = new Rng(5);
    const fs = 1000;
    const x = Float64Array.from({ length: 65536 }, (_, i) => 2 * Math.sin((2 * Math.PI * 50 * i) / fs + 0.3) + 0.5 * rng.normal());
    const p = welch(x, fs, { segment: 1024 });
    const top = dominantFrequencies(p, 1)[0];
    expect(Math.abs(top.frequency - 50)).toBeLessThan(p.df / 2);
    // Parseval: sine power A²/2 = 2 around the peak (Hann main lobe ±2 bins) plus noise there (tiny)
    expect(bandPower(p, 50 - 3 * p.df, 50 + 3 * p.df)).toBeCloseTo(2, 1);
    expect(bandPower(p, 0, fs / 2)).toBeCloseTo(2 + 0.25, 1);
    expect(detectOscillation(p).oscillating).toBe(true);
    const noise = welch(Float64Array.from({ length: 65536 }, () => rng.normal()), fs, { segment: 1024 });
    expect(detectOscillation(noise).oscillating).toBe(false);
    // a train of narrow pulses at 79 Hz has more power at 158 Hz than at 79 Hz on a coarse grid; the fundamental is reported
    const fs2 = 10_000;
    const pulses = Float64Array.from({ length: 1 << 15 }, (_, i) => ((i * 79) % fs2 < 79 ? 1 : 0));
    const ps = welch(pulses, fs2, { segment: 4096 });
    const o = detectOscillation(ps);
    expect(o.oscillating).toBe(true);
    expect(Math.abs(o.frequency - 79)).toBeLessThan(2 * ps.df);
    // white noise of variance 1: flat density 1/(fs/2) = 0.002 per Hz
    expect(bandPower(noise, 100, 200) / 100).toBeCloseTo(0.002, 3);
    expect(psdDistance(noise, noise)).toBe(0);
  });
  it('harmonic power: a clipped sine has odd harmonics, a pure sine none', () => {
    const fs = 10000;
    const s = Float64Array.from({ length: 32768 }, (_, i) => Math.sin((2 * Math.PI * 100 * i) / fs));
    const c = s.map((v) => Math.max(-0.5, Math.min(0.5, v)));
    expect(harmonicPower(s, fs, 100, 5, 4096).ratio).toBeLessThan(1e-4);
    expect(harmonicPower(c, fs, 100, 5, 4096).ratio).toBeGreaterThan(0.01);
  });
});

describe('resonance sweep', () => {
  it('Lorentzian response: resonance at f_r, onset where the rise reaches 10 %, optimum just below', () => {
    const fr = 40;
    const g = 5;
    const R = (f: number) => 1 / ((f - fr) ** 2 + g * g);
    const pts = Array.from({ length: 100 }, (_, i) => ({ frequency: 1 + i, response: R(1 + i) }));
    const r = resonanceSweep(pts, { onsetFraction: 0.1 });
    expect(r.resonanceFrequency).toBe(40);
    // closed form: R(f) = base + 0.1 (peak - base) with base = R(1) solved for f < fr
    const base = R(1);
    const level = base + 0.1 * (1 / (g * g) - base);
    const fOnset = fr - Math.sqrt(1 / level - g * g);
    expect(Math.abs(r.onsetFrequency - fOnset)).toBeLessThan(0.05);
    expect(r.optimalFrequency).toBe(Math.floor(fOnset));
  });
  it('chirp windows are labelled with the instantaneous frequency', () => {
    const pts = chirpPoints([0.05, 0.06, 0.95], { f0: 10, f1: 110, duration: 1 }, 10);
    expect(pts[0]).toEqual({ frequency: 15, response: 20, span: 10 });
    expect(pts[9].frequency).toBeCloseTo(105, 12);
    // a log sweep 10 Hz → 1 kHz over 1 s: window centres at 10·100^0.25 and 10·100^0.75 Hz, spans 90 and 900 Hz
    const log = chirpWindows({ f0: 10, f1: 1000, duration: 1, sweep: 'log' }, 2);
    expect(log[0].frequency).toBeCloseTo(10 * 100 ** 0.25, 10);
    expect(log[1].frequency).toBeCloseTo(10 * 100 ** 0.75, 10);
    expect(log.map((w) => w.span)).toEqual([expect.closeTo(90, 10), expect.closeTo(900, 10)]);
  });
  it('a chirp with a known response peak: spikes only in the 40-60 Hz windows give resonance at 50 Hz ± the resolution', () => {
    // linear 10 → 110 Hz over 10 s: f(t) = 10 + 10 t; spikes at 200/s while f is in [40, 60] Hz (t in [3, 5] s)
    const spikes = Array.from({ length: 400 }, (_, i) => 3 + i / 200);
    const pts = chirpPoints(spikes, { f0: 10, f1: 110, duration: 10 }, 20);
    const r = resonanceSweep(pts);
    expect(r.resonanceFrequency).toBeGreaterThanOrEqual(40);
    expect(r.resonanceFrequency).toBeLessThanOrEqual(60);
    expect(r.resonanceUncertainty).toBe(5); // (110 − 10) Hz / 20 windows
    expect(aboveCountingNoise(pts.map((p) => p.response * 0.5))).toBe(true);
    expect(aboveCountingNoise(new Array(20).fill(0))).toBe(false); // an all-zero response is no response
    expect(aboveCountingNoise([3, 4, 5, 4])).toBe(false); // within counting noise
  });
});

describe('STDP fit', () => {
  it('recovers A+, τ+, A-, τ- from noisy pairing data', () => {
    const rng = new Rng(6);
    const pairs = [];
    for (let i = 0; i < 200; i++) {
      const dt = (rng.random() - 0.5) * 0.2;
      if (dt === 0) continue;
      const dw = dt > 0 ? 0.8 * Math.exp(-dt / 0.017) : -0.5 * Math.exp(dt / 0.034);
      pairs.push({ dt, dw: dw + 0.01 * rng.normal() });
    }
    const f = fitStdp(pairs);
    expect(f.Aplus).toBeCloseTo(0.8, 1);
    expect(f.tauPlus).toBeCloseTo(0.017, 2);
    expect(f.Aminus).toBeCloseTo(0.5, 1);
    expect(f.tauMinus).toBeCloseTo(0.034, 2);
  });
});

describe('regimes', () => {
  const base = { rate: 10, cv: 0.8, burstFraction: 0.1, isiThreshold: NaN, activeFraction: 0.01, latched: null, oscillating: false, peakFrequency: NaN, peakRatio: 1 };
  it('applies the documented rules in order', () => {
    expect(classifyRegime({ ...base, rate: 0 }).regime).toBe('quiescent');
    expect(classifyRegime({ ...base, rate: 0, latched: 'x held at its bound' })).toMatchObject({ regime: 'saturated', reason: 'latched: x held at its bound' });
    expect(classifyRegime({ ...base, activeFraction: 0.9 }).regime).toBe('saturated');
    expect(classifyRegime({ ...base, burstFraction: 0.8, isiThreshold: 0.01 }).regime).toBe('bursting');
    expect(classifyRegime({ ...base, burstFraction: 0.8 }).regime).toBe('irregular'); // unimodal intervals: not bursting
    expect(classifyRegime({ ...base, oscillating: true, peakFrequency: 12 }).regime).toBe('oscillatory');
    expect(classifyRegime({ ...base, cv: 0.1 }).regime).toBe('oscillatory');
    expect(classifyRegime(base).regime).toBe('irregular');
    // the reason is words with rounded numbers
    expect(classifyRegime({ ...base, rate: 790.1234567, cv: 0.0123456 }).reason).toBe('regular firing at 790 Hz (interval CV 0.0123, regular up to 0.3)');
  });
  const window = (times: number[], T: number) => ({ times, duration: T, trace: new Float64Array(0), fs: 1000, baseline: 0, threshold: 1, polarity: 'positive' as const });
  it('reference trains: periodic is oscillatory, Poisson irregular (CV ≈ 1, unimodal log-ISI), bursts of a periodic burster are bursting', () => {
    const periodic = Array.from({ length: 500 }, (_, i) => i * 0.002);
    expect(classifyRegime(regimeFeatures(window(periodic, 1))).regime).toBe('oscillatory');
    const rng = new Rng(11);
    const poisson: number[] = [];
    for (let t = rng.exponential(100); t < 20; t += rng.exponential(100)) poisson.push(t);
    const pf = regimeFeatures(window(poisson, 20));
    expect(Math.abs(pf.cv - 1)).toBeLessThan(0.1); // exponential intervals: CV = 1
    expect(classifyRegime(pf).regime).toBe('irregular');
    // 4 spikes 1 ms apart every 10 ms (the nsu-bursting pattern)
    const burster = Array.from({ length: 400 }, (_, i) => Math.floor(i / 4) * 0.01 + (i % 4) * 0.001);
    const bf = regimeFeatures(window(burster, 1));
    expect(bf.burstFraction).toBe(1);
    expect(classifyRegime(bf).regime).toBe('bursting');
  });
  it('latched output: a state at its bound or a flat output beyond the threshold is saturated', () => {
    const x = new Float64Array(1000).fill(1);
    expect(classifyRegime(regimeFeatures({ ...window([], 1), states: [{ name: 'x_switch', values: x }] })).regime).toBe('saturated');
    expect(classifyRegime(regimeFeatures({ ...window([], 1), trace: new Float64Array(1000).fill(2) })).regime).toBe('saturated');
    expect(classifyRegime(regimeFeatures({ ...window([], 1), trace: new Float64Array(1000).fill(0.5) })).regime).toBe('quiescent');
  });
  it('no spikes and no state: a response per unit stimulus held a decade above the run\'s lowest, or a current at the compliance, is saturated; a constant one is not', () => {
    // a switch that turned on at 10 % of the window and stayed on: |i/v| from 1 µS to 1 mS
    const on = Float64Array.from({ length: 1000 }, (_, i) => (i < 100 ? 1e-6 : 1e-3));
    const f = regimeFeatures({ ...window([], 1), transfer: { values: on, lowest: 1e-6, name: 'i_out', unit: 'S' } });
    expect(classifyRegime(f)).toMatchObject({ regime: 'saturated', reason: "latched: i_out per unit stimulus held at 1 mS, over 1000× the run's lowest (1 µS)" });
    // a resistor: the same conduction from the start (ratio 1), and a conduction still rising: quiescent
    const flat = new Float64Array(1000).fill(1e-3);
    expect(classifyRegime(regimeFeatures({ ...window([], 1), transfer: { values: flat, lowest: 1e-3, name: 'i_out', unit: 'S' } })).regime).toBe('quiescent');
    const rising = Float64Array.from({ length: 1000 }, (_, i) => 1e-6 * (1 + i));
    expect(classifyRegime(regimeFeatures({ ...window([], 1), transfer: { values: rising, lowest: 1e-6, name: 'i_out', unit: 'S' } })).regime).toBe('quiescent');
    // an SMU holding its 1 mA compliance
    const i = new Float64Array(1000).fill(1e-3);
    expect(classifyRegime(regimeFeatures({ ...window([], 1), threshold: 1, trace: i, compliance: 1e-3 })).reason).toBe("latched: current held at the instrument's compliance (1 mA)");
    expect(classifyRegime(regimeFeatures({ ...window([], 1), threshold: 1, trace: i.map((v) => v / 2), compliance: 1e-3 })).regime).toBe('quiescent');
  });
  it('phase diagram lists transitions at midpoints along the sweep', () => {
    const d = phaseDiagram(
      [
        { params: { voltage: 2 }, regime: 'bursting' },
        { params: { voltage: 0.5 }, regime: 'quiescent' },
        { params: { voltage: 1 }, regime: 'oscillatory' },
        { params: { voltage: 3 }, regime: 'saturated' },
      ],
      'voltage',
    );
    expect(d.transitions.map((t) => t.at)).toEqual([0.75, 1.5, 2.5]);
    expect(d.transitions[0]).toEqual({ at: 0.75, from: 'quiescent', to: 'oscillatory' });
  });
});

describe('measured vs simulated', () => {
  it('NRMSE, correlation and exponent differences', () => {
    const m = [0, 1, 2, 3, 4];
    expect(nrmse(m, m)).toBe(0);
    expect(nrmse(m, m.map((v) => v + 0.4))).toBeCloseTo(0.1, 12); // rms 0.4 / range 4
    expect(correlation(m, m.map((v) => 3 * v + 1))).toBeCloseTo(1, 12);
    expect(correlation(m, m.map((v) => -v))).toBeCloseTo(-1, 12);
    const d = exponentDifference({ alpha: 1.6, alphaSe: 0.03 }, { alpha: 1.5, alphaSe: 0.04 });
    expect(d.difference).toBeCloseTo(0.1, 12);
    expect(d.se).toBeCloseTo(0.05, 12);
    expect(d.ci[0]).toBeCloseTo(0.1 - 1.959963984540054 * 0.05, 9);
    expect(d.p).toBeCloseTo(0.0455002638963584, 6); // two-sided p for z = 2
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 9);
  });
});
