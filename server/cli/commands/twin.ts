/**
 * `spikeloop twin run <circuit.json> --stimulus <protocol.json | runId:channel>`: simulates the circuit on
 * the stimulus and stores it as a twin run (linked to the measured run when fed from one).
 * `spikeloop twin spice <circuit.json> [--stimulus ...] > circuit.cir`: the ngspice netlist of the circuit.
 * `spikeloop twin circuits`: the example circuits (and the circuits stored in the database).
 * `spikeloop twin fit <circuit> --run <runId>`: calibrate a circuit's parameters to a stored run, store the
 * fitted circuit and pair the run with it (docs/twin/calibration.md). See docs/twin/README.md.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { TwinMethod, TwinRunBody } from '../../../common/schemas/twin.ts';
import { DEFAULT_SAMPLE_RATE, TWIN_MAX_SAMPLE_RATE } from '../../../common/limits.ts';
import { checkRequest, DEFAULT_DB, ensureDbDir, followRun, numberIn, progressBar, readCircuitArg } from '../shared.ts';

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

/**
 * What `twin run` and `twin spice` share: the circuit argument, --stimulus (required when `required` gives
 * its help; else optional, a PWL source), --duration and --rate.
 */
function circuitOnStimulus(cmd: Command, required: string | undefined, durationHelp: string): Command {
  const stimulus = '--stimulus <protocol.json|runId:channel>';
  return (required ? cmd.requiredOption(stimulus, required) : cmd.option(stimulus, 'stimulus as a PWL source (default: the stimulus element at 0)'))
    .argument('<circuit.json>', 'circuit file (or the name of an example circuit, see `twin circuits`)')
    .option('-d, --duration <seconds>', durationHelp, numberIn('--duration', 1e-9, 86_400))
    .option('-r, --rate <S/s>', 'output sample rate for a protocol stimulus', numberIn('--rate', 1, TWIN_MAX_SAMPLE_RATE), DEFAULT_SAMPLE_RATE);
}

export function register(program: Command): void {
  const twin = program.command('twin').description('Digital twin: simulate circuits on a stimulus, fit them to a measured run, write ngspice netlists');

  circuitOnStimulus(
    twin.command('run').description('Simulate a circuit on a stimulus and store it as a twin run; prints the run id, then a JSON summary'),
    'protocol file, or the stimulus channel of a stored run',
    'simulated time, s (default: the protocol or recorded length)',
  )
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
        const { run, head } = await followRun(runs, id, { total, format: `twin run ${id} [{bar}] {value}/{total} samples`, value: (p) => [p.samplesDone], last: [total] });
        console.log(
          JSON.stringify({
            ...head,
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

  circuitOnStimulus(
    twin.command('spice').description('Write the ngspice netlist of a circuit to stdout (device states as behavioural sources on state capacitors)'),
    undefined,
    'simulated time, s',
  )
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
    .description('List the example circuits (usable by name wherever a circuit file is expected) and the circuits stored in the database (fitted ones)')
    .option('--db <file>', 'SQLite database file whose stored circuits to list too (when it exists)', DEFAULT_DB)
    .option('--json', 'print one JSON object { circuits: [...] }', false)
    .action(async (opts: { json: boolean; db: string }) => {
      const { listBuiltInCircuits } = await import('../../twin/circuits/index.ts');
      const list: { name: string; kind: string; description: string; stored?: boolean }[] = listBuiltInCircuits();
      if (existsSync(opts.db)) {
        const { RunStore } = await import('../../store/run-store.ts');
        const store = RunStore.open(opts.db, { readonly: true });
        try {
          for (const c of store.listCircuits()) {
            const doc = c.document as { kind?: string; description?: string };
            list.push({ name: c.name, kind: doc.kind ?? '', description: doc.description ?? '', stored: true });
          }
        } finally {
          store.close();
        }
      }
      if (opts.json) console.log(JSON.stringify({ circuits: list }));
      else for (const c of list) console.log(`${c.name.padEnd(14)} ${c.kind.padEnd(12)} ${c.stored ? '(stored) ' : ''}${c.description.slice(0, 100)}`);
    });

  twin
    .command('fit')
    .description("Fit a circuit's parameters so the twin fed a run's recorded stimulus reproduces its response; store the fitted circuit and pair the run with it")
    .argument('<circuit>', 'circuit: a built-in name, a circuit stored in the database (a previous fit) or a circuit JSON file')
    .requiredOption('--run <runId>', 'the measured run to fit', numberIn('--run', 1, Number.MAX_SAFE_INTEGER, true))
    .option('--params <names>', 'free parameters, element.parameter, comma-separated (e.g. M.Ron,M.tau,Cm.value; default: every R and C value and device parameter)')
    .option('--bounds <file>', 'JSON file of bounds: { "M.Ron": [min, max], "Cm.value": { "min": ..., "max": ..., "log": true } } (default: a factor of 4 either side)')
    .option('--objective <kind>', 'waveform | spikes | iv', 'waveform')
    .option('--channels <names>', 'twin outputs compared, comma-separated (default: every voltage and current output the run recorded)')
    .option('--seed <n>', 'seed of the search', numberIn('--seed', 0, 2 ** 32 - 1, true), 1)
    .option('--max-evals <n>', 'objective evaluations of the search at most', numberIn('--max-evals', 10, 1_000_000, true), 1500)
    .option('--restarts <n>', 'IPOP restarts of the search', numberIn('--restarts', 0, 20, true), 0)
    .option('--name <name>', 'name of the stored fitted circuit (default <circuit>-fit-run<id>)')
    .option('--no-pair', 'do not pair the run with the fitted circuit')
    .option('--workers <n>', 'worker threads (default: one per core)', numberIn('--workers', 1, 256, true))
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--json', 'print only one JSON object on stdout', false)
    .action(
      async (
        arg: string,
        opts: { run: number; params?: string; bounds?: string; objective: string; channels?: string; seed: number; maxEvals: number; restarts: number; name?: string; pair: boolean; workers?: number; db: string; json: boolean },
      ) => {
        const { OBJECTIVES } = await import('../../twin/calibration.ts');
        if (!(OBJECTIVES as readonly string[]).includes(opts.objective)) throw new Error(`--objective must be one of ${OBJECTIVES.join(', ')}`);
        const bounds = opts.bounds ? (readJson(opts.bounds, 'bounds file') as Record<string, never>) : undefined;
        if (bounds !== undefined && (typeof bounds !== 'object' || bounds === null || Array.isArray(bounds))) throw new Error(`bounds file ${opts.bounds}: expected an object { "element.parameter": [min, max] }`);
        if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
        const [{ buildServices }, { RunStore }, { calibrateRun }] = await Promise.all([import('../../services.ts'), import('../../store/run-store.ts'), import('../../experiments/fit.ts')]);
        const store = RunStore.open(opts.db);
        const services = buildServices({ store, instruments: false, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
        const ac = new AbortController();
        const onSigint = () => ac.abort(new Error('interrupted'));
        process.once('SIGINT', onSigint);
        try {
          const circuit = store.getCircuit(arg)?.document ?? (await readCircuitArg(arg, 'circuit'));
          const list = (s?: string) => s?.split(',').map((x) => x.trim()).filter(Boolean);
          const bar = progressBar(1, 'twin fit [{bar}] {percentage}% | {value}/{total} evaluations | residual {residual}');
          let total = 1;
          const r = await calibrateRun(store, services.runs, services.pool, opts.run, {
            circuit,
            circuitName: arg,
            ...(list(opts.params) ? { params: list(opts.params) } : {}),
            ...(bounds ? { bounds } : {}),
            objective: opts.objective as never,
            ...(list(opts.channels) ? { channels: list(opts.channels) } : {}),
            seed: opts.seed,
            maxEvals: opts.maxEvals,
            restarts: opts.restarts,
            ...(opts.name ? { name: opts.name } : {}),
            pair: opts.pair,
            signal: ac.signal,
            onProgress: (p) => {
              if (p.total !== total) bar.setTotal((total = p.total));
              bar.update(p.evals, { residual: p.residual.toPrecision(3) });
            },
          });
          bar.stop();
          const { fitted: _doc, ...result } = r;
          if (opts.json) console.log(JSON.stringify(result));
          else {
            console.log(`fitted ${arg} to run ${opts.run} (objective ${r.objective}, ${r.channels.join(', ') || 'spike events'}): residual ${r.startResidual.toPrecision(3)} -> ${r.residual.toPrecision(3)}, ${r.evals} evaluations, ${r.seconds.toFixed(1)} s`);
            for (const p of r.report) {
              const ci = p.ci ? `[${p.ci[0].toPrecision(4)}, ${p.ci[1].toPrecision(4)}]` : 'not determined';
              console.log(`  ${p.name.padEnd(14)} ${r.start[p.name].toPrecision(4).padStart(11)} -> ${p.value.toPrecision(6).padStart(12)}   95 % CI ${ci}`);
            }
            for (const w of r.warnings) console.log(`warning: ${w}`);
            console.log(`stored as circuit "${r.circuit}"${r.twinRunId !== null ? `; run ${opts.run} paired with twin run ${r.twinRunId}` : ''}`);
          }
        } finally {
          process.off('SIGINT', onSigint);
          await services.close();
          store.close();
        }
      },
    );
}
