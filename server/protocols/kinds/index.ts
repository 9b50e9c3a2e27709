/**
 * The protocol kinds, one file each. This list is the only place a kind is named: validation, summary,
 * waveform, compilation, segments, the API's schemas and the random generator all read it.
 */
import type { ProtocolKind } from '../kind.ts';
import { arbitrary } from './arbitrary.ts';
import { chirp } from './chirp.ts';
import { dc } from './dc.ts';
import { ivSweep } from './iv-sweep.ts';
import { ladder } from './ladder.ts';
import { pulseTrain } from './pulse-train.ts';
import { recording } from './recording.ts';
import { sine } from './sine.ts';
import { square } from './square.ts';
import { stdp } from './stdp.ts';

export const PROTOCOL_KINDS = {
  dc,
  square,
  'pulse-train': pulseTrain,
  sine,
  chirp,
  'iv-sweep': ivSweep,
  ladder,
  stdp,
  arbitrary,
  recording,
};

export type ProtocolKindName = keyof typeof PROTOCOL_KINDS;
/** A validated protocol of any kind. */
export type Protocol = (typeof PROTOCOL_KINDS)[ProtocolKindName] extends infer K ? (K extends ProtocolKind<infer P> ? P : never) : never;

/** The declaration of p's kind. */
export const kindOf = (p: Protocol): ProtocolKind<Protocol> => PROTOCOL_KINDS[p.kind] as unknown as ProtocolKind<Protocol>;
