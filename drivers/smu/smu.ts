/**
 * What every SMU driver offers (Keithley 2400, Keithley 2600B, Keysight B2900), in SI units.
 * Sourcing voltage means the compliance is a current limit, and vice versa.
 */
import type { Session } from '../transport/session.ts';

export type SourceFunction = 'voltage' | 'current';

/** One measurement: voltage (V), current (A), instrument timestamp (s, instrument's clock). */
export interface Reading {
  v: number;
  i: number;
  t: number;
}

export interface SourceSetup {
  func: SourceFunction;
  /** Initial level (V or A). */
  level: number;
  /** Current limit (A) when sourcing voltage; voltage limit (V) when sourcing current. */
  compliance: number;
  /** Source range (V or A), or 'auto' (default). */
  sourceRange?: number | 'auto';
  /** Measure range of the other quantity (A or V), or 'auto' (default). */
  measureRange?: number | 'auto';
  /** Integration time in power-line cycles (default 1). */
  nplc?: number;
  /** 4-wire (remote) sensing. */
  fourWire?: boolean;
}

export interface SweepOptions {
  /** Source delay before each measurement, s (default 0). */
  delayS?: number;
}

/** Ratings of the model (absolute maxima the driver accepts). */
export interface SmuRatings {
  maxVoltage: number;
  maxCurrent: number;
}

/**
 * What the instrument can play as a source program (a point list with a dwell per point): the longest list
 * one buffered sweep holds and the shortest time it holds a point. Same shape as compile.ts's SmuCapabilities.
 */
export interface SmuCapabilities {
  maxPoints: number;
  minDwellS: number;
}

export interface SmuDriver {
  readonly model: string;
  readonly idn: string;
  readonly session: Session;
  readonly ratings: SmuRatings;
  readonly capabilities: SmuCapabilities;
  /** The setup last applied with `configure` (null until then). */
  readonly setup: SourceSetup | null;
  /** *RST and *CLS; leaves the output off. */
  reset(): Promise<void>;
  /** Source function, compliance (first), ranges, NPLC, sensing, level. Output state unchanged. */
  configure(setup: SourceSetup): Promise<void>;
  /** Sets the source level on the configured function (checked against the ratings, errors not drained). */
  setLevel(level: number): Promise<void>;
  output(on: boolean): Promise<void>;
  isOutputOn(): Promise<boolean>;
  /**
   * One reading (output must be on). The error queue is read only if no reply comes (call
   * `session.checkErrors()` to check after a series of unchecked level changes and readings).
   */
  read(): Promise<Reading>;
  /** Sets the level and takes one reading in a single command line (one round trip per point). */
  levelAndRead(level: number): Promise<Reading>;
  /** Buffered list sweep in the instrument's trigger model; all readings read out in bulk at the end. */
  listSweep(levels: number[], opts?: SweepOptions): Promise<Reading[]>;
  close(): Promise<void>;
}

/** Levels of a staircase from start to stop in steps of `step` (inclusive of stop when it lands on it). */
export function staircase(start: number, stop: number, step: number): number[] {
  if (!(step > 0)) throw new RangeError('staircase step must be > 0');
  const n = Math.floor(Math.abs(stop - start) / step + 1e-9);
  const dir = stop >= start ? 1 : -1;
  return Array.from({ length: n + 1 }, (_, k) => Number((start + dir * k * step).toPrecision(12)));
}

/** A triangular I-V loop 0 → +peak → -peak → 0 with `pointsPerBranch` points per quarter. */
export function ivLoop(peak: number, pointsPerQuarter: number): number[] {
  const out: number[] = [];
  const q = pointsPerQuarter;
  for (let k = 0; k < q; k++) out.push((peak * k) / q);
  for (let k = 0; k < 2 * q; k++) out.push(peak - (peak * k) / q);
  for (let k = 0; k <= q; k++) out.push(-peak + (peak * k) / q);
  return out.map((v) => Number(v.toPrecision(12)));
}

/** Levels of a pulse train as a list sweep: each pulse is `peak` then `base`, `count` times. */
export function pulseTrainLevels(base: number, peak: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(peak, base);
  return out;
}
