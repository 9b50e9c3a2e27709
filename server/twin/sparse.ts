/**
 * Sparse symmetric positive-definite systems for the MNA solver.
 *
 * The pattern (diagonal + a list of symmetric off-diagonal edges) is analysed once: a minimum-degree
 * elimination order, the pattern of the LDLᵀ factor and a flat schedule of every update the numeric
 * factorisation performs. Values are then refactored as often as conductances change, or the system
 * is re-solved by preconditioned conjugate gradients, warm-started from the previous solution, with
 * the last factor as preconditioner (refactoring only when PCG needs too many iterations).
 */

/** Thrown by a factorisation whose matrix is not positive definite (a pivot <= 0). */
export class NotPositiveDefinite extends Error {}

/** Thrown by the analysis of a network too densely connected to solve in reasonable time: stopped at the limit it passed. */
export class FactorTooLarge extends Error {}

export interface SolveStats {
  factorisations: number;
  pcgIterations: number;
  solves: number;
  /** Columns recomputed by the sparse factorisations (n per full one; fewer with partial refactoring). */
  columns: number;
}

export class SpdSystem {
  readonly n: number;
  readonly m: number;
  /** Diagonal values A_ii; set by the caller before factor()/solve(). */
  readonly diag: Float64Array;
  /** Off-diagonal values, one per edge: A_ij = A_ji = off[e]. */
  readonly off: Float64Array;
  private ei: Int32Array;
  private ej: Int32Array;
  // factor (in permuted order)
  private perm: Int32Array; // perm[k] = original index eliminated k-th
  private iperm: Int32Array;
  private colptr: Int32Array;
  private rowidx: Int32Array;
  private fvals: Float64Array; // [D (n) | L·D (nnz)], unscaled columns as the elimination leaves them
  private lvals: Float64Array; // L (nnz): the scaled columns the solves use
  private edgeSlot: Int32Array; // position of edge e in fvals (n + p)
  /**
   * Partial refactorisation: the values at the last factorisation, the elimination tree, the edges
   * landing in each column. Only the columns whose entries changed and their ancestors are recomputed;
   * every other column keeps its final values, so the factor is bit-identical to a full one.
   */
  private lastDiag: Float64Array;
  private lastOff: Float64Array;
  private parent: Int32Array;
  private edgeCol: Int32Array;
  private colEdgePtr: Int32Array;
  private colEdges: Int32Array;
  private inS: Uint8Array;
  private partialOk = false;
  /**
   * Update schedule: for column k, rows q ≤ p of its pattern in that order, the target slot of
   * A(row p, row q) -= L(p,k)·L(q,k)/d_k. The sources are implicit (contiguous in column k).
   */
  private schedPtr: Int32Array;
  private schedT: Int32Array;
  private work: Float64Array;
  private r: Float64Array;
  private z: Float64Array;
  private pv: Float64Array;
  private ap: Float64Array;
  private factored = false;
  /** Dense mode (the factor would be mostly full): row-major lower triangle, no ordering. */
  private dense: Float64Array | null = null;
  private stale = false;
  /** Nonzeros below the diagonal of the factor (its fill): what one solve or refactorisation touches. */
  readonly factorNonzeros: number;
  /** Cost model (multiply-adds) of one factorisation and of one PCG iteration, for the refactor rule. */
  private opsFactor = 0;
  private opsIter = 0;
  private costSince = 0;
  private solvesSince = 0;
  readonly stats: SolveStats = { factorisations: 0, pcgIterations: 0, solves: 0, columns: 0 };

  /**
   * n unknowns; edges (ei[e], ej[e]) with ei ≠ ej, each pair at most once. The analysis stops with
   * FactorTooLarge once the factor passes `limits.fill` nonzeros or the ordering `limits.ordering` steps.
   */
  constructor(n: number, ei: Int32Array, ej: Int32Array, limits: { fill?: number; ordering?: number } = {}) {
    this.n = n;
    this.m = ei.length;
    this.ei = ei;
    this.ej = ej;
    this.diag = new Float64Array(n);
    this.off = new Float64Array(this.m);
    this.work = new Float64Array(n);
    this.r = new Float64Array(n);
    this.z = new Float64Array(n);
    this.pv = new Float64Array(n);
    this.ap = new Float64Array(n);

    // Minimum-degree elimination on explicit adjacency sets (fine for the few thousand nodes we meet).
    const adj: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
    for (let e = 0; e < this.m; e++) {
      adj[ei[e]].add(ej[e]);
      adj[ej[e]].add(ei[e]);
    }
    const perm = new Int32Array(n);
    const done = new Uint8Array(n);
    const cols: number[][] = [];
    let fill = 0;
    let ordering = 0;
    for (let k = 0; k < n; k++) {
      let best = -1;
      let bd = Infinity;
      for (let v = 0; v < n; v++) if (!done[v] && adj[v].size < bd) ((bd = adj[v].size), (best = v));
      perm[k] = best;
      done[best] = 1;
      const nb = [...adj[best]];
      cols.push(nb);
      if ((fill += nb.length) > (limits.fill ?? Infinity)) throw new FactorTooLarge(`its conductance matrix fills to more than ${limits.fill} nonzeros when factored`);
      // the clique merge below costs about |nb|² set operations
      if ((ordering += nb.length * nb.length) > (limits.ordering ?? Infinity)) throw new FactorTooLarge(`ordering its conductance matrix takes more than ${limits.ordering} steps`);
      for (const a of nb) {
        adj[a].delete(best);
        for (const b of nb) if (a !== b) adj[a].add(b);
      }
      adj[best].clear();
    }
    const iperm = new Int32Array(n);
    for (let k = 0; k < n; k++) iperm[perm[k]] = k;
    this.perm = perm;
    this.iperm = iperm;
    const colptr = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) colptr[k + 1] = colptr[k] + cols[k].length;
    const nnz = colptr[n];
    this.factorNonzeros = nnz;
    if (n >= 16 && nnz > 0.3 * ((n * (n - 1)) / 2)) {
      // mostly full factor: a dense Cholesky with contiguous rows is several times faster
      this.dense = new Float64Array(n * n);
      this.perm = Int32Array.from({ length: n }, (_, i) => i);
      this.iperm = this.perm;
      this.colptr = new Int32Array(n + 1);
      this.rowidx = new Int32Array(0);
      this.fvals = new Float64Array(0);
      this.lvals = new Float64Array(0);
      this.lastDiag = this.lastOff = new Float64Array(0);
      this.parent = this.edgeCol = this.colEdgePtr = this.colEdges = new Int32Array(0);
      this.inS = new Uint8Array(0);
      this.edgeSlot = new Int32Array(0);
      this.schedPtr = new Int32Array(n + 1);
      this.schedT = new Int32Array(0);
      this.opsFactor = (n * n * n) / 6;
      this.opsIter = n * n + 2 * this.m + 4 * n;
      return;
    }
    const rowidx = new Int32Array(nnz);
    const slotOf: Map<number, number>[] = Array.from({ length: n }, () => new Map());
    for (let k = 0; k < n; k++) {
      const rows = cols[k].map((v) => iperm[v]).sort((a, b) => a - b);
      for (let t = 0; t < rows.length; t++) {
        rowidx[colptr[k] + t] = rows[t];
        slotOf[k].set(rows[t], n + colptr[k] + t);
      }
    }
    this.colptr = colptr;
    this.rowidx = rowidx;
    this.fvals = new Float64Array(n + nnz);
    this.lvals = new Float64Array(nnz);
    this.edgeSlot = new Int32Array(this.m);
    this.edgeCol = new Int32Array(this.m);
    this.colEdgePtr = new Int32Array(n + 1);
    for (let e = 0; e < this.m; e++) {
      const a = iperm[ei[e]];
      const b = iperm[ej[e]];
      const [lo, hi] = a < b ? [a, b] : [b, a];
      this.edgeSlot[e] = slotOf[lo].get(hi)!;
      this.edgeCol[e] = lo;
      this.colEdgePtr[lo + 1]++;
    }
    for (let k = 0; k < n; k++) this.colEdgePtr[k + 1] += this.colEdgePtr[k];
    this.colEdges = new Int32Array(this.m);
    {
      const fillPos = this.colEdgePtr.slice(0, n);
      for (let e = 0; e < this.m; e++) this.colEdges[fillPos[this.edgeCol[e]]++] = e;
    }
    this.parent = new Int32Array(n);
    for (let k = 0; k < n; k++) this.parent[k] = colptr[k + 1] > colptr[k] ? rowidx[colptr[k]] : -1;
    this.lastDiag = new Float64Array(n);
    this.lastOff = new Float64Array(this.m);
    this.inS = new Uint8Array(n);
    // Update schedule: for column k and rows ri ≥ rj in its pattern, A(ri, rj) -= L(ri,k)·L(rj,k)/d_k.
    let total = 0;
    for (let k = 0; k < n; k++) {
      const c = colptr[k + 1] - colptr[k];
      total += (c * (c + 1)) / 2;
    }
    this.schedPtr = new Int32Array(n + 1);
    this.schedT = new Int32Array(total);
    let s = 0;
    for (let k = 0; k < n; k++) {
      for (let q = colptr[k]; q < colptr[k + 1]; q++) {
        const rj = rowidx[q];
        for (let p = q; p < colptr[k + 1]; p++) {
          const ri = rowidx[p];
          this.schedT[s] = ri === rj ? rj : slotOf[rj].get(ri)!;
          s++;
        }
      }
      this.schedPtr[k + 1] = s;
    }
    this.opsFactor = total + nnz + n;
    this.opsIter = 2 * nnz + 2 * this.m + 6 * n;
  }

  /** Bytes held by the pattern, factor and schedule. */
  get bytes(): number {
    return (
      this.diag.byteLength + this.off.byteLength + this.ei.byteLength * 2 + this.fvals.byteLength +
      this.rowidx.byteLength + this.colptr.byteLength + this.edgeSlot.byteLength + this.schedT.byteLength + this.schedPtr.byteLength +
      this.lvals.byteLength + this.lastDiag.byteLength + this.lastOff.byteLength + this.parent.byteLength +
      this.edgeCol.byteLength * 2 + this.colEdgePtr.byteLength + this.inS.byteLength +
      this.work.byteLength * 5 + this.perm.byteLength * 2
    );
  }

  /** True when solve() always refactors and solves directly (a factorisation no dearer than two PCG iterations). */
  get alwaysDirect(): boolean {
    return this.opsFactor <= 2 * this.opsIter;
  }

  /** Numeric LDLᵀ factorisation of the current values. Throws when the matrix is not positive definite. */
  factor(): void {
    if (this.dense) return this.factorDense();
    const { n, m, fvals, lvals, iperm, perm, edgeSlot, schedT, colptr, rowidx, inS, lastDiag, lastOff } = this;
    const diag = this.diag, off = this.off;
    // S: the columns to recompute (all of them the first time)
    if (this.partialOk) {
      inS.fill(0);
      for (let i = 0; i < n; i++) if (diag[i] !== lastDiag[i]) inS[iperm[i]] = 1;
      const edgeCol = this.edgeCol;
      for (let e = 0; e < m; e++) if (off[e] !== lastOff[e]) inS[edgeCol[e]] = 1;
      const parent = this.parent;
      for (let k = 0; k < n; k++) if (inS[k] && parent[k] >= 0) inS[parent[k]] = 1;
    } else inS.fill(1);
    this.partialOk = false;
    // reset the columns of S to the matrix values
    const cep = this.colEdgePtr, ce = this.colEdges;
    for (let k = 0; k < n; k++) {
      if (!inS[k]) continue;
      fvals[k] = diag[perm[k]];
      for (let p = n + colptr[k], e = n + colptr[k + 1]; p < e; p++) fvals[p] = 0;
      for (let t = cep[k]; t < cep[k + 1]; t++) fvals[edgeSlot[ce[t]]] += off[ce[t]];
    }
    let s = 0;
    let cols = 0;
    for (let k = 0; k < n; k++) {
      const d = fvals[k];
      const c0 = n + colptr[k], c1 = n + colptr[k + 1];
      if (inS[k]) {
        cols++;
        if (!(d > 0)) throw this.notSpd(k, d);
        const inv = 1 / d;
        // right-looking update of the trailing matrix by column k (same order and rounding as the
        // explicit (p, q, target) schedule: (L_p·L_q)·inv)
        for (let q = c0; q < c1; q++) {
          const lq = fvals[q];
          for (let p = q; p < c1; p++) fvals[schedT[s++]] -= fvals[p] * lq * inv;
        }
        for (let p = c0; p < c1; p++) lvals[p - n] = fvals[p] * inv;
      } else {
        // final column: only its updates of columns in S (column rowidx[q] receives the inner loop)
        const inv = 1 / d;
        for (let q = c0; q < c1; q++) {
          if (!inS[rowidx[q - n]]) {
            s += c1 - q;
            continue;
          }
          const lq = fvals[q];
          for (let p = q; p < c1; p++) fvals[schedT[s++]] -= fvals[p] * lq * inv;
        }
      }
    }
    lastDiag.set(diag);
    lastOff.set(off);
    this.partialOk = true;
    this.stats.columns += cols;
    this.factored = true;
    this.stale = false;
    this.costSince = this.opsFactor;
    this.solvesSince = 0;
    this.stats.factorisations++;
  }

  /** The factor is half overwritten: the next solve must refactor, not precondition with it. */
  private notSpd(pivot: number, d: number): NotPositiveDefinite {
    this.factored = false;
    return new NotPositiveDefinite(`matrix not positive definite at pivot ${pivot} (${d})`);
  }

  /** Dense LLᵀ (dot-product form, contiguous rows). */
  private factorDense(): void {
    const { n, diag, off, ei, ej } = this;
    const L = this.dense as Float64Array;
    L.fill(0);
    for (let i = 0; i < n; i++) L[i * n + i] = diag[i];
    for (let e = 0; e < this.m; e++) {
      const i = ei[e], j = ej[e];
      if (i > j) L[i * n + j] += off[e];
      else L[j * n + i] += off[e];
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j <= i; j++) {
        const rj = j * n;
        let s = L[ri + j];
        for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
        if (i === j) {
          if (!(s > 0)) throw this.notSpd(i, s);
          L[ri + i] = Math.sqrt(s);
        } else L[ri + j] = s / L[rj + j];
      }
    }
    this.factored = true;
    this.stale = false;
    this.costSince = this.opsFactor;
    this.solvesSince = 0;
    this.stats.factorisations++;
    this.stats.columns += n;
  }

  private applyDense(b: Float64Array, x: Float64Array): void {
    const n = this.n;
    const L = this.dense as Float64Array;
    const y = this.work;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = b[i];
      for (let k = 0; k < i; k++) s -= L[ri + k] * y[k];
      y[i] = s / L[ri + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      const ri = i * n;
      const xi = y[i] / L[ri + i];
      y[i] = xi;
      for (let k = 0; k < i; k++) y[k] -= L[ri + k] * xi;
    }
    for (let i = 0; i < n; i++) x[i] = y[i];
  }

  /** x = (LDLᵀ)⁻¹ b with the last factor (b and x in original order; may alias). */
  private applyFactor(b: Float64Array, x: Float64Array): void {
    if (this.dense) return this.applyDense(b, x);
    const { n, fvals, lvals, perm, colptr, rowidx, work: y } = this;
    for (let k = 0; k < n; k++) y[k] = b[perm[k]];
    for (let k = 0; k < n; k++) {
      const yk = y[k];
      if (yk !== 0) for (let p = colptr[k], e = colptr[k + 1]; p < e; p++) y[rowidx[p]] -= lvals[p] * yk;
    }
    for (let k = 0; k < n; k++) y[k] /= fvals[k];
    for (let k = n - 1; k >= 0; k--) {
      let s = y[k];
      for (let p = colptr[k], e = colptr[k + 1]; p < e; p++) s -= lvals[p] * y[rowidx[p]];
      y[k] = s;
    }
    for (let k = 0; k < n; k++) x[perm[k]] = y[k];
  }

  private matvec(x: Float64Array, y: Float64Array): void {
    const { n, m, diag, off, ei, ej } = this;
    for (let i = 0; i < n; i++) y[i] = diag[i] * x[i];
    for (let e = 0; e < m; e++) {
      const a = off[e];
      const i = ei[e];
      const j = ej[e];
      y[i] += a * x[j];
      y[j] += a * x[i];
    }
  }

  /** Direct solve: refactor, then solve. */
  solveDirect(b: Float64Array, x: Float64Array): void {
    this.factor();
    this.applyFactor(b, x);
    this.stats.solves++;
  }

  /**
   * PCG warm-started from x, preconditioned by the last factor. Refactors and solves directly when there
   * is no factor yet, when the previous solve cost more than the average solve since the last
   * factorisation (factorisation included), or when PCG has not converged within `maxIter` iterations.
   * Relative tolerance on the residual norm.
   */
  solve(b: Float64Array, x: Float64Array, tol = 1e-8, maxIter = 30): number {
    // a factorisation no dearer than two PCG iterations: always solve directly
    if (!this.factored || this.stale || this.alwaysDirect) {
      this.solveDirect(b, x);
      return 0;
    }
    const { n, r, z, pv, ap } = this;
    this.stats.solves++;
    this.matvec(x, ap);
    let bn = 0;
    let rn = 0;
    for (let i = 0; i < n; i++) {
      r[i] = b[i] - ap[i];
      bn += b[i] * b[i];
      rn += r[i] * r[i];
    }
    const tol2 = tol * tol * (bn > 0 ? bn : 1);
    if (rn <= tol2) {
      this.costSince += this.opsIter;
      this.solvesSince++;
      return 0;
    }
    this.applyFactor(r, z);
    let rz = 0;
    for (let i = 0; i < n; i++) ((pv[i] = z[i]), (rz += r[i] * z[i]));
    for (let it = 1; it <= maxIter; it++) {
      this.matvec(pv, ap);
      let pap = 0;
      for (let i = 0; i < n; i++) pap += pv[i] * ap[i];
      const alpha = rz / pap;
      rn = 0;
      for (let i = 0; i < n; i++) {
        x[i] += alpha * pv[i];
        r[i] -= alpha * ap[i];
        rn += r[i] * r[i];
      }
      this.stats.pcgIterations++;
      if (rn <= tol2) {
        // Refactor once this solve costs more than the average solve since the last factorisation
        // (factorisation included): the usual rule for a cost that grows as the factor ages.
        const cost = (it + 1) * this.opsIter;
        this.costSince += cost;
        this.solvesSince++;
        if (cost * this.solvesSince > this.costSince) this.stale = true;
        return it;
      }
      this.applyFactor(r, z);
      let rz2 = 0;
      for (let i = 0; i < n; i++) rz2 += r[i] * z[i];
      const beta = rz2 / rz;
      rz = rz2;
      for (let i = 0; i < n; i++) pv[i] = z[i] + beta * pv[i];
    }
    this.stats.solves--;
    this.solveDirect(b, x);
    return maxIter + 1;
  }
}
