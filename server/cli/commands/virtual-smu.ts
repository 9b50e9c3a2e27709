/**
 * `spikeloop virtual <smu-2400 | smu-2600b | smu-b2900> [--tcp <port>] [--pty <link>] [--baud <n>] [--dut <file>]`:
 * runs a virtual SMU behind a real TCP port and/or pseudo-terminal until interrupted. The first line on
 * stdout is the address(es) it serves (VISA resource strings, space-separated).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';

// Same names as drivers/smu/virtual/server.ts; the drivers load inside the action so --help stays fast.
type VirtualSmuKind = 'smu-2400' | 'smu-2600b' | 'smu-b2900';

const MODELS: Record<VirtualSmuKind, string> = {
  'smu-2400': 'Keithley 2400 SourceMeter (SCPI)',
  'smu-2600b': 'Keithley 2602B System SourceMeter (TSP)',
  'smu-b2900': 'Keysight B2901A SMU (SCPI)',
};

function intArg(name: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}…${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function register(program: Command): void {
  const virtual =
    program.commands.find((c) => c.name() === 'virtual') ??
    program.command('virtual').description('Run a virtual instrument behind a real port');
  for (const kind of Object.keys(MODELS) as VirtualSmuKind[]) {
    virtual
      .command(kind)
      .description(`Virtual ${MODELS[kind]} on TCP and/or a pseudo-terminal; prints its address first, runs until interrupted`)
      .option('--tcp <port>', 'serve raw SCPI/TSP on this TCP port (0: any free port; default 5025 when no --pty)', intArg('--tcp', 0, 65535))
      .option('--host <addr>', 'address to bind TCP on', '127.0.0.1')
      .option('--pty <link>', 'serve on a pseudo-terminal whose client end is linked at this path')
      .option('--baud <n>', 'baud rate modelled on the pseudo-terminal (10 bit times per byte)', intArg('--baud', 50, 4_000_000), 9600)
      .option('--dut <file>', 'device under test: a twin circuit JSON (voltage- or current-stimulus netlist/network), or {"model":"memristor",...} / {"model":"resistor","ohms":10000} (default: the hp-memristor circuit)')
      .option('--vxi11 <port>', 'also serve VXI-11 (TCPIP0::host::inst0::INSTR), its portmapper on this port (111 as on an instrument)', intArg('--vxi11', 0, 65535))
      .option('--prologix <link>', 'also serve it as a GPIB instrument behind a virtual Prologix GPIB-USB on a pseudo-terminal at this path')
      .option('--gpib-address <n>', 'its GPIB address behind --prologix', intArg('--gpib-address', 0, 30), 24)
      .option('--log', 'print every command received on stderr')
      .action(async (opts: { tcp?: number; host: string; pty?: string; baud: number; dut?: string; vxi11?: number; prologix?: string; gpibAddress: number; log?: boolean }) => {
        const [{ dutFromSpec, defaultSmuDut }, { VirtualSmuServer }] = await Promise.all([
          import('../../sources/smu-twin-dut.ts'),
          import('../../../drivers/smu/virtual/server.ts'),
        ]);
        // --dut: {"model": "memristor" | "resistor", ...} or a twin circuit (e.g. {"kind": "netlist", ...} or a
        // network generator; see docs/twin/circuits.md); default the hp-memristor circuit
        const dut = opts.dut ? dutFromSpec(JSON.parse(readFileSync(opts.dut, 'utf8'))) : defaultSmuDut();
        const tcpPort = opts.tcp ?? (opts.pty ? undefined : 5025);
        const server = await VirtualSmuServer.start(kind, { tcpPort, tcpHost: opts.host, ptyPath: opts.pty, baud: opts.baud, dut });
        const extra: { address: string; close: () => Promise<void> }[] = [];
        if (opts.vxi11 !== undefined) {
          const { VirtualVxi11Server } = await import('../../../drivers/smu/virtual/vxi11-server.ts');
          const v = await VirtualVxi11Server.start(server.instrument, { portmapperPort: opts.vxi11, host: opts.host });
          extra.push({ address: `TCPIP0::${opts.host}::inst0::INSTR`, close: () => v.close() });
          process.stderr.write(`VXI-11 portmapper on port ${v.portmapperPort}\n`);
        }
        if (opts.prologix) {
          const { VirtualPrologix } = await import('../../../drivers/smu/virtual/prologix.ts');
          const p = await VirtualPrologix.start({ [opts.gpibAddress]: server.instrument }, { ptyPath: opts.prologix });
          extra.push({ address: `GPIB0::${opts.gpibAddress}::INSTR`, close: () => p.close() });
          process.stderr.write(`Prologix GPIB-USB at ${opts.prologix} (use --gpib ${opts.prologix})\n`);
        }
        process.stdout.write([...server.addresses, ...extra.map((e) => e.address)].join(' ') + '\n');
        process.stderr.write(`${server.instrument.model} ready${opts.pty ? ` (pty at ${opts.baud} baud)` : ''}; Ctrl-C to stop\n`);
        let logged = 0;
        const logTimer = opts.log
          ? setInterval(() => {
              const log = server.instrument.log;
              for (; logged < log.length; logged++) process.stderr.write(`${log[logged].t.toFixed(4)}  ${log[logged].line}\n`);
            }, 100)
          : null;
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        if (logTimer) clearInterval(logTimer);
        for (const e of extra) await e.close();
        await server.close();
      });
  }
}
