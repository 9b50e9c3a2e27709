/**
 * `spikeloop smu idn <address>` and `spikeloop smu iv <address> ...`: talk to an SMU (real or virtual)
 * directly — identify it, or run a safe I-V loop and print the points. Stored runs go through `spikeloop run`.
 */
import type { Command } from 'commander';

// The drivers load inside the actions so `--help` stays fast.
const drivers = async () => {
  const [{ connectSmu }, { SafeSmu }, { ivLoop }] = await Promise.all([
    import('../../../drivers/smu/connect.ts'),
    import('../../../drivers/smu/safety.ts'),
    import('../../../drivers/smu/smu.ts'),
  ]);
  return { connectSmu, SafeSmu, ivLoop };
};

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
};

const GPIB_HELP = 'for GPIB addresses: the Prologix controller (its serial port, e.g. /dev/ttyUSB0, or a GPIB-ETHERNET host[:1234])';

export function register(program: Command): void {
  const smu = program.command('smu').description('Talk to a source-measure unit (Keithley 2400/2600B, Keysight B2900, or a virtual one)');
  smu
    .command('idn')
    .description('Identify the SMU at an address (VISA string, serial path or host:port) and name its driver')
    .argument('<address>', 'e.g. TCPIP0::192.168.1.20::5025::SOCKET, TCPIP0::192.168.1.20::inst0::INSTR, ASRL/dev/ttyUSB0::INSTR, GPIB0::24::INSTR (with --gpib), USB0::0x05E6::0x2602::4000001::INSTR')
    .option('--baud <n>', 'serial baud rate', num('--baud'), 9600)
    .option('--gpib <controller>', GPIB_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (address: string, opts: { baud: number; gpib?: string; json?: boolean }) => {
      const { connectSmu } = await drivers();
      const s = await connectSmu(address, { baudRate: opts.baud, gpibController: opts.gpib });
      const out = { address: s.session.transport.address, model: s.model, idn: s.idn, dialect: s.session.dialect };
      await s.close();
      console.log(opts.json ? JSON.stringify(out) : `${out.model} (${out.dialect.toUpperCase()}) at ${out.address}\n${out.idn}`);
    });
  smu
    .command('iv')
    .description('Run an I-V loop 0 → +peak → -peak → 0 as a buffered sweep, within bench limits; output ramped off at the end')
    .argument('<address>', 'instrument address')
    .option('--peak <V>', 'peak voltage', num('--peak'), 1)
    .option('--points <n>', 'points per quarter of the loop', num('--points'), 25)
    .option('--compliance <A>', 'current compliance', num('--compliance'), 1e-3)
    .option('--delay <s>', 'source delay per point', num('--delay'), 0.001)
    .option('--nplc <n>', 'integration time, power-line cycles', num('--nplc'), 0.1)
    .option('--max-voltage <V>', 'bench limit', num('--max-voltage'), 2)
    .option('--max-current <A>', 'bench limit', num('--max-current'), 1e-2)
    .option('--max-power <W>', 'bench limit', num('--max-power'), 1e-2)
    .option('--baud <n>', 'serial baud rate', num('--baud'), 9600)
    .option('--gpib <controller>', GPIB_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (address: string, o: Record<string, number | boolean | string | undefined>) => {
      const { connectSmu, SafeSmu, ivLoop } = await drivers();
      const levels = ivLoop(o.peak as number, Math.max(1, Math.round(o.points as number)));
      const s = await connectSmu(address, { baudRate: o.baud as number, gpibController: o.gpib as string | undefined, timeoutMs: 10_000 });
      const safe = new SafeSmu(s, { maxVoltage: o.maxVoltage as number, maxCurrent: o.maxCurrent as number, maxPower: o.maxPower as number });
      try {
        await safe.configure({ func: 'voltage', level: 0, compliance: o.compliance as number, nplc: o.nplc as number }, levels);
        await safe.on();
        const r = await safe.listSweep(levels, { delayS: o.delay as number });
        if (o.json) console.log(JSON.stringify({ model: s.model, points: r.length, v: r.map((x) => x.v), i: r.map((x) => x.i), t: r.map((x) => x.t) }));
        else {
          console.log('V (V)\tI (A)\tt (s)');
          for (const x of r) console.log(`${x.v}\t${x.i}\t${x.t}`);
        }
      } finally {
        await safe.close();
      }
    });
}
