/** `spikeloop serve`: the HTTP/WebSocket API and the dashboard. */
import type { Command } from 'commander';
import os from 'node:os';
import type { RunSourceKind } from '../../../common/run-stream.ts';
import type { SourceRegistry } from '../../sources/registry.ts';
import { DEFAULT_DB, ensureDbDir, numberIn } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the server: HTTP API, live WebSocket feed, OpenAPI at /openapi.json (browsable at /docs) and the dashboard at /')
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
    .option('--token <token>', 'the token every request must carry (default: env SPIKELOOP_TOKEN, else a new random one); printed in the start URL')
    .option('--no-token', 'no token at all: allowed only on a loopback address, and anyone with an account on this machine can then drive the bench')
    .option('--allow-host <name>', 'a host name (or address) requests may name besides loopback and the bound address; with a scheme or port (https://lab.example) also an exact allowed Origin; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--bench <config.json>', 'bench configuration (instruments, limits, twin circuit paired after every run); default: the virtual bench')
    .action(async (opts: { port: number; host: string; db: string; log: boolean; source: string; bench?: string; redis?: string; token?: string | false; allowHost: string[] }) => {
      const { isLoopback, logSerializers, newToken } = await import('../../api/security.ts');
      opts.host = opts.host.replace(/^\[(.*)\]$/, '$1'); // --host [::1], as written in a URL
      // Refused before anything opens: a bench open to the network with no token.
      if (opts.token === false && !isLoopback(opts.host)) {
        throw new Error(`--no-token is allowed only on a loopback address, not --host ${opts.host}: anyone who reaches it could drive the bench`);
      }
      const token = opts.token === false ? null : (opts.token ?? process.env.SPIKELOOP_TOKEN ?? newToken());
      if (token !== null && !/^[\x21-\x7e]{8,256}$/.test(token)) throw new Error('--token / SPIKELOOP_TOKEN: 8 to 256 printable characters without spaces');
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
      // the SMU's limits from the environment (SPIKELOOP_SMU_MAX_*): a mistyped one stops the start, not every smu run
      (await import('../../sources/smu-source.ts')).envDefaults();
      // an unreachable Redis is reported now, before anything opens (its queue would wait for it forever)
      const queue = opts.redis ? await import('../../workers/queue.ts') : undefined;
      if (queue && opts.redis) await queue.checkRedis(opts.redis);
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      const problems = store.quickCheck(3);
      if (problems.length) {
        console.error(`spikeloop: WARNING: ${opts.db} fails its integrity check (PRAGMA quick_check): ${problems.join('; ')}\nspikeloop: reads of the damaged part will fail; copy the file aside and see \`spikeloop db info\``);
      }
      // --redis: the worker pool's tasks go to the queue's workers (server/workers/queue.ts); closed with the app
      const pool = queue && opts.redis ? new queue.QueuePool(opts.redis) : undefined;
      let app: import('../../api/app.ts').App;
      try {
        // the services (server/services.ts) are closed with the app: runs stopped, instruments to zero
        const services = buildServices({ store, sources, ...(bench ? { bench } : {}), ...(pool ? { pool } : {}), log: (line) => app?.log.info(line) });
        app = await buildApp({ services, logger: opts.log ? { level: 'info', serializers: logSerializers } : false, security: { token, allowedHosts: opts.allowHost } });
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
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} is in use on ${opts.host}; choose another with --port (--port 0 picks a free one)`);
        if (code === 'EACCES') throw new Error(`port ${opts.port} on ${opts.host} needs privileges this user lacks; choose another with --port`);
        throw err;
      }
      const urls = startUrls(address, opts.host, token);
      if (!isLoopback(opts.host)) {
        console.error(
          `spikeloop: WARNING: listening on ${opts.host}, reachable from other machines: anyone with the token can drive the instruments on this bench.\n` +
            `spikeloop: it answers at ${urls.join(' , ')} (Host names other than these need --allow-host)`,
        );
      }
      if (token === null) console.error('spikeloop: WARNING: --no-token: any program or user on this machine can drive the bench');
      console.log(`spikeloop listening on ${urls[0]} (database ${opts.db}; API docs ${urls[0].replace(/\/(\?token=.*)?$/, '/docs$1')}; default source ${sources.defaultKind}${opts.redis ? `; twin runs and analyses queued on ${queue?.shownRedis(opts.redis)}` : ''})`);
    });
}

/** The URLs that reach the server: the bound address, or each of the machine's addresses for 0.0.0.0 / ::. */
function startUrls(address: string, host: string, token: string | null): string[] {
  const port = new URL(address).port || '80'; // URL drops a default port; the start line names it
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  const withPort = (a: string) => `http://${a.includes(':') ? `[${a}]` : a}:${port}/${query}`;
  if (host !== '0.0.0.0' && host !== '::') return [withPort(new URL(address).hostname.replace(/^\[|\]$/g, '').replace(/^::1$/, 'localhost'))];
  // link-local IPv6 addresses (fe80::) need an interface's zone to be reached: no URL a browser can open
  const all = Object.values(os.networkInterfaces()).flat().filter((i) => i && (host === '::' || i.family === 'IPv4') && !/^fe80:/i.test(i.address)).map((i) => i!.address);
  return [withPort('127.0.0.1'), ...all.filter((a) => a !== '127.0.0.1' && a !== '::1').map(withPort)];
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
