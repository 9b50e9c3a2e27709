/**
 * `spikeloop sweep <sweep.json>`: runs a sweep as a group of runs into the database: on the bench (each
 * run paired with the twin when --circuit is given) or on the twin alone (--mode twin, all cores).
 */
import type { Command } from 'commander';
import { MAX_SAMPLE_RATE } from '../../../common/limits.ts';
import type { SweepStartBody } from '../../../common/schemas/sweeps.ts';
import { checkRequest, DEFAULT_DB, ensureDbDir, follow, numberIn, readCircuitArg } from '../shared.ts';

export function register(program: Command): void {
  program
    .command('sweep')
    .description('Run a sweep (JSON: { "kind": "sweep", "base": {...}, "parameters": [...] }) as a group of runs; prints a JSON summary')
    .argument('<sweep.json>', 'sweep document, see docs/protocols.md')
    .option('-m, --mode <bench|twin>', 'bench: measured runs (paired with the twin when --circuit is given); twin: the twin alone on all cores', 'bench')
    .option('-c, --circuit <name|file>', 'twin circuit: a built-in name (lif, adaptive-lif, stdp-synapse, ...) or a circuit JSON file (twin mode default for an stdp sweep: stdp-synapse)')
    .option('-r, --rate <S/s>', `sample rate per channel (max ${MAX_SAMPLE_RATE})`, numberIn('--rate', 1, MAX_SAMPLE_RATE))
    .option('-s, --source <kind>', 'bench mode: run source', 'simulated')
    .option('-l, --label <text>', 'label of the sweep (each run gets "[k/N] field=value" appended)')
    .option('-w, --workers <n>', 'twin worker threads (default: one per core)', numberIn('--workers', 1, 256, true))
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .option('--json', 'print only the final JSON object')
    .action(
      async (
        file: string,
        opts: { mode: string; circuit?: string; rate?: number; source: string; label?: string; workers?: number; db: string; json?: boolean },
      ) => {
        const [{ buildServices }, { RunStore }, { readProtocolFile }] = await Promise.all([
          import('../../services.ts'),
          import('../../store/run-store.ts'),
          import('../../protocols/load.ts'),
        ]);
        const sweepDoc = readProtocolFile(file);
        // twin mode without --circuit: the plastic synapse for an stdp sweep (experiments/stdp-circuit.ts)
        const { defaultTwinCircuit } = await import('../../experiments/stdp-circuit.ts');
        const circuitArg = opts.circuit ?? (opts.mode === 'twin' ? defaultTwinCircuit(sweepDoc) : undefined);
        const circuit = circuitArg !== undefined ? await readCircuitArg(circuitArg, '--circuit') : undefined;
        // the request POST /api/sweeps takes (common/schemas/sweeps.ts), checked as the API checks it
        const request = {
          sweep: sweepDoc,
          mode: opts.mode,
          source: opts.source,
          ...(opts.rate !== undefined ? { sampleRate: opts.rate } : {}),
          ...(opts.label !== undefined ? { label: opts.label } : {}),
          ...(circuit !== undefined ? { circuit } : {}),
        } as SweepStartBody;
        const { SweepStartBodySchema } = await import('../../../common/schemas/sweeps.ts');
        await checkRequest(SweepStartBodySchema, request, { sweep: file, mode: '--mode', source: '--source', sampleRate: '--rate', label: '--label', circuit: '--circuit' });
        ensureDbDir(opts.db);
        const store = RunStore.open(opts.db);
        const services = buildServices({ store, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
        const { sweeps } = services;
        try {
          const started = sweeps.start(request);
          if (!opts.json) console.error(`sweep ${started.id}: ${started.summary.count} runs, ${started.summary.durationS} s of stimulus, tag sweep:${started.id}`);
          const done = await follow({
            total: started.summary.count,
            format: `sweep ${started.id} [{bar}] {value}/{total} points`,
            at: () => [Math.round(sweeps.get(started.id).fraction * started.summary.count)],
            stop: () => void sweeps.stop(started.id, 'interrupted from the command line'),
            end: sweeps.wait(started.id),
            last: (d) => [Math.round(d.fraction * d.summary.count)],
          });
          console.log(JSON.stringify({ ...done, db: opts.db }));
          if (done.state !== 'completed') process.exitCode = 1;
        } finally {
          await services.close();
          store.close();
        }
      },
    );
}
