/**
 * The shared fixture of the browser tests: the real server (./server.ts) and headless Chromium
 * (./chromium.ts) started in beforeAll, one page on the dashboard whose uncaught errors are collected,
 * everything closed in afterAll. Screenshots go to test/artifacts/.
 *
 *   const dash = useDashboard({ width: 1280, height: 800 });
 *   it('…', async () => { const { page, url } = dash; await page.goto(`${url}/#/`); await dash.screenshot('x.png'); });
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { ROOT, ensureDashboardBuilt, startServer, type TestServer } from './server.ts';

export const ARTIFACTS = path.join(ROOT, 'test/artifacts');

export interface DashboardOptions {
  width: number;
  height: number;
  /** Lets the page download files (page.waitForEvent('download')). */
  acceptDownloads?: boolean;
}

export interface Dashboard {
  /** The running server (a new one after restartServer()). */
  readonly server: TestServer;
  /** The server's base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly page: Page;
  /** Messages of the page's uncaught errors so far. */
  readonly pageErrors: string[];
  /** The path of `name` under test/artifacts/. */
  artifact(name: string): string;
  /** Saves a screenshot of the page as test/artifacts/<name>. */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<void>;
  /** fetch() a path on the server with the token. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** GET `url` (a path on the server) and its JSON body. */
  getJson(url: string): Promise<any>;
  /** POST `body` as JSON to `url` (a path on the server); the response. */
  postJson(url: string, body: unknown): Promise<Response>;
  /** Starts a new server on the database of the current (killed or stopped) one. */
  restartServer(): Promise<void>;
  /** POSTs a run to `url` (default /api/runs; /api/twin/runs for a twin run), waits until it has completed, returns its id. */
  completedRun(body: Record<string, unknown>, url?: string): Promise<number>;
}

/** Registers beforeAll/afterAll hooks for the calling test file; the fields are valid inside its tests. */
export function useDashboard(opts: DashboardOptions): Dashboard {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
  const ready = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('useDashboard: the fixture is used outside a test (before beforeAll ran)');
    return x;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    page = await browser.newPage({ viewport: { width: opts.width, height: opts.height }, acceptDownloads: opts.acceptDownloads });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openWithToken();
  });
  // As a person does: the URL `serve` printed, once; the server answers with the cookie later requests carry.
  const openWithToken = async () => {
    const s = ready(server);
    await ready(page).goto(`${s.url}/?token=${encodeURIComponent(s.token)}`);
  };

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  return {
    get server() {
      return ready(server);
    },
    get url() {
      return ready(server).url;
    },
    get page() {
      return ready(page);
    },
    pageErrors,
    artifact: (name) => path.join(ARTIFACTS, name),
    screenshot: async (name, o) => {
      await ready(page).screenshot({ path: path.join(ARTIFACTS, name), fullPage: o?.fullPage });
    },
    fetch: (url, init) => ready(server).fetch(url, init),
    getJson: async (url) => (await (await ready(server).fetch(url)).json()) as any,
    postJson: (url, body) => ready(server).fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    restartServer: async () => {
      server = await startServer(ready(server).dir, ready(server).token);
      await openWithToken();
    },
    completedRun: async (body, url = '/api/runs') => {
      const s = ready(server);
      const res = await s.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBe(201);
      const id = ((await res.json()) as { run: { id: number } }).run.id;
      await expect.poll(async () => ((await (await s.fetch(`/api/runs/${id}`)).json()) as { run: { status: string } }).run.status, { timeout: 60_000, interval: 250 }).toBe('completed');
      return id;
    },
  };
}
