/** `spikeloop run <protocol.json>`: records one run into the database and prints its id and a JSON summary. */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SAMPLE_RATE, MAX_SAMPLE_RATE } from '../../../common/limits.ts';
import { checkRequest, DEFAULT_DB, ensureDbDir, followRun, numberIn } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('run')
    .description('Record one run from a protocol file (JSON: { "kind": "square", ... }); prints the run id, then a JSON summary')
    .argument('<protocol.json>', 'protocol document, see GET /api/protocols for kinds and parameters')
    .option('-d, --duration <seconds>', 'override the protocol duration, s', numberIn('--duration', 1e-6, 86_400))
    .option('-r, --rate <S/s>', `sample rate per channel (max ${MAX_SAMPLE_RATE})`, numberIn('--rate', 1, MAX_SAMPLE_RATE), DEFAULT_SAMPLE_RATE)
    .option('-s, --source <kind>', 'run source (see `spikeloop serve` GET /api/sources)', 'simulated')
    .option('-l, --label <text>', 'label stored with the run')
    .option(
      '-o, --option <key=value>',
      'source option, repeatable (value read as JSON when it parses, else as a string), e.g. -o port=/dev/ttyACM0',
      (kv: string, acc: Record<string, unknown> = {}) => {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new InvalidArgumentError(`--option expects key=value, got "${kv}"`);
        const raw = kv.slice(eq + 1);
        let value: unknown = raw;
        try {
          value = JSON.parse(raw);
        } catch {
          /* a plain string */
        }
        return { ...acc, [kv.slice(0, eq)]: value };
      },
    )
    .option('--bench <config.json>', 'bench configuration (instruments, limits); with -o instrument=<id> the run uses that instrument, connected for it')
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .action(async (file: string, opts: { duration?: number; rate: number; source: string; label?: string; option?: Record<string, unknown>; bench?: string; db: string }) => {
      // JSON; an arbitrary waveform's "csvFile" is read relative to the protocol file.
      const { readProtocolFile } = await import('../../protocols/load.ts');
      const protocol = readProtocolFile(file);
      // the request POST /api/runs would take (common/schemas/runs.ts); --duration is the CLI's own
      const request = {
        protocol,
        source: opts.source,
        sampleRate: opts.rate,
        ...(opts.label !== undefined ? { label: opts.label } : {}),
        ...(opts.option !== undefined ? { options: opts.option } : {}),
      };
      const { StartRunBodySchema } = await import('../../../common/schemas/runs.ts');
      await checkRequest(StartRunBodySchema, request, { protocol: file, source: '--source', sampleRate: '--rate', label: '--label', options: '--option' });
      // the protocol's own parameters too (duty < 1, ...), so a mistake neither creates nor waits on the database
      const { validateProtocol } = await import('../../protocols/index.ts');
      validateProtocol(opts.duration !== undefined && typeof protocol === 'object' && protocol !== null ? { ...protocol, durationS: opts.duration } : protocol);
      const [{ buildServices }, { RunStore }] = await Promise.all([import('../../services.ts'), import('../../store/run-store.ts')]);
      let bench;
      if (opts.bench) {
        const [{ readFileSync }, { validateBenchConfig }] = await Promise.all([import('node:fs'), import('../../benchconfig/index.ts')]);
        bench = validateBenchConfig(readFileSync(opts.bench, 'utf8'));
      }
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      // the instrument manager lends the bench's instruments (option instrument=<id>, connected first)
      const services = buildServices({ store, ...(bench ? { bench } : {}) });
      const { runs } = services;
      try {
        if (typeof opts.option?.instrument === 'string') await services.instruments!.connect(opts.option.instrument);
        const started = await runs.start({ ...request, ...(opts.duration !== undefined ? { durationS: opts.duration } : {}), from: 'local' });
        const id = started.id;
        console.log(String(id));
        const durationS = Number((started.protocol as { durationS?: number }).durationS ?? 0);
        // progress from the samples received (the run manager's progress: fraction, time left)
        const { run, head } = await followRun(runs, id, {
          total: Math.max(1, Math.round(durationS * 10)) / 10,
          format: `run ${id} [{bar}] {value}/{total} s, {left} s left`,
          value: (p) => [Math.round(p.fraction * durationS * 10) / 10, { left: p.remainingS.toFixed(1) }],
          last: [durationS, { left: '0.0' }],
        });
        console.log(
          JSON.stringify({
            ...head,
            label: run.label,
            protocol: run.protocol,
            source: run.source,
            createdAt: run.createdAt,
            endedAt: run.endedAt,
            channels: run.channels.map((c) => ({ index: c.index, name: c.name, unit: c.unit, role: c.role, sampleRate: c.sampleRate, sampleCount: c.sampleCount })),
            eventCounts: run.eventCounts,
            dropped: run.dropped,
            db: opts.db,
          }),
        );
        if (run.status === 'failed') process.exitCode = 1;
      } finally {
        await services.close();
        store.close();
      }
    });
}
