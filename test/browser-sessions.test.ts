/**
 * The Sessions page in headless Chromium (Debian's, via playwright-core) against the real server on the
 * virtual bench: three runs made through the API (a square-wave run paired with the LIF twin, an I-V sweep,
 * a DC step), tagged and annotated; on the page they are filtered by protocol kind, notes text, tag, source
 * and created date; a run's details show its linked twin run and stored analyses; notes are edited from the
 * page; its CSV and a plot's PNG are downloaded and checked (CSV header, PNG signature and size). Screenshot:
 * test/artifacts/sessions.png.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1280, height: 1100, acceptDownloads: true });
const ids = { square: 0, iv: 0, dc: 0, twin: 0 };

const call = async (method: string, url: string, body?: unknown) => {
  const r = await fetch(`${dash.url}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as any;
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};
const start = async (protocol: object, label: string) => (await call('POST', '/api/runs', { protocol, sampleRate: 10_000, label })).run.id as number;
/** The run ids listed on the page, ascending. */
const listed = () => dash.page.$$eval('table.sessions-runs tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.runId)).sort((a, b) => a - b));
async function waitCompleted(id: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await call('GET', `/api/runs/${id}`)).run.status;
    if (status === 'completed') return;
    if (status !== 'running' || Date.now() > deadline) throw new Error(`run ${id} ended ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const localDay = (offsetDays = 0) => {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

// After the fixture's beforeAll (hooks run in the order they are registered).
beforeAll(async () => {
  ids.square = await start({ kind: 'square', durationS: 0.3 }, 'adaptive-LIF square');
  ids.iv = await start({ kind: 'iv-sweep', peak: 1, periodS: 0.2, cycles: 1 }, 'hysteresis');
  ids.dc = await start({ kind: 'dc', durationS: 0.1 }, 'baseline');
  for (const id of [ids.square, ids.iv, ids.dc]) await waitCompleted(id);
  await call('PUT', `/api/runs/${ids.square}/tags`, { tags: ['device-7', 'lif'] });
  await call('PUT', `/api/runs/${ids.iv}/tags`, { tags: ['device-7'] });
  await call('PUT', `/api/runs/${ids.iv}/notes`, { notes: 'pinched loop at 1 V' });
  ids.twin = (await call('POST', `/api/runs/${ids.square}/pair`, { circuit: 'lif' })).twinRunId;
}, 120_000);

describe('sessions page', () => {
  it('filters runs, shows details with the linked twin and analyses, edits notes, exports CSV and PNG', { timeout: 90_000 }, async () => {
    const { page } = dash;
    const all = [ids.square, ids.iv, ids.dc, ids.twin].sort((a, b) => a - b);
    await page.goto(`${dash.url}/#/sessions`);
    await expect.poll(listed).toEqual(all);

    // Protocol kind (and the filters go into the address)
    await expect.poll(() => page.$$eval('select[data-filter=kind] option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('iv-sweep');
    await page.selectOption('select[data-filter=kind]', 'iv-sweep');
    await expect.poll(listed).toEqual([ids.iv]);
    expect(page.url()).toMatch(/#\/sessions\?kind=iv-sweep$/);
    await page.selectOption('select[data-filter=kind]', 'square');
    await expect.poll(listed).toEqual([ids.square, ids.twin].sort((a, b) => a - b));
    await page.click('[data-action=clear-filters]');
    await expect.poll(listed).toEqual(all);

    // Notes text, tag, source, status
    await page.fill('input[data-filter=notes]', 'pinched');
    await expect.poll(listed).toEqual([ids.iv]);
    await page.fill('input[data-filter=notes]', '');
    await page.fill('input[data-filter=tag]', 'device-7');
    await expect.poll(listed).toEqual([ids.square, ids.iv]);
    await page.fill('input[data-filter=tag]', '');
    await page.selectOption('select[data-filter=source]', 'twin');
    await expect.poll(listed).toEqual([ids.twin]);
    await page.click('[data-action=clear-filters]');
    await page.selectOption('select[data-filter=status]', 'aborted');
    await expect.poll(listed).toEqual([]);
    expect(await page.textContent('[data-sessions-message]')).toBe('No runs match these filters.');
    await page.click('[data-action=clear-filters]');

    // Created date range: from tomorrow → none; today..today → all; from after to → refused on the page
    await page.fill('input[data-filter=from]', localDay(1));
    await expect.poll(listed).toEqual([]);
    await page.fill('input[data-filter=from]', localDay(0));
    await page.fill('input[data-filter=to]', localDay(0));
    await expect.poll(listed).toEqual(all);
    await page.fill('input[data-filter=to]', localDay(-1));
    await expect.poll(() => page.textContent('[data-sessions-message]')).toMatch(/date range is empty/);
    await page.click('[data-action=clear-filters]');
    await expect.poll(listed).toEqual(all);

    // The listed runs as a CSV table (tag filter: the two device-7 runs)
    await page.fill('input[data-filter=tag]', 'device-7');
    await expect.poll(listed).toEqual([ids.square, ids.iv]);
    const [list] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=list-csv]')]);
    const rows = readFileSync(await list.path(), 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe('id,status,reason,label,protocol_kind,protocol,source,created_at,ended_at,linked_run_id,tags,notes');
    expect(rows.slice(1).map((r) => Number(r.split(',')[0])).sort((a, b) => a - b)).toEqual([ids.square, ids.iv]);
    expect(rows.find((r) => r.startsWith(`${ids.iv},`))).toMatch(/,iv-sweep,"\{""kind"":""iv-sweep"".*,device-7,pinched loop at 1 V$/);
    await page.click('[data-action=clear-filters]');
    await expect.poll(listed).toEqual(all);

    // Details of the measured run: its twin run and its stored analyses
    await page.click(`table.sessions-runs tr[data-run-id="${ids.square}"]`);
    await page.waitForSelector(`.session-card[data-run-id="${ids.square}"]`);
    expect(await page.textContent(`[data-linked=child][data-run-id="${ids.twin}"]`)).toMatch(new RegExp(`Twin run #${ids.twin}`));
    const stored = (await call('GET', `/api/runs/${ids.square}/analyses`)).analyses as { name: string }[];
    expect(stored.length).toBeGreaterThan(0);
    const shownAnalyses = await page.$$eval('[data-section=analyses] tr[data-analysis]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.analysis));
    expect(shownAnalyses).toEqual(stored.map((a) => a.name));
    expect(page.url()).toContain(`run=${ids.square}`);

    // Notes edited on the page are stored and searchable
    await page.fill('textarea[data-edit=notes]', 'clean adaptation, keep');
    await page.click('[data-action=save-annotations]');
    await expect.poll(() => page.textContent('[data-saved]')).toBe('saved');
    expect((await call('GET', `/api/runs/${ids.square}`)).run.notes).toBe('clean adaptation, keep');
    await page.fill('input[data-filter=notes]', 'adaptation');
    await expect.poll(listed).toEqual([ids.square]);

    // CSV export of the run
    await page.waitForSelector('.session-card .exports a');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.session-card .exports a:text("CSV")')]);
    const csvText = readFileSync(await csv.path()).toString('utf8');
    const run = (await call('GET', `/api/runs/${ids.square}`)).run as {
      channels: { name: string; unit: string; sampleCount: number }[];
    };
    const lines = csvText.trimEnd().split('\n');
    expect(lines[0]).toBe(`time_s,${run.channels.map((c) => `${c.name} (${c.unit})`).join(',')}`);
    expect(lines.length - 1).toBe(Math.max(...run.channels.map((c) => c.sampleCount)));

    // PNG of a plot
    await page.waitForSelector('.session-card .plot canvas');
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('.session-card .plot button[data-action=png] >> nth=0')]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
    const bytes = readFileSync(await png.path());
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
    const canvasSize = await page.$eval('.session-card .plot canvas', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    expect(bytes.readUInt32BE(16)).toBe(canvasSize[0]);
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(canvasSize[1]); // plus the title band

    await dash.screenshot('sessions.png', { fullPage: true });

    // Every uPlot chart has one, e.g. the compare page's overlays and histograms
    await page.goto(`${dash.url}/#/compare/${ids.square}`);
    await page.waitForSelector('#compare-body .uplot canvas', { timeout: 30_000 });
    await expect.poll(async () => (await page.$$('#compare-body .uplot')).length === (await page.$$('#compare-body .uplot .plot-png')).length).toBe(true);
    const [png2] = await Promise.all([page.waitForEvent('download'), page.click('#compare-body .uplot .plot-png >> nth=-1')]);
    expect([...readFileSync(await png2.path()).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png2.suggestedFilename()).toMatch(/\.png$/);

    // A bookmarked search opens with its filters and the picked run
    await page.goto(`${dash.url}/#/sessions?tag=lif&run=${ids.iv}`);
    await page.reload();
    await expect.poll(listed).toEqual([ids.square]);
    await page.waitForSelector(`.session-card[data-run-id="${ids.iv}"]`);
    expect(await page.inputValue('input[data-filter=tag]')).toBe('lif');

    // Pages of `limit` runs, the next one appended by "Show more"
    await page.goto(`${dash.url}/#/sessions?limit=3`);
    await page.reload();
    await expect.poll(listed).toEqual(all.slice(1));
    await page.click('[data-action=more]');
    await expect.poll(listed).toEqual(all);
    expect(await page.isHidden('[data-action=more]')).toBe(true);
    expect(dash.pageErrors).toEqual([]);
  });
});
