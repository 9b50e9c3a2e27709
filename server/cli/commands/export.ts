/** `spikeloop export <runId> --format csv|npy --out <dir>`: writes a stored run's samples to files. */
import type { Command } from 'commander';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_DB, numberIn, progressBar } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description('Export a stored run: CSV (all channels, physical units) or NPY (one file per channel, raw dtype)')
    .argument('<runId>', 'run id (see `spikeloop runs`)', numberIn('runId', 1, Number.MAX_SAFE_INTEGER, true))
    .requiredOption('-f, --format <format>', 'csv or npy')
    .requiredOption('-o, --out <dir>', 'output folder (created when missing)')
    .option('-c, --channel <index>', 'only this channel', numberIn('--channel', 0, 1e6, true))
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--json', 'print one JSON object { files: [...] }', false)
    .action(async (runId: number, opts: { format: string; out: string; channel?: number; db: string; json: boolean }) => {
      if (opts.format !== 'csv' && opts.format !== 'npy') throw new Error(`--format must be csv or npy, got "${opts.format}"`);
      if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
      const [{ csvChunks, exportFileName, npyChunks }, { RunStore }] = await Promise.all([
        import('../../export/index.ts'),
        import('../../store/run-store.ts'),
      ]);
      const store = RunStore.open(opts.db, { readonly: true });
      try {
        const run = store.getRun(runId);
        if (!run) throw new Error(`run ${runId} does not exist in ${opts.db}`);
        const channels = opts.channel === undefined ? run.channels : run.channels.filter((c) => c.index === opts.channel);
        if (channels.length === 0) throw new Error(`run ${runId} has no channel ${opts.channel}`);
        mkdirSync(opts.out, { recursive: true });
        const files: { path: string; channel?: string; bytes: number }[] = [];
        const total = opts.format === 'csv' ? Math.max(0, ...channels.map((c) => c.sampleCount)) : channels.reduce((n, c) => n + c.sampleCount, 0);
        const bar = progressBar(Math.max(1, total), `export run ${runId} [{bar}] {percentage}%`);
        let done = 0;
        const counted = function* <T extends { length: number }>(chunks: Iterable<T>, perChunkSamples: (c: T) => number) {
          for (const c of chunks) {
            done += perChunkSamples(c);
            bar.update(Math.min(total, done));
            yield c;
          }
        };
        const write = async (file: string, chunks: Iterable<string | Buffer>) => {
          const stream = createWriteStream(file);
          await pipeline(Readable.from(chunks), stream);
          return stream.bytesWritten;
        };
        if (opts.format === 'csv') {
          const file = path.join(opts.out, exportFileName(runId, 'csv'));
          const bytes = await write(file, counted(csvChunks(store, runId, channels.map((c) => c.index)), (s) => s.split('\n').length - 1));
          files.push({ path: file, bytes });
        } else {
          for (const c of channels) {
            const file = path.join(opts.out, exportFileName(runId, 'npy', c.name));
            const width = c.dtype === 'float64' ? 8 : c.dtype === 'int32' || c.dtype === 'float32' ? 4 : 2;
            const bytes = await write(file, counted(npyChunks(store, runId, c.index), (b) => Math.floor(b.length / width)));
            files.push({ path: file, channel: c.name, bytes });
          }
        }
        bar.stop();
        if (opts.json) console.log(JSON.stringify({ runId, format: opts.format, files }));
        else for (const f of files) console.log(f.path);
      } finally {
        store.close();
      }
    });
}
