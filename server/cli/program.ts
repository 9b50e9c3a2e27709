/**
 * The `spikeloop` program. Each file in ./commands registers its own commands. Importing every file costs
 * about half a second (the analysis registry, the twin, the DAQ emulator's driver), so the program imports
 * only the file of the command being run (or whose help is asked for); the others appear in `--help` from
 * the one-line table COMMANDS. test/cli-help.test.ts checks that table against the files' own registration.
 */
import { Command, Help } from 'commander';
import { SOFTWARE_VERSION } from '../version.ts';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  name: string;
  /** As `--help` lists it: the name, `[options]` and the arguments. */
  term: string;
  description: string;
  /** The command files that register it (two for `virtual`). */
  load: () => Promise<CommandModule[]>;
}

const one = (m: Promise<CommandModule>) => m.then((x) => [x]);

export const COMMANDS: CommandEntry[] = [
  { name: 'analyze', term: 'analyze', description: 'Analyses of runs and files; `spikeloop analyze --help` lists them', load: () => one(import('./commands/analyze.ts')) },
  { name: 'bench-config', term: 'bench-config', description: 'Bench configuration (instruments, ports, channel roles, limits)', load: () => one(import('./commands/protocol.ts')) },
  { name: 'db', term: 'db', description: 'Inspect or compact the run database (SQLite)', load: () => one(import('./commands/db.ts')) },
  {
    name: 'export',
    term: 'export [options] <runId>',
    description:
      'Export a stored run: CSV (time_s + all channels in SI units), NPY (one float64 SI file per channel; --raw for the stored codes) or NWB 2.x; plus <run>-events.csv and the <run>_about.json sidecar',
    load: () => one(import('./commands/export.ts')),
  },
  {
    name: 'import',
    term: 'import [options] <files...>',
    description:
      'Import a recording as a run: oscilloscope CSV (Tektronix, Keysight, Rigol, R&S, LeCroy, Siglent), plain CSV/NPY with --rate, WAV, spikeloop NWB; prints each run id, then its JSON summary',
    load: () => one(import('./commands/import.ts')),
  },
  { name: 'protocol', term: 'protocol', description: 'Stimulus protocols: list kinds, check one against the bench limits, compile it', load: () => one(import('./commands/protocol.ts')) },
  {
    name: 'run',
    term: 'run [options] <protocol.json>',
    description: 'Record one run from a protocol file (JSON: { "kind": "square", ... }); prints the run id, then a JSON summary',
    load: () => one(import('./commands/run.ts')),
  },
  { name: 'runs', term: 'runs [options]', description: 'List stored runs, newest first', load: () => one(import('./commands/runs.ts')) },
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'Start the server: HTTP API, live WebSocket feed, OpenAPI at /openapi.json (browsable at /docs) and the dashboard at /',
    load: () => one(import('./commands/serve.ts')),
  },
  { name: 'smu', term: 'smu', description: 'Talk to a source-measure unit (Keithley 2400/2600B, Keysight B2900, or a virtual one)', load: () => one(import('./commands/smu.ts')) },
  {
    name: 'sweep',
    term: 'sweep [options] <sweep.json>',
    description: 'Run a sweep (JSON: { "kind": "sweep", "base": {...}, "parameters": [...] }) as a group of runs; prints a JSON summary',
    load: () => one(import('./commands/sweep.ts')),
  },
  { name: 'twin', term: 'twin', description: 'Digital twin: simulate circuits on a stimulus, fit them to a measured run, write ngspice netlists', load: () => one(import('./commands/twin.ts')) },
  {
    name: 'virtual',
    term: 'virtual',
    description: 'Run a virtual instrument behind a real port',
    load: () => Promise.all([import('./commands/virtual-daq.ts'), import('./commands/virtual-smu.ts')]),
  },
  {
    name: 'worker',
    term: 'worker [options]',
    description: 'Run queued twin runs and analyses for a `serve --redis` server, on this machine\'s cores',
    load: () => one(import('./commands/worker.ts')),
  },
];

/**
 * The program for `argv` (process.argv): the named command registered by its own file, every other one
 * from the table. Without `argv`, every command from its file (what the table is checked against).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('spikeloop')
    .description('Hardware-in-the-loop lab controller for memristive spiking hardware')
    .version(SOFTWARE_VERSION)
    .showHelpAfterError();
  const byName = new Map(COMMANDS.map((c) => [c.name, c]));
  // before the commands are added: they inherit it (their subcommands sorted too)
  const help = new Help();
  program.configureHelp({
    sortSubcommands: true,
    // top-level lines from the table (a command from the table has no options or arguments of its own)
    subcommandTerm: (cmd) => (cmd.parent === program ? (byName.get(cmd.name())?.term ?? help.subcommandTerm(cmd)) : help.subcommandTerm(cmd)),
  });
  const words = (argv ?? []).slice(2).filter((a) => !a.startsWith('-'));
  const named = words[0] === 'help' ? words[1] : words[0];
  const full = argv === undefined ? COMMANDS : COMMANDS.filter((c) => c.name === named);
  const loaded = new Set<CommandModule>();
  for (const entry of full) {
    for (const mod of await entry.load()) {
      // protocol.ts registers both `protocol` and `bench-config`
      if (!loaded.has(mod)) mod.register(program);
      loaded.add(mod);
    }
  }
  for (const entry of COMMANDS) if (!program.commands.some((c) => c.name() === entry.name)) program.command(entry.name).description(entry.description);
  return program;
}
