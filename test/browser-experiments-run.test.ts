/**
 * Pause, resume and progress on the run page in headless Chromium against the real server: a running run
 * shows its progress and time left; Pause holds it (progress stands still, button turns to Resume);
 * Resume continues it; Stop ends it. Screenshot under test/artifacts/.
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
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const progress = async (id: number) =>
  ((await (await fetch(`${server.url}/api/runs/${id}/progress`)).json()) as { progress: { state: string; samplesDone: number } }).progress;

describe('run page: pause, resume, progress', () => {
  it('pauses and resumes a live square-wave run from the page, then stops it', { timeout: 90_000 }, async () => {
    const res = await fetch(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: { kind: 'square', durationS: 60 }, sampleRate: 20_000, label: 'pause test' }),
    });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await page.goto(`${server.url}/#/runs/${id}`);
    await page.waitForSelector('button[data-action=pause]');
    await expect.poll(() => page.textContent('[data-progress]')).toMatch(/\d+ % · [\d.]+ s left/);

    await page.click('button[data-action=pause]');
    await page.waitForSelector('button[data-action=resume]');
    await expect.poll(() => page.textContent('[data-progress]')).toMatch(/^paused · /);
    expect((await progress(id)).state).toBe('paused');
    await new Promise((r) => setTimeout(r, 300)); // a block already being pulled may still land
    const held = (await progress(id)).samplesDone;
    await new Promise((r) => setTimeout(r, 500));
    expect((await progress(id)).samplesDone).toBe(held);
    await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-run-paused.png') });

    await page.click('button[data-action=resume]');
    await page.waitForSelector('button[data-action=pause]');
    await expect.poll(async () => (await progress(id)).samplesDone).toBeGreaterThan(held);

    await page.click('button[data-action=stop]');
    await expect.poll(() => page.textContent('[data-reason]')).toMatch(/stopped by user/);
    expect(pageErrors).toEqual([]);
  });
});
