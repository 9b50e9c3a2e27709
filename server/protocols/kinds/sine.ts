/** Sine: offset + amplitude · sin(2π f t + phase). */
import { Type, type Static } from 'typebox';
import { durationS, frequency, level, quantity, type ProtocolKind } from '../kind.ts';

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
export type Sine = Static<typeof SineSchema>;

export const sine: ProtocolKind<Sine> = {
  schema: SineSchema,
  extremes: (p) => [p.offset - Math.abs(p.amplitude), p.offset + Math.abs(p.amplitude)],
  waveform: (p) => {
    const w = 2 * Math.PI * p.frequencyHz;
    const ph = (p.phaseDeg * Math.PI) / 180;
    return (t) => p.offset + p.amplitude * Math.sin(w * t + ph);
  },
  periodic: (p) => ({ periodS: 1 / p.frequencyHz, lengthS: p.durationS }),
  highestFrequencyHz: (p) => p.frequencyHz,
  random: (g, quantity, durationS) => ({
    kind: 'sine',
    quantity,
    durationS,
    amplitude: g.level(),
    offset: g.chance(0.5) ? 0 : g.level(),
    frequencyHz: g.log(0.1, 1e5),
    phaseDeg: g.uni(-360, 360),
  }),
};
