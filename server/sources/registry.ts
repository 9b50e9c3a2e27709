/**
 * The source registry: every kind of run source (simulated bench, digital twin, DAQ board, SMU) registers
 * here, and the run manager and the API only ever talk to this registry. A new source plugs in by adding a
 * file `server/sources/<name>-source.ts` (or any other file in this folder) that exports
 * `register(registry: SourceRegistry): void`; `loadSources()` discovers them.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
  /** Free-form options from the caller (e.g. a serial port path); sources validate what they use. */
  options?: Record<string, unknown>;
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

export interface SourceDefinition {
  /** One line for the dashboard's source picker. */
  title: string;
  /** Whether the source can run now (hardware present, tools installed ...), with a reason when not. */
  available(): Promise<{ available: boolean; detail?: string }>;
  /** S/s per channel for runs that ask for none (DEFAULT_SAMPLE_RATE when absent): what the hardware sustains. */
  defaultSampleRate?: number;
  /** Highest S/s per channel it accepts (MAX_SAMPLE_RATE when absent; an imported scope capture may be at GS/s). */
  maxSampleRate?: number;
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

export class SourceRegistry {
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
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && f !== 'registry.ts')
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as Partial<SourceModule>;
    if (typeof mod.register === 'function') mod.register(registry);
  }
  return registry;
}
