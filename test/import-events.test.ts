// A run's events, label, tags, notes and protocol come back with its export: the events export read with the
// recording (CLI beside it or --events, POST /api/import's eventsBytes), an NWB export's own events, the
// sidecar's and NWB's run metadata; an events file that is not the recording's is refused and nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore, type RunDetail, type StoredEvent } from '../server/store/run-store.ts';
import { RunManager } from '../server/runs/run-manager.ts';
import { loadSources } from '../server/sources/registry.ts';
import { importRecording, readRecording } from '../server/import/index.ts';
import { readEventsCsv } from '../server/import/events.ts';
import { EVENTS_HEADER, writeExport } from '../server/export/index.ts';
import { buildApp } from '../server/api/app.ts';
import { runCli } from './cli-helpers.ts';
import { buildServices } from '../server/services.ts';
import { newToken } from '../server/api/security.ts';

const TOKEN = newToken();
const AUTH = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let store: RunStore;
let runs: RunManager;
/** A simulated run with spikes, a marker and a fault (labels with a comma and a quote), a label, tags and notes. */
let run: RunDetail;

const cli = (args: string[]) => runCli(args, dir);

/** Events as the API lists them, without their row ids. */
const eventsOf = (s: RunStore, id: number) => s.listEvents(id, { limit: 1e6 }).map(({ id: _id, ...e }: StoredEvent) => e);
const summary = (out: string) => JSON.parse(out.trim().split('\n')[1]) as RunDetail;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-import-events-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  runs = new RunManager(store, loadSources());
  const started = await runs.start({ protocol: { kind: 'square', durationS: 0.02, frequencyHz: 200 }, source: 'simulated', sampleRate: 50_000, label: 'bench 3, cell 2' });
  await runs.waitForEnd(started.id);
  const spikes = store.getRun(started.id)!.eventCounts.spike;
  // a marker and a fault as an events export holds them: imported with the CSV of the simulated run, exported again
  const [csv] = await writeExport(store, started.id, path.join(dir, 'seed'), { format: 'csv' });
  const events = readFileSync(path.join(dir, 'seed', `run-${started.id}-events.csv`), 'utf8') + `0.0001,marker,,,"pulse ""A"", on",5\n0.0002,fault,v_mem,,overrange,10\n`;
  const sidecar = JSON.parse(readFileSync(path.join(dir, 'seed', `run-${started.id}_about.json`), 'utf8')) as unknown;
  const rec = await readRecording(readFileSync(csv.path), csv.path, { sidecar, events: { text: events, name: 'seed-events.csv' } });
  const seeded = await importRecording(runs, rec, csv.path);
  store.setTags(seeded.id, ['cell-2', 'good']);
  store.setNotes(seeded.id, 'rest 10 min before');
  run = store.getRun(seeded.id)!;
  expect(spikes).toBeGreaterThan(0);
  expect(run.eventCounts).toEqual({ spike: spikes, marker: 1, fault: 1 });
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the events export read with its recording', () => {
  const target = { channels: ['stim', 'v_mem'], samples: 100, sampleRate: 1000 };
  it('reads each kind, channel, value, label and index; a time that is index / rate is no exact time', () => {
    const ev = readEventsCsv(`${EVENTS_HEADER}\n0.005,spike,v_mem,0.9,,5\n0.0123,spike,v_mem,,,12\n0.05,marker,,,"a, ""b""",50\n`, 'e.csv', target);
    expect(Array.from(ev.kind)).toEqual([0, 0, 1]);
    expect(Array.from(ev.channel)).toEqual([1, 1, -1]);
    expect(Array.from(ev.index)).toEqual([5, 12, 50]);
    expect(Array.from(ev.timeS)).toEqual([NaN, 0.0123, NaN]);
    expect(Array.from(ev.value)).toEqual([0.9, NaN, NaN]);
    expect(ev.label).toEqual([null, null, 'a, "b"']);
  });
  it.each([
    ['an index beyond the samples', `${EVENTS_HEADER}\n0.1,spike,v_mem,,,100\n`, /e\.csv: line 2: sample index 100 is outside the recording's 100 samples/],
    ['a channel the recording lacks', `${EVENTS_HEADER}\n0.001,spike,i_out,,,1\n`, /line 2: channel "i_out" is not one of the recording's \(stim, v_mem\)/],
    ['another header', 'time,kind\n0,spike\n', /not a spikeloop events export \(its header must be time_s,kind,channel,value,label,sample_index/],
    ['an unknown kind', `${EVENTS_HEADER}\n0.001,burst,,,,1\n`, /line 2: kind "burst" is not spike, marker or fault/],
    ['an index that is not an integer', `${EVENTS_HEADER}\n0.001,spike,,,,1.5\n`, /line 2: sample index 1\.5 is outside/],
    ['a value that is not a number', `${EVENTS_HEADER}\n0.001,spike,,1 V,,1\n`, /line 2: value "1 V" is not a number/],
  ])('refuses %s naming the line (BAD_IMPORT)', (_what, text, message) => {
    expect(() => readEventsCsv(text, 'e.csv', target)).toThrow(expect.objectContaining({ code: 'BAD_IMPORT', message: expect.stringMatching(message) }));
  });
});

describe("a run's export imports back with its events, label, tags, notes and protocol", () => {
  it('CSV through the CLI (events and sidecar found beside it); NWB through the CLI (its own events)', async () => {
    const files = await writeExport(store, run.id, path.join(dir, 'out-csv'), { format: 'csv' });
    const r = await cli(['import', files[0].path, '--db', path.join(dir, 'back.db')]);
    expect(r.stderr).toBe('');
    const back = summary(r.stdout);
    expect(back).toMatchObject({ label: 'bench 3, cell 2', tags: ['cell-2', 'good'], eventCounts: run.eventCounts });
    expect(back.notes).toBe(`rest 10 min before\nImported from run ${run.id}'s export (run-${run.id}.csv).`);
    expect(back.protocol).toMatchObject({ kind: 'recording', exportedRun: { id: run.id, protocol: run.protocol } });
    const again = RunStore.open(path.join(dir, 'back.db'), { readonly: true });
    try {
      expect(eventsOf(again, back.id)).toEqual(eventsOf(store, run.id));
    } finally {
      again.close();
    }

    // NWB: spikes from /units, the marker and the fault from /acquisition/events, label, notes, tags (keywords)
    const [nwb] = await writeExport(store, run.id, path.join(dir, 'out-nwb'), { format: 'nwb' });
    rmSync(path.join(dir, 'out-nwb', `run-${run.id}-events.csv`)); // not beside it: the NWB file's own events
    const n = await cli(['import', nwb.path, '--db', path.join(dir, 'back.db')]);
    expect(n.stderr).toBe('');
    const fromNwb = summary(n.stdout);
    expect(fromNwb).toMatchObject({ label: 'bench 3, cell 2', tags: ['cell-2', 'good'], eventCounts: run.eventCounts, protocol: { exportedRun: { id: run.id, protocol: run.protocol } } });
    expect(fromNwb.notes).toBe(`rest 10 min before\nImported from run ${run.id}'s export (run-${run.id}.nwb).`);
    const nwbStore = RunStore.open(path.join(dir, 'back.db'), { readonly: true });
    try {
      // NWB keeps no spike values and no channel of a marker or fault; the stimulus is its first series, so
      // channel indices follow the file's order
      const name = (r: RunDetail, c: number | null) => (c === null ? null : r.channels.find((ch) => ch.index === c)!.name);
      const strip = (r: RunDetail, es: ReturnType<typeof eventsOf>) =>
        es.map((e) => ({ ...e, channel: e.kind === 'spike' ? name(r, e.channel) : null, value: e.kind === 'spike' ? null : e.value })).sort((a, b) => a.index - b.index || a.kind.localeCompare(b.kind));
      expect(strip(fromNwb, eventsOf(nwbStore, fromNwb.id))).toEqual(strip(run, eventsOf(store, run.id)));
    } finally {
      nwbStore.close();
    }
  });

  it('the CLI takes --events for a file under another name; refuses it with two recordings, and a mismatched one before the database exists', async () => {
    const files = await writeExport(store, run.id, path.join(dir, 'out-named'), { format: 'csv' });
    const renamed = path.join(dir, 'out-named', 'cell2.csv');
    const events = path.join(dir, 'out-named', 'cell2 spikes.csv');
    writeFileSync(renamed, readFileSync(files[0].path));
    writeFileSync(events, readFileSync(files.find((f) => f.kind === 'events')!.path));
    const about = files.find((f) => f.kind === 'sidecar')!.path;
    const r = await cli(['import', renamed, '--sidecar', about, '--events', events, '--label', 'cell 2 again', '--db', path.join(dir, 'named.db')]);
    expect(r.stderr).toBe('');
    const back = summary(r.stdout);
    expect(back).toMatchObject({ label: 'cell 2 again', tags: ['cell-2', 'good'], eventCounts: run.eventCounts });
    const two = await cli(['import', renamed, files[0].path, '--events', events, '--db', path.join(dir, 'none.db')]);
    expect(two).toMatchObject({ code: 1, stderr: expect.stringMatching(/--events names one run's events: import its recording alone \(2 files given\)/) });
    // the events of a longer run: its last spike lies beyond this recording's samples
    const bad = path.join(dir, 'out-named', 'other-events.csv');
    writeFileSync(bad, `${EVENTS_HEADER}\n1,spike,v_mem,0.5,,${run.channels[0].sampleCount + 10}\n`);
    const refused = await cli(['import', renamed, '--sidecar', about, '--events', bad, '--db', path.join(dir, 'none.db')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/other-events\.csv: line 2: sample index \d+ is outside the recording's \d+ samples; the events file is not this recording's/);
    expect(existsSync(path.join(dir, 'none.db'))).toBe(false);
  });

  it('POST /api/import takes the events export at the end of the body (eventsBytes); a mismatched one is refused and nothing stored', async () => {
    const services = buildServices({ store, instruments: false });
    const app = await buildApp({ services, webDist: false, security: { token: TOKEN } });
    try {
      const files = await writeExport(store, run.id, path.join(dir, 'out-api'), { format: 'csv' });
      const csv = readFileSync(files[0].path);
      const events = readFileSync(files.find((f) => f.kind === 'events')!.path);
      const about = readFileSync(files.find((f) => f.kind === 'sidecar')!.path, 'utf8');
      const post = (query: Record<string, string>, body: Buffer) =>
        app.inject({ method: 'POST', url: `/api/import?${new URLSearchParams(query)}`, headers: { ...AUTH, 'content-type': 'application/octet-stream' }, payload: body });
      const res = await post({ name: `run-${run.id}.csv`, sidecar: about, eventsBytes: String(events.length), events: `run-${run.id}-events.csv` }, Buffer.concat([csv, events]));
      expect(res.statusCode, res.body).toBe(201);
      const back = res.json().run as RunDetail;
      expect(back).toMatchObject({ label: 'bench 3, cell 2', tags: ['cell-2', 'good'] });
      expect(store.getRun(back.id)!.eventCounts).toEqual(run.eventCounts);
      expect(eventsOf(store, back.id)).toEqual(eventsOf(store, run.id));

      // an events file that is not this recording's: its last spike beyond the samples, a channel it lacks
      const before = store.listRuns().length;
      const beyond = Buffer.from(`${EVENTS_HEADER}\n1,spike,v_mem,,,${run.channels[0].sampleCount}\n`);
      const far = await post({ name: 'x.csv', sidecar: about, eventsBytes: String(beyond.length), events: 'other-events.csv' }, Buffer.concat([csv, beyond]));
      expect(far.statusCode).toBe(400);
      expect(far.json().error).toMatchObject({ code: 'BAD_IMPORT', field: '/body', message: expect.stringMatching(/^other-events\.csv: line 2: sample index \d+ is outside the recording's \d+ samples/) });
      const lacks = Buffer.from(`${EVENTS_HEADER}\n0,spike,i_out,,,1\n`);
      const other = await post({ name: 'x.csv', sidecar: about, eventsBytes: String(lacks.length) }, Buffer.concat([csv, lacks]));
      expect(other.json().error).toMatchObject({ code: 'BAD_IMPORT', message: expect.stringMatching(/^x\.csv events: line 2: channel "i_out" is not one of the recording's \(stim, v_mem\)/) });
      // a count larger than the body, and events named without a count
      expect((await post({ name: 'x.csv', eventsBytes: String(csv.length + 5) }, csv)).json().error).toMatchObject({ code: 'BAD_IMPORT', message: expect.stringMatching(/eventsBytes \d+ leaves no recording/) });
      expect((await post({ name: 'x.csv', events: 'e.csv' }, csv)).json().error).toMatchObject({ code: 'VALIDATION', field: '/query/eventsBytes' });
      expect(store.listRuns().length).toBe(before);
    } finally {
      await app.close();
    }
  });
});
