/**
 * Disk full (issue 14), on a real small file system: a tmpfs of 32 MiB mounted for the test (needs root;
 * skipped with the reason otherwise). A run, or a sweep's runs together, that the free space cannot hold is
 * refused before it starts; a run
 * during which the disk fills up ends `failed` with "disk full", keeping what it had committed; new runs
 * are refused until space returns; closing the store does not throw.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SweepRunner } from '../server/experiments/sweep-runner.ts';
import { RunManager } from '../server/runs/run-manager.ts';
import { loadSources } from '../server/sources/registry.ts';
import { RunStore } from '../server/store/run-store.ts';
import { fill, mountTmpfs, type Tmpfs } from './tmpfs.ts';

describe('disk full on a 32 MiB tmpfs', () => {
  // mounted in beforeAll, not when the file is collected: a suite filtered out (vitest -t) runs no hooks
  let fs: Tmpfs;
  let dir = '';
  let store: RunStore;
  let runs: RunManager;
  beforeAll(async () => {
    fs = mountTmpfs(32, 'spikeloop-diskfull-');
    if (!fs.mounted) return;
    dir = fs.dir;
    store = RunStore.open(path.join(dir, 'runs.db'), { diskMarginBytes: 1 << 20 });
    runs = new RunManager(store, await loadSources());
  });
  afterAll(async () => {
    // unmounted whatever the shutdown or close throws (a failed test can leave either half done)
    try {
      await runs?.shutdown();
      store?.close();
    } finally {
      fs?.unmount();
    }
  });
  beforeEach((ctx) => {
    if (!fs.mounted) ctx.skip(fs.why);
  });

  it('refuses a run the free space cannot hold, naming the bytes, before anything starts', async () => {
    const err = await runs.start({ protocol: { kind: 'square', durationS: 3600 }, sampleRate: 2_000_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DISK_FULL' });
    expect(String((err as Error).message)).toMatch(/needs about [\d.]+ GB but [\d.]+ MB are free/);
    expect(store.listRuns()).toEqual([]);
  });

  it('refuses a sweep whose runs together the free space cannot hold, before its first run (each alone would fit)', () => {
    const sweeps = new SweepRunner(store, runs);
    const sweep = { kind: 'sweep', base: { kind: 'square', durationS: 2 }, parameters: [{ field: 'frequencyHz', start: 10, stop: 100, steps: 10 }] };
    // one point: 2 s × 500 kS/s × 4 B × 1.1 = 4.4 MB of the ~30 MB free; ten: 44 MB
    expect(() => runs.validate({ protocol: { kind: 'square', durationS: 2 }, sampleRate: 500_000 })).not.toThrow();
    let err: unknown;
    try {
      sweeps.start({ sweep, sampleRate: 500_000 } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'DISK_FULL' });
    expect(String((err as Error).message)).toMatch(/a sweep of 10 runs \(20 s in all\) needs about 4\d\.\d MB but [\d.]+ MB are free/);
    expect(sweeps.list()).toEqual([]);
    expect(store.listRuns()).toEqual([]);
  });

  it('a run that fills the disk ends failed "disk full", keeps what it committed; new runs refused until space returns; close does not throw', async () => {
    const run = await runs.start({ protocol: { kind: 'square', durationS: 20 }, sampleRate: 100_000, label: 'fills the disk' });
    await expect.poll(() => store.getRun(run.id)!.channels[0]?.sampleCount ?? 0, { timeout: 20_000 }).toBeGreaterThan(100_000);
    const filler = path.join(dir, 'filler');
    fill(filler);
    const stop = await runs.waitForEnd(run.id);
    expect(stop?.status).toBe('failed');
    const stored = store.getRun(run.id)!;
    expect(stored.status).toBe('failed');
    expect(stored.reason).toMatch(/^disk full/);
    // what was committed is readable
    const n = stored.channels[0].sampleCount;
    expect(n).toBeGreaterThan(100_000);
    expect(store.readRaw(run.id, 0, 0, n).reduce((k, s) => k + s.samples.length, 0)).toBe(n);

    const refused = await runs.start({ protocol: { kind: 'square', durationS: 0.1 }, sampleRate: 1000 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DISK_FULL' });
    expect(String((refused as Error).message)).toMatch(/filled up during a run/);

    rmSync(filler);
    const again = await runs.start({ protocol: { kind: 'square', durationS: 0.1 }, sampleRate: 1000, label: 'after space returned' });
    expect((await runs.waitForEnd(again.id))?.status).toBe('completed');

    // a run still recording when the disk fills and the store closes (SIGTERM in `serve`): no throw
    const last = await runs.start({ protocol: { kind: 'square', durationS: 20 }, sampleRate: 100_000 });
    await expect.poll(() => store.getRun(last.id)!.channels[0]?.sampleCount ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    fill(filler);
    await runs.shutdown();
    expect(() => store.close()).not.toThrow();
    rmSync(filler);
  }, 90_000);

  it('a disk that fills between two messages (the commit timer meets it) still records the run\'s end as failed "disk full"', async () => {
    // a store of its own: a fresh WAL has no room left from earlier commits, so the commit must grow it
    const db = path.join(dir, 'timer.db');
    const own = RunStore.open(db, { diskMarginBytes: 1 << 20, commitIntervalMs: 1000 });
    const filler = path.join(dir, 'filler');
    try {
      // 5 ms of noise (1 MB; incompressible), written within the commit interval: less than the size, the
      // time span and the age that commit at once
      const samples = Int16Array.from({ length: 500_000 }, () => (Math.random() * 65536 - 32768) | 0);
      const id = own.createRun({ protocol: { kind: 'square' }, source: 'simulated', bench: {}, softwareVersion: 'test' });
      const rec = own.recorder(id);
      rec.write({ type: 'start', runId: id, protocol: { kind: 'square' }, source: 'simulated', bench: {}, softwareVersion: 'test', wallTime: new Date().toISOString() });
      rec.write({ type: 'descriptor', channels: [{ name: 'v', unit: 'V', sampleRate: 1e8, dtype: 'int16', scale: 1, offset: 0, role: 'response' }] });
      rec.write({ type: 'block', channel: 0, firstIndex: 0, samples });
      fill(filler);
      // the store's timer commits it and meets the full disk (the store then gives back its reserve)
      await expect.poll(() => existsSync(`${db}.reserve`), { timeout: 10_000 }).toBe(false);
      rec.write({ type: 'stop', status: 'completed' });
      expect(own.getRun(id)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^disk full/) });
    } finally {
      own.close();
      rmSync(filler, { force: true });
    }
  });
});
