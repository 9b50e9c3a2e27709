/**
 * The power-law goodness-of-fit bootstrap (Clauset, Shalizi, Newman 2009, §4.1) spread over worker
 * threads. Replicate r always uses the seed `replicateSeed(seed, r)`, so the p-value is the same whatever
 * the number of threads (and equals the single-thread `powerLawPValue`).
 *
 * Workers run the TypeScript sources through tsx's loader, registered inside each worker.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PowerLawFit, PowerLawOptions } from '../analysis/powerlaw.ts';
import type { BootstrapJob } from './bootstrap-worker.ts';

const require = createRequire(import.meta.url);
// tsx's ESM register API, by path (its package exports resolve to a CommonJS build for require()).
const tsxApi = pathToFileURL(path.join(path.dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
const workerUrl = new URL('./bootstrap-worker.ts', import.meta.url).href;
const bootstrapCode = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); });`;

export interface BootstrapResult {
  p_value: number;
  reps: number;
  /** Number of replicates whose KS distance was >= the observed one. */
  exceed: number;
  threads: number;
}

export async function powerLawPValueParallel(
  data: ArrayLike<number>,
  fit: PowerLawFit,
  opts: PowerLawOptions,
  reps: number,
  options: { seed?: number; threads?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<BootstrapResult> {
  if (!(reps >= 1) || !Number.isInteger(reps)) throw new RangeError('bootstrap reps must be an integer >= 1');
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), reps));
  const seed = options.seed ?? 1;
  const values = Float64Array.from(data);
  const progress = new Array(threads).fill(0);
  const chunks = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = Math.floor((t * reps) / threads);
      const to = Math.floor(((t + 1) * reps) / threads);
      const job: BootstrapJob = { data: values, fit, opts, seed, from, to };
      return new Promise<Float64Array>((resolve, reject) => {
        const w = new Worker(bootstrapCode, { eval: true, workerData: job });
        w.on('message', (m: { type: 'progress'; done: number } | { type: 'done'; ds: Float64Array }) => {
          if (m.type === 'progress') {
            progress[t] = m.done;
            options.onProgress?.(progress.reduce((a, b) => a + b, 0), reps);
          } else {
            resolve(m.ds);
            void w.terminate();
          }
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0) reject(new Error(`bootstrap worker exited with code ${code}`));
        });
      });
    }),
  );
  let exceed = 0;
  for (const ds of chunks) for (const d of ds) if (d >= fit.ksD) exceed++;
  options.onProgress?.(reps, reps);
  return { p_value: exceed / reps, reps, exceed, threads };
}
