/** Analysis results stored with their run. */
import type { StoredAnalysis } from '../../common/schemas/index.ts';
import type { Runs } from './runs.ts';
import type { Statements } from './statements.ts';
import { currentResult, RESULT_SHAPE } from './result-names.ts';

export class Analyses {
  constructor(
    private readonly st: Statements,
    private readonly runs: Runs,
  ) {}

  /** Stores an analysis result (today's field names) with the run; returns its id. `params` and `result` must be JSON-serialisable. */
  save(runId: number, name: string, params: unknown, result: unknown): number {
    this.runs.row(runId);
    return Number(
      this.st
        .sql('INSERT INTO analyses (run_id, name, params, result, created_at, shape) VALUES (?, ?, ?, ?, ?, ?)')
        .run(runId, name, JSON.stringify(params ?? null), JSON.stringify(result ?? null), new Date().toISOString(), RESULT_SHAPE).lastInsertRowid,
    );
  }

  /** The run's stored analyses, newest first, optionally only those called `name`; results written by an older spikeloop read with today's field names. */
  list(runId: number, name?: string): StoredAnalysis[] {
    this.runs.row(runId);
    const rows = (
      name === undefined
        ? this.st.sql('SELECT * FROM analyses WHERE run_id = ? ORDER BY id DESC').all(runId)
        : this.st.sql('SELECT * FROM analyses WHERE run_id = ? AND name = ? ORDER BY id DESC').all(runId, name)
    ) as { id: number; run_id: number; name: string; params: string; result: string; created_at: string; shape?: number }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      name: r.name,
      params: JSON.parse(r.params),
      // no shape column: a file from before migration 6 opened read-only
      result: currentResult(r.name, r.shape ?? 1, JSON.parse(r.result)),
      createdAt: r.created_at,
    }));
  }
}
