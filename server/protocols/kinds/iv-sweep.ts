/** I-V sweep: triangular loops 0 → +peak → 0 (→ −peak → 0 when bipolar), `cycles` times (pinched hysteresis). */
import { Type, type Static } from 'typebox';
import { CompileError, magnitude, optionalDurationS, positiveTime, quantityOf, type ProtocolKind, type SmuPoint, type WithDuration } from '../kind.ts';

export const IvSweepSchema = Type.Object(
  {
    kind: Type.Literal('iv-sweep'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    peak: Type.Number({ ...magnitude({ title: 'Peak', description: 'Positive vertex of the triangle' }), default: 1 }),
    negativePeak: Type.Optional(
      magnitude({ title: 'Negative peak', description: 'Magnitude of the negative vertex (bipolar; default: the peak)' }),
    ),
    bipolar: Type.Boolean({ default: true, title: 'Bipolar', description: 'Sweep 0 → +peak → 0 → −peak → 0 (true) or 0 → +peak → 0 (false)' }),
    periodS: positiveTime({ title: 'Loop period', description: 'Length of one loop' }, 1),
    cycles: Type.Integer({ minimum: 1, maximum: 1e6, default: 3, title: 'Loops', description: 'Number of loops' }),
    stepsPerBranch: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 50,
      title: 'Steps per branch',
      description: 'Source steps from 0 to a vertex when played as an SMU staircase',
    }),
  },
  { additionalProperties: false, title: 'I-V sweep (pinched hysteresis loops)' },
);
export type IvSweep = WithDuration<Static<typeof IvSweepSchema>>;

export const ivSweep: ProtocolKind<IvSweep> = {
  schema: IvSweepSchema,
  naturalDurationS: (p) => p.periodS * p.cycles,
  extremes: (p) => [0, p.peak, p.bipolar ? -(p.negativePeak ?? p.peak) : 0],
  waveform: (p, natural) => {
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
  },
  periodic: (p, natural) => ({ periodS: p.periodS, lengthS: Math.min(p.durationS, natural) }),
  // A staircase of stepsPerBranch steps per branch whose vertices land exactly on ±peak.
  smuStaircase: (p, caps, tailPoints) => {
    const tol = 1e-9;
    const perLoop = (p.bipolar ? 4 : 2) * p.stepsPerBranch;
    const n = perLoop * p.cycles;
    if (n + tailPoints > caps.maxPoints) {
      throw new CompileError('maxPoints', `${p.cycles} loops of ${perLoop} steps need ${n} points; the SMU holds ${caps.maxPoints}`, '/stepsPerBranch');
    }
    const dwell = p.periodS / perLoop;
    const played = Math.min(n, Math.ceil(p.durationS / dwell - tol));
    const spb = p.stepsPerBranch;
    const neg = p.negativePeak ?? p.peak;
    // exact staircase levels: j steps into the loop
    const levelAt = (j: number): number => {
      if (!p.bipolar) return j <= spb ? (p.peak * j) / spb : (p.peak * (2 * spb - j)) / spb;
      if (j <= spb) return (p.peak * j) / spb;
      if (j <= 2 * spb) return (p.peak * (2 * spb - j)) / spb;
      if (j <= 3 * spb) return (-neg * (j - 2 * spb)) / spb + 0;
      return (-neg * (4 * spb - j)) / spb + 0;
    };
    const points: SmuPoint[] = [];
    for (let k = 0; k < played; k++) {
      const t0 = k * dwell;
      points.push({ value: levelAt(k % perLoop), dwellS: Math.min(dwell, p.durationS - t0) });
    }
    return points;
  },
  random: (g, quantity, durationS) => ({
    kind: 'iv-sweep',
    quantity,
    peak: g.log(1e-6, 200),
    ...(g.chance(0.3) ? { negativePeak: g.log(1e-6, 200) } : {}),
    bipolar: g.chance(0.7),
    periodS: g.log(1e-3, 2),
    cycles: g.int(1, 5),
    stepsPerBranch: g.int(1, 200),
    ...(g.chance(0.3) ? { durationS } : {}),
  }),
};
