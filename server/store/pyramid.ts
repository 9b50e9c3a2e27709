/**
 * The min/max pyramid's geometry and the blob codec, shared by the writer and the reader.
 *
 * Level 0 holds raw samples. Level l >= 1 holds one (min, max) pair per bucket of BUCKET[l] samples;
 * buckets are aligned to the absolute sample index: bucket j of level l covers [j*B, (j+1)*B). Each level
 * is built from the level below (FACTOR buckets make one), so any level's bucket is the exact min/max of
 * the raw samples present in it.
 */
import { SAMPLE_ARRAY, type SampleArray, type SampleType } from '../../common/run-stream.ts';
import { endianness } from 'node:os';

export const FACTOR = 8;
export const BASE_BUCKET = 64;
/** Levels 1..MAX_LEVEL exist. */
export const MAX_LEVEL = 7;
/** BUCKET[l] = samples per bucket at level l (BUCKET[0] = 1). */
export const BUCKET: readonly number[] = Array.from({ length: MAX_LEVEL + 1 }, (_, l) =>
  l === 0 ? 1 : BASE_BUCKET * FACTOR ** (l - 1),
);
/** Items per row: samples at level 0, buckets (min/max pairs) above. */
export const ROW_CAP: readonly number[] = BUCKET.map((_, l) => (l === 0 ? 65536 : 32768));
export const MAX_PIXELS = 10000;

if (endianness() !== 'LE') throw new Error('spikeloop store: blobs are little-endian; big-endian hosts are not supported');

/** The coarsest level whose bucket fits in one pixel: BUCKET[level] <= (end - start) / pixels. */
export function levelFor(start: number, end: number, pixels: number): number {
  const spp = (end - start) / pixels;
  let level = 0;
  while (level < MAX_LEVEL && BUCKET[level + 1]! <= spp) level++;
  return level;
}

/**
 * Pixel p of an envelope covers samples [edges[p], edges[p+1]). Interior edges are
 * start + floor(p * (end - start) / pixels), rounded down to a multiple of BUCKET[level] and clamped to
 * [start, end], so every pyramid bucket falls in exactly one pixel and the envelope is exact.
 */
export function pixelEdges(start: number, end: number, pixels: number, level = levelFor(start, end, pixels)): Float64Array {
  const B = BUCKET[level]!;
  const edges = new Float64Array(pixels + 1);
  edges[0] = start;
  edges[pixels] = end;
  const span = end - start;
  for (let p = 1; p < pixels; p++) {
    const x = start + Math.floor((p * span) / pixels);
    edges[p] = Math.min(end, Math.max(start, Math.floor(x / B) * B));
  }
  return edges;
}

/** A typed-array view of a blob in the given dtype; copies when the blob is not aligned for it. */
export function decodeBlob(buf: Uint8Array, dtype: SampleType): SampleArray {
  const Ctor = SAMPLE_ARRAY[dtype] as unknown as {
    new (b: ArrayBufferLike, off: number, len: number): SampleArray;
    BYTES_PER_ELEMENT: number;
  };
  const size = Ctor.BYTES_PER_ELEMENT;
  const n = Math.floor(buf.byteLength / size);
  if (buf.byteOffset % size === 0) return new Ctor(buf.buffer, buf.byteOffset, n);
  const copy = new Uint8Array(n * size);
  copy.set(buf.subarray(0, n * size));
  return new Ctor(copy.buffer, 0, n);
}

/** A Buffer over the typed array's bytes (no copy). */
export function encodeBlob(a: SampleArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
