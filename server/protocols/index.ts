/**
 * Stimulus protocols: declarative JSON, validated once, then compiled to a sampled waveform (for the
 * simulated bench and the digital twin) and to instrument programs (drivers). Protocols are plans: they
 * never touch a transport.
 *
 * Units are SI: amplitudes in A when `quantity` is "current", in V when it is "voltage"; times in s.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const quantity = Type.Union([Type.Literal('current'), Type.Literal('voltage')], {
  default: 'current',
  description: 'What the stimulus sources: current (A) or voltage (V)',
});
const durationS = Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 1, description: 'Run length, s' });
const level = (description: string, dflt = 0) => Type.Number({ minimum: -1e3, maximum: 1e3, default: dflt, description });

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
    frequencyHz: Type.Number({ exclusiveMinimum: 0, maximum: 1e7, default: 1000, description: 'Hz' }),
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
    frequencyHz: Type.Number({ exclusiveMinimum: 0, maximum: 1e7, default: 10, description: 'Hz' }),
    phaseDeg: Type.Number({ minimum: -360, maximum: 360, default: 0, description: 'Phase at t = 0, degrees' }),
  },
  { additionalProperties: false, title: 'Sine' },
);

/** Every protocol kind's schema, keyed by kind; the API and dashboard build their forms from these. */
export const protocolSchemas = {
  dc: DcStepSchema,
  square: SquareWaveSchema,
  'pulse-train': PulseTrainSchema,
  sine: SineSchema,
} satisfies Record<string, TSchema>;

export type ProtocolKind = keyof typeof protocolSchemas;
export type DcStep = Static<typeof DcStepSchema>;
export type SquareWave = Static<typeof SquareWaveSchema>;
export type PulseTrain = Static<typeof PulseTrainSchema>;
export type Sine = Static<typeof SineSchema>;
export type Protocol = DcStep | SquareWave | PulseTrain | Sine;

export class ProtocolError extends Error {
  readonly code = 'BAD_PROTOCOL';
  constructor(
    /** JSON pointer of the offending field, e.g. "/frequencyHz". */
    readonly field: string,
    message: string,
  ) {
    super(`protocol${field ? ` field ${field}` : ''}: ${message}`);
  }
}

/** Checks a protocol document, fills defaults, and returns it typed; throws ProtocolError naming the field. */
export function validateProtocol(json: unknown): Protocol {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('', 'must be a JSON object with a "kind"');
  }
  const kind = (json as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in protocolSchemas)) {
    throw new ProtocolError('/kind', `must be one of ${Object.keys(protocolSchemas).join(', ')}`);
  }
  const schema = protocolSchemas[kind as ProtocolKind];
  const value = Value.Default(schema, structuredClone(json));
  const first = Value.Errors(schema, value).First();
  if (first) throw new ProtocolError(first.path, first.message);
  const p = value as Protocol;
  if (p.kind === 'pulse-train' && p.widthS >= p.periodS) {
    throw new ProtocolError('/widthS', `pulse width ${p.widthS} s must be shorter than the period ${p.periodS} s`);
  }
  return p;
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
  switch (p.kind) {
    case 'dc':
      return { ...base, min: Math.min(0, p.level), max: Math.max(0, p.level) };
    case 'square':
      return { ...base, min: Math.min(p.offset, p.offset + p.amplitude), max: Math.max(p.offset, p.offset + p.amplitude) };
    case 'pulse-train':
      return { ...base, min: Math.min(p.baseline, p.amplitude), max: Math.max(p.baseline, p.amplitude) };
    case 'sine': {
      const a = Math.abs(p.amplitude);
      return { ...base, min: p.offset - a, max: p.offset + a };
    }
  }
}

/** Stimulus value at time t (s). */
export function stimulusAt(p: Protocol, t: number): number {
  switch (p.kind) {
    case 'dc':
      return t >= p.delayS ? p.level : 0;
    case 'square': {
      // x - floor(x) equals x % 1 exactly for x >= 0, and is several times faster than the fmod behind %.
      const x = t * p.frequencyHz;
      const phase = x - Math.floor(x);
      return phase < p.duty ? p.offset + p.amplitude : p.offset;
    }
    case 'pulse-train': {
      const n = Math.floor(t / p.periodS);
      return n < p.count && t - n * p.periodS < p.widthS ? p.amplitude : p.baseline;
    }
    case 'sine':
      return p.offset + p.amplitude * Math.sin(2 * Math.PI * p.frequencyHz * t + (p.phaseDeg * Math.PI) / 180);
  }
}

/** The stimulus sampled at `sampleRate` for sample indices [startIndex, startIndex + count). */
export function sampleStimulus(p: Protocol, sampleRate: number, startIndex: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = stimulusAt(p, (startIndex + i) / sampleRate);
  return out;
}
