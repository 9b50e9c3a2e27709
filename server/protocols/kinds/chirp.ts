/** Chirp: a sine whose frequency sweeps from startHz to stopHz over the run, linearly or logarithmically. */
import { Type, type Static } from 'typebox';
import { frequency, level, MAX_DURATION_S, phaseDeg, quantityOf, type ProtocolKind } from '../kind.ts';

export const ChirpSchema = Type.Object(
  {
    kind: Type.Literal('chirp'),
    quantity: quantityOf('voltage'),
    durationS: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_S, default: 10, title: 'Duration', unit: 's', description: 'Sweep length' }),
    amplitude: level({ title: 'Amplitude', description: 'Peak amplitude' }, 1),
    offset: level({ title: 'Offset', description: 'DC offset added to the chirp' }),
    startHz: frequency({ title: 'Start frequency', description: 'Instantaneous frequency at t = 0' }, 1),
    stopHz: frequency({ title: 'Stop frequency', description: 'Instantaneous frequency at the end' }, 1000),
    sweep: Type.Union([Type.Literal('linear'), Type.Literal('log')], {
      default: 'log',
      title: 'Sweep',
      description: 'linear: frequency rises at a constant rate; log: by a constant factor per second',
    }),
    phaseDeg,
  },
  { additionalProperties: false, title: 'Chirp (frequency sweep)' },
);
export type Chirp = Static<typeof ChirpSchema>;

export const chirp: ProtocolKind<Chirp> = {
  schema: ChirpSchema,
  extremes: (p) => [p.offset - Math.abs(p.amplitude), p.offset + Math.abs(p.amplitude)],
  waveform: (p) => {
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
  },
  highestFrequencyHz: (p) => Math.max(p.startHz, p.stopHz),
  random: (g, quantity) => ({
    kind: 'chirp',
    quantity,
    durationS: g.log(1e-2, 5),
    amplitude: g.level(),
    offset: g.chance(0.5) ? 0 : g.level(),
    startHz: g.log(0.1, 1e4),
    stopHz: g.log(0.1, 1e4),
    sweep: g.pick(['linear', 'log']),
  }),
};
