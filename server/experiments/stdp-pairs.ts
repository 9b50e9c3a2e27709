/**
 * STDP weight changes from runs of the `stdp` protocol: each pairing block has a read pulse before and
 * after it (protocolSegments: "read-before k", "read-after k", value = the block's Δt). The weight is the
 * conductance seen by the read pulse, G = mean response / read amplitude over the middle half of the
 * pulse (edges left out: the response settles); Δw = (G_after − G_before) / |G_before|.
 * Pure: protocol and samples in, (Δt, Δw) pairs out.
 */
import { protocolSegments, type Protocol } from '../protocols/index.ts';

export interface StdpPoint {
  dt: number;
  dw: number;
  gBefore: number;
  gAfter: number;
}

function meanOver(x: ArrayLike<number>, fs: number, startS: number, endS: number): number {
  const len = endS - startS;
  const a = Math.max(0, Math.round((startS + len / 4) * fs));
  const b = Math.min(x.length, Math.max(a + 1, Math.round((endS - len / 4) * fs)));
  let s = 0;
  let n = 0;
  for (let i = a; i < b; i++) {
    if (Number.isFinite(x[i])) {
      s += x[i];
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

/** (Δt, Δw) per pairing block of an STDP protocol, from the response trace (physical units) at `fs`. */
export function stdpPairsFromTrace(protocol: Protocol, response: ArrayLike<number>, fs: number): StdpPoint[] {
  if (protocol.kind !== 'stdp') throw new RangeError(`an STDP curve needs runs of the stdp protocol (this one is ${protocol.kind})`);
  const segs = protocolSegments(protocol);
  const out: StdpPoint[] = [];
  const amp = protocol.readAmplitude;
  for (let k = 0; k < protocol.offsetsS.length; k++) {
    const before = segs.find((s) => s.label === `read-before ${k}`);
    const after = segs.find((s) => s.label === `read-after ${k}`);
    if (!before || !after) continue;
    const gBefore = meanOver(response, fs, before.startS, before.endS) / amp;
    const gAfter = meanOver(response, fs, after.startS, after.endS) / amp;
    const dw = (gAfter - gBefore) / Math.abs(gBefore);
    if (Number.isFinite(dw)) out.push({ dt: protocol.offsetsS[k], dw, gBefore, gAfter });
  }
  return out;
}
