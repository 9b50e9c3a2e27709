/**
 * Analyses end to end: a run with known spikes recorded into a real SQLite store, analysed through the CLI
 * (bin/spikeloop.js, file and run inputs) and the HTTP API (app.inject); results are stored with the run
 * and a second request returns the stored result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RunStore } from '../server/store/run-store.ts';
import { buildApp, type App } from '../server/api/app.ts';
import { newToken } from '../server/api/security.ts';

const TOKEN = newToken();
const AUTH = { authorization: `Bearer ${TOKEN}` };
import { Rng } from '../common/random.ts';
import { PowerLawSampler } from '../server/analysis/powerlaw.ts';
import { npyHeader } from '../server/export/index.ts';

const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, ['bin/spikeloop.js', ...args], { cwd: path.resolve(__dirname, '..'), maxBuffer: 64 << 20 });

const FS = 10_000;
const N = 50_000; // 5 s
const SPIKE_EVERY = 1000; // 10 Hz regular spiking
let dir: string;
let db: string;
let runId: number;
let trace: Int16Array;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-analysis-'));
  db = path.join(dir, 'runs.db');
  const rng = new Rng(1);
  trace = new Int16Array(N);
  for (let i = 0; i < N; i++) trace[i] = Math.round(100 * rng.normal());
  for (let s = 500; s < N; s += SPIKE_EVERY) for (let k = -6; k <= 6; k++) trace[s + k] += Math.round(5000 * Math.exp(-(k * k) / 8));
  const store = RunStore.open(db);
  runId = store.createRun({ protocol: { kind: 'dc', amplitude: 1 }, source: 'simulated', bench: {}, softwareVersion: 'test' });
  const rec = store.recorder(runId);
  rec.write({ type: 'start', runId, protocol: { kind: 'dc', amplitude: 1 }, source: 'simulated', bench: {}, softwareVersion: 'test', wallTime: new Date().toISOString() });
  rec.write({ type: 'descriptor', channels: [{ name: 'v_mem', unit: 'V', sampleRate: FS, dtype: 'int16', scale: 1e-4, offset: 0, role: 'response' }] });
  for (let a = 0; a < N; a += 4096) rec.write({ type: 'block', channel: 0, firstIndex: a, samples: trace.slice(a, Math.min(N, a + 4096)) });
  rec.write({ type: 'stop', status: 'completed' });
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI', () => {
  it('analyze powerlaw --discrete --bootstrap --compare --json prints the documented fields', async () => {
    const rng = new Rng(2);
    const s = new PowerLawSampler('discrete', 2.5, 3);
    const file = path.join(dir, 'sizes.txt');
    writeFileSync(file, Array.from({ length: 1500 }, () => s.sample(rng)).join('\n') + '\n');
    const { stdout } = await cli(['analyze', 'powerlaw', file, '--discrete', '--bootstrap', '20', '--compare', '--json']);
    const r = JSON.parse(stdout);
    for (const k of ['alpha', 'alpha_se', 'xmin', 'n_tail', 'ks_d', 'p_value']) expect(typeof r[k]).toBe('number');
    expect(Math.abs(r.alpha - 2.5)).toBeLessThan(4 * r.alpha_se);
    expect(r.p_value).toBeGreaterThanOrEqual(0);
    for (const alt of ['exponential', 'lognormal', 'truncated_power_law']) expect(r.compare[alt]).toEqual(expect.objectContaining({ R: expect.any(Number), p: expect.any(Number) }));
  });
  it('analyze powerlaw on values it cannot fit says how many were usable (values <= 0 are dropped)', async () => {
    const file = path.join(dir, 'negative.txt');
    writeFileSync(file, Array.from({ length: 12 }, (_, i) => -(i + 1)).join('\n') + '\n');
    const err = await cli(['analyze', 'powerlaw', file, '--json']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/no xmin candidate leaves 10 points and two distinct values \(0 values > 0, 0 distinct\)/);
  });
  it('analyze distance --metric spike --json prints the pairwise matrix and its mean', async () => {
    const file = path.join(dir, 'trains.txt');
    writeFileSync(file, '1 2 3\n1.5,3\n');
    const { stdout } = await cli(['analyze', 'distance', file, '--metric', 'isi', '--t-start', '0', '--t-end', '4', '--json']);
    const r = JSON.parse(stdout);
    // 1/3, hand-worked in server/analysis/distances.test.ts
    expect(r.matrix[0][0]).toBe(0);
    expect(r.matrix[0][1]).toBeCloseTo(1 / 3, 14);
    expect(r.matrix[1][0]).toBe(r.matrix[0][1]);
    expect(r.mean).toBeCloseTo(1 / 3, 14);
  });
  it('the text output (no --json) ends with the result\'s warnings, one "warning:" line each', async () => {
    const file = path.join(dir, 'trains-empty.txt');
    writeFileSync(file, '1 2 3\n\n\n1.5,3\n');
    const { stdout } = await cli(['analyze', 'distance', file, '--metric', 'isi', '--t-start', '0', '--t-end', '4']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^isi over \[0, 4\] s/);
    expect(lines[lines.length - 1]).toBe('warning: trains 2, 3 empty in the window: distances between two empty trains are undefined (null)');
  });
  it('analyze resonance on a frequency,response CSV reads it as a measured sweep', async () => {
    const file = path.join(dir, 'sweep.csv');
    writeFileSync(file, 'frequency,response\n1,1\n2,5\n3,2\n4,1\n');
    const r = JSON.parse((await cli(['analyze', 'resonance', file, '--json'])).stdout);
    expect(r.result).toMatchObject({ resonance_frequency_hz: 2, peak_response: 5 });
  });
  it('analyze spikes on a run stores the result; asking again returns it from the store', async () => {
    const first = JSON.parse((await cli(['analyze', 'spikes', String(runId), '--db', db, '--json'])).stdout);
    expect(first.cached).toBe(false);
    expect(first.stored).toBe(true);
    const ch = first.result.channels[0];
    expect(ch.n_spikes).toBe(N / SPIKE_EVERY);
    expect(ch.stats.rate_hz).toBeCloseTo(10, 9);
    expect(ch.stats.isi_cv).toBeLessThan(0.01);
    const again = JSON.parse((await cli(['analyze', 'spikes', String(runId), '--db', db, '--json'])).stdout);
    expect(again.cached).toBe(true);
    expect(again.analysisId).toBe(first.analysisId);
    const store = RunStore.open(db, { readonly: true });
    expect(store.listAnalyses(runId, 'spikes')).toHaveLength(1);
    store.close();
  });
  it('on a run recorded from the simulated bench, detected spikes match the bench\'s own spike events', async () => {
    const simDb = path.join(dir, 'sim.db');
    const proto = path.join(dir, 'square.json');
    writeFileSync(proto, JSON.stringify({ kind: 'square', durationS: 0.5 }));
    const summary = JSON.parse((await cli(['run', proto, '--db', simDb, '--rate', '20000'])).stdout.split('\n').filter(Boolean).pop()!);
    // the simulated LIF draws each spike as one sample at V_spike = 1 V (resting 0 V, threshold 0.8 V)
    const r = JSON.parse((await cli(['analyze', 'spikes', String(summary.id), '--db', simDb, '--threshold', 'absolute', '--value', '0.5', '--refractory', '0', '--json'])).stdout);
    expect(r.result.channels[0].channel).toBe('v_mem');
    expect(r.result.channels[0].n_spikes).toBe(summary.eventCounts.spike);
    expect(summary.eventCounts.spike).toBeGreaterThan(10);
    // --events uses the bench's stored spike events: the same sample indices as the detector found
    const ev = JSON.parse((await cli(['analyze', 'spikes', String(summary.id), '--db', simDb, '--events', '--json'])).stdout);
    const fs = ev.result.channels[0].sample_rate_hz;
    expect(ev.result.channels[0].times_s.map((t: number) => Math.round(t * fs))).toEqual(r.result.channels[0].times_s.map((t: number) => Math.round(t * fs)));
  });
  it('analyze psd on an exported NPY file (raw int16 with --scale and --rate) finds the 10 Hz spiking', async () => {
    const file = path.join(dir, 'v_mem.npy');
    writeFileSync(file, Buffer.concat([npyHeader('int16', N), Buffer.from(trace.buffer)]));
    const r = JSON.parse((await cli(['analyze', 'psd', file, '--rate', String(FS), '--scale', '1e-4', '--segment', '16384', '--json'])).stdout);
    const top = r.result.channels[0].dominant[0].frequency_hz;
    expect(top % 10 < 0.5 || top % 10 > 9.5).toBe(true); // a harmonic of the 10 Hz spike rate
  });
  it('analyze regime on a CSV export classifies regular 10 Hz spiking as oscillatory', async () => {
    const file = path.join(dir, 'run.csv');
    const lines = ['index,v_mem'];
    for (let i = 0; i < N; i++) lines.push(`${i},${trace[i] * 1e-4}`);
    writeFileSync(file, lines.join('\n') + '\n');
    const r = JSON.parse((await cli(['analyze', 'regime', file, '--rate', String(FS), '--json'])).stdout);
    expect(r.result.regime).toBe('oscillatory');
    expect(r.result.features.rate_hz).toBeCloseTo(10, 9);
  });
});

describe('API', () => {
  let app: App;
  let store: RunStore;
  beforeAll(async () => {
    store = RunStore.open(db);
    app = await buildApp({ store, webDist: false, security: { token: TOKEN } });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  it('POST /api/runs/:id/analyses/bursts stores; GET lists; bad input is a 400 naming the field', async () => {
    const r = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/bursts`, payload: { method: 'max-interval', max_begin_isi: 0.05 } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.cached).toBe(false);
    expect(body.result.channels[0].n_spikes).toBe(N / SPIKE_EVERY);
    expect(body.result.channels[0].bursts).toEqual([]); // 100 ms ISIs are never < 50 ms
    const again = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/bursts`, payload: { max_begin_isi: 0.05, method: 'max-interval' } });
    expect(again.json().cached).toBe(true);
    const list = await app.inject({ headers: AUTH, method: 'GET', url: `/api/runs/${runId}/analyses?name=bursts` });
    expect(list.json().analyses).toHaveLength(1);
    const bad = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/spikes`, payload: { k: -1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'VALIDATION', field: '/k' });
    expect((await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/999/analyses/psd`, payload: {} })).json().error.code).toBe('RUN_NOT_FOUND');
  });
  it('POST /api/runs/:id/analyses/compare defaults to the linked twin run; identical responses give distance 0 and Γ = 1', async () => {
    const noTwin = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/compare`, payload: {} });
    expect(noTwin.statusCode).toBe(400);
    expect(noTwin.json().error.field).toBe('/with');
    // the message names both ways to give it: the API's body field and the CLI's second argument
    expect(noTwin.json().error.message).toMatch(/"with", or the CLI's second argument: analyze compare <measured> <simulated>/);
    // a "twin" run linked to the measured one, with the identical response trace
    const twin = store.createRun({ protocol: { kind: 'dc', amplitude: 1 }, source: 'twin', bench: {}, softwareVersion: 'test', linkedRunId: runId });
    const rec = store.recorder(twin);
    rec.write({ type: 'start', runId: twin, protocol: { kind: 'dc', amplitude: 1 }, source: 'twin', bench: {}, softwareVersion: 'test', wallTime: new Date().toISOString() });
    rec.write({ type: 'descriptor', channels: [{ name: 'v_mem', unit: 'V', sampleRate: FS, dtype: 'int16', scale: 1e-4, offset: 0, role: 'response' }] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: trace.slice() });
    rec.write({ type: 'stop', status: 'completed' });
    const r = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/compare`, payload: {} });
    expect(r.statusCode).toBe(200);
    const b = r.json();
    expect(b.params.with).toBe(twin);
    expect(b.result.isi_distance).toBe(0);
    expect(b.result.spike_distance).toBe(0);
    expect(b.result.spike_sync).toBe(1);
    expect(b.result.coincidence_factor).toBeCloseTo(1, 12);
    expect(b.result.waveform.nrmse).toBe(0);
  });
  it('GET /api/analyses lists every analysis with a self-describing parameter schema and its route', async () => {
    const r = await app.inject({ headers: AUTH, method: 'GET', url: '/api/analyses' });
    expect(r.statusCode).toBe(200);
    const list = r.json().analyses as { name: string; inputs: string; route: string; params: { properties: Record<string, { title?: string; unit?: string; default?: unknown; minimum?: number }> } }[];
    expect(list.map((a) => a.name)).toEqual(expect.arrayContaining(['powerlaw', 'distance', 'spikes', 'bursts', 'regime', 'resonance', 'compare']));
    for (const a of list) for (const [k, p] of Object.entries(a.params.properties)) expect(p.title, `${a.name}.${k}`).toBeTruthy();
    const av = list.find((a) => a.name === 'avalanches')!;
    expect(av.route).toBe('/api/runs/:id/analyses/avalanches');
    expect(av.params.properties.bin_width).toMatchObject({ unit: 's' });
    expect(av.params.properties.min_tail).toMatchObject({ default: 10, minimum: 2 });
    expect(list.find((a) => a.name === 'powerlaw')!.route).toBe('/api/analysis/powerlaw');
    // an unknown parameter is refused naming it, not ignored
    const typo = await app.inject({ headers: AUTH, method: 'POST', url: `/api/runs/${runId}/analyses/avalanches`, payload: { min_tial: 3 } });
    expect(typo.statusCode).toBe(400);
    const sweep = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/resonance', payload: { points: [{ frequency: 1, response: 1 }, { frequency: 2, response: 5 }, { frequency: 3, response: 2 }] } });
    expect(sweep.json()).toMatchObject({ resonance_frequency_hz: 2, peak_response: 5 });
  });
  it('POST /api/analysis/powerlaw and /distance', async () => {
    const pl = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/powerlaw', payload: { values: [1, 2, 3, 5, 8, 13, 21, 34], kind: 'continuous', xmin: 1 } });
    expect(pl.statusCode).toBe(200);
    expect(pl.json().alpha).toBeCloseTo(1 + 8 / Math.log(1 * 2 * 3 * 5 * 8 * 13 * 21 * 34), 10); // CSN eq. 3.1
    const d = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/distance', payload: { trains: [[1, 2], [1.5]], metric: 'victor-purpura', q: 1 } });
    expect(d.json().matrix[0][1]).toBeCloseTo(1.5, 12);
    const bad = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/distance', payload: { trains: [[1]], metric: 'nope' } });
    expect(bad.statusCode).toBe(400);
  });
  it('POST /api/analysis/regime classifies one run, and draws a phase diagram over several', async () => {
    const one = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/regime', payload: { runIds: [runId] } });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ regime: 'oscillatory', run_id: runId });
    const two = await app.inject({ headers: AUTH, method: 'POST', url: '/api/analysis/regime', payload: { runIds: [runId, runId], values: [1, 2], min_rate: 50 } });
    // with min_rate 50 Hz the 10 Hz run is quiescent at both values: no transition
    expect(two.json().phase_diagram).toMatchObject({ param: 'amplitude', transitions: [] });
    expect(two.json().runs.map((r: { regime: string }) => r.regime)).toEqual(['quiescent', 'quiescent']);
  });
});
