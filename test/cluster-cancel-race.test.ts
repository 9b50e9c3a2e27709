/**
 * The BullMQ cancel race (server/workers/queue.ts), against Debian's redis-server: a cancel that reaches the
 * worker between the job's pickup (active, locked: the server's removal is refused and it publishes the
 * cancel on the Relay) and the start of its processor (when BullMQ begins to track the job and
 * `worker.cancelJob` can find it) used to be lost, and the job ran to completion on a worker although its
 * caller had been told it was cancelled. The pickup is held open here by a second, manual worker that takes
 * the job and never starts it; its lock runs out, the stalled check gives the job to the real worker, which
 * must fail it as cancelled without running it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection, QUEUE_NAME, QueuePool, startQueueWorker } from '../server/workers/queue.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { freePort, Redis } from './cluster-helpers.ts';

let dir: string;
let redis: Redis;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-cancel-race-'));
  redis = new Redis(await freePort(), dir);
  await redis.start();
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a cancel between pickup and start', () => {
  it('is not lost: the job is failed as cancelled on the worker that later gets it, never run', { timeout: 60_000 }, async () => {
    const pool = new QueuePool(redis.url, { threads: 1, attempts: 3 });
    const queue = new Queue(QUEUE_NAME, { connection: connection(redis.url) });
    const grabber = new Worker(QUEUE_NAME, undefined, { connection: connection(redis.url), autorun: false, lockDuration: 1000 });
    let real: ReturnType<typeof startQueueWorker> | undefined;
    try {
      const ac = new AbortController();
      const stimulus = { samples: new Float64Array(1000).fill(30e-6), sampleRate: 100_000, quantity: 'current' as const };
      const task = pool.run('twin', { circuit: builtInCircuit('lif'), stimulus }, { signal: ac.signal }).catch((e: unknown) => e);
      // picked up and not started: active, locked by a token that is never renewed
      let job: Awaited<ReturnType<typeof grabber.getNextJob>>;
      do job = await grabber.getNextJob('held-open');
      while (!job);
      expect(await job.getState()).toBe('active');
      real = startQueueWorker({ redis: redis.url, concurrency: 1, lockMs: 1000, name: 'real' });
      await real.ready;
      ac.abort(new Error('sweep stopped'));
      expect(await task).toMatchObject({ code: 'CANCELLED' });
      // the lock runs out; the stalled check hands the job to the real worker
      let state: string;
      const t0 = Date.now();
      do {
        await new Promise((r) => setTimeout(r, 200));
        state = await (await queue.getJob(job.id!))!.getState();
      } while (state !== 'completed' && state !== 'failed' && Date.now() - t0 < 30_000);
      const done = (await queue.getJob(job.id!))!;
      expect(state, `the job ${state === 'completed' ? 'ran to completion' : 'did not end'} after its cancel`).toBe('failed');
      expect(done.failedReason).toMatch(/^\[CANCELLED\] cancelled: sweep stopped/);
      expect(done.returnvalue ?? null).toBeNull();
    } finally {
      await grabber.close(true);
      await real?.close();
      await pool.close();
      await queue.close();
    }
  });
});
