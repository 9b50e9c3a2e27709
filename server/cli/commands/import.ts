/**
 * `spikeloop import <file> [--format auto|scope-csv|csv|npy|wav|nwb] [--rate] [--unit] [--stimulus] [--no-infer-roles] [--sidecar] [--events] [--label]`:
 * records a recording made elsewhere (oscilloscope CSV, plain CSV, NPY, WAV, spikeloop's NWB) as a run
 * (source `import`); prints the run id, then a JSON summary, and on stderr what it inferred (the run's notes).
 * Formats: docs/import.md.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { IMPORT_FORMATS } from '../../../common/schemas/runs.ts';
import { aNumber, checkRequest, DEFAULT_DB, ensureDbDir } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('import')
    .description('Import a recording as a run: oscilloscope CSV (Tektronix, Keysight, Rigol, R&S, LeCroy, Siglent), plain CSV/NPY with --rate, WAV, spikeloop NWB; prints each run id, then its JSON summary')
    .argument('<files...>', 'the recordings (a folder of scope captures: *.csv); each becomes a run')
    .option('-f, --format <format>', `${IMPORT_FORMATS.join(', ')} (auto: from the file's first bytes and header)`, 'auto')
    .option('-r, --rate <Hz>', 'sample rate, for files without a time column or rate of their own', aNumber('--rate'))
    .option('-u, --unit <unit>', 'unit of channels whose file names none (V, A, mV, ...)')
    .option('-s, --stimulus <channel>', 'the channel that holds the applied stimulus (for twin pairing)')
    .option('--no-infer-roles', 'a CSV without sidecar or --stimulus: every channel a response (default: a channel named like a stimulus, e.g. stim, I_stim, Vin, is the stimulus; the run\'s notes say so)')
    .option('--sidecar <file>', "a spikeloop CSV or NPY export's run-<id>_about.json: channel names, units, roles, rate (default: the one beside a run-<id>.csv or run-<id>-<channel>.npy, when there)")
    .option('--events <file>', "the run's events export run-<id>-events.csv: its spikes, markers and faults are imported with the recording (default: the one beside a run-<id>.csv or run-<id>.nwb, when there)")
    .option('-l, --label <text>', "label stored with the runs (default: the exported run's, from the sidecar or NWB file, else the file name)")
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .action(async (files: string[], opts: { format: string; rate?: number; unit?: string; stimulus?: string; inferRoles: boolean; sidecar?: string; events?: string; label?: string; db: string }) => {
      const [{ importRecording, parseSidecar, readRecording, MAX_IMPORT_BYTES }, { buildServices }, { RunStore }, { ImportQuerySchema }] = await Promise.all([
        import('../../import/index.ts'),
        import('../../services.ts'),
        import('../../store/run-store.ts'),
        import('../../../common/schemas/runs.ts'),
      ]);
      const flags = { name: '<files>', format: '--format', rate: '--rate', unit: '--unit', stimulus: '--stimulus', inferRoles: '--no-infer-roles', label: '--label' };
      const { db: _db, sidecar: _sidecar, events: _events, inferRoles, ...rest } = opts;
      if (opts.events !== undefined && files.length > 1) throw new Error(`--events names one run's events: import its recording alone (${files.length} files given)`);
      const settings = { ...rest, ...(inferRoles ? {} : { inferRoles: 'false' }) };
      // an export's sidecar: the one named, else run-<id>_about.json beside run-<id>.csv / run-<id>-<channel>.npy
      const sidecarText = (file: string): string | undefined => {
        const beside = /^(run-\d+)(-.+)?\.(csv|npy)$/i.exec(path.basename(file));
        const about = opts.sidecar ?? (beside ? path.join(path.dirname(file), `${beside[1]}_about.json`) : undefined);
        if (about === undefined || (opts.sidecar === undefined && !existsSync(about))) return undefined;
        try {
          return readFileSync(about, 'utf8');
        } catch (err) {
          throw new Error(`--sidecar: cannot read ${about}: ${(err as Error).message}`);
        }
      };
      // the run's events export: the one named, else run-<id>-events.csv beside run-<id>.csv / run-<id>.nwb (an NPY
      // export holds one channel per file, and the events name them all)
      const eventsFile = (file: string): { name: string; text: string } | undefined => {
        const beside = /^(run-\d+)\.(csv|nwb)$/i.exec(path.basename(file));
        const events = opts.events ?? (beside ? path.join(path.dirname(file), `${beside[1]}-events.csv`) : undefined);
        if (events === undefined || (opts.events === undefined && !existsSync(events))) return undefined;
        try {
          return { name: events, text: readFileSync(events, 'utf8') };
        } catch (err) {
          throw new Error(`--events: cannot read ${events}: ${(err as Error).message}`);
        }
      };
      // each file's query as POST /api/import would take it (common/schemas/runs.ts), checked as the API checks it
      // (the sidecar is not: a local file has no URL length to fit)
      for (const file of files) await checkRequest(ImportQuerySchema, { name: path.basename(file), ...settings }, flags);
      const read = (file: string) => {
        let stat;
        try {
          stat = statSync(file);
        } catch (err) {
          throw new Error(`cannot read ${file}: ${(err as Error).message}`);
        }
        if (stat.isDirectory()) throw new Error(`${file} is a folder: name its files (e.g. ${path.join(file, '*.csv')})`);
        const size = stat.size;
        if (size > MAX_IMPORT_BYTES) throw new Error(`${file}: ${size} bytes; at most ${MAX_IMPORT_BYTES} are read`);
        const side = sidecarText(file);
        const sidecar = side === undefined ? undefined : parseSidecar(side, file);
        const events = eventsFile(file);
        return readRecording(readFileSync(file), file, { format: opts.format as 'auto', rate: opts.rate, unit: opts.unit, stimulus: opts.stimulus, inferRoles, sidecar, ...(events ? { events } : {}) });
      };
      // every file read and checked before the database is opened: one refused file leaves nothing behind
      for (const file of files) await read(file);
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      const services = buildServices({ store, instruments: false });
      try {
        for (const file of files) {
          const rec = await read(file);
          for (const note of rec.notes ?? []) console.error(`${file}: ${note}`);
          const run = await importRecording(services.runs, rec, file, opts.label !== undefined ? { label: opts.label } : {});
          console.log(String(run.id));
          console.log(JSON.stringify({ ...run, db: opts.db }));
        }
      } finally {
        await services.close();
        store.close();
      }
    });
}
