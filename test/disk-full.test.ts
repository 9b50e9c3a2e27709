/**
 * Disk full (issue 14), on a real small file system: a tmpfs of 32 MiB mounted for the test (needs root;
 * skipped with the reason otherwise). A run, or a sweep's runs together, that the free space cannot hold is
 * refused before it starts; a run
 * during which the disk fills up ends `failed` with "disk full", keeping what it had committed; new runs
 * are refused until space returns; closing the store does not throw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SweepRunner } from '../server/experiments/sweep-runner.ts';
import { RunManager } from '../server/runs/run-manager.ts';
import { loadSources } from '../server/sources/registry.ts';
import { RunStore } from '../server/store/run-store.ts';

const isRoot = process.getuid?.() === 0;
let mounted = false;
let dir = '';
if (isRoot) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', dir]);
    mounted = true;
  } catch {
    rmdirSync(dir);
  }
}
const why = !isRoot ? 'needs root to mount a small tmpfs' : 'mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)';

/** Writes zeros to `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mounted)(`disk full on a 32 MiB tmpfs${mounted ? '' : ` (skipped: ${why})`}`, () => {
  let store: RunStore;
  let runs: RunManager;
  beforeAll(async () => {
    store = RunStore.open(path.join(dir, 'runs.db'), { diskMarginBytes: 1 << 20 });
    runs = new RunManager(store, await loadSources());
  });
  afterAll(async () => {
    await runs?.shutdown();
    try {
      store?.close();
    } finally {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
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
});
