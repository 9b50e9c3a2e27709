/**
 * The order of the BullMQ queue (server/workers/queue.ts BULK), against Debian's redis-server: bulk tasks (a
 * sweep's twin runs) wait behind the others, so a task queued after them (the analyses that complete a
 * stored point) runs first; the queue's status counts them all as waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection, QUEUE_NAME, QueuePool, startQueueWorker } from '../server/workers/queue.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { freePort, Redis } from './cluster-helpers.ts';

let dir: string;
let redis: Redis;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-queue-order-'));
  redis = new Redis(await freePort(), dir);
  await redis.start();
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue order', () => {
  it('a task queued after a sweep\'s twin runs starts before them; all of them count as waiting', { timeout: 60_000 }, async () => {
    const pool = new QueuePool(redis.url, { threads: 1 });
    const queue = new Queue(QUEUE_NAME, { connection: connection(redis.url) });
    let worker: ReturnType<typeof startQueueWorker> | undefined;
    try {
      const stimulus = { samples: new Float64Array(1000).fill(30e-6), sampleRate: 100_000, quantity: 'current' as const };
      const twins = [1, 2, 3].map(() => pool.run('twin', { circuit: builtInCircuit('lif'), stimulus }));
      // queued last, before any worker is there
      while ((await pool.status()).counts.waiting < 3) await new Promise((r) => setTimeout(r, 20));
      const checked = pool.run('circuit', { circuit: 'lif' });
      while ((await pool.status()).counts.waiting < 4) await new Promise((r) => setTimeout(r, 20));
      expect((await pool.status()).counts).toMatchObject({ waiting: 4, active: 0 });
      worker = startQueueWorker({ redis: redis.url, concurrency: 1, name: 'order' });
      await worker.ready;
      await Promise.all([...twins, checked]);
      const jobs = await queue.getJobs(['completed'], 0, -1);
      const started = (name: string) => jobs.filter((j) => j.name === name).map((j) => j.processedOn!);
      expect(started('twin')).toHaveLength(3);
      expect(started('circuit')).toHaveLength(1);
      expect(started('circuit')[0]).toBeLessThanOrEqual(Math.min(...started('twin')));
      // the twin runs among themselves in the order queued
      const twinJobs = jobs.filter((j) => j.name === 'twin').sort((a, b) => Number(a.id) - Number(b.id));
      expect(twinJobs.map((j) => j.processedOn!)).toEqual([...twinJobs.map((j) => j.processedOn!)].sort((a, b) => a - b));
    } finally {
      await worker?.close();
      await pool.close();
      await queue.close();
    }
  });
});
