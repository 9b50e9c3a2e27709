import { describe, expect, it } from 'vitest';
import { OnlineSpikeDetector, spikeDetectorConfig } from './online-spikes.ts';

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
  return out;
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

  it('rising and falling crossings, with a negative scale inverting the raw axis', () => {
    const volts = [0, 0.5, 1.2, 1.6, 2, 1.4, 0.2, 1.7, 1.9, 0.1];
    const rise = volts.flatMap((v, k) => (k > 0 && volts[k - 1] < 1.5 && v >= 1.5 ? [k] : []));
    const fall = volts.flatMap((v, k) => (k > 0 && volts[k - 1] > 1.5 && v <= 1.5 ? [k] : []));
    for (const scale of [0.001, -0.001]) {
      const ch = { sampleRate: 1000, scale, offset: 0.25 };
      const raw = volts.map((v) => (v - ch.offset) / scale);
      expect(new OnlineSpikeDetector({ threshold: 1.5, direction: 'rising' }, ch).push(0, raw).map((e) => e.index)).toEqual(rise);
      expect(new OnlineSpikeDetector({ threshold: 1.5, direction: 'falling' }, ch).push(0, raw).map((e) => e.index)).toEqual(fall);
      const r = new OnlineSpikeDetector({ threshold: 1.5, direction: 'rising' }, ch).push(0, raw);
      r.forEach((e) => expect(e.value).toBeCloseTo(volts[e.index], 9));
    }
  });

  it('refractory time suppresses events closer than it to the last one, across blocks', () => {
    const { codes, resets } = sawtooth(2000, 100, 310); // a reset every 4 samples (0.8 ms at 5 kS/s)
    expect(resets.length).toBeGreaterThan(400);
    const got = feed(new OnlineSpikeDetector({ threshold: 1.5, direction: 'reset', refractoryS: 0.001 }, CH), codes, [3, 5]).map((e) => e.index);
    // greedy: every kept reset is >= 5 samples after the previous kept one, and each skipped one was too close
    const want: number[] = [];
    for (const k of resets) if (!want.length || k - want[want.length - 1] >= 5) want.push(k);
    expect(got).toEqual(want);
  });

  it('infers nothing across a gap in the indices, and keeps counting refractory time across it', () => {
    const d = new OnlineSpikeDetector({ threshold: 1.5, direction: 'rising', refractoryS: 0.01 }, { sampleRate: 1000, scale: 1, offset: 0 });
    expect(d.push(0, [0, 2])).toEqual([{ index: 1, value: 2 }]);
    expect(d.push(2, [0])).toEqual([]);
    // samples 3..9 lost: the 0 -> 2 "crossing" across the gap is not an event
    expect(d.push(10, [2, 0])).toEqual([]);
    // index 12 is within 10 samples of the event at 1? no (11 samples): emitted; 14 is within 10 of 12: suppressed
    expect(d.push(12, [2, 0, 2])).toEqual([{ index: 12, value: 2 }]);
    expect(d.push(15, [])).toEqual([]);
    expect(d.push(15, [0, 2])).toEqual([]);
    expect(d.push(30, [0, 2])).toEqual([{ index: 31, value: 2 }]);
    expect(d.count).toBe(3);
  });

  it('validates its configuration, naming the field', () => {
    expect(spikeDetectorConfig({ threshold: 1, direction: 'reset', refractoryS: 0.001 })).toEqual({ threshold: 1, direction: 'reset', refractoryS: 0.001 });
    expect(() => spikeDetectorConfig({ threshold: 'x', direction: 'rising' }, 'ch.spikes')).toThrow(/ch\.spikes\.threshold/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'up' })).toThrow(/spikes\.direction: must be one of "rising", "falling", "reset"/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'rising', refractoryS: -1 })).toThrow(/refractoryS/);
    expect(() => spikeDetectorConfig({ threshold: 1, direction: 'rising', thresh: 2 })).toThrow(/spikes\.thresh: is not a field/);
    expect(() => spikeDetectorConfig({ threshold: 0, direction: 'reset' })).toThrow(/must not be 0/);
    expect(() => spikeDetectorConfig([1])).toThrow(/^spikes: must be object/);
  });
});
