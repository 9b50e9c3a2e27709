import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../store/run-store.ts';
import { SourceRegistry } from '../sources/registry.ts';
import { register as registerSimulated } from '../sources/simulated-bench.ts';
import { RunManager } from './run-manager.ts';
import { AppError } from '../../common/errors.ts';
import { PauseControl } from './pause.ts';

let dir: string;
let store: RunStore;
let manager: RunManager;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-pause-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  const sources = new SourceRegistry();
  registerSimulated(sources);
  manager = new RunManager(store, sources);
});

afterEach(async () => {
  await manager.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean) {
  while (!cond()) await sleep(10);
}
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as AppError).code;
  }
  return 'no error';
};

describe('pause, resume, progress', () => {
  it('a paused run receives nothing, resumes where it was, and completes with every sample and no gap', async () => {
    const run = await manager.start({ protocol: { kind: 'square', durationS: 0.5 }, sampleRate: 20_000 });
    await until(() => (manager.progress(run.id)?.samplesDone ?? 0) > 0);
    const paused = manager.pause(run.id);
    expect(paused.state).toBe('paused');
    expect(manager.state(run.id)).toBe('paused');
    await sleep(100); // the message already being pulled when the pause came may still land
    const held = manager.progress(run.id)!.samplesDone;
    await sleep(300);
    const during = manager.progress(run.id)!;
    expect(during.samplesDone).toBe(held);
    expect(during.pausedS).toBeGreaterThanOrEqual(0.4);
    expect(during.fraction).toBeCloseTo(held / 10_000, 12);
    expect(during.remainingS).toBeCloseTo((10_000 - held) / 20_000, 12);
    expect(code(() => manager.pause(run.id))).toBe('RUN_NOT_ACTIVE');
    const resumed = manager.resume(run.id);
    expect(resumed.state).toBe('running');
    expect(code(() => manager.resume(run.id))).toBe('RUN_NOT_ACTIVE');
    const stop = await manager.waitForEnd(run.id);
    expect(stop?.status).toBe('completed');
    const stored = store.getRun(run.id)!;
    expect(stored.channels.map((c) => c.sampleCount)).toEqual([10_000, 10_000]);
    expect(stored.dropped).toEqual([]);
    expect(manager.progress(run.id)).toBeUndefined();
    expect(code(() => manager.pause(run.id))).toBe('RUN_NOT_ACTIVE');
    expect(code(() => manager.pause(9999))).toBe('RUN_NOT_FOUND');
  });

  it('stopping a paused run aborts it and writes the stop', async () => {
    const run = await manager.start({ protocol: { kind: 'square', durationS: 5 }, sampleRate: 10_000 });
    manager.pause(run.id);
    const detail = await manager.stop(run.id);
    expect(detail.status).toBe('aborted');
    expect(detail.reason).toBe('stopped by user');
  });

  it('the pause clock stands still while paused', () => {
    let t = 0;
    const c = new PauseControl(() => t);
    t = 100;
    expect(c.now()).toBe(100);
    c.pause();
    t = 250;
    expect(c.now()).toBe(100);
    expect(c.pausedMs()).toBe(150);
    c.resume();
    t = 300;
    expect(c.now()).toBe(150);
  });
});

describe('bench limits at start', () => {
  it('refuses a protocol over a limit before anything starts, naming the limit', async () => {
    const before = store.listRuns().length;
    const err = (await manager.start({ protocol: { kind: "dc", quantity: "voltage", level: 50 } }).catch((e) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('LIMIT_EXCEEDED');
    expect(err.field).toBe('/protocol/level');
    expect(err.message).toMatch(/maxVoltage = 20 V/);
    const amps = (await manager.start({ protocol: { kind: "square", amplitude: 0.05 } }).catch((e) => e)) as AppError;
    expect(amps.message).toMatch(/maxCurrent/);
    expect(store.listRuns().length).toBe(before);
  });
});
