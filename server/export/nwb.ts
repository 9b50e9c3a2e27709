/**
 * NWB 2.x export of a stored run, written with h5wasm (the HDF5 C library compiled to WebAssembly).
 * Layout (NWB core schema 2.7.0, https://nwb-schema.readthedocs.io):
 *
 *   /                     NWBFile: nwb_version, identifier, session_description, session_start_time, ...
 *   /acquisition/<name>   TimeSeries per response channel: data = the stored codes (dtype as stored),
 *                         data@conversion = scale, data@offset = offset, data@unit = the SI unit, so
 *                         physical = data · conversion + offset; starting_time = 0 with @rate
 *   /stimulus/presentation/<name>   the stimulus channels, the same way
 *   /acquisition/events   AnnotationSeries of markers and faults (text, timestamps in s), when any
 *   /units                Units table: one unit per channel with spike events, spike_times in s
 *   /intervals/invalid_times        TimeIntervals: the dropped ranges (start_time, stop_time, channel)
 *   /general              protocol (JSON), data_collection (bench and circuit JSON), notes, keywords (tags), session_id,
 *                         source_script (software version)
 *
 * Samples of dropped ranges are stored as 0 (integer codes) or NaN (float codes); invalid_times says where.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Group } from 'h5wasm/node';
import { SAMPLE_ARRAY } from '../../common/run-stream.ts';
import { EXPORT_CHUNK, allEvents, eventTime } from './index.ts';
import type { RunStore, ChannelInfo } from '../store/run-store.ts';
import { StoreError } from '../store/errors.ts';
import { SOFTWARE_VERSION } from '../version.ts';

export const NWB_VERSION = '2.7.0';

/** Marks an HDF5 object as an NWB/HDMF type. */
function typed(obj: Group | ReturnType<Group['create_dataset']>, type: string, namespace = 'core'): void {
  obj.create_attribute('namespace', namespace);
  obj.create_attribute('neurodata_type', type);
  obj.create_attribute('object_id', randomUUID());
}

function text(g: Group, name: string, value: string): void {
  g.create_dataset({ name, data: value });
}

/** A float64 scalar attribute (h5wasm would store an integral number as an integer). */
function num(obj: Group | ReturnType<Group['create_dataset']>, name: string, value: number): void {
  obj.create_attribute(name, new Float64Array([value]), [], '<d');
}

function f64(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values);
}

/** A channel's stored codes as a TimeSeries, streamed chunk by chunk into a chunked dataset. */
function writeSeries(store: RunStore, runId: number, parent: Group, ch: ChannelInfo, role: string): void {
  const g = parent.create_group(ch.name);
  typed(g, 'TimeSeries');
  g.create_attribute('description', `${role} channel "${ch.name}" of spikeloop run ${runId}`);
  g.create_attribute('comments', `physical = data * conversion + offset; stored dtype ${ch.dtype}`);
  const n = ch.sampleCount;
  const Ctor = SAMPLE_ARRAY[ch.dtype];
  const data = g.create_dataset({
    name: 'data',
    data: new Ctor(0),
    shape: [0],
    maxshape: [Math.max(n, 1)],
    chunks: [Math.max(1, Math.min(EXPORT_CHUNK, n))],
  });
  data.resize([n]);
  // one write per chunk; samples of dropped ranges stay 0 (integer codes) or NaN (float codes)
  const gap = ch.dtype === 'float32' || ch.dtype === 'float64' ? NaN : 0;
  for (let a = 0; a < n; a += EXPORT_CHUNK) {
    const b = Math.min(n, a + EXPORT_CHUNK);
    const chunk = new Ctor(b - a).fill(gap);
    for (const seg of store.readRaw(runId, ch.index, a, b)) chunk.set(seg.samples as never, seg.start - a);
    data.write_slice([[a, b]], chunk);
  }
  data.create_attribute('unit', ch.unit || 'n/a');
  num(data, 'conversion', ch.scale);
  num(data, 'offset', ch.offset);
  num(data, 'resolution', ch.scale);
  const t0 = g.create_dataset({ name: 'starting_time', data: new Float64Array([0]), shape: [] });
  num(t0, 'rate', ch.sampleRate);
  t0.create_attribute('unit', 'seconds');
}

/** A DynamicTable column (VectorData). */
function column(table: Group, name: string, description: string, data: Float64Array | string[] | Int32Array) {
  const d = table.create_dataset({ name, data: data.length ? data : data instanceof Float64Array ? new Float64Array(0) : data, shape: [data.length] });
  typed(d, 'VectorData', 'hdmf-common');
  d.create_attribute('description', description);
  return d;
}

function ids(table: Group, count: number): void {
  const d = table.create_dataset({ name: 'id', data: Int32Array.from({ length: count }, (_, i) => i), shape: [count] });
  typed(d, 'ElementIdentifiers', 'hdmf-common');
}

export interface NwbOptions {
  /** Channel indices exported (default all). */
  channels?: number[];
}

/** Writes the run as an NWB 2.x file at `file` (replacing it); returns its size in bytes. */
export async function writeNwb(store: RunStore, runId: number, file: string, opts: NwbOptions = {}): Promise<number> {
  const run = store.getRun(runId);
  if (!run) throw new StoreError('RUN_NOT_FOUND', `run ${runId} does not exist`);
  const chans = opts.channels ? run.channels.filter((c) => opts.channels!.includes(c.index)) : run.channels;
  // loaded on use: the HDF5 WebAssembly module holds ~20 MB, which a server that never exports NWB should not
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  try {
    const start = run.startedAt ?? run.createdAt;
    typed(f, 'NWBFile');
    f.create_attribute('nwb_version', NWB_VERSION);
    text(f, 'identifier', `spikeloop-run-${run.id}-${start}`);
    text(f, 'session_description', run.label ?? `spikeloop run ${run.id}: ${run.protocol.kind} (${run.source})`);
    text(f, 'session_start_time', start);
    text(f, 'timestamps_reference_time', start);
    f.create_dataset({ name: 'file_create_date', data: [new Date().toISOString()] });

    const general = f.create_group('general');
    text(general, 'session_id', String(run.id));
    text(general, 'protocol', JSON.stringify(run.protocol));
    text(general, 'data_collection', JSON.stringify({ source: run.source, bench: run.bench, circuit: run.twin }));
    if (run.notes) text(general, 'notes', run.notes);
    if (run.tags.length) general.create_dataset({ name: 'keywords', data: run.tags });
    const script = general.create_dataset({ name: 'source_script', data: `spikeloop ${run.softwareVersion} (exported by ${SOFTWARE_VERSION})` });
    script.create_attribute('file_name', 'spikeloop');

    const acquisition = f.create_group('acquisition');
    f.create_group('analysis');
    f.create_group('processing');
    const stimulus = f.create_group('stimulus');
    const presentation = stimulus.create_group('presentation');
    stimulus.create_group('templates');
    for (const ch of chans) {
      if (ch.role === 'stimulus') writeSeries(store, runId, presentation, ch, 'stimulus');
      else writeSeries(store, runId, acquisition, ch, 'response');
    }

    // events: spikes per channel → units table; markers and faults → an AnnotationSeries
    const spikes = new Map<number, number[]>();
    const notes: { t: number; text: string }[] = [];
    for (const e of allEvents(store, runId)) {
      const t = eventTime(run, e);
      if (e.kind === 'spike') {
        const c = e.channel ?? 0;
        if (!spikes.has(c)) spikes.set(c, []);
        spikes.get(c)!.push(t);
      } else notes.push({ t, text: `${e.kind}${e.label ? `: ${e.label}` : ''}` });
    }
    if (notes.length) {
      const g = acquisition.create_group('events');
      typed(g, 'AnnotationSeries');
      g.create_attribute('description', 'markers and faults recorded with the run');
      g.create_attribute('comments', 'no comments');
      const d = g.create_dataset({ name: 'data', data: notes.map((n) => n.text) });
      d.create_attribute('unit', 'n/a');
      num(d, 'conversion', 1);
      num(d, 'resolution', -1);
      num(d, 'offset', 0);
      const ts = g.create_dataset({ name: 'timestamps', data: f64(notes.map((n) => n.t)) });
      ts.create_attribute('interval', new Int32Array([1]), [], '<i');
      ts.create_attribute('unit', 'seconds');
    }
    if (spikes.size) {
      const units = f.create_group('units');
      typed(units, 'Units');
      units.create_attribute('description', 'spike events recorded with the run, one unit per channel');
      units.create_attribute('colnames', ['spike_times', 'channel']);
      const order = [...spikes.keys()].sort((a, b) => a - b);
      const times = f64(order.flatMap((c) => spikes.get(c)!));
      const st = column(units, 'spike_times', 'spike times, s from session_start_time', times);
      let end = 0;
      const index = Int32Array.from(order, (c) => (end += spikes.get(c)!.length));
      const idx = units.create_dataset({ name: 'spike_times_index', data: index, shape: [index.length] });
      typed(idx, 'VectorIndex', 'hdmf-common');
      idx.create_attribute('description', 'index into spike_times: end of each unit');
      idx.create_attribute('target', st.create_reference());
      const names = new Map(run.channels.map((c) => [c.index, c.name]));
      column(units, 'channel', 'spikeloop channel the spikes were detected on', order.map((c) => names.get(c) ?? String(c)));
      ids(units, order.length);
    }
    if (run.dropped.length) {
      const intervals = f.create_group('intervals');
      const inv = intervals.create_group('invalid_times');
      typed(inv, 'TimeIntervals');
      inv.create_attribute('description', 'dropped ranges: samples that never arrived');
      inv.create_attribute('colnames', ['start_time', 'stop_time', 'channel']);
      const rate = new Map(run.channels.map((c) => [c.index, c.sampleRate]));
      const names = new Map(run.channels.map((c) => [c.index, c.name]));
      column(inv, 'start_time', 'start of the dropped range, s', f64(run.dropped.map((d) => d.start / (rate.get(d.channel) ?? 1))));
      column(inv, 'stop_time', 'end of the dropped range, s', f64(run.dropped.map((d) => d.end / (rate.get(d.channel) ?? 1))));
      column(inv, 'channel', 'channel the samples are missing on', run.dropped.map((d) => names.get(d.channel) ?? String(d.channel)));
      ids(inv, run.dropped.length);
    }
  } finally {
    f.close();
  }
  return statSync(file).size;
}
