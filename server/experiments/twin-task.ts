/**
 * Worker-thread task: one twin simulation (server/twin simulate) of a sampled stimulus. Run through a
 * WorkerPool so a sweep's twin runs use every core:
 *
 *   const pool = createTwinPool();            // one worker per core
 *   const out = await poolSimulate(pool)(circuit, { samples, sampleRate, quantity });
 */
import { simulate, type TwinOptions } from '../twin/index.ts';
import type { TwinOutput, TwinSimulate, TwinStimulus } from './pairing.ts';
import { WorkerPool } from './worker-pool.ts';

export interface TwinTaskInput {
  circuit: unknown;
  stimulus: TwinStimulus;
  options?: TwinOptions;
}

/** Runs in the worker: simulate and keep what the run store needs. */
export default function twinTask(input: TwinTaskInput): TwinOutput {
  const r = simulate(input.circuit, input.stimulus, input.options ?? {});
  return {
    channels: r.channels.map((c) => ({ name: c.name, unit: c.unit, data: c.data })),
    events: r.events.map((e) => ({ kind: 'spike' as const, index: e.index, node: e.node, element: e.element })),
  };
}

export function createTwinPool(size?: number): WorkerPool<TwinTaskInput, TwinOutput> {
  return new WorkerPool<TwinTaskInput, TwinOutput>(new URL('./twin-task.ts', import.meta.url), size);
}

/** A TwinSimulate that runs on the pool (the stimulus buffer is copied, so the caller keeps it). */
export function poolSimulate(pool: WorkerPool<TwinTaskInput, TwinOutput>, options?: TwinOptions): TwinSimulate {
  return (circuit, stimulus) => pool.run({ circuit, stimulus, options });
}

/** The same, on the calling thread (tests, single runs). */
export const inlineSimulate =
  (options?: TwinOptions): TwinSimulate =>
  async (circuit, stimulus) =>
    twinTask({ circuit, stimulus, options });
