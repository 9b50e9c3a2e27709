/**
 * Sweeps across processes on BullMQ (server/workers/queue.ts), with real parts: Debian's redis-server on a
 * free loopback port, `spikeloop serve --redis` and two `spikeloop worker` processes. A 40-point twin sweep
 * stores results bit-identical to the local thread pool's; a worker SIGKILLed mid-sweep, or Redis restarted
 * mid-sweep, still leaves every point stored exactly once. A sweep stopped while its jobs run cancels
 * them on their workers (BullMQ's cancellation, through its Relay), without a retry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { api, startCluster, stopCluster, type Cluster, type SweepView, runSweep, runsOfSweep, startServer, startWorker, stopProcess, storedPoints, twinSweep } from './cluster-helpers.ts';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('spikeloop-cluster-');
});
afterAll(() => stopCluster(cluster));

const completedOnce = (db: string, s: { id: string; state: string; points: { status: string; runId?: number }[] }) => {
  expect(s.state).toBe('completed');
  expect(s.points.map((p) => p.status)).toEqual(s.points.map(() => 'completed'));
  expect(new Set(s.points.map((p) => p.runId)).size).toBe(s.points.length);
  expect(runsOfSweep(db, s.id)).toBe(s.points.length);
};

describe('sweeps on BullMQ workers', () => {
  it('a 40-point twin sweep on two worker processes stores results bit-identical to the local pool', async () => {
    const body = twinSweep(40, 20_000);
    const localDb = path.join(cluster.dir, 'local.db');
    const local = await startServer(localDb);
    cluster.procs.push(local.proc);
    const localSweep = await runSweep(local.base, body);
    await stopProcess(local.proc);
    completedOnce(localDb, localSweep);

    const queueDb = path.join(cluster.dir, 'queue.db');
    const server = await startServer(queueDb, cluster.redis.url);
    cluster.procs.push(server.proc);
    const workers = await Promise.all([startWorker(cluster.redis.url, server.base, 'w1'), startWorker(cluster.redis.url, server.base, 'w2')]);
    cluster.procs.push(...workers);
    const status = await api<{ mode: string; workers: { name: string }[] }>(server.base, 'GET', '/api/workers');
    expect(status.mode).toBe('queue');
    expect(status.workers.map((w) => w.name).sort()).toEqual(['w1', 'w2']);
    const queued = await runSweep(server.base, body);
    await stopProcess(server.proc);
    await Promise.all(workers.map((w) => stopProcess(w)));
    completedOnce(queueDb, queued);

    const a = storedPoints(localDb, localSweep);
    const b = storedPoints(queueDb, queued);
    expect(a.size).toBe(40);
    for (const [i, bytes] of a) {
      expect(bytes.length).toBeGreaterThan(0);
      expect(b.get(i)!.equals(bytes), `point ${i}`).toBe(true);
    }
  }, 300_000);

  it('a worker killed with SIGKILL mid-sweep: its job goes to the other worker, every point stored once', async () => {
    const db = path.join(cluster.dir, 'kill.db');
    const server = await startServer(db, cluster.redis.url);
    cluster.procs.push(server.proc);
    const [victim, survivor] = await Promise.all([startWorker(cluster.redis.url, server.base, 'victim'), startWorker(cluster.redis.url, server.base, 'survivor')]);
    cluster.procs.push(victim, survivor);
    let killed = false;
    const s = await runSweep(server.base, twinSweep(40, 100_000), async (sw) => {
      if (!killed && sw.points.filter((p) => p.status === 'completed').length >= 5) {
        const { active } = await api<{ active: { worker?: string }[] }>(server.base, 'GET', '/api/workers');
        if (active.some((j) => j.worker === 'victim')) {
          killed = true;
          victim.kill('SIGKILL');
        }
      }
    });
    expect(killed).toBe(true);
    completedOnce(db, s);
    await stopProcess(survivor);
    await stopProcess(server.proc);
  }, 300_000);

  it('a sweep stopped while its job runs: the running job and the one held next are cancelled on their worker, not retried; the worker goes on', async () => {
    const db = path.join(cluster.dir, 'cancel.db');
    const server = await startServer(db, cluster.redis.url);
    cluster.procs.push(server.proc);
    const worker = await startWorker(cluster.redis.url, server.base, 'c1');
    cluster.procs.push(worker);
    const failedBefore = (await api<{ counts: { failed: number } }>(server.base, 'GET', '/api/workers')).counts.failed;
    // each point: the 2,000-wire network for 2,000 steps, about a minute of work
    const slow = { mode: 'twin', circuit: 'nwn2000', sampleRate: 1000, sweep: { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage', durationS: 2 }, parameters: [{ field: 'level', values: [0.5, 1] }] } };
    const { sweep } = await api<{ sweep: { id: string } }>(server.base, 'POST', '/api/sweeps', slow);
    const active = async () => (await api<{ active: { id: string; worker?: string; attempts: number }[] }>(server.base, 'GET', '/api/workers')).active;
    const t0 = Date.now();
    while ((await active()).length === 0) {
      expect(Date.now() - t0, 'a job starts on the worker').toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 200));
    }
    const running = (await active())[0];
    expect(running.worker).toBe('c1');
    await new Promise((r) => setTimeout(r, 1000)); // well into its work
    const stoppedAt = Date.now();
    await api(server.base, 'POST', `/api/sweeps/${sweep.id}/stop`);
    // the worker's thread is stopped: the job leaves the active list long before its minute of work
    while ((await active()).length > 0) {
      expect(Date.now() - stoppedAt, 'the running job is cancelled').toBeLessThan(15_000);
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = await api<{ counts: { failed: number; waiting: number; delayed: number } }>(server.base, 'GET', '/api/workers');
    // the running job and the second point, which the worker held next in line (queue.ts PREFETCH): both cancelled
    expect(status.counts.failed).toBe(failedBefore + 2);
    expect(status.counts.waiting + status.counts.delayed).toBe(0); // no retry, nothing left queued
    const s = await api<{ sweep: SweepView }>(server.base, 'GET', `/api/sweeps/${sweep.id}`);
    expect(s.sweep.state).not.toBe('running');
    expect(runsOfSweep(db, sweep.id)).toBe(0);
    // the worker takes the next job
    const next = await runSweep(server.base, twinSweep(2, 1000));
    completedOnce(db, next);
    await stopProcess(worker);
    await stopProcess(server.proc);
  }, 300_000);

  it('Redis restarted mid-sweep: the sweep resumes and every point is stored once', async () => {
    const db = path.join(cluster.dir, 'restart.db');
    const server = await startServer(db, cluster.redis.url);
    cluster.procs.push(server.proc);
    const workers = await Promise.all([startWorker(cluster.redis.url, server.base, 'r1'), startWorker(cluster.redis.url, server.base, 'r2')]);
    cluster.procs.push(...workers);
    let restarted = false;
    const s = await runSweep(server.base, twinSweep(40, 100_000), async (sw) => {
      if (!restarted && sw.points.filter((p) => p.status === 'completed').length >= 5) {
        restarted = true;
        await cluster.redis.stop();
        await new Promise((r) => setTimeout(r, 1000));
        await cluster.redis.start();
      }
    });
    expect(restarted).toBe(true);
    completedOnce(db, s);
    await Promise.all(workers.map((w) => stopProcess(w)));
    await stopProcess(server.proc);
  }, 300_000);
});
