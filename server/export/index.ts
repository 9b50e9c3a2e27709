/**
 * Exports of stored runs, streamed in chunks (a 1e8-sample channel never sits in memory whole):
 *
 * - CSV: header `index,<channel names...>`, one row per sample index, physical units (raw * scale +
 *   offset, printed with full float64 precision so values round-trip exactly); an empty cell where a
 *   channel has no sample (dropped range, or a shorter channel).
 * - NPY (NumPy format 1.0): one channel per file, the raw dtype (`<i2`, `<u2`, `<i4`, `<f4`, `<f8`), shape
 *   (sampleCount,). NPY has no gaps: samples of dropped ranges are written as 0 (integer dtypes) or NaN
 *   (float dtypes); the run's `dropped` list says where they are. physical = raw * scale + offset.
 */
import type { SampleType } from '../../common/run-stream.ts';
import type { RunStore, ChannelInfo } from '../store/run-store.ts';
import { StoreError } from '../store/errors.ts';

/** Samples read from the store per chunk. */
export const EXPORT_CHUNK = 1 << 16;

export const NPY_DESCR: Record<SampleType, string> = {
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  float32: '<f4',
  float64: '<f8',
};

const BYTES: Record<SampleType, number> = { int16: 2, uint16: 2, int32: 4, float32: 4, float64: 8 };

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

function channelOf(store: RunStore, runId: number, channel: number): ChannelInfo {
  const run = store.getRun(runId);
  if (!run) throw new StoreError('RUN_NOT_FOUND', `run ${runId} does not exist`);
  const ch = run.channels.find((c) => c.index === channel);
  if (!ch) throw new StoreError('CHANNEL_NOT_FOUND', `run ${runId} has no channel ${channel}`);
  return ch;
}

/** Byte length of a channel's NPY file. */
export function npyByteLength(store: RunStore, runId: number, channel: number): number {
  const ch = channelOf(store, runId, channel);
  return npyHeader(ch.dtype, ch.sampleCount).length + ch.sampleCount * BYTES[ch.dtype];
}

/** One channel as an NPY file, in chunks. */
export function* npyChunks(store: RunStore, runId: number, channel: number): Generator<Buffer> {
  const ch = channelOf(store, runId, channel);
  yield npyHeader(ch.dtype, ch.sampleCount);
  const bytes = BYTES[ch.dtype];
  const isFloat = ch.dtype === 'float32' || ch.dtype === 'float64';
  for (let a = 0; a < ch.sampleCount; a += EXPORT_CHUNK) {
    const b = Math.min(ch.sampleCount, a + EXPORT_CHUNK);
    const out = Buffer.alloc((b - a) * bytes);
    if (isFloat) {
      const view = ch.dtype === 'float32' ? new Float32Array(out.buffer, out.byteOffset, b - a) : new Float64Array(out.buffer, out.byteOffset, b - a);
      view.fill(NaN);
    }
    for (const seg of store.readRaw(runId, channel, a, b)) {
      const src = Buffer.from(seg.samples.buffer, seg.samples.byteOffset, seg.samples.byteLength);
      src.copy(out, (seg.start - a) * bytes);
    }
    yield out;
  }
}

/** The run's channels (all, or those listed) as CSV text, in chunks of rows. */
export function* csvChunks(store: RunStore, runId: number, channels?: number[]): Generator<string> {
  const run = store.getRun(runId);
  if (!run) throw new StoreError('RUN_NOT_FOUND', `run ${runId} does not exist`);
  const chans = channels ? channels.map((c) => channelOf(store, runId, c)) : run.channels;
  yield `index,${chans.map((c) => csvField(c.name)).join(',')}\n`;
  const length = Math.max(0, ...chans.map((c) => c.sampleCount));
  const cols = chans.map(() => new Float64Array(EXPORT_CHUNK));
  for (let a = 0; a < length; a += EXPORT_CHUNK) {
    const b = Math.min(length, a + EXPORT_CHUNK);
    chans.forEach((c, k) => {
      const col = cols[k];
      col.fill(NaN);
      if (a >= c.sampleCount) return;
      for (const seg of store.readRaw(runId, c.index, a, Math.min(b, c.sampleCount))) {
        const s = seg.samples;
        const o = seg.start - a;
        for (let i = 0; i < s.length; i++) col[o + i] = s[i] * c.scale + c.offset;
      }
    });
    const lines: string[] = new Array(b - a);
    for (let i = 0; i < b - a; i++) {
      let line = String(a + i);
      for (const col of cols) {
        const v = col[i];
        line += v === v ? `,${v}` : ',';
      }
      lines[i] = line;
    }
    yield lines.join('\n') + '\n';
  }
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** File name for an export: run-<id>.csv, run-<id>-<channel name>.npy. */
export function exportFileName(runId: number, format: 'csv' | 'npy', channelName?: string): string {
  const safe = (channelName ?? '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return format === 'csv' ? `run-${runId}.csv` : `run-${runId}-${safe}.npy`;
}
