/**
 * The Bench page in headless Chromium against the real server: instruments with their channel roles, the
 * run sources, the limits; a protocol checked against them (refusal names the limit) and its stimulus
 * previewed. Screenshot under test/artifacts/.
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
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('Bench page', () => {
  it('shows instruments, sources and limits; checks and previews a protocol', { timeout: 90_000 }, async () => {
    await page.goto(`${server.url}/#/bench`);
    await page.waitForSelector('tr[data-instrument=sim]');
    expect(await page.textContent('tr[data-instrument=sim]')).toMatch(/stim \(stimulus, A\).*v_mem \(response, V\)/);
    await page.waitForSelector('tr[data-source=simulated]');
    expect(await page.textContent('tr[data-source=simulated]')).toMatch(/yes/);
    expect(await page.textContent('[data-limit=maxVoltage]')).toBe('20 V');

    await page.fill('#bench-protocol', JSON.stringify({ kind: 'iv-sweep', peak: 30, periodS: 1, cycles: 1 }));
    await page.click('button[data-action=check-protocol]');
    await expect.poll(() => page.textContent('#bench-check')).toMatch(/maxVoltage = 20 V/);
    await page.fill('#bench-protocol', JSON.stringify({ kind: 'iv-sweep', peak: 2, negativePeak: 1, periodS: 1, cycles: 2 }));
    await page.click('button[data-action=check-protocol]');
    await expect.poll(() => page.textContent('#bench-check')).toMatch(/iv-sweep: 2 s, -1\.\.2 V.*within the limits/);
    expect(await page.$('.bench-preview canvas')).not.toBeNull();
    await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-bench.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
