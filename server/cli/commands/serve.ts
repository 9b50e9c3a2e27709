/** `spikeloop serve`: the HTTP/WebSocket API and the dashboard. */
import type { Command } from 'commander';
import { DEFAULT_DB, ensureDbDir, numberIn } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the server: HTTP API, live WebSocket feed, OpenAPI at /docs and the dashboard at /')
    .option('-p, --port <port>', 'TCP port (0 picks a free one)', numberIn('--port', 0, 65535, true), 8080)
    .option('--host <host>', 'address to bind (127.0.0.1 keeps it local to this machine)', '127.0.0.1')
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .option('--log', 'log every request to stderr', false)
    .option('--bench <config.json>', 'bench configuration (instruments, limits, twin circuit paired after every run); default: the virtual bench')
    .action(async (opts: { port: number; host: string; db: string; log: boolean; bench?: string }) => {
      // Heavy modules load only when the command runs, so `--help` and other commands start fast.
      const [{ buildApp }, { RunStore }] = await Promise.all([import('../../api/app.ts'), import('../../store/run-store.ts')]);
      let runsFor: ((store: import('../../store/run-store.ts').RunStore) => Promise<import('../../runs/run-manager.ts').RunManager>) | undefined;
      if (opts.bench) {
        // Validated before the database opens: a bad configuration names its field and starts nothing.
        const [{ readFileSync }, { validateBenchConfig }, { RunManager }, { loadSources }] = await Promise.all([
          import('node:fs'),
          import('../../benchconfig/index.ts'),
          import('../../runs/run-manager.ts'),
          import('../../sources/registry.ts'),
        ]);
        const bench = validateBenchConfig(readFileSync(opts.bench, 'utf8'));
        runsFor = async (store) => new RunManager(store, await loadSources(), { bench });
      }
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      let app;
      try {
        app = await buildApp({ store, logger: opts.log ? { level: 'info' } : false, ...(runsFor ? { runs: await runsFor(store) } : {}) });
      } catch (err) {
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
      console.log(`spikeloop listening on ${url} (database ${opts.db}; API docs ${url}/docs)`);
    });
}
