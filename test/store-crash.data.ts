/** The crash test's deterministic signal: sample i as int16 (a hash of i, so neighbouring samples differ). */
export function crashSample(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h << 16) >> 16;
}
