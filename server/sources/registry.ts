/**
 * The source registry: every kind of run source (simulated bench, digital twin, DAQ board, SMU) registers
 * here, and the run manager and the API only ever talk to this registry. A new source plugs in by adding a
 * file `server/sources/<name>-source.ts` (or any other file in this folder) that exports
 * `register(registry: SourceRegistry): void`; `loadSources()` discovers them.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Type, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import type { RunSource, RunSourceKind } from '../../common/run-stream.ts';
import type { Protocol } from '../protocols/index.ts';
import type { InstrumentManager } from '../benchconfig/instruments.ts';

/** What a source gets to build one run. */
export interface SourceContext {
  /** The validated protocol (defaults filled; durationS already overridden when the caller asked). */
  protocol: Protocol;
  /** Samples per second per channel, as requested (validated by the run manager: 1 .. MAX_SAMPLE_RATE). */
  sampleRate: number;
  /** Id of the run row this source will feed. */
  runId: number;
  /** The run's options, checked against the source's `options` schema (SourceRegistry.checkOptions). */
  options?: Record<string, unknown>;
  /**
   * Where the request came from: 'network' (the API; the default) or 'local' (the CLI on this machine).
   * Only a local request may name a file, a serial port or a host (the source's `localOptions`).
   */
  from?: RequestOrigin;
  /** The bench configuration's limits: the ceiling that run options may only lower (benchconfig tightenLimits). */
  limits?: import('../benchconfig/index.ts').Limits;
  /** The run's clock, ms: stands still while the run is paused. Paced sources use it instead of performance.now(). */
  clock?: { now(): number };
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

export type RequestOrigin = 'network' | 'local';

export interface SourceDefinition {
  /** The run options this source reads (TypeBox, additionalProperties false): anything else is refused. Default: none. */
  options?: TObject;
  /** Options that name a file, a serial port or a host: accepted from the CLI on this machine, never from the network. */
  localOptions?: readonly string[];
  /** One line for the dashboard's source picker. */
  title: string;
  /** Whether the source can run now (hardware present, tools installed ...), with a reason when not. */
  available(): Promise<{ available: boolean; detail?: string }>;
  /** Bytes stored per sample time over all channels, to check a run fits on the disk (default 4: two int16 channels). */
  bytesPerSample?: number;
  /** S/s per channel for runs that ask for none (DEFAULT_SAMPLE_RATE when absent): what the hardware sustains. */
  defaultSampleRate?: number;
  /** Builds the source for one run; may throw (e.g. a protocol it cannot play) before the run starts. */
  create(ctx: SourceContext): CreatedSource | Promise<CreatedSource>;
}

export interface SourceInfo {
  kind: RunSourceKind;
  title: string;
  available: boolean;
  detail?: string;
  defaultSampleRate?: number;
}

const NO_OPTIONS = Type.Object({}, { additionalProperties: false });

/** A circuit in run options: a built-in name or an inline document, never a file path from the network. */
export const CircuitOption = Type.Optional(
  Type.Union([Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.Object({}, { additionalProperties: true })], {
    description: 'a built-in circuit name (GET /api/twin/circuits) or an inline circuit document; file paths are not accepted',
  }),
);

/** Run options refused before the source sees them; `field` is a JSON pointer under /options. */
export class SourceOptionsError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'SourceOptionsError';
  }
}

export class SourceRegistry {
  private readonly checkers = new Map<RunSourceKind, ReturnType<typeof Compile>>();
  private readonly defs = new Map<RunSourceKind, SourceDefinition>();
  /** The kind used when a run request names none. */
  defaultKind: RunSourceKind = 'simulated';
  /**
   * The bench's connected instruments (set by the server, server/api/routes/bench-instruments.ts): sources
   * use a connected instrument instead of opening its port again. Absent in the CLI without a server.
   */
  instruments?: InstrumentManager;

  registerSource(kind: RunSourceKind, def: SourceDefinition): void {
    if (this.defs.has(kind)) throw new Error(`source kind "${kind}" is already registered`);
    this.defs.set(kind, def);
    this.checkers.set(kind, Compile(def.options ?? NO_OPTIONS));
  }

  /**
   * Checks a run's options against the source's schema (a typo or a wrong type is refused, never defaulted)
   * and, for a network request, refuses every option that names a file, a port or a host.
   */
  checkOptions(kind: string, options: Record<string, unknown> | undefined, from: RequestOrigin): void {
    const def = this.defs.get(kind as RunSourceKind);
    if (!def || options === undefined) return;
    if (from === 'network') {
      const local = (def.localOptions ?? []).find((k) => k in options);
      if (local !== undefined) {
        throw new SourceOptionsError(
          `options.${local}: source "${kind}" takes no file, port or host from the network; name a bench instrument by its id (options.instrument, GET /api/bench/instruments) or configure it in the bench configuration`,
          `/options/${local}`,
        );
      }
    }
    const checker = this.checkers.get(kind as RunSourceKind)!;
    if (checker.Check(options)) return;
    type Item = { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> };
    const errors = checker.Errors(options) as Item[];
    // an unknown option (a typo) explains the rest, so it is named first
    const isExtra = (x: Item) => x.keyword === 'additionalProperties' || x.message === 'schema is false';
    const e = errors.find(isExtra) ?? errors[0];
    let pointer = e?.instancePath ?? '';
    const extra = e?.params?.additionalProperties ?? e?.params?.additionalProperty;
    if (e?.keyword === 'additionalProperties' && extra !== undefined) pointer += `/${Array.isArray(extra) ? extra[0] : String(extra)}`;
    const missing = e?.params?.requiredProperties ?? e?.params?.missingProperty;
    if (e?.keyword === 'required' && missing !== undefined) pointer += `/${Array.isArray(missing) ? missing[0] : String(missing)}`;
    const top = pointer.split('/')[1];
    const props = (def.options ?? NO_OPTIONS).properties as Record<string, { description?: string }>;
    const known = Object.keys(props);
    const message =
      e && isExtra(e)
        ? `is not an option of source "${kind}" (${known.length ? `options: ${known.join(', ')}` : 'it takes none'})`
        : `${e?.keyword === 'required' ? 'is required' : (e?.message ?? 'is invalid')}${top && props[top]?.description ? ` (${props[top].description})` : ''}`;
    throw new SourceOptionsError(`options${pointer.replaceAll('/', '.')}: ${message}`, `/options${pointer}`);
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
          };
        } catch (err) {
          return { kind, title: def.title, available: false, detail: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }
}

export interface SourceModule {
  register(registry: SourceRegistry): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A registry with every source in this folder: each .ts file (other than this one and tests) that
 * exports `register` is loaded, in name order.
 */
export async function loadSources(registry = new SourceRegistry()): Promise<SourceRegistry> {
  const files = readdirSync(here)
    .filter((f) => /\.[jt]s$/.test(f) && !/\.(test|d)\.ts$/.test(f) && !/^registry\.[jt]s$/.test(f)) // .js in the compiled build
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as Partial<SourceModule>;
    if (typeof mod.register === 'function') mod.register(registry);
  }
  return registry;
}
