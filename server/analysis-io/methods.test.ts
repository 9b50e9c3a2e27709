import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Signal } from './inputs.ts';
import { canonical, runAnalysis } from './results.ts';
import { snakeKey, toJson, type ExtraFields } from './json.ts';

/** A 2 s trace at 10 kS/s with `n` evenly spaced unit pulses on a flat baseline with small deterministic ripple. */
function pulses(n: number, protocol: Record<string, unknown> = {}): Signal {
  const fs = 10_000;
  const x = new Float64Array(2 * fs);
  for (let i = 0; i < x.length; i++) x[i] = 0.01 * Math.sin(i * 0.7) * Math.cos(i * 0.13);
  for (let k = 0; k < n; k++) {
    const c = Math.floor(((k + 0.5) * x.length) / n);
    for (let j = -3; j <= 3; j++) x[c + j] += Math.exp(-(j * j) / 2);
  }
  return { source: 'run', run: { protocol } as never, channels: [{ name: 'v', unit: 'V', role: 'response', fs, samples: x, scale: 1, offset: 0, filled: 0 }] };
}

describe('method layer', () => {
  it('resonance from one run per frequency: spike rates 2, 4, 20, 6 Hz at 1, 2, 5, 10 Hz drive', async () => {
    // rates are counts / 2 s; peak at 5 Hz; onset level 2 + 0.1·(20 - 2) = 3.8 Hz is crossed between 1 and 2 Hz
    const sigs = [4, 8, 40, 12].map((n, i) => pulses(n, { frequencyHz: [1, 2, 5, 10][i] }));
    const r = (await runAnalysis('resonance', sigs, {})) as { points: { response: number }[]; resonance_frequency_hz: number; onset_frequency_hz: number; optimal_frequency_hz: number };
    expect(r.points.map((p) => p.response)).toEqual([2, 4, 20, 6]);
    expect(r.resonance_frequency_hz).toBe(5);
    expect(r.onset_frequency_hz).toBeCloseTo(1 + (3.8 - 2) / (4 - 2), 12);
    expect(r.optimal_frequency_hz).toBe(1);
  });
  it('resonance of a chirp run reads the stored protocol (log sweep) with no frequency flags; a silent run is "no response"', async () => {
    // a log chirp 10 Hz → 1 kHz over 2 s: f(t) = 10·100^(t/2); pulses only while f is within 100-200 Hz (t in [1, 1.3] s)
    const chirp = { kind: 'chirp', startHz: 10, stopHz: 1000, sweep: 'log', durationS: 2 };
    const fs = 10_000;
    const x = new Float64Array(2 * fs);
    for (let i = 0; i < x.length; i++) x[i] = 0.01 * Math.sin(i * 0.7) * Math.cos(i * 0.13);
    for (let c = 1.0 * fs; c < 1.3 * fs; c += 100) for (let j = -3; j <= 3; j++) x[c + j] += Math.exp(-(j * j) / 2);
    const sig: Signal = { source: 'run', runId: 1, run: { protocol: chirp } as never, channels: [{ name: 'v', unit: 'V', role: 'response', fs, samples: x, scale: 1, offset: 0, filled: 0 }] };
    const r = (await runAnalysis('resonance', [sig], {})) as { chirp: { sweep: string }; resonance_frequency_hz: number; resonance_uncertainty_hz: number; no_response: boolean; measures: { harmonics: unknown } };
    expect(r.chirp.sweep).toBe('log');
    expect(r.no_response).toBe(false);
    expect(r.resonance_frequency_hz).toBeGreaterThan(100 / 1.3);
    expect(r.resonance_frequency_hz).toBeLessThan(200 * 1.3);
    // 20 windows over two decades: the window around f spans f·(100^(1/40) − 100^(−1/40)): the uncertainty
    expect(r.resonance_uncertainty_hz / r.resonance_frequency_hz).toBeCloseTo(100 ** (1 / 40) - 100 ** (-1 / 40), 6);
    const silent: Signal = { ...sig, channels: [{ ...sig.channels[0], samples: new Float64Array(2 * fs) }] };
    const none = (await runAnalysis('resonance', [silent], { threshold: 'absolute', value: 0.5 })) as { no_response: boolean; resonance_frequency_hz: null; reason: string };
    expect(none.no_response).toBe(true);
    expect(none.resonance_frequency_hz).toBeNull();
    expect(none.reason).toMatch(/^no response/);
    // not a chirp and no f0/f1: a clear error
    await expect(runAnalysis('resonance', [{ ...sig, run: { protocol: { kind: 'dc' } } as never }], {})).rejects.toThrow(/protocol is a dc, not a chirp/);
  });
  it('regime over several inputs gives a phase diagram along the parameter', async () => {
    const r = (await runAnalysis('regime', [pulses(0, { amplitude: 0.5 }), pulses(40, { amplitude: 1 })], { param: 'amplitude' })) as {
      runs: { regime: string }[];
      phase_diagram: { transitions: { at: number }[] };
    };
    expect(r.runs.map((x) => x.regime)).toEqual(['quiescent', 'oscillatory']);
    expect(r.phase_diagram.transitions[0].at).toBe(0.75);
  });
  it('results are snake_case JSON: keys converted, typed arrays as arrays, non-finite numbers null', () => {
    expect(snakeKey('lockingTimeS')).toBe('locking_time_s');
    expect(snakeKey('log10Isi')).toBe('log10_isi');
    expect(snakeKey('R')).toBe('R');
    expect(snakeKey('ks_d')).toBe('ks_d');
    expect(toJson({ rateHz: 2, times: Float64Array.of(1, NaN), inner: [{ meanPhase: Infinity }] })).toEqual({ rate_hz: 2, times: [1, null], inner: [{ mean_phase: null }] });
  });
  it("toJson's type is what it does (the registry checks each analysis's result against its schema with it)", () => {
    const j = toJson({ lockingTimeS: 1, log10Isi: 2, R: 3, Aplus: 4, ks_d: 5, fooBAR: 6, times: Float64Array.of(1), inner: [{ meanPhase: 1 }], note: undefined as string | undefined });
    expect(Object.keys(j)).toEqual(['locking_time_s', 'log10_isi', 'R', 'Aplus', 'ks_d', 'foo_bar', 'times', 'inner']);
    expectTypeOf(j).toEqualTypeOf<{
      locking_time_s: number;
      log10_isi: number;
      R: number;
      Aplus: number;
      ks_d: number;
      foo_bar: number;
      times: number[];
      inner: { mean_phase: number }[];
      note: string | undefined;
    }>();
    // fields a closed schema has no place for, named by their path; none when the object fits one shape of a union
    expectTypeOf<ExtraFields<{ a: number; b: { c: number; d: number }[] }, { a: number; b: { c: number }[] }>>().toEqualTypeOf<'b[].d'>();
    expectTypeOf<ExtraFields<{ x: { y: number; z: number } | null }, { x: { y: number } | null }>>().toEqualTypeOf<'x.z'>();
    expectTypeOf<ExtraFields<{ b: string }, { a: number } | { b: string }>>().toBeNever();
  });
  it('parameters: defaults applied, typos and bad values refused naming the field', async () => {
    await expect(runAnalysis('bursts', pulses(4), { min_spike: 3 })).rejects.toThrow(/min_spike/);
    await expect(runAnalysis('bursts', pulses(4), { k: -1 })).rejects.toMatchObject({ field: '/k' });
    const r = (await runAnalysis('bursts', pulses(4), {})) as { method: string };
    expect(r.method).toBe('log-isi');
  });
  it('canonical parameters ignore key order and undefined values', () => {
    expect(canonical({ b: 1, a: [2, { d: undefined, c: 3 }] })).toBe(canonical({ a: [2, { c: 3 }], b: 1 }));
  });
});

describe('caps where the cost explodes (docs/security.md)', () => {
  /** A 100 s run at 1 kS/s whose stored spike events are `n` evenly spaced times. */
  const eventsRun = (n: number): Signal => ({
    source: 'run',
    runId: 1,
    channels: [{ name: 'v', unit: 'V', role: 'response', fs: 1000, samples: new Float64Array(100_000), scale: 1, offset: 0, filled: 0, spikeEvents: Array.from({ length: n }, (_, k) => ({ index: Math.floor((k * 100_000) / n), timeS: (k * 100) / n, value: null })) }],
  });

  it('avalanches: a bin width that makes more than MAX_AVALANCHE_BINS bins is a 400 naming /bin_width, before anything is allocated', async () => {
    const err = await runAnalysis('avalanches', eventsRun(50), { events: true, bin_width: 1e-9 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', field: '/bin_width' });
    expect(String((err as Error).message)).toMatch(/1\.00e\+11 bins; at most MAX_AVALANCHE_BINS = 1e\+8/);
    await expect(runAnalysis('avalanches', eventsRun(50), { events: true, bin_width: 1e-3 })).resolves.toMatchObject({ n_events: 50, bin_width_s: 1e-3 });
  });

  it('avalanches: the default bin width is capped too (two events 1 µs apart in a 100 s run: 1e8 bins of 1 µs)', async () => {
    const run = eventsRun(2);
    run.channels[0].spikeEvents = [{ index: 50_000, timeS: 50, value: null }, { index: 50_000, timeS: 50 + 1e-7, value: null }];
    const err = await runAnalysis('avalanches', run, { events: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', field: '/bin_width' });
    expect(String((err as Error).message)).toMatch(/the default bin width \(mean inter-event interval\) 1\.00e-7 s over 100 s makes 1\.00e\+9 bins/);
  });

  it('compare: Victor–Purpura over more than MAX_COMPARE_PAIR_WORK spike pairs is not computed (null, with a warning); the linear distances are', async () => {
    const r = (await runAnalysis('compare', [eventsRun(32_000), eventsRun(32_000)], { events: true })) as { victor_purpura: number | null; van_rossum: number | null; isi_distance: number | null; warnings: string[] };
    expect(r.victor_purpura).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/Victor–Purpura not computed \(null\): 32000 × 32000 spikes need 1\.0e\+9 spike-pair operations; at most MAX_COMPARE_PAIR_WORK = 1e\+9/);
    expect(r.van_rossum).toBe(0);
    expect(r.isi_distance).toBe(0);
    // a lab-sized pair is computed: two 10-minute trains at 20 Hz (1.4e8 pairs, over the distance route's 1e8)
    const lab = (await runAnalysis('compare', [eventsRun(12_000), eventsRun(12_000)], { events: true })) as { victor_purpura: number | null };
    expect(lab.victor_purpura).toBe(0);
  });
});
