/**
 * `spikeloop protocol list|check|compile` and `spikeloop bench-config check`: the protocol library and
 * the bench limits from the command line, without starting anything.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Protocol } from '../../protocols/index.ts';
import type { BenchConfig } from '../../benchconfig/index.ts';
import { DAQ_DEFAULTS, SMU_DEFAULTS } from '../../protocols/capabilities.ts';

// The protocol schemas load in the actions, so `spikeloop --help` does not pay for them.
const protocols = () => import('../../protocols/index.ts');
const benchconfig = () => import('../../benchconfig/index.ts');

async function loadBench(file: string | undefined): Promise<BenchConfig> {
  const { validateBenchConfig, virtualBenchConfig } = await benchconfig();
  if (!file) return virtualBenchConfig();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read bench configuration ${file}: ${(err as Error).message}`);
  }
  return validateBenchConfig(text);
}

const num = (name: string) => (v: string) => {
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`${name} must be a positive number, got "${v}"`);
  return x;
};

/** "1 table", "3 tables". */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const print = (json: boolean, obj: unknown, text: () => string) => console.log(json ? JSON.stringify(obj) : text());

export function register(program: Command): void {
  const protocol = program.command('protocol').description('Stimulus protocols: list kinds, check one against the bench limits, compile it');

  protocol
    .command('list')
    .description('List the protocol kinds and their parameters')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const { protocolSchemas } = await protocols();
      const kinds = Object.entries(protocolSchemas).map(([kind, s]) => ({
        kind,
        title: (s as { title?: string }).title,
        parameters: Object.entries(s.properties as Record<string, { title?: string; unit?: string; quantityUnit?: string; description?: string; default?: unknown }>)
          .filter(([k]) => k !== 'kind')
          // a level's unit follows the protocol's quantity
          .map(([name, p]) => ({ name, title: p.title, unit: p.quantityUnit ? 'A or V' : p.unit, default: p.default, description: p.description })),
      }));
      print(!!opts.json, { protocols: kinds }, () =>
        kinds
          .map(
            (k) =>
              `${k.kind.padEnd(12)} ${k.title}\n${k.parameters
                .map((p) => `    ${p.name.padEnd(16)} ${p.title}${p.unit ? ` (${p.unit})` : ''}: ${p.description ?? ''}${p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : ''}`)
                .join('\n')}`,
          )
          .join('\n'),
      );
    });

  protocol
    .command('check <file>')
    .description('Validate a protocol or sweep (JSON; "csvFile" resolved next to it), state its duration and peaks, and check it against the bench limits')
    .option('--bench <config.json>', 'bench configuration (default: the built-in virtual bench)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { bench?: string; json?: boolean }) => {
      const [{ protocolSegments, validateProtocol }, { expandSweep, isSweepDocument, sweepSummary }, { readProtocolFile }, { checkLimits, planStimulus }] = await Promise.all([
        protocols(),
        import('../../protocols/sweep.ts'),
        import('../../protocols/load.ts'),
        benchconfig(),
      ]);
      const bench = await loadBench(opts.bench);
      const doc = readProtocolFile(file);
      if (isSweepDocument(doc)) {
        const expanded = expandSweep(doc);
        const summary = sweepSummary(expanded);
        const plans = expanded.points.map((pt) => planStimulus(pt.protocol, bench));
        checkLimits(summary, bench.limits);
        print(!!opts.json, { sweep: summary, points: expanded.points.map((pt, i) => ({ label: pt.label, summary: plans[i].summary })) }, () =>
          [`sweep: ${summary.count} runs, ${summary.durationS} s in all, ${summary.min}..${summary.max} ${summary.unit}: within the limits of "${bench.name}"`, ...expanded.points.map((pt) => `  ${pt.index}: ${pt.label}`)].join('\n'),
        );
        return;
      }
      const p = validateProtocol(doc);
      const plan = planStimulus(p, bench);
      const out = { protocol: p.kind === 'arbitrary' ? { ...p, csv: `(${p.csv.length} characters)` } : p, summary: plan.summary, limits: plan.limits, instrument: plan.instrument.id, segments: protocolSegments(p) };
      print(!!opts.json, out, () =>
        `${p.kind}: ${plan.summary.durationS} s, ${plan.summary.min}..${plan.summary.max} ${plan.summary.unit}, worst-case power ${plan.limits.worstPowerW} W: within the limits of "${bench.name}" (stimulus on ${plan.instrument.id})`,
      );
    });

  protocol
    .command('compile <file>')
    .description('Compile a protocol to an SMU point list or a DAQ waveform program')
    .requiredOption('--target <smu|daq>', 'instrument kind')
    .option('--max-points <n>', 'SMU: longest point list', num('--max-points'), SMU_DEFAULTS.maxPoints)
    .option('--min-dwell <s>', 'SMU: shortest point, s', num('--min-dwell'), SMU_DEFAULTS.minDwellS)
    .option('--sample-rate <S/s>', 'DAQ: output sample rate', num('--sample-rate'), DAQ_DEFAULTS.sampleRate)
    .option('--max-table <n>', 'DAQ: waveform memory, samples', num('--max-table'), DAQ_DEFAULTS.maxTableLength)
    .option('--max-segments <n>', 'DAQ: segment list length', num('--max-segments'), DAQ_DEFAULTS.maxSegments)
    .option('--json', 'print one JSON object')
    .action(
      async (
        file: string,
        opts: { target: string; maxPoints: number; minDwell: number; sampleRate: number; maxTable: number; maxSegments: number; json?: boolean },
      ) => {
        const [{ protocolSummary, validateProtocol }, { compileDaqProgram, compileSmuProgram }, { readProtocolFile }] = await Promise.all([
          protocols(),
          import('../../protocols/compile.ts'),
          import('../../protocols/load.ts'),
        ]);
        const p: Protocol = validateProtocol(readProtocolFile(file));
        const summary = protocolSummary(p);
        if (opts.target === 'smu') {
          const prog = compileSmuProgram(p, { maxPoints: opts.maxPoints, minDwellS: opts.minDwell });
          print(!!opts.json, { summary, program: prog }, () => `${count(prog.points.length, 'point')}\n` + prog.points.map((q) => `${q.value}\t${q.dwellS}`).join('\n'));
        } else if (opts.target === 'daq') {
          const prog = compileDaqProgram(p, { sampleRate: opts.sampleRate, maxTableLength: opts.maxTable, maxSegments: opts.maxSegments });
          const json = { summary, program: { ...prog, tables: prog.tables.map((t) => Array.from(t)) } };
          print(!!opts.json, json, () =>
            `${prog.totalSamples} samples at ${prog.sampleRate} S/s: ${count(prog.tables.length, 'table')} (${count(prog.tables.reduce((n, t) => n + t.length, 0), 'sample')}), ${count(prog.segments.length, 'segment')}`,
          );
        } else {
          throw new Error(`--target must be smu or daq, got "${opts.target}"`);
        }
      },
    );

  program
    .command('bench-config')
    .description('Bench configuration (instruments, ports, channel roles, limits)')
    .command('check [file]')
    .description('Validate a bench configuration JSON (default: print the built-in virtual bench)')
    .option('--json', 'print one JSON object')
    .action(async (file: string | undefined, opts: { json?: boolean }) => {
      const cfg = await loadBench(file);
      print(!!opts.json, { bench: cfg }, () =>
        [
          `${cfg.name}: valid`,
          ...cfg.instruments.map((i) => `  ${i.id} (${i.kind} ${i.model}${i.port ? ` on ${i.port}` : ''}): ${i.channels.map((c) => `${c.name}=${c.role}`).join(', ')}`),
          `  limits: |V| <= ${cfg.limits.maxVoltage} V, |I| <= ${cfg.limits.maxCurrent} A, P <= ${cfg.limits.maxPower} W, compliance ${cfg.limits.compliance.current} A / ${cfg.limits.compliance.voltage} V`,
        ].join('\n'),
      );
    });
}
