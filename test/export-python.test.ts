/**
 * Round trips store → export → read back by the tools labs use (Debian's numpy, Neo and h5py, run by
 * /usr/bin/python3): the values, rate, units, events and dropped ranges that come back are the store's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChannelDescriptor } from '../common/run-stream.ts';
import { RunStore } from '../server/store/run-store.ts';
import { writeExport } from '../server/export/index.ts';
import { buildApp, type App } from '../server/api/app.ts';
import { newToken } from '../server/api/security.ts';

const TOKEN = newToken();
const AUTH = { authorization: `Bearer ${TOKEN}` };
import { pythonJson } from './python.ts';

const FS = 10_000;
const N = 5000;
const CHANNELS: ChannelDescriptor[] = [
  { name: 'stim', unit: 'A', sampleRate: FS, dtype: 'int16', scale: 1e-3 / 16384, offset: 0, role: 'stimulus' },
  { name: 'v_mem', unit: 'V', sampleRate: FS, dtype: 'int16', scale: 1e-4, offset: -0.2, role: 'response' },
  { name: 'g', unit: 'S', sampleRate: FS, dtype: 'float32', scale: 1, offset: 0, role: 'response' },
];
const GAP = { channel: 1, start: 1000, end: 1100 };
const SPIKES = [120, 777, 2048, 4321];
const EXACT = 3000.37 / FS;

let dir: string;
let store: RunStore;
let runId: number;
const codes: number[][] = [];

/** Physical value of sample i of channel c as the store defines it; NaN in the dropped range. */
function physical(c: number, i: number): number {
  if (c === GAP.channel && i >= GAP.start && i < GAP.end) return NaN;
  return codes[c][i] * CHANNELS[c].scale + CHANNELS[c].offset;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-export-py-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  runId = store.createRun({ protocol: { kind: 'sine', durationS: 0.5, frequencyHz: 40 }, source: 'simulated', bench: { smu: 'virtual' }, softwareVersion: '0.1.0', label: 'round trip' });
  const rec = store.recorder(runId);
  rec.write({ type: 'start', runId, protocol: { kind: 'sine', durationS: 0.5, frequencyHz: 40 }, source: 'simulated', bench: { smu: 'virtual' }, softwareVersion: '0.1.0', wallTime: '2026-03-01T10:00:00.000Z' });
  rec.write({ type: 'descriptor', channels: CHANNELS });
  const stim = Int16Array.from({ length: N }, (_, i) => Math.round(16384 * Math.sin((2 * Math.PI * 40 * i) / FS)));
  const v = Int16Array.from({ length: N }, (_, i) => (SPIKES.includes(i) ? 12000 : (i * 37) % 4000 - 2000));
  const g = Float32Array.from({ length: N }, (_, i) => 1e-6 * (1 + i / N));
  codes.push(Array.from(stim), Array.from(v), Array.from(g));
  rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: stim });
  rec.write({ type: 'block', channel: 1, firstIndex: 0, samples: v.slice(0, GAP.start) });
  rec.write({ type: 'block', channel: 1, firstIndex: GAP.end, samples: v.slice(GAP.end) });
  rec.write({ type: 'block', channel: 2, firstIndex: 0, samples: g });
  for (const s of SPIKES) rec.write({ type: 'event', kind: 'spike', channel: 1, index: s, value: physical(1, s) });
  // a twin-located crossing: exact time between samples, index the nearest sample
  rec.write({ type: 'event', kind: 'spike', channel: 2, index: 3000, timeS: EXACT });
  rec.write({ type: 'event', kind: 'marker', index: 2500, label: 'pulse, "A"' });
  rec.write({ type: 'event', kind: 'fault', channel: 0, index: 4999, label: 'compliance' });
  rec.write({ type: 'stop', status: 'completed' });
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Python lists with None for NaN (JSON has no NaN). */
const PY_HELPERS = `
import json, sys, csv, numpy as np
def col(x): return [None if np.isnan(v) else float(v) for v in np.asarray(x, dtype=float).ravel()]
`;

function expectChannel(got: (number | null)[], c: number, tol = 0): void {
  expect(got.length).toBe(N);
  for (let i = 0; i < N; i++) {
    const want = physical(c, i);
    if (Number.isNaN(want)) expect(got[i], `${CHANNELS[c].name}[${i}]`).toBeNull();
    else if (tol === 0) expect(got[i], `${CHANNELS[c].name}[${i}]`).toBe(want);
    else expect(Math.abs(got[i]! - want), `${CHANNELS[c].name}[${i}]`).toBeLessThanOrEqual(tol);
  }
}

describe('exports read back by numpy and Neo', () => {
  it('CSV: numpy reads time and SI values exactly; Neo AsciiSignalIO finds the sidecar and gets rate and values', async () => {
    const out = path.join(dir, 'csv');
    await writeExport(store, runId, out, { format: 'csv' });
    const r = await pythonJson(
      PY_HELPERS +
        `
import neo
f = sys.argv[1]
header = open(f).readline().strip().split(',')
a = np.genfromtxt(f, delimiter=',', skip_header=1)
blk = neo.io.AsciiSignalIO(f).read_block()
sigs = blk.segments[0].analogsignals
print(json.dumps({'header': header, 'time': col(a[:, 0]), 'cols': [col(a[:, k]) for k in range(1, a.shape[1])],
  'neo': [{'rate': float(s.sampling_rate.rescale('Hz').magnitude), 't_start': float(s.t_start.rescale('s').magnitude), 'values': col(s.magnitude)} for s in sigs]}))
`,
      [path.join(out, `run-${runId}.csv`)],
    );
    expect(r.header).toEqual(['time_s', 'stim (A)', 'v_mem (V)', 'g (S)']);
    expect(r.time).toEqual(Array.from({ length: N }, (_, i) => i / FS));
    r.cols.forEach((got: (number | null)[], c: number) => expectChannel(got, c));
    expect(r.neo.map((s: { rate: number; t_start: number }) => [s.rate, s.t_start])).toEqual([[FS, 0], [FS, 0], [FS, 0]]);
    // Neo's genfromtxt reads float32: equal within half an int16 step
    r.neo.forEach((s: { values: (number | null)[] }, c: number) => expectChannel(s.values, c, c === 2 ? 1e-12 : CHANNELS[c].scale / 2));
  });

  it('NPY: numpy loads float64 SI values; Neo RawBinarySignalIO reads them with the sidecar keyword arguments; --raw gives the codes', async () => {
    for (const raw of [false, true]) {
      const out = path.join(dir, raw ? 'npy-raw' : 'npy');
      await writeExport(store, runId, out, { format: 'npy', raw });
      const r = await pythonJson(
        PY_HELPERS +
          `
import neo, os
d = sys.argv[1]
meta = json.load(open(os.path.join(d, [n for n in os.listdir(d) if n.endswith('_about.json')][0])))
out = []
for ch in meta['channels']:
    x = np.load(os.path.join(d, ch['file']))
    sig = neo.io.RawBinarySignalIO(os.path.join(d, ch['file']), **ch['neo_raw_binary']).read_block().segments[0].analogsignals[0]
    phys = x * ch['scale'] + ch['offset'] if meta['raw'] else x
    out.append({'name': ch['name'], 'unit': ch['unit'], 'dtype': x.dtype.str, 'values': col(phys), 'neo': col(sig.magnitude), 'neo_rate': float(sig.sampling_rate.magnitude)})
print(json.dumps(out))
`,
        [out],
      );
      expect(r.map((c: { name: string; unit: string }) => [c.name, c.unit])).toEqual(CHANNELS.map((c) => [c.name, c.unit]));
      r.forEach((ch: { dtype: string; values: (number | null)[]; neo: (number | null)[]; neo_rate: number }, c: number) => {
        expect(ch.dtype).toBe(raw ? (CHANNELS[c].dtype === 'int16' ? '<i2' : '<f4') : '<f8');
        expect(ch.neo_rate).toBe(FS);
        if (raw && c === GAP.channel) {
          // integer codes have no NaN: dropped samples are 0 there, and the sidecar's `dropped` says where
          const fixed = ch.values.map((v, i) => (i >= GAP.start && i < GAP.end ? (expect(v).toBe(CHANNELS[c].offset), null) : v));
          expectChannel(fixed, c);
        } else expectChannel(ch.values, c);
        const neoVals = raw && c === GAP.channel ? ch.neo.map((v, i) => (i >= GAP.start && i < GAP.end ? null : v)) : ch.neo;
        expectChannel(neoVals, c, c === 2 ? 1e-12 : CHANNELS[c].scale / 2);
      });
    }
  });

  it('events.csv and the sidecar: exact times, kinds, channels, values; rate, units, scale, protocol, start time, dropped ranges', async () => {
    const out = path.join(dir, 'meta');
    await writeExport(store, runId, out, { format: 'csv' });
    const r = await pythonJson(
      `
import csv, json, sys, os
d, run = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(os.path.join(d, f'run-{run}-events.csv'))))
meta = json.load(open(os.path.join(d, f'run-{run}_about.json')))
print(json.dumps({'rows': rows, 'meta': meta}))
`,
      [out, String(runId)],
    );
    expect(r.rows.map((e: Record<string, string>) => [Number(e.time_s), e.kind, e.channel, e.value === '' ? null : Number(e.value), e.label])).toEqual([
      ...SPIKES.slice(0, 3).map((s) => [s / FS, 'spike', 'v_mem', physical(1, s), '']),
      [2500 / FS, 'marker', '', null, 'pulse, "A"'],
      [EXACT, 'spike', 'g', null, ''],
      [SPIKES[3] / FS, 'spike', 'v_mem', physical(1, SPIKES[3]), ''],
      [4999 / FS, 'fault', 'stim', null, 'compliance'],
    ]);
    const m = r.meta;
    expect(m.sample_rate_hz).toBe(FS);
    expect(m.run).toMatchObject({ id: runId, label: 'round trip', status: 'completed', start_time: '2026-03-01T10:00:00.000Z', source: 'simulated' });
    expect(m.protocol).toEqual({ kind: 'sine', durationS: 0.5, frequencyHz: 40 });
    expect(m.bench).toEqual({ smu: 'virtual' });
    expect(m.channels.map((c: Record<string, unknown>) => [c.name, c.unit, c.role, c.scale, c.offset, c.header])).toEqual(
      CHANNELS.map((c) => [c.name, c.unit, c.role, c.scale, c.offset, `${c.name} (${c.unit})`]),
    );
    expect(m.dropped).toEqual([{ ...GAP, start_s: GAP.start / FS, end_s: GAP.end / FS }]);
  });
});

describe('NWB 2.x read back by h5py', () => {
  const NWB_CHECK = `
import h5py, json, sys, numpy as np
f = h5py.File(sys.argv[1], 'r')
s = lambda v: v.decode() if isinstance(v, bytes) else str(v)
out = {'root_attrs': {k: s(f.attrs[k]) for k in ('nwb_version', 'neurodata_type', 'namespace')}, 'object_id': 'object_id' in f.attrs,
  'required': {k: k in f for k in ('file_create_date', 'identifier', 'session_description', 'session_start_time', 'timestamps_reference_time',
    'acquisition', 'analysis', 'processing', 'stimulus', 'stimulus/presentation', 'stimulus/templates', 'general')},
  'start': s(f['session_start_time'][()]), 'protocol': json.loads(s(f['general/protocol'][()])), 'series': {}}
for path in ['acquisition/v_mem', 'acquisition/g', 'stimulus/presentation/stim']:
    g = f[path]; d = g['data']
    out['series'][path] = {'type': s(g.attrs['neurodata_type']), 'dtype': d.dtype.str, 'codes': [None if v != v else float(v) for v in d[:]],
      'unit': s(d.attrs['unit']), 'conversion': float(d.attrs['conversion']), 'offset': float(d.attrs['offset']),
      'rate': float(g['starting_time'].attrs['rate']), 'rate_dtype': g['starting_time'].attrs['rate'].dtype.kind, 't0': float(g['starting_time'][()]), 't0_unit': s(g['starting_time'].attrs['unit'])}
u = f['units']
out['units'] = {'type': s(u.attrs['neurodata_type']), 'colnames': [s(c) for c in u.attrs['colnames']], 'spike_times': u['spike_times'][:].tolist(),
  'index': u['spike_times_index'][:].tolist(), 'target': f[u['spike_times_index'].attrs['target']].name, 'channel': [s(c) for c in u['channel'][:]],
  'index_type': s(u['spike_times_index'].attrs['neurodata_type']), 'ids': u['id'][:].tolist()}
inv = f['intervals/invalid_times']
out['invalid'] = {'type': s(inv.attrs['neurodata_type']), 'start': inv['start_time'][:].tolist(), 'stop': inv['stop_time'][:].tolist(), 'channel': [s(c) for c in inv['channel'][:]]}
ev = f['acquisition/events']
out['events'] = {'type': s(ev.attrs['neurodata_type']), 'data': [s(x) for x in ev['data'][:]], 't': ev['timestamps'][:].tolist()}
print(json.dumps(out))
`;

  function checkNwb(r: any): void {
    expect(r.root_attrs).toEqual({ nwb_version: '2.7.0', neurodata_type: 'NWBFile', namespace: 'core' });
    expect(r.object_id).toBe(true);
    expect(Object.values(r.required).every(Boolean)).toBe(true);
    expect(r.start).toBe('2026-03-01T10:00:00.000Z');
    expect(r.protocol).toEqual({ kind: 'sine', durationS: 0.5, frequencyHz: 40 });
    const byPath: Record<string, number> = { 'stimulus/presentation/stim': 0, 'acquisition/v_mem': 1, 'acquisition/g': 2 };
    for (const [p, c] of Object.entries(byPath)) {
      const s = r.series[p];
      const ch = CHANNELS[c];
      expect(s).toMatchObject({ type: 'TimeSeries', dtype: ch.dtype === 'int16' ? '<i2' : '<f4', unit: ch.unit, conversion: ch.scale, offset: ch.offset, rate: FS, rate_dtype: 'f', t0: 0, t0_unit: 'seconds' });
      // the stored codes themselves, bit for bit (dropped samples are 0 and listed in invalid_times)
      const want = codes[c].map((v, i) => (c === GAP.channel && i >= GAP.start && i < GAP.end ? 0 : c === 2 ? Math.fround(v) : v));
      expect(s.codes).toEqual(want);
    }
    expect(r.units).toMatchObject({ type: 'Units', colnames: ['spike_times', 'channel'], index: [4, 5], target: '/units/spike_times', channel: ['v_mem', 'g'], index_type: 'VectorIndex', ids: [0, 1] });
    expect(r.units.spike_times).toEqual([...SPIKES.map((s) => s / FS), EXACT]);
    expect(r.invalid).toEqual({ type: 'TimeIntervals', start: [GAP.start / FS], stop: [GAP.end / FS], channel: ['v_mem'] });
    expect(r.events).toEqual({ type: 'AnnotationSeries', data: ['marker: pulse, "A"', 'fault: compliance'], t: [2500 / FS, 4999 / FS] });
  }

  it('spikeloop export --format nwb: core structure, neurodata types, codes identical to the store', async () => {
    const out = path.join(dir, 'nwb');
    const files = await writeExport(store, runId, out, { format: 'nwb' });
    expect(files.map((f) => f.kind)).toEqual(['nwb', 'events', 'sidecar']);
    checkNwb(await pythonJson(NWB_CHECK, [files[0].path]));
  });

  describe('API', () => {
    let app: App;
    beforeAll(async () => {
      app = await buildApp({ store, webDist: false, security: { token: TOKEN } });
    });
    afterAll(() => app.close());
    it('GET /api/runs/:id/export?format=nwb|npy|events|sidecar serves the same files', async () => {
      const nwb = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=nwb` });
      expect(nwb.statusCode).toBe(200);
      expect(nwb.headers['content-disposition']).toContain(`run-${runId}.nwb`);
      const file = path.join(dir, 'api.nwb');
      (await import('node:fs')).writeFileSync(file, nwb.rawPayload);
      checkNwb(await pythonJson(NWB_CHECK, [file]));
      const npy = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=npy&channel=1` });
      expect(npy.statusCode).toBe(200);
      const body = npy.rawPayload;
      const hl = body.readUInt16LE(8);
      expect(body.subarray(10, 10 + hl).toString('latin1')).toContain("'descr': '<f8'");
      const values = new Float64Array(body.buffer.slice(body.byteOffset + 10 + hl, body.byteOffset + body.length));
      expect(Array.from(values, (v) => (Number.isNaN(v) ? null : v))).toEqual(Array.from({ length: N }, (_, i) => (Number.isNaN(physical(1, i)) ? null : physical(1, i))));
      const events = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=events` });
      expect(events.body.split('\n')[0]).toBe('time_s,kind,channel,value,label,sample_index');
      const side = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=sidecar` });
      expect(side.json()).toMatchObject({ sample_rate_hz: FS, usecols: [1, 2, 3], dropped: [GAP] });
      const bad = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=csv&raw=true` });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'VALIDATION', field: '/query/raw', message: '/query/raw: applies to format npy only' });
      // sidecarFor, like raw, is refused where it does nothing (a CSV asked for with it was sent as if it were not there)
      const stray = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=csv&sidecarFor=npy` });
      expect(stray.statusCode).toBe(400);
      expect(stray.json().error).toMatchObject({ code: 'VALIDATION', field: '/query/sidecarFor', message: '/query/sidecarFor: applies to format sidecar only' });
      const rawNpy = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?format=npy&channel=1&raw=true` });
      expect(rawNpy.rawPayload.subarray(10, 10 + rawNpy.rawPayload.readUInt16LE(8)).toString('latin1')).toContain("'descr': '<i2'");
    });

    it('CSV, NPY and events made on a pool thread (the store is a file) are the bytes of the files spikeloop export writes; mixed rates refused before the answer starts', async () => {
      const files = await writeExport(store, runId, path.join(dir, 'api-csv'), { format: 'csv' });
      const npyFiles = await writeExport(store, runId, path.join(dir, 'api-npy'), { format: 'npy' });
      const get = (q: string) => app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/export?${q}` });
      expect((await get('format=csv')).rawPayload.equals(readFileSync(files.find((f) => f.kind === 'csv')!.path))).toBe(true);
      expect((await get('format=events')).rawPayload.equals(readFileSync(files.find((f) => f.kind === 'events')!.path))).toBe(true);
      expect((await get('format=npy&channel=2')).rawPayload.equals(readFileSync(npyFiles.find((f) => f.path.endsWith('-g.npy'))!.path))).toBe(true);
      const mixed = store.createRun({ protocol: { kind: 'dc', durationS: 0.1 }, source: 'simulated', bench: null, softwareVersion: '0.1.0' });
      const rec = store.recorder(mixed);
      rec.write({ type: 'descriptor', channels: [CHANNELS[0], { ...CHANNELS[1], sampleRate: FS / 2 }] });
      rec.write({ type: 'stop', status: 'completed' });
      const refused = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${mixed}/export?format=csv` });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('EXPORT_RATES_DIFFER');
      // an error, not a file: a browser following the export link shows it instead of saving it as run-<id>.csv
      expect(refused.headers['content-disposition']).toBeUndefined();
      expect(app.spikeloop.heavy.running).toBe(0);
    });

    // 2e6 rows: about 60 MB of CSV, far more than an answer reads ahead of its client (16 chunks of 256 KiB and the socket's buffers)
    let big: number | undefined;
    let base = '';
    async function bigRun(): Promise<number> {
      if (big !== undefined) return big;
      big = store.createRun({ protocol: { kind: 'dc', durationS: 200 }, source: 'simulated', bench: null, softwareVersion: '0.1.0' });
      const rec = store.recorder(big);
      rec.write({ type: 'descriptor', channels: CHANNELS });
      for (let a = 0; a < 2_000_000; a += 65536) for (let c = 0; c < 3; c++) rec.write({ type: 'block', channel: c, firstIndex: a, samples: c < 2 ? new Int16Array(65536).fill(c + a / 65536) : new Float32Array(65536).fill(a) });
      rec.write({ type: 'stop', status: 'completed' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      return big;
    }
    it('an export the disk beside the database has no room for is refused (507 DISK_FULL) before the answer starts, leaving no file', async () => {
      // a store whose disk margin is beyond any free space
      const fullDir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-export-full-'));
      const full = RunStore.open(path.join(fullDir, 'runs.db'), { diskMarginBytes: Number.MAX_SAFE_INTEGER });
      const id = full.createRun({ protocol: { kind: 'dc', durationS: 0.1 }, source: 'simulated', bench: null, softwareVersion: '0.1.0' });
      const rec = full.recorder(id);
      rec.write({ type: 'descriptor', channels: CHANNELS });
      rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(100) });
      rec.write({ type: 'stop', status: 'completed' });
      const fullApp = await buildApp({ store: full, webDist: false, security: { token: TOKEN } });
      try {
        const r = await fullApp.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${id}/export?format=csv` });
        expect(r.statusCode).toBe(507);
        expect(r.json().error.code).toBe('DISK_FULL');
        expect(r.headers['content-disposition']).toBeUndefined();
        expect(readdirSync(fullDir).filter((f) => f.includes('.scratch-'))).toEqual([]);
        expect(fullApp.spikeloop.heavy.running).toBe(0);
      } finally {
        await fullApp.close();
        full.close();
        rmSync(fullDir, { recursive: true, force: true });
      }
    });

    /** The temporary export files beside the database. */
    const temporary = () => readdirSync(dir).filter((f) => f.includes('.scratch-'));

    it('a client that leaves a CSV download frees its pool thread, its place among the heavy requests and its temporary file', async () => {
      const id = await bigRun();
      const ac = new AbortController();
      const res = await fetch(`${base}/api/runs/${id}/export?format=csv`, { headers: AUTH, signal: ac.signal });
      expect((await res.body!.getReader().read()).value!.length).toBeGreaterThan(0);
      expect(temporary()).toHaveLength(1);
      ac.abort();
      await expect.poll(() => app.spikeloop.heavy.running, { timeout: 10_000 }).toBe(0);
      await expect.poll(() => app.spikeloop.local.pending, { timeout: 10_000 }).toBe(0);
      await expect.poll(temporary, { timeout: 10_000 }).toEqual([]);
    });

    it('clients that stop reading hold no thread: with every heavy place once taken by a paused download, another download and an analysis are served; the paused files arrive whole', async () => {
      const id = await bigRun();
      const want = readFileSync((await writeExport(store, id, path.join(dir, 'api-big'), { format: 'csv' }))[0].path);
      const download = () => fetch(`${base}/api/runs/${id}/export?format=csv`, { headers: AUTH });
      // as many downloads as there are heavy places, each read once, then left unread (a client on a slow link)
      const paused = await Promise.all(Array.from({ length: app.spikeloop.heavy.limit }, async () => {
        const res = await download();
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        return { reader, first: (await reader.read()).value! };
      }));
      // the threads write the files at full speed: their places come back while the clients still read nothing
      await expect.poll(() => app.spikeloop.heavy.running, { timeout: 60_000, interval: 100 }).toBe(0);
      const third = await download();
      expect(third.status).toBe(200);
      expect(Buffer.from(await third.arrayBuffer()).equals(want)).toBe(true);
      const analysis = await fetch(`${base}/api/analysis/resonance`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ points: [{ frequency: 1, response: 1 }, { frequency: 2, response: 5 }, { frequency: 3, response: 2 }] }),
      });
      expect(analysis.status).toBe(200);
      for (const { reader, first } of paused) {
        const parts: Uint8Array[] = [first];
        for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
        expect(Buffer.concat(parts).equals(want)).toBe(true);
      }
      await expect.poll(temporary, { timeout: 10_000 }).toEqual([]);
    }, 180_000);
  });
});
