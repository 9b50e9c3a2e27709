/**
 * Inputs of the analyses, read from a stored run or from files (this is the I/O layer in front of the pure
 * server/analysis functions).
 *
 * Recording files, read by the importer's reader (server/import/recording.ts, docs/import.md): CSV of any
 * oscilloscope dialect or as `spikeloop export` writes it (`time_s,<name> (<unit>),...`), NPY, WAV, NWB. The
 * rate comes from a time column or the file's header, else from `--rate`; without any the file is refused
 * (never a silent 1 Hz). Empty CSV cells (dropped samples) are held at the previous value; NPY of raw codes
 * take `--scale`/`--offset` (physical = value · scale + offset).
 * - Plain value lists (power laws): numbers separated by newlines, commas or whitespace; `#` comments.
 * - Spike-train files (distances): one train per line, times in s separated by spaces or commas.
 * - Tables (resonance, STDP): CSV with a header row naming the columns.
 *
 * Runs: every channel of the run, raw samples with their scale/offset; samples of dropped ranges are
 * held at the last value before the gap (the gap count is reported); and the run's stored spike events per
 * channel (up to 1e6; an event without a channel goes to the first response channel on channel 0's clock),
 * which the methods use instead of detection when asked (`events: true`) and, for a twin run of a circuit that
 * declares its `spikes` (a self-spiking network), always.
 */
import { readFileSync } from 'node:fs';
import type { SampleArray } from '../../common/run-stream.ts';
import { cellNumber, parseCsv } from '../import/csv.ts';
import { ImportError, readRecording } from '../import/recording.ts';
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
  /** Run inputs: the spike events recorded on this channel (sample index, exact time when the source knew it, optional value). */
  spikeEvents?: { index: number; timeS: number | null; value: number | null }[];
  /**
   * The stored events are the run's definition of its spikes: a twin run of a circuit that declares `spikes`
   * (a network: its spikes are switching cascades, not shapes on one trace). Analyses then use them as if
   * `events` were set.
   */
  eventsDefineSpikes?: boolean;
}

export interface Signal {
  source: 'run' | 'csv' | 'npy' | 'table';
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

/** A CSV table with a header row: column name → values (NaN for empty cells); read by the one CSV reader. */
export function readTable(file: string): Record<string, Float64Array> {
  let table;
  try {
    table = parseCsv(readFileSync(file, 'utf8'), file, { comment: '#' });
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  const [header, ...rows] = table.rows;
  if (!header || rows.length < 1) throw new InputError(`${file}: expected a header row and at least one data row`);
  const cols = header.map(() => new Float64Array(rows.length));
  rows.forEach((cells, r) => {
    for (let c = 0; c < header.length; c++) {
      const s = cells[c] ?? '';
      const v = s === '' ? NaN : cellNumber(s, table.decimalComma);
      if (s !== '' && Number.isNaN(v)) throw new InputError(`${file}: line ${table.lines[r + 1]}, column ${header[c]}: "${s.slice(0, 40)}" is not a number`);
      cols[c][r] = v;
    }
  });
  return Object.fromEntries(header.map((h, i) => [h, cols[i]]));
}

/**
 * A recording file (CSV of any oscilloscope dialect, NPY, WAV, NWB) as a signal, read by the importer's
 * reader (server/import): the rate from the file's time column or header, else `rate`, else refused.
 * physical = value · scale + offset (for NPY files of raw codes); empty CSV cells are held.
 */
export async function readFileSignal(file: string, o: { rate?: number; scale?: number; offset?: number } = {}): Promise<Signal> {
  let rec;
  try {
    rec = await readRecording(readFileSync(file), file, { rate: o.rate });
  } catch (err) {
    if (err instanceof ImportError) throw new InputError(err.message);
    throw err;
  }
  const channels = rec.channels.map((c) => ({
    name: c.name,
    unit: c.unit,
    role: c.role,
    fs: rec.sampleRate,
    samples: c.values,
    scale: o.scale ?? 1,
    offset: o.offset ?? 0,
    filled: holdNaN(c.values),
  }));
  return { source: rec.format === 'npy' ? 'npy' : 'csv', channels };
}

/** All channels of a stored run, gaps held at the previous value. */
export function readRunSignal(store: RunStore, runId: number): Signal {
  const run = store.getRun(runId);
  if (!run) throw new InputError(`run ${runId} does not exist`);
  // spike events recorded with the run (online detector, simulated bench, twin); an event without a channel
  // is on channel 0's clock and belongs to the first response channel with that clock (a network spike of a
  // twin run has no single output), else to channel 0
  const events = store.listEvents(runId, { kind: 'spike', limit: 1_000_000 });
  const circuit = run.source === 'twin' ? (run.twin as { circuit?: { spikes?: unknown } } | null)?.circuit : undefined;
  const declared = Array.isArray(circuit?.spikes) && circuit.spikes.length > 0;
  const c0 = run.channels[0];
  const home = run.channels.find((c) => c.role === 'response' && c.sampleRate === c0?.sampleRate)?.index ?? 0;
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
    const spikeEvents = events.filter((e) => (e.channel ?? home) === c.index).map((e) => ({ index: e.index, timeS: e.time_s ?? null, value: e.value }));
    return { name: c.name, unit: c.unit, role: c.role, fs: c.sampleRate, samples: x, scale: c.scale, offset: c.offset, filled, spikeEvents, ...(declared ? { eventsDefineSpikes: true } : {}) };
  });
  return { source: 'run', runId, run, channels };
}

/** Table columns as a Signal with one channel per column (a measured sweep given as frequency,response rows). */
export function tableSignal(cols: Record<string, Float64Array>): Signal {
  return {
    source: 'table',
    channels: Object.entries(cols).map(([name, samples]) => ({ name, unit: '', role: 'response' as const, fs: 1, samples, scale: 1, offset: 0, filled: 0 })),
  };
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
