/**
 * The real spikeloop server for browser tests: `node bin/spikeloop.js serve` on a free 127.0.0.1 port with a
 * database in a temp dir, and the dashboard built into web/dist first when it is missing or older than its
 * sources.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the dashboard unless web/dist is newer than web/src and web/index.html. */
export function ensureDashboardBuilt(): void {
  const index = path.join(ROOT, 'web/dist/index.html');
  const src = Math.max(newestMtime(path.join(ROOT, 'web/src')), statSync(path.join(ROOT, 'web/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= src) return;
  const r = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vite build failed with status ${r.status}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  url: string;
  /** The server's token (`serve --token`); `url + '/?token=' + token` is the URL `serve` prints. */
  token: string;
  /** fetch(url + path) with the token as `Authorization: Bearer`, as the CLI and scripts send it. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  dir: string;
  proc: ChildProcess;
  /** Everything the server printed, for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, leaving the database as a crash leaves it (the dir is kept for a restart). */
  kill(): Promise<void>;
}

/**
 * Starts a server on a fresh temp dir, or on `reuseDir`'s database (e.g. after killing the previous server),
 * with `token` (default: a new one).
 */
export async function startServer(reuseDir?: string, token = randomBytes(18).toString('base64url')): Promise<TestServer> {
  const dir = reuseDir ?? mkdtempSync(path.join(os.tmpdir(), 'spikeloop-browser-'));
  // --port 0, the address read from what serve prints: a port picked here and closed could be taken by another
  // process (a parallel test's connection) before the server binds it
  const proc = spawn(process.execPath, ['bin/spikeloop.js', 'serve', '--port', '0', '--db', path.join(dir, 'runs.db'), '--token', token], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const auth = { authorization: `Bearer ${token}` };
  const server: TestServer = {
    url: '',
    token,
    fetch: (p, init = {}) => fetch(`${server.url}${p}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } }),
    dir,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000; // start-up transpiles the server with tsx: slow on a loaded machine
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    server.url ||= /spikeloop listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    if (server.url) {
      const r = await fetch(`${server.url}/api/health`, { headers: auth });
      if (r.ok) return server;
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`server did not answer /api/health within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
