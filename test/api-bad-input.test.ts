/**
 * Bad input on every route (app.inject, no port): malformed JSON, wrong types, out-of-range parameters,
 * unknown ids, huge bodies. Every answer is a clear 4xx with a stable code naming the field; the server
 * stays up and the stored run is untouched. Also the happy paths of the small routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type TestServer } from './helpers-live.ts';

let srv: TestServer;
let runId: number;
let activeId: number;

const inject = (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  srv.inject({
    method: method as 'GET',
    url,
    ...(payload === undefined ? {} : typeof payload === 'string' ? { payload, headers: { 'content-type': 'application/json', ...headers } } : { payload: payload as object, headers }),
  });

/** A fingerprint of everything stored for a run: row, samples, events. */
function fingerprint(id: number): string {
  const run = srv.store.getRun(id)!;
  const h = createHash('sha256').update(JSON.stringify(run));
  for (const c of run.channels) for (const s of srv.store.readRaw(id, c.index, 0, c.sampleCount)) h.update(Buffer.from(s.samples.buffer, s.samples.byteOffset, s.samples.byteLength));
  h.update(JSON.stringify(srv.store.listEvents(id)));
  return h.digest('hex');
}

beforeAll(async () => {
  srv = await startServer({}, false);
  const r = await inject('POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.2 }, sampleRate: 20_000, label: 'keep me' });
  runId = r.json().run.id;
  await srv.app.spikeloop.runs.waitForEnd(runId);
  activeId = (await inject('POST', '/api/runs', { protocol: { kind: 'dc', durationS: 600 }, sampleRate: 1000 })).json().run.id;
});
afterAll(async () => {
  await srv?.close();
});

describe('API happy paths', () => {
  it('health, protocols, sources, list, get, notes, tags, docs', async () => {
    expect((await inject('GET', '/api/health')).json()).toEqual({ ok: true, version: expect.any(String) });
    const protocols = (await inject('GET', '/api/protocols')).json().protocols as { kind: string; schema: { properties: Record<string, { default?: unknown }> } }[];
    expect(protocols.map((p) => p.kind)).toEqual(['dc', 'square', 'pulse-train', 'sine', 'chirp', 'iv-sweep', 'ladder', 'stdp', 'arbitrary']);
    expect(protocols[1].schema.properties.frequencyHz.default).toBe(1000);
    const sources = (await inject('GET', '/api/sources')).json();
    expect(sources.default).toBe('simulated');
    expect(sources.sources).toContainEqual(expect.objectContaining({ kind: 'simulated', available: true }));
    const list = (await inject('GET', '/api/runs?limit=10')).json().runs as { id: number }[];
    expect(list.map((r) => r.id)).toEqual([activeId, runId]);
    expect((await inject('GET', '/api/runs?status=running')).json().runs.map((r: { id: number }) => r.id)).toEqual([activeId]);
    expect((await inject('GET', '/api/runs?search=keep')).json().runs.map((r: { id: number }) => r.id)).toEqual([runId]);
    const notes = await inject('PUT', `/api/runs/${runId}/notes`, { notes: 'looks fine' });
    expect(notes.json().run.notes).toBe('looks fine');
    const tags = await inject('PUT', `/api/runs/${runId}/tags`, { tags: ['lif', 'demo', 'lif'] });
    expect([...tags.json().run.tags].sort()).toEqual(['demo', 'lif']);
    expect((await inject('GET', '/api/runs?tag=demo')).json().runs.map((r: { id: number }) => r.id)).toEqual([runId]);
    const detail = (await inject('GET', `/api/runs/${runId}`)).json().run;
    expect(detail).toMatchObject({ id: runId, status: 'completed', label: 'keep me', dropped: [], eventCounts: { spike: expect.any(Number) } });
    const doc = (await inject('GET', '/docs/json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/runs', '/api/runs/{id}', '/api/runs/{id}/channels/{ch}/envelope', '/api/runs/{id}/export']));
    expect((await inject('GET', '/docs')).statusCode).toBeLessThan(400);
  });

  it('delete: 409 while running, 204 when finished, then 404', async () => {
    const r = await inject('DELETE', `/api/runs/${activeId}`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('RUN_ACTIVE');
    const extra = (await inject('POST', '/api/runs', { protocol: { kind: 'dc', durationS: 0.05 }, sampleRate: 1000 })).json().run.id;
    await srv.app.spikeloop.runs.waitForEnd(extra);
    expect((await inject('DELETE', `/api/runs/${extra}`)).statusCode).toBe(204);
    expect((await inject('GET', `/api/runs/${extra}`)).statusCode).toBe(404);
    expect((await inject('DELETE', `/api/runs/${extra}`)).json().error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('dashboard files', () => {
  it('serves web/dist at / with index.html for client routes, JSON 404 under /api', async () => {
    const dist = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-dist-'));
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>spikeloop</title>');
    writeFileSync(path.join(dist, 'app.js'), 'console.log(1)');
    const web = await startServer({ webDist: dist }, false);
    try {
      const index = await web.inject({ url: '/' });
      expect(index.statusCode).toBe(200);
      expect(index.body).toContain('<title>spikeloop</title>');
      expect((await web.inject({ url: '/app.js' })).body).toBe('console.log(1)');
      expect((await web.inject({ url: '/runs/12' })).body).toContain('<title>spikeloop</title>');
      const api = await web.inject({ url: '/api/nothing' });
      expect(api.statusCode).toBe(404);
      expect(api.json().error.code).toBe('ROUTE_NOT_FOUND');
    } finally {
      await web.close();
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe('bad input on every route', () => {
  it('answers 4xx with a code naming the field, never 500, and corrupts nothing', async () => {
    const before = fingerprint(runId);
    const big = JSON.stringify({ protocol: { kind: 'dc' }, label: 'x'.repeat(2 << 20) });
    const cases: [string, string, unknown, number, string, string?][] = [
      // POST /api/runs
      ['POST', '/api/runs', '{"protocol": {"kind": "dc"', 400, 'MALFORMED_JSON'],
      ['POST', '/api/runs', '', 400, 'VALIDATION', '/'],
      ['POST', '/api/runs', '[1,2]', 400, 'VALIDATION', '/'],
      ['POST', '/api/runs', '{"__proto__": {"x": 1}, "protocol": {"kind": "dc"}}', 400, 'MALFORMED_JSON'],
      ['POST', '/api/runs', {}, 400, 'VALIDATION', '/protocol'],
      ['POST', '/api/runs', { protocol: 'square' }, 400, 'VALIDATION', '/protocol'],
      ['POST', '/api/runs', { protocol: {} }, 400, 'VALIDATION', '/protocol/kind'],
      ['POST', '/api/runs', { protocol: { kind: 'warp' } }, 400, 'BAD_PROTOCOL', '/protocol/kind'],
      ['POST', '/api/runs', { protocol: { kind: 'square', frequencyHz: 'fast' } }, 400, 'BAD_PROTOCOL', '/protocol/frequencyHz'],
      ['POST', '/api/runs', { protocol: { kind: 'square', frequencyHz: -5 } }, 400, 'BAD_PROTOCOL', '/protocol/frequencyHz'],
      ['POST', '/api/runs', { protocol: { kind: 'square', duty: 1.5 } }, 400, 'BAD_PROTOCOL', '/protocol/duty'],
      ['POST', '/api/runs', { protocol: { kind: 'dc', durationS: 1e9 } }, 400, 'BAD_PROTOCOL', '/protocol/durationS'],
      ['POST', '/api/runs', { protocol: { kind: 'dc', bogus: 1 } }, 400, 'BAD_PROTOCOL', '/protocol/bogus'],
      ['POST', '/api/runs', { protocol: { kind: 'pulse-train', widthS: 2e-3, periodS: 1e-3 } }, 400, 'BAD_PROTOCOL', '/protocol/widthS'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, sampleRate: 'fast' }, 400, 'VALIDATION', '/sampleRate'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, sampleRate: true }, 400, 'VALIDATION', '/sampleRate'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, sampleRate: 0 }, 400, 'VALIDATION', '/sampleRate'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, sampleRate: 5e6 }, 400, 'VALIDATION', '/sampleRate'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, source: 'warp-drive' }, 400, 'SOURCE_UNKNOWN', '/source'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, source: 7 }, 400, 'VALIDATION', '/source'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, label: 12 }, 400, 'VALIDATION', '/label'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, extra: true }, 400, 'VALIDATION', '/extra'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, options: 'fast' }, 400, 'VALIDATION', '/options'],
      ['POST', '/api/runs', { protocol: { kind: 'dc' }, options: [1] }, 400, 'VALIDATION', '/options'],
      ['POST', '/api/runs', big, 413, 'BODY_TOO_LARGE'],
      // GET /api/runs
      ['GET', '/api/runs?limit=0', undefined, 400, 'VALIDATION', '/query/limit'],
      ['GET', '/api/runs?limit=abc', undefined, 400, 'VALIDATION', '/query/limit'],
      ['GET', '/api/runs?offset=-1', undefined, 400, 'VALIDATION', '/query/offset'],
      ['GET', '/api/runs?status=happy', undefined, 400, 'VALIDATION', '/query/status'],
      ['GET', '/api/runs?colour=red', undefined, 400, 'VALIDATION', '/query/colour'],
      // /api/runs/:id
      ['GET', '/api/runs/abc', undefined, 400, 'VALIDATION', '/params/id'],
      ['GET', '/api/runs/0', undefined, 400, 'VALIDATION', '/params/id'],
      ['GET', '/api/runs/1.5', undefined, 400, 'VALIDATION', '/params/id'],
      ['GET', '/api/runs/1abc', undefined, 400, 'VALIDATION', '/params/id'],
      ['GET', `/api/runs/${runId}/events?limit=2.5`, undefined, 400, 'VALIDATION', '/query/limit'],
      ['GET', '/api/runs/424242', undefined, 404, 'RUN_NOT_FOUND'],
      ['DELETE', '/api/runs/424242', undefined, 404, 'RUN_NOT_FOUND'],
      ['DELETE', '/api/runs/x', undefined, 400, 'VALIDATION', '/params/id'],
      ['POST', '/api/runs/424242/stop', undefined, 404, 'RUN_NOT_FOUND'],
      ['POST', '/api/runs/abc/stop', undefined, 400, 'VALIDATION', '/params/id'],
      // notes / tags
      ['PUT', `/api/runs/${runId}/notes`, '{"notes": ', 400, 'MALFORMED_JSON'],
      ['PUT', `/api/runs/${runId}/notes`, { notes: 5 }, 400, 'VALIDATION', '/notes'],
      ['PUT', `/api/runs/${runId}/notes`, {}, 400, 'VALIDATION', '/notes'],
      ['PUT', `/api/runs/${runId}/notes`, { notes: 'x'.repeat(200_000) }, 400, 'VALIDATION', '/notes'],
      ['PUT', '/api/runs/424242/notes', { notes: 'hi' }, 404, 'RUN_NOT_FOUND'],
      ['PUT', `/api/runs/${runId}/tags`, { tags: 'a,b' }, 400, 'VALIDATION', '/tags'],
      ['PUT', `/api/runs/${runId}/tags`, { tags: [1, 2] }, 400, 'VALIDATION', '/tags/0'],
      ['PUT', `/api/runs/${runId}/tags`, { tags: [''] }, 400, 'VALIDATION', '/tags/0'],
      ['PUT', `/api/runs/${runId}/tags`, { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 400, 'VALIDATION', '/tags'],
      ['PUT', '/api/runs/424242/tags', { tags: [] }, 404, 'RUN_NOT_FOUND'],
      ['PUT', `/api/runs/${runId}/tags`, JSON.stringify({ tags: ['x'.repeat(60)].concat(Array(300_000).fill('y')) }), 413, 'BODY_TOO_LARGE'],
      // channel data
      ['GET', `/api/runs/${runId}/channels/9/raw`, undefined, 404, 'CHANNEL_NOT_FOUND', '/params/ch'],
      ['GET', `/api/runs/${runId}/channels/-1/raw`, undefined, 400, 'VALIDATION', '/params/ch'],
      ['GET', '/api/runs/424242/channels/0/raw', undefined, 404, 'RUN_NOT_FOUND'],
      ['GET', `/api/runs/${runId}/channels/0/raw?start=10&end=5`, undefined, 400, 'BAD_RANGE', '/query/end'],
      ['GET', `/api/runs/${runId}/channels/0/raw?start=0&end=2000000`, undefined, 400, 'BAD_RANGE', '/query/end'],
      ['GET', `/api/runs/${runId}/channels/0/raw?start=-3`, undefined, 400, 'VALIDATION', '/query/start'],
      ['GET', `/api/runs/${runId}/channels/0/raw?start=1e400`, undefined, 400, 'VALIDATION', '/query/start'],
      ['GET', `/api/runs/${runId}/channels/0/raw?format=xml`, undefined, 400, 'VALIDATION', '/query/format'],
      ['GET', `/api/runs/${runId}/channels/0/envelope?pixels=0`, undefined, 400, 'VALIDATION', '/query/pixels'],
      ['GET', `/api/runs/${runId}/channels/0/envelope?pixels=10001`, undefined, 400, 'VALIDATION', '/query/pixels'],
      ['GET', `/api/runs/${runId}/channels/0/envelope?pixels=ten`, undefined, 400, 'VALIDATION', '/query/pixels'],
      ['GET', `/api/runs/${runId}/channels/0/envelope?start=5&end=5`, undefined, 400, 'BAD_RANGE', '/query/end'],
      ['GET', `/api/runs/${runId}/channels/3/envelope`, undefined, 404, 'CHANNEL_NOT_FOUND', '/params/ch'],
      ['GET', '/api/runs/424242/channels/0/envelope', undefined, 404, 'RUN_NOT_FOUND'],
      // events
      ['GET', '/api/runs/424242/events', undefined, 404, 'RUN_NOT_FOUND'],
      ['GET', `/api/runs/${runId}/events?kind=burp`, undefined, 400, 'VALIDATION', '/query/kind'],
      ['GET', `/api/runs/${runId}/events?limit=0`, undefined, 400, 'VALIDATION', '/query/limit'],
      ['GET', `/api/runs/${runId}/events?start=9&end=3`, undefined, 400, 'BAD_RANGE', '/query/end'],
      // export
      ['GET', `/api/runs/${runId}/export`, undefined, 400, 'VALIDATION', '/query/format'],
      ['GET', `/api/runs/${runId}/export?format=xlsx`, undefined, 400, 'VALIDATION', '/query/format'],
      ['GET', `/api/runs/${runId}/export?format=npy`, undefined, 400, 'VALIDATION', '/query/channel'],
      ['GET', `/api/runs/${runId}/export?format=npy&channel=5`, undefined, 404, 'CHANNEL_NOT_FOUND', '/query/channel'],
      ['GET', '/api/runs/424242/export?format=csv', undefined, 404, 'RUN_NOT_FOUND'],
      // live (plain HTTP, no upgrade) and unknown routes
      ['GET', '/api/runs/424242/live', undefined, 404, 'RUN_NOT_FOUND'],
      ['GET', '/api/nope', undefined, 404, 'ROUTE_NOT_FOUND'],
      ['PATCH', '/api/runs', { a: 1 }, 404, 'ROUTE_NOT_FOUND'],
    ];
    const other = await srv.inject({ method: 'POST', url: '/api/runs', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    expect(other.statusCode).toBe(415);
    expect(other.json().error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('application/x-www-form-urlencoded') });
    expect(other.json().error.message).toMatch(/send application\/json$/);
    // a malformed body says where, a poisoning key says which (fastify 5 said only "Body is not valid JSON")
    const broken = await srv.inject({ method: 'POST', url: '/api/runs', headers: { 'content-type': 'application/json' }, payload: '{"protocol": {"kind": "dc",}}' });
    expect(broken.json().error).toMatchObject({ code: 'MALFORMED_JSON', message: expect.stringMatching(/^body is not valid JSON: .*position 27/) });
    const poisoned = await srv.inject({ method: 'POST', url: '/api/runs', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}}' });
    // a union of literals lists what it takes (it said "must be equal to constant")
    const format = await srv.inject({ method: 'GET', url: `/api/runs/${runId}/export?format=xlsx` });
    expect(format.json().error).toMatchObject({ code: 'VALIDATION', field: '/query/format', message: '/query/format: must be one of "csv", "npy", "nwb", "events", "sidecar"' });
    const status = await srv.inject({ method: 'GET', url: '/api/runs?status=done' });
    expect(status.json().error.message).toMatch(/^\/query\/status: must be one of "running", "completed", /);
    expect(poisoned.json().error).toMatchObject({ code: 'MALFORMED_JSON', message: 'body is not valid JSON: a __proto__ or constructor.prototype key (refused: prototype poisoning)' });
    // the import takes a file, and says so: curl --data-binary sends form-urlencoded unless told (it said "send application/json")
    const upload = await srv.inject({ method: 'POST', url: '/api/import?name=a.csv', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 't,v\n0,1\n' });
    expect(upload.statusCode).toBe(415);
    expect(upload.json().error.message).toBe('content type application/x-www-form-urlencoded is not supported; send application/octet-stream or text/csv');
    const failures: string[] = [];
    for (const [method, url, payload, status, code, field] of cases) {
      const r = await inject(method, url, payload);
      const body = r.json() as { error?: { code: string; message: string; field?: string } };
      const ok = r.statusCode === status && body.error?.code === code && (field === undefined || body.error?.field === field) && typeof body.error?.message === 'string' && body.error.message.length > 0;
      if (!ok) failures.push(`${method} ${url.slice(0, 60)} ${String(payload).slice(0, 40)} -> ${r.statusCode} ${r.body.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    // Messages name the field.
    const r = await inject('POST', '/api/runs', { protocol: { kind: 'square', frequencyHz: -5 } });
    expect(r.json().error.message).toMatch(/frequencyHz/);
    // Still up, nothing corrupted, no stray runs created, the active run still running.
    expect((await inject('GET', '/api/health')).statusCode).toBe(200);
    expect(fingerprint(runId)).toBe(before);
    expect(srv.store.listRuns().map((x) => x.id).sort()).toEqual([runId, activeId].sort());
    expect(srv.app.spikeloop.runs.state(activeId)).toBe('running');
  });
});

describe('POST /api/import: a refused option is named as a query field', () => {
  const upload = (query: Record<string, string>, payload: string | Buffer) =>
    srv.inject({ method: 'POST', url: `/api/import?${new URLSearchParams({ name: 'a.csv', ...query })}`, headers: { 'content-type': 'application/octet-stream' }, payload });
  const noClock = 'index,v\n0,1\n1,2\n2,3\n';
  const clocked = 'time,v\n0,1\n0.001,2\n0.002,3\n';

  it('rate=, stimulus=, format=, sidecar= in the message and /query/<field> as the field, never a CLI flag; nothing stored', async () => {
    const runs = srv.store.listRuns().length;
    const cases: [Record<string, string>, string | Buffer, string, RegExp][] = [
      [{}, noClock, '/query/rate', /no time column and no sample rate in the file; give the rate with rate=<Hz>$/],
      [{ rate: '5' }, clocked, '/query/rate', /rate=5 Hz disagrees with the file's time column \(1000 Hz\); leave rate= out$/],
      [{ stimulus: 'nope' }, clocked, '/query/stimulus', /stimulus=nope: no such channel \(channels: v\)$/],
      [{ format: 'csv' }, Buffer.from([0x93, ...Buffer.from('NUMPY')]), '/query/format', /format=csv, but the file is an NPY file$/],
      [{ sidecar: '{not json' }, clocked, '/query/sidecar', /the sidecar is not JSON/],
      [{ sidecar: '{"a":1}' }, clocked, '/query/sidecar', /not a spikeloop export's _about\.json/],
    ];
    for (const [query, payload, field, message] of cases) {
      const r = await upload(query, payload);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'BAD_IMPORT', field, message: expect.stringMatching(message) });
      expect(r.json().error.message).not.toMatch(/--/);
    }
    expect(srv.store.listRuns().length).toBe(runs);
  });
});
