/** The experiments API over app.inject(): limits, protocol check and preview, pause/resume/progress, sweeps. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { Compile } from 'typebox/compile';
import { StdpResultSchema } from '../common/schemas/analysis-results.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, useInjectServer, type TestServer } from './helpers-live.ts';
import { RunStore, startMessage } from '../server/store/run-store.ts';
import { protocolSegments, stimulusAt, validateProtocol } from '../server/protocols/index.ts';

const { inject, waitSweep } = useInjectServer();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bench and protocol check', () => {
  it('states the bench limits and previews a protocol with its peaks', async () => {
    const bench = await inject('GET', '/api/bench');
    expect(bench.body.bench.limits).toMatchObject({ maxVoltage: 20, maxCurrent: 0.01 });
    const iv = await inject('POST', '/api/protocols/check', { protocol: { kind: 'iv-sweep', peak: 2, periodS: 1, cycles: 2 }, points: 400 });
    expect(iv.status).toBe(200);
    expect(iv.body.summary).toMatchObject({ kind: 'iv-sweep', unit: 'V', durationS: 2, min: -2, max: 2 });
    expect(iv.body.preview.values).toHaveLength(400);
    expect(Math.max(...iv.body.preview.values)).toBe(2);
    const sweep = await inject('POST', '/api/protocols/check', {
      protocol: { kind: 'sweep', base: { kind: 'sine', quantity: 'voltage' }, parameters: [{ field: 'frequencyHz', start: 1, stop: 100, steps: 3, scale: 'log' }] },
    });
    expect(sweep.body.summary.count).toBe(3);
    expect(sweep.body.points.map((p: any) => p.label)).toEqual(['frequencyHz=1', 'frequencyHz=10', 'frequencyHz=100']);
  });

  it('bad input: clear 400s naming the field or the limit, nothing started', async () => {
    const before = (await inject('GET', '/api/runs')).body.runs.length;
    const over = await inject('POST', '/api/protocols/check', { protocol: { kind: 'dc', quantity: 'voltage', level: 25 } });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/level' });
    expect(over.body.error.message).toMatch(/maxVoltage/);
    const bad = await inject('POST', '/api/protocols/check', { protocol: { kind: 'chirp', startHz: -3 } });
    expect(bad.body.error).toMatchObject({ code: 'BAD_PROTOCOL', field: '/protocol/startHz' });
    const run = await inject('POST', '/api/runs', { protocol: { kind: 'dc', quantity: 'voltage', level: 25 } });
    expect(run.status).toBe(400);
    expect(run.body.error.code).toBe('LIMIT_EXCEEDED');
    const sw = await inject('POST', '/api/sweeps', { sweep: { kind: 'sweep', base: { kind: 'dc' }, parameters: [{ field: 'level', values: [1e-3, 0.5] }] } });
    expect(sw.status).toBe(400);
    expect(sw.body.error.code).toBe('LIMIT_EXCEEDED');
    expect(sw.body.error.message).toMatch(/sweep point 1 \(level=0.5\)/);
    expect(sw.body.error.field).toBe('/sweep/parameters/0');
    const field = await inject('POST', '/api/sweeps', { sweep: { kind: 'sweep', base: { kind: 'dc' }, parameters: [{ field: 'level' }] } });
    expect(field.body.error).toMatchObject({ code: 'BAD_SWEEP', field: '/sweep/parameters/0/start' });
    const circuit = await inject('POST', '/api/sweeps', { mode: 'twin', circuit: 'no-such', sweep: { kind: 'sweep', base: { kind: 'dc' }, parameters: [{ field: 'level', values: [1e-3] }] } });
    expect(circuit.body.error).toMatchObject({ code: 'BAD_CIRCUIT', field: '/circuit' });
    expect((await inject('GET', '/api/sweeps/zzz')).status).toBe(404);
    expect((await inject('POST', '/api/runs/999/pause')).body.error.code).toBe('RUN_NOT_FOUND');
    expect((await inject('GET', '/api/runs')).body.runs.length).toBe(before);
  });
});

describe('pause, resume, progress over HTTP', () => {
  it('pauses and resumes a run; progress reports fraction and time left; a finished run cannot be paused', async () => {
    const started = await inject('POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.4 }, sampleRate: 10_000 });
    expect(started.status).toBe(201);
    const id = started.body.run.id;
    const paused = await inject('POST', `/api/runs/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.progress).toMatchObject({ runId: id, state: 'paused', samplesTotal: 4000 });
    const again = await inject('POST', `/api/runs/${id}/pause`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RUN_NOT_ACTIVE');
    const p = (await inject('GET', `/api/runs/${id}/progress`)).body.progress;
    expect(p.remainingS).toBeCloseTo((4000 - p.samplesDone) / 10_000, 9);
    expect((await inject('POST', `/api/runs/${id}/resume`)).body.progress.state).toBe('running');
    let prog;
    do {
      await sleep(50);
      prog = (await inject('GET', `/api/runs/${id}/progress`)).body.progress;
    } while (prog.state !== 'done');
    expect(prog).toMatchObject({ status: 'completed', fraction: 1, remainingS: 0 });
    expect((await inject('POST', `/api/runs/${id}/resume`)).status).toBe(409);
  });
});

describe('sweeps over HTTP', () => {
  it('runs a twin-mode sweep on a built-in circuit and lists its runs', async () => {
    const circuits = (await inject('GET', '/api/twin/circuits')).body.circuits.map((c: any) => c.name);
    expect(circuits).toContain('lif');
    const r = await inject('POST', '/api/sweeps', {
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      sweep: { kind: 'sweep', base: { kind: 'dc', durationS: 0.05 }, parameters: [{ field: 'level', values: [20e-6, 40e-6] }] },
    });
    expect(r.status).toBe(201);
    const id = r.body.sweep.id;
    const sw = await waitSweep(id);
    expect(sw.state).toBe('completed');
    expect(sw.points.every((p: any) => p.status === 'completed' && p.runId > 0)).toBe(true);
    const runs = (await inject('GET', `/api/runs?tag=sweep:${id}`)).body.runs;
    expect(runs.map((x: any) => x.source)).toEqual(['twin', 'twin']);
    expect((await inject('GET', '/api/sweeps')).body.sweeps[0].id).toBe(id);
  });
});

describe('automatic twin pairing (bench.twin) and the STDP curve', () => {
  let t: TestServer;
  let store: RunStore;
  beforeAll(async () => {
    const { virtualBenchConfig, validateBenchConfig } = await import('../server/benchconfig/index.ts');
    const bench = validateBenchConfig({ ...virtualBenchConfig(), twin: { circuit: 'lif' } });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-autopair-'));
    store = RunStore.open(path.join(dir, 'test.db'));
    t = { ...(await startServer({ store, bench }, false)) };
    const close = t.close;
    t.close = async () => {
      await close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });
  afterAll(async () => {
    await t?.close();
  });
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const r = await t.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.json() as any };
  };

  it('feeds every measured run to the configured twin when it ends: linked run, same stimulus, analyses on both', async () => {
    const started = await call('POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.2 }, sampleRate: 10_000, label: 'auto' });
    const id = started.body.run.id;
    let twin: any;
    for (let i = 0; i < 300 && !twin; i++) {
      await sleep(100);
      twin = (await call('GET', '/api/runs?limit=50')).body.runs.find((r: any) => r.linkedRunId === id);
    }
    expect(twin).toMatchObject({ source: 'twin' });
    // the twin was fed the recorded stimulus channel
    const a = await call('GET', `/api/runs/${id}/channels/0/envelope?start=0&end=2000&pixels=200`);
    const b = await call('GET', `/api/runs/${twin.id}/channels/0/envelope?start=0&end=2000&pixels=200`);
    expect(b.body.max).toEqual(a.body.max);
    // analyses stored with both; compare stored on the measured run with the twin
    let names: string[] = [];
    for (let i = 0; i < 100 && !names.includes('compare'); i++) {
      await sleep(100);
      names = (await call('GET', `/api/runs/${id}/analyses`)).body.analyses.map((x: any) => x.name);
    }
    expect(names).toEqual(expect.arrayContaining(['spike-stats', 'spike-train', 'regime', 'compare']));
    const twinNames = (await call('GET', `/api/runs/${twin.id}/analyses`)).body.analyses.map((x: any) => x.name);
    expect(twinNames).toEqual(expect.arrayContaining(['spike-stats', 'spike-train', 'regime']));
    // the Compare page's request finds the stored result
    const cmp = await call('POST', `/api/runs/${id}/analyses/compare`, { events: true });
    expect(cmp.body.cached).toBe(true);
    expect(cmp.body.result.measured.n_spikes).toBeGreaterThan(0);
    expect(cmp.body.result.simulated.n_spikes).toBeGreaterThan(0);
    expect(cmp.body.result.spike_sync).toBeGreaterThanOrEqual(0);
    // a twin run is not paired again
    await sleep(300);
    expect((await call('GET', '/api/runs?limit=50')).body.runs.filter((r: any) => r.linkedRunId === twin.id)).toHaveLength(0);
  });

  it('draws the STDP curve of an stdp run from its read pulses and fits it', async () => {
    const protocol = validateProtocol({ kind: 'stdp', offsetsS: [-4e-3, -2e-3, 2e-3, 4e-3], pairsPerOffset: 2, pairPeriodS: 10e-3, readAmplitude: 0.1, readWidthS: 4e-3, gapS: 2e-3 });
    if (protocol.kind !== 'stdp') throw new Error('kind');
    // a synthetic device whose conductance after each block changes by 0.5·e^(−|Δt|/5 ms), sign of Δt
    const fs = 20_000;
    const n = Math.round(protocol.durationS * fs);
    const resp = new Float64Array(n);
    const segs = protocolSegments(protocol);
    let g = 1e-3;
    const expected: number[] = [];
    for (const [k, dt] of protocol.offsetsS.entries()) {
      const before = segs.find((s) => s.label === `read-before ${k}`)!;
      const after = segs.find((s) => s.label === `read-after ${k}`)!;
      for (let i = Math.round(before.startS * fs); i < Math.round(before.endS * fs); i++) resp[i] = g * 0.1;
      const dw = Math.sign(dt) * 0.5 * Math.exp(-Math.abs(dt) / 5e-3);
      expected.push(dw);
      g *= 1 + dw;
      for (let i = Math.round(after.startS * fs); i < Math.round(after.endS * fs); i++) resp[i] = g * 0.1;
    }
    const stim = Float64Array.from({ length: n }, (_, i) => stimulusAt(protocol, i / fs));
    // the synthetic run written straight into the store (a recorder, as a source's run would be)
    const init = { protocol, source: 'simulated' as const, bench: null, softwareVersion: 'test', label: 'stdp' };
    const id = store.createRun(init);
    const rec = store.recorder(id);
    rec.write(startMessage(id, init));
    rec.write({
      type: 'descriptor',
      channels: [
        { name: 'v', unit: 'V', sampleRate: fs, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' },
        { name: 'i', unit: 'A', sampleRate: fs, dtype: 'float64', scale: 1, offset: 0, role: 'response' },
      ],
    });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: stim });
    rec.write({ type: 'block', channel: 1, firstIndex: 0, samples: resp });
    rec.write({ type: 'stop', status: 'completed' });
    const r = await call('POST', '/api/experiments/stdp', { runIds: [id] });
    expect(r.status).toBe(200);
    expect(r.body.pairs.map((p: any) => p.dt_s)).toEqual(protocol.offsetsS);
    r.body.pairs.forEach((p: any, i: number) => expect(p.dw).toBeCloseTo(expected[i], 9));
    expect(r.body.fit.Aplus).toBeCloseTo(0.5, 3);
    expect(r.body.fit.tau_plus_s).toBeCloseTo(5e-3, 5);
    expect(r.body.fit.Aminus).toBeCloseTo(0.5, 3);
    // the CLI form reads the same run from the database file and gives the same curve
    const cli = JSON.parse(
      execFileSync(process.execPath, [new URL('../bin/spikeloop.js', import.meta.url).pathname, 'analyze', 'stdp', String(id), '--db', store.file, '--json'], {
        encoding: 'utf8',
      }),
    );
    expect(cli.result).toEqual(r.body);
    // one shape: the stored `stdp` analysis's (snake_case, its schema), for the route and the CLI alike
    expect(Object.keys(r.body.pairs[0]).sort()).toEqual(['dt_s', 'dw', 'g_after', 'g_before', 'run_id']);
    expect(r.body.pairs[0]).toMatchObject({ run_id: id, g_before: expect.closeTo(1e-3, 12) });
    expect(Compile(StdpResultSchema).Check(r.body)).toBe(true);
    const stored = await call('POST', `/api/runs/${id}/analyses/stdp`, {});
    expect(stored.status).toBe(200);
    expect(stored.body.result).toEqual(r.body);
    // a run of another protocol kind is refused, naming it; the CLI names its own argument
    const other = await call('POST', '/api/experiments/stdp', { runIds: [1] });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ field: '/runIds', message: expect.stringMatching(/not stdp/) });
    const cliOther = spawnSync(process.execPath, [new URL('../bin/spikeloop.js', import.meta.url).pathname, 'analyze', 'stdp', '1', '--db', store.file], { encoding: 'utf8' });
    expect(cliOther.status).toBe(1);
    expect(cliOther.stderr).toMatch(/^spikeloop: <inputs\.\.\.>: run 1 is a .* run, not stdp/);
    expect(cliOther.stderr).not.toContain('/runIds');
  });
});
