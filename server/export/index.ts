/**
 * Exports of stored runs with their physics, streamed in chunks (a 1e8-sample channel never sits in memory
 * whole). Layout and field meanings: docs/storage.md "Exports"; reading them from Python: docs/python.md.
 *
 * - CSV `run-<id>.csv`: header `time_s,<name> (<unit>),...`, one row per sample index, time = index / rate,
 *   physical values (raw · scale + offset, printed with full float64 precision so they round-trip exactly);
 *   an empty cell where a channel has no sample (dropped range, or a shorter channel). One time column
 *   needs one rate: a run whose channels differ in rate is exported one channel at a time.
 * - NPY `run-<id>-<channel>.npy` (NumPy format 1.0), one channel per file, shape (sampleCount,): float64 in
 *   SI units with NaN in dropped ranges; with `raw`, the stored dtype (`<i2`, ...) and 0 (integers) or NaN
 *   (floats) in dropped ranges, physical = raw · scale + offset.
 * - `run-<id>-events.csv`: `time_s,kind,channel,value,label,sample_index`, one row per spike, marker or fault.
 * - `run-<id>.nwb`: NWB 2.x (./nwb.ts).
 * - The sidecar `run-<id>_about.json`: the run's metadata (rate, channels with unit, role, scale and offset,
 *   protocol, bench and circuit, software version, dropped ranges, start time) plus, at its top level, the
 *   keys Neo's AsciiSignalIO reads from `<csv name>_about.json`, and per NPY file the keyword arguments of
 *   Neo's RawBinarySignalIO, so neither reader needs a hand-typed parameter.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SAMPLE_ARRAY, type SampleType } from '../../common/run-stream.ts';
import type { RunStore, ChannelInfo, RunDetail, StoredEvent } from '../store/run-store.ts';
import { StoreError } from '../store/errors.ts';
import { SOFTWARE_VERSION } from '../version.ts';

/** Samples read from the store per chunk. */
export const EXPORT_CHUNK = 1 << 16;

export type ExportFormat = 'csv' | 'npy' | 'nwb';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'npy', 'nwb'];

export const NPY_DESCR: Record<SampleType, string> = {
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  float32: '<f4',
  float64: '<f8',
};

/** The NPY 1.0 header for a 1-D array: magic, version, header length, dict padded to a multiple of 64 bytes. */
export function npyHeader(dtype: SampleType, length: number): Buffer {
  const dict = `{'descr': '${NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': (${length},), }`;
  const unpadded = 10 + dict.length + 1; // magic(6) + version(2) + len(2) + dict + '\n'
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  const buf = Buffer.alloc(10 + header.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  return buf;
}

function runOf(store: RunStore, runId: number): RunDetail {
  const run = store.getRun(runId);
  if (!run) throw new StoreError('RUN_NOT_FOUND', `run ${runId} does not exist`);
  return run;
}

function channelOf(run: RunDetail, channel: number): ChannelInfo {
  const ch = run.channels.find((c) => c.index === channel);
  if (!ch) throw new StoreError('CHANNEL_NOT_FOUND', `run ${run.id} has no channel ${channel}`);
  return ch;
}

/** The dtype an NPY export of this channel has: float64 SI values, or the stored dtype with `raw`. */
function npyDtype(ch: ChannelInfo, raw: boolean): SampleType {
  return raw ? ch.dtype : 'float64';
}

/** Byte length of a channel's NPY file. */
export function npyByteLength(store: RunStore, runId: number, channel: number, raw = false): number {
  const ch = channelOf(runOf(store, runId), channel);
  const dtype = npyDtype(ch, raw);
  return npyHeader(dtype, ch.sampleCount).length + ch.sampleCount * SAMPLE_ARRAY[dtype].BYTES_PER_ELEMENT;
}

/** Physical values of samples [a, b) of a channel, NaN where no sample was recorded. */
export function physicalChunk(store: RunStore, runId: number, ch: ChannelInfo, a: number, b: number, out = new Float64Array(b - a)): Float64Array {
  out.fill(NaN, 0, b - a);
  const end = Math.min(b, ch.sampleCount);
  if (a >= end) return out;
  for (const seg of store.readRaw(runId, ch.index, a, end)) {
    const s = seg.samples;
    const o = seg.start - a;
    for (let i = 0; i < s.length; i++) out[o + i] = s[i] * ch.scale + ch.offset;
  }
  return out;
}

/** One channel as an NPY file, in chunks: float64 SI values, or the stored codes with `raw`. */
export function* npyChunks(store: RunStore, runId: number, channel: number, raw = false, size = EXPORT_CHUNK): Generator<Buffer> {
  const ch = channelOf(runOf(store, runId), channel);
  const dtype = npyDtype(ch, raw);
  yield npyHeader(dtype, ch.sampleCount);
  const bytes = SAMPLE_ARRAY[dtype].BYTES_PER_ELEMENT;
  for (let a = 0; a < ch.sampleCount; a += size) {
    const b = Math.min(ch.sampleCount, a + size);
    const out = Buffer.alloc((b - a) * bytes);
    if (!raw) {
      physicalChunk(store, runId, ch, a, b, new Float64Array(out.buffer, out.byteOffset, b - a));
    } else {
      if (dtype === 'float32') new Float32Array(out.buffer, out.byteOffset, b - a).fill(NaN);
      if (dtype === 'float64') new Float64Array(out.buffer, out.byteOffset, b - a).fill(NaN);
      for (const seg of store.readRaw(runId, channel, a, b)) {
        Buffer.from(seg.samples.buffer, seg.samples.byteOffset, seg.samples.byteLength).copy(out, (seg.start - a) * bytes);
      }
    }
    yield out;
  }
}

/** The one sample rate a CSV's time column follows; refuses channels of different rates. */
function commonRate(run: RunDetail, chans: ChannelInfo[]): number {
  const rates = [...new Set(chans.map((c) => c.sampleRate))];
  if (rates.length > 1) {
    throw new StoreError(
      'EXPORT_RATES_DIFFER',
      `run ${run.id}: channels have different sample rates (${chans.map((c) => `${c.name} ${c.sampleRate} Hz`).join(', ')}); export one channel at a time`,
    );
  }
  return rates[0] ?? 1;
}

/** CSV column header of a channel: `name (unit)`. */
export function csvColumnName(ch: Pick<ChannelInfo, 'name' | 'unit'>): string {
  return ch.unit ? `${ch.name} (${ch.unit})` : ch.name;
}

/** The run's channels (all, or those listed) as CSV text with a time column, in chunks of `rows` rows. */
export function* csvChunks(store: RunStore, runId: number, channels?: number[], rows = EXPORT_CHUNK): Generator<string> {
  const run = runOf(store, runId);
  const chans = channels ? channels.map((c) => channelOf(run, c)) : run.channels;
  const fs = commonRate(run, chans);
  yield `time_s,${chans.map((c) => csvField(csvColumnName(c))).join(',')}\n`;
  const length = Math.max(0, ...chans.map((c) => c.sampleCount));
  const cols = chans.map(() => new Float64Array(rows));
  for (let a = 0; a < length; a += rows) {
    const b = Math.min(length, a + rows);
    chans.forEach((c, k) => physicalChunk(store, runId, c, a, b, cols[k]));
    const lines: string[] = new Array(b - a);
    for (let i = 0; i < b - a; i++) {
      let line = String((a + i) / fs);
      for (const col of cols) {
        const v = col[i];
        line += v === v ? `,${v}` : ',';
      }
      lines[i] = line;
    }
    yield lines.join('\n') + '\n';
  }
}

/** All events of a run in index order, read in pages (a run may hold millions of spikes). */
export function* allEvents(store: RunStore, runId: number): Generator<StoredEvent> {
  const PAGE = 100_000;
  let start = 0;
  let lastId = -1;
  for (;;) {
    const page = store.listEvents(runId, { start, limit: PAGE });
    let fresh = 0;
    for (const e of page) {
      if (e.index === start && e.id <= lastId) continue;
      fresh++;
      yield e;
    }
    if (page.length < PAGE || fresh === 0) return;
    const last = page[page.length - 1];
    start = last.index;
    lastId = last.id;
  }
}

/** Time of an event in seconds: its exact time when stored (twin events), else on its channel's clock (channel 0's when it names none). */
export function eventTime(run: RunDetail, e: StoredEvent): number {
  if (e.time_s !== null && e.time_s !== undefined) return e.time_s;
  const ch = run.channels.find((c) => c.index === (e.channel ?? 0)) ?? run.channels[0];
  return e.index / (ch?.sampleRate ?? 1);
}

export const EVENTS_HEADER = 'time_s,kind,channel,value,label,sample_index';

/** The run's events as CSV: time in s, kind, channel name (empty if none), value, label, sample index. */
export function* eventsCsvChunks(store: RunStore, runId: number, rows = EXPORT_CHUNK): Generator<string> {
  const run = runOf(store, runId);
  const names = new Map(run.channels.map((c) => [c.index, c.name]));
  yield EVENTS_HEADER + '\n';
  let lines: string[] = [];
  for (const e of allEvents(store, runId)) {
    const ch = e.channel === null ? '' : csvField(names.get(e.channel) ?? String(e.channel));
    lines.push(`${eventTime(run, e)},${e.kind},${ch},${e.value ?? ''},${csvField(e.label ?? '')},${e.index}`);
    if (lines.length === rows) {
      yield lines.join('\n') + '\n';
      lines = [];
    }
  }
  if (lines.length) yield lines.join('\n') + '\n';
}

/** One file of a run's export, as GET /api/runs/:id/export streams it (made here, or written by a pool thread: workers/tasks.ts exportFile). */
export type ExportJob = { runId: number; /** Rows (CSV) or samples (NPY) per chunk. */ chunk?: number } & (
  | { kind: 'csv'; channels?: number[] }
  | { kind: 'npy'; channel: number; raw?: boolean }
  | { kind: 'events' }
);

/**
 * About the most bytes an export file takes (the room a temporary copy of it needs): an NPY file exactly; a
 * CSV row as if each value were a float at its longest (24 characters and a comma); an events row as 256.
 */
export function exportBytes(store: RunStore, job: ExportJob): number {
  const run = runOf(store, job.runId);
  switch (job.kind) {
    case 'csv': {
      const chans = job.channels ? job.channels.map((c) => channelOf(run, c)) : run.channels;
      return (1 + chans.length) * 25 * (1 + Math.max(0, ...chans.map((c) => c.sampleCount)));
    }
    case 'npy':
      return npyByteLength(store, job.runId, job.channel, job.raw);
    case 'events':
      return 256 * (1 + run.eventCounts.spike + run.eventCounts.marker + run.eventCounts.fault);
  }
}

/** The chunks of an export file (csvChunks, npyChunks, eventsCsvChunks). */
export function exportChunks(store: RunStore, job: ExportJob): Generator<string | Buffer> {
  switch (job.kind) {
    case 'csv':
      return csvChunks(store, job.runId, job.channels, job.chunk);
    case 'npy':
      return npyChunks(store, job.runId, job.channel, job.raw, job.chunk);
    case 'events':
      return eventsCsvChunks(store, job.runId, job.chunk);
  }
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export type ExportFileKind = 'csv' | 'npy' | 'nwb' | 'events' | 'sidecar';

/** File names of an export: run-<id>.csv, run-<id>-<channel>.npy, run-<id>.nwb, run-<id>-events.csv, run-<id>_about.json. */
export function exportFileName(runId: number, kind: ExportFileKind, channelName?: string): string {
  const safe = (channelName ?? '').replace(/[^A-Za-z0-9_.-]/g, '_');
  switch (kind) {
    case 'csv':
      return `run-${runId}.csv`;
    case 'npy':
      return `run-${runId}-${safe}.npy`;
    case 'nwb':
      return `run-${runId}.nwb`;
    case 'events':
      return `run-${runId}-events.csv`;
    case 'sidecar':
      return `run-${runId}_about.json`;
  }
}

/** A unit as the Python `quantities` package (Neo's units) spells it. */
function neoUnit(unit: string): string {
  return unit === '' ? 'dimensionless' : unit === 'Ohm' || unit === 'ohm' || unit === 'Ω' ? 'ohm' : unit;
}

export interface SidecarOptions {
  format: ExportFormat;
  raw?: boolean;
  /** Channel indices exported (default all). */
  channels?: number[];
}

/**
 * The JSON sidecar of an export. Its top-level `delimiter` ... `signal_group_mode` are Neo AsciiSignalIO's
 * metadata keys for the CSV (Neo finds `run-<id>_about.json` beside `run-<id>.csv` by itself); AsciiSignalIO
 * has one unit for all columns, so `units` is the channels' unit when they share one, else `dimensionless`
 * (each channel's unit is in `channels`). Each NPY channel carries `neo_raw_binary`, the keyword arguments of
 * Neo's RawBinarySignalIO for that file.
 */
export function sidecar(store: RunStore, runId: number, opts: SidecarOptions): Record<string, unknown> {
  const run = runOf(store, runId);
  const chans = opts.channels ? opts.channels.map((c) => channelOf(run, c)) : run.channels;
  const raw = opts.raw === true;
  const rates = [...new Set(chans.map((c) => c.sampleRate))];
  const units = [...new Set(chans.map((c) => c.unit))];
  const rateOf = new Map(run.channels.map((c) => [c.index, c.sampleRate]));
  const neoAscii =
    opts.format === 'csv'
      ? {
          delimiter: ',',
          skiprows: 1,
          usecols: chans.map((_, k) => k + 1),
          timecolumn: null,
          sampling_rate: { value: rates[0], units: 'Hz' },
          t_start: { value: 0, units: 's' },
          time_units: 's',
          units: units.length === 1 ? neoUnit(units[0]) : 'dimensionless',
          method: 'genfromtxt',
          signal_group_mode: 'split-all',
        }
      : {};
  return {
    ...neoAscii,
    spikeloop_export: 1,
    format: opts.format,
    raw: opts.format === 'npy' ? raw : false,
    software_version: SOFTWARE_VERSION,
    run: {
      id: run.id,
      label: run.label,
      status: run.status,
      reason: run.reason,
      source: run.source,
      created_at: run.createdAt,
      start_time: run.startedAt ?? run.createdAt,
      ended_at: run.endedAt,
      software_version: run.softwareVersion,
      linked_run_id: run.linkedRunId,
      notes: run.notes,
      tags: run.tags,
    },
    sample_rate_hz: rates.length === 1 ? rates[0] : null,
    channels: chans.map((c, k) => {
      const dtype = npyDtype(c, raw);
      return {
        index: c.index,
        name: c.name,
        unit: c.unit,
        role: c.role,
        sample_rate_hz: c.sampleRate,
        sample_count: c.sampleCount,
        dtype: c.dtype,
        scale: c.scale,
        offset: c.offset,
        ...(opts.format === 'csv' ? { file: exportFileName(run.id, 'csv'), column: k + 1, header: csvColumnName(c) } : {}),
        ...(opts.format === 'npy'
          ? {
              file: exportFileName(run.id, 'npy', c.name),
              neo_raw_binary: {
                dtype: NPY_DESCR[dtype],
                sampling_rate: c.sampleRate,
                nb_channel: 1,
                signal_gain: raw ? c.scale : 1,
                signal_offset: raw ? c.offset : 0,
                bytesoffset: npyHeader(dtype, c.sampleCount).length,
              },
            }
          : {}),
        ...(opts.format === 'nwb' ? { file: exportFileName(run.id, 'nwb') } : {}),
      };
    }),
    protocol: run.protocol,
    bench: run.bench,
    circuit: run.twin,
    dropped: run.dropped.map((d) => {
      const fs = rateOf.get(d.channel) ?? 1;
      return { channel: d.channel, start: d.start, end: d.end, start_s: d.start / fs, end_s: d.end / fs };
    }),
    events: { file: exportFileName(run.id, 'events'), counts: run.eventCounts },
  };
}

export interface ExportOptions extends SidecarOptions {
  /** Called with the number of samples (per channel) written so far, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportedFile {
  path: string;
  kind: ExportFileKind;
  channel?: string;
  bytes: number;
}

async function writeChunks(file: string, chunks: Iterable<string | Buffer>): Promise<number> {
  const stream = createWriteStream(file);
  await pipeline(Readable.from(chunks), stream);
  return stream.bytesWritten;
}

/** Writes a run's export into `dir` (created when missing): the data files, events.csv and the sidecar. */
export async function writeExport(store: RunStore, runId: number, dir: string, opts: ExportOptions): Promise<ExportedFile[]> {
  const run = runOf(store, runId);
  const chans = opts.channels ? opts.channels.map((c) => channelOf(run, c)) : run.channels;
  if (opts.format === 'csv') commonRate(run, chans); // refuse before any file is written
  mkdirSync(dir, { recursive: true });
  const files: ExportedFile[] = [];
  const total = chans.reduce((n, c) => n + c.sampleCount, 0);
  if (opts.format === 'csv') {
    const file = path.join(dir, exportFileName(runId, 'csv'));
    let rows = 0;
    const counted = function* () {
      for (const s of csvChunks(store, runId, chans.map((c) => c.index))) {
        rows += s.split('\n').length - 1;
        opts.onProgress?.(rows * chans.length, total);
        yield s;
      }
    };
    files.push({ path: file, kind: 'csv', bytes: await writeChunks(file, counted()) });
  } else if (opts.format === 'npy') {
    let done = 0;
    for (const c of chans) {
      const file = path.join(dir, exportFileName(runId, 'npy', c.name));
      files.push({ path: file, kind: 'npy', channel: c.name, bytes: await writeChunks(file, npyChunks(store, runId, c.index, opts.raw)) });
      done += c.sampleCount;
      opts.onProgress?.(done, total);
    }
  } else {
    const { writeNwb } = await import('./nwb.ts');
    const file = path.join(dir, exportFileName(runId, 'nwb'));
    files.push({ path: file, kind: 'nwb', bytes: await writeNwb(store, runId, file, { channels: chans.map((c) => c.index) }) });
    opts.onProgress?.(total, total);
  }
  const events = path.join(dir, exportFileName(runId, 'events'));
  files.push({ path: events, kind: 'events', bytes: await writeChunks(events, eventsCsvChunks(store, runId)) });
  const about = path.join(dir, exportFileName(runId, 'sidecar'));
  const text = JSON.stringify(sidecar(store, runId, opts), null, 2) + '\n';
  writeFileSync(about, text);
  files.push({ path: about, kind: 'sidecar', bytes: Buffer.byteLength(text) });
  return files;
}
