/**
 * Database schema and its migrations. `PRAGMA user_version` holds the number of migrations applied;
 * opening a file applies the missing ones in order, each in its own transaction. Never edit a released
 * migration: append a new one.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors.ts';

export const MIGRATIONS: readonly string[] = [
  // 1: runs, channels, sample segments (raw + min/max pyramid), events, dropped ranges, tags.
  `
  CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    status           TEXT NOT NULL CHECK (status IN ('running','completed','aborted','failed','interrupted')),
    reason           TEXT,
    label            TEXT,
    protocol         TEXT NOT NULL,          -- JSON, as submitted
    protocol_kind    TEXT NOT NULL,
    source           TEXT NOT NULL,
    bench            TEXT NOT NULL,          -- JSON snapshot
    twin             TEXT,                   -- JSON snapshot or NULL
    software_version TEXT NOT NULL,
    linked_run_id    INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,          -- ISO 8601, when the run row was created
    started_at       TEXT,                   -- wall time of the start message
    updated_at       TEXT NOT NULL,          -- last commit of recorded data
    ended_at         TEXT,
    notes            TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX runs_status ON runs(status);
  CREATE INDEX runs_linked ON runs(linked_run_id);

  CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
  ) WITHOUT ROWID;
  CREATE INDEX run_tags_tag ON run_tags(tag);

  CREATE TABLE channels (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,           -- index in the run's descriptor
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL,
    sample_rate  REAL NOT NULL,
    dtype        TEXT NOT NULL,
    scale        REAL NOT NULL,
    offset       REAL NOT NULL,
    role         TEXT NOT NULL,
    sample_count INTEGER NOT NULL DEFAULT 0, -- committed extent: highest committed index + 1
    UNIQUE (run_id, idx)
  );

  -- level 0: raw samples [first, first+count) in the channel dtype, little-endian.
  -- level l >= 1: buckets [first, first+count) of BUCKET[l] samples each, stored as interleaved
  -- (min, max) pairs in the channel dtype; bucket j covers samples [j*B, (j+1)*B).
  CREATE TABLE segments (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    level      INTEGER NOT NULL,
    first      INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    data       BLOB NOT NULL,
    UNIQUE (channel_id, level, first)
  );

  CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    channel INTEGER,
    idx     INTEGER NOT NULL,
    label   TEXT,
    value   REAL
  );
  CREATE INDEX events_run_idx ON events(run_id, idx);

  CREATE TABLE dropped (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    channel INTEGER NOT NULL,
    start   INTEGER NOT NULL,
    "end"   INTEGER NOT NULL
  );
  CREATE INDEX dropped_run ON dropped(run_id, channel, start);
  `,
  // 2: analysis results stored with a run (spike trains, avalanche statistics, ...).
  `
  CREATE TABLE analyses (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    params     TEXT NOT NULL,               -- JSON
    result     TEXT NOT NULL,               -- JSON
    created_at TEXT NOT NULL
  );
  CREATE INDEX analyses_run ON analyses(run_id, name);
  `,
  // 3: sweeps (groups of runs over a parameter grid): their request, points (with run ids) and state.
  `
  CREATE TABLE sweeps (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    mode       TEXT NOT NULL,               -- bench | twin
    state      TEXT NOT NULL CHECK (state IN ('running','completed','aborted','failed','interrupted')),
    reason     TEXT,
    request    TEXT NOT NULL,               -- JSON: the sweep document and options as submitted
    summary    TEXT NOT NULL,               -- JSON: duration and peaks over all points
    points     TEXT NOT NULL,               -- JSON array: per point values, status, runId, twinRunId, stats
    fraction   REAL NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at   TEXT
  );
  CREATE INDEX sweeps_created ON sweeps(created_at);
  `,
  // 4: the exact time of an event, when its source knew it finer than a sample (twin events)
  `
  ALTER TABLE events ADD COLUMN time_s REAL;
  `,
  // 5: circuits stored by name (a twin calibration's fitted circuit) with their provenance.
  `
  CREATE TABLE circuits (
    name       TEXT PRIMARY KEY,
    document   TEXT NOT NULL,               -- JSON: the circuit document
    provenance TEXT NOT NULL,               -- JSON: run, objective, residual, params, date ...
    created_at TEXT NOT NULL
  );
  `,
  // 6: the field names an analysis result was written with (result-names.ts); older rows have the first.
  `
  ALTER TABLE analyses ADD COLUMN shape INTEGER NOT NULL DEFAULT 1;
  `,
  // 7: the field names a sweep's points were written with (result-names.ts); older rows have the first.
  `
  ALTER TABLE sweeps ADD COLUMN shape INTEGER NOT NULL DEFAULT 1;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the migrations the file lacks, up to `target` (default: all). Returns the version reached. */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_TOO_NEW',
      `database schema version ${current} is newer than this spikeloop understands (${SCHEMA_VERSION})`,
    );
  }
  for (let v = current; v < target; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return Math.max(current, target);
}
