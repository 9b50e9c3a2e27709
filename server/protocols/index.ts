/**
 * Stimulus protocols: declarative JSON, validated once, then compiled to a sampled waveform (for the
 * simulated bench and the digital twin, here) and to instrument programs (SMU point list, DAQ waveform
 * table: ./compile.ts). Protocols are plans: they never touch a transport, a file or a clock.
 *
 * Units are SI: amplitudes in A when `quantity` is "current", in V when it is "voltage"; times in s.
 *
 * Kinds: dc, square, pulse-train, sine, chirp (linear/log), iv-sweep (triangular, bipolar, repeated),
 * ladder (stepwise bias), stdp (pre/post pairing at timing offsets with read pulses), arbitrary (CSV);
 * each declared in one file under ./kinds/ (see ./kind.ts for what a kind declares). This file only
 * dispatches to them.
 * A sweep (./sweep.ts) expands one of these over a grid or list of field values into a group of runs.
 *
 * After `validateProtocol` every protocol has a numeric `durationS`: kinds with a natural length
 * (iv-sweep, ladder, stdp, arbitrary) fill it in when it is omitted; when it is given longer than the
 * natural length the stimulus is 0 for the rest of the run.
 */
import type { TSchema } from 'typebox';
import { fillDefaults, firstProblem } from '../../common/schema-check.ts';
import { MAX_DURATION_S, ProtocolError, type ProtocolSegment } from './kind.ts';
import { kindOf, PROTOCOL_KINDS, type Protocol, type ProtocolKindName } from './kinds/index.ts';

export { ProtocolError, type ProtocolSegment } from './kind.ts';
export { type Protocol } from './kinds/index.ts';
export { type DcStep, DcStepSchema } from './kinds/dc.ts';
export { type SquareWave, SquareWaveSchema } from './kinds/square.ts';
export { type PulseTrain, PulseTrainSchema } from './kinds/pulse-train.ts';
export { type Sine, SineSchema } from './kinds/sine.ts';
export { type Chirp, ChirpSchema } from './kinds/chirp.ts';
export { type IvSweep, IvSweepSchema } from './kinds/iv-sweep.ts';
export { type Ladder, LadderSchema, ladderLevels } from './kinds/ladder.ts';
export { type Stdp, StdpSchema, stdpBlockS, stdpSpikeShape, stdpPairValue } from './kinds/stdp.ts';
export { type Arbitrary, ArbitrarySchema, arbitraryPoints, parseWaveformCsv, type WaveformPoints } from './kinds/arbitrary.ts';

export type ProtocolKind = ProtocolKindName;

/** Every protocol kind's schema, keyed by kind; the API and dashboard build their forms from these. */
export const protocolSchemas = Object.fromEntries(Object.entries(PROTOCOL_KINDS).map(([k, d]) => [k, d.schema])) as {
  [K in ProtocolKind]: (typeof PROTOCOL_KINDS)[K]['schema'];
} satisfies Record<string, TSchema>;

/** Whether a protocol describes an imported recording (played by no source but `import`). */
export const isImported = (p: Protocol): boolean => kindOf(p).imported === true;

/** Checks a protocol document, fills defaults, and returns it typed; throws ProtocolError naming the field. */
export function validateProtocol(json: unknown): Protocol {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('', 'must be a JSON object with a "kind"');
  }
  const kind = (json as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(PROTOCOL_KINDS, kind)) {
    throw new ProtocolError('/kind', `must be one of ${Object.keys(PROTOCOL_KINDS).join(', ')}`);
  }
  const schema = PROTOCOL_KINDS[kind as ProtocolKind].schema;
  const value = fillDefaults(schema, structuredClone(json));
  const first = firstProblem(schema, value);
  if (first) throw new ProtocolError(first.path, first.message);
  const p = value as Protocol;
  kindOf(p).check?.(p);
  if (p.durationS === undefined) p.durationS = naturalDurationS(p);
  if (!(p.durationS > 0 && p.durationS <= MAX_DURATION_S)) {
    throw new ProtocolError('/durationS', `natural length ${p.durationS} s is outside (0, ${MAX_DURATION_S}] s`);
  }
  return p;
}

/** Length of the protocol's own schedule, s (for kinds without one: their durationS). */
export function naturalDurationS(p: Protocol): number {
  const natural = kindOf(p).naturalDurationS;
  return natural ? natural(p) : p.durationS;
}

/**
 * The shortest period the stimulus repeats or oscillates with, s (its period, or 1 / its highest frequency),
 * or null for kinds without one (dc, ladder ...). The run page warns when a channel's rate gives fewer than
 * about 20 samples in it.
 */
export function shortestPeriodS(p: Protocol): number | null {
  const k = kindOf(p);
  if (!k) return null;
  const periods: number[] = [];
  const periodic = k.periodic?.(p, naturalDurationS(p));
  if (periodic && periodic.periodS > 0) periods.push(periodic.periodS);
  const f = k.highestFrequencyHz?.(p) ?? 0;
  if (f > 0) periods.push(1 / f);
  return periods.length ? Math.min(...periods) : null;
}

/** What a refusal of a protocol is about: its peak level, its highest frequency, its shortest time, its length. */
export type Blame = 'peak' | 'frequency' | 'dwell' | 'length';

/**
 * The parameter to blame for a refusal, a JSON pointer into the protocol ("/amplitude", "/levels/3"), found
 * from the kind's schema annotations (kind.ts): 'peak' → the level of largest magnitude (quantityUnit;
 * an arbitrary waveform's CSV); 'frequency' → the highest Hz parameter; 'dwell' → the shortest time
 * parameter other than the duration (else the highest frequency); 'length' → the duration.
 */
export function blameField(p: Protocol, what: Blame): string {
  const props = Object.entries((protocolSchemas[p.kind].properties ?? {}) as Record<string, { unit?: string; quantityUnit?: string }>);
  const doc = p as unknown as Record<string, unknown>;
  let best: { field: string; score: number } | null = null;
  const consider = (field: string, score: number) => {
    if (Number.isFinite(score) && (best === null || score > best.score)) best = { field, score };
  };
  for (const [k, s] of props) {
    const v = doc[k];
    if (what === 'peak' && s.quantityUnit === 'same') {
      if (typeof v === 'number') consider(`/${k}`, Math.abs(v));
      else if (Array.isArray(v)) v.forEach((x, i) => typeof x === 'number' && consider(`/${k}/${i}`, Math.abs(x)));
      else if (typeof v === 'string') consider(`/${k}`, 0);
    }
    if (what === 'frequency' && s.unit === 'Hz' && typeof v === 'number') consider(`/${k}`, v);
    if (what === 'dwell' && s.unit === 's' && k !== 'durationS' && typeof v === 'number' && v > 0) consider(`/${k}`, -v);
  }
  if (what === 'length') return '/durationS';
  if (best !== null) return (best as { field: string }).field;
  return what === 'dwell' ? blameField(p, 'frequency') : '';
}

export interface ProtocolSummary {
  kind: ProtocolKind;
  quantity: 'current' | 'voltage';
  unit: 'A' | 'V';
  durationS: number;
  /** Lowest and highest value the stimulus takes, in unit. */
  min: number;
  max: number;
}

/** Duration and peak values, stated before a run starts (and checked against bench limits). */
export function protocolSummary(p: Protocol): ProtocolSummary {
  const values = kindOf(p).extremes(p, naturalDurationS(p));
  return {
    kind: p.kind,
    quantity: p.quantity,
    unit: p.quantity === 'current' ? 'A' : 'V',
    durationS: p.durationS,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/**
 * Named parts of the schedule, for markers and for analyses that need them (a ladder's steps for the
 * phase diagram; an STDP protocol's read pulses for the conductance change at each Δt). Empty for
 * kinds without parts.
 */
export function protocolSegments(p: Protocol): ProtocolSegment[] {
  return kindOf(p).segments?.(p) ?? [];
}

// ---------------------------------------------------------------------------------------------------
// The sampled waveform

const waveforms = new WeakMap<object, (t: number) => number>();

/** The stimulus as a function of time (s), built once per protocol object. */
export function waveform(p: Protocol): (t: number) => number {
  let f = waveforms.get(p);
  if (!f) {
    f = kindOf(p).waveform(p, naturalDurationS(p));
    waveforms.set(p, f);
  }
  return f;
}

/** Stimulus value at time t (s). */
export function stimulusAt(p: Protocol, t: number): number {
  return waveform(p)(t);
}

/** The stimulus sampled at `sampleRate` for sample indices [startIndex, startIndex + count). */
export function sampleStimulus(p: Protocol, sampleRate: number, startIndex: number, count: number): Float64Array {
  const f = waveform(p);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = f((startIndex + i) / sampleRate);
  return out;
}
