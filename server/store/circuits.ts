/**
 * Circuits stored by name: twin circuits made here (a calibration's fitted circuit), beside the static
 * catalogue of built-in ones (server/twin/circuits). Each keeps its document and its provenance (for a fit:
 * the run, objective, residual, parameters and date).
 */
import type { Statements } from './statements.ts';
import { StoreError } from './errors.ts';

export interface StoredCircuit {
  name: string;
  /** The circuit document (docs/twin/circuits.md). */
  document: unknown;
  /** Where it came from (a fit: run, objective, residual, params, ci, date). */
  provenance: unknown;
  createdAt: string;
}

interface CircuitRow {
  name: string;
  document: string;
  provenance: string;
  created_at: string;
}

const record = (r: CircuitRow): StoredCircuit => ({ name: r.name, document: JSON.parse(r.document), provenance: JSON.parse(r.provenance), createdAt: r.created_at });

export class Circuits {
  constructor(private readonly st: Statements) {}

  /** Stores a new circuit; a name already taken is refused (CIRCUIT_EXISTS), so a fit never overwrites one. */
  save(name: string, document: unknown, provenance: unknown): StoredCircuit {
    const createdAt = new Date().toISOString();
    const r = this.st.sql('INSERT INTO circuits (name, document, provenance, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING').run(name, JSON.stringify(document), JSON.stringify(provenance ?? null), createdAt);
    if (r.changes === 0) throw new StoreError('CIRCUIT_EXISTS', `a circuit named "${name}" is stored already`);
    return { name, document, provenance: provenance ?? null, createdAt };
  }

  get(name: string): StoredCircuit | undefined {
    const row = this.st.sql('SELECT * FROM circuits WHERE name = ?').get(name) as CircuitRow | undefined;
    return row && record(row);
  }

  /** Stored circuits, newest first. */
  list(): StoredCircuit[] {
    return (this.st.sql('SELECT * FROM circuits ORDER BY created_at DESC, rowid DESC').all() as CircuitRow[]).map(record);
  }
}
