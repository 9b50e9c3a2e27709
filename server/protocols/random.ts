/**
 * A small seeded generator of random protocol documents, for property tests and benches. Documents
 * are mostly valid; a few break a consistency rule on purpose (the caller validates them). Each kind's
 * generator sits in its file under ./kinds/.
 */
import type { Rng } from '../../common/random.ts';
import { PROTOCOL_KINDS, type ProtocolKindName } from './kinds/index.ts';

export class Gen {
  constructor(private readonly rng: Rng) {}
  next(): number {
    return this.rng.random();
  }
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

export const RANDOM_KINDS = Object.keys(PROTOCOL_KINDS) as ProtocolKindName[];

/** One random protocol document of the given (or a random) kind. */
export function randomProtocolDoc(g: Gen, kind: ProtocolKindName = g.pick(RANDOM_KINDS)): Record<string, unknown> {
  const quantity = g.pick(['current', 'voltage'] as const);
  const durationS = g.log(1e-3, 10);
  return PROTOCOL_KINDS[kind].random(g, quantity, durationS);
}
