/**
 * `spikeloop twin run <circuit.json> --stimulus <protocol.json | runId:channel>`: simulates the circuit on
 * the stimulus and stores it as a twin run (linked to the measured run when fed from one).
 * `spikeloop twin spice <circuit.json> [--stimulus ...] > circuit.cir`: the ngspice netlist of the circuit.
 * `spikeloop twin circuits`: the example circuits. See docs/twin/README.md.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_DB, ensureDbDir, numberIn, progressBar } from '../shared.ts';

const DEFAULT_RATE = 100_000;

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A circuit file path, or the name of an example circuit. */
async function readCircuit(arg: string): Promise<unknown> {
  if (existsSync(arg)) return readJson(arg, 'circuit');
  const { loadExampleCircuit } = await import('../../sources/twin-source.ts');
  return loadExampleCircuit(arg);
}

interface ResolvedStimulus {
  protocol: unknown;
  sampleRate: number;
  samples: Float64Array;
  quantity: 'current' | 'voltage';
  linkedRunId?: number;
  /** A piecewise-constant protocol's exact edges (the ngspice netlist gets them as its PWL points). */
  pieces?: { times: Float64Array; values: Float64Array };
}

/** `--stimulus` as a protocol file, or `runId:channel` read back from the database. */
async function resolveStimulus(arg: string, opts: { rate: number; duration?: number; db: string }): Promise<ResolvedStimulus> {
  const m = /^(\d+):(\S+)$/.exec(arg);
  if (m && !existsSync(arg)) {
    if (!existsSync(opts.db)) throw new Error(`no database at ${opts.db}`);
    const { RunStore } = await import('../../store/run-store.ts');
    const store = RunStore.open(opts.db, { readonly: true });
    try {
      const runId = Number(m[1]);
      const run = store.getRun(runId);
      if (!run) throw new Error(`run ${runId} not found in ${opts.db}`);
      const ch = run.channels.find((c) => c.name === m[2] || String(c.index) === m[2]);
      if (!ch) throw new Error(`run ${runId} has no channel "${m[2]}" (channels: ${run.channels.map((c) => c.name).join(', ')})`);
      if (ch.unit !== 'A' && ch.unit !== 'V') throw new Error(`channel ${ch.name} is in ${ch.unit}; a stimulus is in A or V`);
      let n = ch.sampleCount;
      if (opts.duration !== undefined) n = Math.min(n, Math.round(opts.duration * ch.sampleRate));
      const samples = new Float64Array(n);
      for (const seg of store.readRaw(runId, ch.index, 0, n)) {
        for (let i = 0; i < seg.samples.length && seg.start + i < n; i++) samples[seg.start + i] = seg.samples[i] * ch.scale + ch.offset;
      }
      return { protocol: run.protocol, sampleRate: ch.sampleRate, samples, quantity: ch.unit === 'A' ? 'current' : 'voltage', linkedRunId: runId };
    } finally {
      store.close();
    }
  }
  const { validateProtocol, protocolSummary, sampleStimulus } = await import('../../protocols/index.ts');
  const { stimulusPieces } = await import('../../protocols/compile.ts');
  const raw = readJson(arg, 'protocol') as Record<string, unknown>;
  const protocol = validateProtocol(opts.duration !== undefined ? { ...raw, durationS: opts.duration } : raw);
  const sum = protocolSummary(protocol);
  const n = Math.max(2, Math.round(sum.durationS * opts.rate));
  const pieces = stimulusPieces(protocol);
  return { protocol, sampleRate: opts.rate, samples: sampleStimulus(protocol, opts.rate, 0, n), quantity: sum.quantity, ...(pieces ? { pieces } : {}) };
}

export function register(program: Command): void {
  const twin = program.command('twin').description('Digital twin: simulate circuits on a stimulus, write ngspice netlists');

  twin
    .command('run')
    .description('Simulate a circuit on a stimulus and store it as a twin run; prints the run id, then a JSON summary')
    .argument('<circuit.json>', 'circuit file (or the name of an example circuit, see `twin circuits`)')
    .requiredOption('--stimulus <protocol.json|runId:channel>', 'protocol file, or the stimulus channel of a stored run')
    .option('-d, --duration <seconds>', 'simulated time, s (default: the protocol or recorded length)', numberIn('--duration', 1e-9, 86_400))
    .option('-r, --rate <S/s>', 'output sample rate for a protocol stimulus', numberIn('--rate', 1, 10_000_000), DEFAULT_RATE)
    .option('--dt <seconds>', 'internal step, s (default 1/rate; max step of the adaptive method)', numberIn('--dt', 1e-15, 1))
    .option('-m, --method <method>', "rk4 | euler | adaptive | implicit (default: the circuit's recommended method, else rk4)")
    .option('-l, --label <text>', 'label stored with the run')
    .option('--db <file>', 'SQLite database file (created when missing)', DEFAULT_DB)
    .option('--json', 'print only one JSON object on stdout', false)
    .action(async (file: string, opts: { stimulus: string; duration?: number; rate: number; dt?: number; method: string; label?: string; db: string; json: boolean }) => {
      if (opts.method !== undefined && !['rk4', 'euler', 'adaptive', 'implicit'].includes(opts.method)) throw new Error('--method must be rk4, euler, adaptive or implicit');
      const circuit = await readCircuit(file);
      const stim = await resolveStimulus(opts.stimulus, opts);
      const [{ buildServices }, { RunStore }] = await Promise.all([import('../../services.ts'), import('../../store/run-store.ts')]);
      ensureDbDir(opts.db);
      const store = RunStore.open(opts.db);
      const services = buildServices({ store, instruments: false });
      const { runs } = services;
      try {
        const t0 = Date.now();
        const started = await runs.start({
          protocol: stim.protocol,
          source: 'twin',
          sampleRate: stim.sampleRate,
          durationS: stim.samples.length / stim.sampleRate,
          ...(opts.label !== undefined ? { label: opts.label } : {}),
          ...(stim.linkedRunId !== undefined ? { linkedRunId: stim.linkedRunId } : {}),
          // a recorded stimulus is replayed sample by sample; a protocol the source compiles itself (exact edges)
          options: {
            circuit, ...(opts.method ? { method: opts.method } : {}), ...(opts.dt !== undefined ? { dt: opts.dt } : {}),
            ...(stim.linkedRunId !== undefined ? { stimulus: stim.samples, quantity: stim.quantity } : {}),
          },
        });
        const id = started.id;
        if (!opts.json) console.log(String(id));
        const bar = progressBar(stim.samples.length, `twin run ${id} [{bar}] {value}/{total} samples`);
        const tick = setInterval(() => {
          const r = store.getRun(id);
          if (r) bar.update(Math.min(stim.samples.length, r.channels[0]?.sampleCount ?? 0));
        }, 200);
        await runs.waitForEnd(id);
        clearInterval(tick);
        bar.update(stim.samples.length);
        bar.stop();
        const run = store.getRun(id)!;
        console.log(
          JSON.stringify({
            id: run.id,
            status: run.status,
            reason: run.reason,
            source: run.source,
            linkedRunId: stim.linkedRunId ?? null,
            sampleRate: stim.sampleRate,
            samples: stim.samples.length,
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
    .option('-r, --rate <S/s>', 'output sample rate for a protocol stimulus', numberIn('--rate', 1, 10_000_000), DEFAULT_RATE)
    .option('--out <file>', 'add a .control block that runs the transient and writes the outputs to this file (wrdata)')
    .option('--db <file>', 'SQLite database file (for runId:channel)', DEFAULT_DB)
    .action(async (file: string, opts: { stimulus?: string; duration?: number; rate: number; out?: string; db: string }) => {
      const circuit = await readCircuit(file);
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
      const { listExampleCircuits } = await import('../../sources/twin-source.ts');
      const list = listExampleCircuits();
      if (opts.json) console.log(JSON.stringify({ circuits: list }));
      else for (const c of list) console.log(`${c.name.padEnd(14)} ${c.kind.padEnd(12)} ${c.description.slice(0, 100)}`);
    });
}
