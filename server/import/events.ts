/**
 * A run's events brought back with its recording: spikeloop's events export (`run-<id>-events.csv`,
 * server/export eventsCsvChunks) and the events of its NWB export (./recording.ts readNwbRecording), checked
 * against the recording they are imported with and kept as columns (one structured clone from the parsing
 * thread, not 10⁶ objects). The import source replays them into the run stream (server/sources/import-source.ts),
 * so they are stored by the recorder like a measured run's.
 */
import { EVENT_KINDS, type EventKind } from '../../common/run-stream.ts';
import { EVENTS_HEADER } from '../export/index.ts';
import { ImportError, cellNumber, parseCsv } from './csv.ts';

/** Events as columns; channel -1, value NaN, timeS NaN and label null stand for "none". */
export interface RecordingEvents {
  kind: Uint8Array;
  channel: Int32Array;
  index: Float64Array;
  timeS: Float64Array;
  value: Float64Array;
  label: (string | null)[];
}

/** One event as a reader found it: channel by name, time in s (exact when not index / rate). */
export interface FoundEvent {
  kind: EventKind;
  channel: string | null;
  index: number;
  timeS: number;
  value?: number;
  label?: string;
  /** Where it was read, for a refusal ("line 12", "/units spike 3"). */
  at: string;
}

/** What events are checked against: the recording's channel names, sample count and rate. */
export interface EventTarget {
  channels: string[];
  samples: number;
  sampleRate: number;
}

/**
 * Events checked against the recording and turned into columns: each channel must be one of the
 * recording's, each index an integer in [0, samples). A time equal to index / rate (what the export writes for
 * an event without an exact time) is stored as no exact time, so the imported events equal the exported ones.
 */
export function eventColumns(found: FoundEvent[], target: EventTarget, what: string): RecordingEvents {
  const n = found.length;
  const out: RecordingEvents = { kind: new Uint8Array(n), channel: new Int32Array(n), index: new Float64Array(n), timeS: new Float64Array(n), value: new Float64Array(n), label: new Array<string | null>(n) };
  const byName = new Map(target.channels.map((c, k) => [c, k]));
  for (let i = 0; i < n; i++) {
    const e = found[i];
    const c = e.channel === null ? -1 : byName.get(e.channel);
    if (c === undefined) throw new ImportError(`${what}: ${e.at}: channel "${e.channel}" is not one of the recording's (${target.channels.join(', ')}); the events file is not this recording's`);
    if (!Number.isSafeInteger(e.index) || e.index < 0 || e.index >= target.samples) {
      throw new ImportError(`${what}: ${e.at}: sample index ${e.index} is outside the recording's ${target.samples} samples; the events file is not this recording's`);
    }
    out.kind[i] = EVENT_KINDS.indexOf(e.kind);
    out.channel[i] = c;
    out.index[i] = e.index;
    out.timeS[i] = e.timeS === e.index / target.sampleRate ? NaN : e.timeS;
    out.value[i] = e.value ?? NaN;
    out.label[i] = e.label ?? null;
  }
  return out;
}

/**
 * spikeloop's events export: header `time_s,kind,channel,value,label,sample_index`, one row per event (channel
 * and value empty when none). Anything else (another header, a row of other width, an unknown kind, a cell
 * that is not a number) is refused naming the line.
 */
export function readEventsCsv(text: string, what: string, target: EventTarget): RecordingEvents {
  const table = parseCsv(text, what);
  const [head, ...rows] = table.rows;
  if (head?.join(',') !== EVENTS_HEADER) throw new ImportError(`${what}: not a spikeloop events export (its header must be ${EVENTS_HEADER}, found ${(head ?? []).join(',').slice(0, 120)})`);
  const found: FoundEvent[] = rows.map((r, k) => {
    const at = `line ${table.lines[k + 1]}`;
    if (r.length !== 6) throw new ImportError(`${what}: ${at} has ${r.length} fields, the header 6`);
    const [t, kind, channel, value, label, index] = r;
    if (!EVENT_KINDS.includes(kind as EventKind)) throw new ImportError(`${what}: ${at}: kind "${kind.slice(0, 40)}" is not spike, marker or fault`);
    const num = (cell: string, name: string) => {
      const v = cellNumber(cell);
      if (Number.isNaN(v)) throw new ImportError(`${what}: ${at}: ${name} "${cell.slice(0, 40)}" is not a number`);
      return v;
    };
    return {
      kind: kind as EventKind,
      channel: channel === '' ? null : channel,
      index: num(index, 'sample_index'),
      timeS: num(t, 'time_s'),
      ...(value === '' ? {} : { value: num(value, 'value') }),
      ...(label === '' ? {} : { label }),
      at,
    };
  });
  return eventColumns(found, target, what);
}
