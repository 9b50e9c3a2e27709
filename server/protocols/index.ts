/**
 * Stimulus protocols: declarative JSON, validated once, then compiled to a sampled waveform (for the
 * simulated bench and the digital twin, here) and to instrument programs (SMU point list, DAQ waveform
 * table: ./compile.ts). Protocols are plans: they never touch a transport, a file or a clock.
 *
 * Units are SI: amplitudes in A when `quantity` is "current", in V when it is "voltage"; times in s.
 *
 * Kinds: dc, square, pulse-train, sine, chirp (linear/log), iv-sweep (triangular, bipolar, repeated),
 * ladder (stepwise bias), stdp (pre/post pairing at timing offsets with read pulses), arbitrary (CSV).
 * A sweep (./sweep.ts) expands one of these over a grid or list of field values into a group of runs.
 *
 * After `validateProtocol` every protocol has a numeric `durationS`: kinds with a natural length
 * (iv-sweep, ladder, stdp, arbitrary) fill it in when it is omitted; when it is given longer than the
 * natural length the stimulus is 0 for the rest of the run.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../common/errors.ts';

const quantityOf = (dflt: 'current' | 'voltage') =>
  Type.Union([Type.Literal('current'), Type.Literal('voltage')], {
    default: dflt,
    description: 'What the stimulus sources: current (A) or voltage (V)',
  });
const quantity = quantityOf('current');
const MAX_DURATION_S = 86_400;
const durationS = Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: 1, description: 'Run length, s' });
const optionalDurationS = Type.Optional(
  Type.Number({
    exclusiveMinimum: 0,
    maximum: MAX_DURATION_S,
    description: 'Run length, s (default: the natural length of the protocol; beyond it the stimulus is 0)',
  }),
);
const level = (description: string, dflt = 0) => Type.Number({ minimum: -1e3, maximum: 1e3, default: dflt, description });
const positiveTime = (description: string, dflt: number) =>
  Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: dflt, description });
const frequency = (description: string, dflt: number) =>
  Type.Number({ exclusiveMinimum: 0, maximum: 1e7, default: dflt, description });

export const DcStepSchema = Type.Object(
  {
    kind: Type.Literal('dc'),
    quantity,
    durationS,
    level: level('Level after the step, A or V', 1e-3),
    delayS: Type.Number({ minimum: 0, default: 0, description: 'Time at 0 before the step, s' }),
  },
  { additionalProperties: false, title: 'DC step' },
);

export const SquareWaveSchema = Type.Object(
  {
    kind: Type.Literal('square'),
    quantity,
    durationS,
    amplitude: level('High level minus low level, A or V', 1e-3),
    offset: level('Low level, A or V'),
    frequencyHz: frequency('Hz', 1000),
    duty: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'Fraction of the period spent high' }),
  },
  { additionalProperties: false, title: 'Square wave' },
);

export const PulseTrainSchema = Type.Object(
  {
    kind: Type.Literal('pulse-train'),
    quantity,
    durationS,
    amplitude: level('Pulse level, A or V', 1e-3),
    baseline: level('Level between pulses, A or V'),
    widthS: Type.Number({ exclusiveMinimum: 0, default: 1e-4, description: 'Pulse width, s' }),
    periodS: Type.Number({ exclusiveMinimum: 0, default: 1e-3, description: 'Pulse period, s' }),
    count: Type.Integer({ minimum: 1, maximum: 1e9, default: 10, description: 'Number of pulses' }),
  },
  { additionalProperties: false, title: 'Pulse train' },
);

export const SineSchema = Type.Object(
  {
    kind: Type.Literal('sine'),
    quantity,
    durationS,
    amplitude: level('Peak amplitude, A or V', 1e-3),
    offset: level('DC offset, A or V'),
    frequencyHz: frequency('Hz', 10),
    phaseDeg: Type.Number({ minimum: -360, maximum: 360, default: 0, description: 'Phase at t = 0, degrees' }),
  },
  { additionalProperties: false, title: 'Sine' },
);

export const ChirpSchema = Type.Object(
  {
    kind: Type.Literal('chirp'),
    quantity: quantityOf('voltage'),
    durationS: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: 10, description: 'Sweep length, s' }),
    amplitude: level('Peak amplitude, A or V', 1),
    offset: level('DC offset, A or V'),
    startHz: frequency('Instantaneous frequency at t = 0, Hz', 1),
    stopHz: frequency('Instantaneous frequency at the end, Hz', 1000),
    sweep: Type.Union([Type.Literal('linear'), Type.Literal('log')], {
      default: 'log',
      description: 'linear: frequency rises at a constant rate; log: by a constant factor per second',
    }),
    phaseDeg: Type.Number({ minimum: -360, maximum: 360, default: 0, description: 'Phase at t = 0, degrees' }),
  },
  { additionalProperties: false, title: 'Chirp (frequency sweep)' },
);

export const IvSweepSchema = Type.Object(
  {
    kind: Type.Literal('iv-sweep'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    peak: Type.Number({ exclusiveMinimum: 0, maximum: 1e3, default: 1, description: 'Positive vertex of the triangle, A or V' }),
    negativePeak: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1e3, description: 'Magnitude of the negative vertex (bipolar; default: peak), A or V' }),
    ),
    bipolar: Type.Boolean({ default: true, description: 'Sweep 0 → +peak → 0 → −peak → 0 (true) or 0 → +peak → 0 (false)' }),
    periodS: positiveTime('Length of one loop, s', 1),
    cycles: Type.Integer({ minimum: 1, maximum: 1e6, default: 3, description: 'Number of loops' }),
    stepsPerBranch: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 50,
      description: 'Source steps from 0 to a vertex when played as an SMU staircase',
    }),
  },
  { additionalProperties: false, title: 'I-V sweep (pinched hysteresis loops)' },
);

export const LadderSchema = Type.Object(
  {
    kind: Type.Literal('ladder'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    start: level('First level, A or V', 0.5),
    stop: level('Last level, A or V', 5),
    steps: Type.Integer({ minimum: 1, maximum: 100_000, default: 10, description: 'Number of levels from start to stop inclusive' }),
    levels: Type.Optional(
      Type.Array(level('Level, A or V'), {
        minItems: 1,
        maxItems: 100_000,
        description: 'Explicit levels, in order (overrides start/stop/steps)',
      }),
    ),
    dwellS: positiveTime('Time on each level, s', 1),
    restS: Type.Number({ minimum: 0, maximum: MAX_DURATION_S, default: 0, description: 'Time at 0 after each level, s' }),
  },
  { additionalProperties: false, title: 'Voltage ladder (stepwise bias)' },
);

export const StdpSchema = Type.Object(
  {
    kind: Type.Literal('stdp'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    preAmplitude: level('Pre-synaptic pulse, applied as +preAmplitude across the device, A or V', 1),
    postAmplitude: level('Post-synaptic pulse, applied as −postAmplitude across the device, A or V', 1),
    pulseWidthS: positiveTime('Width of pre and post pulses, s', 1e-3),
    offsetsS: Type.Array(Type.Number({ minimum: -MAX_DURATION_S, maximum: MAX_DURATION_S }), {
      minItems: 1,
      maxItems: 10_000,
      default: [-8e-3, -4e-3, -2e-3, -1e-3, 1e-3, 2e-3, 4e-3, 8e-3],
      description: 'Timing offsets Δt = t_post − t_pre, s (one pairing block per offset)',
    }),
    pairsPerOffset: Type.Integer({ minimum: 1, maximum: 1e6, default: 10, description: 'Pairings in each block' }),
    pairPeriodS: positiveTime('Time from one pairing to the next, s', 20e-3),
    readAmplitude: level('Read pulse before and after each pairing block, A or V', 0.1),
    readWidthS: positiveTime('Read pulse width, s', 5e-3),
    gapS: Type.Number({ minimum: 0, maximum: MAX_DURATION_S, default: 10e-3, description: 'Silence around read pulses, s' }),
    spikeShape: Type.Union([Type.Literal('rect'), Type.Literal('exp-tail')], {
      default: 'rect',
      description:
        'Shape of each pre and post spike: rect = a rectangular pulse; exp-tail = the pulse followed by an opposite-polarity tail decaying exponentially (Linares-Barranco & Serrano-Gotarredona 2009), so a pre and a post spike that overlap add above a memristive threshold that each alone stays below',
    }),
    tailRatio: Type.Number({ minimum: 0, maximum: 10, default: 0.8, description: 'exp-tail: depth of the tail at its start as a fraction of the pulse amplitude' }),
    tailTauS: positiveTime('exp-tail: decay time constant of the tail, s', 4e-3),
    tailS: Type.Number({ minimum: 0, maximum: MAX_DURATION_S, default: 10e-3, description: 'exp-tail: length of the tail after the pulse (then 0), s' }),
  },
  { additionalProperties: false, title: 'STDP pairing' },
);

export const ArbitrarySchema = Type.Object(
  {
    kind: Type.Literal('arbitrary'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    csv: Type.String({
      minLength: 1,
      maxLength: 20_000_000,
      description: 'CSV text, one "time_s,value" pair per line (optional header, # comments); times increasing from ≥ 0',
    }),
    interpolation: Type.Union([Type.Literal('linear'), Type.Literal('step')], {
      default: 'linear',
      description: 'Between points: straight lines, or hold each value until the next time',
    }),
    repeat: Type.Integer({ minimum: 1, maximum: 1e6, default: 1, description: 'Times the waveform is played; one play lasts the last time in the CSV' }),
  },
  { additionalProperties: false, title: 'Arbitrary waveform (CSV)' },
);

/** Every protocol kind's schema, keyed by kind; the API and dashboard build their forms from these. */
export const protocolSchemas = {
  dc: DcStepSchema,
  square: SquareWaveSchema,
  'pulse-train': PulseTrainSchema,
  sine: SineSchema,
  chirp: ChirpSchema,
  'iv-sweep': IvSweepSchema,
  ladder: LadderSchema,
  stdp: StdpSchema,
  arbitrary: ArbitrarySchema,
} satisfies Record<string, TSchema>;

export type ProtocolKind = keyof typeof protocolSchemas;
type WithDuration<T> = Omit<T, 'durationS'> & { durationS: number };
export type DcStep = Static<typeof DcStepSchema>;
export type SquareWave = Static<typeof SquareWaveSchema>;
export type PulseTrain = Static<typeof PulseTrainSchema>;
export type Sine = Static<typeof SineSchema>;
export type Chirp = Static<typeof ChirpSchema>;
export type IvSweep = WithDuration<Static<typeof IvSweepSchema>>;
export type Ladder = WithDuration<Static<typeof LadderSchema>>;
export type Stdp = WithDuration<Static<typeof StdpSchema>>;
export type Arbitrary = WithDuration<Static<typeof ArbitrarySchema>>;
export type Protocol = DcStep | SquareWave | PulseTrain | Sine | Chirp | IvSweep | Ladder | Stdp | Arbitrary;

/** AppError BAD_PROTOCOL; `field` is the JSON pointer into the protocol, e.g. "/frequencyHz". */
export class ProtocolError extends AppError {
  declare readonly field: string;
  constructor(field: string, message: string) {
    super('BAD_PROTOCOL', `protocol${field ? ` field ${field}` : ''}: ${message}`, field);
  }
}

/** Checks a protocol document, fills defaults, and returns it typed; throws ProtocolError naming the field. */
export function validateProtocol(json: unknown): Protocol {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('', 'must be a JSON object with a "kind"');
  }
  const kind = (json as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(protocolSchemas, kind)) {
    throw new ProtocolError('/kind', `must be one of ${Object.keys(protocolSchemas).join(', ')}`);
  }
  const schema = protocolSchemas[kind as ProtocolKind];
  const value = Value.Default(schema, structuredClone(json));
  const first = Value.Errors(schema, value).First();
  if (first) throw new ProtocolError(first.path, first.message);
  const p = value as Protocol;
  checkConsistency(p);
  if (p.durationS === undefined) p.durationS = naturalDurationS(p);
  if (!(p.durationS > 0 && p.durationS <= MAX_DURATION_S)) {
    throw new ProtocolError('/durationS', `natural length ${p.durationS} s is outside (0, ${MAX_DURATION_S}] s`);
  }
  return p;
}

/** Rules a JSON schema cannot state; each names its field. */
function checkConsistency(p: Protocol): void {
  switch (p.kind) {
    case 'pulse-train':
      if (p.widthS >= p.periodS) {
        throw new ProtocolError('/widthS', `pulse width ${p.widthS} s must be shorter than the period ${p.periodS} s`);
      }
      return;
    case 'stdp': {
      const tail = p.spikeShape === 'exp-tail' ? p.tailS : 0;
      p.offsetsS.forEach((dt, i) => {
        if (Math.abs(dt) + p.pulseWidthS + tail > p.pairPeriodS * (1 + 1e-12)) {
          throw new ProtocolError(
            `/offsetsS/${i}`,
            tail > 0
              ? `|Δt| + pulse width + tail = ${Math.abs(dt) + p.pulseWidthS + tail} s must fit in the pair period ${p.pairPeriodS} s`
              : `|Δt| + pulse width = ${Math.abs(dt) + p.pulseWidthS} s must fit in the pair period ${p.pairPeriodS} s`,
          );
        }
      });
      return;
    }
    case 'arbitrary':
      arbitraryPoints(p); // throws naming /csv and the line
      return;
    default:
      return;
  }
}

/** Length of the protocol's own schedule, s (for kinds without one: their durationS). */
export function naturalDurationS(p: Protocol): number {
  switch (p.kind) {
    case 'iv-sweep':
      return p.periodS * p.cycles;
    case 'ladder':
      return ladderLevels(p).length * (p.dwellS + p.restS);
    case 'stdp':
      return p.offsetsS.length * stdpBlockS(p);
    case 'arbitrary': {
      const { t } = arbitraryPoints(p);
      return t[t.length - 1] * p.repeat;
    }
    default:
      return p.durationS;
  }
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
  const base = { kind: p.kind, quantity: p.quantity, unit: p.quantity === 'current' ? 'A' : 'V', durationS: p.durationS } as const;
  const span = (values: number[]) => ({ ...base, min: Math.min(...values), max: Math.max(...values) });
  const tail = p.durationS > naturalDurationS(p) * (1 + 1e-12) ? [0] : [];
  switch (p.kind) {
    case 'dc':
      return p.delayS > 0 ? span([0, p.level]) : span([p.level]);
    case 'square':
      return span([p.offset, p.offset + p.amplitude]);
    case 'pulse-train':
      return span([p.baseline, p.amplitude]);
    case 'sine':
    case 'chirp': {
      const a = Math.abs(p.amplitude);
      return { ...base, min: p.offset - a, max: p.offset + a };
    }
    case 'iv-sweep':
      return span([0, p.peak, p.bipolar ? -(p.negativePeak ?? p.peak) : 0]);
    case 'ladder':
      return span([...minMax(ladderLevels(p)), ...(p.restS > 0 ? [0] : []), ...tail]);
    case 'stdp': {
      const values = [0, p.readAmplitude, p.preAmplitude, -p.postAmplitude];
      if (p.spikeShape === 'exp-tail') values.push(...stdpPairingExtremes(p));
      else if (p.offsetsS.some((dt) => Math.abs(dt) < p.pulseWidthS)) values.push(p.preAmplitude - p.postAmplitude);
      return span(values);
    }
    case 'arbitrary':
      return span([...minMax(arbitraryPoints(p).v), ...tail]);
  }
}

function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

// ---------------------------------------------------------------------------------------------------
// Schedules of the composite kinds

/** The ladder's levels in playing order. */
export function ladderLevels(p: Ladder): number[] {
  if (p.levels) return p.levels;
  if (p.steps === 1) return [p.start];
  return Array.from({ length: p.steps }, (_, i) => p.start + ((p.stop - p.start) * i) / (p.steps - 1));
}

/** Length of one STDP block: gap, read, gap, pairings, gap, read. */
export function stdpBlockS(p: Stdp): number {
  return 3 * p.gapS + 2 * p.readWidthS + p.pairsPerOffset * p.pairPeriodS;
}

/**
 * Shape of one STDP spike at time x after its onset, as a multiple of its amplitude: 1 during the pulse;
 * for spikeShape exp-tail, −tailRatio·e^(−(x − width)/tailTauS) during the tail; 0 elsewhere.
 */
export function stdpSpikeShape(p: Stdp, x: number): number {
  if (x < 0) return 0;
  if (x < p.pulseWidthS) return 1;
  if (p.spikeShape !== 'exp-tail') return 0;
  const y = x - p.pulseWidthS;
  return y < p.tailS ? -p.tailRatio * Math.exp(-y / p.tailTauS) : 0;
}

/** The value across the device at time s into a pairing slot with offset dt: pre spike minus post spike. */
export function stdpPairValue(p: Stdp, dt: number, s: number): number {
  const tPre = Math.max(0, -dt);
  return p.preAmplitude * stdpSpikeShape(p, s - tPre) - p.postAmplitude * stdpSpikeShape(p, s - tPre - dt);
}

/**
 * Lowest and highest value of the exp-tail pairings. Between the spikes' breakpoints (onset, end of
 * pulse, end of tail) the value is a constant, one exponential, or a sum of two exponentials with the
 * same time constant (again one exponential): monotonic, so the extremes lie at the breakpoints (taken
 * from both sides).
 */
function stdpPairingExtremes(p: Stdp): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const dt of p.offsetsS) {
    const tPre = Math.max(0, -dt);
    const tPost = tPre + dt;
    for (const t0 of [tPre, tPost])
      for (const b of [t0, t0 + p.pulseWidthS, t0 + p.pulseWidthS + p.tailS]) {
        const eps = Math.max(1e-15, Math.abs(b) * 1e-12);
        for (const s of [b - eps, b]) {
          const v = stdpPairValue(p, dt, s);
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
  }
  return [lo, hi];
}

/** A labelled stretch of a protocol's schedule (ladder steps, STDP reads and pairing blocks), s. */
export interface ProtocolSegment {
  label: string;
  startS: number;
  endS: number;
  /** The ladder level or the STDP offset of this segment. */
  value: number;
}

/**
 * Named parts of the schedule, for markers and for analyses that need them (a ladder's steps for the
 * phase diagram; an STDP protocol's read pulses for the conductance change at each Δt). Empty for
 * kinds without parts.
 */
export function protocolSegments(p: Protocol): ProtocolSegment[] {
  if (p.kind === 'ladder') {
    const step = p.dwellS + p.restS;
    return ladderLevels(p).map((v, i) => ({ label: `level ${i}`, startS: i * step, endS: i * step + p.dwellS, value: v }));
  }
  if (p.kind === 'stdp') {
    const block = stdpBlockS(p);
    return p.offsetsS.flatMap((dt, i) => {
      const t0 = i * block;
      const pairStart = t0 + 2 * p.gapS + p.readWidthS;
      const pairEnd = pairStart + p.pairsPerOffset * p.pairPeriodS;
      return [
        { label: `read-before ${i}`, startS: t0 + p.gapS, endS: t0 + p.gapS + p.readWidthS, value: dt },
        { label: `pairing ${i}`, startS: pairStart, endS: pairEnd, value: dt },
        { label: `read-after ${i}`, startS: pairEnd + p.gapS, endS: pairEnd + p.gapS + p.readWidthS, value: dt },
      ];
    });
  }
  return [];
}

/** Parsed points of an arbitrary waveform (cached per protocol object). */
export interface WaveformPoints {
  t: Float64Array;
  v: Float64Array;
}
const parsedCsv = new WeakMap<object, WaveformPoints>();

/** Parses the protocol's CSV (cached); throws ProtocolError naming /csv and the line. */
export function arbitraryPoints(p: Arbitrary): WaveformPoints {
  const hit = parsedCsv.get(p);
  if (hit) return hit;
  const pts = parseWaveformCsv(p.csv);
  parsedCsv.set(p, pts);
  return pts;
}

const MAX_CSV_POINTS = 1_000_000;

/**
 * "time_s,value" lines → points. A first line that is not numeric is a header; blank lines and lines
 * starting with # are skipped; separators comma, semicolon, tab or spaces. Times must start at ≥ 0 and
 * increase strictly, and the last time must be > 0 (it is the length of one play).
 */
export function parseWaveformCsv(csv: string): WaveformPoints {
  const t: number[] = [];
  const v: number[] = [];
  const lines = csv.split(/\r?\n/);
  let sawData = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(/\s*[,;\t]\s*|\s+/);
    const nums = cells.map((c) => (c === '' ? NaN : Number(c)));
    const first = !sawData;
    sawData = true;
    if (first && nums.some((n) => Number.isNaN(n))) continue; // a header line
    if (cells.length !== 2 || !nums.every(Number.isFinite)) {
      throw new ProtocolError('/csv', `line ${i + 1}: expected two numbers "time_s,value", got "${line.slice(0, 60)}"`);
    }
    const [ti, vi] = nums;
    if (ti < 0) throw new ProtocolError('/csv', `line ${i + 1}: time ${ti} s is negative`);
    if (t.length > 0 && ti <= t[t.length - 1]) {
      throw new ProtocolError('/csv', `line ${i + 1}: time ${ti} s does not increase (previous ${t[t.length - 1]} s)`);
    }
    if (Math.abs(vi) > 1e3) throw new ProtocolError('/csv', `line ${i + 1}: value ${vi} is outside ±1000`);
    t.push(ti);
    v.push(vi);
    if (t.length > MAX_CSV_POINTS) throw new ProtocolError('/csv', `more than ${MAX_CSV_POINTS} points`);
  }
  if (t.length < 2 || !(t[t.length - 1] > 0)) {
    throw new ProtocolError('/csv', 'needs at least two points and a last time > 0 s');
  }
  return { t: Float64Array.from(t), v: Float64Array.from(v) };
}

// ---------------------------------------------------------------------------------------------------
// The sampled waveform

const waveforms = new WeakMap<object, (t: number) => number>();

/** The stimulus as a function of time (s), built once per protocol object. */
export function waveform(p: Protocol): (t: number) => number {
  let f = waveforms.get(p);
  if (!f) {
    f = buildWaveform(p);
    waveforms.set(p, f);
  }
  return f;
}

function buildWaveform(p: Protocol): (t: number) => number {
  const natural = naturalDurationS(p);
  switch (p.kind) {
    case 'dc':
      return (t) => (t >= p.delayS ? p.level : 0);
    case 'square':
      return (t) => {
        // x - floor(x) equals x % 1 exactly for x >= 0, and is several times faster than the fmod behind %.
        const x = t * p.frequencyHz;
        return x - Math.floor(x) < p.duty ? p.offset + p.amplitude : p.offset;
      };
    case 'pulse-train':
      return (t) => {
        const n = Math.floor(t / p.periodS);
        return n < p.count && t - n * p.periodS < p.widthS ? p.amplitude : p.baseline;
      };
    case 'sine': {
      const w = 2 * Math.PI * p.frequencyHz;
      const ph = (p.phaseDeg * Math.PI) / 180;
      return (t) => p.offset + p.amplitude * Math.sin(w * t + ph);
    }
    case 'chirp': {
      const T = p.durationS;
      const f0 = p.startHz;
      const f1 = p.stopHz;
      const ph = (p.phaseDeg * Math.PI) / 180;
      const k = f1 / f0;
      const phase =
        p.sweep === 'log' && Math.abs(Math.log(k)) > 1e-12
          ? (t: number) => ((2 * Math.PI * f0 * T) / Math.log(k)) * (Math.pow(k, t / T) - 1)
          : (t: number) => 2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * T));
      return (t) => p.offset + p.amplitude * Math.sin(phase(t) + ph);
    }
    case 'iv-sweep': {
      const neg = p.negativePeak ?? p.peak;
      return (t) => {
        if (t >= natural || t < 0) return 0;
        const x = (t / p.periodS) % 1; // position in the loop, 0..1
        if (!p.bipolar) return x < 0.5 ? p.peak * 2 * x : p.peak * 2 * (1 - x);
        if (x < 0.25) return p.peak * 4 * x;
        if (x < 0.5) return p.peak * 4 * (0.5 - x);
        if (x < 0.75) return -neg * 4 * (x - 0.5) + 0; // + 0: no -0 at the zero crossing
        return -neg * 4 * (1 - x) + 0;
      };
    }
    case 'ladder': {
      const levels = ladderLevels(p);
      const step = p.dwellS + p.restS;
      return (t) => {
        if (t < 0 || t >= natural) return 0;
        const i = Math.min(levels.length - 1, Math.floor(t / step));
        return t - i * step < p.dwellS ? levels[i] : 0;
      };
    }
    case 'stdp': {
      const block = stdpBlockS(p);
      const pulse = (x: number) => x >= 0 && x < p.pulseWidthS;
      return (t) => {
        if (t < 0 || t >= natural) return 0;
        const i = Math.min(p.offsetsS.length - 1, Math.floor(t / block));
        const dt = p.offsetsS[i];
        let x = t - i * block - p.gapS;
        if (x < p.readWidthS) return x >= 0 ? p.readAmplitude : 0;
        x -= p.readWidthS + p.gapS;
        const pairing = p.pairsPerOffset * p.pairPeriodS;
        if (x >= 0 && x < pairing) {
          const k = Math.min(p.pairsPerOffset - 1, Math.floor(x / p.pairPeriodS));
          const s = x - k * p.pairPeriodS;
          if (p.spikeShape === 'exp-tail') return stdpPairValue(p, dt, s);
          const tPre = Math.max(0, -dt);
          return (pulse(s - tPre) ? p.preAmplitude : 0) - (pulse(s - tPre - dt) ? p.postAmplitude : 0);
        }
        x -= pairing + p.gapS;
        return x >= 0 && x < p.readWidthS ? p.readAmplitude : 0;
      };
    }
    case 'arbitrary': {
      const { t: ts, v: vs } = arbitraryPoints(p);
      const period = ts[ts.length - 1];
      const linear = p.interpolation === 'linear';
      return (t) => {
        if (t < 0 || t >= natural) return 0;
        const x = t % period;
        if (x <= ts[0]) return vs[0];
        // last point with ts[i] <= x
        let lo = 0;
        let hi = ts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (ts[mid] <= x) lo = mid;
          else hi = mid - 1;
        }
        if (!linear || lo === ts.length - 1) return vs[lo];
        const f = (x - ts[lo]) / (ts[lo + 1] - ts[lo]);
        return vs[lo] + f * (vs[lo + 1] - vs[lo]);
      };
    }
  }
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
