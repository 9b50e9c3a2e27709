/**
 * Real parts for the BullMQ tests and bench: Debian's redis-server on a free loopback port (append-only
 * file in a temporary folder, so a restart keeps the queue), `spikeloop serve` and `spikeloop worker`
 * processes spawned from the compiled CLI, and the sweep API driven over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../server/store/run-store.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOKEN = 'cluster-test-token';

import { freePort } from './browser/server.ts';

export { freePort };

/** Resolves with the first match of `re` in the process's stdout or stderr. */
export function waitForOutput(proc: ChildProcess, re: RegExp, ms = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${out}`)), ms);
    const on = (d: Buffer) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout?.off('data', on);
        proc.stderr?.off('data', on);
        resolve(m);
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${re}:\n${out}`));
    });
  });
}

export function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

export class Redis {
  proc!: ChildProcess;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(this.proc, /Ready to accept connections/);
  }
  /** SIGTERM: redis-server writes its append-only file and exits. */
  stop(): Promise<void> {
    return stopProcess(this.proc);
  }
}

const cliEnv = () => ({ ...process.env, SPIKELOOP_TOKEN: TOKEN });

/** A test file's cluster: a temporary folder, Redis started in it, and the processes the tests spawn. */
export interface Cluster {
  dir: string;
  redis: Redis;
  procs: ChildProcess[];
}

/** Starts Redis in a new temporary folder named from `prefix` (for beforeAll). */
export async function startCluster(prefix: string): Promise<Cluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const redis = new Redis(await freePort(), dir);
  await redis.start();
  return { dir, redis, procs: [] };
}

/** Kills the spawned processes, stops Redis and removes the folder (for afterAll). */
export async function stopCluster(c: Cluster | undefined): Promise<void> {
  if (!c) return;
  await Promise.all(c.procs.map((p) => stopProcess(p, 'SIGKILL')));
  await c.redis.stop();
  rmSync(c.dir, { recursive: true, force: true });
}

export async function startServer(db: string, redis?: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, [path.join(root, 'bin/spikeloop.js'), 'serve', '--port', '0', '--db', db, ...(redis ? ['--redis', redis] : [])], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const [, base] = await waitForOutput(proc, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { proc, base };
}

export async function startWorker(redis: string, server: string, name: string, concurrency = 1): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [path.join(root, 'bin/spikeloop.js'), 'worker', '--redis', redis, '--server', server, '--concurrency', String(concurrency), '--name', name], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(proc, /spikeloop worker .*jobs at once/);
  return proc;
}

export async function api<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface SweepView {
  id: string;
  state: string;
  reason?: string;
  fraction: number;
  points: { index: number; status: string; runId?: number; error?: string }[];
}

/** A twin sweep of `points` DC current levels into the LIF neuron, `samples` samples each at 100 kS/s. */
export function twinSweep(points: number, samples: number) {
  return {
    mode: 'twin',
    circuit: 'lif',
    sampleRate: 100_000,
    sweep: {
      kind: 'sweep',
      base: { kind: 'dc', quantity: 'current', durationS: samples / 100_000 },
      parameters: [{ field: 'level', values: Array.from({ length: points }, (_, i) => 5e-6 + i * 1e-6) }],
    },
  };
}

export async function runSweep(base: string, body: unknown, during?: (s: SweepView) => Promise<void> | void, timeoutMs = 240_000): Promise<SweepView> {
  const { sweep } = await api<{ sweep: SweepView }>(base, 'POST', '/api/sweeps', body);
  const t0 = Date.now();
  for (;;) {
    const { sweep: s } = await api<{ sweep: SweepView }>(base, 'GET', `/api/sweeps/${sweep.id}`);
    if (s.state !== 'running') return s;
    await during?.(s);
    if (Date.now() - t0 > timeoutMs) throw new Error(`sweep ${sweep.id} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every channel's stored samples of each point's run, as bytes, keyed by point index. */
export function storedPoints(db: string, sweep: SweepView): Map<number, Buffer> {
  const store = RunStore.open(db, { readonly: true });
  try {
    const out = new Map<number, Buffer>();
    for (const p of sweep.points) {
      const run = store.getRun(p.runId!)!;
      const parts: Buffer[] = [];
      run.channels.forEach((c, i) => {
        for (const seg of store.readRaw(run.id, i, 0, c.sampleCount)) parts.push(Buffer.from(seg.samples.buffer, seg.samples.byteOffset, seg.samples.byteLength));
      });
      out.set(p.index, Buffer.concat(parts));
    }
    return out;
  } finally {
    store.close();
  }
}

/** How many stored runs carry the sweep's tag. */
export function runsOfSweep(db: string, id: string): number {
  const store = RunStore.open(db, { readonly: true });
  try {
    return store.listRuns({ tag: `sweep:${id}`, limit: 10_000 }).length;
  } finally {
    store.close();
  }
}
