/** Sweep records: a sweep's request, points and their runs, saved by the sweep runner at every change. */
import { page, type Statements } from './statements.ts';
import { currentSweepPoints, SWEEP_SHAPE } from './result-names.ts';

/** A sweep as stored: its points and their runs, as JSON the sweep runner defines. */
export interface SweepRecord {
  id: string;
  label: string;
  mode: string;
  state: 'running' | 'completed' | 'aborted' | 'failed' | 'interrupted';
  reason?: string;
  /** The request as submitted (sweep document and options). */
  request: unknown;
  summary: unknown;
  points: unknown[];
  fraction: number;
  createdAt: string;
  endedAt?: string;
}

interface SweepRow {
  id: string;
  label: string;
  mode: string;
  state: SweepRecord['state'];
  reason: string | null;
  request: string;
  summary: string;
  points: string;
  fraction: number;
  created_at: string;
  ended_at: string | null;
  /** Absent in a file from before migration 7 opened read-only. */
  shape?: number;
}

function sweepRecord(r: SweepRow): SweepRecord {
  return {
    id: r.id,
    label: r.label,
    mode: r.mode,
    state: r.state,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    request: JSON.parse(r.request),
    summary: JSON.parse(r.summary),
    points: currentSweepPoints(r.shape ?? 1, JSON.parse(r.points) as unknown[]),
    fraction: r.fraction,
    createdAt: r.created_at,
    ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  };
}

export class Sweeps {
  constructor(private readonly st: Statements) {}

  /** Creates or replaces a sweep record. */
  save(rec: SweepRecord): void {
    this.st
      .sql(
        `INSERT INTO sweeps (id, label, mode, state, reason, request, summary, points, fraction, created_at, updated_at, ended_at, shape)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET label = excluded.label, state = excluded.state, reason = excluded.reason,
         summary = excluded.summary, points = excluded.points, fraction = excluded.fraction,
         updated_at = excluded.updated_at, ended_at = excluded.ended_at, shape = excluded.shape`,
      )
      .run(
        rec.id,
        rec.label,
        rec.mode,
        rec.state,
        rec.reason ?? null,
        JSON.stringify(rec.request ?? null),
        JSON.stringify(rec.summary ?? null),
        JSON.stringify(rec.points),
        rec.fraction,
        rec.createdAt,
        new Date().toISOString(),
        rec.endedAt ?? null,
        SWEEP_SHAPE,
      );
  }

  get(id: string): SweepRecord | undefined {
    const row = this.st.sql('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
    return row && sweepRecord(row);
  }

  /** Stored sweeps, newest first. */
  list(q: { limit?: number; offset?: number } = {}): SweepRecord[] {
    const [limit, offset] = page(q, 100, 10000);
    return (this.st.sql('SELECT * FROM sweeps ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?').all(limit, offset) as SweepRow[]).map(sweepRecord);
  }
}
