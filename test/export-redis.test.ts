/**
 * Exports under `serve --redis`: the CSV, NPY and events files are made on this machine's threads, which
 * read the run from the database file (as without a queue), not on the event loop because the pool that
 * runs sweeps is the queue. Against Debian's redis-server.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../server/store/run-store.ts';
import { exportChunks } from '../server/export/index.ts';
import { QueuePool } from '../server/workers/queue.ts';
import { buildApp, type App } from '../server/api/app.ts';
import { freePort, Redis } from './cluster-helpers.ts';

const TOKEN = 'export-redis-token';
let dir: string;
let redis: Redis;
let store: RunStore;
let queue: QueuePool;
let app: App;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-export-redis-'));
  redis = new Redis(await freePort(), dir);
  await redis.start();
  store = RunStore.open(path.join(dir, 'runs.db'));
  queue = new QueuePool(redis.url, { threads: 1 });
  app = await buildApp({ store, webDist: false, pool: queue, workers: 1, security: { token: TOKEN } });
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  store?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('exports with a queue', () => {
  it('a CSV download is written on a local thread, not on the event loop nor sent to the queue; the same bytes', async () => {
    const id = store.createRun({ protocol: { kind: 'dc', durationS: 100 }, source: 'simulated', bench: null, softwareVersion: '0.1.0' });
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [{ name: 'v', unit: 'V', sampleRate: 10_000, dtype: 'int16', scale: 1e-4, offset: 0, role: 'response' }] });
    for (let a = 0; a < 1_000_000; a += 65536) rec.write({ type: 'block', channel: 0, firstIndex: a, samples: new Int16Array(Math.min(65536, 1_000_000 - a)).fill(7) });
    rec.write({ type: 'stop', status: 'completed' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/runs/${id}/export?format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [(await reader.read()).value!];
    // written by a thread into a temporary file beside the database (made on the event loop, there would be none)
    expect(readdirSync(dir).filter((f) => f.includes('.scratch-'))).toHaveLength(1);
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    expect(Buffer.concat(parts).equals(Buffer.concat([...exportChunks(store, { kind: 'csv', runId: id })].map((c) => Buffer.from(c))))).toBe(true);
    expect(app.spikeloop.heavy.running).toBe(0);
    await expect.poll(() => readdirSync(dir).filter((f) => f.includes('.scratch-'))).toEqual([]);
  });
});
