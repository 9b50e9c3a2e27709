/**
 * The compiled CLI (bin/spikeloop.js runs dist/, built by test/global-setup.ts): `--help` of every command
 * and subcommand, found by walking the help output itself, so a new command is covered without editing this.
 */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { buildProgram } from '../server/cli/program.ts';

const bin = new URL('../bin/spikeloop.js', import.meta.url).pathname;
const run = promisify(execFile);

/** Command names listed under "Commands:" in a help text (without commander's own `help`). */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
}

describe('compiled CLI', () => {
  it('the bin loads the compiled build, never a TypeScript loader', () => {
    const src = readFileSync(bin, 'utf8');
    expect(src).toContain('../dist/server/cli/main.js');
    expect(src).not.toMatch(/tsx|register\(/);
  });

  it('a reader that closes the pipe early (`| head`) ends the command quietly, not with an unhandled EPIPE', async () => {
    // a 5 MB netlist: far more than the pipe holds, so the CLI is still writing when its reader leaves
    const cli = spawn(process.execPath, [bin, 'twin', 'spice', 'nwn2000', '-d', '0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d));
    const first = await new Promise<string>((res) => cli.stdout.once('data', (d: Buffer) => res(String(d))));
    cli.stdout.destroy();
    const code = await new Promise<number | null>((res) => cli.on('close', res));
    expect(first).toMatch(/^\* spikeloop twin: nwn2000/);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('`--help` from the command table lists exactly what the command files register', async () => {
    // the table (program.ts COMMANDS) spares `--help` importing every command file; it must not drift from them
    const full = (await buildProgram()).helpInformation();
    expect((await buildProgram(['node', 'spikeloop', '--help'])).helpInformation()).toBe(full);
    const { stdout } = await run(process.execPath, [bin, '--help']);
    expect(stdout).toBe(full);
  }, 60_000);

  it('--help works for every command and subcommand', async () => {
    const seen: string[] = [];
    const walk = async (path: string[]): Promise<void> => {
      const { stdout } = await run(process.execPath, [bin, ...path, '--help']);
      expect(stdout, `spikeloop ${path.join(' ')} --help`).toMatch(new RegExp(`^Usage: spikeloop${path.map((p) => ' ' + p).join('')}\\b`));
      seen.push(path.join(' '));
      await Promise.all(subcommands(stdout).map((c) => walk([...path, c])));
    };
    await walk([]);
    for (const c of ['serve', 'run', 'runs', 'export', 'sweep', 'analyze', 'virtual daq-uno', 'virtual smu-2400']) expect(seen).toContain(c);
  }, 120_000);
});
