/**
 * The runs list's Import button in headless Chromium against the real server: a two-channel oscilloscope CSV
 * (Keysight's two-line header) is uploaded with its stimulus channel named, becomes a run (source import)
 * whose page offers the NWB export, downloaded and checked as HDF5; a CSV with no time column and no rate is
 * refused on the page with the server's message naming --rate, and no run is added.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1280, height: 900, acceptDownloads: true });
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-browser-import-'));
  const rows = Array.from({ length: 1000 }, (_, i) => `${(-0.005 + i * 1e-5).toExponential(8)},${(i % 50 === 10 ? 1 : 0).toExponential(5)},${(Math.floor(i / 100) % 2 ? 0.5 : 0).toExponential(5)}`);
  writeFileSync(path.join(dir, 'scope.csv'), ['x-axis,1,2', 'second,Volt,Volt', ...rows].join('\n') + '\n');
  writeFileSync(path.join(dir, 'norate.csv'), 'v\n0\n1\n0\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dashboard import', () => {
  it('imports a scope CSV from the runs list, offers its NWB export, and shows a refusal as the server words it', { timeout: 90_000 }, async () => {
    const { page } = dash;
    const count = async () => (await dash.getJson('/api/runs')).runs.length as number;
    await page.goto(`${dash.url}/#/`);
    await page.click('[data-action=import]');
    // each field's placeholder fits its box (the rate's was cut off), and a title says what it is for
    const fields = await page.$$eval('.import-panel input[type=text]', (els) =>
      (els as HTMLInputElement[]).map((el) => {
        const cs = getComputedStyle(el);
        const ctx = document.createElement('canvas').getContext('2d')!;
        ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
        const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        return { label: el.getAttribute('aria-label'), fits: ctx.measureText(el.placeholder).width <= room, title: el.title };
      }),
    );
    expect(fields.map((f) => f.label)).toEqual(['Sample rate', 'Unit', 'Stimulus channel']);
    for (const f of fields) expect(f, f.label ?? '').toMatchObject({ fits: true, title: expect.stringMatching(/.{20,}/) });
    // refused: no time column, no rate
    await page.setInputFiles('.import-panel input[type=file]', path.join(dir, 'norate.csv'));
    const before = await count();
    await page.click('.import-panel button[type=submit]');
    await expect.poll(() => page.textContent('.import-panel .list-message')).toMatch(/norate\.csv: no time column.*--rate/);
    expect(await count()).toBe(before);
    // imported
    await page.setInputFiles('.import-panel input[type=file]', path.join(dir, 'scope.csv'));
    await page.fill('.import-panel input[aria-label="Stimulus channel"]', '2');
    await page.click('.import-panel button[type=submit]');
    await page.waitForURL(/#\/runs\/\d+$/);
    const id = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    const run = (await dash.getJson(`/api/runs/${id}`)).run;
    expect(run).toMatchObject({ source: 'import', label: 'scope.csv', protocol: { kind: 'recording', vendor: 'Keysight', stimulusChannel: '2' } });
    expect(run.channels.map((c: { name: string; role: string; sampleRate: number }) => [c.name, c.role, Math.round(c.sampleRate)])).toEqual([['1', 'response', 100_000], ['2', 'stimulus', 100_000]]);
    // its X–Y view opens without asking the server for the period of a protocol it does not have
    const checks: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/protocols/check')) checks.push(r.url());
    });
    await page.click('[data-action=xy]');
    await page.waitForSelector('.xy-panel:not([hidden])');
    await page.waitForTimeout(500);
    expect(checks).toEqual([]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.exports a:text("NWB")')]);
    const file = path.join(dir, 'got.nwb');
    await download.saveAs(file);
    expect(readFileSync(file).subarray(0, 8).toString('latin1')).toBe('\x89HDF\r\n\x1a\n');
    expect(dash.pageErrors).toEqual([]);
    await dash.screenshot('import.png');
  });
});
