/** Sine: offset + amplitude · sin(2π f t + phase). */
import { Type, type Static } from 'typebox';
import { durationS, frequency, level, phaseDeg, quantity, type ProtocolKind } from '../kind.ts';

export const SineSchema = Type.Object(
  {
    kind: Type.Literal('sine'),
    quantity,
    durationS,
    amplitude: level({ title: 'Amplitude', description: 'Peak amplitude (half the peak-to-peak swing)' }, 1e-3),
    offset: level({ title: 'Offset', description: 'DC offset added to the sine' }),
    frequencyHz: frequency({ title: 'Frequency', description: 'Cycles per second' }, 10),
    phaseDeg,
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
