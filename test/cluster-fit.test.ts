/**
 * A twin calibration on remote BullMQ workers (server/workers/queue.ts), with real parts: Debian's
 * redis-server on a free loopback port, `spikeloop serve --redis` and two `spikeloop worker` processes. Every
 * objective evaluation of the fit is a queue job run by a worker; the fit recovers the LIF's Cm and gives the
 * same parameters, bit for bit, as the same fit on this process's thread pool (the same seed, the same
 * evaluations: the search is deterministic given their values).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { api, startCluster, startServer, startWorker, stopCluster, type Cluster } from './cluster-helpers.ts';
import { fitTwinToRun } from '../server/experiments/fit.ts';
import { RunStore } from '../server/store/run-store.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { WorkerPool } from '../server/workers/pool.ts';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('spikeloop-cluster-fit-');
});
afterAll(() => stopCluster(cluster));

type Counts = { counts: { completed: number }; workers: { name: string }[] };

describe('twin fit on BullMQ workers', () => {
  it('runs every evaluation on the workers and fits as the local pool does', { timeout: 240_000 }, async () => {
    const db = path.join(cluster.dir, 'queue.db');
    const server = await startServer(db, cluster.redis.url);
    cluster.procs.push(server.proc);
    cluster.procs.push(...(await Promise.all([startWorker(cluster.redis.url, server.base, 'w1'), startWorker(cluster.redis.url, server.base, 'w2')])));
    expect((await api<Counts>(server.base, 'GET', '/api/workers')).workers.map((w) => w.name).sort()).toEqual(['w1', 'w2']);

    const protocol = { kind: 'square', quantity: 'current', amplitude: 8e-6, frequencyHz: 20, duty: 0.5, durationS: 0.1 };
    const { run } = await api<{ run: { id: number } }>(server.base, 'POST', '/api/twin/runs', { circuit: 'lif', protocol, sampleRate: 10_000 });
    for (let s = ''; s !== 'completed'; await new Promise((r) => setTimeout(r, 100))) {
      s = (await api<{ run: { status: string } }>(server.base, 'GET', `/api/runs/${run.id}`)).run.status;
      expect(s).not.toMatch(/failed|aborted/);
    }
    const before = (await api<Counts>(server.base, 'GET', '/api/workers')).counts.completed;
    const body = { circuit: 'lif', params: ['Cm.value'], bounds: { 'Cm.value': [30e-9, 300e-9] as [number, number] }, channels: ['v_mem'], maxEvals: 120, seed: 4, pair: false, wait: true };
    const { fit } = await api<{ fit: { state: string; result: { params: Record<string, number>; ci: Record<string, [number, number]>; evals: number } } }>(server.base, 'POST', `/api/runs/${run.id}/fit`, body);
    expect(fit.state).toBe('completed');
    expect(Math.abs(fit.result.params['Cm.value'] / 100e-9 - 1)).toBeLessThan(0.01);
    // each evaluation was a queue job (the twin run before it too, counted in `before`)
    const after = (await api<Counts>(server.base, 'GET', '/api/workers')).counts.completed;
    expect(after - before).toBeGreaterThanOrEqual(fit.result.evals);

    // the same fit here on two threads, reading the same run from the server's database (read-only beside its writer)
    const store = RunStore.open(db, { readonly: true });
    const pool = new WorkerPool({ threads: 2 });
    try {
      const local = await fitTwinToRun(store, pool, run.id, { circuit: builtInCircuit('lif'), params: body.params, bounds: body.bounds, channels: body.channels, maxEvals: body.maxEvals, seed: body.seed });
      expect(local.params).toEqual(fit.result.params);
      expect(local.ci).toEqual(fit.result.ci);
      expect(local.evals).toBe(fit.result.evals);
    } finally {
      await pool.close();
      store.close();
    }
  });
});
