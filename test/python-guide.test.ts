/**
 * docs/python.md, run: every ```python block of the guide is extracted and run by /usr/bin/python3 (Debian's
 * numpy, Neo, h5py and the standard library) against a real run — its exports, its SQLite file and a
 * listening server — and what each prints is checked against the store. The guide cannot rot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore, type RunDetail } from '../server/store/run-store.ts';
import { buildServices, type Services } from '../server/services.ts';
import { buildApp, type App } from '../server/api/app.ts';
import { writeExport } from '../server/export/index.ts';
import { python } from './python.ts';
import { newToken } from '../server/api/security.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const guide = readFileSync(path.join(root, 'docs/python.md'), 'utf8');
const snippets = [...guide.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);

let dir: string;
let store: RunStore;
let services: Services;
let app: App;
let run: RunDetail;
let env: Record<string, string>;
const out: string[] = [];
let daqEvents: string;
const DAQ_SUMMARY = 'link summary: 12 frames, 0 CRC errors, 0 framing errors, 0 samples dropped, 0 duplicates ignored, 0 reconnects';

/** Physical value of sample i of channel c, read from the store. */
const value = (c: number, i: number) => {
  const ch = run.channels[c];
  const seg = store.readRaw(run.id, c, i, i + 1)[0];
  return seg.samples[0] * ch.scale + ch.offset;
};
const maxOf = (c: number) => {
  let m = -Infinity;
  for (const seg of store.readRaw(run.id, c, 0, run.channels[c].sampleCount)) for (const v of seg.samples) m = Math.max(m, v * run.channels[c].scale + run.channels[c].offset);
  return m;
};
const g6 = (x: number) => Number(x.toPrecision(6)).toString();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-pyguide-'));
  const db = path.join(dir, 'spikeloop.db');
  store = RunStore.open(db);
  services = buildServices({ store, instruments: false });
  const started = await services.runs.start({ protocol: { kind: 'square', durationS: 0.2, frequencyHz: 500 }, sampleRate: 20_000, label: 'guide' });
  await services.runs.waitForEnd(started.id);
  run = store.getRun(started.id)!;
  const exportDir = path.join(dir, 'export');
  for (const format of ['csv', 'npy', 'nwb'] as const) await writeExport(store, run.id, path.join(exportDir, format), { format });
  const token = newToken();
  app = await buildApp({ services, webDist: false, security: { token } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  env = { SPIKELOOP_EXPORT: exportDir, SPIKELOOP_RUN: String(run.id), SPIKELOOP_DB: db, SPIKELOOP_URL: url, SPIKELOOP_TOKEN: token };
  // one after the other, as a reader would (and the 2-core machine prefers)
  for (const s of snippets) out.push((await python(s, [], { cwd: dir, env })).stdout);
  // A DAQ run ends with a marker whose label holds commas (drivers/daq/source.ts, the link summary): the
  // events snippet must read its quoted label as one field. A run recorded in that stream's shape:
  const daq = store.createRun({ protocol: { kind: 'square', durationS: 0.01 }, source: 'daq', bench: {}, softwareVersion: '0.1.0' });
  const rec = store.recorder(daq);
  rec.write({ type: 'start', runId: daq, protocol: { kind: 'square', durationS: 0.01 }, source: 'daq', bench: {}, softwareVersion: '0.1.0', wallTime: '2026-03-01T10:00:00.000Z' });
  rec.write({ type: 'descriptor', channels: [{ name: 'a0', unit: 'V', sampleRate: 5000, dtype: 'int16', scale: 5 / 1024, offset: 0, role: 'response' }] });
  rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: Int16Array.from({ length: 50 }, (_, i) => (i % 10 === 3 ? 300 : 200)) });
  for (const index of [3, 13, 23]) rec.write({ type: 'event', kind: 'spike', channel: 0, index, value: 300 * (5 / 1024) });
  rec.write({ type: 'event', kind: 'marker', index: 50, label: DAQ_SUMMARY });
  rec.write({ type: 'stop', status: 'completed' });
  await writeExport(store, daq, path.join(exportDir, 'npy'), { format: 'npy' });
  daqEvents = (await python(snippets[1], [], { cwd: dir, env: { ...env, SPIKELOOP_RUN: String(daq) } })).stdout;
});
afterAll(async () => {
  await app?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/python.md', () => {
  it('has the six snippets the checks below follow (CSV, NPY, Neo, h5py, sqlite3, urllib)', () => {
    expect(snippets).toHaveLength(6);
    expect(run).toMatchObject({ status: 'completed', channels: [{ name: 'stim', sampleCount: 4000 }, { name: 'v_mem', sampleCount: 4000 }] });
    expect(run.eventCounts.spike).toBeGreaterThan(10);
  });
  it('numpy reads the CSV: rate, samples, per-channel range', () => {
    expect(out[0]).toContain('rate 20000 Hz, 4000 samples\n');
    expect(out[0]).toContain(`v_mem (V): min ${g6(0)}, max ${g6(maxOf(1))}\n`);
  });
  it('numpy reads the NPY files, the sidecar and the events', () => {
    const first = store.listEvents(run.id, { kind: 'spike', limit: 1 })[0];
    expect(out[1]).toContain(`run ${run.id} started ${run.startedAt} protocol square\n`);
    expect(out[1]).toContain('stim (A, stimulus): 4000 samples at 20000 Hz\n');
    expect(out[1]).toContain('v_mem (V, response): 4000 samples at 20000 Hz\n');
    expect(out[1]).toContain('dropped ranges: []\n');
    expect(out[1]).toContain(`${run.eventCounts.spike} spikes, first at ${g6(first.index / 20_000)} s on v_mem\n`);
    expect(out[1]).toContain('markers: []\n');
  });
  it('the events snippet reads a marker label holding commas (a DAQ run\'s link summary) as one field', () => {
    expect(daqEvents).toContain('3 spikes, first at 0.0006 s on a0\n');
    expect(daqEvents).toContain(`markers: ['${DAQ_SUMMARY}']\n`);
  });
  it('Neo reads the CSV and the NPY files with the sidecar, no typed parameter', () => {
    const lines = out[2].trim().split('\n');
    // Neo names CSV columns "Column k"; the snippet prints the sidecar's channel names beside them
    expect(lines.filter((l) => /^csv (stim|v_mem) 4000 samples at 20000(\.0)? Hz from 0(\.0)? s$/.test(l)), out[2]).toHaveLength(2);
    expect(lines).toEqual(expect.arrayContaining(['npy stim 4000 samples at 20000.0 Hz in A', 'npy v_mem 4000 samples at 20000.0 Hz in V']));
  });
  it('h5py reads the NWB file: version, protocol, series with conversion, units table', () => {
    expect(out[3]).toContain(`NWB 2.7.0 session start ${run.startedAt}\n`);
    expect(out[3]).toContain('protocol square\n');
    expect(out[3]).toContain(`acquisition/v_mem: 4000 samples at 20000.0 Hz in V, max ${g6(maxOf(1))}\n`);
    expect(out[3]).toContain(`stimulus/presentation/stim: 4000 samples at 20000.0 Hz in A, max ${g6(maxOf(0))}\n`);
    expect(out[3]).toContain(`unit 0 (v_mem): ${run.eventCounts.spike} spikes\n`);
  });
  it('the standard library reads the SQLite store: the same values', () => {
    expect(out[4]).toContain(`run ${run.id} completed `);
    expect(out[4]).toContain(`v_mem (V) at 20000.0 Hz: 4000 samples, value[2000] = ${value(1, 2000)}\n`);
    expect(out[4]).toContain(`stim (A) at 20000.0 Hz: 4000 samples, value[2000] = ${value(0, 2000)}\n`);
    expect(out[4]).toContain(`${run.eventCounts.spike} spikes\n`);
  });
  it('urllib reads the HTTP API', () => {
    const first = store.listEvents(run.id, { kind: 'spike', limit: 1 })[0];
    expect(out[5]).toContain(`run ${run.id} completed ['stim', 'v_mem']\n`);
    expect(out[5]).toContain('csv header time_s,stim (A),v_mem (V)\n');
    expect(out[5]).toContain(`first spike at sample ${first.index}\n`);
  });
});
