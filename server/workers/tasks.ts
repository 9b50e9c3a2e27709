/**
 * What the worker pool (pool.ts) can run: each task is a pure function of structured-cloneable input.
 * Adding a task is adding an entry here.
 */
import { bootstrapDistances, type PowerLawFit, type PowerLawOptions } from '../analysis/powerlaw.ts';
import { twinTask } from '../experiments/twin-task.ts';

export interface BootstrapChunk {
  data: Float64Array;
  fit: PowerLawFit;
  opts: PowerLawOptions;
  seed: number;
  /** Replicates [from, to). */
  from: number;
  to: number;
}

export const tasks = {
  /** One twin simulation of a sampled stimulus (experiments/twin-task.ts). */
  twin: twinTask,
  /** KS distances of a range of power-law bootstrap replicates (analysis-io/bootstrap.ts). */
  bootstrap: (c: BootstrapChunk): Float64Array => bootstrapDistances(c.data, c.fit, c.opts, c.seed, c.from, c.to),
};

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
