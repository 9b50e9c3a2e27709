/**
 * The bench configuration (docs/bench.md): which instruments, on which ports, which channel plays which
 * role, and the limits every protocol is checked against. Validated by server/benchconfig (which adds the
 * checks a schema cannot state), sent by `GET /api/bench`; the instruments' connection state
 * (`GET /api/bench/instruments`) is `InstrumentStateSchema`.
 */
import { Type, type Static } from 'typebox';
import { INSTRUMENT_DEFAULTS } from '../limits.ts';
import { oneOf } from './shared.ts';

/** Online spike detection on a response channel (server/analysis/online-spikes.ts). */
export const SpikeDetectionSchema = Type.Object(
  {
    threshold: Type.Number({ description: "Spike threshold in the channel's unit" }),
    direction: Type.Union([Type.Literal('rising'), Type.Literal('falling'), Type.Literal('reset')], {
      description:
        'rising/falling: an excursion above/below the threshold (re-armed on return towards the baseline); reset: an excursion beyond dropFraction × the threshold (from the baseline) that ends in a drop of at least dropFraction × its height',
    }),
    baseline: Type.Optional(Type.Number({ description: "Level the channel rests at, in its unit (default 0): rising needs a threshold above it, falling below" })),
    refractoryS: Type.Optional(Type.Number({ minimum: 0, description: 'Shortest interval between the starts of two events, s' })),
    dropFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'reset: the excursion level and the drop, as fractions of the threshold and of the spike height (default 0.5)' })),
  },
  { additionalProperties: false, description: 'Online spike detection on this response channel (DAQ runs record spike events)' },
);

const BenchChannelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Channel name, unique within the instrument' }),
    role: Type.Union([Type.Literal('stimulus'), Type.Literal('response')], { description: 'What the channel does in a run' }),
    unit: Type.Optional(Type.String({ maxLength: 8, description: 'SI unit of the measured or sourced value' })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'What the channel records, shown on plots (e.g. "membrane v")' })),
    toCurrent: Type.Optional(
      Type.Union(
        [
          Type.Object({ transconductanceS: Type.Number({ exclusiveMinimum: 0, description: 'A per V of a voltage-to-current stage: I = V × transconductanceS' }) }, { additionalProperties: false }),
          Type.Object({ shuntOhms: Type.Number({ exclusiveMinimum: 0, description: 'Shunt resistor the voltage is read across: I = V / shuntOhms' }) }, { additionalProperties: false }),
        ],
        { description: "A stimulus channel recorded in V (a DAQ's output) as the current it drives: runs of current protocols show it in A" },
      ),
    ),
    spikes: Type.Optional(SpikeDetectionSchema),
  },
  { additionalProperties: false },
);

export const InstrumentConfigSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Name used in runs and logs' }),
    kind: Type.Union([Type.Literal('smu'), Type.Literal('daq'), Type.Literal('simulated')], {
      description: 'smu: source-measure unit; daq: Arduino/Teensy board; simulated: the built-in circuit model',
    }),
    model: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. keithley-2400, keithley-2600b, keysight-b2900, arduino-uno, teensy-4' }),
    port: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Serial device (/dev/ttyUSB0) or tcp://host:port; required for smu and daq' }),
    ),
    baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 12_000_000, description: 'Serial baud rate' })),
    channels: Type.Array(BenchChannelSchema, { minItems: 1, maxItems: 64 }),
    smu: Type.Optional(
      Type.Object(
        {
          maxPoints: Type.Integer({ minimum: 1, maximum: 1e6, default: INSTRUMENT_DEFAULTS.smu.maxPoints, description: 'Longest source list' }),
          minDwellS: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: INSTRUMENT_DEFAULTS.smu.minDwellS, description: 'Shortest point, s' }),
        },
        { additionalProperties: false },
      ),
    ),
    daq: Type.Optional(
      Type.Object(
        {
          sampleRate: Type.Number({ exclusiveMinimum: 0, maximum: 1e8, default: INSTRUMENT_DEFAULTS.daq.sampleRate, description: 'Output samples/s' }),
          maxTableLength: Type.Integer({ minimum: 1, maximum: 1e8, default: INSTRUMENT_DEFAULTS.daq.maxTableLength, description: 'Waveform memory, samples' }),
          maxSegments: Type.Integer({ minimum: 1, maximum: 1e6, default: INSTRUMENT_DEFAULTS.daq.maxSegments, description: 'Segment list length' }),
          outputMin: Type.Optional(Type.Number({ description: 'Lowest output value of the DAC' })),
          outputMax: Type.Optional(Type.Number({ description: 'Highest output value of the DAC' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DEFAULT_MAX_DURATION_S = 86_400;

export const LimitsSchema = Type.Object(
  {
    maxVoltage: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Largest |V| any output may source, V' }),
    maxCurrent: Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'Largest |I| any output may source, A' }),
    maxPower: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Largest power into the device, W' }),
    compliance: Type.Object(
      {
        current: Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'Current compliance when sourcing voltage, A' }),
        voltage: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Voltage compliance when sourcing current, V' }),
      },
      { additionalProperties: false },
    ),
    // A default, so that no run is open-ended on a bench that names none (a 1-day run at 2 MS/s is 690 GB).
    maxDurationS: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULT_MAX_DURATION_S, description: 'Longest run, s (default 24 h)' })),
  },
  { additionalProperties: false },
);

export const BenchConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    instruments: Type.Array(InstrumentConfigSchema, { minItems: 1, maxItems: 32 }),
    limits: LimitsSchema,
    twin: Type.Optional(
      Type.Object(
        {
          circuit: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Object({ kind: Type.String() }, { additionalProperties: true })], {
            description: 'Twin circuit fed the recorded stimulus after every measured run: a built-in name (GET /api/twin/circuits) or a circuit document',
          }),
          analyses: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
              maxItems: 16,
              description: 'Analyses run on the measured run and its twin run (default: spike-stats, spike-train, avalanches, regime, compare)',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'Bench configuration' },
);

/** An instrument of the bench with its connection state (`GET /api/bench/instruments`, server/benchconfig/instruments.ts). */
export const InstrumentStateSchema = Type.Object(
  {
    id: Type.String(),
    kind: oneOf(['smu', 'daq', 'simulated'] as const),
    model: Type.String({ description: 'As configured or found; `identity` is what the instrument answered' }),
    port: Type.Optional(Type.String({ description: 'Serial device, tcp address, or the pty of a virtual instrument once connected' })),
    origin: oneOf(['configured', 'found', 'virtual'] as const, { description: 'configured (bench configuration) | found (USB VID/PID) | virtual' }),
    channels: Type.Optional(Type.Array(Type.Object({ name: Type.String(), role: Type.String(), unit: Type.Optional(Type.String()) }))),
    state: oneOf(['disconnected', 'connecting', 'connected', 'disconnecting'] as const),
    identity: Type.Optional(Type.String({ description: '*IDN? reply (SMU) or board, firmware and protocol version (DAQ)' })),
    outputs: Type.Optional(oneOf(['off', 'on'] as const, { description: 'on while a run uses the instrument' })),
    inUseBy: Type.Optional(Type.Integer({ description: 'Run using the instrument now' })),
    limits: LimitsSchema,
    capabilities: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), {
        description: 'What the instrument reports: SMU ratings and program capabilities (maxPoints, minDwellS); DAQ HELLO capabilities',
      }),
    ),
    connectedAt: Type.Optional(Type.String()),
    error: Type.Optional(Type.String({ description: 'Why the last connect or the connection failed, or what the last disconnect could not confirm' })),
  },
  { additionalProperties: false },
);

export type BenchConfig = Static<typeof BenchConfigSchema>;
export type InstrumentConfig = Static<typeof InstrumentConfigSchema>;
export type Limits = Static<typeof LimitsSchema>;
export type InstrumentState = Static<typeof InstrumentStateSchema>;
export type SpikeDetection = Static<typeof SpikeDetectionSchema>;
