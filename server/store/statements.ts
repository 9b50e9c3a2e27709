/** Prepared statements of one database, prepared once each; shared by the store's repositories. */
import type Database from 'better-sqlite3';

export class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  sql(text: string): Database.Statement {
    let st = this.cache.get(text);
    if (!st) this.cache.set(text, (st = this.db.prepare(text)));
    return st;
  }
}

/** `limit`/`offset` of a list query, clamped: limit 0..max (default `dflt`), offset ≥ 0. */
export function page(q: { limit?: number; offset?: number }, dflt: number, max: number): [limit: number, offset: number] {
  return [Math.min(Math.max(Math.floor(q.limit ?? dflt), 0), max), Math.max(Math.floor(q.offset ?? 0), 0)];
}
