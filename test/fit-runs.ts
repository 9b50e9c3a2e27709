/**
 * Runs for the twin calibration tests and the coverage bench (no test-runner hooks, so bench/ can use it): a
 * run recorded from a twin circuit (the "measured" run is the twin of a first run's recorded stimulus, so it
 * was computed from exactly the stimulus a fit replays), a noisy copy of it through the import path, and
 * spike events with jitter as a DAQ's detector would report them.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from '../common/random.ts';
import { startTwinOfRun } from '../server/experiments/pairing.ts';
import { importRecording, type Recording } from '../server/import/index.ts';
import type { Services } from '../server/services.ts';
import type { RunStore } from '../server/store/run-store.ts';
import { readRunSignal } from '../server/analysis-io/inputs.ts';

export interface FitRunsContext {
  /** The directory holding the store's runs.db. */
  dir: string;
  store: RunStore;
  services: Services;
}

export function fitRuns(ctx: FitRunsContext) {
  /** A run of `truth` fed the recorded stimulus of a first run of `protocol`; returns the measured run's id. */
  async function record(truth: unknown, protocol: Record<string, unknown>, sampleRate: number): Promise<number> {
    const first = await ctx.services.runs.start({ protocol, source: 'twin', sampleRate, options: { circuit: truth } });
    await ctx.services.runs.waitForEnd(first.id);
    const { run } = await startTwinOfRun(ctx.store, ctx.services.runs, first.id, { circuit: truth });
    const end = await ctx.services.runs.waitForEnd(run.id);
    if (end?.status !== 'completed') throw new Error(`the measured twin run ${run.id} ended ${end?.status ?? 'unknown'}`);
    return run.id;
  }

  /**
   * The measured run with noise of standard deviation `sd` (relative to each channel's range) and the DAQ's
   * quantisation (10 bits over the channel's range), recorded as an imported run.
   */
  async function noisy(runId: number, sd: number, seed: number): Promise<number> {
    const sig = readRunSignal(ctx.store, runId);
    const rng = new Rng(seed);
    const channels = sig.channels.map((c) => {
      const x = Float64Array.from(c.samples, (v) => v * c.scale + c.offset);
      if (c.role === 'stimulus') return { name: c.name, unit: c.unit, role: c.role, values: x };
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
      const lsb = (hi - lo) / 1023;
      return { name: c.name, unit: c.unit, role: c.role, values: x.map((v) => lo + lsb * Math.round((v + sd * (hi - lo) * rng.normal() - lo) / lsb)) };
    });
    const rec: Recording = { format: 'csv', vendor: null, sampleRate: sig.channels[0].fs, t0: 0, rateFrom: 'header', channels, header: {} };
    return (await importRecording(ctx.services.runs, rec, `noisy-${runId}.csv`)).id;
  }

  /**
   * Gives run `toRun` the spike events of run `fromRun` as a DAQ's detector would report them: each time with
   * Gaussian jitter of `sd` seconds, then on the sample tick. Written into the store's events table directly
   * (an imported recording has no events), on a second connection to the same SQLite file.
   */
  function jitterSpikes(fromRun: number, toRun: number, sd: number, seed: number): number[] {
    const rng = new Rng(seed);
    const fs = readRunSignal(ctx.store, fromRun).channels[0].fs;
    const times = ctx.store.listEvents(fromRun, { kind: 'spike' }).map((e) => Math.round((e.time_s! + sd * rng.normal()) * fs) / fs);
    const db = new Database(path.join(ctx.dir, 'runs.db'));
    try {
      const insert = db.prepare('INSERT INTO events (run_id, kind, channel, idx, label, value, time_s) VALUES (?, ?, NULL, ?, NULL, NULL, ?)');
      db.transaction(() => times.forEach((t) => insert.run(toRun, 'spike', Math.round(t * fs), t)))();
    } finally {
      db.close();
    }
    return times;
  }

  return { record, noisy, jitterSpikes };
}
