import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../store/run-store.ts';
import { SourceRegistry } from '../sources/registry.ts';
import { register as registerSimulated } from '../sources/simulated-bench.ts';
import { register as registerTwin } from '../sources/twin-source.ts';
import { RunManager } from '../runs/run-manager.ts';
import { SweepRunner } from './sweep-runner.ts';
import type { AppError } from '../../common/errors.ts';
import { poolSimulate } from './twin-task.ts';
import { readStimulus } from './stimulus.ts';
import { WorkerPool } from '../workers/pool.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';

const lif = builtInCircuit('lif');
// lif.json: Rm = 100 kΩ, Cm = 100 nF (τ = 10 ms), threshold 1 V, reset 0 V, refractory 2 ms.
const R = 100e3, TAU = 10e-3, VTH = 1, TREF = 2e-3;

let dir: string;
let store: RunStore;
let manager: RunManager;
let pool: WorkerPool;
let sweeps: SweepRunner;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-exp-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  const sources = new SourceRegistry();
  registerSimulated(sources);
  registerTwin(sources); // pairings and twin points are twin runs of the run manager
  manager = new RunManager(store, sources);
  pool = new WorkerPool({ threads: 2 });
  sweeps = new SweepRunner(store, manager, { simulate: poolSimulate(pool) });
});

afterAll(async () => {
  await sweeps.shutdown();
  await manager.shutdown();
  await pool.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const spikeStats = (runId: number) => store.listAnalyses(runId, 'spike-stats')[0]?.result as { n_spikes: number; rate_hz: number; isi_mean_s: number | null };

describe('twin sweep on all cores', () => {
  it('a DC current ladder on the LIF twin: stored runs, tagged, with the closed-form ISI at each level', async () => {
    const levels = [15e-6, 30e-6, 60e-6];
    const started = sweeps.start({
      mode: 'twin',
      circuit: lif,
      sampleRate: 20_000,
      sweep: { kind: 'sweep', label: 'LIF f-I', base: { kind: 'dc', durationS: 0.2 }, parameters: [{ field: 'level', values: levels }] },
    });
    expect(started.summary).toMatchObject({ count: 3, durationS: expect.closeTo(0.6, 9) });
    const done = await sweeps.wait(started.id);
    expect(done.state).toBe('completed');
    expect(done.fraction).toBe(1);
    const tagged = store.listRuns({ tag: `sweep:${done.id}` });
    expect(tagged).toHaveLength(3);
    done.points.forEach((pt, i) => {
      const run = store.getRun(pt.runId!)!;
      expect(run.source).toBe('twin');
      expect(run.label).toBe(`LIF f-I [${i + 1}/3] level=${levels[i]}`);
      const isi = TREF + TAU * Math.log((R * levels[i]) / (R * levels[i] - VTH));
      const stats = spikeStats(pt.runId!);
      expect(stats.n_spikes).toBeGreaterThan(10);
      expect(Math.abs(stats.isi_mean_s! - isi) / isi).toBeLessThan(0.03);
    });
  });
});

describe('a sweep shares one abort signal among its points', () => {
  it('a 16-point twin sweep runs every point at once without MaxListenersExceededWarning (11 abort listeners on the sweep signal)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const done = await sweeps.wait(
        sweeps.start({
          mode: 'twin',
          circuit: lif,
          sampleRate: 5000,
          sweep: { kind: 'sweep', base: { kind: 'dc', durationS: 0.02 }, parameters: [{ field: 'level', start: 15e-6, stop: 60e-6, steps: 16 }] },
        }).id,
      );
      expect(done.state).toBe('completed');
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('bench sweep paired with the twin', () => {
  it('each measured run gets a linked twin run fed the recorded stimulus, and both get analyses', async () => {
    const started = sweeps.start({
      mode: 'bench',
      circuit: lif,
      sampleRate: 10_000,
      sweep: { kind: 'sweep', base: { kind: 'square', durationS: 0.1, amplitude: 1e-3 }, parameters: [{ field: 'frequencyHz', values: [50, 200] }] },
    });
    const done = await sweeps.wait(started.id);
    expect(done.state).toBe('completed');
    for (const pt of done.points) {
      expect(pt.status).toBe('completed');
      expect(pt.twinStatus).toBe('done');
      const measured = store.getRun(pt.runId!)!;
      const twin = store.getRun(pt.twinRunId!)!;
      expect(measured.source).toBe('simulated');
      expect(twin.linkedRunId).toBe(measured.id);
      expect(twin.tags).toEqual([`sweep:${done.id}`]);
      // The twin was fed exactly the stimulus as recorded.
      const a = readStimulus(store, measured.id);
      const b = readStimulus(store, twin.id);
      expect(b.samples).toEqual(a.samples);
      expect(a.samples.length).toBe(1000);
      expect(spikeStats(measured.id).n_spikes).toBeGreaterThan(0);
      expect(spikeStats(twin.id).n_spikes).toBeGreaterThan(0);
      // The analysis library's spike-train statistics, stored with both runs, agree on the spike count.
      for (const id of [measured.id, twin.id]) {
        const train = store.listAnalyses(id, 'spike-train')[0]?.result as { n_spikes: number; rate_hz: number };
        expect(train.n_spikes).toBe(spikeStats(id).n_spikes);
        expect(train.rate_hz).toBeCloseTo(spikeStats(id).rate_hz, 6);
      }
    }
  });

  it('refuses a sweep with a point over a bench limit before any run starts, naming the limit and the point', () => {
    const before = store.listRuns().length;
    let err: AppError | undefined;
    try {
      sweeps.start({ sweep: { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage' }, parameters: [{ field: 'level', values: [1, 5, 40] }] } });
    } catch (e) {
      err = e as AppError;
    }
    expect(err?.code).toBe('LIMIT_EXCEEDED');
    expect(err?.message).toMatch(/sweep point 2 \(level=40\).*maxVoltage/);
    expect(() => sweeps.start({ sweep: { kind: 'sweep', base: { kind: 'dc' }, parameters: [{ field: 'nope', values: [1] }] } })).toThrow(/\/parameters\/0/);
    expect(store.listRuns().length).toBe(before);
  });
});
