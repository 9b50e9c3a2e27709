/** DC step: 0 until delayS, then a constant level. */
import { Type, type Static } from 'typebox';
import { durationS, level, quantity, type ProtocolKind } from '../kind.ts';

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
