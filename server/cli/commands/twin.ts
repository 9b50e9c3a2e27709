/**
 * `spikeloop twin run <circuit.json> --stimulus <protocol.json | runId:channel>`: simulates the circuit on
 * the stimulus and stores it as a twin run (linked to the measured run when fed from one).
 * `spikeloop twin spice <circuit.json> [--stimulus ...] > circuit.cir`: the ngspice netlist of the circuit.
 * `spikeloop twin circuits`: the example circuits. See docs/twin/README.md.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { TwinMethod, TwinRunBody } from '../../../common/schemas/twin.ts';
import { DEFAULT_SAMPLE_RATE, TWIN_MAX_SAMPLE_RATE } from '../../../common/limits.ts';
import { checkRequest, DEFAULT_DB, ensureDbDir, numberIn, progressBar, readCircuitArg } from '../shared.ts';

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `--stimulus runId:channel` (a stored run's recorded stimulus), or undefined for a protocol file. */
function storedStimulus(arg: string): { runId: number; channel: string } | undefined {
  const m = /^(\d+):(\S+)$/.exec(arg);
  return m && !existsSync(arg) ? { runId: Number(m[1]), channel: m[2] } : undefined;
}

/**
 * `--stimulus` as sampled values: a protocol file sampled at `rate` (with its exact edges when piecewise
 * constant), or a stored run's stimulus (experiments/stimulus.ts).
 */
async function resolveStimulus(
  arg: string,
  opts: { rate: number; duration?: number; db: string },
): Promise<{ samples: Float64Array; sampleRate: number; pieces?: { times: Float64Array; values: Float64Array } }> {
  const stored = storedStimulus(arg);
  if (stored) {
    if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
    const [{ RunStore }, { readStimulus }] = await Promise.all([import('../../store/run-store.ts'), import('../../experiments/stimulus.ts')]);
    const store = RunStore.open(opts.db, { readonly: true });
    try {
      return readStimulus(store, stored.runId, { channel: stored.channel, ...(opts.duration !== undefined ? { durationS: opts.duration } : {}) });
    } finally {
      store.close();
    }
  }
  const { validateProtocol, protocolSummary, sampleStimulus } = await import('../../protocols/index.ts');
  const raw = readJson(arg, 'protocol') as Record<string, unknown>;
  const protocol = validateProtocol(opts.duration !== undefined ? { ...raw, durationS: opts.duration } : raw);
  const { stimulusPieces } = await import('../../protocols/compile.ts');
  const n = Math.max(2, Math.round(protocolSummary(protocol).durationS * opts.rate));
  const pieces = stimulusPieces(protocol);
  return { sampleRate: opts.rate, samples: sampleStimulus(protocol, opts.rate, 0, n), ...(pieces ? { pieces } : {}) };
}

export function register(program: Command): void {
  const twin = program.command('twin').description('Digital twin: simulate circuits on a stimulus, write ngspice netlists');

  twin
    .command('run')
    .description('Simulate a circuit on a stimulus and store it as a twin run; prints the run id, then a JSON summary')
    .argument('<circuit.json>', 'circuit file (or the name of an example circuit, see `twin circuits`)')
    .requiredOption('--stimulus <protocol.json|runId:channel>', 'protocol file, or the stimulus channel of a stored run')
    .option('-d, --duration <seconds>', 'simulated time, s (default: the protocol or recorded length)', numberIn('--duration', 1e-9, 86_400))
    .option('-r, --rate <S/s>', 'output sample rate for a protocol stimulus', numberIn('--rate', 1, TWIN_MAX_SAMPLE_RATE), DEFAULT_SAMPLE_RATE)
    .option('--dt <seconds>', 'internal step, s (default 1/rate; max step of the adaptive method)', numberIn('--dt', 1e-15, 1))
    .option('-m, --method <method>', "rk4 | euler | adaptive | implicit (default: the circuit's recommended method, else rk4)")
    .option('-l, --label <text>', 'label stored with the run')
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .option('--json', 'print only one JSON object on stdout', false)
    .action(async (file: string, opts: { stimulus: string; duration?: number; rate: number; dt?: number; method: string; label?: string; db: string; json: boolean }) => {
      const circuit = await readCircuitArg(file, 'circuit');
      const stored = storedStimulus(opts.stimulus);
      // the request POST /api/twin/runs takes (common/schemas/twin.ts), checked as the API checks it
      const request = {
        circuit,
        ...(stored ? { stimulusRun: stored } : { protocol: readJson(opts.stimulus, 'protocol') as TwinRunBody['protocol'] }),
        sampleRate: opts.rate,
        ...(opts.duration !== undefined ? { durationS: opts.duration } : {}),
        ...(opts.method !== undefined ? { method: opts.method as TwinMethod } : {}),
        ...(opts.dt !== undefined ? { dt: opts.dt } : {}),
        ...(opts.label !== undefined ? { label: opts.label } : {}),
      };
      const { TwinRunBodySchema } = await import('../../../common/schemas/twin.ts');
      const flags = { circuit: file, protocol: '--stimulus', stimulusRun: '--stimulus', sampleRate: '--rate', durationS: '--duration', method: '--method', dt: '--dt', label: '--label' };
      await checkRequest(TwinRunBodySchema, request, flags);
      const [{ buildServices }, { RunStore }, { startTwinRun }] = await Promise.all([
        import('../../services.ts'),
        import('../../store/run-store.ts'),
        import('../../experiments/pairing.ts'),
      ]);
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      const services = buildServices({ store, instruments: false });
      const { runs } = services;
      try {
        const t0 = Date.now();
        // the one path of a twin run (experiments/pairing.ts); fed a stored run's stimulus, it is linked to it
        const started = await startTwinRun(store, runs, request, 'local');
        const id = started.id;
        const progress = runs.progress(id);
        const total = progress?.samplesTotal ?? started.channels[0]?.sampleCount ?? 0;
        if (!opts.json) console.log(String(id));
        const bar = progressBar(total, `twin run ${id} [{bar}] {value}/{total} samples`);
        const tick = setInterval(() => {
          const p = runs.progress(id);
          if (p) bar.update(p.samplesDone);
        }, 200);
        await runs.waitForEnd(id);
        clearInterval(tick);
        bar.update(total);
        bar.stop();
        const run = store.getRun(id)!;
        console.log(
          JSON.stringify({
            id: run.id,
            status: run.status,
            reason: run.reason,
            source: run.source,
            linkedRunId: run.linkedRunId ?? null,
            sampleRate: run.channels[0]?.sampleRate,
            samples: run.channels[0]?.sampleCount ?? 0,
            seconds: (Date.now() - t0) / 1000,
            channels: run.channels.map((c) => ({ index: c.index, name: c.name, unit: c.unit, role: c.role, sampleCount: c.sampleCount })),
            eventCounts: run.eventCounts,
            db: opts.db,
          }),
        );
        if (run.status !== 'completed') process.exitCode = 1;
      } finally {
        await services.close();
        store.close();
      }
    });

  twin
    .command('spice')
    .description('Write the ngspice netlist of a circuit to stdout (device states as behavioural sources on state capacitors)')
    .argument('<circuit.json>', 'circuit file (or the name of an example circuit)')
    .option('--stimulus <protocol.json|runId:channel>', 'stimulus as a PWL source (default: the stimulus element at 0)')
    .option('-d, --duration <seconds>', 'simulated time, s', numberIn('--duration', 1e-9, 86_400))
    .option('-r, --rate <S/s>', 'output sample rate for a protocol stimulus', numberIn('--rate', 1, TWIN_MAX_SAMPLE_RATE), DEFAULT_SAMPLE_RATE)
    .option('--out <file>', 'add a .control block that runs the transient and writes the outputs to this file (wrdata)')
    .option('--db <file>', 'SQLite database file (for runId:channel)', DEFAULT_DB)
    .action(async (file: string, opts: { stimulus?: string; duration?: number; rate: number; out?: string; db: string }) => {
      const circuit = await readCircuitArg(file, 'circuit');
      const { expandCircuit, toSpice } = await import('../../twin/index.ts');
      const net = expandCircuit(circuit);
      const stim = opts.stimulus ? await resolveStimulus(opts.stimulus, opts) : undefined;
      process.stdout.write(
        toSpice(net, {
          ...(stim ? { stimulus: { samples: stim.samples, sampleRate: stim.sampleRate, ...(stim.pieces ? { pieces: stim.pieces } : {}) } } : { tstep: 1 / opts.rate, tstop: opts.duration ?? 1e-3 }),
          ...(opts.out ? { outFile: opts.out } : {}),
        }),
      );
    });

  twin
    .command('circuits')
    .description('List the example circuits (usable by name wherever a circuit file is expected)')
    .option('--json', 'print one JSON object { circuits: [...] }', false)
    .action(async (opts: { json: boolean }) => {
      const { listBuiltInCircuits } = await import('../../twin/circuits/index.ts');
      const list = listBuiltInCircuits();
      if (opts.json) console.log(JSON.stringify({ circuits: list }));
      else for (const c of list) console.log(`${c.name.padEnd(14)} ${c.kind.padEnd(12)} ${c.description.slice(0, 100)}`);
    });
}
