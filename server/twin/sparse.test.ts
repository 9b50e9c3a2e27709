import { describe, expect, it } from 'vitest';
import { SpdSystem } from './sparse.ts';
import { Rng } from '../../common/random.ts';

/** A random sparse graph Laplacian + positive diagonal (SPD), seeded; n nodes, about deg·n/2 edges. */
function randomPattern(n: number, deg: number, seed: number) {
  const r = new Rng(seed);
  const rnd = () => r.next();
  const seen = new Set<number>();
  const ei: number[] = [], ej: number[] = [];
  for (let i = 1; i < n; i++) {
    // a spanning chain keeps it connected, plus random extra edges
    const j = Math.floor(rnd() * i);
    seen.add(j * n + i), ei.push(j), ej.push(i);
  }
  while (ei.length < (deg * n) / 2) {
    const a = Math.floor(rnd() * n), b = Math.floor(rnd() * n);
    if (a === b) continue;
    const k = Math.min(a, b) * n + Math.max(a, b);
    if (seen.has(k)) continue;
    seen.add(k), ei.push(a), ej.push(b);
  }
  return { ei: Int32Array.from(ei), ej: Int32Array.from(ej), g: Float64Array.from(ei, () => 10 ** (-6 + 3 * rnd())), rnd };
}

function stamp(sys: SpdSystem, ei: Int32Array, ej: Int32Array, g: Float64Array) {
  sys.diag.fill(1e-12);
  sys.off.fill(0);
  for (let e = 0; e < g.length; e++) ((sys.diag[ei[e]] += g[e]), (sys.diag[ej[e]] += g[e]), (sys.off[e] -= g[e]));
}

describe('SpdSystem partial refactorisation', () => {
  it('recomputes only the changed columns and their ancestors, with a factor bit-identical to a full one', () => {
    const n = 600;
    const { ei, ej, g, rnd } = randomPattern(n, 5, 7);
    const inc = new SpdSystem(n, ei, ej); // refactored step by step (partial)
    const b = Float64Array.from({ length: n }, () => rnd() - 0.5);
    const x1 = new Float64Array(n), x2 = new Float64Array(n);
    for (let step = 0; step < 6; step++) {
      // change a few conductances (none on the last step: nothing to recompute)
      const changes = step === 5 ? 0 : [1, 5, 40, 300, 2][step];
      for (let c = 0; c < changes; c++) g[Math.floor(rnd() * g.length)] *= 1 + rnd();
      stamp(inc, ei, ej, g);
      const cols0 = inc.stats.columns;
      inc.solveDirect(b, x1);
      const cols = inc.stats.columns - cols0;
      const full = new SpdSystem(n, ei, ej); // a fresh system: full factorisation
      stamp(full, ei, ej, g);
      full.solveDirect(b, x2);
      expect(full.stats.columns).toBe(n);
      if (step === 0) expect(cols).toBe(n);
      else if (changes === 0) expect(cols).toBe(0);
      else if (changes <= 5) expect(cols).toBeLessThan(n);
      expect(Array.from(x1)).toEqual(Array.from(x2)); // bit-identical
      // and it is the solution: residual A·x − b small against the size of A·x's terms
      let r = 0;
      let scale = 0;
      for (let i = 0; i < n; i++) {
        r = Math.max(r, Math.abs(inc.diag[i] * x1[i] - b[i] + sum(i)));
        scale = Math.max(scale, Math.abs(inc.diag[i] * x1[i]));
      }
      function sum(i: number) {
        let s = 0;
        for (let e = 0; e < ei.length; e++) if (ei[e] === i) s += inc.off[e] * x1[ej[e]];
          else if (ej[e] === i) s += inc.off[e] * x1[ei[e]];
        return s;
      }
      expect(r).toBeLessThan(1e-10 * scale);
    }
  });
});
