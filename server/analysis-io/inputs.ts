/**
 * Inputs of the analyses, read from a stored run or from files (this is the I/O layer in front of the pure
 * server/analysis functions).
 *
 * Files (the formats `spikeloop export` writes):
 * - CSV: a header row `index,<channel names...>` then one row per sample index, physical units; empty
 *   cells (dropped samples) become NaN and are then held at the previous value. The CSV carries no sample
 *   rate, so the caller passes it (`--rate`, default 1 Hz, i.e. times in samples). A column named
 *   `time`/`t` instead of `index` is accepted as time in seconds, and then sets the rate from its spacing.
 * - NPY (format 1.0/2.0): one channel, 1-D, dtype <i2 <u2 <i4 <f4 <f8; physical = raw · scale + offset
 *   (`--scale`, `--offset`, default 1 and 0); the channel is named after the file.
 * - Plain value lists (power laws): numbers separated by newlines, commas or whitespace; `#` comments.
 * - Spike-train files (distances): one train per line, times in s separated by spaces or commas.
 * - Tables (resonance, STDP): CSV with a header row naming the columns.
 *
 * Runs: every channel of the run, raw samples with their scale/offset; samples of dropped ranges are
 * held at the last value before the gap (the gap count is reported); and the run's stored spike events per
 * channel (up to 1e6), which the methods use instead of detection when asked (`events: true`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SampleArray } from '../../common/run-stream.ts';
import type { RunStore, RunDetail } from '../store/run-store.ts';
import { AppError } from '../../common/errors.ts';

export interface SignalChannel {
  name: string;
  unit: string;
  role: 'stimulus' | 'response';
  /** Samples per second. */
  fs: number;
  /** Raw samples; physical = raw · scale + offset. */
  samples: SampleArray;
  scale: number;
  offset: number;
  /** Samples filled by holding the previous value (dropped ranges, empty CSV cells). */
  filled: number;
  /** Run inputs: the spike events recorded on this channel (sample indices, optional values). */
  spikeEvents?: { index: number; value: number | null }[];
}

export interface Signal {
  source: 'run' | 'csv' | 'npy' | 'json';
  runId?: number;
  run?: RunDetail;
  channels: SignalChannel[];
}

/** AppError VALIDATION: the caller's input cannot be analysed (missing channel, too few spikes, bad parameter); `field` is a JSON pointer. */
export class InputError extends AppError {
  constructor(message: string, field?: string) {
    super('VALIDATION', message, field);
  }
}

function holdNaN(x: Float64Array): number {
  let filled = 0;
  let last = NaN;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) {
      x[i] = last;
      filled++;
    } else last = x[i];
  }
  // leading NaNs take the first real value
  const first = x.findIndex((v) => !Number.isNaN(v));
  if (first > 0) x.fill(x[first], 0, first);
  return filled;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** A CSV table with a header row: column name → values (NaN for empty or non-numeric cells). */
export function readTable(file: string): Record<string, Float64Array> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new InputError(`${file}: expected a header row and at least one data row`);
  const header = splitCsvLine(lines[0]);
  const cols = header.map(() => new Float64Array(lines.length - 1));
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r].split(',');
    for (let c = 0; c < header.length; c++) {
      const s = cells[c]?.trim();
      cols[c][r - 1] = s === undefined || s === '' ? NaN : Number(s);
    }
  }
  return Object.fromEntries(header.map((h, i) => [h, cols[i]]));
}

export function readCsvSignal(file: string, rate?: number): Signal {
  const t = readTable(file);
  const names = Object.keys(t);
  let fs = rate ?? 1;
  const timeCol = names.find((n) => n === 'time' || n === 't');
  if (timeCol && rate === undefined) {
    const tc = t[timeCol];
    if (tc.length > 1) fs = (tc.length - 1) / (tc[tc.length - 1] - tc[0]);
  }
  if (!(fs > 0) || !Number.isFinite(fs)) throw new InputError(`${file}: sample rate must be > 0 Hz`);
  const channels = names
    .filter((n) => n !== 'index' && n !== timeCol)
    .map((name) => {
      const x = t[name];
      const filled = holdNaN(x);
      return { name, unit: '', role: 'response' as const, fs, samples: x, scale: 1, offset: 0, filled };
    });
  if (channels.length === 0) throw new InputError(`${file}: no data columns besides ${timeCol ?? 'index'}`);
  return { source: 'csv', channels };
}

const NPY_TYPES: Record<string, { ctor: new (b: ArrayBuffer, o: number, n: number) => SampleArray; bytes: number }> = {
  '<i2': { ctor: Int16Array, bytes: 2 },
  '<u2': { ctor: Uint16Array, bytes: 2 },
  '<i4': { ctor: Int32Array, bytes: 4 },
  '<f4': { ctor: Float32Array, bytes: 4 },
  '<f8': { ctor: Float64Array, bytes: 8 },
};

export function readNpySignal(file: string, rate?: number, scale = 1, offset = 0): Signal {
  const buf = readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new InputError(`${file}: not an NPY file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new InputError(`${file}: Fortran-ordered arrays are not supported`);
  const t = descr ? NPY_TYPES[descr] : undefined;
  if (!t) throw new InputError(`${file}: dtype ${descr} not supported (use <i2 <u2 <i4 <f4 <f8)`);
  const dims = (shape ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length !== 1) throw new InputError(`${file}: expected a 1-D array, shape (${shape})`);
  const n = dims[0];
  const dataStart = start + hlen;
  if (buf.length < dataStart + n * t.bytes) throw new InputError(`${file}: truncated (${n} samples declared)`);
  const copy = new ArrayBuffer(n * t.bytes);
  new Uint8Array(copy).set(buf.subarray(dataStart, dataStart + n * t.bytes));
  const samples = new t.ctor(copy, 0, n);
  let filled = 0;
  if (samples instanceof Float32Array || samples instanceof Float64Array) filled = holdNaN(samples as unknown as Float64Array);
  const fs = rate ?? 1;
  if (!(fs > 0)) throw new InputError(`${file}: sample rate must be > 0 Hz`);
  const name = path.basename(file, '.npy');
  return { source: 'npy', channels: [{ name, unit: '', role: 'response', fs, samples, scale, offset, filled }] };
}

/** All channels of a stored run, gaps held at the previous value. */
export function readRunSignal(store: RunStore, runId: number): Signal {
  const run = store.getRun(runId);
  if (!run) throw new InputError(`run ${runId} does not exist`);
  const channels = run.channels.map((c) => {
    const Ctor = c.dtype === 'int16' ? Int16Array : c.dtype === 'uint16' ? Uint16Array : c.dtype === 'int32' ? Int32Array : c.dtype === 'float32' ? Float32Array : Float64Array;
    const x = new Ctor(c.sampleCount);
    let pos = 0;
    let filled = 0;
    for (const seg of c.sampleCount > 0 ? store.readRaw(runId, c.index, 0, c.sampleCount) : []) {
      if (seg.start > pos) {
        x.fill(pos > 0 ? x[pos - 1] : seg.samples[0], pos, seg.start);
        filled += seg.start - pos;
      }
      x.set(seg.samples as never, seg.start);
      pos = seg.start + seg.samples.length;
    }
    if (pos < c.sampleCount) {
      x.fill(pos > 0 ? x[pos - 1] : 0, pos);
      filled += c.sampleCount - pos;
    }
    // spike events recorded with the run (online detector, simulated bench); events without a channel
    // belong to channel 0's clock and are attributed to channel 0
    const spikeEvents = store
      .listEvents(runId, { kind: 'spike', limit: 1_000_000 })
      .filter((e) => (e.channel ?? 0) === c.index)
      .map((e) => ({ index: e.index, value: e.value }));
    return { name: c.name, unit: c.unit, role: c.role, fs: c.sampleRate, samples: x, scale: c.scale, offset: c.offset, filled, spikeEvents };
  });
  return { source: 'run', runId, run, channels };
}

/** Numbers separated by newlines, commas or whitespace (lines starting with # ignored). */
export function readValues(file: string): Float64Array {
  const text = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const out = new Float64Array(parts.length);
  parts.forEach((p, i) => {
    const v = Number(p);
    if (!Number.isFinite(v)) throw new InputError(`${file}: "${p}" is not a number`);
    out[i] = v;
  });
  return out;
}

/** One spike train per line; times separated by spaces or commas; empty lines are empty trains. */
export function readTrains(file: string): Float64Array[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines
    .filter((l) => !l.trim().startsWith('#'))
    .map((l, k) => {
      const parts = l.split(/[\s,]+/).filter(Boolean);
      const t = Float64Array.from(parts, (p) => {
        const v = Number(p);
        if (!Number.isFinite(v)) throw new InputError(`${file}: train ${k + 1}: "${p}" is not a number`);
        return v;
      });
      return t.sort();
    });
}
