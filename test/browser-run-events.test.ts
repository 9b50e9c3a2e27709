/**
 * Events you can trust, on the run page in headless Chromium against the real server (1366×768):
 *  - a DAQ run whose board was stopped by its watchdog (test/browser/fault-run.ts: 1 700 samples per channel
 *    lost) shows the fault as a labelled shaded span whose tooltip names it and the samples lost, and the
 *    event table lists it with the marker; "jump" zooms every plot to it (screenshot run-events-fault.png);
 *  - a live simulated run shows one event count (header = toolbar), and a pause is recorded and marked
 *    (a span live, rows "paused" / "resumed after … s paused" in the stored run's table; run-events-pause.png).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';
import { FAULT_RUN, writeFaultRun } from './browser/fault-run.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const dash = useDashboard({ width: 1366, height: 768 });
const stored = async () => (await dash.page.evaluate('window.spikeloop.stored')) as DashboardMetrics['stored'];

describe('run page events', () => {
  it('draws a fault that lost samples as a labelled span with a tooltip, lists it, and jumps to it', { timeout: 120_000 }, async () => {
    await dash.server.kill();
    const id = writeFaultRun(path.join(dash.server.dir, 'runs.db'));
    await dash.restartServer();
    const { page } = dash;
    const f = FAULT_RUN;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.waitForSelector('.event-table tr[data-kind=fault]');
    const rows = await page.$$eval('.event-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[1])).toEqual(['marker', 'fault']);
    expect(rows[0][2]).toBe(f.markerLabel);
    expect(rows[1][2]).toBe(f.faultLabel);
    expect(rows[1][4]).toBe('1,700 samples lost per channel');
    expect(rows[1][3]).toBe('170 ms');
    // one of each, counted in the singular (the header said "1 markers, 1 faults")
    expect(await page.textContent('[data-fact=events] dd')).toMatch(/ spikes?, 1 marker, 1 fault(?!s)/);
    await expect.poll(() => page.getAttribute('.plot[data-channel="1"]', 'data-spans')).toBe('1');

    // The tooltip over the middle of the lost stretch (0.4 s .. 0.57 s of 1 s).
    const over = (await page.locator('.plot[data-channel="1"] .u-over').boundingBox())!;
    const tMid = (f.faultIndex + f.lost / 2) / f.rate;
    await page.mouse.move(over.x + over.width * tMid, over.y + over.height / 2);
    await expect.poll(() => page.getAttribute('.plot[data-channel="1"] .plot-tip', 'data-tip')).toBe(`fault: ${f.faultLabel} — 1,700 samples lost per channel`);
    await dash.screenshot('run-events-fault.png');

    // Jump: every plot shows the fault with room around it.
    await page.click('.event-table tr[data-kind=fault] [data-action=jump]');
    await expect.poll(async () => (await stored()).xRange![1] - (await stored()).xRange![0], { timeout: 5000 }).toBeLessThan(1);
    const [a, b] = (await stored()).xRange!;
    expect(a).toBeLessThan(f.faultIndex / f.rate);
    expect(b).toBeGreaterThan((f.faultIndex + f.lost) / f.rate);
    await expect.poll(async () => (await stored()).plotXRange).toEqual([a, b]);
    await expect(page.locator('[data-stat=events]').textContent()).resolves.toMatch(/\b1 fault in view/);
    expect(dash.pageErrors).toEqual([]);
  });

  it('counts events once while live and marks a pause', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 4, frequencyHz: 50 }, sampleRate: 20_000 });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.waitForSelector('[data-view=live]');
    const headerCount = async () => Number(((await page.textContent('[data-fact=events] dd')) ?? '').match(/^([\d,]+) spikes/)![1].replace(/,/g, ''));
    const toolbarCount = async () => Number(((await page.textContent('[data-stat=spikes]')) ?? '0').match(/^([\d,]+) spikes/)?.[1].replace(/,/g, '') ?? -1);
    await expect.poll(headerCount, { timeout: 15_000 }).toBeGreaterThan(0);
    await page.click('[data-action=pause]');
    await expect.poll(() => page.textContent('[data-progress]')).toMatch(/^paused/);
    // Paused, the counts stand still: the header's is the toolbar's.
    await page.waitForTimeout(600);
    expect(await headerCount()).toBe(await toolbarCount());
    await expect.poll(() => page.getAttribute('.plot[data-channel="1"]', 'data-spans')).toBe('1');
    await dash.screenshot('run-events-pause.png');
    await page.click('[data-action=resume]');
    await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 250 }).toBe('completed');
    await page.waitForSelector('[data-view=stored] ~ .event-table-box tr[data-kind=pause], .event-table tr[data-kind=pause]', { timeout: 15_000 });
    const pauses = await page.$$eval('.event-table tr[data-kind=pause] td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    expect(pauses[0]).toBe('paused');
    expect(pauses[1]).toMatch(/^resumed after \d+\.\d s paused$/);
    const run = (await dash.getJson(`/api/runs/${id}`)).run;
    expect(run.eventCounts.marker).toBe(2);
    expect(await page.textContent('[data-fact=events] dd')).toMatch(new RegExp(`^${run.eventCounts.spike.toLocaleString('en-US')} spikes, 2 markers, 0 faults`));
    expect(dash.pageErrors).toEqual([]);
  });
});
