/**
 * The Sweeps page in headless Chromium (Debian's, via playwright-core) against the real server: a bad
 * sweep is refused with the limit named and nothing started; an f–I sweep on the LIF twin runs to the end,
 * its points link to stored runs and the spike-rate curve is drawn with its peak. Screenshot under
 * test/artifacts/.
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

const sweepDoc = (level: number[]) =>
  JSON.stringify({ kind: 'sweep', label: 'f-I', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field: 'level', values: level }] });

describe('Sweeps page', () => {
  it('refuses a sweep over the limits, then runs an f–I sweep on the twin and draws its curve', { timeout: 120_000 }, async () => {
    await page.goto(`${server.url}/#/sweeps`);
    await page.waitForSelector('#sweep-doc');
    await expect.poll(() => page.$$eval('#sweep-circuit option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('lif');

    // Bad input: invalid JSON, then a point over the bench's current limit. Nothing starts.
    await page.fill('#sweep-doc', '{ nope');
    await page.click('button[data-action=start-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/not valid JSON/);
    await page.fill('#sweep-doc', sweepDoc([20e-6, 0.5]));
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/maxCurrent/);
    await page.click('button[data-action=start-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/sweep point 1 \(level=0.5\).*maxCurrent/);
    expect(await page.$$('tr[data-sweep]')).toHaveLength(0);

    // A valid f–I sweep on the LIF twin.
    await page.fill('#sweep-doc', sweepDoc([15e-6, 30e-6, 60e-6]));
    await page.selectOption('#sweep-mode', 'twin');
    await page.selectOption('#sweep-circuit', 'lif');
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/3 runs.*within the bench limits/);
    await page.click('button[data-action=start-sweep]');
    await page.waitForURL(/#\/sweeps\/\w+/);
    await expect.poll(() => page.getAttribute('.sweep-state', 'data-state'), { timeout: 90_000, interval: 250 }).toBe('completed');
    const rows = await page.$$eval('table.sweep-points tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['level=0.000015', 'level=0.00003', 'level=0.00006']);
    expect(rows.every((r) => r[1] === 'completed' && /^run \d+$/.test(r[2]))).toBe(true);
    // Spike rate rises with the current (LIF f–I curve); the peak is at the highest level.
    const rates = rows.map((r) => Number(r[4]));
    expect(rates[0]).toBeGreaterThan(0);
    expect(rates[1]).toBeGreaterThan(rates[0]);
    expect(rates[2]).toBeGreaterThan(rates[1]);
    expect(await page.textContent('.sweep-peak')).toMatch(/at level = 0.00006/);
    expect(await page.$('.sweep-chart canvas')).not.toBeNull();
    await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-sweeps.png'), fullPage: true });

    // A point's run opens in the run page.
    await page.click('table.sweep-points tbody tr:first-child a');
    await page.waitForURL(/#\/runs\/\d+/);
    expect(pageErrors).toEqual([]);
  });
});
