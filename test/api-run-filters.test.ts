/**
 * GET /api/runs filters used by the Sessions page: protocol kind, source, notes text, linked run, created
 * date range (with status, tag and search, all combined with AND), and a 400 naming the field for a bad date.
 * Runs are created straight in a real temp store; the API is driven through app.inject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunInit } from '../server/store/run-store.ts';
import { startServer, type TestServer } from './helpers-live.ts';

let srv: TestServer;
const ids: Record<string, number> = {};
const INIT: RunInit = { protocol: { kind: 'square' }, source: 'simulated', bench: {}, softwareVersion: '0.1.0' };

const list = async (qs: string) => {
  const r = await srv.inject({ method: 'GET', url: `/api/runs?${qs}` });
  expect(r.statusCode, r.body).toBe(200);
  return (r.json().runs as { id: number }[]).map((x) => x.id).sort((a, b) => a - b);
};

beforeAll(async () => {
  srv = await startServer({}, false);
  const s = srv.store;
  // Creation times are kept to the millisecond: space the runs so the date-range test can tell them apart.
  const tick = () => new Promise((r) => setTimeout(r, 5));
  ids.sq = s.createRun({ ...INIT, label: 'square one' });
  await tick();
  ids.iv = s.createRun({ ...INIT, protocol: { kind: 'iv-sweep' }, label: 'loops' });
  await tick();
  ids.twin = s.createRun({ ...INIT, source: 'twin', linkedRunId: ids.sq, label: 'twin of square' });
  s.setNotes(ids.iv, 'pinched hysteresis at 2 V');
  s.setNotes(ids.sq, 'nothing special');
  s.setTags(ids.iv, ['device-7']);
  s.setTags(ids.sq, ['device-7', 'lif']);
});
afterAll(async () => {
  await srv?.close();
});

describe('GET /api/runs filters', () => {
  it('filters by kind, source, notes, linked run and tag, combined', async () => {
    expect(await list('kind=square')).toEqual([ids.sq, ids.twin]);
    expect(await list('kind=iv-sweep')).toEqual([ids.iv]);
    expect(await list('source=twin')).toEqual([ids.twin]);
    expect(await list('source=simulated&kind=square')).toEqual([ids.sq]);
    expect(await list('notes=hysteresis')).toEqual([ids.iv]);
    // notes filter is literal: % and _ are not wildcards
    expect(await list('notes=%25')).toEqual([]);
    expect(await list(`linkedTo=${ids.sq}`)).toEqual([ids.twin]);
    expect(await list('tag=device-7&kind=square')).toEqual([ids.sq]);
    expect(await list('tag=device-7&notes=pinched')).toEqual([ids.iv]);
  });

  it('filters by created date range', async () => {
    const created = (await srv.inject({ method: 'GET', url: `/api/runs/${ids.iv}` })).json().run.createdAt as string;
    const day = created.slice(0, 10);
    const next = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    expect(await list(`after=${day}&before=${next}`)).toEqual([ids.sq, ids.iv, ids.twin]);
    expect(await list(`before=${day}`)).toEqual([]);
    expect(await list(`after=${next}`)).toEqual([]);
    // a full timestamp: runs created at or after the iv run's own creation time
    expect(await list(`after=${encodeURIComponent(created)}`)).toEqual([ids.iv, ids.twin]);
  });

  it('refuses a malformed date with a 400 naming the field', async () => {
    for (const [q, field] of [['after=yesterday', '/query/after'], ['before=2026-13-45', '/query/before']] as const) {
      const r = await srv.inject({ method: 'GET', url: `/api/runs?${q}` });
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'VALIDATION', field });
      expect(r.json().error.message).toMatch(/not an ISO 8601 date/);
    }
  });
});
