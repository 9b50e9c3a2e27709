/**
 * What a protocol kind declares, in one file per kind under ./kinds/ (listed in ./kinds/index.ts): its
 * schema, its natural length, the values it takes (for the summary checked against bench limits), its
 * sampled waveform, how it compiles to instrument programs (breakpoints, period, SMU staircase), its
 * named segments and a random document generator for property tests. Adding a kind is adding a file.
 *
 * Also the schema pieces the kinds share and the two errors a protocol can raise.
 */
import { Type, type TObject } from 'typebox';
import { AppError } from '../../common/errors.ts';
import type { Gen } from './random.ts';

export type Quantity = 'current' | 'voltage';

/** The fields every validated protocol has. */
export interface ProtocolBase {
  kind: string;
  quantity: Quantity;
  durationS: number;
}

/** A labelled stretch of a protocol's schedule (ladder steps, STDP reads and pairing blocks), s. */
export interface ProtocolSegment {
  label: string;
  startS: number;
  endS: number;
  /** The ladder level or the STDP offset of this segment. */
  value: number;
}

export interface SmuCapabilities {
  /** Longest point list the instrument stores. */
  maxPoints: number;
  /** Shortest time the instrument can hold a point, s. */
  minDwellS: number;
}

export interface SmuPoint {
  value: number;
  dwellS: number;
}

export interface ProtocolKind<P extends ProtocolBase> {
  schema: TObject;
  /**
   * Describes a recording made elsewhere rather than a stimulus to play (kinds/recording.ts): left out of
   * the protocols offered for new runs, and played by no source but `import` (a twin takes its stored channel).
   */
  imported?: true;
  /** Rules the JSON schema cannot state; each throws ProtocolError naming its field. */
  check?(p: P): void;
  /** Length of the protocol's own schedule, s (kinds without one: absent, their durationS is used). */
  naturalDurationS?(p: P): number;
  /** Values whose min and max are the lowest and highest the stimulus takes (`natural`: naturalDurationS). */
  extremes(p: P, natural: number): number[];
  /** The stimulus as a function of time, s. */
  waveform(p: P, natural: number): (t: number) => number;
  /**
   * Piecewise-constant kinds: pushes the times where the value may change (the caller keeps them sorted,
   * inside (0, durationS) and bounded); returns false when this protocol varies continuously after all.
   * Continuous kinds leave it out.
   */
  breakpoints?(p: P, push: (t: number) => void, natural: number): boolean;
  /** Kinds that repeat: one period and how long the periodic part lasts, s (a DAQ table of one period). */
  periodic?(p: P, natural: number): { periodS: number; lengthS: number };
  /** Continuous kinds played as an even staircase: their highest frequency, Hz. */
  highestFrequencyHz?(p: P): number;
  /**
   * Continuous kinds with a staircase of their own (exact vertices, CSV points) instead of the even one:
   * the SMU points up to the natural length; `tailPoints` (0 or 1) follow at 0, added and checked by the caller.
   */
  smuStaircase?(p: P, caps: SmuCapabilities, tailPoints: number): SmuPoint[];
  /** Named parts of the schedule, for markers and analyses. */
  segments?(p: P): ProtocolSegment[];
  /** A random document of this kind (mostly valid), given the quantity and a duration drawn for it. */
  random(g: Gen, quantity: Quantity, durationS: number): Record<string, unknown>;
}

/** AppError BAD_PROTOCOL; `field` is the JSON pointer into the protocol, e.g. "/frequencyHz". */
export class ProtocolError extends AppError {
  declare readonly field: string;
  constructor(field: string, message: string) {
    super('BAD_PROTOCOL', `protocol${field ? ` field ${field}` : ''}: ${message}`, field);
  }
}

export type ProgramCapability = 'maxPoints' | 'minDwellS' | 'maxTableLength' | 'maxSegments' | 'sampleRate' | 'frequencyHz' | 'outputRange';

/** AppError PROGRAM_LIMIT naming the instrument capability the protocol does not fit. */
export class CompileError extends AppError {
  constructor(
    readonly capability: ProgramCapability,
    message: string,
    /** The protocol parameter to blame, e.g. "/stepsPerBranch" (else server/benchconfig atProtocolField places it). */
    param = '',
  ) {
    super('PROGRAM_LIMIT', `${message} (instrument capability ${capability})`, `/protocol${param}`, { capability });
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema pieces shared by the kinds

export const MAX_DURATION_S = 86_400;

/**
 * Every property of a kind's schema carries a `title`, its `unit` where it has one, a `description` and its
 * bounds, so the dashboard's forms (web/src/form) label and check it without guessing from the key. Extra
 * keywords (ignored by validation, as the analyses' `unit`, server/analysis-io/params.ts):
 *   unit          SI unit of the value ('s', 'Hz', '°'); absent for counts, ratios and levels
 *   quantityUnit  'same': a level in the protocol's quantity (A when it is current, V when voltage);
 *                 'other': in the other quantity (a source's compliance)
 */
export interface FieldMeta {
  title: string;
  description: string;
}
export const quantityOf = (dflt: Quantity) =>
  Type.Union([Type.Literal('current'), Type.Literal('voltage')], {
    default: dflt,
    title: 'Quantity',
    description: 'What the stimulus sources: current (A) or voltage (V)',
  });
export const quantity = quantityOf('current');
export const durationS = Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: 1, title: 'Duration', unit: 's', description: 'Run length' });
export const optionalDurationS = Type.Optional(
  Type.Number({
    exclusiveMinimum: 0,
    maximum: MAX_DURATION_S,
    title: 'Duration',
    unit: 's',
    description: 'Run length (default: the natural length of the protocol; beyond it the stimulus is 0)',
  }),
);
/** A value in the protocol's quantity (A or V), within ±1 kV / ±1 kA; the bench limits bound it further. */
export const level = (m: FieldMeta, dflt = 0) => Type.Number({ minimum: -1e3, maximum: 1e3, default: dflt, quantityUnit: 'same', ...m });
/** A magnitude in the protocol's quantity (a vertex of a sweep). */
export const magnitude = (m: FieldMeta) => Type.Number({ exclusiveMinimum: 0, maximum: 1e3, quantityUnit: 'same', ...m });
export const positiveTime = (m: FieldMeta, dflt: number) => Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: dflt, unit: 's', ...m });
/** A time that may be 0 (a delay, a rest). */
export const time = (m: FieldMeta, dflt: number) => Type.Number({ minimum: 0, maximum: MAX_DURATION_S, default: dflt, unit: 's', ...m });
export const frequency = (m: FieldMeta, dflt: number) => Type.Number({ exclusiveMinimum: 0, maximum: 1e7, default: dflt, unit: 'Hz', ...m });
export const phaseDeg = Type.Number({ minimum: -360, maximum: 360, default: 0, title: 'Phase', unit: '°', description: 'Phase at t = 0' });

/** Kinds with a natural length fill in an omitted durationS when validated. */
export type WithDuration<T> = Omit<T, 'durationS'> & { durationS: number };

/** [0] when the run lasts longer than the protocol's natural length (the stimulus is 0 after it). */
export const zeroTail = (p: ProtocolBase, natural: number): number[] => (p.durationS > natural * (1 + 1e-12) ? [0] : []);

export function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}
