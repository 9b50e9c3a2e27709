/**
 * The Compare page in headless Chromium against the real server: a square-wave run on the simulated
 * bench (the adaptive-LIF test stimulus, 1 kHz 50 % 1 mA) is paired with the LIF twin from the page (the
 * twin fed the recorded stimulus), then both are shown on one time axis: traces, rasters, ISI histograms,
 * statistics. Screenshot under test/artifacts/ (the README's compare view).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser/chromium.ts';
import { ROOT, ensureDashboardBuilt, startServer, type TestServer } from './browser/server.ts';

const ARTIFACTS = path.join(ROOT, 'test/artifacts');
let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ensureDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const getJson = async (url: string) => (await (await fetch(`${server.url}${url}`)).json()) as any;

describe('Compare page', () => {
  it('pairs a measured square-wave run with the LIF twin and overlays them', { timeout: 120_000 }, async () => {
    const res = await fetch(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: { kind: 'square', durationS: 0.3 }, sampleRate: 10_000, label: 'adaptive-LIF test' }),
    });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000 }).toBe('completed');

    await page.goto(`${server.url}/#/runs/${id}`);
    await page.click('[data-action=compare]');
    await page.waitForURL(new RegExp(`#/compare/${id}$`));
    await page.waitForSelector('button[data-action=pair]');
    await page.selectOption('#compare-circuit', 'lif');
    await page.click('button[data-action=pair]');
    await page.waitForSelector('table.compare-stats', { timeout: 60_000 });

    // The twin run is stored, linked, and was fed exactly the recorded stimulus.
    const runs = (await getJson('/api/runs?limit=10')).runs as any[];
    const twin = runs.find((r) => r.linkedRunId === id);
    expect(twin.source).toBe('twin');
    const a = await getJson(`/api/runs/${id}/channels/0/envelope?start=0&end=3000&pixels=300`);
    const b = await getJson(`/api/runs/${twin.id}/channels/0/envelope?start=0&end=3000&pixels=300`);
    expect(b.max).toEqual(a.max);

    const cells = await page.$$eval('table.compare-stats tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(cells[0][0]).toBe('spikes');
    expect(Number(cells[0][1])).toBeGreaterThan(0);
    expect(Number(cells[0][2])).toBeGreaterThan(0);
    expect(await page.$$('#compare-body canvas')).toHaveLength(3);
    await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-compare.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
