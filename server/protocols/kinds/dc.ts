/** DC step: 0 until delayS, then a constant level. */
import { Type, type Static } from 'typebox';
import { durationS, level, quantity, time, type ProtocolKind } from '../kind.ts';

export const DcStepSchema = Type.Object(
  {
    kind: Type.Literal('dc'),
    quantity,
    durationS,
    level: level({ title: 'Level', description: 'Level after the step' }, 1e-3),
    delayS: time({ title: 'Delay', description: 'Time at 0 before the step' }, 0),
  },
  { additionalProperties: false, title: 'DC step' },
);
export type DcStep = Static<typeof DcStepSchema>;

export const dc: ProtocolKind<DcStep> = {
  schema: DcStepSchema,
  extremes: (p) => (p.delayS > 0 ? [0, p.level] : [p.level]),
  waveform: (p) => (t) => (t >= p.delayS ? p.level : 0),
  breakpoints: (p, push) => {
    push(p.delayS);
    return true;
  },
  random: (g, quantity, durationS) => ({ kind: 'dc', quantity, durationS, level: g.level(), delayS: g.chance(0.5) ? g.uni(0, durationS) : 0 }),
};
