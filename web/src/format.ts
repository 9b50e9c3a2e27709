/** Number, unit and time formatting for the dashboard (SI prefixes, dates, durations). */

const PREFIXES: [number, string][] = [
  [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p'],
];

/** 0.0012, 'A' → "1.2 mA". `digits` significant digits. */
export function si(value: number | null | undefined, unit = '', digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return `0${unit ? ' ' + unit : ''}`;
  const abs = Math.abs(value);
  const [f, p] = PREFIXES.find(([f]) => abs >= f * 0.9995) ?? PREFIXES[PREFIXES.length - 1];
  const n = Number((value / f).toPrecision(digits));
  return `${n}${unit || p ? ' ' : ''}${p}${unit}`;
}

/** 1, 'marker' → "1 marker"; 3000, 'spike' → "3,000 spikes" (the header said "1 markers"). */
export function count(n: number, noun: string): string {
  return `${n.toLocaleString()} ${n === 1 ? noun : `${noun}s`}`;
}

/** Seconds → "1.50 s", "2 min 5 s", "1 h 02 min". */
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return si(s, 's');
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** ISO time → local "2026-11-23 14:05:09". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Time-axis tick label for a value in seconds, given the visible span. */
export function timeTick(t: number, span: number): string {
  if (span >= 5) return `${Number(t.toPrecision(6))} s`;
  if (span >= 5e-3) return `${Number((t * 1e3).toPrecision(6))} ms`;
  // Narrow spans: milliseconds with enough decimals to tell the ticks apart.
  const decimals = Math.min(6, Math.max(1, Math.ceil(-Math.log10(span * 1e3)) + 2));
  return `${(t * 1e3).toFixed(decimals)} ms`;
}
