import { describe, expect, it } from 'vitest';
import { OnlineSpikeDetector, spikeDetectOptions, spikeDetectorConfig, type SpikeDetectorConfig } from './online-spikes.ts';
import { detectSpikes } from './spikes.ts';

/** A LIF-like sawtooth in 10-bit codes (5 V / 1024 per code): rises from 0, resets to 0 on reaching `top`. */
function sawtooth(n: number, step: number, top: number): { codes: Uint16Array; resets: number[] } {
  const codes = new Uint16Array(n);
  const resets: number[] = [];
  let v = 0;
  for (let k = 0; k < n; k++) {
    v += step;
    if (v >= top) {
      v = 0;
      resets.push(k);
    }
    codes[k] = v;
  }
  return { codes, resets };
}

const CH = { sampleRate: 5000, scale: 5 / 1024, offset: 0 };

function feed(d: OnlineSpikeDetector, codes: ArrayLike<number>, sizes: number[], start = 0): { index: number; value: number }[] {
  const out: { index: number; value: number }[] = [];
  let at = 0;
  let i = 0;
  while (at < codes.length) {
    const n = Math.min(sizes[i++ % sizes.length], codes.length - at);
    out.push(...d.push(start + at, Array.prototype.slice.call(codes, at, at + n)));
    at += n;
  }
  return [...out, ...d.finish()];
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A noisy membrane on a 12-bit ADC (scale 1 mV per code, offset -0.5 V): leaky charging towards a drive that
 * switches on and off, a reset to 0 V at 1.5 V, sub-threshold bumps when the drive stops, noise that makes the
 * trace chatter around any level it crosses slowly.
 */
function noisyMembrane(n: number, seed: number): Int16Array {
  const r = rng(seed);
  const x = new Int16Array(n);
  let v = 0;
  for (let k = 0; k < n; k++) {
    const drive = k % 400 < 250 ? 2.2 : 0;
    v += (drive - v) * 0.04;
    if (v >= 1.5) v = 0;
    x[k] = Math.round((v + 0.02 * (r() - 0.5) + 0.5) / 1e-3);
  }
  return x;
}

describe('OnlineSpikeDetector', () => {
  it('reset: one event per reset of a sawtooth, at the first sample after the drop, whatever the block sizes', () => {
    const { codes, resets } = sawtooth(3000, 37, 310); // 310 codes = 1.51 V
    const whole = feed(new OnlineSpikeDetector({ threshold: 1.5, direction: 'reset' }, CH), codes, [codes.length]);
    expect(whole.map((e) => e.index)).toEqual(resets);
    // the value is the peak before the drop, in volts
    for (const e of whole) expect(e.value).toBeCloseTo(codes[e.index - 1] * CH.scale, 12);
    const split = feed(new OnlineSpikeDetector({ threshold: 1.5, direction: 'reset' }, CH), codes, [1, 7, 64, 3, 500]);
    expect(split).toEqual(whole);
  });

  it('rising and falling excursions re-arm on the way back (noise around the level is one spike), with a negative scale inverting the raw axis', () => {
    const volts = [0, 0.5, 1.2, 1.6, 1.45, 1.6, 2, 1.4, 0.2, 1.7, 1.9, 0.1];
    for (const scale of [0.001, -0.001]) {
      const ch = { sampleRate: 1000, scale, offset: 0.25 };
      const raw = volts.map((v) => (v - ch.offset) / scale);
      const r = new OnlineSpikeDetector({ threshold: 1.5, direction: 'rising' }, ch).push(0, raw);
      // 1.6, 1.45, 1.6, 2: one excursion (1.45 is above its re-arm level), at its peak 2
      expect(r.map((e) => e.index)).toEqual([6, 10]);
      r.forEach((e) => expect(e.value).toBeCloseTo(volts[e.index], 9));
      // below 1.5 from a baseline at 3 V: the dips
      const dips = volts.map((v) => 3 - v);
      const f = new OnlineSpikeDetector({ threshold: 1.5, baseline: 3, direction: 'falling' }, ch).push(0, dips.map((v) => (v - ch.offset) / scale));
      expect(f.map((e) => e.index)).toEqual([6, 10]);
    }
  });

  it('finds the spikes the stored-run detection finds on the same trace, whatever the block sizes (one scan, one reset rule, one dead time)', () => {
    const configs: SpikeDetectorConfig[] = [
      { threshold: 1.0, direction: 'rising' },
      { threshold: 1.0, direction: 'rising', refractoryS: 0.002 },
      { threshold: 0.3, baseline: 1.2, direction: 'falling' },
      { threshold: 1.5, direction: 'reset' },
      { threshold: 1.5, direction: 'reset', dropFraction: 0.3, refractoryS: 0.0005 },
    ];
    const ch = { sampleRate: 5000, scale: 1e-3, offset: -0.5 };
    for (const seed of [1, 2, 3]) {
      const raw = noisyMembrane(6000, seed);
      for (const cfg of configs) {
        // stored: the int16 fast path and the generic path on the same samples
        const stored = detectSpikes(raw, ch.sampleRate, spikeDetectOptions(cfg), ch.scale, ch.offset);
        const generic = detectSpikes(Float64Array.from(raw), ch.sampleRate, spikeDetectOptions(cfg), ch.scale, ch.offset);
        expect(Array.from(generic.indices), JSON.stringify(cfg)).toEqual(Array.from(stored.indices));
        expect(stored.indices.length, JSON.stringify(cfg)).toBeGreaterThan(10);
        const r = rng(seed * 7 + 1);
        const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(r() * 300));
        const live = feed(new OnlineSpikeDetector(cfg, ch), raw, sizes);
        expect(live.map((e) => e.index), `${JSON.stringify(cfg)} seed ${seed}`).toEqual(Array.from(stored.indices));
        live.forEach((e, k) => expect(e.value).toBeCloseTo(stored.peaks[k], 12));
      }
    }
    // the noisy membrane's resets: the reset rule keeps them and leaves out the bumps when the drive stops
    const raw = noisyMembrane(6000, 1);
    const rising = detectSpikes(raw, 5000, spikeDetectOptions({ threshold: 1.0, direction: 'rising' }), 1e-3, -0.5).indices.length;
    const resets = detectSpikes(raw, 5000, spikeDetectOptions({ threshold: 1.5, direction: 'reset' }), 1e-3, -0.5).indices.length;
    expect(resets).toBeLessThan(rising);
    // the reset rule is the online detector's, at a level: a noise threshold would read the resets as peaks
    expect(() => detectSpikes(raw, 5000, { threshold: { mode: 'robust', k: 5 }, reset: 0.5 }, 1e-3, -0.5)).toThrow(/reset needs an absolute threshold/);
  });

  it('refractory time suppresses events starting closer than it to the last one, across blocks', () => {
    const { codes, resets } = sawtooth(2000, 100, 310); // a reset every 4 samples (0.8 ms at 5 kS/s)
    expect(resets.length).toBeGreaterThan(400);
    const got = feed(new OnlineSpikeDetector({ threshold: 1.5, direction: 'reset', refractoryS: 0.001 }, CH), codes, [3, 5]).map((e) => e.index);
    // greedy: every kept spike starts >= 5 samples after the previous kept one (each starts a fixed 3 samples before its reset)
    const want: number[] = [];
    for (const k of resets) if (!want.length || k - want[want.length - 1] >= 5) want.push(k);
    expect(got).toEqual(want);
  });

  it('infers nothing across a gap in the indices, and keeps counting refractory time across it', () => {
    const d = new OnlineSpikeDetector({ threshold: 1.5, direction: 'rising', refractoryS: 0.01 }, { sampleRate: 1000, scale: 1, offset: 0 });
    expect(d.push(0, [0, 2, 0])).toEqual([{ index: 1, value: 2 }]);
    // an excursion open at a gap (samples 5..9 lost) is dropped, its end unknown
    expect(d.push(3, [2, 2])).toEqual([]);
    expect(d.push(10, [0])).toEqual([]);
    // starts at 12, more than 10 samples after the event's start at 1: emitted; 14 is within 10 of 12: suppressed
    expect(d.push(11, [0, 2, 0, 2, 0])).toEqual([{ index: 12, value: 2 }]);
    expect(d.push(16, [])).toEqual([]);
    expect(d.push(30, [0, 2, 3])).toEqual([]);
    // the stream ends inside an excursion: it ends there
    expect(d.finish()).toEqual([{ index: 32, value: 3 }]);
    expect(d.count).toBe(3);
  });

  it('validates its configuration, naming the field', () => {
    expect(spikeDetectorConfig({ threshold: 1, direction: 'reset', refractoryS: 0.001 })).toEqual({ threshold: 1, direction: 'reset', refractoryS: 0.001 });
    expect(() => spikeDetectorConfig({ threshold: 'x', direction: 'rising' }, 'ch.spikes')).toThrow(/ch\.spikes\.threshold/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'up' })).toThrow(/spikes\.direction: must be one of "rising", "falling", "reset"/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'rising', refractoryS: -1 })).toThrow(/refractoryS/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'rising', thresh: 2 })).toThrow(/spikes\.thresh: is not a field/);
    expect(() => spikeDetectorConfig({ threshold: 0, direction: 'reset' })).toThrow(/must not be 0/);
    expect(() => spikeDetectorConfig({ threshold: 1.5, direction: 'falling' })).toThrow(/below the baseline 0.*set baseline/);
    expect(() => spikeDetectorConfig({ threshold: -1, direction: 'rising' })).toThrow(/above the baseline 0/);
    expect(() => spikeDetectorConfig([1])).toThrow(/^spikes: must be object/);
  });
});
