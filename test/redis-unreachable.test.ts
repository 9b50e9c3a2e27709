/**
 * `serve --redis` and `worker --redis` when Redis is not there (issue 14): a closed port is reported at
 * start as "cannot reach Redis at …" and the command exits non-zero (no listening line, no silent wait);
 * Redis that goes away after start does not keep SIGTERM from exiting. Real redis-server for the
 * reachable case (test/cluster-helpers.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startCluster, startServer, startWorker, stopCluster, TOKEN, type Cluster } from './cluster-helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster('spikeloop-redis-gone-');
});
afterAll(() => stopCluster(cluster));

/** Runs the CLI to its exit: code, stdout, stderr. */
function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [path.join(root, 'bin/spikeloop.js'), ...args], { env: { ...process.env, SPIKELOOP_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    cluster.procs.push(proc);
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.once('exit', (code) => resolve({ code, out, err }));
  });
}

const exitOf = (proc: ChildProcess) => new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

describe('Redis unreachable', () => {
  it('serve --redis on a closed port says it cannot reach Redis and exits non-zero, listening on nothing', async () => {
    const closed = await freePort();
    const r = await cli(['serve', '--port', '0', '--db', path.join(cluster.dir, 'closed.db'), '--redis', `redis://127.0.0.1:${closed}`]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`cannot reach Redis at redis://127.0.0.1:${closed}`);
    expect(r.out).not.toMatch(/listening/);
  });

  it('worker --redis on a closed port says so and exits non-zero instead of waiting silently', async () => {
    const server = await startServer(path.join(cluster.dir, 'for-worker.db'));
    cluster.procs.push(server.proc);
    const closed = await freePort();
    const r = await cli(['worker', '--redis', `redis://127.0.0.1:${closed}`, '--server', server.base]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`cannot reach Redis at redis://127.0.0.1:${closed}`);
  });

  it('SIGTERM exits serve and worker after Redis went away', { timeout: 60_000 }, async () => {
    const server = await startServer(path.join(cluster.dir, 'gone.db'), cluster.redis.url);
    cluster.procs.push(server.proc);
    const worker = await startWorker(cluster.redis.url, server.base, 'gone');
    cluster.procs.push(worker);
    await cluster.redis.stop();
    try {
      const exits = [exitOf(server.proc), exitOf(worker)];
      server.proc.kill('SIGTERM');
      worker.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
    } finally {
      await cluster.redis.start();
    }
  });
});
