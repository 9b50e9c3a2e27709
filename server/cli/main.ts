/**
 * The `spikeloop` command line. Each file in ./commands registers its own subcommands, so features
 * (twin, analyze, virtual instruments, ...) plug in without editing this file.
 */
import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SOFTWARE_VERSION } from '../version.ts';

export interface CommandModule {
  register(program: Command): void;
}

const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');

export async function buildProgram(): Promise<Command> {
  const program = new Command('spikeloop')
    .description('Hardware-in-the-loop lab controller for memristive spiking hardware')
    .version(SOFTWARE_VERSION)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  const files = readdirSync(commandsDir).filter((f) => /\.[jt]s$/.test(f) && !/\.(test|d)\.ts$/.test(f)) // .js in the compiled build.sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(commandsDir, file)).href)) as CommandModule;
    mod.register(program);
  }
  return program;
}

const program = await buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`spikeloop: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
