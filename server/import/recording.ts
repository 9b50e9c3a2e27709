/**
 * Recordings made elsewhere, read into one shape (channels of SI values on a uniform clock): oscilloscope
 * CSVs (Tektronix, Keysight, Rigol, Rohde & Schwarz, LeCroy, Siglent: preambles, two-line headers,
 * semicolons with decimal commas), plain CSV, NPY, WAV and spikeloop's own NWB. Used by `spikeloop import`,
 * `POST /api/import` and `spikeloop analyze <file>`. Formats and rules: docs/import.md.
 *
 * Never a silent default: the rate comes from a time column, the file's own header, or `rate`, else the file
 * is refused naming the rate option (`--rate` or `rate=`, ReadOptions.naming); a non-uniform time column, a ragged row, a non-numeric or empty cell, a
 * header that claims more data than the file holds, or a binary file is refused naming the line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportFileName } from '../export/index.ts';
import { ImportError, cellNumber, importOption, parseCsv, type CsvTable, type OptionNaming } from './csv.ts';
import { eventColumns, readEventsCsv, type EventTarget, type FoundEvent, type RecordingEvents } from './events.ts';
import { inferStimulus } from './roles.ts';

export { ImportError, type OptionNaming } from './csv.ts';

import { IMPORT_FORMATS } from '../../common/schemas/runs.ts';

export { IMPORT_FORMATS };
export type ImportFormat = Exclude<(typeof IMPORT_FORMATS)[number], 'auto'>;

/** Largest file read (a text file must also fit in one string). */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;
/** Most samples per channel. */
export const MAX_IMPORT_SAMPLES = 100_000_000;

export interface RecordingChannel {
  name: string;
  /** SI unit ('' when the file does not say and no --unit was given). */
  unit: string;
  role: 'stimulus' | 'response';
  values: Float64Array;
}

export interface Recording {
  format: ImportFormat;
  /** The instrument the file's layout identifies (oscilloscope CSVs), or null. */
  vendor: string | null;
  /** Samples per second. */
  sampleRate: number;
  /** Time of the first sample in the file's own clock, s (a scope's trigger-relative start). */
  t0: number;
  /** Where the rate came from: 'time column', 'header', 'sidecar', 'rate option'. */
  rateFrom: string;
  channels: RecordingChannel[];
  /** key → value lines of the file's preamble (model, record length, ...). */
  header: Record<string, string>;
  /** What the reader inferred rather than read (a CSV's stimulus from its names, ./roles.ts): the run's notes. */
  notes?: string[];
  /** The run's spikes, markers and faults (an events export read with the file, or an NWB file's own). */
  events?: RecordingEvents;
  /** The exported run this file came from (an export's sidecar, or an NWB export's /general): label, tags, notes, protocol. */
  origin?: RunOrigin;
}

/** What a spikeloop export says of its run, beyond the samples. */
export interface RunOrigin {
  runId: number | null;
  label: string | null;
  notes: string | null;
  tags: string[];
  /** The exported run's protocol document. */
  protocol: { kind: string; [k: string]: unknown } | null;
}

export interface ReadOptions {
  format?: ImportFormat | 'auto';
  /** Samples per second, for files without a time column or rate in their header. */
  rate?: number;
  /** Unit of channels whose file names none. */
  unit?: string;
  /** Name of the channel that is the stimulus (role 'stimulus'); NWB files say it themselves. */
  stimulus?: string;
  /**
   * A CSV without a sidecar or `stimulus`: take the channel its names mark as the stimulus (./roles.ts
   * inferStimulus; default true). False: every channel a response, as the file states no roles.
   */
  inferRoles?: boolean;
  /**
   * The parsed JSON sidecar (`run-<id>_about.json`, server/export sidecar()) of a spikeloop CSV or NPY export:
   * the channels' names, units, roles and rates, which the CSV header (no roles) and NPY (no rate) lack.
   */
  sidecar?: unknown;
  /** The run's events export (`run-<id>-events.csv`) read with the file, checked against it (./events.ts). */
  events?: { text: string; name: string };
  /** How messages and notes name these options: `spikeloop import`'s flags (default) or POST /api/import's query fields. */
  naming?: OptionNaming;
}

/** The text of an export's `_about.json` as ReadOptions.sidecar; not JSON is a BAD_IMPORT naming `what` (field /query/sidecar). */
export function parseSidecar(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ImportError(`${what}: the sidecar is not JSON (${(err as Error).message})`, SIDECAR);
  }
}

/** Where a sidecar's own faults point: the option that carries it (the CLI's --sidecar reads the same file into it). */
const SIDECAR = importOption('api', 'sidecar').field;

/** A channel as an export's sidecar describes it (server/export sidecar()). */
interface SidecarChannel {
  name: string;
  unit: string;
  role: 'stimulus' | 'response';
  sample_rate_hz: number;
  scale: number;
  offset: number;
  file?: string;
}

/**
 * The sidecar's channels, checked; `format` is the export format of the file read with it. An NPY file also
 * takes the CSV export's sidecar (the one the dashboard's "metadata (JSON)" link gives): same channels, never raw.
 */
function sidecarOf(sidecar: unknown, what: string, format: 'csv' | 'npy'): { format: 'csv' | 'npy'; raw: boolean; channels: SidecarChannel[] } | undefined {
  if (sidecar === undefined) return undefined;
  const s = (typeof sidecar === 'object' && sidecar !== null ? sidecar : {}) as { spikeloop_export?: unknown; format?: unknown; raw?: unknown; channels?: unknown };
  if (s.spikeloop_export !== 1 || !Array.isArray(s.channels)) throw new ImportError(`${what}: the sidecar is not a spikeloop export's _about.json (it needs "spikeloop_export": 1 and "channels")`, SIDECAR);
  if (s.format !== format && !(format === 'npy' && s.format === 'csv')) throw new ImportError(`${what}: the sidecar describes a ${String(s.format)} export, the file is ${format.toUpperCase()}`);
  const channels = s.channels as SidecarChannel[];
  channels.forEach((c, k) => {
    const ok = typeof c?.name === 'string' && typeof c.unit === 'string' && (c.role === 'stimulus' || c.role === 'response') && c.sample_rate_hz > 0 && Number.isFinite(c.scale) && Number.isFinite(c.offset);
    if (!ok) throw new ImportError(`${what}: sidecar channels[${k}] needs name, unit, role (stimulus or response), sample_rate_hz > 0, scale and offset`, SIDECAR);
  });
  return { format: s.format as 'csv' | 'npy', raw: s.format === 'npy' && s.raw === true, channels };
}

/** The exported run as the sidecar's `run` and `protocol` describe it (both optional: the dashboard sends what fits a URL). */
function sidecarOrigin(sidecar: unknown, what: string): RunOrigin | undefined {
  const s = sidecar as { run?: { id?: unknown; label?: unknown; notes?: unknown; tags?: unknown }; protocol?: unknown } | undefined;
  if (s?.run === undefined && s?.protocol === undefined) return undefined;
  const r = s.run ?? {};
  const text = (v: unknown, name: string) => {
    if (v === undefined || v === null || typeof v === 'string') return (v as string | undefined) ?? null;
    throw new ImportError(`${what}: the sidecar's run.${name} is not text`, SIDECAR);
  };
  const p = s.protocol;
  if (r.id !== undefined && r.id !== null && !Number.isSafeInteger(r.id)) throw new ImportError(`${what}: the sidecar's run.id is not a run id`, SIDECAR);
  if (r.tags !== undefined && !(Array.isArray(r.tags) && r.tags.every((t) => typeof t === 'string'))) throw new ImportError(`${what}: the sidecar's run.tags is not a list of text`, SIDECAR);
  if (p !== undefined && p !== null && typeof (p as { kind?: unknown }).kind !== 'string') throw new ImportError(`${what}: the sidecar's protocol has no kind`, SIDECAR);
  return { runId: (r.id as number | undefined) ?? null, label: text(r.label, 'label'), notes: text(r.notes, 'notes'), tags: (r.tags as string[] | undefined) ?? [], protocol: (p as RunOrigin['protocol']) ?? null };
}

/** The sidecar's rate, refused when the file's own (time column) or the rate option disagrees beyond rounding. */
function sidecarRate(side: SidecarChannel, other: number | undefined, from: string, what: string, opts: ReadOptions): number {
  if (other !== undefined && Math.abs(other - side.sample_rate_hz) > 1e-6 * side.sample_rate_hz) {
    const rate = importOption(opts.naming, 'rate');
    const given = from === RATE_OPTION;
    throw new ImportError(`${what}: the sidecar's rate for ${side.name} (${side.sample_rate_hz} Hz) disagrees with the ${given ? rate.text : from} (${other} Hz)`, given ? rate.field : SIDECAR);
  }
  return side.sample_rate_hz;
}

/** Recording.rateFrom when the rate option gave it. */
const RATE_OPTION = 'rate option';

/** Unit words scopes write → SI unit and the factor to it. */
const UNITS: Record<string, [string, number]> = {
  v: ['V', 1], volt: ['V', 1], volts: ['V', 1], mv: ['V', 1e-3], uv: ['V', 1e-6], 'µv': ['V', 1e-6],
  a: ['A', 1], amp: ['A', 1], amps: ['A', 1], ampere: ['A', 1], ma: ['A', 1e-3], ua: ['A', 1e-6], 'µa': ['A', 1e-6], na: ['A', 1e-9],
  s: ['s', 1], sec: ['s', 1], second: ['s', 1], seconds: ['s', 1], ms: ['s', 1e-3], us: ['s', 1e-6], 'µs': ['s', 1e-6], ns: ['s', 1e-9],
  ohm: ['Ohm', 1], ω: ['Ohm', 1], w: ['W', 1], siemens: ['S', 1],
};

function siUnit(u: string): [string, number] {
  const k = u.trim().toLowerCase();
  // own keys only: a header's "(constructor)" or "(__proto__)" is a unit kept as written (it was a 500)
  return Object.hasOwn(UNITS, k) ? UNITS[k] : [u.trim(), 1];
}

/**
 * "CH1 (V)", "Time [s]", "v_mem (V)" → name and unit: the unit is what follows the first opening bracket after
 * the last closing one, up to the cell's closing bracket. Read by hand in one pass: the regular expression it
 * replaces backtracked cubically (a header cell of "(", 4,000 spaces and a letter held a pool thread 30 s).
 */
function splitName(cell: string): { name: string; unit: string } {
  const t = cell.trimEnd();
  if (!t.endsWith(')') && !t.endsWith(']')) return { name: cell, unit: '' };
  const body = t.slice(0, -1);
  const from = Math.max(body.lastIndexOf(')'), body.lastIndexOf(']')) + 1;
  const open = body.slice(from).search(/[([]/);
  const name = open < 0 ? '' : body.slice(0, from + open).trimEnd();
  return name ? { name, unit: body.slice(from + open + 1).trimStart() } : { name: cell, unit: '' };
}

const TIME_NAMES = new Set(['time', 't', 'time_s', 'x-axis', 'second', 'seconds', 'sec', 'time (s)']);
const INDEX_NAMES = new Set(['index', 'sample', 'samples', 'no.', 'sequence']);
const UNIT_WORDS = new Set([...Object.keys(UNITS), 'sequence', 'div', '']);

function detectVendor(header: string[][], names: string[]): string | null {
  const first = (header[0]?.[0] ?? '').toLowerCase();
  const keys = new Map(header.map((r) => [r[0]?.toLowerCase() ?? '', r[1] ?? '']));
  if (first.startsWith('lecroy')) return 'LeCroy';
  const model = keys.get('model') ?? keys.get('model number') ?? '';
  if (/^(tbs|tds|mso|mdo|dpo|tek)/i.test(model)) return 'Tektronix';
  if (/^sds/i.test(model)) return 'Siglent';
  if (names[0]?.toLowerCase() === 'x' && names.some((n) => n.toLowerCase() === 'increment')) return 'Rigol';
  if (names[0]?.toLowerCase() === 'x-axis') return 'Keysight';
  if (/\[s\]/i.test(names[0] ?? '')) return 'Rohde & Schwarz';
  return null;
}

/** A CSV (oscilloscope or plain) into a recording. */
/**
 * Tektronix's older layout (TDS/TBS1000 "CSV" save): six fields per channel on every line, the setting name
 * and value in fields 1-2 beside the time and value in fields 4-5, channels side by side. Rewritten as a
 * `time (s), <source> (<unit>), ...` table with the settings as the preamble; undefined for other files.
 */
function tektronixColumns(table: CsvTable): { rows: string[][]; lines: number[]; header: Record<string, string> } | undefined {
  const first = table.rows[0];
  if (!first || first[0] !== 'Record Length' || first.length < 5 || Number.isNaN(cellNumber(first[3])) || Number.isNaN(cellNumber(first[4]))) return undefined;
  const blocks = Math.max(1, Math.floor((first.length + 1) / 6));
  const header: Record<string, string> = {};
  const names: string[] = [];
  for (let b = 0; b < blocks; b++) {
    const settings = new Map(table.rows.filter((r) => r[b * 6]).map((r) => [r[b * 6], r[b * 6 + 1] ?? '']));
    if (b === 0) for (const [k, v] of settings) header[k] = v;
    names.push(`${settings.get('Source') ?? `CH${b + 1}`} (${settings.get('Vertical Units') ?? ''})`);
  }
  const rows = [[`TIME (${header['Horizontal Units'] ?? 's'})`, ...names], ...table.rows.map((r) => [r[3] ?? '', ...Array.from({ length: blocks }, (_, b) => r[b * 6 + 4] ?? '')])];
  return { rows, lines: [table.lines[0], ...table.lines], header };
}

export function readCsvRecording(text: string, what: string, opts: ReadOptions = {}): Recording {
  const table = parseCsv(text, what);
  const tek = tektronixColumns(table);
  const rows = tek?.rows ?? table.rows;
  const lines = tek?.lines ?? table.lines;
  const decimalComma = table.decimalComma;
  const num = (c: string) => cellNumber(c, decimalComma);
  const trimEnd = (r: string[]) => {
    let n = r.length;
    while (n > 0 && r[n - 1] === '') n--;
    return r.slice(0, n);
  };
  const isNumeric = (r: string[]) => r.length > 0 && r.every((c) => !Number.isNaN(num(c)));
  const first = rows.findIndex((r) => isNumeric(trimEnd(r)));
  if (first < 0) throw new ImportError(`${what}: no numeric data rows (is it a CSV of samples?)`);
  const head = rows.slice(0, first).map(trimEnd);
  const width = trimEnd(rows[first]).length;
  // header: the last row names the columns; a row of unit words under a row of names is a two-line header
  let names: string[] = [];
  let units: string[] = [];
  let preamble = head;
  const last = head[head.length - 1];
  const before = head[head.length - 2];
  if (last && before && last.slice(0, width).every((c) => UNIT_WORDS.has(c.toLowerCase())) && before.length >= width) {
    names = before;
    units = last;
    preamble = head.slice(0, -2);
  } else if (last && last.length >= width) {
    names = last;
    preamble = head.slice(0, -1);
  }
  const header: Record<string, string> = { ...tek?.header };
  for (const r of preamble) if (r[0]) header[r[0]] = r.slice(1).filter(Boolean).join(',');
  const vendor = tek ? 'Tektronix' : detectVendor(head, names);
  // the data block: every row numeric and as wide as the first
  const n = rows.length - first;
  if (n > MAX_IMPORT_SAMPLES) throw new ImportError(`${what}: ${n} rows; at most ${MAX_IMPORT_SAMPLES} are read`);
  const cols = Array.from({ length: width }, () => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const row = rows[first + r];
    const line = lines[first + r];
    if (row.length < width || row.slice(width).some((c) => c !== '')) {
      throw new ImportError(`${what}: line ${line} has ${trimEnd(row).length} fields, the data rows before it have ${width} (ragged rows)`);
    }
    for (let c = 0; c < width; c++) {
      // an empty cell in a full-width row is a missing sample (NaN), as spikeloop's CSV export writes a dropped one
      const v = row[c] === '' ? NaN : num(row[c]);
      if (Number.isNaN(v) && row[c] !== '') throw new ImportError(`${what}: line ${line}, column ${c + 1}: "${row[c].slice(0, 40)}" is not a number`);
      cols[c][r] = v;
    }
  }
  // a header that claims more points than the file holds (a truncated or forged file)
  const claimed = Object.entries(header).find(([k]) => /^record length$/i.test(k));
  if (claimed) {
    const m = /(\d+(\.\d*)?(e[+-]?\d+)?)/i.exec(claimed[1]);
    const count = m ? Number(m[1]) : NaN;
    if (Number.isFinite(count) && count > n) throw new ImportError(`${what}: the header claims a record length of ${count} points, the file holds ${n} rows (truncated?)`);
  }
  const parsed = Array.from({ length: width }, (_, c) => {
    const raw = names[c] ?? '';
    const s = splitName(raw);
    return { raw, name: s.name || `ch${c}`, unit: units[c] ?? s.unit };
  });
  // the time (or sample-index) column: column 0, by name or by unit
  let sampleRate: number | undefined;
  let t0 = 0;
  let rateFrom = '';
  let channelCols = parsed.map((_, c) => c);
  const c0 = parsed[0];
  const c0name = c0.name.toLowerCase();
  const c0unit = c0.unit.toLowerCase();
  const isIndex = INDEX_NAMES.has(c0name) || c0unit === 'sequence';
  const isTime = !isIndex && (TIME_NAMES.has(c0name) || siUnit(c0.unit)[0] === 's');
  if (isTime || isIndex) channelCols = channelCols.slice(1);
  if (channelCols.length === 0) throw new ImportError(`${what}: no data columns besides ${c0.raw || 'column 1'}`);
  if (isTime) {
    const factor = siUnit(c0.unit || 's')[1];
    const t = cols[0];
    if (n < 2) throw new ImportError(`${what}: one data row; a recording needs at least two samples`);
    for (let i = 1; i < n; i++) {
      if (Number.isNaN(t[i])) throw new ImportError(`${what}: line ${lines[first + i]}: the time cell is empty`);
      if (!(t[i] > t[i - 1])) throw new ImportError(`${what}: line ${lines[first + i]}: time ${t[i]} does not increase (previous ${t[i - 1]})`);
    }
    const dt = (t[n - 1] - t[0]) / (n - 1);
    for (let i = 0; i < n; i++) {
      if (Math.abs(t[i] - (t[0] + i * dt)) > 0.25 * dt) {
        throw new ImportError(
          `${what}: non-uniform time column: line ${lines[first + i]} has t = ${t[i]}, a uniform clock from ${t[0]} with step ${dt} puts it at ${t[0] + i * dt}; resample the recording to a uniform rate first`,
        );
      }
    }
    // 12 significant digits: the time column's decimal rounding (an export's index / rate) leaves noise in
    // the last bits of 1 / dt (100000.00000000001 Hz); far below the ¼-step uniformity check above
    sampleRate = Number((1 / (dt * factor)).toPrecision(12));
    t0 = t[0] * factor;
    rateFrom = 'time column';
  } else {
    // Rigol: X is the sample number, the rate is 1/Increment from the header's Start/Increment columns
    const inc = names.findIndex((c) => c.toLowerCase() === 'increment');
    const start = names.findIndex((c) => c.toLowerCase() === 'start');
    const incRow = units.length ? units : [];
    const incValue = inc >= 0 ? num(incRow[inc] ?? '') : NaN;
    const interval = Object.entries(header).find(([k]) => /^sample interval$/i.test(k));
    if (incValue > 0) {
      sampleRate = 1 / incValue;
      t0 = start >= 0 && Number.isFinite(num(incRow[start] ?? '')) ? num(incRow[start]) : 0;
      rateFrom = 'header';
    } else if (interval && cellNumber(interval[1].split(',')[0]) > 0) {
      sampleRate = 1 / cellNumber(interval[1].split(',')[0]);
      rateFrom = 'header';
    }
  }
  if (opts.rate !== undefined) {
    if (sampleRate !== undefined && Math.abs(opts.rate - sampleRate) > 1e-3 * sampleRate) rateRefused(opts, `the file's ${rateFrom} (${sampleRate} Hz)`, what);
    if (sampleRate === undefined) rateFrom = RATE_OPTION;
    sampleRate ??= opts.rate;
  }
  if (sampleRate === undefined) {
    const rate = importOption(opts.naming, 'rate', '<Hz>');
    throw new ImportError(`${what}: no time column and no sample rate in the file; give the rate with ${rate.text}`, rate.field);
  }
  // a spikeloop CSV export's sidecar: each column's role and unit, and the exact rate the time column rounds
  const side = sidecarOf(opts.sidecar, what, 'csv');
  const described = channelCols.map((c) => {
    const d = side?.channels.find((ch) => ch.name === parsed[c].name);
    if (side && !d) throw new ImportError(`${what}: column "${parsed[c].raw}" is not among the sidecar's channels (${side.channels.map((ch) => ch.name).join(', ')})`);
    return d;
  });
  if (described[0]) {
    sampleRate = sidecarRate(described[0], sampleRate, rateFrom, what, opts);
    rateFrom = 'sidecar';
  }
  checkRate(sampleRate, what);
  const headerUnit = Object.entries(header).find(([k]) => /^vertical units?$/i.test(k))?.[1];
  const channels = channelCols.map((c, k) => {
    const p = parsed[c];
    const [unit, factor] = siUnit(p.unit || headerUnit || opts.unit || '');
    const values = cols[c];
    if (factor !== 1) for (let i = 0; i < n; i++) values[i] *= factor;
    return { name: p.name, unit: described[k]?.unit ?? unit, role: described[k]?.role ?? ('response' as const), values };
  });
  const format = vendor || Object.keys(header).length ? 'scope-csv' : 'csv';
  // no roles in the file: the stimulus from the names (spikeloop's export layout: time_s first), said in the notes
  const inferred = side || opts.stimulus !== undefined || opts.inferRoles === false ? undefined : inferStimulus(channels.map((c) => c.name), format === 'csv' && c0.raw === 'time_s', opts.naming);
  if (inferred?.stimulus != null) channels[inferred.stimulus].role = 'stimulus';
  const notes = inferred?.note ? [inferred.note] : [];
  return withStimulus({ format, vendor, sampleRate, t0, rateFrom, channels, header, notes, origin: side && sidecarOrigin(opts.sidecar, what) }, what, opts);
}

/** The rate option refused: the file states its own rate (`own`), which it disagrees with. */
function rateRefused(opts: ReadOptions, own: string, what: string): never {
  const rate = importOption(opts.naming, 'rate');
  throw new ImportError(`${what}: ${importOption(opts.naming, 'rate', opts.rate).text} Hz disagrees with ${own}; leave ${rate.text} out`, rate.field);
}

function checkRate(rate: number, what: string): void {
  if (!(rate > 0) || !Number.isFinite(rate) || rate > 1e12) throw new ImportError(`${what}: sample rate ${rate} Hz is not between 0 and 1e12`);
}

/** Unique channel names; `opts.stimulus` names the stimulus channel. */
function withStimulus(rec: Recording, what: string, opts: ReadOptions): Recording {
  const seen = new Set<string>();
  for (const ch of rec.channels) {
    let name = ch.name;
    for (let k = 2; seen.has(name); k++) name = `${ch.name}_${k}`;
    ch.name = name;
    seen.add(name);
  }
  if (opts.stimulus !== undefined) {
    const ch = rec.channels.find((c) => c.name === opts.stimulus);
    const stimulus = importOption(opts.naming, 'stimulus', opts.stimulus);
    if (!ch) throw new ImportError(`${what}: ${stimulus.text}: no such channel (channels: ${rec.channels.map((c) => c.name).join(', ')})`, stimulus.field);
    ch.role = 'stimulus';
  }
  return rec;
}

const NPY_TYPES: Record<string, { bytes: number; read: (b: Buffer, o: number) => number }> = {
  '<i2': { bytes: 2, read: (b, o) => b.readInt16LE(o) },
  '<u2': { bytes: 2, read: (b, o) => b.readUInt16LE(o) },
  '<i4': { bytes: 4, read: (b, o) => b.readInt32LE(o) },
  '<f4': { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  '<f8': { bytes: 8, read: (b, o) => b.readDoubleLE(o) },
};

/** NPY 1.0/2.0, 1-D (one channel, named after the file) or 2-D (samples × channels), C order. */
export function readNpyRecording(buf: Buffer, what: string, opts: ReadOptions = {}): Recording {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new ImportError(`${what}: not an NPY file`);
  const major = buf[6];
  const start = major === 1 ? 10 : 12;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (start + hlen > buf.length) throw new ImportError(`${what}: NPY header longer than the file`);
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new ImportError(`${what}: Fortran-ordered arrays are not supported`);
  const t = descr ? NPY_TYPES[descr] : undefined;
  if (!t) throw new ImportError(`${what}: dtype ${descr} not supported (use <i2 <u2 <i4 <f4 <f8)`);
  const dims = (shape ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length < 1 || dims.length > 2 || !dims.every((d) => Number.isInteger(d) && d >= 0)) throw new ImportError(`${what}: expected a 1-D or 2-D array, shape (${shape})`);
  const [n, nc = 1] = dims;
  if (nc > 4096) throw new ImportError(`${what}: ${nc} channels; at most 4096 are read`);
  const dataStart = start + hlen;
  if (buf.length < dataStart + n * nc * t.bytes) {
    throw new ImportError(`${what}: the header claims ${n}×${nc} samples (${n * nc * t.bytes} bytes), the file holds ${buf.length - dataStart} bytes (truncated?)`);
  }
  if (n < 2) throw new ImportError(`${what}: ${n} samples; a recording needs at least two`);
  // a spikeloop NPY export (one channel per file): the sidecar's entry for this file has its name, unit, role, rate
  const side = sidecarOf(opts.sidecar, what, 'npy');
  const file = path.basename(what);
  // the file each sidecar channel describes: an NPY export's own `file`; in the CSV export's sidecar, the name
  // the NPY export gives that channel of the same run (run-<id>.csv → run-<id>-<channel>.npy)
  const npyFile = (c: SidecarChannel) => {
    const run = side?.format === 'csv' ? /^run-(\d+)\.csv$/.exec(c.file ?? '') : null;
    return run ? exportFileName(Number(run[1]), 'npy', c.name) : c.file;
  };
  // a browser saves a second download of run-3-stim.npy as "run-3-stim (1).npy"
  const saved = file.replace(/ \(\d+\)(?=\.npy$)/i, '');
  const d = side?.channels.find((c) => npyFile(c) === saved);
  if (side && (!d || nc !== 1)) throw new ImportError(`${what}: the sidecar describes the files ${side.channels.map(npyFile).join(', ')}, one channel each, not ${file}`);
  const rate = d ? sidecarRate(d, opts.rate, RATE_OPTION, what, opts) : opts.rate;
  if (rate === undefined) {
    const option = importOption(opts.naming, 'rate', '<Hz>');
    throw new ImportError(`${what}: an NPY file has no sample rate; give it with ${option.text} (or the export's _about.json sidecar)`, option.field);
  }
  checkRate(rate, what);
  const base = file.replace(/\.npy$/i, '');
  const [unit, factor] = siUnit(opts.unit ?? '');
  // a raw export holds the stored codes: physical = raw · scale + offset
  const [gain, shift] = d ? (side!.raw ? [d.scale, d.offset] : [1, 0]) : [factor, 0];
  const channels = Array.from({ length: nc }, (_, c) => {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = t.read(buf, dataStart + (i * nc + c) * t.bytes) * gain + shift;
    return { name: d?.name ?? (nc === 1 ? base : `${base}_${c}`), unit: d?.unit ?? unit, role: d?.role ?? ('response' as const), values };
  });
  return withStimulus({ format: 'npy', vendor: null, sampleRate: rate, t0: 0, rateFrom: d ? 'sidecar' : RATE_OPTION, channels, header: {}, origin: side && sidecarOrigin(opts.sidecar, what) }, what, opts);
}

/** RIFF WAVE: PCM 8/16/24/32-bit or IEEE float 32/64; values as a fraction of full scale (unit from --unit). */
export function readWavRecording(buf: Buffer, what: string, opts: ReadOptions = {}): Recording {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') throw new ImportError(`${what}: not a WAV file`);
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: { at: number; size: number } | undefined;
  for (let p = 12; p + 8 <= buf.length; ) {
    const id = buf.toString('latin1', p, p + 4);
    const size = buf.readUInt32LE(p + 4);
    if (p + 8 + size > buf.length) throw new ImportError(`${what}: chunk "${id}" claims ${size} bytes, the file holds ${buf.length - p - 8} after it (truncated?)`);
    if (id === 'fmt ') {
      let format = buf.readUInt16LE(p + 8);
      if (format === 0xfffe && size >= 40) format = buf.readUInt16LE(p + 8 + 24); // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first 2 bytes
      fmt = { format, channels: buf.readUInt16LE(p + 10), rate: buf.readUInt32LE(p + 12), bits: buf.readUInt16LE(p + 22) };
    } else if (id === 'data') data = { at: p + 8, size };
    p += 8 + size + (size & 1);
  }
  if (!fmt || !data) throw new ImportError(`${what}: WAV without ${fmt ? 'data' : 'fmt '} chunk`);
  const { format, channels: nc, rate, bits } = fmt;
  const bytes = bits / 8;
  const read =
    format === 1 && bits === 8 ? (o: number) => (buf[o] - 128) / 128
    : format === 1 && bits === 16 ? (o: number) => buf.readInt16LE(o) / 32768
    : format === 1 && bits === 24 ? (o: number) => buf.readIntLE(o, 3) / 8388608
    : format === 1 && bits === 32 ? (o: number) => buf.readInt32LE(o) / 2147483648
    : format === 3 && bits === 32 ? (o: number) => buf.readFloatLE(o)
    : format === 3 && bits === 64 ? (o: number) => buf.readDoubleLE(o)
    : undefined;
  if (!read || nc < 1) throw new ImportError(`${what}: WAV format ${format} with ${bits} bits per sample is not supported (PCM 8/16/24/32, float 32/64)`);
  const n = Math.floor(data.size / (bytes * nc));
  if (n < 2) throw new ImportError(`${what}: ${n} samples; a recording needs at least two`);
  if (opts.rate !== undefined && opts.rate !== rate) rateRefused(opts, `the WAV header (${rate} Hz)`, what);
  checkRate(rate, what);
  const [unit, factor] = siUnit(opts.unit ?? '');
  const channels = Array.from({ length: nc }, (_, c) => {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = read(data.at + (i * nc + c) * bytes) * factor;
    return { name: `ch${c}`, unit, role: 'response' as const, values };
  });
  return withStimulus({ format: 'wav', vendor: null, sampleRate: rate, t0: 0, rateFrom: 'header', channels, header: {} }, what, opts);
}

/** spikeloop's own NWB export (server/export/nwb.ts): the TimeSeries of /acquisition and /stimulus/presentation. */
export async function readNwbRecording(buf: Buffer, what: string, opts: ReadOptions = {}): Promise<Recording> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-import-'));
  const file = path.join(dir, 'in.nwb');
  writeFileSync(file, buf);
  let f: InstanceType<typeof h5wasm.File> | undefined;
  try {
    f = new h5wasm.File(file, 'r');
    if (f.attrs['neurodata_type']?.value !== 'NWBFile') throw new ImportError(`${what}: an HDF5 file but not NWB (no neurodata_type NWBFile at /)`);
    const channels: RecordingChannel[] = [];
    let sampleRate: number | undefined;
    let unpacked = 0;
    for (const [groupPath, role] of [['stimulus/presentation', 'stimulus'], ['acquisition', 'response']] as const) {
      const g = f.get(groupPath);
      if (!g || !('keys' in g)) continue;
      for (const key of (g as InstanceType<typeof h5wasm.Group>).keys()) {
        const s = f.get(`${groupPath}/${key}`) as InstanceType<typeof h5wasm.Group> | null;
        const data = s?.get('data') as InstanceType<typeof h5wasm.Dataset> | null;
        const t0 = s?.get('starting_time') as InstanceType<typeof h5wasm.Dataset> | null;
        if (!data || !t0 || !t0.attrs['rate']) continue; // not a regularly sampled TimeSeries (events, ...)
        const rate = Number(t0.attrs['rate'].value);
        if (sampleRate !== undefined && rate !== sampleRate) throw new ImportError(`${what}: series ${key} has rate ${rate} Hz, the others ${sampleRate} Hz; spikeloop runs have one rate`);
        sampleRate = rate;
        const conv = Number(data.attrs['conversion']?.value ?? 1);
        const off = Number(data.attrs['offset']?.value ?? 0);
        const shape = data.shape ?? [];
        if (shape.length !== 1) throw new ImportError(`${what}: series ${key} is not 1-D`);
        // A compressed (or never written, fill-value) dataset may claim far more than the file holds: an 8 kB
        // file claimed 1e10 samples. Its samples, uncompressed, may be no more than an upload could carry.
        unpacked += shape[0] * (data.metadata?.size ?? 8);
        if (unpacked > MAX_IMPORT_BYTES) {
          throw new ImportError(`${what}: series ${key} claims ${shape[0]} samples; the series so far hold ${(unpacked / 2 ** 20).toFixed(0)} MiB uncompressed, at most ${MAX_IMPORT_BYTES / 2 ** 20} MiB (an import's limit)`);
        }
        const raw = data.value as ArrayLike<number>;
        const values = Float64Array.from(raw, (v) => v * conv + off);
        // the export writes NWB's required unit as 'n/a' for a channel without one
        const unit = String(data.attrs['unit']?.value ?? '');
        channels.push({ name: key, unit: unit === 'n/a' ? '' : unit, role, values });
      }
    }
    if (!channels.length || sampleRate === undefined) throw new ImportError(`${what}: no regularly sampled TimeSeries in /acquisition or /stimulus/presentation`);
    checkRate(sampleRate, what);
    const rec = withStimulus({ format: 'nwb', vendor: null, sampleRate, t0: 0, rateFrom: 'header', channels, header: {} }, what, opts);
    rec.events = nwbEvents(f, rec, what);
    rec.origin = nwbOrigin(f, what);
    return rec;
  } catch (err) {
    // HDF5's own refusal of a damaged file (a group or attribute it cannot read: "name not defined") is the
    // file's fault; a TypeError is ours and stays a 500
    if (err instanceof ImportError || err instanceof TypeError) throw err;
    throw new ImportError(`${what}: not a readable HDF5/NWB file (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    f?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a recording's events are checked against (./events.ts). */
function eventTarget(rec: Recording): EventTarget {
  return { channels: rec.channels.map((c) => c.name), samples: rec.channels[0].values.length, sampleRate: rec.sampleRate };
}

type H5File = InstanceType<Awaited<typeof import('h5wasm/node')>['default']['File']>;
type H5Dataset = InstanceType<Awaited<typeof import('h5wasm/node')>['default']['Dataset']>;

/** A dataset's value at `p`, or undefined when the file has none. */
function h5value(f: H5File, p: string): unknown {
  return (f.get(p) as H5Dataset | null)?.value;
}

/**
 * The events of spikeloop's NWB export (server/export/nwb.ts): spikes from /units (spike_times in s, one unit
 * per channel, `channel` names it) and markers and faults from the AnnotationSeries /acquisition/events
 * (text `kind: label`); the sample index is the time × rate, rounded. NWB keeps no spike values.
 */
function nwbEvents(f: H5File, rec: Recording, what: string): RecordingEvents | undefined {
  const found: FoundEvent[] = [];
  const times = h5value(f, 'units/spike_times') as ArrayLike<number> | undefined;
  if (times) {
    const ends = (h5value(f, 'units/spike_times_index') ?? []) as ArrayLike<number>;
    const names = (h5value(f, 'units/channel') ?? []) as ArrayLike<string>;
    if (ends.length !== names.length || (ends.length && ends[ends.length - 1] !== times.length)) throw new ImportError(`${what}: /units: spike_times_index and channel do not describe spike_times`);
    let from = 0;
    for (let u = 0; u < ends.length; u++) {
      for (let i = from; i < ends[u]; i++) found.push({ kind: 'spike', channel: String(names[u]), index: Math.round(times[i] * rec.sampleRate), timeS: times[i], at: `/units spike_times[${i}]` });
      from = ends[u];
    }
  }
  const texts = h5value(f, 'acquisition/events/data') as ArrayLike<string> | undefined;
  if (texts) {
    const ts = (h5value(f, 'acquisition/events/timestamps') ?? []) as ArrayLike<number>;
    if (ts.length !== texts.length) throw new ImportError(`${what}: /acquisition/events: ${texts.length} texts, ${ts.length} timestamps`);
    for (let i = 0; i < texts.length; i++) {
      const m = /^(marker|fault)(?:: ([\s\S]*))?$/.exec(String(texts[i]));
      if (!m) throw new ImportError(`${what}: /acquisition/events/data[${i}] "${String(texts[i]).slice(0, 40)}" is not a spikeloop marker or fault`);
      found.push({ kind: m[1] as 'marker' | 'fault', channel: null, index: Math.round(ts[i] * rec.sampleRate), timeS: ts[i], ...(m[2] ? { label: m[2] } : {}), at: `/acquisition/events[${i}]` });
    }
  }
  if (!found.length) return undefined;
  found.sort((a, b) => a.index - b.index);
  return eventColumns(found, eventTarget(rec), what);
}

/** The exported run an NWB export describes: /general/session_id, session_description, notes, keywords (tags), protocol. */
function nwbOrigin(f: H5File, what: string): RunOrigin | undefined {
  const id = h5value(f, 'general/session_id');
  if (id === undefined) return undefined;
  const protocolText = h5value(f, 'general/protocol');
  let protocol: RunOrigin['protocol'] = null;
  if (typeof protocolText === 'string') {
    try {
      protocol = JSON.parse(protocolText) as RunOrigin['protocol'];
    } catch {
      throw new ImportError(`${what}: /general/protocol is not JSON`);
    }
  }
  const keywords = h5value(f, 'general/keywords');
  const notes = h5value(f, 'general/notes');
  const label = h5value(f, 'session_description');
  return {
    runId: /^\d+$/.test(String(id)) ? Number(id) : null,
    label: typeof label === 'string' ? label : null,
    notes: typeof notes === 'string' ? notes : null,
    tags: Array.isArray(keywords) ? keywords.map(String) : typeof keywords === 'string' ? [keywords] : [],
    protocol,
  };
}

/** Which format a file is, from its first bytes (magic numbers), else text. */
function sniff(buf: Buffer): ImportFormat | 'text' | 'binary' {
  if (buf.toString('latin1', 0, 6) === '\x93NUMPY') return 'npy';
  if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (buf.toString('latin1', 0, 8) === '\x89HDF\r\n\x1a\n') return 'nwb';
  const head = buf.subarray(0, 65536);
  if (head.includes(0)) return 'binary';
  return 'text';
}

/** Reads a recording from a file's bytes (`what` names it in messages; its extension is not trusted). */
export async function readRecording(buf: Buffer, what: string, opts: ReadOptions = {}): Promise<Recording> {
  const rec = await readSamples(buf, what, opts);
  // an events export given with the file replaces an NWB file's own events (it also has their values)
  if (opts.events) rec.events = readEventsCsv(opts.events.text, opts.events.name, eventTarget(rec));
  return rec;
}

async function readSamples(buf: Buffer, what: string, opts: ReadOptions): Promise<Recording> {
  if (buf.length === 0) throw new ImportError(`${what}: the file is empty`);
  if (buf.length > MAX_IMPORT_BYTES) throw new ImportError(`${what}: ${buf.length} bytes; at most ${MAX_IMPORT_BYTES} are read`);
  const kind = sniff(buf);
  const format = opts.format === undefined || opts.format === 'auto' ? kind : opts.format;
  if (format === 'binary') throw new ImportError(`${what}: a binary file that is not NPY, WAV or NWB (formats: ${IMPORT_FORMATS.join(', ')})`);
  if (format === 'npy') return readNpyRecording(buf, what, opts);
  if (format === 'wav') return readWavRecording(buf, what, opts);
  if (format === 'nwb') return readNwbRecording(buf, what, opts);
  if (kind !== 'text') {
    const option = importOption(opts.naming, 'format', format);
    throw new ImportError(`${what}: ${option.text}, but the file is ${kind === 'binary' ? 'binary' : `an ${kind.toUpperCase()} file`}`, option.field);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    text = buf.toString('latin1'); // scopes write Latin-1 (µ, °) as often as UTF-8
  }
  return readCsvRecording(text, what, opts);
}
