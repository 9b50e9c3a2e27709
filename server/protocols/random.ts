/**
 * A small seeded generator of random protocol documents, for property tests and benches. Documents
 * are mostly valid; a few break a consistency rule on purpose (the caller validates them).
 */

/** mulberry32: a tiny, fast, seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly next: () => number) {}
  uni(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  log(a: number, b: number): number {
    return Math.exp(this.uni(Math.log(a), Math.log(b)));
  }
  int(a: number, b: number): number {
    return Math.floor(this.uni(a, b + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** A signed level spanning µ to hundreds. */
  level(): number {
    return (this.chance(0.2) ? -1 : 1) * this.log(1e-6, 200);
  }
}

export const RANDOM_KINDS = ['dc', 'square', 'pulse-train', 'sine', 'chirp', 'iv-sweep', 'ladder', 'stdp', 'arbitrary'] as const;

/** One random protocol document of the given (or a random) kind. */
export function randomProtocolDoc(g: Gen, kind: (typeof RANDOM_KINDS)[number] = g.pick(RANDOM_KINDS)): Record<string, unknown> {
  const quantity = g.pick(['current', 'voltage'] as const);
  const durationS = g.log(1e-3, 10);
  switch (kind) {
    case 'dc':
      return { kind, quantity, durationS, level: g.level(), delayS: g.chance(0.5) ? g.uni(0, durationS) : 0 };
    case 'square':
      return { kind, quantity, durationS, amplitude: g.level(), offset: g.chance(0.5) ? 0 : g.level(), frequencyHz: g.log(0.1, 1e5), duty: g.uni(0.01, 0.99) };
    case 'pulse-train': {
      const periodS = g.log(1e-4, 1);
      return { kind, quantity, durationS, amplitude: g.level(), baseline: g.chance(0.6) ? 0 : g.level(), periodS, widthS: periodS * g.uni(0.01, 0.99), count: g.int(1, 1000) };
    }
    case 'sine':
      return { kind, quantity, durationS, amplitude: g.level(), offset: g.chance(0.5) ? 0 : g.level(), frequencyHz: g.log(0.1, 1e5), phaseDeg: g.uni(-360, 360) };
    case 'chirp':
      return { kind, quantity, durationS: g.log(1e-2, 5), amplitude: g.level(), offset: g.chance(0.5) ? 0 : g.level(), startHz: g.log(0.1, 1e4), stopHz: g.log(0.1, 1e4), sweep: g.pick(['linear', 'log']) };
    case 'iv-sweep':
      return {
        kind,
        quantity,
        peak: g.log(1e-6, 200),
        ...(g.chance(0.3) ? { negativePeak: g.log(1e-6, 200) } : {}),
        bipolar: g.chance(0.7),
        periodS: g.log(1e-3, 2),
        cycles: g.int(1, 5),
        stepsPerBranch: g.int(1, 200),
        ...(g.chance(0.3) ? { durationS } : {}),
      };
    case 'ladder':
      return {
        kind,
        quantity,
        ...(g.chance(0.3) ? { levels: Array.from({ length: g.int(1, 20) }, () => g.level()) } : { start: g.level(), stop: g.level(), steps: g.int(1, 50) }),
        dwellS: g.log(1e-3, 0.5),
        restS: g.chance(0.5) ? 0 : g.log(1e-3, 0.1),
        ...(g.chance(0.2) ? { durationS } : {}),
      };
    case 'stdp': {
      const pulseWidthS = g.log(1e-4, 1e-2);
      const pairPeriodS = pulseWidthS * g.uni(1.5, 10);
      // half of them with exp-tail spikes, the tail taking part of the slot
      const tailS = g.chance(0.5) ? (pairPeriodS - pulseWidthS) * g.uni(0, 0.8) : undefined;
      const span = pairPeriodS - pulseWidthS - (tailS ?? 0);
      return {
        ...(tailS !== undefined ? { spikeShape: 'exp-tail', tailS, tailRatio: g.uni(0, 2), tailTauS: g.log(1e-5, 1e-2) } : {}),
        kind,
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
    }
    case 'arbitrary': {
      let t = g.chance(0.5) ? 0 : g.log(1e-4, 1e-2);
      const lines = ['time_s,value'];
      for (let i = 0, n = g.int(2, 40); i < n; i++) {
        lines.push(`${t},${g.level()}`);
        t += g.log(1e-4, 0.1);
      }
      return { kind, quantity, csv: lines.join('\n'), interpolation: g.pick(['linear', 'step']), repeat: g.int(1, 4), ...(g.chance(0.2) ? { durationS } : {}) };
    }
  }
}
