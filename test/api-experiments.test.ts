/** The experiments API over app.inject(): limits, protocol check and preview, pause/resume/progress, sweeps. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers-live.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startServer({}, false);
});
afterAll(async () => {
  await s.close();
});

const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const r = await s.app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: r.statusCode, body: r.json() as any };
};
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
    expect(over.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol' });
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
    let sw;
    do {
      await sleep(100);
      sw = (await inject('GET', `/api/sweeps/${id}`)).body.sweep;
    } while (sw.state === 'running');
    expect(sw.state).toBe('completed');
    expect(sw.points.every((p: any) => p.status === 'completed' && p.runId > 0)).toBe(true);
    const runs = (await inject('GET', `/api/runs?tag=sweep:${id}`)).body.runs;
    expect(runs.map((x: any) => x.source)).toEqual(['twin', 'twin']);
    expect((await inject('GET', '/api/sweeps')).body.sweeps[0].id).toBe(id);
  });
});
