/**
 * Settings declared once, like a row of the manual's command table: the query, the set template, the
 * validator (range or choices), the unit and one doc line. `getSetting`/`setSetting` are the only code
 * that talks to the wire for them; an out-of-range value is refused (OUT_OF_RANGE naming the setting and
 * the limit) before anything is written — never clipped.
 */
import { InstrumentError } from '../transport/errors.ts';
import type { Session } from '../transport/session.ts';

export interface Setting<T> {
  name: string;
  doc: string;
  unit?: string;
  /** Query command; its reply is parsed with `parse`. Absent for write-only settings. */
  query?: string;
  /** Set command for a value (already validated). */
  set: (value: T) => string;
  /** Throws OUT_OF_RANGE on a bad value. */
  validate: (value: T) => void;
  parse: (reply: string) => T;
}

function badValue(name: string, value: unknown, limit: string): InstrumentError {
  return new InstrumentError('OUT_OF_RANGE', `${name} = ${String(value)} refused: ${limit}`);
}

/** Formats a number the way SCPI/TSP accept it (no locale, exponent form for very small/large). */
export function num(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(12))) : v.toExponential(9).replace(/\.?0+e/, 'e');
}

/** A numeric setting with a closed range. `template` has `{}` where the value goes. */
export function numeric(o: {
  name: string;
  doc: string;
  unit: string;
  query?: string;
  template: string;
  min: number;
  max: number;
  integer?: boolean;
}): Setting<number> {
  return {
    name: o.name,
    doc: o.doc,
    unit: o.unit,
    query: o.query,
    set: (v) => o.template.replace('{}', num(v)),
    validate: (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badValue(o.name, v, 'not a finite number');
      if (o.integer && !Number.isInteger(v)) throw badValue(o.name, v, 'must be an integer');
      if (v < o.min || v > o.max) throw badValue(o.name, v, `allowed range ${o.min} … ${o.max} ${o.unit}`);
    },
    parse: (r) => {
      const v = Number(r.trim());
      if (!Number.isFinite(v)) throw new InstrumentError('BAD_REPLY', `${o.name}: reply ${JSON.stringify(r)} is not a number`, { command: o.query });
      return v;
    },
  };
}

/** A setting with named choices; `wire` maps each choice to its on-the-wire token (set and reply). */
export function choice<T extends string>(o: {
  name: string;
  doc: string;
  query?: string;
  template: string;
  wire: Record<T, string>;
  /** Extra reply spellings (e.g. long forms, numbers) mapped back to choices. */
  aliases?: Record<string, T>;
}): Setting<T> {
  const keys = Object.keys(o.wire) as T[];
  return {
    name: o.name,
    doc: o.doc,
    query: o.query,
    set: (v) => o.template.replace('{}', o.wire[v]),
    validate: (v) => {
      if (!keys.includes(v)) throw badValue(o.name, v, `choose one of ${keys.join(', ')}`);
    },
    parse: (r) => {
      const t = r.trim().replace(/^"|"$/g, '').toUpperCase();
      for (const k of keys) if (o.wire[k].toUpperCase() === t) return k;
      for (const [alias, k] of Object.entries(o.aliases ?? {})) {
        if (alias.toUpperCase() === t) return k as T;
        // TSP prints enum constants as numbers ("1.00000e+00")
        if (t !== '' && Number.isFinite(Number(t)) && Number(alias) === Number(t)) return k as T;
      }
      throw new InstrumentError('BAD_REPLY', `${o.name}: unexpected reply ${JSON.stringify(r)}`, { command: o.query });
    },
  };
}

/** An on/off setting (SCPI ON|OFF answering 1|0, or TSP constants via `wire`). */
export function onOff(o: { name: string; doc: string; query?: string; template: string; on?: string; off?: string }): Setting<boolean> {
  const on = o.on ?? 'ON';
  const off = o.off ?? 'OFF';
  return {
    name: o.name,
    doc: o.doc,
    query: o.query,
    set: (v) => o.template.replace('{}', v ? on : off),
    validate: (v) => {
      if (typeof v !== 'boolean') throw badValue(o.name, v, 'must be true or false');
    },
    parse: (r) => {
      const t = r.trim().toUpperCase();
      if (t === '1' || t === 'ON' || t === on.toUpperCase() || Number(t) === 1) return true;
      if (t === '0' || t === 'OFF' || t === off.toUpperCase() || Number(t) === 0) return false;
      throw new InstrumentError('BAD_REPLY', `${o.name}: unexpected reply ${JSON.stringify(r)}`, { command: o.query });
    },
  };
}

export async function setSetting<T>(session: Session, s: Setting<T>, value: T): Promise<void> {
  s.validate(value);
  await session.configure(s.set(value));
}

export async function getSetting<T>(session: Session, s: Setting<T>): Promise<T> {
  if (!s.query) throw new Error(`${s.name} cannot be queried`);
  return s.parse(await session.query(s.query));
}
