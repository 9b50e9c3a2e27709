/**
 * `spikeloop virtual daq-uno`: the DAQ firmware image running in simavr behind a real pseudo-terminal, a
 * circuit on its pins — by default the digital twin of the bench circuit (lif-daq), stepped in lockstep in
 * emulated time (docs/daq/overview.md). Prints the serial device path on its first line, runs until
 * interrupted. A bad circuit is reported before anything starts.
 */
import type { Command } from 'commander';
import { VirtualBoard, virtualBoardProblem } from '../../../drivers/daq/virtual.ts';
import { DAQ_BENCH_CIRCUIT, resolveDaqDut } from '../../sources/daq-twin-dut.ts';

export function register(program: Command): void {
  const virtual =
    program.commands.find((c) => c.name() === 'virtual') ??
    program.command('virtual').description('Run a virtual instrument behind a real port');
  virtual
    .command('daq-uno')
    .description('Run the DAQ firmware (Arduino Uno image) in the simavr emulator behind a real serial port, a circuit on its pins')
    .option('--pty <link path>', 'also make this symlink to the serial device (like /dev/ttyACM0)')
    .option(
      '--dut <circuit.json>',
      `circuit on the pins: a twin circuit file (server/twin/circuits format, optional "daq" pin section) or example name, or the built-in C models direct | rc | lif (default: ${DAQ_BENCH_CIRCUIT})`,
    )
    .option('--speed <factor>', 'emulated seconds per wall second at most (0 = unthrottled)', '1')
    .action(async (opts: { pty?: string; dut?: string; speed: string }) => {
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed < 0) throw new Error(`--speed must be a number >= 0 (got ${opts.speed})`);
      const choice = resolveDaqDut(opts.dut, { files: true }); // a bad circuit stops here, before anything starts
      const problem = virtualBoardProblem();
      if (problem) throw new Error(problem);
      const vb = await VirtualBoard.start({ link: opts.pty, speed, ...(choice.kind === 'twin' ? { dut: choice.dut } : { circuit: choice.circuit }) });
      process.stdout.write(`${vb.path}\n`);
      const what = choice.kind === 'twin' ? `twin circuit ${choice.name} (lockstep, emulated time)` : `built-in ${choice.name} model`;
      process.stderr.write(`virtual daq-uno: firmware in simavr on ${vb.ptyPath}, ${what}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await vb.close();
    });
}
