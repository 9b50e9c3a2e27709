import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChannelDescriptor, SampleArray } from '../../common/run-stream.ts';
import { RunStore, StoreError, type Envelope, type RunInit } from './run-store.ts';
import { BUCKET, pixelEdges } from './pyramid.ts';
import { SCHEMA_VERSION, migrate } from './schema.ts';
import { Rng } from '../../common/random.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'spikeloop-store-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const INIT: RunInit = { protocol: { kind: 'dc_step', level: 1 }, source: 'simulated', bench: { smu: 'virtual' }, softwareVersion: '0.1.0' };
const chan = (over: Partial<ChannelDescriptor> = {}): ChannelDescriptor => ({
  name: 'v',
  unit: 'V',
  sampleRate: 1e6,
  dtype: 'int16',
  scale: 1e-3,
  offset: 0.5,
  role: 'response',
  ...over,
});

/** Index of the first element where a and b differ (NaN equals NaN), -1 if none; lengths must match. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(code);
    return;
  }
  throw new Error(`expected StoreError ${code}`);
}

/** A random signal with gaps, delivered in random-sized blocks. `present[i]` is 1 where sample i exists. */
function makeSignal(n: number, seed: number, Ctor: { new (n: number): SampleArray }) {
  const r = new Rng(seed);
  const values = new Ctor(n);
  const present = new Uint8Array(n);
  const blocks: { firstIndex: number; samples: SampleArray }[] = [];
  // Gaps: none at 0, one inside a level-1 bucket, one across level-1 buckets, one across level-3 buckets.
  const gaps: [number, number][] = [
    [1000, 1010],
    [70_000, 70_200],
    [300_000, 300_000 + 3 * BUCKET[3]! + 17],
    [n - 50_000, n - 49_990],
  ];
  let walk = 0;
  for (let i = 0; i < n; i++) {
    walk += (r.next() - 0.5) * 400;
    if (walk > 30000 || walk < -30000) walk *= 0.5;
    values[i] = Math.round(walk + (r.next() < 0.001 ? 20000 * (r.next() - 0.5) : 0));
  }
  let i = 0;
  while (i < n) {
    const gap = gaps.find(([a]) => a === i);
    if (gap) {
      i = gap[1];
      continue;
    }
    const nextGap = gaps.find(([a]) => a > i)?.[0] ?? n;
    const len = Math.min(nextGap - i, 1 + Math.floor(r.next() * 9000));
    blocks.push({ firstIndex: i, samples: values.slice(i, i + len) });
    present.fill(1, i, i + len);
    i += len;
  }
  return { values, present, blocks, gaps };
}

/** Brute-force min/max per pixel over the present samples below `extent`, with the envelope's pixel edges. */
function bruteEnvelope(env: Envelope, values: SampleArray, present: Uint8Array, extent: number, scale: number, offset: number) {
  const min = new Float64Array(env.pixels).fill(NaN);
  const max = new Float64Array(env.pixels).fill(NaN);
  for (let p = 0; p < env.pixels; p++) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = env.edges[p]!; i < env.edges[p + 1]! && i < extent; i++) {
      if (!present[i]) continue;
      const v = values[i]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mn <= mx) {
      const a = mn * scale + offset;
      const b = mx * scale + offset;
      min[p] = Math.min(a, b);
      max[p] = Math.max(a, b);
    }
  }
  return { min, max };
}

function checkEnvelopes(store: RunStore, runId: number, sig: ReturnType<typeof makeSignal>, extent: number, d: ChannelDescriptor, seed: number) {
  const r = new Rng(seed);
  const n = sig.values.length;
  const ranges: [number, number, number][] = [
    [0, n, 2000],
    [0, n, 1],
    [0, n, 10000],
    [0, extent, 777],
    [Math.max(0, extent - 3000), extent + 5000, 300], // the uncommitted / partial tail
    [299_000, 301_000 + 3 * BUCKET[3]!, 500], // across the large gap
    [69_990, 70_300, 1000], // more pixels than samples
    [5, 6, 1],
  ];
  for (let k = 0; k < 12; k++) {
    const a = Math.floor(r.next() * n);
    const b = a + 1 + Math.floor(r.next() * (n - a));
    ranges.push([a, b, 1 + Math.floor(r.next() * 3000)]);
  }
  for (const [a, b, px] of ranges) {
    const env = store.readEnvelope(runId, 0, a, b, px);
    expect(env.edges).toEqual(pixelEdges(a, b, px));
    // Cost proportional to the pixels, not the range: < FACTOR buckets per pixel in the middle (< 64 raw
    // samples when reading level 0), plus a bounded number at the two ends and in the unbuilt tail
    // (< 3 * (FACTOR + 1) per level and 3 * 64 raw samples).
    const perPixel = env.level === 0 ? 64 : 8;
    expect(env.itemsRead, `items read for [${a}, ${b}) at ${px} px`).toBeLessThanOrEqual(perPixel * px + 3 * 9 * 7 + 3 * 64);
    expect(BUCKET[env.level]!).toBeLessThanOrEqual(Math.max(1, (b - a) / px));
    const want = bruteEnvelope(env, sig.values, sig.present, extent, d.scale, d.offset);
    expect(firstDiff(env.min, want.min), `min of [${a}, ${b}) at ${px} px`).toBe(-1);
    expect(firstDiff(env.max, want.max), `max of [${a}, ${b}) at ${px} px`).toBe(-1);
  }
}

describe('RunStore', () => {
  it('records blocks with gaps as dropped ranges and reads raw samples back bit-exact', () => {
    const store = RunStore.open(file);
    const id = store.createRun({ ...INIT, label: 'gaps' });
    const rec = store.recorder(id);
    rec.write({ type: 'start', runId: id, protocol: INIT.protocol, source: 'simulated', bench: INIT.bench, softwareVersion: '0.1.0', wallTime: '2026-01-01T00:00:00.000Z' });
    rec.write({ type: 'descriptor', channels: [chan(), chan({ name: 'i', dtype: 'float32', unit: 'A', scale: 1, offset: 0 })] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([1, 2, 3]) });
    rec.write({ type: 'block', channel: 0, firstIndex: 10, samples: new Int16Array([4, 5]) });
    rec.write({ type: 'block', channel: 0, firstIndex: 12, samples: new Int16Array([6]) });
    rec.write({ type: 'block', channel: 1, firstIndex: 5, samples: new Float32Array([0.5, -0.25]) });
    rec.write({ type: 'block', channel: 0, firstIndex: 100_000, samples: new Int16Array([7, 8]) });
    expectCode(() => rec.write({ type: 'block', channel: 0, firstIndex: 100_001, samples: new Int16Array([9]) }), 'BAD_BLOCK');
    expectCode(() => rec.write({ type: 'block', channel: 0, firstIndex: 200_000, samples: new Float32Array([9]) }), 'BAD_BLOCK');
    expectCode(() => rec.write({ type: 'block', channel: 7, firstIndex: 0, samples: new Int16Array([9]) }), 'BAD_BLOCK');
    rec.write({ type: 'event', kind: 'marker', index: 11, label: 'pulse' });
    rec.write({ type: 'event', kind: 'spike', channel: 0, index: 2, value: 0.003 });
    rec.write({ type: 'stop', status: 'completed', reason: 'done' });
    expectCode(() => rec.write({ type: 'block', channel: 0, firstIndex: 200_000, samples: new Int16Array([1]) }), 'BAD_STREAM');

    const run = store.getRun(id)!;
    expect(run.status).toBe('completed');
    expect(run.reason).toBe('done');
    expect(run.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(run.endedAt).not.toBeNull();
    expect(run.channels.map((c) => [c.name, c.dtype, c.sampleCount])).toEqual([
      ['v', 'int16', 100_002],
      ['i', 'float32', 7],
    ]);
    expect(run.dropped).toEqual([
      { channel: 0, start: 3, end: 10 },
      { channel: 0, start: 13, end: 100_000 },
      { channel: 1, start: 0, end: 5 },
    ]);
    expect(run.eventCounts).toEqual({ spike: 1, marker: 1, fault: 0 });
    expect(store.listEvents(id).map((e) => [e.kind, e.index, e.label, e.value, e.channel])).toEqual([
      ['spike', 2, null, 0.003, 0],
      ['marker', 11, 'pulse', null, null],
    ]);
    expect(store.listEvents(id, { kind: 'marker', start: 5, end: 20 })).toHaveLength(1);

    const raw = store.readRaw(id, 0, 0, 200_000);
    expect(raw.map((s) => [s.start, Array.from(s.samples)])).toEqual([
      [0, [1, 2, 3]],
      [10, [4, 5, 6]],
      [100_000, [7, 8]],
    ]);
    expect(raw[0]!.samples).toBeInstanceOf(Int16Array);
    expect([...store.iterateRaw(id, 0, 1, 100_001)].map((c) => [c.start, Array.from(c.samples)])).toEqual([
      [1, [2, 3]],
      [10, [4, 5, 6]],
      [100_000, [7]],
    ]);
    const f = store.readRaw(id, 1, 6, 7);
    expect(f).toHaveLength(1);
    expect(f[0]!.start).toBe(6);
    expect(Array.from(f[0]!.samples)).toEqual([-0.25]);
    store.close();
  });

  it('many full rows, committed in between (their buffers reused for the next rows), read back bit-exact', () => {
    const store = RunStore.open(file);
    const id = store.createRun({ ...INIT, label: 'rows' });
    const rec = store.recorder(id);
    rec.write({ type: 'start', runId: id, protocol: INIT.protocol, source: 'simulated', bench: INIT.bench, softwareVersion: '0.1.0', wallTime: '2026-01-01T00:00:00.000Z' });
    rec.write({ type: 'descriptor', channels: [chan()] });
    // 7.5 rows of 65536 samples in blocks of 5000, a commit after every block
    const n = 491_520;
    const value = (k: number) => ((k * 7919) % 65_521) - 32_760;
    for (let first = 0; first < n; first += 5000) {
      const block = Int16Array.from({ length: Math.min(5000, n - first) }, (_, j) => value(first + j));
      rec.write({ type: 'block', channel: 0, firstIndex: first, samples: block });
      rec.flush();
    }
    rec.write({ type: 'stop', status: 'completed' });
    const got = new Int16Array(n);
    for (const s of store.readRaw(id, 0, 0, n)) got.set(s.samples as Int16Array, s.start);
    let bad = -1;
    for (let k = 0; k < n && bad < 0; k++) if (got[k] !== value(k)) bad = k;
    expect(bad).toBe(-1);
    store.close();
  });

  it('envelopes equal brute-force min/max per pixel: finished run, live run and a reader of a live file', () => {
    const n = 700_000;
    const d = chan({ scale: -2e-3, offset: 0.25 });
    const sig = makeSignal(n, 42, Int16Array);
    const store = RunStore.open(file, { commitIntervalMs: 3_600_000 });
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [{ ...d, sampleRate: 1e9 }] });
    // Live: commit about half, then keep writing without committing. The store (same connection) and
    // a read-only store (another connection) see only the committed part, whose pyramid tail is unbuilt.
    const half = Math.floor(sig.blocks.length / 2);
    sig.blocks.slice(0, half).forEach((b) => rec.write({ type: 'block', channel: 0, ...b }));
    rec.flush();
    const extent = store.getRun(id)!.channels[0]!.sampleCount;
    const last = sig.blocks[half - 1]!;
    expect(extent).toBe(last.firstIndex + last.samples.length);
    sig.blocks.slice(half).forEach((b) => rec.write({ type: 'block', channel: 0, ...b }));
    const ro = RunStore.open(file, { readonly: true });
    expect(ro.getRun(id)!.status).toBe('running');
    checkEnvelopes(store, id, sig, extent, d, 1);
    checkEnvelopes(ro, id, sig, extent, d, 2);
    // Finished: partial buckets sealed at stop.
    rec.write({ type: 'stop', status: 'completed' });
    expect(store.getRun(id)!.dropped.map((g) => [g.start, g.end])).toEqual(sig.gaps);
    checkEnvelopes(store, id, sig, n, d, 3);
    // Streaming the raw samples row by row gives back exactly the present samples, in order.
    let seen = 0;
    let expectNext = 0;
    for (const c of store.iterateRaw(id, 0, 0, n)) {
      expect(c.start).toBeGreaterThanOrEqual(expectNext);
      for (let i = expectNext; i < c.start; i++) expect(sig.present[i]).toBe(0);
      expect(firstDiff(c.samples, sig.values.subarray(c.start, c.start + c.samples.length))).toBe(-1);
      seen += c.samples.length;
      expectNext = c.start + c.samples.length;
    }
    expect(seen).toBe(sig.present.reduce((a, b) => a + b, 0));
    ro.close();
    store.close();
  });

  it('float channels: envelopes match brute force and NaN samples count as no value', () => {
    const n = 200_000;
    const r = new Rng(7);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = i % 5000 < 100 ? NaN : Math.sin(i / 300) + r.next() * 0.1;
    const present = new Uint8Array(n).fill(1);
    const store = RunStore.open(file);
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    const d = chan({ dtype: 'float64', scale: 1, offset: 0 });
    rec.write({ type: 'descriptor', channels: [d] });
    for (let i = 0; i < n; i += 4096) rec.write({ type: 'block', channel: 0, firstIndex: i, samples: values.slice(i, i + 4096) });
    rec.write({ type: 'stop', status: 'completed' });
    for (const [a, b, px] of [[0, n, 1000], [0, 100, 100], [4990, 5200, 7], [0, n, 3]] as const) {
      const env = store.readEnvelope(id, 0, a, b, px);
      const want = bruteEnvelope(env, values, present, n, 1, 0);
      expect(firstDiff(env.min, want.min)).toBe(-1);
      expect(firstDiff(env.max, want.max)).toBe(-1);
    }
    store.close();
  });

  it('uint16 and int32 channels: envelopes match brute force', () => {
    const n = 150_000;
    const r = new Rng(11);
    const u = new Uint16Array(n).map(() => Math.floor(r.next() * 65536));
    const w = new Int32Array(n).map(() => Math.floor((r.next() - 0.5) * 2 ** 31));
    const present = new Uint8Array(n).fill(1);
    const store = RunStore.open(file);
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    const du = chan({ name: 'u', dtype: 'uint16', scale: 0.5, offset: -3 });
    const dw = chan({ name: 'w', dtype: 'int32', scale: 1e-9, offset: 0 });
    rec.write({ type: 'descriptor', channels: [du, dw] });
    for (let i = 0; i < n; i += 3000) {
      rec.write({ type: 'block', channel: 0, firstIndex: i, samples: u.slice(i, i + 3000) });
      rec.write({ type: 'block', channel: 1, firstIndex: i, samples: w.slice(i, i + 3000) });
    }
    rec.write({ type: 'stop', status: 'completed' });
    for (const [ch, values, d] of [[0, u, du], [1, w, dw]] as const) {
      for (const [a, b, px] of [[0, n, 500], [777, 100_000, 1234], [5000, 5100, 3]] as const) {
        const env = store.readEnvelope(id, ch, a, b, px);
        const want = bruteEnvelope(env, values, present, n, d.scale, d.offset);
        expect(firstDiff(env.min, want.min)).toBe(-1);
        expect(firstDiff(env.max, want.max)).toBe(-1);
      }
    }
    store.close();
  });

  it('validates ranges and reports unknown runs and channels', () => {
    const store = RunStore.open(file);
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    expectCode(() => rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(1) }), 'BAD_STREAM');
    rec.write({ type: 'descriptor', channels: [chan()] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(100) });
    rec.flush();
    expectCode(() => store.readEnvelope(id, 0, 10, 10, 5), 'BAD_RANGE');
    expectCode(() => store.readEnvelope(id, 0, 0, 10, 0), 'BAD_RANGE');
    expectCode(() => store.readEnvelope(id, 0, 0, 10, 10001), 'BAD_RANGE');
    expectCode(() => store.readEnvelope(id, 0, 0.5, 10, 5), 'BAD_RANGE');
    expectCode(() => store.readRaw(id, 0, -1, 10), 'BAD_RANGE');
    expectCode(() => store.readEnvelope(id, 0, 0, 2 ** 53, 10), 'BAD_RANGE');
    expectCode(() => store.readEnvelope(id, 3, 0, 10, 5), 'CHANNEL_NOT_FOUND');
    expectCode(() => store.readRaw(999, 0, 0, 10), 'RUN_NOT_FOUND');
    expectCode(() => store.recorder(id), 'RUN_ACTIVE');
    expectCode(() => store.recorder(999), 'RUN_NOT_FOUND');
    expectCode(() => RunStore.open(file), 'STORE_LOCKED');
    rec.write({ type: 'stop', status: 'aborted', reason: 'user' });
    expectCode(() => store.recorder(id), 'RUN_FINISHED');
    expect(store.getRun(id)!.status).toBe('aborted');
    expect(store.getRun(999)).toBeUndefined();
    store.close();
    expectCode(() => store.listRuns(), 'STORE_CLOSED');
  });

  it('notes, tags, search and listing', () => {
    const store = RunStore.open(file);
    const a = store.createRun({ ...INIT, label: 'first memristor' });
    const b = store.createRun({ ...INIT, protocol: { kind: 'iv_sweep' }, label: 'second', linkedRunId: a });
    store.recorder(b).write({ type: 'stop', status: 'failed', reason: 'compliance' });
    store.setNotes(a, 'forming at 2.1 V, 100% of cells');
    store.setTags(a, ['forming', ' batch-7 ', 'forming', '']);
    store.setTags(b, ['batch-7']);
    expect(store.getRun(a)!.notes).toBe('forming at 2.1 V, 100% of cells');
    expect(store.getRun(a)!.tags).toEqual(['batch-7', 'forming']);
    expect(store.getRun(b)!.linkedRunId).toBe(a);
    expect(store.listRuns().map((r) => r.id)).toEqual([b, a]);
    expect(store.listRuns({ tag: 'forming' }).map((r) => r.id)).toEqual([a]);
    expect(store.listRuns({ tag: 'batch-7' }).map((r) => r.id)).toEqual([b, a]);
    expect(store.listRuns({ status: 'failed' }).map((r) => r.id)).toEqual([b]);
    expect(store.listRuns({ search: 'iv_' }).map((r) => r.id)).toEqual([b]);
    expect(store.listRuns({ search: '100%' }).map((r) => r.id)).toEqual([a]);
    expect(store.listRuns({ search: '_' }).map((r) => r.id)).toEqual([b, a]); // 'dc_step', 'iv_sweep': '_' is literal
    expect(store.listRuns({ limit: 1, offset: 1 }).map((r) => r.id)).toEqual([a]);
    store.setTags(a, []);
    expect(store.getRun(a)!.tags).toEqual([]);
    expectCode(() => store.setNotes(999, 'x'), 'RUN_NOT_FOUND');
    expectCode(() => store.setTags(999, ['x']), 'RUN_NOT_FOUND');
    // Analyses
    const an = store.saveAnalysis(a, 'spikes', { threshold: 0.1 }, { count: 3, times: [1, 2, 3] });
    store.saveAnalysis(a, 'avalanches', {}, { alpha: 1.5 });
    expect(store.listAnalyses(a, 'spikes')).toEqual([
      { id: an, runId: a, name: 'spikes', params: { threshold: 0.1 }, result: { count: 3, times: [1, 2, 3] }, createdAt: expect.any(String) },
    ]);
    expect(store.listAnalyses(a).map((x) => x.name)).toEqual(['avalanches', 'spikes']);
    expectCode(() => store.saveAnalysis(999, 'x', {}, {}), 'RUN_NOT_FOUND');
    store.close();
  });

  it('deletes a run with everything recorded for it, and refuses while it records', () => {
    const store = RunStore.open(file);
    const keep = store.createRun(INIT);
    const del = store.createRun(INIT);
    for (const id of [keep, del]) {
      const rec = store.recorder(id);
      rec.write({ type: 'descriptor', channels: [chan()] });
      rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(200_000).fill(id) });
      rec.write({ type: 'event', kind: 'spike', index: 5 });
      rec.flush();
      if (id === del) expectCode(() => store.deleteRun(id), 'RUN_ACTIVE');
      rec.write({ type: 'stop', status: 'completed' });
    }
    store.setTags(del, ['x']);
    store.saveAnalysis(del, 'spikes', {}, {});
    expect(store.stats()).toMatchObject({ runs: { completed: 2 }, channels: 2, samples: 400_000, events: 2, analyses: 1 });
    expect(store.deleteRun(del)).toBe(true);
    const afterDelete = store.stats();
    expect(afterDelete).toMatchObject({ runs: { completed: 1 }, channels: 1, samples: 200_000, events: 1, analyses: 0 });
    expect(afterDelete.freePages).toBeGreaterThan(0);
    expect(store.deleteRun(del)).toBe(false);
    expect(store.getRun(del)).toBeUndefined();
    store.close();
    const db = new Database(file, { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(count('SELECT count(*) AS n FROM channels')).toBe(1);
    expect(count(`SELECT count(*) AS n FROM segments s JOIN channels c ON c.id = s.channel_id WHERE c.run_id = ${keep}`)).toBe(
      count('SELECT count(*) AS n FROM segments'),
    );
    expect(count('SELECT count(*) AS n FROM events')).toBe(1);
    expect(count('SELECT count(*) AS n FROM run_tags') + count('SELECT count(*) AS n FROM analyses')).toBe(0);
    db.close();
    const again = RunStore.open(file);
    again.vacuum();
    expect(again.stats().freePages).toBe(0);
    expect(again.stats().fileBytes).toBeLessThan(afterDelete.fileBytes + afterDelete.walBytes);
    expect(Array.from(again.readRaw(keep, 0, 0, 10)[0]!.samples)).toEqual(new Array(10).fill(keep));
    again.close();
  });

  it('migrates an existing older file and keeps its runs; marks runs left running as interrupted', () => {
    // A file as the first schema version wrote it, with a run that was recording when its process died.
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    expect(migrate(db, 1)).toBe(1);
    db.prepare(
      `INSERT INTO runs (id, status, protocol, protocol_kind, source, bench, software_version, created_at, updated_at)
       VALUES (7, 'running', '{"kind":"dc_step"}', 'dc_step', 'daq', '{}', '0.0.9', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:05.000Z')`,
    ).run();
    db.close();
    expect(() => new Database(file).prepare('SELECT * FROM analyses').all()).toThrow(/no such table/);

    const store = RunStore.open(file);
    const run = store.getRun(7)!;
    expect(run.status).toBe('interrupted');
    expect(run.endedAt).toBe('2026-01-01T00:00:05.000Z');
    expect(run.reason).toMatch(/ended without stopping/);
    expect(store.saveAnalysis(7, 'spikes', {}, [])).toBeGreaterThan(0);
    store.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
    // Reopening an up-to-date file changes nothing.
    const again = RunStore.open(file);
    expect(again.listRuns().map((r) => [r.id, r.status])).toEqual([[7, 'interrupted']]);
    expect(again.listAnalyses(7)).toHaveLength(1);
    again.close();
    // A file from a newer spikeloop is refused.
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expectCode(() => RunStore.open(file), 'STORE_TOO_NEW');
  });

  it('commits on its own: by the timer when writes stop, and by the sample clock when samples pile up', async () => {
    const store = RunStore.open(file, { commitIntervalMs: 100 });
    const ro = RunStore.open(file, { readonly: true });
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [chan({ sampleRate: 1e6 })] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([1, 2, 3]) });
    rec.write({ type: 'event', kind: 'marker', index: 1, label: 'm' });
    // No more writes: the store's timer must commit them (seen from another connection).
    await vi.waitFor(
      () => {
        expect(ro.getRun(id)!.channels[0]!.sampleCount).toBe(3);
        expect(ro.listEvents(id)).toHaveLength(1);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(rec.committedSamples).toBe(3);
    rec.write({ type: 'stop', status: 'completed' });
    // Sample clock: 0.1 s at 1 MS/s = 100000 samples pending forces a commit inside write().
    const slow = RunStore.open(path.join(dir, 'slow.sqlite'), { commitIntervalMs: 100 });
    const id2 = slow.createRun(INIT);
    const rec2 = slow.recorder(id2);
    rec2.write({ type: 'descriptor', channels: [chan({ sampleRate: 1e6 })] });
    rec2.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(100_000) });
    expect(rec2.committedSamples).toBe(100_000);
    slow.close();
    ro.close();
    store.close();
  });

  it('closing the store with a recorder open commits it and marks the run interrupted', () => {
    const store = RunStore.open(file);
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [chan()] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([3, 1, 4, 1, 5]) });
    store.close();
    const again = RunStore.open(file);
    const run = again.getRun(id)!;
    expect(run.status).toBe('interrupted');
    expect(run.channels[0]!.sampleCount).toBe(5);
    expect(Array.from(again.readRaw(id, 0, 0, 5)[0]!.samples)).toEqual([3, 1, 4, 1, 5]);
    again.close();
  });
});

describe('WAL checkpoints', () => {
  it('while a run records, a thread of its own copies the WAL into the file (the writer does not); close leaves no WAL', async () => {
    const store = RunStore.open(file);
    const id = store.createRun(INIT);
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [chan()] });
    const before = store.stats().fileBytes;
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(500_000).fill(7) });
    rec.flush();
    // the 1 MB just committed is in the WAL; only a checkpoint puts it in the file
    await vi.waitFor(() => expect(store.stats().fileBytes).toBeGreaterThan(before + 900_000), { timeout: 20_000, interval: 50 });
    rec.write({ type: 'stop', status: 'completed' });
    store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});

describe('scratch files', () => {
  it('are made beside the database; those a dead writer left go when the next writer opens it, another database\'s stay', () => {
    const file = path.join(dir, 'runs.db');
    const store = RunStore.open(file);
    const scratch = store.scratchFile();
    expect(path.dirname(scratch)).toBe(dir);
    writeFileSync(scratch, 'half an export');
    const other = path.join(dir, 'other.db.scratch-1.tmp');
    writeFileSync(other, 'not ours');
    store.close(); // as a killed server would, it left its scratch file
    expect(existsSync(scratch)).toBe(true);
    const ro = RunStore.open(file, { readonly: true });
    expect(() => ro.scratchFile()).toThrow(/open for writing/);
    ro.close();
    expect(existsSync(scratch)).toBe(true); // a reader does not own them
    RunStore.open(file).close();
    expect(existsSync(scratch)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });
});
