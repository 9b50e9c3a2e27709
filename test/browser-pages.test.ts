/**
 * Every page of the dashboard at 1366×768 and 1920×1080 in headless Chromium against the real server, with
 * nothing on the console: the runs list, New run (with its stimulus preview), a run's page while it streams
 * (X–Y open) and once stored (a stored PSD shown, spikes run from the form, the fit panel open), Replay playing, Compare of one run
 * pairwise with several, Overlay, Sweeps with an ended twin sweep, Sessions and Bench. Any console error,
 * uncaught error, failed request or HTTP error answer fails the test (a request the page itself cancels on
 * leaving a page, net::ERR_ABORTED, is not a failure). Screenshots test/artifacts/pages-<page>-<size>.png.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const SIZES = [
  [1366, 768],
  [1920, 1080],
] as const;

// The README's "compare several" image is this test's pages-compare-several-1366x768.png (scripts/readme-screenshots.mjs).

/** Console errors, uncaught errors, failed requests and 4xx/5xx answers of the page, as they happen. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  return problems;
}

describe('every page', () => {
  it('loads at 1366×768 and 1920×1080 without a console error or a failed request', { timeout: 300_000 }, async () => {
    const { page } = dash;
    // A measured run paired with its twin at the end, a second measured run, a stored PSD, an ended twin sweep.
    const square = (duty: number) => ({ kind: 'square', durationS: 0.5, frequencyHz: 20, duty });
    const a = await dash.completedRun({ protocol: square(0.5), sampleRate: 20_000, label: 'square 20 Hz', twin: { circuit: 'lif-bench' } });
    const b = await dash.completedRun({ protocol: square(0.25), sampleRate: 20_000, label: 'square 20 Hz, duty 0.25' });
    await expect.poll(async () => (await dash.getJson(`/api/runs?linkedTo=${a}`)).runs.length, { timeout: 60_000, interval: 250 }).toBe(1);
    const twin = (await dash.getJson(`/api/runs?linkedTo=${a}`)).runs[0].id as number;
    expect((await dash.postJson(`/api/runs/${a}/analyses/psd`, {})).status).toBeLessThan(300);
    const sw = await dash.postJson('/api/sweeps', {
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      sweep: { kind: 'sweep', label: 'f-I', base: { kind: 'dc', quantity: 'current', durationS: 0.1 }, parameters: [{ field: 'level', values: [20e-6, 40e-6, 60e-6] }] },
    });
    expect(sw.status).toBe(201);
    const sweepId = ((await sw.json()) as { sweep: { id: string } }).sweep.id;
    await expect.poll(async () => (await dash.getJson(`/api/sweeps/${sweepId}`)).sweep.state, { timeout: 60_000, interval: 250 }).toBe('completed');
    // A run that streams while its page is open (stopped at the end).
    const liveRes = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 600, frequencyHz: 20 }, sampleRate: 20_000, label: 'streaming' });
    expect(liveRes.status).toBe(201);
    const live = ((await liveRes.json()) as { run: { id: number } }).run.id;

    const pages: [name: string, route: string, ready: (p: Page) => Promise<unknown>][] = [
      ['runs', '#/', (p) => p.waitForSelector(`tr[data-run-id="${b}"]`)],
      ['new-run', '#/new', (p) => expect.poll(() => p.textContent('[data-preview-note]'), { timeout: 20_000 }).toMatch(/within the bench limits/)],
      [
        'run-live',
        `#/runs/${live}`,
        async (p) => {
          await p.waitForSelector('[data-view=live] canvas');
          await p.click('.live-view [data-action=xy]');
          await expect.poll(() => p.textContent('.live-view [data-stat=xy-note]'), { timeout: 20_000 }).toMatch(/points over/);
          // colour by cycle: the server's period of the run's protocol (20 Hz)
          await p.selectOption('.live-view [data-control=xy-colour]', 'cycle');
        },
      ],
      [
        'run-stored',
        `#/runs/${a}`,
        async (p) => {
          await p.waitForSelector('[data-view=stored] canvas');
          // the stored PSD (the pairing stored analyses of its own, perhaps later)
          await p.click('.analysis-panel button[data-stored]:has-text("psd ·")');
          await p.waitForSelector('.analysis-result[data-analysis=psd] figure[data-plot^="PSD"] canvas', { timeout: 30_000 });
          // and one run from the form (the second time: the stored result, reused)
          await p.selectOption('.analysis-panel select[name=analysis]', 'spikes');
          await p.click('[data-action=run-analysis]');
          await p.waitForSelector('.analysis-result[data-analysis=spikes] figure[data-plot="Spike raster"] canvas', { timeout: 30_000 });
          await p.locator('[data-view=fit] summary').click();
          await p.waitForSelector('[data-view=fit] [data-action=fit-start]');
        },
      ],
      [
        'replay',
        `#/replay/${a}`,
        async (p) => {
          await p.waitForSelector('.replay-page [data-view=replay] canvas');
          // the 0.5 s run fits in the first window: Play plays it from the start to the end
          await p.click('.replay-page [data-action=play]');
          await p.waitForSelector('.replay-page[data-playhead]');
        },
      ],
      [
        'compare-several',
        `#/compare/${a}?with=${twin},${b}`,
        async (p) => {
          await p.waitForSelector('table.compare-pairs tbody tr[data-pair]');
          await p.waitForSelector('.compare-traces[data-points] canvas', { timeout: 30_000 });
          await p.waitForSelector('[data-analyses-source]', { timeout: 60_000 });
        },
      ],
      ['overlay', `#/overlay?runs=${a},${b},${twin}`, (p) => p.waitForSelector('.overlay-page[data-loaded] canvas')],
      [
        'sweeps',
        `#/sweeps/${sweepId}`,
        async (p) => {
          await p.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
          await p.waitForSelector('.sweep-state[data-state=completed]');
          await p.waitForSelector('[data-analysed]', { timeout: 30_000 });
        },
      ],
      ['sessions', `#/sessions?run=${a}`, (p) => p.waitForSelector('.sessions-list tbody tr')],
      ['bench', '#/bench', (p) => p.waitForSelector('h2')],
    ];

    const problems = watch(page);
    const seen: string[] = [];
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height });
      for (const [name, route, ready] of pages) {
        const before = problems.length;
        await page.goto(`${dash.url}/${route}`);
        await ready(page);
        // what the page does in its first seconds (polls, refreshes, the live feed) counts too
        await page.waitForTimeout(1500);
        await dash.screenshot(`pages-${name}-${width}x${height}.png`);
        seen.push(`${name} ${width}x${height}: ${problems.length - before} problems`);
      }
    }
    await dash.postJson(`/api/runs/${live}/stop`, {});
    expect(problems, seen.join('\n')).toEqual([]);
    expect(seen).toHaveLength(2 * pages.length);
  });
});
