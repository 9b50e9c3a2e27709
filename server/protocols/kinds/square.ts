/** Square wave: offset, then offset + amplitude for the first `duty` of each period. */
import { Type, type Static } from 'typebox';
import { durationS, frequency, level, quantity, type ProtocolKind } from '../kind.ts';

export const SquareWaveSchema = Type.Object(
  {
    kind: Type.Literal('square'),
    quantity,
    durationS,
    amplitude: level({ title: 'Amplitude', description: 'High level minus low level' }, 1e-3),
    offset: level({ title: 'Low level', description: 'Level of the low half of each period' }),
    frequencyHz: frequency({ title: 'Frequency', description: 'Periods per second' }, 1000),
    duty: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, title: 'Duty cycle', description: 'Fraction of the period spent high' }),
  },
  { additionalProperties: false, title: 'Square wave' },
);
export type SquareWave = Static<typeof SquareWaveSchema>;

export const square: ProtocolKind<SquareWave> = {
  schema: SquareWaveSchema,
  extremes: (p) => [p.offset, p.offset + p.amplitude],
  waveform: (p) => (t) => {
    // x - floor(x) equals x % 1 exactly for x >= 0, and is several times faster than the fmod behind %.
    const x = t * p.frequencyHz;
    return x - Math.floor(x) < p.duty ? p.offset + p.amplitude : p.offset;
  },
  breakpoints: (p, push) => {
    const P = 1 / p.frequencyHz;
    for (let k = 0; k * P < p.durationS; k++) {
      push(k * P);
      push((k + p.duty) * P);
    }
    return true;
  },
  periodic: (p) => ({ periodS: 1 / p.frequencyHz, lengthS: p.durationS }),
  random: (g, quantity, durationS) => ({
    kind: 'square',
    quantity,
    durationS,
    amplitude: g.level(),
    offset: g.chance(0.5) ? 0 : g.level(),
    frequencyHz: g.log(0.1, 1e5),
    duty: g.uni(0.01, 0.99),
  }),
};
