/**
 * One twin simulation (server/twin simulate) of a sampled stimulus, as a worker-pool task, so a sweep's
 * twin runs use every core:
 *
 *   const pool = new WorkerPool();            // server/workers/pool.ts, one thread per core
 *   const out = await poolSimulate(pool)(circuit, { samples, sampleRate, quantity });
 */
import { simulate, type TwinOptions } from '../twin/index.ts';
import { evaluateObjective, type FitTarget, type ObjectiveSpec, type ObjectiveValue } from '../twin/calibration.ts';
import type { ProtocolStimulus, TwinOutput, TwinSimulate, TwinStimulus } from './pairing.ts';
import type { TaskRunner } from '../workers/pool.ts';
import { protocolStimulus } from '../sources/twin-source.ts';

export interface TwinTaskInput {
  circuit: unknown;
  /** Samples, or a protocol sampled here (off the main thread) as the twin source samples it. */
  stimulus: TwinStimulus | ProtocolStimulus;
  options?: TwinOptions;
}

/** Runs in the worker: simulate and keep what the run store needs. */
export function twinTask(input: TwinTaskInput): TwinOutput {
  const s = input.stimulus;
  const r = simulate(input.circuit, 'protocol' in s ? protocolStimulus(s.protocol, s.sampleRate) : s, input.options ?? {});
  return {
    channels: r.channels.map((c) => ({ name: c.name, unit: c.unit, data: c.data })),
    events: r.events.map((e) => ({ kind: 'spike' as const, index: e.index, time: e.time, node: e.node, element: e.element })),
  };
}

export interface FitTaskInput extends Omit<TwinTaskInput, 'stimulus'> {
  stimulus: TwinStimulus;
  target: FitTarget;
  objective: ObjectiveSpec;
}

/**
 * Runs in the worker: one objective evaluation of a twin calibration (experiments/fit.ts), the simulation and
 * its comparison with the measured run, so only a number crosses back. A circuit the twin cannot simulate
 * with these parameters (a diverging step, a matrix that is not positive definite) is an infinitely bad
 * candidate, not a failed fit.
 */
export function fitTask(input: FitTaskInput): ObjectiveValue {
  let r;
  try {
    r = simulate(input.circuit, input.stimulus, { ...input.options, samples: input.target.samples });
  } catch {
    return { value: Infinity, residual: Infinity, n: 0, spikes: 0 };
  }
  return evaluateObjective(input.objective, input.target, { channels: r.channels, spikes: r.events.map((e) => e.time) });
}

/** A TwinSimulate that runs on the pool (the stimulus buffer is copied, so the caller keeps it). */
export function poolSimulate(pool: TaskRunner, options?: TwinOptions): TwinSimulate {
  return (circuit, stimulus, signal) => pool.run('twin', { circuit, stimulus, options }, { signal });
}

/** The same, on the calling thread (tests, single runs). */
export const inlineSimulate =
  (options?: TwinOptions): TwinSimulate =>
  async (circuit, stimulus) =>
    twinTask({ circuit, stimulus, options });
