/**
 * The composition root: the one place that builds spikeloop's services and wires them together, from
 * static lists (sources: server/sources/registry.ts SOURCE_MODULES; routes: server/api/app.ts ROUTES).
 * The HTTP server (`buildApp`) and the CLI commands (`serve`, `run`, `sweep`, `twin run`) all start from
 * `buildServices()`; route plugins and commands only translate their input and call these services.
 *
 *   store        the run store (opened by the caller, who closes it after `close()`)
 *   bench        the bench configuration: instruments, limits, the twin circuit paired after every run
 *   sources      the source registry (simulated, twin, daq, smu)
 *   instruments  the bench's instruments and connections, lent to runs through the run manager
 *   runs         the run manager: every run (measured, twin, paired twin, sweep point) goes through it
 *   twin         pairing: a twin run fed a stored run's recorded stimulus (server/experiments/pairing.ts)
 *   sweeps       the sweep runner
 *   pool         the one worker pool (twin simulations, the power-law bootstrap)
 *   autoPair     automatic pairing of every measured run (when bench.twin names a circuit)
 */
import type { RunSourceKind } from '../common/run-stream.ts';
import { AppError } from '../common/errors.ts';
import { virtualBenchConfig, type BenchConfig } from './benchconfig/index.ts';
import { InstrumentManager, type InstrumentManagerOptions } from './benchconfig/instruments.ts';
import { autoPairRuns, unknownAnalyses, type AutoPairHandle } from './experiments/auto-pair.ts';
import { SweepRunner } from './experiments/sweep-runner.ts';
import { poolSimulate } from './experiments/twin-task.ts';
import { WorkerPool, type TaskRunner } from './workers/pool.ts';
import { poolCompute } from './workers/analyses.ts';
import type { AnalysisCompute } from './analysis-io/results.ts';
import type { TwinSimulate } from './experiments/pairing.ts';
import { RunManager } from './runs/run-manager.ts';
import { loadSources, type SourceRegistry } from './sources/registry.ts';
import { resolveCircuit } from './sources/twin-source.ts';
import type { RunStore } from './store/run-store.ts';
import { SOFTWARE_VERSION } from './version.ts';

export interface ServicesOptions {
  store: RunStore;
  /** Default: the virtual bench (virtualBenchConfig()). */
  bench?: BenchConfig;
  /** Default: every source of the static list (loadSources()). */
  sources?: SourceRegistry;
  /** The source of runs that name none (default the registry's, `simulated`). */
  defaultSource?: RunSourceKind;
  /** Instrument manager options; false for none (runs then open their instruments' ports themselves). */
  instruments?: InstrumentManagerOptions | false;
  /** The worker pool (twin simulations, bootstrap). Default: a new one (`workers` threads, one per core by default), closed with the services. */
  pool?: TaskRunner;
  workers?: number;
  /** How sweeps and pairings simulate the twin. Default: on the worker pool. */
  simulate?: TwinSimulate;
  /** Give up on a source that ignores its abort after this long, ms (RunManager). */
  abortGraceMs?: number;
  log?: (line: string) => void;
}

export interface Services {
  readonly store: RunStore;
  readonly bench: BenchConfig;
  readonly sources: SourceRegistry;
  readonly instruments?: InstrumentManager;
  readonly runs: RunManager;
  readonly sweeps: SweepRunner;
  /** The one worker pool: twin runs, sweeps, the power-law bootstrap (server/workers/pool.ts). */
  readonly pool: TaskRunner;
  /** Present when the bench configuration names a twin circuit. */
  readonly autoPair?: AutoPairHandle;
  /** The twin simulation used by sweeps (and pairings). */
  readonly simulate: TwinSimulate;
  /** Analyses of stored runs as sweeps and pairings store them: on the pool (workers/analyses.ts poolCompute). */
  readonly compute: AnalysisCompute;
  /** This machine's threads (`pool` itself unless it is a queue): twin runs the server records, uploads to parse. */
  readonly local: WorkerPool;
  readonly version: string;
  /**
   * Stops everything, in order: no new pairings and the queued ones finished, running runs stopped (stop
   * messages written), sweeps ended, the worker pool closed, instruments to zero and closed. Idempotent.
   * The store stays open (its opener closes it).
   */
  close(): Promise<void>;
}

export function buildServices(opts: ServicesOptions): Services {
  const log = opts.log ?? (() => {});
  const bench = opts.bench ?? virtualBenchConfig();
  const sources = opts.sources ?? loadSources();
  if (opts.defaultSource) sources.defaultKind = opts.defaultSource;
  const instruments = opts.instruments === false ? undefined : new InstrumentManager(bench, { log, ...opts.instruments });
  // Threads start on demand; a pool made here is closed with the services. With a queue (`serve --redis`)
  // the twin runs this server records still simulate on its own threads (streamed to the store).
  const pool: TaskRunner = opts.pool ?? new WorkerPool(opts.workers !== undefined ? { threads: opts.workers } : {});
  const local = pool instanceof WorkerPool ? pool : new WorkerPool(opts.workers !== undefined ? { threads: opts.workers } : {});
  const runs = new RunManager(opts.store, sources, {
    bench,
    log,
    pool: local,
    ...(instruments ? { instruments } : {}),
    ...(opts.abortGraceMs ? { abortGraceMs: opts.abortGraceMs } : {}),
  });
  const simulate: TwinSimulate = opts.simulate ?? poolSimulate(pool);
  const compute = poolCompute(pool, opts.store);
  const sweeps = new SweepRunner(opts.store, runs, { simulate, compute });

  // Automatic pairing (bench.twin): every measured run fed to the twin when it ends, analyses on both.
  let autoPair: AutoPairHandle | undefined;
  if (bench.twin) {
    const unknown = unknownAnalyses(bench.twin.analyses ?? []);
    if (unknown.length) throw new AppError('BAD_BENCH_CONFIG', `bench configuration field /twin/analyses: unknown analysis "${unknown[0]}"`, '/twin/analyses');
    let circuit: unknown;
    try {
      circuit = resolveCircuit(bench.twin.circuit);
    } catch (err) {
      throw new AppError('BAD_BENCH_CONFIG', `bench configuration field /twin/circuit: ${(err as Error).message}`, '/twin/circuit');
    }
    autoPair = autoPairRuns(opts.store, runs, { circuit, analyses: bench.twin.analyses, simulate, compute, log });
  }

  let closing: Promise<void> | undefined;
  return {
    store: opts.store,
    bench,
    sources,
    instruments,
    runs,
    sweeps,
    pool,
    autoPair,
    simulate,
    compute,
    local,
    version: SOFTWARE_VERSION,
    close: () =>
      (closing ??= (async () => {
        // pairings already queued finish first (their twin runs need the run manager), no new ones
        autoPair?.stop();
        await autoPair?.idle();
        await runs.shutdown();
        await sweeps.shutdown();
        if (!opts.pool) await pool.close();
        if (local !== pool) await local.close();
        await instruments?.closeAll();
      })()),
  };
}
