/**
 * A twin run on the worker pool stopped mid-way: what is stored is whole chunks, every channel as long as the
 * stimulus, and the spikes of exactly those samples (the thread is cancelled at once; a chunk it had sent
 * only in part is not kept).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../store/run-store.ts';
import { RunManager } from '../runs/run-manager.ts';
import { WorkerPool } from '../workers/pool.ts';
import { SourceRegistry } from './registry.ts';
import { register as registerTwin } from './twin-source.ts';

let dir: string;
let store: RunStore;
let pool: WorkerPool;
let manager: RunManager;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-twin-stop-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  const sources = new SourceRegistry();
  registerTwin(sources);
  pool = new WorkerPool({ threads: 1 });
  manager = new RunManager(store, sources, { pool });
});
afterAll(async () => {
  await manager.shutdown();
  await pool.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a pooled twin run stopped mid-way', () => {
  it('keeps whole chunks: every channel as long as the stimulus, the spikes of those samples', async () => {
    for (let trial = 0; trial < 4; trial++) {
      const protocol = { kind: 'sine', quantity: 'current', amplitude: 2e-3, offset: 1e-3, frequencyHz: 200, durationS: 200 };
      const run = await manager.start({ protocol, source: 'twin', sampleRate: 100_000, options: { circuit: 'lif' } });
      const stopAt = 50_000 + trial * 17_000;
      while ((manager.progress(run.id)?.samplesDone ?? Infinity) < stopAt) await new Promise((r) => setImmediate(r));
      const stopped = await manager.stop(run.id);
      expect(stopped.status).toBe('aborted');
      const counts = stopped.channels.map((c) => c.sampleCount);
      expect(counts[0]).toBeGreaterThan(0);
      expect(new Set(counts).size, `trial ${trial}: channel lengths ${counts}`).toBe(1);
      const spikes = store.listEvents(run.id, { kind: 'spike', limit: 1_000_000 }).map((e) => e.index);
      expect(spikes.length).toBeGreaterThan(0);
      expect(Math.max(...spikes)).toBeLessThan(counts[0]);
    }
  });
});
