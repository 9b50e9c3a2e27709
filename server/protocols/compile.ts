/**
 * Compilation of a validated protocol to instrument programs. Pure: protocol and instrument
 * capabilities in, program out; nothing is written to a wire here.
 *
 * - SMU point list: source values with a dwell per point (a Keithley 2400 list sweep holds at most
 *   2,500 points). Piecewise-constant protocols compile exactly at their breakpoints; continuous ones
 *   (sine, chirp, I-V triangle, linear CSV) become a staircase.
 * - DAQ waveform program: tables of samples played at the board's sample rate; each segment plays
 *   `samples` samples cycling through one table. A periodic protocol needs one period's table; a
 *   piecewise-constant one needs one-sample tables per level; anything else needs the whole waveform
 *   in one table. The board's table memory and segment list are limited.
 *
 * An instrument that cannot play a protocol faithfully refuses it (CompileError naming the capability),
 * never silently clips or drops parts of it. Bench limits (voltage, current, power) are checked by
 * server/benchconfig `checkLimits`, on the summary before compiling and on the program after.
 */
import { naturalDurationS, sampleStimulus, waveform, type Protocol } from './index.ts';
import { CompileError, type ProgramCapability, type SmuCapabilities, type SmuPoint } from './kind.ts';
import { kindOf } from './kinds/index.ts';
import { DAQ_DEFAULTS, SMU_DEFAULTS, type DaqCapabilities } from './capabilities.ts';

export { CompileError, type ProgramCapability, type SmuCapabilities, type SmuPoint } from './kind.ts';
export { DAQ_DEFAULTS, SMU_DEFAULTS, type DaqCapabilities } from './capabilities.ts';

export interface SmuProgram {
  type: 'smu';
  quantity: 'current' | 'voltage';
  unit: 'A' | 'V';
  points: SmuPoint[];
  durationS: number;
}

export interface DaqSegment {
  /** Index into tables. */
  table: number;
  /** Samples played, cycling through the table from its start. */
  samples: number;
}

export interface DaqProgram {
  type: 'daq';
  quantity: 'current' | 'voltage';
  unit: 'A' | 'V';
  sampleRate: number;
  totalSamples: number;
  tables: Float64Array[];
  segments: DaqSegment[];
}

const unitOf = (p: Protocol) => (p.quantity === 'current' ? 'A' : 'V') as 'A' | 'V';

// ---------------------------------------------------------------------------------------------------
// Breakpoints of piecewise-constant protocols

/** Too many pieces to enumerate: the caller's limit is exceeded. */
class TooMany extends Error {}

/**
 * Times where a piecewise-constant protocol may change value, sorted, from 0 to durationS inclusive;
 * null for protocols that vary continuously. Throws TooMany beyond `cap` times.
 */
function breakpoints(p: Protocol, cap: number): number[] | null {
  const T = p.durationS;
  const out: number[] = [0];
  const push = (t: number) => {
    if (t > out[out.length - 1] && t < T) {
      if (out.length >= cap) throw new TooMany();
      out.push(t);
    }
  };
  const kind = kindOf(p);
  if (!kind.breakpoints?.(p, push, naturalDurationS(p))) return null;
  out.push(T);
  return out;
}

interface Piece {
  t0: number;
  t1: number;
  value: number;
}

/** Constant pieces (adjacent equal values merged), or null for continuous protocols. */
function constantPieces(p: Protocol, cap: number): Piece[] | null {
  const times = breakpoints(p, cap);
  if (!times) return null;
  const f = waveform(p);
  const pieces: Piece[] = [];
  for (let i = 0; i + 1 < times.length; i++) {
    const t0 = times[i];
    const t1 = times[i + 1];
    if (!(t1 > t0)) continue;
    const value = f((t0 + t1) / 2);
    const last = pieces[pieces.length - 1];
    if (last && last.value === value) last.t1 = t1;
    else pieces.push({ t0, t1, value });
  }
  return pieces;
}

/**
 * A piecewise-constant protocol as its exact constant pieces for the twin: value `values[k]` from
 * `times[k]` (s, times[0] = 0); null for continuous protocols or beyond `cap` pieces.
 */
export function stimulusPieces(p: Protocol, cap = 1_000_000): { times: Float64Array; values: Float64Array } | null {
  let pieces: Piece[] | null;
  try {
    pieces = constantPieces(p, cap);
  } catch (e) {
    if (e instanceof TooMany) return null;
    throw e;
  }
  if (!pieces?.length || pieces[0].t0 !== 0) return null;
  return { times: Float64Array.from(pieces, (q) => q.t0), values: Float64Array.from(pieces, (q) => q.value) };
}

/** Highest frequency content of a continuous protocol, Hz (for the staircase resolution check). */
const highestFrequencyHz = (p: Protocol): number => kindOf(p).highestFrequencyHz?.(p) ?? 0;

/** Staircase points per period the SMU must reach for a sine or chirp. */
export const SMU_POINTS_PER_PERIOD = 8;

// ---------------------------------------------------------------------------------------------------
// SMU point list

/** Compiles to an SMU point list; throws CompileError naming maxPoints or minDwellS when it does not fit. */
export function compileSmuProgram(p: Protocol, caps: SmuCapabilities = SMU_DEFAULTS): SmuProgram {
  const base = { type: 'smu', quantity: p.quantity, unit: unitOf(p), durationS: p.durationS } as const;
  const tol = 1e-9;
  const check = (points: SmuPoint[]): SmuProgram => {
    if (points.length > caps.maxPoints) {
      throw new CompileError('maxPoints', `the protocol needs ${points.length} source points; the SMU holds ${caps.maxPoints}`);
    }
    const shortest = points.reduce((m, pt) => Math.min(m, pt.dwellS), Infinity);
    if (shortest < caps.minDwellS * (1 - tol)) {
      throw new CompileError('minDwellS', `a source point lasts ${shortest} s; the SMU holds a point at least ${caps.minDwellS} s`);
    }
    return { ...base, points };
  };

  let pieces: Piece[] | null;
  try {
    pieces = constantPieces(p, caps.maxPoints * 4 + 16);
  } catch (err) {
    if (err instanceof TooMany) {
      throw new CompileError('maxPoints', `the protocol changes level more than ${caps.maxPoints} times; the SMU holds ${caps.maxPoints} points`);
    }
    throw err;
  }
  if (pieces) return check(pieces.map((pc) => ({ value: pc.value, dwellS: pc.t1 - pc.t0 })));

  const f = waveform(p);
  const natural = naturalDurationS(p);
  const tail = p.durationS - natural > tol * p.durationS ? [{ value: 0, dwellS: p.durationS - natural }] : [];

  // kinds with a staircase of their own (I-V vertices, CSV points)
  const own = kindOf(p).smuStaircase?.(p, caps, tail.length);
  if (own) return check([...own, ...tail]);

  // the others (sine, chirp): an even staircase, as fine as the SMU allows, at least SMU_POINTS_PER_PERIOD per period
  const n = Math.min(caps.maxPoints, Math.floor(p.durationS / caps.minDwellS + tol));
  const needed = Math.ceil(SMU_POINTS_PER_PERIOD * highestFrequencyHz(p) * p.durationS);
  if (n < needed || n < 1) {
    const byDwell = Math.floor(p.durationS / caps.minDwellS + tol) < needed;
    throw new CompileError(
      byDwell ? 'minDwellS' : 'maxPoints',
      `${p.kind} up to ${highestFrequencyHz(p)} Hz over ${p.durationS} s needs ${needed} points (${SMU_POINTS_PER_PERIOD} per period); the SMU allows ${n}`,
    );
  }
  const dwell = p.durationS / n;
  return check(Array.from({ length: n }, (_, k) => ({ value: f(k * dwell), dwellS: dwell })));
}

// ---------------------------------------------------------------------------------------------------
// DAQ waveform program

/** Period and how long the periodic part lasts, for protocols that repeat. */
const periodicPart = (p: Protocol): { periodS: number; lengthS: number } | null => kindOf(p).periodic?.(p, naturalDurationS(p)) ?? null;

/** Compiles to a DAQ waveform program; throws CompileError naming the capability that does not fit. */
export function compileDaqProgram(p: Protocol, caps: DaqCapabilities = DAQ_DEFAULTS): DaqProgram {
  const rate = caps.sampleRate;
  if (!(rate > 0)) throw new CompileError('sampleRate', `sample rate ${rate} S/s must be > 0`);
  const totalSamples = Math.round(p.durationS * rate);
  if (totalSamples < 1) throw new CompileError('sampleRate', `${p.durationS} s is shorter than one sample at ${rate} S/s`);
  const base = { type: 'daq', quantity: p.quantity, unit: unitOf(p), sampleRate: rate, totalSamples } as const;
  const atIndex = (t: number) => Math.min(totalSamples, Math.max(0, Math.ceil(t * rate - 1e-9)));
  const reasons: string[] = [];
  let capability: ProgramCapability = 'maxTableLength';

  // 1. piecewise constant: a one-sample table per level, one segment per piece
  let pieces: Piece[] | null = null;
  try {
    pieces = constantPieces(p, caps.maxSegments * 4 + 16);
  } catch (err) {
    if (!(err instanceof TooMany)) throw err;
    reasons.push(`more than ${caps.maxSegments} level changes (maxSegments ${caps.maxSegments})`);
    capability = 'maxSegments';
  }
  if (pieces) {
    const tables: Float64Array[] = [];
    const tableOf = new Map<number, number>();
    const segments: DaqSegment[] = [];
    const f = waveform(p);
    const run = (value: number, samples: number) => {
      if (samples <= 0) return;
      let ti = tableOf.get(value);
      if (ti === undefined) {
        ti = tables.push(Float64Array.of(value)) - 1;
        tableOf.set(value, ti);
      }
      const last = segments[segments.length - 1];
      if (last && last.table === ti) last.samples += samples;
      else segments.push({ table: ti, samples });
    };
    for (const pc of pieces) {
      // Interior samples take the piece's value; the edge samples are evaluated exactly as sampled,
      // so rounding at a breakpoint never moves an edge by a sample.
      const a = atIndex(pc.t0);
      const b = atIndex(pc.t1);
      if (b - a <= 2) {
        for (let i = a; i < b; i++) run(f(i / rate), 1);
        continue;
      }
      run(f(a / rate), 1);
      run(pc.value, b - a - 2);
      run(f((b - 1) / rate), 1);
    }
    if (segments.length <= caps.maxSegments && tables.length <= caps.maxTableLength) {
      return checkRange({ ...base, tables, segments }, caps);
    }
    reasons.push(`${segments.length} segments (maxSegments ${caps.maxSegments})`);
    capability = 'maxSegments';
  }

  // 2. periodic: one period's table, cycled; then the rest (constant) in a one-sample table
  const periodic = periodicPart(p);
  if (periodic) {
    const exact = periodic.periodS * rate;
    const L = Math.round(exact);
    const err = Math.abs(L / exact - 1);
    const periodicSamples = Math.min(totalSamples, Math.round(periodic.lengthS * rate));
    const tailSamples = totalSamples - periodicSamples;
    if (L < 2) {
      reasons.push(`a period of ${periodic.periodS} s is under two samples at ${rate} S/s`);
      capability = 'sampleRate';
    } else if (err > (caps.maxFrequencyError ?? 1e-3) && periodicSamples > L) {
      reasons.push(`a period of ${periodic.periodS} s is ${exact} samples at ${rate} S/s; rounding it changes the frequency by ${(err * 100).toPrecision(3)} %`);
      capability = 'frequencyHz';
    } else if (L + (tailSamples > 0 ? 1 : 0) > caps.maxTableLength) {
      reasons.push(`one period is ${L} samples (maxTableLength ${caps.maxTableLength})`);
      capability = 'maxTableLength';
    } else {
      const tables = [sampleStimulus(p, rate, 0, Math.min(L, periodicSamples))];
      const segments: DaqSegment[] = [{ table: 0, samples: periodicSamples }];
      if (tailSamples > 0) {
        const rest = sampleStimulus(p, rate, periodicSamples, tailSamples);
        if (rest.every((v) => v === rest[0])) {
          tables.push(Float64Array.of(rest[0]));
          segments.push({ table: 1, samples: tailSamples });
        } else {
          tables.push(rest);
          segments.push({ table: 1, samples: tailSamples });
        }
      }
      const used = tables.reduce((n, t) => n + t.length, 0);
      if (used <= caps.maxTableLength) return checkRange({ ...base, tables, segments }, caps);
      reasons.push(`${used} table samples (maxTableLength ${caps.maxTableLength})`);
      capability = 'maxTableLength';
    }
  }

  // 3. anything else: the whole waveform in one table
  if (totalSamples <= caps.maxTableLength) {
    return checkRange({ ...base, tables: [sampleStimulus(p, rate, 0, totalSamples)], segments: [{ table: 0, samples: totalSamples }] }, caps);
  }
  reasons.push(`the whole waveform is ${totalSamples} samples (maxTableLength ${caps.maxTableLength})`);
  throw new CompileError(capability, `the DAQ board cannot play this ${p.kind} protocol: ${reasons.join('; ')}`);
}

function checkRange(program: DaqProgram, caps: DaqCapabilities): DaqProgram {
  if (caps.outputRange) {
    const { min, max } = programExtremes(program);
    if (min < caps.outputRange.min || max > caps.outputRange.max) {
      throw new CompileError(
        'outputRange',
        `the waveform spans ${min}..${max} ${program.unit}; the board outputs ${caps.outputRange.min}..${caps.outputRange.max} ${program.unit}`,
      );
    }
  }
  return program;
}

/** Lowest and highest source value in a program. */
export function programExtremes(program: SmuProgram | DaqProgram): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const see = (v: number) => {
    if (v < min) min = v;
    if (v > max) max = v;
  };
  if (program.type === 'smu') for (const pt of program.points) see(pt.value);
  else for (const t of program.tables) for (let i = 0; i < t.length; i++) see(t[i]);
  return { min, max };
}

/** The sample the DAQ program plays at `index` (for tests and previews). */
export function daqSampleAt(program: DaqProgram, index: number): number {
  let start = 0;
  for (const seg of program.segments) {
    if (index < start + seg.samples) {
      const table = program.tables[seg.table];
      return table[(index - start) % table.length];
    }
    start += seg.samples;
  }
  throw new RangeError(`sample ${index} is past the end of the program (${program.totalSamples})`);
}
