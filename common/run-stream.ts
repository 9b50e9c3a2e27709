/**
 * The run stream: the one sequence of messages every data source produces (simulated bench, real DAQ
 * board, SMU, digital twin, replay) and every consumer reads (SQLite writer, live WebSocket feed, online
 * analyses). See README "Architecture".
 *
 *   start → descriptor → (block | event)* → stop
 *
 * Sample indices, not wall times, are the clock: block.firstIndex counts samples of that channel from 0.
 * A jump in indices is a dropped range and is recorded as such by the store, never papered over.
 *
 * This file holds types and constants only (no imports), so the browser app, drivers and server can all import it.
 */

/** Sample storage types. Physical value = raw * scale + offset, in `unit`. */
export type SampleType = 'int16' | 'uint16' | 'int32' | 'float32' | 'float64';

export type SampleArray = Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array;

export type ChannelRole = 'stimulus' | 'response';

export interface ChannelDescriptor {
  /** Unique within a run, e.g. "stim", "v_mem", "a0". */
  name: string;
  /** SI unit of the physical value: "V", "A", "S", ... */
  unit: string;
  /** Samples per second. */
  sampleRate: number;
  dtype: SampleType;
  /** physical = raw * scale + offset */
  scale: number;
  offset: number;
  role: ChannelRole;
}

export type RunSourceKind = 'simulated' | 'daq' | 'smu' | 'twin' | 'replay' | 'import';

export interface StartMessage {
  type: 'start';
  runId: number;
  /** The protocol as submitted (declarative JSON). */
  protocol: { kind: string; [param: string]: unknown };
  source: RunSourceKind;
  /** Snapshot of the bench configuration (instruments, limits) at start. */
  bench: unknown;
  /** Snapshot of the twin circuit, when the source is (or is paired with) a twin. */
  twin?: unknown;
  softwareVersion: string;
  /** ISO 8601 wall time of the start. */
  wallTime: string;
}

export interface DescriptorMessage {
  type: 'descriptor';
  channels: ChannelDescriptor[];
}

export interface BlockMessage {
  type: 'block';
  /** Index into the descriptor's channel list. */
  channel: number;
  /** Sample index of samples[0] on this channel's clock. */
  firstIndex: number;
  samples: SampleArray;
}

export type EventKind = 'spike' | 'marker' | 'fault';
export const EVENT_KINDS: readonly EventKind[] = ['spike', 'marker', 'fault'];

export interface EventMessage {
  type: 'event';
  kind: EventKind;
  /** Channel the event belongs to (index into the descriptor), if any. */
  channel?: number;
  /** Sample index on that channel's clock (on channel 0's clock when no channel is given). */
  index: number;
  /** Exact time in s when the source knows it finer than a sample (the twin's located crossings); index is then the nearest sample. */
  timeS?: number;
  /** Free text: marker label, fault reason. */
  label?: string;
  /** Optional value in the channel's physical unit (e.g. spike peak). */
  value?: number;
}

export type RunStatus = 'running' | 'completed' | 'aborted' | 'failed' | 'interrupted';
export type FinalStatus = Exclude<RunStatus, 'running'>;

export interface StopMessage {
  type: 'stop';
  status: FinalStatus;
  reason?: string;
}

export type RunMessage = StartMessage | DescriptorMessage | BlockMessage | EventMessage | StopMessage;

/** What a source yields; the run session wraps it with start and stop. */
export type SourceMessage = DescriptorMessage | BlockMessage | EventMessage | StopMessage;

/**
 * A data source for one run. `messages` yields a descriptor first, then blocks and events, and ends
 * when the run is done (optionally yielding a stop with a status such as `failed` and its reason).
 * Aborting `signal` must end the iteration promptly with outputs at zero.
 */
export interface RunSource {
  kind: RunSourceKind;
  messages(signal: AbortSignal): AsyncIterable<SourceMessage>;
}

export const SAMPLE_ARRAY: Record<SampleType, { new (n: number): SampleArray; BYTES_PER_ELEMENT: number }> = {
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};
