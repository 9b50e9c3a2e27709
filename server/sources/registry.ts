/**
 * The source registry: every kind of run source (simulated bench, digital twin, DAQ board, SMU) registers
 * here, and the run manager and the API only ever talk to this registry. A new source is a file
 * `server/sources/<name>-source.ts` exporting `register(registry: SourceRegistry): void`, added to the
 * static list `SOURCE_MODULES` below.
 */
import { register as daq } from './daq-source.ts';
import { register as importSource } from './import-source.ts';
import { register as simulated } from './simulated-bench.ts';
import { register as smu } from './smu-source.ts';
import { register as twin } from './twin-source.ts';
import type { RunSource, RunSourceKind } from '../../common/run-stream.ts';
import { validateProtocol, type Protocol } from '../protocols/index.ts';
import type { SmuDriver } from '../../drivers/smu/smu.ts';
import type { Instrument, Limits } from '../benchconfig/index.ts';
import type { Static, TObject } from 'typebox';
import type { WorkerPool } from '../workers/pool.ts';
import { NO_OPTIONS, optionsChecker, type RequestOrigin } from './options.ts';

/** What a source gets to build one run; `O`: its options, as its options schema types them. */
export interface SourceContext<O = Record<string, unknown>> {
  /** The validated protocol (defaults filled; durationS already overridden when the caller asked). */
  protocol: Protocol;
  /** Samples per second per channel, as requested (validated by the run manager: 1 .. MAX_SAMPLE_RATE). */
  sampleRate: number;
  /** Id of the run row this source will feed. */
  runId: number;
  /** The run's options, checked against the source's `options` schema (SourceRegistry.checkOptions). */
  options?: O;
  /**
   * Where the request came from: 'network' (the API; the default) or 'local' (the CLI on this machine).
   * Only a local request may name a file, a serial port or a host (the source's `localOptions`).
   */
  from?: RequestOrigin;
  /** The bench configuration's limits: the ceiling that run options may only lower (benchconfig tightenLimits). */
  limits?: Limits;
  /**
   * In-process input from the server itself, never from the network (StartRequest.input): e.g. the twin
   * source's recorded stimulus and a result computed on the worker pool (server/sources/twin-source.ts).
   */
  input?: unknown;
  /** The server's worker pool, for sources whose work is heavy (the twin's simulation). */
  pool?: WorkerPool;
  /** The run's clock, ms: stands still while the run is paused. Paced sources use it instead of performance.now(). */
  clock?: { now(): number };
  /**
   * The bench's connected instruments, lent to this run (server/benchconfig/instruments.ts). Absent when
   * the run manager has no instrument manager: the source then opens its port itself.
   */
  instruments?: RunInstruments;
}

/** How a run names an instrument of the bench: by id (option `instrument`) or by its port/address. */
export interface InstrumentSelection {
  instrument?: unknown;
  address?: unknown;
}

/**
 * The one way a source borrows a bench instrument. Each lease selects by id, by address, or else the
 * bench's stimulus instrument of that kind; it is undefined when the run names none of the bench's (the
 * source then opens its own port or a virtual instrument). A lease throws INSTRUMENT_NOT_CONNECTED or
 * INSTRUMENT_BUSY; `release()` is idempotent and must run when the source ends or is disposed.
 */
export interface RunInstruments {
  /** The bench configuration's instruments of a kind (their channel settings, e.g. spike detection). */
  configured(kind: Instrument['kind']): Instrument[];
  /** The connected SMU driver itself, for the run. */
  leaseSmu(sel: InstrumentSelection): SmuLease | undefined;
  /** The connected DAQ board's port, closed for the run; `release()` re-opens and identifies it. */
  leaseDaq(sel: InstrumentSelection): Promise<DaqLease | undefined>;
}

export interface SmuLease {
  id: string;
  /** The instrument's port as the bench lists it. */
  port?: string;
  smu: SmuDriver;
  capabilities?: { maxPoints?: number; minDwellS?: number };
  release(): void;
}

export interface DaqLease {
  id: string;
  /** The board's serial port, for the source to open. */
  port: string;
  release(): Promise<void>;
}

/** A source built for one run. `bench` and `twin` are the snapshots recorded in the run's start message. */
export interface CreatedSource extends RunSource {
  bench?: unknown;
  twin?: unknown;
  /**
   * Frees what `create` took (e.g. a connected instrument lent to the run) when the run failed to start and
   * the source may never have been pulled; idempotent (its own end frees the same things).
   */
  dispose?(): void | Promise<void>;
}

export interface SourceDefinition<S extends TObject = TObject> {
  /** One line for the dashboard's source picker. */
  title: string;
  /**
   * The run options this source reads (TypeBox, additionalProperties false; NO_OPTIONS for none): the
   * registry refuses anything else before create() sees it, and create() gets them typed by this schema.
   */
  options: S;
  /** Options that name a file, a serial port or a host: accepted from the CLI on this machine, never from the network. */
  localOptions?: readonly string[];
  /** Bytes stored per sample time over all channels, to check a run fits on the disk (default 4: two int16 channels). */
  bytesPerSample?: number;
  /** Whether the source can run now (hardware present, tools installed ...), with a reason when not. */
  available(): Promise<{ available: boolean; detail?: string; twinCircuit?: string }>;
  /** S/s per channel for runs that ask for none (DEFAULT_SAMPLE_RATE when absent): what the hardware sustains. */
  defaultSampleRate?: number;
  /** The stimulus quantity this source plays and records as it is (the New run page's default protocol): ProtocolSuggestion. */
  protocol?: ProtocolSuggestion;
  /** Highest S/s per channel it accepts (MAX_SAMPLE_RATE when absent; an imported scope capture may be at GS/s). */
  maxSampleRate?: number;
  /**
   * The rules a schema cannot state, checked without building anything: across options, and the limits the
   * options lower (benchconfig tightenLimits) against the protocol. The run manager runs it in validate(), so a
   * run request and every point of a sweep are refused in the same words before anything starts.
   */
  check?(ctx: SourceCheck<Static<S>>): void;
  /** Builds the source for one run; may throw (e.g. a protocol it cannot play) before the run starts. */
  create(ctx: SourceContext<Static<S>>): CreatedSource | Promise<CreatedSource>;
}

/**
 * The protocol quantity that suits a source: `quantity` is the one it plays and records without conversion,
 * `levelScale` turns the protocol kinds' default levels (in A) into that quantity at the same drive (the DAQ's
 * 5 kΩ: the default 1 mA square becomes 5 V).
 */
export interface ProtocolSuggestion {
  quantity: 'voltage' | 'current';
  levelScale: number;
  /**
   * A protocol document (kind and parameters; the rest take the kind's defaults) New run starts with on this
   * source, so a first run reads at a glance: the kinds' defaults can saturate a device (the simulated bench
   * fires 4740 spikes/s at the default 1 mA dc). Checked against the protocol schemas at registration.
   */
  demo?: Record<string, unknown>;
}

/** What a source's `check` reads: the run request, validated, and the bench limits. */
export type SourceCheck<O = Record<string, unknown>> = Pick<SourceContext<O>, 'protocol' | 'sampleRate' | 'options'> & { limits: Limits };

export interface SourceInfo {
  kind: RunSourceKind;
  title: string;
  available: boolean;
  detail?: string;
  defaultSampleRate?: number;
  protocol?: ProtocolSuggestion;
  /** The built-in twin circuit of the device this source measures (its recorded stimulus drives it): the pairing default. */
  twinCircuit?: string;
  /** JSON schema of the run options a network request may give (the `localOptions` left out). */
  options: TObject;
}

export class SourceRegistry {
  private readonly defs = new Map<RunSourceKind, SourceDefinition>();
  private readonly checkers = new Map<RunSourceKind, ReturnType<typeof optionsChecker>>();
  /** The kind used when a run request names none. */
  defaultKind: RunSourceKind = 'simulated';

  registerSource<S extends TObject>(kind: RunSourceKind, def: SourceDefinition<S>): void {
    if (this.defs.has(kind)) throw new Error(`source kind "${kind}" is already registered`);
    if (def.protocol?.demo) validateProtocol(def.protocol.demo);
    // create() only ever gets options that passed def.options (checkOptions, run manager)
    this.defs.set(kind, def as unknown as SourceDefinition);
    this.checkers.set(kind, optionsChecker(kind, def.options, def.localOptions));
  }

  /**
   * Checks a run's options against the source's schema (a typo or a wrong type is refused, never defaulted)
   * and, for a network request, refuses every option that names a file, a port or a host. Throws AppError
   * BAD_SOURCE_OPTIONS naming the option.
   */
  checkOptions(kind: string, options: Record<string, unknown> | undefined, from: RequestOrigin): void {
    this.checkers.get(kind as RunSourceKind)?.(options, from);
  }

  get(kind: string): SourceDefinition | undefined {
    return this.defs.get(kind as RunSourceKind);
  }

  kinds(): RunSourceKind[] {
    return [...this.defs.keys()];
  }

  /** Every registered source with its current availability (a throwing check counts as unavailable). */
  async list(): Promise<SourceInfo[]> {
    return Promise.all(
      [...this.defs].map(async ([kind, def]) => {
        try {
          const a = await def.available();
          return {
            kind,
            title: def.title,
            available: a.available,
            ...(a.detail ? { detail: a.detail } : {}),
            ...(def.defaultSampleRate ? { defaultSampleRate: def.defaultSampleRate } : {}),
            ...(def.protocol ? { protocol: def.protocol } : {}),
            ...(a.twinCircuit ? { twinCircuit: a.twinCircuit } : {}),
            options: networkOptions(def),
          };
        } catch (err) {
          return { kind, title: def.title, available: false, detail: err instanceof Error ? err.message : String(err), options: networkOptions(def) };
        }
      }),
    );
  }
}

/** Every source, in registration order. */
export const SOURCE_MODULES: ((registry: SourceRegistry) => void)[] = [daq, importSource, simulated, smu, twin];

/** A registry with every source of SOURCE_MODULES. */
export function loadSources(registry = new SourceRegistry()): SourceRegistry {
  for (const register of SOURCE_MODULES) register(registry);
  return registry;
}

/** A source's options schema without those only the CLI may give (files, ports, hosts): what a form offers. */
function networkOptions(def: SourceDefinition): TObject {
  const schema = def.options ?? NO_OPTIONS;
  const properties = Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !def.localOptions?.includes(k)));
  return { ...schema, properties } as TObject;
}
