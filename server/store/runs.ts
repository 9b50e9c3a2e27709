/** The runs table and what hangs off it directly: creation, listing with filters, detail, notes, tags, deletion. */
import type { EventKind, RunSourceKind, RunStatus } from '../../common/run-stream.ts';
import type { ChannelInfo, DroppedRange, RunDetail as RunDetailBase, RunFilters, RunSummary } from '../../common/schemas/index.ts';
import { StoreError } from './errors.ts';
import { channelMeta } from './channel-meta.ts';
import { page, type Statements } from './statements.ts';
import type { ChannelRow } from './traces.ts';

export interface RunInit {
  protocol: { kind: string; [k: string]: unknown };
  source: RunSourceKind;
  bench: unknown;
  twin?: unknown;
  softwareVersion: string;
  linkedRunId?: number;
  label?: string;
}

/** Filters of `listRuns`; all given ones must hold. */
export interface RunListQuery extends RunFilters {
  status?: RunStatus;
  /** ISO 8601 UTC timestamps (`toISOString` form): created_at >= createdAfter and < createdBefore. */
  createdAfter?: string;
  createdBefore?: string;
}

/** The API's RunDetail (common/schemas/runs.ts) plus what only the server uses. */
export interface RunDetail extends RunDetailBase {
  /** Wall time of the start message, if one was recorded. */
  startedAt: string | null;
}

interface RunRow {
  id: number;
  status: RunStatus;
  reason: string | null;
  label: string | null;
  protocol: string;
  source: RunSourceKind;
  bench: string;
  twin: string | null;
  software_version: string;
  linked_run_id: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  notes: string;
}

/** `%text%` for LIKE ... ESCAPE '\', with the text's own wildcards escaped. */
const likeText = (text: string) => `%${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

export class Runs {
  constructor(private readonly st: Statements) {}

  /** Creates a run with status 'running'; returns its id. */
  create(init: RunInit): number {
    if (!init.protocol || typeof init.protocol.kind !== 'string') {
      throw new StoreError('BAD_STREAM', 'run protocol must be an object with a string `kind`');
    }
    if (init.linkedRunId !== undefined) this.row(init.linkedRunId);
    const now = new Date().toISOString();
    return Number(
      this.st
        .sql(
          `INSERT INTO runs (status, label, protocol, protocol_kind, source, bench, twin, software_version,
                             linked_run_id, created_at, updated_at)
           VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          init.label ?? null,
          JSON.stringify(init.protocol),
          init.protocol.kind,
          init.source,
          JSON.stringify(init.bench ?? null),
          init.twin === undefined ? null : JSON.stringify(init.twin),
          init.softwareVersion,
          init.linkedRunId ?? null,
          now,
          now,
        ).lastInsertRowid,
    );
  }

  list(q: RunListQuery = {}): RunSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (column: string, value: unknown) => {
      where.push(`${column} = ?`);
      args.push(value);
    };
    if (q.status) eq('status', q.status);
    if (q.kind) eq('protocol_kind', q.kind);
    if (q.source) eq('source', q.source);
    if (q.linkedTo !== undefined) eq('linked_run_id', q.linkedTo);
    // created_at is ISO 8601 UTC (toISOString), so string order is time order.
    if (q.createdAfter) {
      where.push('created_at >= ?');
      args.push(q.createdAfter);
    }
    if (q.createdBefore) {
      where.push('created_at < ?');
      args.push(q.createdBefore);
    }
    if (q.notes) {
      where.push(`notes LIKE ? ESCAPE '\\'`);
      args.push(likeText(q.notes));
    }
    if (q.search) {
      const like = likeText(q.search);
      where.push(`(label LIKE ? ESCAPE '\\' OR protocol_kind LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag LIKE ? ESCAPE '\\'))`);
      args.push(like, like, like, like);
    }
    if (q.tag) {
      where.push('EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag = ?)');
      args.push(q.tag);
    }
    const [limit, offset] = page(q, 100, 10000);
    const rows = this.st
      .sql(`SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as RunRow[];
    return rows.map((r) => this.summary(r));
  }

  get(id: number): RunDetail | undefined {
    const row = this.st.sql('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return undefined;
    const dropped = this.st.sql('SELECT channel, start, "end" FROM dropped WHERE run_id = ? ORDER BY channel, start').all(id) as DroppedRange[];
    const eventCounts: Record<EventKind, number> = { spike: 0, marker: 0, fault: 0 };
    for (const e of this.st.sql('SELECT kind, count(*) AS n FROM events WHERE run_id = ? GROUP BY kind').all(id) as {
      kind: EventKind;
      n: number;
    }[]) {
      eventCounts[e.kind] = e.n;
    }
    return { ...this.summary(row), startedAt: row.started_at, dropped, eventCounts };
  }

  /** Deletes a run and everything recorded with it (foreign keys cascade). False if there is no such run. */
  delete(id: number): boolean {
    return this.st.sql('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  setNotes(id: number, notes: string): void {
    if (typeof notes !== 'string') throw new StoreError('BAD_STREAM', 'notes must be a string');
    if (this.st.sql('UPDATE runs SET notes = ? WHERE id = ?').run(notes, id).changes === 0) {
      throw new StoreError('RUN_NOT_FOUND', `no run ${id}`);
    }
  }

  /** Replaces the run's tags (trimmed, empty ones dropped, duplicates merged). */
  setTags(id: number, tags: string[]): void {
    this.row(id);
    const clean = [...new Set(tags.map((t) => String(t).trim()).filter((t) => t.length > 0))];
    this.st.db.transaction(() => {
      this.st.sql('DELETE FROM run_tags WHERE run_id = ?').run(id);
      const ins = this.st.sql('INSERT INTO run_tags (run_id, tag) VALUES (?, ?)');
      for (const t of clean) ins.run(id, t);
    })();
  }

  /** The run's row; throws RUN_NOT_FOUND. */
  row(id: number): { status: RunStatus } {
    const row = this.st.sql('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new StoreError('RUN_NOT_FOUND', `no run ${id}`);
    return row;
  }

  /** Runs per status, every status present. */
  countByStatus(): Record<RunStatus, number> {
    const runs: Record<RunStatus, number> = { running: 0, completed: 0, aborted: 0, failed: 0, interrupted: 0 };
    for (const r of this.st.sql('SELECT status, count(*) AS n FROM runs GROUP BY status').all() as { status: RunStatus; n: number }[]) {
      runs[r.status] = r.n;
    }
    return runs;
  }

  private summary(r: RunRow): RunSummary {
    const run = { source: r.source, protocol: JSON.parse(r.protocol), bench: JSON.parse(r.bench) };
    const channels = (this.st.sql('SELECT * FROM channels WHERE run_id = ? ORDER BY idx').all(r.id) as ChannelRow[]).map(
      (c): ChannelInfo => ({
        ...channelMeta({ name: c.name, unit: c.unit, role: c.role, sampleRate: c.sample_rate }, run),
        index: c.idx,
        name: c.name,
        unit: c.unit,
        sampleRate: c.sample_rate,
        dtype: c.dtype,
        scale: c.scale,
        offset: c.offset,
        role: c.role,
        sampleCount: c.sample_count,
      }),
    );
    const tags = (this.st.sql('SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag').all(r.id) as { tag: string }[]).map((t) => t.tag);
    return {
      id: r.id,
      status: r.status,
      reason: r.reason,
      label: r.label,
      protocol: run.protocol,
      source: r.source,
      bench: run.bench,
      twin: r.twin === null ? null : JSON.parse(r.twin),
      softwareVersion: r.software_version,
      createdAt: r.created_at,
      endedAt: r.ended_at,
      linkedRunId: r.linked_run_id,
      notes: r.notes,
      tags,
      channels,
    };
  }
}
