/** Ladder (stepwise bias): levels from start to stop (or explicit ones), each held dwellS, then restS at 0. */
import { Type, type Static } from 'typebox';
import { level, minMax, optionalDurationS, positiveTime, quantityOf, time, zeroTail, type ProtocolKind, type WithDuration } from '../kind.ts';

export const LadderSchema = Type.Object(
  {
    kind: Type.Literal('ladder'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    start: level({ title: 'First level', description: 'Level of the first step' }, 0.5),
    stop: level({ title: 'Last level', description: 'Level of the last step' }, 5),
    steps: Type.Integer({ minimum: 1, maximum: 100_000, default: 10, title: 'Steps', description: 'Number of levels from the first to the last inclusive' }),
    levels: Type.Optional(
      Type.Array(level({ title: 'Level', description: 'One level of the ladder' }), {
        minItems: 1,
        maxItems: 100_000,
        title: 'Levels',
        quantityUnit: 'same',
        description: 'Explicit levels, in order (overrides first, last and steps)',
      }),
    ),
    dwellS: positiveTime({ title: 'Dwell', description: 'Time on each level' }, 1),
    restS: time({ title: 'Rest', description: 'Time at 0 after each level' }, 0),
  },
  { additionalProperties: false, title: 'Voltage ladder (stepwise bias)' },
);
export type Ladder = WithDuration<Static<typeof LadderSchema>>;

/** The ladder's levels in playing order. */
export function ladderLevels(p: Ladder): number[] {
  if (p.levels) return p.levels;
  if (p.steps === 1) return [p.start];
  return Array.from({ length: p.steps }, (_, i) => p.start + ((p.stop - p.start) * i) / (p.steps - 1));
}

export const ladder: ProtocolKind<Ladder> = {
  schema: LadderSchema,
  naturalDurationS: (p) => ladderLevels(p).length * (p.dwellS + p.restS),
  extremes: (p, natural) => [...minMax(ladderLevels(p)), ...(p.restS > 0 ? [0] : []), ...zeroTail(p, natural)],
  waveform: (p, natural) => {
    const levels = ladderLevels(p);
    const step = p.dwellS + p.restS;
    return (t) => {
      if (t < 0 || t >= natural) return 0;
      const i = Math.min(levels.length - 1, Math.floor(t / step));
      return t - i * step < p.dwellS ? levels[i] : 0;
    };
  },
  breakpoints: (p, push, natural) => {
    const step = p.dwellS + p.restS;
    ladderLevels(p).forEach((_, i) => {
      push(i * step);
      push(i * step + p.dwellS);
    });
    push(natural);
    return true;
  },
  segments: (p) => {
    const step = p.dwellS + p.restS;
    return ladderLevels(p).map((v, i) => ({ label: `level ${i}`, startS: i * step, endS: i * step + p.dwellS, value: v }));
  },
  random: (g, quantity, durationS) => ({
    kind: 'ladder',
    quantity,
    ...(g.chance(0.3) ? { levels: Array.from({ length: g.int(1, 20) }, () => g.level()) } : { start: g.level(), stop: g.level(), steps: g.int(1, 50) }),
    dwellS: g.log(1e-3, 0.5),
    restS: g.chance(0.5) ? 0 : g.log(1e-3, 0.1),
    ...(g.chance(0.2) ? { durationS } : {}),
  }),
};
