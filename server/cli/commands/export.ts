/**
 * `spikeloop export <runId> --format csv|npy|nwb --out <dir> [--raw]`: writes a stored run with its physics
 * (time column, units, SI values), its events.csv and its JSON sidecar (server/export, docs/storage.md).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_DB, numberIn, progressBar } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description('Export a stored run: CSV (time_s + all channels in SI units), NPY (one float64 SI file per channel; --raw for the stored codes) or NWB 2.x; plus <run>-events.csv and the <run>_about.json sidecar')
    .argument('<runId>', 'run id (see `spikeloop runs`)', numberIn('runId', 1, Number.MAX_SAFE_INTEGER, true))
    .requiredOption('-f, --format <format>', 'csv, npy or nwb')
    .requiredOption('-o, --out <dir>', 'output folder (created when missing)')
    .option('-c, --channel <index>', 'only this channel', numberIn('--channel', 0, 1e6, true))
    .option('--raw', 'NPY: the stored integer codes instead of float64 SI values (scale and offset in the sidecar)', false)
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--json', 'print one JSON object { runId, format, files: [{ path, kind, bytes }] } instead of the paths', false)
    .action(async (runId: number, opts: { format: string; out: string; channel?: number; raw: boolean; db: string; json: boolean }) => {
      if (opts.format !== 'csv' && opts.format !== 'npy' && opts.format !== 'nwb') throw new Error(`--format must be csv, npy or nwb, got "${opts.format}"`);
      if (opts.raw && opts.format !== 'npy') throw new Error('--raw applies to --format npy only (CSV holds SI values; NWB holds the codes with their conversion)');
      if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
      if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) throw new Error(`--out ${opts.out} is a file; give a folder (created when missing)`);
      const [{ writeExport }, { RunStore }] = await Promise.all([import('../../export/index.ts'), import('../../store/run-store.ts')]);
      const store = RunStore.open(opts.db, { readonly: true });
      try {
        const run = store.getRun(runId);
        if (!run) throw new Error(`run ${runId} does not exist in ${opts.db}`);
        if (opts.channel !== undefined && !run.channels.some((c) => c.index === opts.channel)) throw new Error(`run ${runId} has no channel ${opts.channel}`);
        const bar = progressBar(1, `export run ${runId} [{bar}] {percentage}%`);
        const files = await writeExport(store, runId, opts.out, {
          format: opts.format,
          raw: opts.raw,
          channels: opts.channel === undefined ? undefined : [opts.channel],
          onProgress: (done, total) => bar.update(total > 0 ? done / total : 1),
        });
        bar.stop();
        if (opts.json) console.log(JSON.stringify({ runId, format: opts.format, files }));
        else for (const f of files) console.log(f.path);
      } finally {
        store.close();
      }
    });
}
