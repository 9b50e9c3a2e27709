/**
 * The bench configuration: which instruments, on which ports, which channel plays which role, and the
 * limits that keep the device under test (and the people near it) safe. A JSON document, validated at
 * start. Pure: text or JSON in, typed config out; reading the file is the caller's job.
 *
 * Safety rule (DESIGN.md): a protocol that would exceed a limit is refused before any output turns on,
 * with an error naming the limit. `planStimulus` is the one gate: summary → limits → instrument program
 * → limits again on the program's actual values.
 */
import { BenchConfigSchema, InstrumentConfigSchema, type BenchConfig, type InstrumentConfig as Instrument, type Limits } from '../../common/schemas/bench.ts';
import { fillDefaults, firstProblem } from '../../common/schema-check.ts';
import { AppError } from '../../common/errors.ts';
import { blameField, protocolSummary, type Blame, type Protocol, type ProtocolSummary } from '../protocols/index.ts';
import { compileDaqProgram, compileSmuProgram, DAQ_DEFAULTS, programExtremes, SMU_DEFAULTS, type DaqProgram, type ProgramCapability, type SmuProgram } from '../protocols/compile.ts';
import type { SweepSummary } from '../protocols/sweep.ts';
import { spikeDetectorConfig } from '../analysis/online-spikes.ts';

export type { BenchConfig, InstrumentConfig as Instrument, Limits } from '../../common/schemas/bench.ts';
export type LimitName = 'maxVoltage' | 'maxCurrent' | 'maxPower' | 'maxDurationS' | 'compliance.current' | 'compliance.voltage';
export type LimitOwner = 'bench' | 'run';

/** AppError BAD_BENCH_CONFIG; `field` is the JSON pointer of the offending setting. */
export class BenchConfigError extends AppError {
  declare readonly field: string;
  constructor(field: string, message: string) {
    super('BAD_BENCH_CONFIG', `bench configuration${field ? ` field ${field}` : ''}: ${message}`, field);
  }
}

/** AppError LIMIT_EXCEEDED: a protocol or program that would exceed a bench limit, refused before any output turns on. */
export class LimitError extends AppError {
  constructor(
    readonly limit: LimitName,
    /** The value that exceeds it and the limit, in unit. */
    readonly value: number,
    readonly max: number,
    readonly unit: string,
    what: string,
    /** The input to blame: the protocol (placed at its parameter by atProtocolField) or a run option. */
    field = '/protocol',
    /** Whose limit: the bench configuration's, or the run's own (the bench's lowered by its options). */
    whose: LimitOwner = 'bench',
  ) {
    super('LIMIT_EXCEEDED', `${what} ${fmt(value)} ${unit} exceeds ${whose === 'bench' ? 'the bench limit' : "the run's limit"} ${limit} = ${fmt(max)} ${unit}`, field, { limit, value, max, unit });
  }
}

/** What each program capability is about in the protocol (blameField). */
const CAPABILITY_BLAME: Record<ProgramCapability, Blame> = {
  outputRange: 'peak',
  frequencyHz: 'frequency',
  minDwellS: 'dwell',
  maxPoints: 'length',
  maxTableLength: 'length',
  maxSegments: 'length',
  sampleRate: 'length',
};

/**
 * A limit or program refusal of a protocol (LIMIT_EXCEEDED, PROGRAM_LIMIT naming only `/protocol`) placed at
 * the parameter that causes it, e.g. `/protocol/amplitude` for a peak, `/protocol/levels/3`, so a form shows
 * it at that field. Other errors, and refusals already naming a field, are returned as they are.
 */
export function atProtocolField(err: unknown, p: Protocol, prefix = '/protocol'): unknown {
  if (!(err instanceof AppError) || (err.code !== 'LIMIT_EXCEEDED' && err.code !== 'PROGRAM_LIMIT') || (err.field !== undefined && err.field !== '/protocol')) return err;
  const limit = err.details?.limit;
  const blame: Blame = err.code === 'PROGRAM_LIMIT' ? (CAPABILITY_BLAME[err.details?.capability as ProgramCapability] ?? 'peak') : limit === 'maxDurationS' ? 'length' : 'peak';
  return err.at(`${prefix}${blameField(p, blame)}`);
}

const fmt = (x: number) => String(+x.toPrecision(6));

/** Validates a bench configuration (parsed JSON or text); throws BenchConfigError naming the field. */
export function validateBenchConfig(input: unknown): BenchConfig {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new BenchConfigError('', `not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BenchConfigError('', 'must be a JSON object');
  const cfg = fillDefaults<BenchConfig>(BenchConfigSchema, structuredClone(json));
  cfg.instruments?.forEach?.((inst) => {
    if (inst && typeof inst === 'object') {
      if (inst.smu) fillDefaults(InstrumentConfigSchema.properties.smu, inst.smu);
      if (inst.daq) fillDefaults(InstrumentConfigSchema.properties.daq, inst.daq);
    }
  });
  const first = firstProblem(BenchConfigSchema, cfg);
  if (first) throw new BenchConfigError(first.path, first.message);

  const ids = new Set<string>();
  const ports = new Map<string, string>();
  cfg.instruments.forEach((inst, i) => {
    if (ids.has(inst.id)) throw new BenchConfigError(`/instruments/${i}/id`, `"${inst.id}" is used by two instruments`);
    ids.add(inst.id);
    if (inst.kind !== 'simulated' && !inst.port) {
      throw new BenchConfigError(`/instruments/${i}/port`, `a ${inst.kind} needs a port (serial device or tcp://host:port)`);
    }
    if (inst.port) {
      const other = ports.get(inst.port);
      if (other) throw new BenchConfigError(`/instruments/${i}/port`, `${inst.port} is already used by ${other}`);
      ports.set(inst.port, inst.id);
    }
    const names = new Set<string>();
    inst.channels.forEach((ch, j) => {
      if (names.has(ch.name)) throw new BenchConfigError(`/instruments/${i}/channels/${j}/name`, `"${ch.name}" appears twice`);
      names.add(ch.name);
      if (ch.spikes) {
        if (ch.role !== 'response') throw new BenchConfigError(`/instruments/${i}/channels/${j}/spikes`, 'spike detection runs on response channels only');
        try {
          spikeDetectorConfig(ch.spikes);
        } catch (err) {
          throw new BenchConfigError(`/instruments/${i}/channels/${j}/spikes`, (err as Error).message);
        }
      }
    });
    if (inst.daq && inst.daq.outputMin !== undefined && inst.daq.outputMax !== undefined && !(inst.daq.outputMin < inst.daq.outputMax)) {
      throw new BenchConfigError(`/instruments/${i}/daq/outputMax`, 'must be above outputMin');
    }
  });
  if (!cfg.instruments.some((inst) => inst.channels.some((ch) => ch.role === 'stimulus'))) {
    throw new BenchConfigError('/instruments', 'no channel has the role "stimulus"');
  }
  const { limits } = cfg;
  if (limits.compliance.current > limits.maxCurrent) {
    throw new BenchConfigError('/limits/compliance/current', `${limits.compliance.current} A is above maxCurrent ${limits.maxCurrent} A`);
  }
  if (limits.compliance.voltage > limits.maxVoltage) {
    throw new BenchConfigError('/limits/compliance/voltage', `${limits.compliance.voltage} V is above maxVoltage ${limits.maxVoltage} V`);
  }
  return cfg;
}

/** Limits a run asks for (run options, a source's own defaults): each may only lower the bench's. */
export interface RequestedLimits {
  maxVoltage?: number;
  maxCurrent?: number;
  maxPower?: number;
  /** The compliance of the quantity not sourced (A when sourcing voltage, V when sourcing current). */
  compliance?: number;
}

export interface EffectiveLimits {
  maxVoltage: number;
  maxCurrent: number;
  maxPower: number;
  compliance: number;
}

/**
 * The limits a run may use: the bench's, lowered by what the run asks for, never raised. A request above a
 * bench limit is refused (LimitError naming it), not clipped: the caller meant something the bench forbids.
 * The compliance is capped by the bench compliance of that quantity and by its max (maxCurrent when
 * sourcing voltage); `fallback` fills what the run leaves out (a source's conservative defaults), lowered
 * to the bench's in the same way but without refusing.
 */
export function tightenLimits(bench: Limits, sourcing: 'current' | 'voltage', asked: RequestedLimits, fallback: RequestedLimits = {}): EffectiveLimits {
  const pick = (name: 'maxVoltage' | 'maxCurrent' | 'maxPower', unit: string): number => {
    const v = asked[name];
    if (v !== undefined && v > bench[name]) throw new LimitError(name, v, bench[name], unit, `run option ${name}`, `/options/${name}`);
    return Math.min(v ?? fallback[name] ?? bench[name], bench[name]);
  };
  const maxVoltage = pick('maxVoltage', 'V');
  const maxCurrent = pick('maxCurrent', 'A');
  const maxPower = pick('maxPower', 'W');
  const [name, unit, benchCompliance, max] =
    sourcing === 'voltage' ? (['compliance.current', 'A', bench.compliance.current, maxCurrent] as const) : (['compliance.voltage', 'V', bench.compliance.voltage, maxVoltage] as const);
  const ceiling = Math.min(benchCompliance, max);
  if (asked.compliance !== undefined && asked.compliance > ceiling) {
    throw new LimitError(name, asked.compliance, ceiling, unit, 'run option compliance', '/options/compliance', ceiling < benchCompliance ? 'run' : 'bench');
  }
  const compliance = Math.min(asked.compliance ?? fallback.compliance ?? ceiling, ceiling);
  return { maxVoltage, maxCurrent, maxPower, compliance };
}

/** A run's limits (tightenLimits) in the bench's shape, for checkLimits: its compliance is that of the quantity not sourced. */
export function runLimits(bench: Limits, sourcing: 'current' | 'voltage', run: EffectiveLimits): Limits {
  const compliance = sourcing === 'voltage' ? { ...bench.compliance, current: run.compliance } : { ...bench.compliance, voltage: run.compliance };
  return { ...bench, maxVoltage: run.maxVoltage, maxCurrent: run.maxCurrent, maxPower: run.maxPower, compliance };
}

/** The built-in virtual bench: the simulated circuit, with limits suited to the 1 mA adaptive-LIF demo. */
export function virtualBenchConfig(): BenchConfig {
  return validateBenchConfig({
    name: 'virtual bench',
    instruments: [
      {
        id: 'sim',
        kind: 'simulated',
        // the circuit the simulated source runs (LIF_CIRCUIT_NAME), so the Bench page names what is measured
        model: 'lif-bench',
        channels: [
          { name: 'stim', role: 'stimulus', unit: 'A' },
          { name: 'v_mem', role: 'response', unit: 'V' },
        ],
      },
    ],
    limits: { maxVoltage: 20, maxCurrent: 0.01, maxPower: 0.25, compliance: { current: 0.01, voltage: 20 } },
  });
}

type LimitSubject = ProtocolSummary | SweepSummary | SmuProgram | DaqProgram;

export interface LimitReport {
  quantity: 'current' | 'voltage';
  unit: 'A' | 'V';
  /** Largest magnitude sourced. */
  peak: number;
  /** Worst-case power into the device: peak × the other quantity's compliance, W. */
  worstPowerW: number;
  durationS: number;
}

/**
 * Checks a protocol summary (before compiling) or an instrument program (after) against the limits: the
 * bench's, or a run's own (`whose` 'run': the bench's lowered by its options, tightenLimits).
 * Throws LimitError naming the first limit exceeded; returns the figures checked otherwise.
 *
 * Sourcing voltage: |V| ≤ maxVoltage, and |V| × compliance.current ≤ maxPower.
 * Sourcing current: |I| ≤ maxCurrent, and |I| × compliance.voltage ≤ maxPower.
 * Any run: duration ≤ maxDurationS when set.
 */
export function checkLimits(subject: LimitSubject, limits: Limits, whose: LimitOwner = 'bench'): LimitReport {
  const { min, max } = 'type' in subject ? programExtremes(subject) : subject;
  const durationS = 'type' in subject && subject.type === 'daq' ? subject.totalSamples / subject.sampleRate : subject.durationS;
  const what = 'type' in subject ? `the ${subject.type.toUpperCase()} program's peak` : 'the protocol peak';
  const peak = Math.max(Math.abs(min), Math.abs(max));
  const refuse = (limit: LimitName, value: number, max: number, unit: string, about: string) => new LimitError(limit, value, max, unit, about, undefined, whose);
  if (!Number.isFinite(peak)) throw refuse(subject.quantity === 'voltage' ? 'maxVoltage' : 'maxCurrent', peak, NaN, subject.unit, what);
  let worstPowerW: number;
  if (subject.quantity === 'voltage') {
    if (peak > limits.maxVoltage) throw refuse('maxVoltage', peak, limits.maxVoltage, 'V', what);
    worstPowerW = peak * limits.compliance.current;
    if (worstPowerW > limits.maxPower) {
      throw refuse('maxPower', worstPowerW, limits.maxPower, 'W', `${what} ${fmt(peak)} V × current compliance ${fmt(limits.compliance.current)} A =`);
    }
  } else {
    if (peak > limits.maxCurrent) throw refuse('maxCurrent', peak, limits.maxCurrent, 'A', what);
    worstPowerW = peak * limits.compliance.voltage;
    if (worstPowerW > limits.maxPower) {
      throw refuse('maxPower', worstPowerW, limits.maxPower, 'W', `${what} ${fmt(peak)} A × voltage compliance ${fmt(limits.compliance.voltage)} V =`);
    }
  }
  if (limits.maxDurationS !== undefined && durationS > limits.maxDurationS) {
    throw refuse('maxDurationS', durationS, limits.maxDurationS, 's', 'the run length');
  }
  return { quantity: subject.quantity, unit: subject.unit, peak, worstPowerW, durationS };
}

/** The instrument that plays the stimulus (the first with a stimulus channel). */
export function stimulusInstrument(cfg: BenchConfig): Instrument {
  const inst = cfg.instruments.find((i) => i.channels.some((ch) => ch.role === 'stimulus'));
  if (!inst) throw new BenchConfigError('/instruments', 'no channel has the role "stimulus"');
  return inst;
}

export interface StimulusPlan {
  summary: ProtocolSummary;
  limits: LimitReport;
  instrument: Instrument;
  /** The instrument program (absent for the simulated instrument, which samples the protocol itself). */
  program?: SmuProgram | DaqProgram;
}

/**
 * The gate every run passes before any output turns on: states the protocol's duration and peaks,
 * checks them against the limits, compiles the program for the stimulus instrument, and checks the
 * program's actual values again. Throws LimitError (naming the limit) or CompileError (naming the
 * instrument capability), placed at the protocol parameter that causes it (atProtocolField).
 */
export function planStimulus(protocol: Protocol, cfg: BenchConfig): StimulusPlan {
  try {
    return plan(protocol, cfg);
  } catch (err) {
    throw atProtocolField(err, protocol);
  }
}

function plan(protocol: Protocol, cfg: BenchConfig): StimulusPlan {
  const summary = protocolSummary(protocol);
  const limits = checkLimits(summary, cfg.limits);
  const instrument = stimulusInstrument(cfg);
  let program: SmuProgram | DaqProgram | undefined;
  if (instrument.kind === 'smu') program = compileSmuProgram(protocol, { ...SMU_DEFAULTS, ...instrument.smu });
  if (instrument.kind === 'daq') {
    const d = { ...DAQ_DEFAULTS, ...instrument.daq };
    const outputRange = d.outputMin !== undefined && d.outputMax !== undefined ? { min: d.outputMin, max: d.outputMax } : undefined;
    program = compileDaqProgram(protocol, { sampleRate: d.sampleRate, maxTableLength: d.maxTableLength, maxSegments: d.maxSegments, outputRange });
  }
  if (program) checkLimits(program, cfg.limits);
  return { summary, limits, instrument, program };
}
