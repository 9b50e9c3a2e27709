/** Shared helpers of the live/API tests: a temp store, a listening app, a WebSocket message collector. */
import { afterAll, beforeAll, expect } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App, type BuildAppOptions } from '../server/api/app.ts';
import { newToken } from '../server/api/security.ts';
import { RunStore } from '../server/store/run-store.ts';

export interface TestServer {
  app: App;
  store: RunStore;
  dir: string;
  base: string;
  wsBase: string;
  /** The server's token (every request carries it, as the CLI and the dashboard do). */
  token: string;
  /** `Authorization: Bearer <token>`. */
  auth: { authorization: string };
  /** fetch(base + path) with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** app.inject() with the token. */
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** The live feed's WebSocket URL for `path`, with the token as ?token=. */
  wsUrl(path: string): string;
  close(): Promise<void>;
}

export async function startServer(opts: Partial<BuildAppOptions> = {}, listen = true): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-api-'));
  const store = RunStore.open(path.join(dir, 'test.db'));
  const token = newToken();
  const auth = { authorization: `Bearer ${token}` };
  const app = await buildApp({ store, webDist: false, security: { token }, ...opts });
  let base = '';
  if (listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
  } else await app.ready();
  return {
    app,
    store,
    dir,
    base,
    wsBase: base.replace('http', 'ws'),
    token,
    auth,
    fetch: (p, init = {}) => fetch(`${base}${p}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } }),
    inject: (o) => app.inject({ ...o, headers: { ...auth, ...o.headers } }),
    wsUrl: (p) => `${base.replace('http', 'ws')}${p}${p.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`,
    async close() {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface InjectServer {
  /** The server (valid inside the tests, after beforeAll). */
  readonly s: TestServer;
  /** One request through app.inject(): the status and the parsed JSON body. */
  inject(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: any }>;
  /** Polls GET /api/sweeps/:id every 100 ms until the sweep is no longer running; its last state. */
  waitSweep(id: string): Promise<any>;
}

/**
 * A server that does not listen (requests go through app.inject()), started in beforeAll and closed in
 * afterAll of the calling file or describe block.
 */
export function useInjectServer(opts: Partial<BuildAppOptions> = {}): InjectServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer(opts, false);
  });
  afterAll(async () => {
    await server?.close();
  });
  const s = (): TestServer => {
    if (!server) throw new Error('useInjectServer: used outside a test (before beforeAll ran)');
    return server;
  };
  const inject: InjectServer['inject'] = async (method, url, payload) => {
    const r = await s().inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.json() as any };
  };
  return {
    get s() {
      return s();
    },
    inject,
    waitSweep: async (id) => {
      let sw;
      do {
        await new Promise((res) => setTimeout(res, 100));
        sw = (await inject('GET', `/api/sweeps/${id}`)).body.sweep;
      } while (sw.state === 'running');
      return sw;
    },
  };
}

export type LiveMessage = { type: string; [k: string]: unknown };

/** Opens a WebSocket and records every JSON message; `until` waits for a predicate over the messages. */
export function collect(url: string) {
  const ws = new WebSocket(url);
  const messages: LiveMessage[] = [];
  let closeCode: number | undefined;
  const waiters: { pred: (m: LiveMessage[]) => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pred(messages)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as LiveMessage);
    check();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve((closeCode = code))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    opened,
    closed,
    get closeCode() {
      return closeCode;
    },
    until(pred: (m: LiveMessage[]) => boolean, timeoutMs = 20_000): Promise<void> {
      if (pred(messages)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out; got ${messages.length} messages: ${messages.slice(-3).map((m) => m.type).join(',')}`)), timeoutMs);
        waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
  };
}

export const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, any> });

/** The outcome of a WebSocket upgrade: 'open', or the HTTP status it was refused with. */
export function upgrade(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => resolve(0));
  });
}

/**
 * Garbage over the root page of the sample table of the database file `db` (closed): opening the store
 * does not read that page, a plot would; PRAGMA quick_check finds it.
 */
export function damageSampleTable(db: string): void {
  const raw = new Database(db, { readonly: true });
  const { rootpage } = raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'segments'").get() as { rootpage: number };
  const page = raw.pragma('page_size', { simple: true }) as number;
  raw.close();
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.alloc(page, 0xa5), 0, page, (rootpage - 1) * page);
  closeSync(fd);
}

/** Starts a twin run (POST /api/twin/runs with `body`) on `srv` and waits for it to complete; its id. */
export async function twinRun(srv: TestServer, body: unknown): Promise<number> {
  const r = await srv.fetch('/api/twin/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(201);
  const id = ((await r.json()) as { run: { id: number } }).run.id;
  await srv.app.spikeloop.runs.waitForEnd(id);
  expect(srv.store.getRun(id)!.status).toBe('completed');
  return id;
}
