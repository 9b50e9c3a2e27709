/**
 * `spikeloop db info`: schema version, sizes and counts of the run database.
 * `spikeloop db vacuum`: gives the space of deleted runs back to the file system (needs the writer lock:
 * not while a server records into the same file).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { DEFAULT_DB } from '../shared.ts';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function register(program: Command): void {
  const db = program.command('db').description('Inspect or compact the run database (SQLite)');

  db.command('info')
    .description('Schema version, file sizes, run/channel/sample counts of the database')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--json', 'print one JSON object instead of text', false)
    .action(async (opts: { db: string; json: boolean }) => {
      if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
      const { RunStore } = await import('../../store/run-store.ts');
      const store = RunStore.open(opts.db, { readonly: true });
      try {
        // A corrupt page is reported here, not discovered later by a failing read.
        const problems = store.quickCheck();
        if (problems.length) process.exitCode = 1;
        const integrity = problems.length ? `CORRUPT (PRAGMA quick_check): ${problems.join('; ')}` : 'ok (PRAGMA quick_check)';
        let s: ReturnType<typeof store.stats>;
        try {
          s = store.stats();
        } catch (err) {
          if (!problems.length) throw err;
          console.log(opts.json ? JSON.stringify({ file: opts.db, integrity: problems }) : `file        ${opts.db}\nintegrity   ${integrity}`);
          return;
        }
        if (opts.json) {
          console.log(JSON.stringify({ ...s, integrity: problems.length ? problems : 'ok' }));
          return;
        }
        const runs = Object.entries(s.runs)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ');
        console.log(
          [
            `file        ${s.file}`,
            `schema      version ${s.schemaVersion}, page size ${s.pageSize} B`,
            `size        ${mib(s.fileBytes)} (+ ${mib(s.walBytes)} WAL, ${mib(s.freePages * s.pageSize)} free)`,
            `runs        ${runs || 'none'}`,
            `channels    ${s.channels}, ${s.samples} samples in ${s.segmentRows} rows (raw + pyramid)`,
            `events      ${s.events}`,
            `analyses    ${s.analyses}`,
            `integrity   ${integrity}`,
          ].join('\n'),
        );
      } finally {
        store.close();
      }
    });

  db.command('vacuum')
    .description('Compact the database file after deleting runs (not while a server records into it)')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--json', 'print one JSON object { before, after } (bytes)', false)
    .action(async (opts: { db: string; json: boolean }) => {
      if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
      const { RunStore } = await import('../../store/run-store.ts');
      const store = RunStore.open(opts.db);
      try {
        const before = store.stats().fileBytes;
        store.vacuum();
        const after = store.stats().fileBytes;
        if (opts.json) console.log(JSON.stringify({ before, after }));
        else console.log(`${opts.db}: ${mib(before)} -> ${mib(after)}`);
      } finally {
        store.close();
      }
    });
}
