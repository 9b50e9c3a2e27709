/**
 * Runs over HTTP (docs/api.md): the stored run, its channels, events, progress, the run list's query and
 * the bodies that start and annotate runs. The server's routes validate and serialise with these schemas,
 * the store returns the derived types, the dashboard (web/src/api.ts) and the CLI use the same ones.
 * Literal sets mirror common/run-stream.ts (the compiler checks that they match).
 */
import { Type, type Static } from 'typebox';
import { EVENT_KINDS, type ChannelRole, type EventKind, type RunSourceKind, type RunStatus, type SampleType } from '../run-stream.ts';
import { MAX_SAMPLE_RATE, MAX_SIDECAR_CHARS } from '../limits.ts';
import { CircuitRefSchema, kindDocument, nullable, oneOf, sampleIndex } from './shared.ts';

export const RUN_STATUSES = ['running', 'completed', 'aborted', 'failed', 'interrupted'] as const;
export const RunStatusSchema = oneOf<RunStatus>(RUN_STATUSES);
export const RunSourceKindSchema = oneOf<RunSourceKind>(['simulated', 'daq', 'smu', 'twin', 'replay', 'import']);
export const EventKindSchema = oneOf<EventKind>(EVENT_KINDS);

/** A channel of a stored run. */
export const ChannelInfoSchema = Type.Object({
  index: Type.Integer(),
  name: Type.String({ description: 'Unique within a run, e.g. "stim", "v_mem", "a0"' }),
  unit: Type.String({ description: 'SI unit of the physical value: "V", "A", "S", ...' }),
  sampleRate: Type.Number({ description: 'Samples per second' }),
  dtype: oneOf<SampleType>(['int16', 'uint16', 'int32', 'float32', 'float64']),
  scale: Type.Number({ description: 'physical = raw * scale + offset' }),
  offset: Type.Number(),
  role: oneOf<ChannelRole>(['stimulus', 'response']),
  sampleCount: Type.Integer({ description: 'Committed extent: highest committed sample index + 1' }),
  label: Type.String({ description: 'What the channel records, from the circuit or bench configuration: "membrane v (A0)", "stimulus i"' }),
  convert: Type.Optional(
    Type.Object(
      {
        unit: Type.String({ description: "The protocol's own unit, e.g. A" }),
        factor: Type.Number({ description: 'value in `unit` = physical value × factor' }),
        via: Type.String({ description: 'How the bench makes it, e.g. "shunt resistor 1 kΩ"' }),
      },
      { description: 'A stimulus recorded in V shown in the protocol quantity (the bench configuration gives the conversion)' },
    ),
  ),
  notes: Type.Optional(Type.Array(Type.String(), { description: 'What a reader of the channel should know: no unit conversion, too few samples per stimulus period' })),
});

/** A run's protocol document as submitted (declarative JSON). */
export const ProtocolDocSchema = Type.Unsafe<{ kind: string; [param: string]: unknown }>(
  Type.Object({ kind: Type.String() }, { additionalProperties: true }),
);

const runSummaryProps = {
  id: Type.Integer(),
  status: RunStatusSchema,
  reason: nullable(Type.String()),
  label: nullable(Type.String()),
  protocol: ProtocolDocSchema,
  source: RunSourceKindSchema,
  bench: Type.Unknown(),
  twin: Type.Unknown(),
  softwareVersion: Type.String(),
  createdAt: Type.String({ description: 'ISO 8601' }),
  endedAt: nullable(Type.String()),
  linkedRunId: nullable(Type.Integer()),
  notes: Type.String(),
  tags: Type.Array(Type.String()),
  channels: Type.Array(ChannelInfoSchema),
};

export const RunSummarySchema = Type.Object(runSummaryProps);

/** Samples [start, end) of a channel that never arrived. */
export const DroppedRangeSchema = Type.Object({ channel: Type.Integer(), start: Type.Integer(), end: Type.Integer() });

/** A run with its dropped ranges and event counts (`GET /api/runs/:id`). */
export const RunDetailSchema = Type.Object({
  ...runSummaryProps,
  dropped: Type.Array(DroppedRangeSchema),
  eventCounts: Type.Object({ spike: Type.Integer(), marker: Type.Integer(), fault: Type.Integer() }),
});

/** `GET /api/runs`: the run list's filters. */
export const RunListQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    status: Type.Optional(RunStatusSchema),
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of label, notes, protocol kind or a tag' })),
    tag: Type.Optional(Type.String({ maxLength: 64, description: 'Exact tag' })),
    kind: Type.Optional(Type.String({ maxLength: 64, description: 'Protocol kind, exact (e.g. square)' })),
    source: Type.Optional(Type.String({ maxLength: 64, description: 'Run source, exact (e.g. simulated, twin)' })),
    notes: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the notes' })),
    linkedTo: Type.Optional(Type.Integer({ minimum: 1, description: 'Runs linked to this run (its twin runs)' })),
    after: Type.Optional(Type.String({ maxLength: 40, description: 'Created at or after this date/time (ISO 8601)' })),
    before: Type.Optional(Type.String({ maxLength: 40, description: 'Created before this date/time (ISO 8601)' })),
  },
  { additionalProperties: false },
);

/** `POST /api/runs` (and `spikeloop run`): a protocol, the source that plays it, its options. */
export const StartRunBodySchema = Type.Object(
  {
    protocol: kindDocument('Protocol document: { kind, ...parameters } (kinds: GET /api/protocols)'),
    source: Type.Optional(Type.String({ description: 'Source kind, see GET /api/sources (default: simulated)' })),
    sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_SAMPLE_RATE, description: 'S/s per channel, default 100000' })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    options: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "Source-specific run options, checked against the source's options schema (see docs of each source)",
      }),
    ),
    twin: Type.Optional(
      Type.Object(
        { circuit: CircuitRefSchema },
        { additionalProperties: false, description: 'Pair with the twin: when the run ends, its recorded stimulus is fed to this circuit (as POST /api/runs/:id/pair)' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const NotesBodySchema = Type.Object({ notes: Type.String({ maxLength: 100_000 }) }, { additionalProperties: false });
export const TagsBodySchema = Type.Object({ tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }) }, { additionalProperties: false });

/** Where a run is: fraction done and stimulus time left (run time, excluding pauses). */
export const RunProgressSchema = Type.Object({
  runId: Type.Integer(),
  state: oneOf(['starting', 'running', 'paused', 'stopping', 'done'] as const),
  status: Type.Optional(RunStatusSchema),
  fraction: Type.Number({ description: '0..1 of the protocol samples received' }),
  samplesDone: Type.Integer(),
  samplesTotal: Type.Integer(),
  elapsedS: Type.Number({ description: 'Un-paused time since start, s' }),
  remainingS: Type.Number({ description: 'Stimulus time still to play, s (equals wall time left for a real-time source)' }),
  pausedS: Type.Number(),
});

export const StoredEventSchema = Type.Object({
  id: Type.Integer(),
  kind: EventKindSchema,
  channel: nullable(Type.Integer()),
  index: Type.Integer(),
  label: nullable(Type.String()),
  value: nullable(Type.Number()),
  time_s: nullable(Type.Number(), 'Exact time in s when the source knew it finer than a sample (twin events), else null: index / rate'),
});

/** `GET /api/runs/:id/events`. */
export const EventsQuerySchema = Type.Object(
  {
    start: Type.Optional(sampleIndex('First sample index')),
    end: Type.Optional(sampleIndex('End sample index, exclusive')),
    kind: Type.Optional(EventKindSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
  },
  { additionalProperties: false },
);

/** `GET /api/runs/:id/channels/:ch/raw`. */
export const RawQuerySchema = Type.Object(
  {
    start: Type.Optional(sampleIndex('First sample index (default 0)')),
    end: Type.Optional(sampleIndex('End sample index, exclusive (default: committed extent)')),
    format: Type.Optional(oneOf(['json', 'binary'] as const)),
  },
  { additionalProperties: false },
);
export const RawSamplesSchema = Type.Object({
  channel: Type.Integer(),
  dtype: Type.String(),
  scale: Type.Number(),
  offset: Type.Number(),
  unit: Type.String(),
  segments: Type.Array(Type.Object({ start: Type.Integer(), samples: Type.Array(Type.Number()) })),
});

/** `GET /api/runs/:id/channels/:ch/envelope`. */
export const EnvelopeQuerySchema = Type.Object(
  {
    start: Type.Optional(sampleIndex('First sample index (default 0)')),
    end: Type.Optional(sampleIndex('End sample index, exclusive (default: committed extent)')),
    pixels: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  },
  { additionalProperties: false },
);
/** What an envelope read covers: samples [start, end) folded into `pixels` columns. */
const envelopeWindow = {
  start: Type.Integer(),
  end: Type.Integer(),
  pixels: Type.Integer(),
  samplesPerPixel: Type.Number(),
  level: Type.Integer({ description: 'Pyramid level read (0 = raw samples)' }),
};
export const EnvelopeWindowSchema = Type.Object(envelopeWindow);
const orNull = Type.Array(nullable(Type.Number()));
/** Physical values per pixel column, null where there is no sample. */
export const EnvelopeSchema = Type.Object({ ...envelopeWindow, unit: Type.String(), min: orNull, max: orNull });

export const EXPORT_FORMATS = ['csv', 'npy', 'nwb', 'events', 'sidecar'] as const;
/** `GET /api/runs/:id/export`. */
export const ExportQuerySchema = Type.Object(
  {
    format: oneOf(EXPORT_FORMATS),
    channel: Type.Optional(Type.Integer({ minimum: 0, description: 'Channel index; required for npy' })),
    raw: Type.Optional(oneOf(['true', 'false'] as const, { description: 'npy: true for the stored codes instead of float64 SI values' })),
    sidecarFor: Type.Optional(oneOf(['csv', 'npy', 'nwb'] as const, { description: 'sidecar: the data format it describes (default csv)' })),
  },
  { additionalProperties: false },
);

/** Formats `POST /api/import` and `spikeloop import` read (server/import); `auto` tells them by content. */
export const IMPORT_FORMATS = ['auto', 'scope-csv', 'csv', 'npy', 'wav', 'nwb'] as const;
/** `POST /api/import`: the file is the body; what it cannot say itself is in the query. */
export const ImportQuerySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: 'the file name (for messages and the run label)' }),
    format: Type.Optional(oneOf(IMPORT_FORMATS, { default: 'auto' })),
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e12, description: 'Hz, for files without a time column or rate of their own' })),
    unit: Type.Optional(Type.String({ maxLength: 16, description: 'unit of channels whose file names none' })),
    stimulus: Type.Optional(Type.String({ maxLength: 200, description: 'the channel holding the applied stimulus' })),
    inferRoles: Type.Optional(
      oneOf(['true', 'false'] as const, { description: 'a CSV without sidecar or stimulus: its stimulus inferred from the channel names, as the run\'s notes say (default true); false: every channel a response' }),
    ),
    sidecar: Type.Optional(
      Type.String({ maxLength: MAX_SIDECAR_CHARS, description: "a spikeloop CSV or NPY export's run-<id>_about.json (JSON text; its spikeloop_export, format, raw and channels suffice): the channels' names, units, roles and rate" }),
    ),
    label: Type.Optional(Type.String({ maxLength: 200, description: "the run's label (default: the sidecar's or the NWB file's, else the file name)" })),
    eventsBytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "the body ends with the run's events export (run-<id>-events.csv) of this many bytes, after the recording: its spikes, markers and faults are imported with it",
      }),
    ),
    events: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'the events file name (for messages; default <name> events)' })),
  },
  { additionalProperties: false },
);

export type ChannelInfo = Static<typeof ChannelInfoSchema>;
export type ProtocolDoc = Static<typeof ProtocolDocSchema>;
export type RunSummary = Static<typeof RunSummarySchema>;
export type DroppedRange = Static<typeof DroppedRangeSchema>;
export type RunDetail = Static<typeof RunDetailSchema>;
export type RunListQuery = Static<typeof RunListQuerySchema>;
export type StartRunBody = Static<typeof StartRunBodySchema>;
export type RunProgress = Static<typeof RunProgressSchema>;
export type StoredEvent = Static<typeof StoredEventSchema>;
export type EventsQuery = Static<typeof EventsQuerySchema>;
export type RawSamples = Static<typeof RawSamplesSchema>;
export type EnvelopeQuery = Static<typeof EnvelopeQuerySchema>;
export type EnvelopeWindow = Static<typeof EnvelopeWindowSchema>;
export type Envelope = Static<typeof EnvelopeSchema>;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportQuery = Static<typeof ExportQuerySchema>;
export type ImportQuery = Static<typeof ImportQuerySchema>;
/** The run list's filters as the store takes them: the query's, dates resolved by the route. */
export type RunFilters = Omit<RunListQuery, 'after' | 'before'>;
