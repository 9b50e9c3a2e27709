/**
 * Sweep records persist in the SQLite store across a server restart: a finished bench sweep (measured runs
 * paired with the LIF twin) is listed after the restart with its points, runs, twin runs and state; a sweep
 * that was running when the server was SIGKILLed comes back `interrupted`, with its unfinished points
 * marked and its current run interrupted. Real server processes on one real database file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './browser/server.ts';

let server: TestServer | undefined;
afterAll(async () => {
  await server?.stop();
});

const call = async (method: string, url: string, body?: unknown) => {
  const res = await server!.fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
};
const poll = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('sweeps in the store', () => {
  it('lists past sweeps with their points and runs after a restart; a sweep running at a crash is interrupted', { timeout: 150_000 }, async () => {
    server = await startServer();
    const done = await call('POST', '/api/sweeps', {
      mode: 'bench',
      circuit: 'lif',
      sampleRate: 10_000,
      label: 'persisted',
      sweep: { kind: 'sweep', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field: 'level', values: [0.0005, 0.001] }] },
    });
    expect(done.status, JSON.stringify(done.json)).toBe(201);
    const finished = await poll(
      async () => (await call('GET', `/api/sweeps/${done.json.sweep.id}`)).json.sweep,
      (s: any) => s.state !== 'running',
    );
    expect(finished.state, finished.reason).toBe('completed');

    const long = await call('POST', '/api/sweeps', {
      mode: 'bench',
      sampleRate: 10_000,
      label: 'cut short',
      sweep: { kind: 'sweep', base: { kind: 'dc', durationS: 60 }, parameters: [{ field: 'level', values: [0.0005, 0.001] }] },
    });
    expect(long.status).toBe(201);
    const running = await poll(
      async () => (await call('GET', `/api/sweeps/${long.json.sweep.id}`)).json.sweep,
      (s: any) => s.points[0].runId !== undefined && s.points[0].status === 'running',
    );
    await poll(
      async () => (await call('GET', `/api/runs/${running.points[0].runId}/progress`)).json.progress,
      (p: any) => p.samplesDone > 0,
    );

    const dir = server.dir;
    await server.kill();
    server = await startServer(dir);

    const { json } = await call('GET', '/api/sweeps');
    expect(json.sweeps.map((s: any) => [s.id, s.label, s.state])).toEqual([
      [long.json.sweep.id, 'cut short', 'interrupted'],
      [finished.id, 'persisted', 'completed'],
    ]);
    // the finished sweep: as it was, points with their measured and twin runs (linked) and stats
    const past = (await call('GET', `/api/sweeps/${finished.id}`)).json.sweep;
    expect(past).toEqual(finished);
    for (const pt of past.points) {
      expect(pt).toMatchObject({ status: 'completed', twinStatus: 'done', runId: expect.any(Number), twinRunId: expect.any(Number) });
      const twin = (await call('GET', `/api/runs/${pt.twinRunId}`)).json.run;
      expect(twin).toMatchObject({ source: 'twin', linkedRunId: pt.runId, tags: [`sweep:${finished.id}`] });
      expect(pt.stats.nSpikes).toBeGreaterThanOrEqual(0);
    }
    // the interrupted sweep: the point that was running and its run interrupted, the next never started
    const cut = (await call('GET', `/api/sweeps/${long.json.sweep.id}`)).json.sweep;
    expect(cut.reason).toMatch(/server ended while the sweep was running/);
    expect(cut.endedAt).toEqual(expect.any(String));
    expect(cut.points.map((p: any) => [p.status, p.runId])).toEqual([
      ['interrupted', running.points[0].runId],
      ['interrupted', undefined],
    ]);
    expect((await call('GET', `/api/runs/${running.points[0].runId}`)).json.run.status).toBe('interrupted');
    // stopping a past sweep changes nothing; an unknown id is a clear 404
    expect((await call('POST', `/api/sweeps/${cut.id}/stop`)).json.sweep).toEqual(cut);
    const missing = await call('GET', '/api/sweeps/nosuchsweep');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('SWEEP_NOT_FOUND');
  });
});
