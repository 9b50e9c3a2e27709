/**
 * Analysis results stored before the naming convention (docs/analysis.md "Naming convention") read with
 * today's names. test/fixtures/results-shape-1.json holds real results of the spikeloop before it: every
 * shape test/analysis-results.test.ts makes, as that version computed them (its arrays cut to 6 items). They
 * are written into a database at schema version 5 as that version wrote them; the store opens it (migration
 * 6 adds the shape column) and the API answers each result in its current schema, checked with TypeBox's
 * compiler on closed objects, so an old name left over fails. A stored sweep's point stats (spike-stats in
 * camelCase, migration 7) likewise; without the renames GET /api/sweeps/:id answers 500.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Compile } from 'typebox/compile';
import { afterAll, describe, expect, it } from 'vitest';
import { findAnalysis, RUN_ANALYSES } from '../server/analysis-io/registry.ts';
import { SweepStatusSchema } from '../common/schemas/sweeps.ts';
import { RunStore } from '../server/store/run-store.ts';
import { migrate, SCHEMA_VERSION } from '../server/store/schema.ts';
import { startServer } from './helpers-live.ts';

// only analyses of runs are stored (powerlaw and distance take values and trains)
const old = (JSON.parse(readFileSync(new URL('./fixtures/results-shape-1.json', import.meta.url), 'utf8')) as { name: string; shape: string; result: unknown }[]).filter((r) => RUN_ANALYSES.includes(r.name));
const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A database of schema version 5 with one run and the old results stored with it, as that version stored them. */
function oldDatabase(file: string): void {
  const db = new Database(file);
  migrate(db, 5);
  const t = '2026-01-01T00:00:00.000Z';
  db.prepare(`INSERT INTO runs (id, status, protocol, protocol_kind, source, bench, software_version, created_at, updated_at) VALUES (1, 'completed', ?, 'square', 'simulated', '{}', '0.5.0', ?, ?)`).run(
    JSON.stringify({ kind: 'square', durationS: 0.05 }),
    t,
    t,
  );
  const save = db.prepare('INSERT INTO analyses (run_id, name, params, result, created_at) VALUES (1, ?, ?, ?, ?)');
  // spike-stats under its canonical default parameters ({}), so that asking for it again finds it
  for (const r of old) save.run(r.name, JSON.stringify(r.name === 'spike-stats' ? {} : { shape: r.shape }), JSON.stringify(r.result), t);
  save.run('spikes', JSON.stringify({ failed: true }), JSON.stringify({ error: 'no channel "x"' }), t);
  // a sweep whose point kept the spike-stats of its run and twin run under the names of then
  const stats = { count: 12, rateHz: 120, meanIsiS: 0.0083, cvIsi: 0.01, regime: 'oscillatory' };
  const point = { index: 0, label: 'amplitude=0.001', values: { amplitude: 0.001 }, status: 'completed', runId: 1, twinRunId: 1, twinStatus: 'done', stats, twinStats: stats };
  db.prepare(
    `INSERT INTO sweeps (id, label, mode, state, reason, request, summary, points, fraction, created_at, updated_at, ended_at) VALUES ('old', 'old', 'bench', 'completed', NULL, '{}', ?, ?, 1, ?, ?, ?)`,
  ).run(JSON.stringify({ count: 1, quantity: 'current', unit: 'A', durationS: 0.1, min: 0, max: 0.001 }), JSON.stringify([point]), t, t, t);
  db.close();
}

describe('results stored by an earlier spikeloop', () => {
  const file = path.join(dir, 'old.db');
  oldDatabase(file);
  // a copy opened read-only before any migration: the CLI beside a server holding the writer lock
  const unmigrated = path.join(dir, 'unmigrated.db');
  copyFileSync(file, unmigrated);

  it('the fixture holds old names (rate, cv_isi, log_lik, count ...) for every stored analysis', () => {
    const text = JSON.stringify(old);
    for (const name of ['"cv_isi"', '"mean_isi_s"', '"log_lik"', '"count"', '"sample_rate"', '"tau_plus"', '"resonance_frequency"', '"dead_time"']) expect(text).toContain(name);
    expect(new Set(old.map((r) => r.name))).toEqual(new Set(RUN_ANALYSES));
  });

  it('read through the API in the current schema; a cached result is answered renamed; new results keep their names', async () => {
    const store = RunStore.open(file);
    const srv = await startServer({ store }, false);
    try {
      expect(store.stats().schemaVersion).toBe(SCHEMA_VERSION);
      const r = await srv.inject({ method: 'GET', url: '/api/runs/1/analyses' });
      expect(r.statusCode).toBe(200);
      const stored = (r.json() as { analyses: { name: string; params: { shape?: string }; result: unknown }[] }).analyses;
      expect(stored).toHaveLength(old.length + 1);
      const wrong: string[] = [];
      for (const a of stored) {
        if ((a.result as { error?: string }).error !== undefined) {
          expect(a.result).toEqual({ error: 'no channel "x"' });
          continue;
        }
        const check = Compile(findAnalysis(a.name)!.result);
        if (!check.Check(a.result)) wrong.push(`${a.name} (${a.params.shape ?? ''}): ${[...check.Errors(a.result)].slice(0, 4).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
      }
      expect(wrong).toEqual([]);

      // the values move with their names
      const before = old.find((o) => o.name === 'spike-stats')!.result as { count: number; rate_hz: number; mean_isi_s: number | null; cv_isi: number | null };
      const cached = await srv.inject({ method: 'POST', url: '/api/runs/1/analyses/spike-stats', payload: {} });
      expect(cached.statusCode).toBe(200);
      expect(cached.json()).toMatchObject({ cached: true, result: { n_spikes: before.count, rate_hz: before.rate_hz, isi_mean_s: before.mean_isi_s, isi_cv: before.cv_isi } });
      const spikes = stored.find((a) => a.name === 'spikes' && a.params.shape === 'modes')!.result as { channels: { stats: { rate_hz: number; isi_cv: number }; mixtures: { amplitude: { log_likelihood: number } } }[] };
      const spikesBefore = old.find((o) => o.name === 'spikes' && o.shape === 'modes')!.result as { channels: { stats: { rate: number; cv: number }; mixtures: { amplitude: { log_lik: number } } }[] };
      expect(spikes.channels[0].stats.rate_hz).toBe(spikesBefore.channels[0].stats.rate);
      expect(spikes.channels[0].stats.isi_cv).toBe(spikesBefore.channels[0].stats.cv);
      expect(spikes.channels[0].mixtures.amplitude.log_likelihood).toBe(spikesBefore.channels[0].mixtures.amplitude.log_lik);

      // the sweep's point stats: spike-stats's names in camelCase
      const sweep = await srv.inject({ method: 'GET', url: '/api/sweeps/old' });
      expect(sweep.statusCode).toBe(200);
      const status = (sweep.json() as { sweep: unknown }).sweep;
      expect(Compile(SweepStatusSchema).Check(status)).toBe(true);
      const renamed = { nSpikes: 12, rateHz: 120, isiMeanS: 0.0083, isiCv: 0.01, regime: 'oscillatory' };
      expect(status).toMatchObject({ points: [{ stats: renamed, twinStats: renamed }] });

      // a result written today is stored under the current shape and read unchanged
      const now = { n_spikes: 2, duration_s: 1, rate_hz: 2, isi_mean_s: 0.5, isi_cv: 0, regime: 'oscillatory' };
      const id = store.saveAnalysis(1, 'spike-stats', { now: true }, now);
      expect(store.listAnalyses(1, 'spike-stats').find((a) => a.id === id)!.result).toEqual(now);
    } finally {
      await srv.close();
      store.close();
    }
  });

  it('a file of schema version 5 opened read-only (not migrated) reads renamed too: analyses and sweeps', () => {
    const store = RunStore.open(unmigrated, { readonly: true });
    try {
      expect(store.stats().schemaVersion).toBe(5);
      const stats = store.listAnalyses(1, 'spike-stats')[0].result;
      expect(Compile(findAnalysis('spike-stats')!.result).Check(stats)).toBe(true);
      // the sweeps table has no shape column either
      const renamed = { nSpikes: 12, rateHz: 120, isiMeanS: 0.0083, isiCv: 0.01, regime: 'oscillatory' };
      expect(store.getSweep('old')?.points).toMatchObject([{ stats: renamed, twinStats: renamed }]);
    } finally {
      store.close();
    }
  });
});
