/** `spikeloop runs`: lists the stored runs, newest first. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { RUN_STATUSES, type RunListQuery } from '../../../common/schemas/runs.ts';
import type { RunSummary } from '../../store/run-store.ts';
import { aNumber, checkRequest, DEFAULT_DB } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('runs')
    .description('List stored runs, newest first')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('-n, --limit <n>', 'at most this many runs (1 to 1000)', aNumber('--limit'), 50)
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('--json', 'print one JSON object { runs: [...] } instead of a table', false)
    .action(async (opts: { db: string; limit: number; status?: string; json: boolean }) => {
      // the query GET /api/runs takes (common/schemas/runs.ts), checked as the API checks it
      const query = { limit: opts.limit, ...(opts.status !== undefined ? { status: opts.status } : {}) } as RunListQuery;
      const { RunListQuerySchema } = await import('../../../common/schemas/runs.ts');
      await checkRequest(RunListQuerySchema, query, { limit: '--limit', status: '--status' });
      if (!existsSync(opts.db)) {
        if (opts.json) console.log(JSON.stringify({ runs: [] }));
        else console.error(`no database at ${opts.db} yet (it is created by \`spikeloop serve\` or \`spikeloop run\`)`);
        return;
      }
      const { RunStore } = await import('../../store/run-store.ts');
      // Read-only: works while a server is recording into the same file.
      const store = RunStore.open(opts.db, { readonly: true });
      try {
        const runs = store.listRuns(query);
        if (opts.json) {
          console.log(JSON.stringify({ runs }));
          return;
        }
        console.log(table(runs));
      } finally {
        store.close();
      }
    });
}

function table(runs: RunSummary[]): string {
  const rows = [['id', 'status', 'created', 'protocol', 'source', 'duration', 'channels', 'label']];
  for (const r of runs) {
    const ch = r.channels[0];
    const seconds = ch ? ch.sampleCount / ch.sampleRate : 0;
    rows.push([
      String(r.id),
      r.status,
      r.createdAt.replace('T', ' ').slice(0, 19),
      r.protocol.kind,
      r.source,
      `${seconds.toFixed(3)} s`,
      r.channels.map((c) => c.name).join(','),
      r.label ?? '',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
