/**
 * Twin calibration over the API (server/api/routes/fit.ts) on a listening server with its worker pool: start
 * a fit (202), follow its progress to the result, the stored circuit listed and usable by name for pairing;
 * one fit at a time (503 BUSY), DELETE cancels, `wait: true` answers at the end, bad input answers 400/404
 * before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, json, type TestServer } from './helpers-live.ts';

let srv: TestServer;
let runId = 0;
const lif = { kind: 'square', quantity: 'current', amplitude: 8e-6, frequencyHz: 20, duty: 0.5, durationS: 0.1 };
const post = (path: string, body: unknown) => srv.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  srv = await startServer({ workers: 2 });
  const r = await json(await post('/api/twin/runs', { circuit: 'lif', protocol: lif, sampleRate: 10_000 }));
  expect(r.status).toBe(201);
  runId = r.body.run.id;
  await srv.app.spikeloop.runs.waitForEnd(runId);
});
afterAll(async () => {
  await srv?.close();
});

async function until(fitId: string, pred: (fit: Record<string, any>) => boolean) {
  for (;;) {
    const { body } = await json(await srv.fetch(`/api/fits/${fitId}`));
    if (pred(body.fit)) return body.fit;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('POST /api/runs/:id/fit', () => {
  it('fits, reports progress and the result, stores the circuit and pairs the run; one fit at a time', async () => {
    const started = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value'], bounds: { 'Cm.value': [30e-9, 300e-9] }, channels: ['v_mem'], maxEvals: 120 }));
    expect(started.status).toBe(202);
    expect(started.body.fit).toMatchObject({ runId, circuit: 'lif', objective: 'waveform', state: 'running' });
    const busy = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Rm.value'] }));
    expect(busy.status).toBe(503);
    expect(busy.body.error.code).toBe('BUSY');
    const fit = await until(started.body.fit.id, (f) => f.state !== 'running');
    expect(fit.state).toBe('completed');
    expect(fit.progress.evals).toBeGreaterThan(10);
    expect(Math.abs(fit.result.params['Cm.value'] / 100e-9 - 1)).toBeLessThan(0.01);
    expect(fit.result.ci['Cm.value'][0]).toBeLessThan(fit.result.params['Cm.value']);
    expect(fit.result).toMatchObject({ circuit: `lif-fit-run${runId}`, runId, warnings: [] });
    // the run replayed its protocol's exact edges, the fit replays the recorded samples: a small residual remains
    expect(fit.result.residual).toBeLessThan(0.01);
    // the stored circuit is listed and pairs by name; the fit's own pairing is linked to the run
    const circuits = (await json(await srv.fetch('/api/twin/circuits'))).body.circuits as { name: string; stored?: boolean }[];
    expect(circuits.find((c) => c.name === fit.result.circuit)).toMatchObject({ stored: true });
    expect(srv.store.getRun(fit.result.twinRunId)).toMatchObject({ linkedRunId: runId });
    const pair = await json(await post(`/api/runs/${runId}/pair`, { circuit: fit.result.circuit }));
    expect(pair.status).toBe(201);
    // a second fit of the same circuit gets a new name; a taken name is refused
    const taken = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value'], name: fit.result.circuit }));
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CIRCUIT_EXISTS');
  });

  it('pushes progress as server-sent events until the end; a completed fit outlives its job', async () => {
    const started = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value'], bounds: { 'Cm.value': [30e-9, 300e-9] }, channels: ['v_mem'], maxEvals: 200, pair: false }));
    expect(started.status).toBe(202);
    const id = started.body.fit.id as string;
    const res = await srv.fetch(`/api/fits/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // the stream closes itself after the last record
    const text = await res.text();
    const fits = text
      .split('\n\n')
      .filter((b) => b.startsWith('event: fit\n'))
      .map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)));
    expect(fits.length).toBeGreaterThan(2);
    expect(fits.slice(0, -1).every((f) => f.state === 'running')).toBe(true);
    const evals = fits.map((f) => f.progress.evals);
    expect(evals).toEqual([...evals].sort((a, b) => a - b));
    const last = fits.at(-1);
    expect(last).toMatchObject({ id, state: 'completed', result: { circuit: `lif-fit-run${runId}-2`, twinRunId: null } });
    // an ended fit's stream answers its record at once
    expect((await srv.fetch(`/api/fits/${id}/events`).then((r) => r.text())).match(/event: fit/g)).toHaveLength(1);
    // after a restart (a new job list on the same store) the completed fit is found by its stored circuit
    const { FitJobs } = await import('../server/experiments/fit-jobs.ts');
    const again = new FitJobs(srv.store, srv.app.spikeloop.runs, srv.app.spikeloop.pool).get(id);
    expect(again).toMatchObject({ id, runId, circuit: 'lif', state: 'completed', result: { params: last.result.params, ci: last.result.ci, residual: last.result.residual, circuit: last.result.circuit, evals: last.result.evals } });
    expect(again.result!.report).toEqual(last.result.report);
    expect((await json(await srv.fetch('/api/fits/nope/events'))).status).toBe(404);
  });

  it('DELETE cancels a running fit', async () => {
    const started = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value', 'Rm.value'], maxEvals: 5000 }));
    expect(started.status).toBe(202);
    await until(started.body.fit.id, (f) => f.progress.evals > 5);
    const del = await json(await srv.fetch(`/api/fits/${started.body.fit.id}`, { method: 'DELETE' }));
    expect(del.status).toBe(200);
    expect(del.body.fit).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } });
  });

  it('wait: true answers with the ended fit', async () => {
    const r = await json(await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value'], maxEvals: 40, pair: false, wait: true }));
    expect(r.status).toBe(201);
    expect(r.body.fit).toMatchObject({ state: 'completed', result: { twinRunId: null } });
  });

  it('refuses bad input before starting anything', async () => {
    const cases: [unknown, number, string, string?][] = [
      [{ circuit: 'lif', params: ['Cm.nope'] }, 400, 'TWIN_BAD_PARAM'],
      [{ circuit: 'lif', params: ['Cm.value'], bounds: { 'Cm.value': [2, 1] } }, 400, 'TWIN_BAD_PARAM'],
      [{ circuit: 'lif', params: ['Cm.value'], objective: 'nope' }, 400, 'VALIDATION', '/objective'],
      [{ circuit: 'lif', params: ['Cm.value'], channels: ['i_nope'] }, 400, 'VALIDATION', '/channels'],
      [{ circuit: 'nope' }, 400, 'BAD_CIRCUIT', '/circuit'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await json(await post(`/api/runs/${runId}/fit`, body));
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
      if (field) expect(r.body.error.field).toBe(field);
    }
    expect((await json(await post('/api/runs/99999/fit', { circuit: 'lif' }))).status).toBe(404);
    const missing = await json(await srv.fetch('/api/fits/nope'));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'FIT_NOT_FOUND']);
    expect(srv.app.spikeloop.fits.running).toBe(0);
  });
});
