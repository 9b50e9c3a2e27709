/**
 * Worker-thread body for the power-law bootstrap: computes the KS distances of replicates [from, to)
 * and posts {type: 'progress', done} every few replicates and {type: 'done', ds} at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bootstrapReplicateD, preparePowerLawData, PowerLawSampler, replicateSeed } from '../analysis/powerlaw.ts';
import type { PowerLawFit, PowerLawOptions } from '../analysis/powerlaw.ts';

export interface BootstrapJob {
  data: Float64Array;
  fit: PowerLawFit;
  opts: PowerLawOptions;
  seed: number;
  from: number;
  to: number;
}

const job = workerData as BootstrapJob;
const prepared = preparePowerLawData(job.data, job.fit.kind);
const sampler = new PowerLawSampler(job.fit.kind, job.fit.alpha, job.fit.xmin);
const ds = new Float64Array(job.to - job.from);
for (let r = job.from; r < job.to; r++) {
  ds[r - job.from] = bootstrapReplicateD(prepared, job.fit, job.opts, replicateSeed(job.seed, r), sampler);
  if ((r - job.from) % 10 === 9) parentPort!.postMessage({ type: 'progress', done: r - job.from + 1 });
}
parentPort!.postMessage({ type: 'done', ds }, [ds.buffer]);
