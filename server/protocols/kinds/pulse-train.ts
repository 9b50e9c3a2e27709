/** Pulse train: `count` pulses of widthS every periodS, baseline between and after them. */
import { Type, type Static } from 'typebox';
import { durationS, level, ProtocolError, quantity, type ProtocolKind } from '../kind.ts';

export const PulseTrainSchema = Type.Object(
  {
    kind: Type.Literal('pulse-train'),
    quantity,
    durationS,
    amplitude: level({ title: 'Pulse level', description: 'Level during each pulse' }, 1e-3),
    baseline: level({ title: 'Baseline', description: 'Level between pulses' }),
    widthS: Type.Number({ exclusiveMinimum: 0, default: 1e-4, title: 'Pulse width', unit: 's', description: 'Length of each pulse (shorter than the period)' }),
    periodS: Type.Number({ exclusiveMinimum: 0, default: 1e-3, title: 'Period', unit: 's', description: 'From one pulse start to the next' }),
    count: Type.Integer({ minimum: 1, maximum: 1e9, default: 10, title: 'Pulses', description: 'Number of pulses' }),
  },
  { additionalProperties: false, title: 'Pulse train' },
);
export type PulseTrain = Static<typeof PulseTrainSchema>;

export const pulseTrain: ProtocolKind<PulseTrain> = {
  schema: PulseTrainSchema,
  check: (p) => {
    if (p.widthS >= p.periodS) {
      throw new ProtocolError('/widthS', `pulse width ${p.widthS} s must be shorter than the period ${p.periodS} s`);
    }
  },
  extremes: (p) => [p.baseline, p.amplitude],
  waveform: (p) => (t) => {
    const n = Math.floor(t / p.periodS);
    return n < p.count && t - n * p.periodS < p.widthS ? p.amplitude : p.baseline;
  },
  breakpoints: (p, push) => {
    for (let k = 0; k < p.count && k * p.periodS < p.durationS; k++) {
      push(k * p.periodS);
      push(k * p.periodS + p.widthS);
    }
    return true;
  },
  periodic: (p) => ({ periodS: p.periodS, lengthS: Math.min(p.durationS, p.count * p.periodS) }),
  random: (g, quantity, durationS) => {
    const periodS = g.log(1e-4, 1);
    return {
      kind: 'pulse-train',
      quantity,
      durationS,
      amplitude: g.level(),
      baseline: g.chance(0.6) ? 0 : g.level(),
      periodS,
      widthS: periodS * g.uni(0.01, 0.99),
      count: g.int(1, 1000),
    };
  },
};
