/**
 * The runs list's Import button in headless Chromium against the real server: a two-channel oscilloscope CSV
 * (Keysight's two-line header) is uploaded with its stimulus channel named, becomes a run (source import)
 * whose page offers the NWB export, downloaded and checked as HDF5; a CSV with no time column and no rate is
 * refused on the page with the server's message naming the rate (`rate=<Hz>`, the query field), and no run is added. A run's exports, downloaded
 * from its page's links (CSV, NPY, NWB and "metadata (JSON)"), are imported back through the form with the
 * sidecar picked beside them: the same channel names, units, roles, rate and samples; without the sidecar the
 * CSV's stimulus is inferred and the run's notes say so; with the events file picked too, the run's spikes come
 * back (the run page counts them); a bad sidecar is refused in the form, a sidecar for other files by the
 * server, both shown in the form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1280, height: 900, acceptDownloads: true });
/** How long a poll waits for what the server answers (expect.poll's 1 s is too short on a loaded machine). */
const SERVER = { timeout: 20_000 };
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
    await expect.poll(() => page.textContent('.import-panel .list-message'), SERVER).toMatch(/norate\.csv: no time column.*give the rate with rate=<Hz>/);
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

  it("a run's CSV, NPY and NWB exports, downloaded from its page, import back through the form with the sidecar: names, units, roles, rate, samples", { timeout: 120_000 }, async () => {
    const { page } = dash;
    const id = await dash.completedRun({ protocol: { kind: 'square', durationS: 0.02, frequencyHz: 500 }, source: 'simulated', sampleRate: 50_000 });
    type Channel = { name: string; unit: string; role: string; sampleRate: number; sampleCount: number };
    const meta = (chs: Channel[]) => chs.map((c) => [c.name, c.unit, c.role, c.sampleRate, c.sampleCount]);
    const original = (await dash.getJson(`/api/runs/${id}`)).run;
    expect(meta(original.channels)).toEqual([['stim', 'A', 'stimulus', 50_000, 1000], ['v_mem', 'V', 'response', 50_000, 1000]]);
    /** Each channel's physical values (raw · scale + offset), as the server stores them. */
    const values = async (runId: number, chs: { index: number }[]) =>
      Promise.all(
        chs.map(async (c) => {
          const raw = await dash.getJson(`/api/runs/${runId}/channels/${c.index}/raw`);
          return raw.segments.flatMap((s: { samples: number[] }) => s.samples.map((v) => v * raw.scale + raw.offset)) as number[];
        }),
      );
    const want = await values(id, original.channels);

    // every file as the run page's export links give it, under the name the server gives it
    await page.goto(`${dash.url}/#/runs/${id}`);
    const saved: Record<string, string> = {};
    for (const link of ['CSV (all channels)', 'stim.npy', 'v_mem.npy', 'NWB', 'metadata (JSON)', 'events.csv']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`.exports a:text-is("${link}")`)]);
      saved[link] = path.join(dir, download.suggestedFilename());
      await download.saveAs(saved[link]);
    }
    expect(Object.values(saved).map((f) => path.basename(f))).toEqual([`run-${id}.csv`, `run-${id}-stim.npy`, `run-${id}-v_mem.npy`, `run-${id}.nwb`, `run-${id}_about.json`, `run-${id}-events.csv`]);
    const about = saved['metadata (JSON)'];

    /** Picks `files` in the import form, checks what it says it will apply, imports; the new run. */
    const importThrough = async (files: string[], plan: RegExp, opts: { inferRoles?: boolean } = {}) => {
      await page.goto(`${dash.url}/#/`);
      await page.click('[data-action=import]');
      await page.setInputFiles('.import-panel input[type=file]', files);
      await expect.poll(() => page.textContent('.import-panel [data-import-plan]'), SERVER).toMatch(plan);
      if (opts.inferRoles === false) await page.uncheck('.import-panel input[aria-label="Infer roles"]');
      await page.click('.import-panel button[type=submit]');
      await page.waitForURL(/#\/runs\/\d+$/);
      return (await dash.getJson(`/api/runs/${/#\/runs\/(\d+)$/.exec(page.url())![1]}`)).run;
    };
    const applies = new RegExp(`run-${id}_about\\.json \\(run ${id}, CSV export\\) applies: stim \\(A, stimulus\\), v_mem \\(V, response\\) at 50 kHz`);

    // the CSV with its sidecar: roles and the exact rate from it; with its events file, the run's spikes
    const csv = await importThrough([saved['CSV (all channels)'], about], applies);
    expect(csv).toMatchObject({ source: 'import', notes: `Imported from run ${id}'s export (run-${id}.csv).`, protocol: { kind: 'recording', format: 'csv', stimulusChannel: 'stim', quantity: 'current' } });
    expect(meta(csv.channels)).toEqual(meta(original.channels));
    expect(await values(csv.id, csv.channels)).toEqual(want);
    expect(original.eventCounts.spike).toBeGreaterThan(0);
    expect(csv.eventCounts.spike).toBe(0);
    const withEvents = await importThrough([saved['CSV (all channels)'], about, saved['events.csv']], new RegExp(`${applies.source}\\. run-${id}-events\\.csv: the run's spikes, markers and faults are imported with it`));
    expect(withEvents.eventCounts).toEqual(original.eventCounts);
    const spikes = async (runId: number) => (await dash.getJson(`/api/runs/${runId}/events?kind=spike`)).events.map(({ id: _id, ...e }: { id: number }) => e);
    expect(await spikes(withEvents.id)).toEqual(await spikes(id));
    // the run page counts them
    await expect.poll(() => page.textContent('[data-stat=events]'), SERVER).toMatch(new RegExp(`${original.eventCounts.spike} spike`));

    // each NPY with the same sidecar (the CSV export's): its own channel's name, unit, role and rate
    for (const [k, link] of ['stim.npy', 'v_mem.npy'].entries()) {
      const npy = await importThrough([saved[link], about], new RegExp(`${applies.source}; run-${id}-${link.replace('.', '\\.')} takes its own channel's entry`));
      expect(meta(npy.channels)).toEqual(meta([original.channels[k]]));
      expect(await values(npy.id, npy.channels)).toEqual([want[k]]);
    }

    // the NWB says it all itself: the sidecar picked with it is not sent
    const nwb = await importThrough([saved.NWB, about], new RegExp(`run-${id}\\.nwb carries its own channel names, units, roles and rate: run-${id}_about\\.json is not sent`));
    expect(meta(nwb.channels)).toEqual(meta(original.channels));
    expect(await values(nwb.id, nwb.channels)).toEqual(want);

    // the CSV alone: a hint to add the sidecar; its stimulus inferred from the export's layout, said in the notes
    const bare = await importThrough([saved['CSV (all channels)']], new RegExp(`looks like a spikeloop export: pick its run-${id}_about\\.json`));
    expect(meta(bare.channels)).toEqual(meta(original.channels));
    expect(bare.notes).toMatch(/^roles inferred: "stim" is the stimulus/);
    await expect.poll(() => page.inputValue('.annotations textarea[aria-label=Notes]'), SERVER).toMatch(/^roles inferred: "stim" is the stimulus/);
    await dash.screenshot('import-inferred.png');
    // and with "infer roles" off, every channel a response
    const plain = await importThrough([saved['CSV (all channels)']], /looks like a spikeloop export/, { inferRoles: false });
    expect(plain.channels.map((c: Channel) => c.role)).toEqual(['response', 'response']);

    // refused: a JSON that is not an export's sidecar, in the form (nothing sent); a sidecar for other files, by the server
    const count = async () => (await dash.getJson('/api/runs')).runs.length as number;
    const before = await count();
    writeFileSync(path.join(dir, 'notes_about.json'), '{"hello": 1}');
    await page.goto(`${dash.url}/#/`);
    await page.click('[data-action=import]');
    await page.setInputFiles('.import-panel input[type=file]', [saved['stim.npy'], path.join(dir, 'notes_about.json')]);
    await expect.poll(() => page.textContent('.import-panel .list-message'), SERVER).toMatch(/notes_about\.json is not a spikeloop export's _about\.json/);
    await page.click('.import-panel button[type=submit]');
    expect(await page.textContent('.import-panel .list-message')).toMatch(/notes_about\.json is not a spikeloop export's _about\.json/);
    const renamed = path.join(dir, 'renamed.npy');
    writeFileSync(renamed, readFileSync(saved['stim.npy']));
    await page.setInputFiles('.import-panel input[type=file]', [renamed, about]);
    await expect.poll(() => page.textContent('.import-panel [data-import-plan]'), SERVER).toMatch(applies);
    await page.click('.import-panel button[type=submit]');
    await expect.poll(() => page.textContent('.import-panel .list-message'), SERVER).toMatch(new RegExp(`renamed\\.npy: the sidecar describes the files run-${id}-stim\\.npy, run-${id}-v_mem\\.npy, one channel each, not renamed\\.npy`));
    expect(await count()).toBe(before);
    expect(dash.pageErrors).toEqual([]);
    await dash.screenshot('import-sidecar.png');
  });
});
