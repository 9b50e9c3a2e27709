/**
 * The power-law goodness-of-fit bootstrap (Clauset, Shalizi, Newman 2009, §4.1) spread over the worker
 * pool in chunks of replicates. Replicate r always uses the seed `replicateSeed(seed, r)`, so the p-value
 * is the same whatever the number of threads (and equals the single-thread `powerLawPValue`).
 */
import type { PowerLawFit, PowerLawOptions } from '../analysis/powerlaw.ts';
import type { TaskRunner } from '../workers/pool.ts';

export interface BootstrapResult {
  p_value: number;
  reps: number;
  /** Number of replicates whose KS distance was >= the observed one. */
  exceed: number;
  threads: number;
}

/** Chunks per thread: enough for a smooth progress bar, few enough that each chunk's setup is amortised. */
const CHUNKS_PER_THREAD = 4;

export async function powerLawPValueParallel(
  pool: TaskRunner,
  data: ArrayLike<number>,
  fit: PowerLawFit,
  opts: PowerLawOptions,
  reps: number,
  options: { seed?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<BootstrapResult> {
  if (!(reps >= 1) || !Number.isInteger(reps)) throw new RangeError('bootstrap reps must be an integer >= 1');
  const seed = options.seed ?? 1;
  const values = Float64Array.from(data);
  const chunks = Math.min(reps, pool.threads * CHUNKS_PER_THREAD);
  let done = 0;
  const results = await Promise.all(
    Array.from({ length: chunks }, async (_, c) => {
      const from = Math.floor((c * reps) / chunks);
      const to = Math.floor(((c + 1) * reps) / chunks);
      const ds = await pool.run('bootstrap', { data: values, fit, opts, seed, from, to }, { signal: options.signal });
      done += to - from;
      options.onProgress?.(done, reps);
      return ds;
    }),
  );
  let exceed = 0;
  for (const ds of results) for (const d of ds) if (d >= fit.ksD) exceed++;
  return { p_value: exceed / reps, reps, exceed, threads: Math.min(pool.threads, chunks) };
}
