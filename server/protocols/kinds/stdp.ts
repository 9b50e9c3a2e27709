/**
 * STDP pairing: for each timing offset Δt a block of read pulse, `pairsPerOffset` pre/post pairings and a
 * second read pulse, so the conductance change at each Δt can be read off.
 */
import { Type, type Static } from 'typebox';
import { level, MAX_DURATION_S, optionalDurationS, positiveTime, ProtocolError, time, quantityOf, type ProtocolKind, type WithDuration } from '../kind.ts';

export const StdpSchema = Type.Object(
  {
    kind: Type.Literal('stdp'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    preAmplitude: level({ title: 'Pre amplitude', description: 'Pre-synaptic pulse, applied as +amplitude across the device' }, 1),
    postAmplitude: level({ title: 'Post amplitude', description: 'Post-synaptic pulse, applied as −amplitude across the device' }, 1),
    pulseWidthS: positiveTime({ title: 'Pulse width', description: 'Width of pre and post pulses' }, 1e-3),
    offsetsS: Type.Array(Type.Number({ minimum: -MAX_DURATION_S, maximum: MAX_DURATION_S, unit: 's' }), {
      minItems: 1,
      maxItems: 10_000,
      default: [-8e-3, -4e-3, -2e-3, -1e-3, 1e-3, 2e-3, 4e-3, 8e-3],
      title: 'Offsets Δt',
      unit: 's',
      description: 'Timing offsets Δt = t_post − t_pre (one pairing block per offset)',
    }),
    pairsPerOffset: Type.Integer({ minimum: 1, maximum: 1e6, default: 10, title: 'Pairs per offset', description: 'Pairings in each block' }),
    pairPeriodS: positiveTime({ title: 'Pairing period', description: 'Time from one pairing to the next' }, 20e-3),
    readAmplitude: level({ title: 'Read amplitude', description: 'Read pulse before and after each pairing block' }, 0.1),
    readWidthS: positiveTime({ title: 'Read width', description: 'Read pulse width' }, 5e-3),
    gapS: time({ title: 'Gap', description: 'Silence around read pulses' }, 10e-3),
    spikeShape: Type.Union([Type.Literal('rect'), Type.Literal('exp-tail')], {
      default: 'rect',
      title: 'Spike shape',
      description:
        'Shape of each pre and post spike: rect = a rectangular pulse; exp-tail = the pulse followed by an opposite-polarity tail decaying exponentially (Linares-Barranco & Serrano-Gotarredona 2009), so a pre and a post spike that overlap add above a memristive threshold that each alone stays below',
    }),
    tailRatio: Type.Number({ minimum: 0, maximum: 10, default: 0.8, title: 'Tail ratio', description: 'exp-tail: depth of the tail at its start as a fraction of the pulse amplitude' }),
    tailTauS: positiveTime({ title: 'Tail τ', description: 'exp-tail: decay time constant of the tail' }, 4e-3),
    tailS: time({ title: 'Tail length', description: 'exp-tail: length of the tail after the pulse (then 0)' }, 10e-3),
  },
  { additionalProperties: false, title: 'STDP pairing' },
);
export type Stdp = WithDuration<Static<typeof StdpSchema>>;

/** Length of one STDP block: gap, read, gap, pairings, gap, read. */
export function stdpBlockS(p: Stdp): number {
  return 3 * p.gapS + 2 * p.readWidthS + p.pairsPerOffset * p.pairPeriodS;
}

/**
 * Shape of one STDP spike at time x after its onset, as a multiple of its amplitude: 1 during the pulse;
 * for spikeShape exp-tail, −tailRatio·e^(−(x − width)/tailTauS) during the tail; 0 elsewhere.
 */
export function stdpSpikeShape(p: Stdp, x: number): number {
  if (x < 0) return 0;
  if (x < p.pulseWidthS) return 1;
  if (p.spikeShape !== 'exp-tail') return 0;
  const y = x - p.pulseWidthS;
  return y < p.tailS ? -p.tailRatio * Math.exp(-y / p.tailTauS) : 0;
}

/** The value across the device at time s into a pairing slot with offset dt: pre spike minus post spike. */
export function stdpPairValue(p: Stdp, dt: number, s: number): number {
  const tPre = Math.max(0, -dt);
  return p.preAmplitude * stdpSpikeShape(p, s - tPre) - p.postAmplitude * stdpSpikeShape(p, s - tPre - dt);
}

/**
 * Lowest and highest value of the exp-tail pairings. Between the spikes' breakpoints (onset, end of
 * pulse, end of tail) the value is a constant, one exponential, or a sum of two exponentials with the
 * same time constant (again one exponential): monotonic, so the extremes lie at the breakpoints (taken
 * from both sides).
 */
function stdpPairingExtremes(p: Stdp): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const dt of p.offsetsS) {
    const tPre = Math.max(0, -dt);
    const tPost = tPre + dt;
    for (const t0 of [tPre, tPost])
      for (const b of [t0, t0 + p.pulseWidthS, t0 + p.pulseWidthS + p.tailS]) {
        const eps = Math.max(1e-15, Math.abs(b) * 1e-12);
        // both one-sided limits: at b itself rounding may still land on the side before the breakpoint
        for (const s of [b - eps, b, b + eps]) {
          const v = stdpPairValue(p, dt, s);
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
  }
  return [lo, hi];
}

export const stdp: ProtocolKind<Stdp> = {
  schema: StdpSchema,
  check: (p) => {
    const tail = p.spikeShape === 'exp-tail' ? p.tailS : 0;
    p.offsetsS.forEach((dt, i) => {
      if (Math.abs(dt) + p.pulseWidthS + tail > p.pairPeriodS * (1 + 1e-12)) {
        throw new ProtocolError(
          `/offsetsS/${i}`,
          tail > 0
            ? `|Δt| + pulse width + tail = ${Math.abs(dt) + p.pulseWidthS + tail} s must fit in the pair period ${p.pairPeriodS} s`
            : `|Δt| + pulse width = ${Math.abs(dt) + p.pulseWidthS} s must fit in the pair period ${p.pairPeriodS} s`,
        );
      }
    });
  },
  naturalDurationS: (p) => p.offsetsS.length * stdpBlockS(p),
  extremes: (p) => {
    const values = [0, p.readAmplitude, p.preAmplitude, -p.postAmplitude];
    if (p.spikeShape === 'exp-tail') values.push(...stdpPairingExtremes(p));
    else if (p.offsetsS.some((dt) => Math.abs(dt) < p.pulseWidthS)) values.push(p.preAmplitude - p.postAmplitude);
    return values;
  },
  waveform: (p, natural) => {
    const block = stdpBlockS(p);
    const pulse = (x: number) => x >= 0 && x < p.pulseWidthS;
    return (t) => {
      if (t < 0 || t >= natural) return 0;
      const i = Math.min(p.offsetsS.length - 1, Math.floor(t / block));
      const dt = p.offsetsS[i];
      let x = t - i * block - p.gapS;
      if (x < p.readWidthS) return x >= 0 ? p.readAmplitude : 0;
      x -= p.readWidthS + p.gapS;
      const pairing = p.pairsPerOffset * p.pairPeriodS;
      if (x >= 0 && x < pairing) {
        const k = Math.min(p.pairsPerOffset - 1, Math.floor(x / p.pairPeriodS));
        const s = x - k * p.pairPeriodS;
        if (p.spikeShape === 'exp-tail') return stdpPairValue(p, dt, s);
        const tPre = Math.max(0, -dt);
        return (pulse(s - tPre) ? p.preAmplitude : 0) - (pulse(s - tPre - dt) ? p.postAmplitude : 0);
      }
      x -= pairing + p.gapS;
      return x >= 0 && x < p.readWidthS ? p.readAmplitude : 0;
    };
  },
  breakpoints: (p, push, natural) => {
    if (p.spikeShape === 'exp-tail') return false; // decaying tails: continuous
    const block = stdpBlockS(p);
    p.offsetsS.forEach((dt, i) => {
      const t0 = i * block;
      push(t0 + p.gapS);
      push(t0 + p.gapS + p.readWidthS);
      const pairStart = t0 + 2 * p.gapS + p.readWidthS;
      const tPre = Math.max(0, -dt);
      for (let k = 0; k < p.pairsPerOffset; k++) {
        const s = pairStart + k * p.pairPeriodS;
        const edges = [s, s + tPre, s + tPre + p.pulseWidthS, s + tPre + dt, s + tPre + dt + p.pulseWidthS].sort((a, b) => a - b);
        edges.forEach(push);
      }
      const pairEnd = pairStart + p.pairsPerOffset * p.pairPeriodS;
      push(pairEnd);
      push(pairEnd + p.gapS);
      push(pairEnd + p.gapS + p.readWidthS);
    });
    push(natural);
    return true;
  },
  segments: (p) => {
    const block = stdpBlockS(p);
    return p.offsetsS.flatMap((dt, i) => {
      const t0 = i * block;
      const pairStart = t0 + 2 * p.gapS + p.readWidthS;
      const pairEnd = pairStart + p.pairsPerOffset * p.pairPeriodS;
      return [
        { label: `read-before ${i}`, startS: t0 + p.gapS, endS: t0 + p.gapS + p.readWidthS, value: dt },
        { label: `pairing ${i}`, startS: pairStart, endS: pairEnd, value: dt },
        { label: `read-after ${i}`, startS: pairEnd + p.gapS, endS: pairEnd + p.gapS + p.readWidthS, value: dt },
      ];
    });
  },
  random: (g, quantity) => {
    const pulseWidthS = g.log(1e-4, 1e-2);
    const pairPeriodS = pulseWidthS * g.uni(1.5, 10);
    // half of them with exp-tail spikes, the tail taking part of the slot
    const tailS = g.chance(0.5) ? (pairPeriodS - pulseWidthS) * g.uni(0, 0.8) : undefined;
    const span = pairPeriodS - pulseWidthS - (tailS ?? 0);
    return {
      ...(tailS !== undefined ? { spikeShape: 'exp-tail', tailS, tailRatio: g.uni(0, 2), tailTauS: g.log(1e-5, 1e-2) } : {}),
      kind: 'stdp',
      quantity,
      preAmplitude: g.level(),
      postAmplitude: g.level(),
      pulseWidthS,
      pairPeriodS,
      offsetsS: Array.from({ length: g.int(1, 6) }, () => g.uni(-span, span) * (g.chance(0.05) ? 2 : 1)),
      pairsPerOffset: g.int(1, 5),
      readAmplitude: g.level(),
      readWidthS: g.log(1e-4, 1e-2),
      gapS: g.log(1e-4, 1e-2),
    };
  },
};
