/**
 * `spikeloop worker --redis <url> --server <url>`: runs the tasks a `spikeloop serve --redis <url>` server
 * queues (twin runs of sweeps, heavy analyses) on this machine's cores and hands the outputs back through
 * the queue; the server stores them (docs/deploy.md). Checks first that the server answers with the token.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { numberIn } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run queued twin runs and analyses for a `serve --redis` server, on this machine\'s cores')
    .requiredOption('--redis <url>', 'the Redis the server queues on (redis://host:6379)')
    .requiredOption('--server <url>', 'the spikeloop server (http://host:8080); checked at start with the token')
    .option('--token <token>', 'the server\'s token (default: env SPIKELOOP_TOKEN)')
    .option('--concurrency <n>', 'jobs at once (default: one per core)', numberIn('--concurrency', 1, 1024, true))
    .option('--name <name>', 'shown on the Sweeps page (default: host:pid)')
    .action(async (opts: { redis: string; server: string; token?: string; concurrency?: number; name?: string }) => {
      const token = opts.token ?? process.env.SPIKELOOP_TOKEN;
      let health: Response;
      try {
        health = await fetch(new URL('/api/health', opts.server), { headers: token ? { authorization: `Bearer ${token}` } : {} });
      } catch (err) {
        throw new Error(`--server ${opts.server} does not answer: ${(err as Error).message}`);
      }
      if (health.status === 401) throw new Error(`--server ${opts.server} refused the token: pass --token or set SPIKELOOP_TOKEN to the server's token`);
      if (!health.ok) {
        // the server's own reason (a FORBIDDEN_HOST names the fix: serve --allow-host <this name>)
        const why = await health.json().then((b) => (b as { error?: { message?: string } }).error?.message, () => undefined);
        throw new Error(`--server ${opts.server}: GET /api/health answered ${health.status}${why ? `: ${why}` : ''}`);
      }
      const { checkRedis, shownRedis, startQueueWorker } = await import('../../workers/queue.ts');
      await checkRedis(opts.redis);
      const concurrency = opts.concurrency ?? availableParallelism();
      const w = startQueueWorker({ redis: opts.redis, concurrency, ...(opts.name ? { name: opts.name } : {}) });
      await w.ready;
      console.log(`spikeloop worker ${w.worker.name}: ${concurrency} jobs at once from ${shownRedis(opts.redis)} for ${opts.server}`);
      let closing = false;
      const stop = (signal: string) => {
        if (closing) return;
        closing = true;
        console.error(`spikeloop worker: ${signal}, finishing the running jobs`);
        void w.close().then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
