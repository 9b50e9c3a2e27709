/**
 * The project's one seeded random generator: sfc32 (Doty-Humphrey's Small Fast Counting generator, from
 * PractRand) seeded through splitmix32. Its stream depends only on the seed, so generated twin networks,
 * bootstrap replicates (whatever the number of worker threads), random protocols in property tests and test
 * data replay exactly. Pure: no clock, no global state.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix32 = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform on [0, 1) with 32 random bits: one draw (what the twin's network generators use). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.u32() >>> 5;
    const lo = this.u32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on (0, 1): never exactly 0, safe for logarithms. */
  open(): number {
    let u = this.random();
    while (u === 0) u = this.random();
    return u;
  }

  /** Integer uniform on [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Standard normal (Box-Muller on two 32-bit draws; 1 - u keeps the logarithm finite). */
  normal(): number {
    const u1 = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Exponential with the given rate (1/s). */
  exponential(rate: number): number {
    return -Math.log(this.open()) / rate;
  }

  /** Gamma(shape k, scale 1), Marsaglia and Tsang (2000); k > 0 (k < 1 by the k + 1 boost). */
  gamma(k: number): number {
    if (k < 1) return this.gamma(k + 1) * Math.pow(this.open(), 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const w = this.next();
      if (Math.log(w) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** Poisson with mean lambda (Knuth's product method; large means as sums of means ≤ 25). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const l = Math.exp(-lambda);
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= this.random();
      } while (p > l);
      return k - 1;
    }
    let total = 0;
    let rest = lambda;
    while (rest > 0) {
      const part = Math.min(rest, 25);
      total += this.poisson(part);
      rest -= part;
    }
    return total;
  }
}
