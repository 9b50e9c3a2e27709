/**
 * `spikeloop virtual daq-uno`: the DAQ firmware image running in simavr behind a real pseudo-terminal, a
 * circuit model on its pins. Prints the serial device path on its first line, runs until interrupted.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VirtualBoard, virtualBoardAvailable, type CircuitSpec } from '../../../drivers/daq/virtual.ts';

const KINDS = ['direct', 'rc', 'lif'];

export function readCircuit(file: string): CircuitSpec {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown; params?: unknown };
  if (typeof spec.kind !== 'string' || !KINDS.includes(spec.kind)) {
    throw new Error(`${file}: "kind" must be one of ${KINDS.join(', ')} (got ${JSON.stringify(spec.kind)})`);
  }
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries((spec.params ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: parameter ${k} must be a finite number`);
    params[k] = v;
  }
  return { kind: spec.kind as CircuitSpec['kind'], params };
}

export function register(program: Command): void {
  const virtual =
    program.commands.find((c) => c.name() === 'virtual') ??
    program.command('virtual').description('Run a virtual instrument behind a real port');
  virtual
    .command('daq-uno')
    .description('Run the DAQ firmware (Arduino Uno image) in the simavr emulator behind a real serial port')
    .option('--pty <link path>', 'also make this symlink to the serial device (like /dev/ttyACM0)')
    .option('--dut <circuit.json>', 'circuit on the pins: {"kind":"direct|rc|lif","params":{...}} (default lif)')
    .option('--speed <factor>', 'emulated seconds per wall second at most (0 = unthrottled)', '1')
    .action(async (opts: { pty?: string; dut?: string; speed: string }) => {
      if (!virtualBoardAvailable()) throw new Error('virtual board not built: run `npm run setup` (needs gcc-avr, simavr, libsimavr-dev)');
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed < 0) throw new Error(`--speed must be a number >= 0 (got ${opts.speed})`);
      const circuit = opts.dut ? readCircuit(opts.dut) : { kind: 'lif' as const };
      const vb = await VirtualBoard.start({ link: opts.pty, circuit, speed });
      process.stdout.write(`${vb.path}\n`);
      process.stderr.write(`virtual daq-uno: firmware in simavr on ${vb.ptyPath}, circuit ${circuit.kind}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await vb.close();
    });
}
