/**
 * The `spikeloop` command line. Each file in ./commands registers its own subcommands and is listed in
 * COMMANDS; commands load their heavy modules (the services of server/services.ts) only when they run,
 * so `--help` starts fast.
 */
import { Command } from 'commander';
import { SOFTWARE_VERSION } from '../version.ts';
import * as analyze from './commands/analyze.ts';
import * as db from './commands/db.ts';
import * as exportCmd from './commands/export.ts';
import * as importCmd from './commands/import.ts';
import * as protocol from './commands/protocol.ts';
import * as run from './commands/run.ts';
import * as runs from './commands/runs.ts';
import * as serve from './commands/serve.ts';
import * as smu from './commands/smu.ts';
import * as sweep from './commands/sweep.ts';
import * as twin from './commands/twin.ts';
import * as virtualDaq from './commands/virtual-daq.ts';
import * as virtualSmu from './commands/virtual-smu.ts';
import * as worker from './commands/worker.ts';

export interface CommandModule {
  register(program: Command): void;
}

/** Every command file, in the order `--help` lists them before sorting. */
export const COMMANDS: CommandModule[] = [analyze, db, exportCmd, importCmd, protocol, run, runs, serve, smu, sweep, twin, virtualDaq, virtualSmu, worker];

export async function buildProgram(): Promise<Command> {
  const program = new Command('spikeloop')
    .description('Hardware-in-the-loop lab controller for memristive spiking hardware')
    .version(SOFTWARE_VERSION)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const mod of COMMANDS) mod.register(program);
  return program;
}

const program = await buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`spikeloop: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
