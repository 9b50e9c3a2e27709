/**
 * What the virtual 2600B's TSP layer shares (its errors are instrumentError with the instrument's numbers:
 * -285 syntax, -286 run time, -222 out of range ...): the values that cross between Lua (lua.ts) and the instrument,
 * the host interface the instrument implements, and `print`'s number format.
 */

/** A value crossing between Lua and the instrument; `{ ref }` names an instrument object (smua.nvbuffer1). */
export type TspValue = number | string | boolean | null | TspValue[] | { ref: string };

/** What the Lua side asks the instrument for, by dotted path. */
export interface TspHost {
  /** Value of a dotted path (attribute or constant); undefined if unknown (reads as nil). */
  get(path: string): TspValue | undefined;
  /** Assigns to a path; throw instrumentError (-286) for read-only or unknown attributes. */
  set(path: string, value: TspValue): void;
  /** Calls the function at `path`; undefined if there is no such function. */
  call(path: string, args: TspValue[]): TspValue[] | undefined;
}

/** Lua `print` formatting with the 2600B's default format.asciiprecision (6 digits): 1.00000e-03. */
export function tspFormat(v: TspValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
    const [m, e] = v.toExponential(5).split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  if (Array.isArray(v)) return `table: 0x${(v.length * 2654435761 >>> 0).toString(16)}`;
  return `${v.ref}`;
}
