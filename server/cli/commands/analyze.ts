/**
 * `spikeloop analyze <name> ...`: one command per analysis of the registry (server/analysis-io/registry.ts),
 * its flags generated from the analysis's parameter schema (`min_tail` → `--min-tail`, or the schema's
 * `cli.flag`), its arguments from its input kind:
 *
 *   analyze powerlaw <file> [--discrete | --continuous] [--xmin <v>] [--bootstrap <reps>] [--compare] --json
 *   analyze distance <file> --metric isi|spike|spike-sync|van-rossum|victor-purpura [--tau <s>] [--q <1/s>] ...
 *   analyze <spikes|bursts|avalanches|psd> <runId | file.csv | file.npy> [options] --json
 *   analyze <resonance|regime> <inputs...> [options] --json
 *   analyze compare <measured> [simulated] [options] --json
 *   analyze stdp <runId...> | <file.csv> [options] --json
 *
 * Run inputs read the database (--db); their results are stored with the run and reused when the same
 * analysis is asked again with the same parameters (--recompute forces a new computation).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { IsOptional, type TSchema } from 'typebox';
import { DEFAULT_DB, progressBar } from '../shared.ts';
import type { Signal } from '../../analysis-io/inputs.ts';
import type { CliMeta } from '../../analysis-io/params.ts';
import { ANALYSES, type AnalysisDef } from '../../analysis-io/registry.ts';
import { resultVariants } from '../../analysis-io/result-fields.ts';
import type { RunStore } from '../../store/run-store.ts';
import type { AnalysisResults } from '../../../common/schemas/analysis-results.ts';

type Prop = TSchema & { type?: string; anyOf?: TSchema[]; const?: unknown; title?: string; description?: string; unit?: string; cli?: CliMeta; default?: unknown; minimum?: number; maximum?: number; exclusiveMinimum?: number };

/** The result's warnings (top level, or of `result` in a run's envelope) as `warning: …` lines. */
function warningLines(obj: unknown): string[] {
  const o = obj as { warnings?: unknown; result?: { warnings?: unknown } } | null;
  const w = o?.warnings ?? o?.result?.warnings;
  return Array.isArray(w) ? w.map((x) => `warning: ${String(x)}`) : [];
}

/** One JSON object (--json), or the text form followed by the warnings, each on its own line. */
function print(obj: unknown, json: boolean, text?: () => string): void {
  if (json) console.log(JSON.stringify(obj));
  else console.log([text ? text() : JSON.stringify(obj, null, 2), ...warningLines(obj)].join('\n'));
}

const kebab = (k: string) => k.replace(/_/g, '-');

/** commander's key for a long flag: --min-tail → minTail. */
const optKey = (long: string) => long.replace(/^--/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function numberParser(flag: string, s: Prop, integer: boolean) {
  const min = s.minimum ?? s.exclusiveMinimum ?? -Number.MAX_VALUE;
  const max = s.maximum ?? Number.MAX_VALUE;
  return (v: string): number => {
    const n = Number(v);
    const ok = v.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (s.exclusiveMinimum === undefined || n > s.exclusiveMinimum) && (!integer || Number.isInteger(n));
    if (!ok) throw new InvalidArgumentError(`${flag} must be ${integer ? 'an integer' : 'a number'} ${s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : `>= ${min}`}${max < Number.MAX_VALUE ? ` and <= ${max}` : ''}`);
    return n;
  };
}

interface FlagBinding {
  key: string;
  /** commander's option keys that set it and how. */
  read(o: Record<string, unknown>): unknown;
}

/** Adds one option per parameter; returns how to read the parameters back. */
function addParamOptions(cmd: Command, def: AnalysisDef): FlagBinding[] {
  const bindings: FlagBinding[] = [];
  for (const [key, prop] of Object.entries(def.params.properties) as [string, Prop][]) {
    const meta = prop.cli ?? {};
    if (meta.hidden) continue;
    const long = meta.flag ?? `--${kebab(key)}`;
    const names = meta.short ? `${meta.short}, ${long}` : long;
    const what = [prop.title, prop.description].filter(Boolean).join(': ') + (prop.unit ? ` (${prop.unit})` : '');
    const literals = (prop.anyOf as Prop[] | undefined)?.map((s) => s.const as string);
    if (meta.asFlags && literals) {
      for (const v of literals) cmd.option(`--${v}`, `${prop.title}: ${v}`);
      bindings.push({
        key,
        read: (o) => {
          const set = literals.filter((v) => o[optKey(`--${v}`)]);
          if (set.length > 1) throw new Error(`${set.map((v) => `--${v}`).join(' and ')} exclude each other`);
          return set[0];
        },
      });
      continue;
    }
    let opt: Option;
    if (prop.type === 'boolean') opt = new Option(names, what);
    else if (literals) opt = new Option(`${names} <${key.replace(/_.*/, '')}>`, what).choices(literals);
    else if (prop.type === 'number' || prop.type === 'integer') opt = new Option(`${names} <${prop.unit ?? 'n'}>`, what).argParser(numberParser(long, prop, prop.type === 'integer'));
    else if (prop.type === 'array' && (prop as { items?: unknown }).items && Array.isArray((prop as { items?: unknown }).items)) {
      opt = new Option(`${names} <lo,hi>`, what).argParser((v) => {
        const p = v.split(/[,:]/).map(Number);
        if (p.length !== 2 || !p.every(Number.isFinite) || !(p[1] > p[0])) throw new InvalidArgumentError(`${long} must be "low,high" with low < high`);
        return p;
      });
    } else if (prop.type === 'array' && (prop as { items?: { type?: string } }).items?.type === 'string') {
      opt = new Option(`${names} <a,b>`, what).argParser((v) => v.split(',').map((x) => x.trim()));
    } else if (prop.type === 'array') {
      opt = new Option(`${names} <list>`, what).argParser((v) => {
        const p = v.split(',').map(Number);
        if (!p.every(Number.isFinite)) throw new InvalidArgumentError(`${long} must be comma-separated numbers`);
        return p;
      });
    } else opt = new Option(`${names} <${prop.unit ?? 'value'}>`, what);
    // a yes/no without a default (the analysis decides) can be turned off explicitly too
    const negatable = prop.type === 'boolean' && prop.default === undefined ? new Option(`--no-${long.slice(2)}`, `${prop.title}: no`) : undefined;
    if (prop.default !== undefined && prop.type !== 'boolean') opt.default(prop.default);
    if (prop.default === undefined && !IsOptional(prop)) opt.makeOptionMandatory();
    cmd.addOption(opt);
    if (negatable) cmd.addOption(negatable);
    bindings.push({ key, read: (o) => o[optKey(long)] });
  }
  return bindings;
}

function readParams(bindings: FlagBinding[], o: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (const b of bindings) {
    const v = b.read(o);
    if (v !== undefined) p[b.key] = v;
  }
  return p;
}

interface InputOpts {
  db: string;
  rate?: number;
  scale?: number;
  offset?: number;
  recompute?: boolean;
  json: boolean;
}

const isRunId = (s: string) => /^\d+$/.test(s) && !existsSync(s);

function openStore(file: string, RunStoreCls: typeof RunStore): RunStore {
  if (!existsSync(file)) throw new Error(`no database at ${file} (pass --db)`);
  try {
    return RunStoreCls.open(file);
  } catch {
    // another process holds the writer lock (a running server): read only, results not stored
    return RunStoreCls.open(file, { readonly: true });
  }
}

/** Loads runs (one store) and files; closes the store at the end. */
async function withInputs<T>(inputs: string[], o: InputOpts, use: (sigs: Signal[], store: RunStore | undefined) => Promise<T>): Promise<T> {
  const io = await import('../../analysis-io/inputs.ts');
  let store: RunStore | undefined;
  try {
    const sigs: Signal[] = [];
    for (const input of inputs) {
      if (isRunId(input)) {
        store ??= openStore(o.db, (await import('../../store/run-store.ts')).RunStore);
        sigs.push(io.readRunSignal(store, Number(input)));
      } else if (!existsSync(input)) throw new Error(`no such file or run: ${input}`);
      else sigs.push(await io.readFileSignal(input, o));
    }
    return await use(sigs, store);
  } finally {
    store?.close();
  }
}

function traceInputOptions(c: Command): Command {
  return c
    .option('--db <file>', 'SQLite database file (run inputs)', DEFAULT_DB)
    .option('--rate <Hz>', 'sample rate of a file input without a time column or rate of its own (CSV with an index column, NPY)', numberParser('--rate', { exclusiveMinimum: 0 } as Prop, false))
    .option('--scale <v>', 'file input: physical = value * scale + offset (NPY of raw codes)', numberParser('--scale', {} as Prop, false))
    .option('--offset <v>', 'file input: physical = value * scale + offset (NPY of raw codes)', numberParser('--offset', {} as Prop, false))
    .option('--recompute', 'run input: compute again even if a stored result exists', false);
}

/** Runs the analysis on loaded signals: stored when the input is one run, printed otherwise. */
async function runOnSignals(def: AnalysisDef, inputs: string[], sigs: Signal[], store: RunStore | undefined, params: Record<string, unknown>, o: InputOpts): Promise<void> {
  const { analyzeRun, resolveParams } = await import('../../analysis-io/results.ts');
  if (store && sigs.length === 1 && sigs[0].runId !== undefined) {
    print(await analyzeRun(store, sigs[0].runId, def.name, params, { recompute: o.recompute, signal: sigs[0] }), o.json);
    return;
  }
  const p = resolveParams(def, params);
  const input = def.inputs === 'signal' || def.inputs === 'events' ? sigs[0] : sigs;
  const result = await def.run(input as never, p as never, {});
  print({ input: inputs.length === 1 ? inputs[0] : inputs, method: def.name, params: p, result }, o.json);
}

/** The printed text of the data analyses (powerlaw, distance) without --json, typed by their result schemas. */
const TEXT: { [N in 'powerlaw' | 'distance']: (r: AnalysisResults[N]) => string } = {
  powerlaw: (r) => {
    const f = (x: number | null, d: number) => (x === null ? 'null' : x.toFixed(d));
    return [
      `${r.kind} power law: alpha = ${f(r.alpha, 4)} ± ${f(r.alpha_se, 4)}, xmin = ${r.xmin}, n_tail = ${r.n_tail} of ${r.n_values}, KS D = ${f(r.ks_d, 5)}`,
      ...(r.p_value !== undefined ? [`bootstrap p = ${String(r.p_value)}`] : []),
      ...Object.entries(r.compare ?? {}).map(([k, v]) => `vs ${k}: R = ${f(v.R, 3)}, p = ${v.p === null ? 'null' : v.p.toPrecision(3)}`),
    ].join('\n');
  },
  distance: (r) =>
    [`${r.metric} over [${r.start_s}, ${r.end_s}] s, mean over pairs = ${String(r.mean)}`, ...r.matrix.map((row) => row.map((v) => (v === null ? 'undefined' : v.toFixed(4))).join(' '))].join('\n'),
};
const textOf = (name: string) => (name in TEXT ? (TEXT as Record<string, (r: unknown) => string>)[name] : undefined);

/** The result's top-level fields from its schema, for --help (docs/analysis.md "Results" has them all). */
function resultHelp(def: AnalysisDef): string {
  const variants = resultVariants(def.result).map((v) => `${v.description ? `${v.description}: ` : ''}{ ${v.fields.filter((f) => !/[.[]/.test(f.path)).map((f) => f.path + (f.optional ? '?' : '')).join(', ')} }`);
  return `\nResult (--json; docs/analysis.md "Results"):\n${variants.map((v) => `  ${v}`).join('\n')}`;
}

function register1(analyze: Command, def: AnalysisDef): void {
  const cmd = analyze.command(def.name).description(`${def.description} (${def.source})`).addHelpText('after', resultHelp(def));
  switch (def.inputs) {
    case 'values':
      cmd.argument('<file>', 'values, one per line (commas or spaces also accepted)');
      break;
    case 'trains':
      cmd.argument('<file>', 'one spike train per line, times in s separated by spaces or commas');
      break;
    case 'signal':
    case 'events':
      traceInputOptions(cmd.argument('<input>', 'runId, file.csv or file.npy'));
      break;
    case 'signals':
      traceInputOptions(cmd.argument('<inputs...>', `runIds or files (file.csv, file.npy)${def.table ? `, or one CSV with columns ${def.table.columns.join(', ')}` : ''}`));
      break;
    case 'pair':
      traceInputOptions(cmd.argument('<measured>', 'runId or file').argument('[simulated]', 'runId or file (default for a run: the twin run linked to it)'));
      break;
  }
  const bindings = addParamOptions(cmd, def);
  cmd.option('--json', 'print one JSON object on stdout', false);
  cmd.action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const o = command.opts() as InputOpts & Record<string, unknown>;
    const params = readParams(bindings, o);
    const positional = args.slice(0, -2) as (string | string[] | undefined)[];
    const { resolveParams } = await import('../../analysis-io/results.ts');
    const io = await import('../../analysis-io/inputs.ts');
    if (def.inputs === 'values' || def.inputs === 'trains') {
      const file = positional[0] as string;
      const p = resolveParams(def, params);
      let bar: ReturnType<typeof progressBar> | undefined;
      const onProgress = (done: number, total: number) => {
        bar ??= progressBar(total, 'bootstrap [{bar}] {value}/{total} replicates');
        bar.update(done);
      };
      const input = def.inputs === 'values' ? io.readValues(file) : io.readTrains(file);
      const r: Record<string, unknown> = await def.run(input as never, p as never, { onProgress });
      (bar as ReturnType<typeof progressBar> | undefined)?.stop();
      const text = textOf(def.name);
      print(r, o.json, text ? () => text(r) : undefined);
      return;
    }
    if (def.name === 'stdp' && (positional[0] as string[]).every(isRunId)) {
      // runs of the stdp protocol, printed as a table of pairs and the fit (as POST /api/experiments/stdp)
      const inputs = positional[0] as string[];
      const [{ RunStore }, { stdpCurveOfRuns, stdpCurveText }] = await Promise.all([import('../../store/run-store.ts'), import('../../experiments/stdp-runs.ts')]);
      if (!existsSync(o.db)) throw new Error(`no database at ${o.db} (pass --db)`);
      const store = RunStore.open(o.db, { readonly: true });
      try {
        const p = resolveParams(def, params);
        const result = stdpCurveOfRuns(store, inputs.map(Number), p.channel as string | undefined, { tauMin: p.tau_min as number, tauMax: p.tau_max as number }, '<inputs...>');
        print({ input: inputs.map(Number), method: 'stdp', result }, o.json, () => stdpCurveText(result));
      } finally {
        store.close();
      }
      return;
    }
    if (def.inputs === 'pair') {
      const [measured, simulatedArg] = positional as [string, string | undefined];
      await withInputs([measured], o, async ([a], store) => {
        if (store && a.runId !== undefined && (simulatedArg === undefined || isRunId(simulatedArg))) {
          const { analyzeRun } = await import('../../analysis-io/results.ts');
          const p = simulatedArg === undefined ? params : { ...params, with: Number(simulatedArg) };
          print(await analyzeRun(store, a.runId, def.name, p, { recompute: o.recompute, signal: a }), o.json);
          return;
        }
        if (simulatedArg === undefined) throw new Error(`no <simulated> given and ${measured} is not a run with a linked twin run`);
        await withInputs([simulatedArg], o, async ([b]) => {
          const p = resolveParams(def, params);
          print({ measured, simulated: simulatedArg, method: def.name, params: p, result: await def.run([a, b] as never, p as never, {}) }, o.json);
        });
      });
      return;
    }
    const inputs = def.inputs === 'signals' ? (positional[0] as string[]) : [positional[0] as string];
    if (def.table && inputs.length === 1 && inputs[0].toLowerCase().endsWith('.csv') && existsSync(inputs[0])) {
      // a table of the analysis's columns (a measured sweep: frequency,response) rather than a trace
      const cols = io.readTable(inputs[0]);
      if (def.table.columns.every((c) => c in cols)) {
        await runOnSignals(def, inputs, [io.tableSignal(cols)], undefined, params, o);
        return;
      }
    }
    await withInputs(inputs, o, (sigs, store) => runOnSignals(def, inputs, sigs, store, params, o));
  });
}

export function register(program: Command): void {
  const analyze = program.command('analyze').description('Analyses of runs and files; `spikeloop analyze --help` lists them');
  for (const def of ANALYSES) register1(analyze, def);
}
