/** `spikeloop serve`: the HTTP/WebSocket API and the dashboard. */
import type { Command } from 'commander';
import type { RunSourceKind } from '../../../common/run-stream.ts';
import type { SourceRegistry } from '../../sources/registry.ts';
import { DEFAULT_DB, ensureDbDir, numberIn } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the server: HTTP API, live WebSocket feed, OpenAPI at /docs and the dashboard at /')
    .option('-p, --port <port>', 'TCP port (0 picks a free one)', numberIn('--port', 0, 65535, true), 8080)
    .option('--host <host>', 'address to bind (127.0.0.1 keeps it local to this machine)', '127.0.0.1')
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .option('--log', 'log every request to stderr', false)
    .option(
      '--source <kind>',
      'source for runs that name none: simulated, daq, smu, twin, or auto (a DAQ board, real or the virtual Uno in simavr, when available; else simulated)',
      'simulated',
    )
    .option('--redis <url>', 'queue sweep points and heavy analyses on this Redis (redis://host:6379) for `spikeloop worker` processes instead of running them on this machine\'s threads')
    .option('--bench <config.json>', 'bench configuration (instruments, limits, twin circuit paired after every run); default: the virtual bench')
    .action(async (opts: { port: number; host: string; db: string; log: boolean; source: string; bench?: string; redis?: string }) => {
      // Heavy modules load only when the command runs, so `--help` and other commands start fast.
      const [{ buildApp }, { RunStore }, { loadSources }, { buildServices }] = await Promise.all([
        import('../../api/app.ts'),
        import('../../store/run-store.ts'),
        import('../../sources/registry.ts'),
        import('../../services.ts'),
      ]);
      const sources = loadSources();
      sources.defaultKind = await chooseDefaultSource(sources, opts.source);
      let bench: import('../../benchconfig/index.ts').BenchConfig | undefined;
      if (opts.bench) {
        // Validated before the database opens: a bad configuration names its field and starts nothing.
        const [{ readFileSync }, { validateBenchConfig }] = await Promise.all([import('node:fs'), import('../../benchconfig/index.ts')]);
        bench = validateBenchConfig(readFileSync(opts.bench, 'utf8'));
      }
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      // --redis: the worker pool's tasks go to the queue's workers (server/workers/queue.ts); closed with the app
      const pool = opts.redis ? new (await import('../../workers/queue.ts')).QueuePool(opts.redis) : undefined;
      let app: import('../../api/app.ts').App;
      try {
        // the services (server/services.ts) are closed with the app: runs stopped, instruments to zero
        const services = buildServices({ store, sources, ...(bench ? { bench } : {}), ...(pool ? { pool } : {}), log: (line) => app?.log.info(line) });
        app = await buildApp({ services, logger: opts.log ? { level: 'info' } : false });
        if (pool) app.addHook('onClose', () => pool.close());
      } catch (err) {
        await pool?.close();
        store.close();
        throw err;
      }
      let closing: Promise<void> | undefined;
      const shutdown = (signal: string) => {
        // Running runs are stopped (stop message written, status aborted) before the store closes.
        closing ??= (async () => {
          console.error(`spikeloop: ${signal}, stopping running runs and closing ${opts.db}`);
          try {
            await app.close();
          } finally {
            store.close();
          }
          process.exit(0);
        })();
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      let address: string;
      try {
        address = await app.listen({ port: opts.port, host: opts.host });
      } catch (err) {
        // e.g. EADDRINUSE: release the database before reporting.
        await app.close().catch(() => undefined);
        store.close();
        throw err;
      }
      const url = address.replace('[::1]', 'localhost');
      console.log(`spikeloop listening on ${url} (database ${opts.db}; API docs ${url}/docs; default source ${sources.defaultKind}${opts.redis ? `; twin runs and analyses queued on ${opts.redis.replace(/\/\/[^@]*@/, '//')}` : ''})`);
    });
}

async function chooseDefaultSource(sources: SourceRegistry, wanted: string): Promise<RunSourceKind> {
  if (wanted !== 'auto') {
    if (!sources.get(wanted)) throw new Error(`--source: "${wanted}" is not one of auto, ${sources.kinds().join(', ')}`);
    return wanted as RunSourceKind;
  }
  const daq = (await sources.list()).find((s) => s.kind === 'daq');
  if (daq?.available) return 'daq';
  console.error(`spikeloop: no DAQ board or virtual board (${daq?.detail ?? 'daq source missing'}); runs use the simulated bench`);
  return 'simulated';
}
