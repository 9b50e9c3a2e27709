import { describe, expect, it } from 'vitest';
import { MinMaxBuffer } from './minmax-buffer.ts';

/** Pairs of a signal that is 0 except a one-sample spike of 5 at sample `spikeAt`, decimated by `stride`. */
function pairs(n: number, stride: number, spikeAt: number) {
  const min: number[] = [];
  const max: number[] = [];
  for (let k = 0; k < n; k++) {
    const inside = spikeAt >= k * stride && spikeAt < (k + 1) * stride;
    min.push(0);
    max.push(inside ? 5 : 0);
  }
  return { min, max };
}

describe('MinMaxBuffer', () => {
  it('returns the pairs of a window unchanged when there are few per pixel', () => {
    const b = new MinMaxBuffer(1000);
    b.push(0, 1, [1, 2, 3, 4], [1, 2, 3, 4]);
    const w = b.window(0.001, 0.003, 100);
    expect(w.length).toBe(2);
    expect([...w.x.subarray(0, 2)]).toEqual([0.001, 0.002]);
    expect([...w.hi.subarray(0, 2)]).toEqual([2, 3]);
    expect(b.endTime).toBeCloseTo(0.004);
  });

  it('keeps a one-sample spike visible when many pairs fall in one pixel column', () => {
    const b = new MinMaxBuffer(100_000);
    const { min, max } = pairs(10_000, 10, 54_321);
    b.push(0, 10, min, max);
    const w = b.window(0, 1, 200);
    expect(w.length).toBe(200);
    const hi = [...w.hi.subarray(0, w.length)];
    expect(Math.max(...hi)).toBe(5);
    // The spike at t = 0.54321 s lands in column floor(0.54321 * 200) = 108.
    expect(hi.indexOf(5)).toBe(108);
    expect(hi.filter((v) => v === 5)).toHaveLength(1);
    expect(Math.min(...w.lo.subarray(0, w.length))).toBe(0);
  });

  it('marks a jump in sample indices, and a dropped range, as a gap', () => {
    const b = new MinMaxBuffer(1000);
    b.push(0, 1, [1, 1], [1, 1]);
    b.push(5, 1, [2], [2]); // samples 2..4 missing
    const w = b.window(0, 1, 100);
    expect(w.length).toBe(4);
    expect(Number.isNaN(w.lo[2])).toBe(true);
    expect(w.x[2]).toBeCloseTo(0.002);
    b.drop(6, 9);
    b.push(9, 1, [3], [3]);
    const w2 = b.window(0, 1, 100);
    expect([...w2.hi.subarray(0, w2.length)].map((v) => (Number.isNaN(v) ? null : v))).toEqual([1, 1, null, 2, null, 3]);
  });

  it('does not call a jump shorter than one pair a gap', () => {
    const b = new MinMaxBuffer(1000);
    b.push(0, 10, [1], [1]);
    b.push(13, 10, [1], [1]);
    expect(b.size).toBe(2);
  });

  it('overwrites the oldest pairs when full (bounded memory)', () => {
    const b = new MinMaxBuffer(1000, 8);
    for (let i = 0; i < 20; i++) b.push(i, 1, [i], [i]);
    expect(b.size).toBe(8);
    const w = b.window(0, 1, 100);
    expect([...w.lo.subarray(0, w.length)]).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
  });
});
