/**
 * GPIB through a Prologix controller: GPIB-USB (a serial port) or GPIB-ETHERNET (TCP port 1234). One
 * controller is shared by every instrument behind it: each operation addresses its instrument (`++addr`)
 * only when it is not the one addressed last, and runs alone on the controller. The controller is set up
 * in controller mode with read-after-write off (`++auto 0`: the reply stays in the instrument until we
 * ask for it with `++read eoi`, so instruments sharing the bus cannot take each other's replies), EOI
 * asserted on the last byte and LF appended; each setting is read back and checked. Data bytes the
 * controller would take for its own (CR, LF, ESC, '+') are escaped with ESC.
 * Reference: Prologix GPIB-USB / GPIB-ETHERNET Controller User Manual (commands ++addr, ++auto, ++eoi,
 * ++eos, ++mode, ++read, ++read_tmo_ms, ++savecfg, ++ver, ++clr).
 */
import { InstrumentError } from './errors.ts';
import { SerialTransport, type SerialOptions } from './serial.ts';
import { TcpTransport } from './tcp.ts';
import { TransportBase, type Transport } from './transport.ts';

/** Longest the controller waits for a byte during `++read` (its maximum); a longer wait re-issues `++read`. */
const READ_TMO_MS = 3000;
/** The port of a GPIB-ETHERNET controller. */
export const PROLOGIX_TCP_PORT = 1234;

/** Escapes the bytes the controller would interpret (CR, LF, ESC, '+') so they reach the instrument. */
export function prologixEscape(data: string): string {
  return data.replace(/[\r\n\x1b+]/g, (c) => `\x1b${c}`);
}

/** Removes the escapes of `prologixEscape`. */
export function prologixUnescape(data: string): string {
  return data.replace(/\x1b([\s\S])/g, '$1');
}

export class PrologixController {
  private static shared = new Map<string, { ctl: Promise<PrologixController>; users: number }>();
  /** Primary (and secondary) address last sent with ++addr. */
  private addressed = '';
  private chain: Promise<unknown> = Promise.resolve();
  /** The controller's `++ver` reply. */
  version = '';

  private constructor(
    readonly link: Transport,
    readonly address: string,
  ) {}

  /**
   * The controller at `address` (serial path / ASRL resource, or host / host:port / TCPIP SOCKET resource,
   * port 1234 by default), opened and set up once and shared; release it with `release()`.
   */
  static acquire(address: string, opts: Omit<SerialOptions, 'path'> & { timeoutMs?: number } = {}): Promise<PrologixController> {
    const key = address.trim();
    let entry = PrologixController.shared.get(key);
    if (!entry) {
      const ctl = PrologixController.open(key, opts);
      entry = { ctl, users: 0 };
      PrologixController.shared.set(key, entry);
      ctl.catch(() => PrologixController.shared.delete(key));
    }
    entry.users++;
    return entry.ctl;
  }

  private static async open(address: string, opts: Omit<SerialOptions, 'path'> & { timeoutMs?: number }): Promise<PrologixController> {
    const serial = /^ASRL(.+)::INSTR$/i.exec(address)?.[1] ?? (address.startsWith('/') || /^COM\d+$/i.test(address) ? address : null);
    let link: Transport;
    if (serial) link = await SerialTransport.open({ baudRate: 115200, ...opts, path: serial });
    else {
      const m = /^(?:TCPIP\d*::([^:]+)::(\d+)::SOCKET|([^:\s]+)(?::(\d+))?)$/i.exec(address);
      if (!m) throw new InstrumentError('BAD_ADDRESS', `${JSON.stringify(address)} is not a Prologix controller address (a serial port or host[:port])`);
      link = await TcpTransport.open({ host: m[1] ?? m[3], port: Number(m[2] ?? m[4] ?? PROLOGIX_TCP_PORT) });
    }
    const ctl = new PrologixController(link, address);
    try {
      await ctl.setup(opts.timeoutMs ?? 2000);
    } catch (err) {
      await link.close().catch(() => undefined);
      throw err;
    }
    return ctl;
  }

  /** Sends the set-up and reads each setting back; refuses anything that does not answer as a Prologix does. */
  private async setup(timeoutMs: number): Promise<void> {
    const ask = async (cmd: string) => {
      this.link.discardInput();
      await this.link.write(cmd);
      try {
        return (await this.link.read(timeoutMs)).trim();
      } catch (err) {
        throw new InstrumentError('DISCONNECTED', `${this.link.address}: no Prologix controller answered ${cmd} (${(err as Error).message})`);
      }
    };
    this.version = await ask('++ver');
    if (!/prologix/i.test(this.version))
      throw new InstrumentError('DISCONNECTED', `${this.link.address}: ++ver answered ${JSON.stringify(this.version)}, not a Prologix controller`);
    const settings: [string, string][] = [
      ['++savecfg', '0'], // do not write every setting to the controller's EEPROM
      ['++mode', '1'], // controller (not device) mode
      ['++auto', '0'], // no read-after-write: replies are fetched with ++read eoi
      ['++eoi', '1'], // assert EOI with the last byte written
      ['++eos', '2'], // append LF to what goes to the instrument
      ['++read_tmo_ms', String(READ_TMO_MS)],
    ];
    for (const [cmd, value] of settings) await this.link.write(`${cmd} ${value}`);
    for (const [cmd, value] of settings) {
      const got = await ask(cmd);
      if (got !== value)
        throw new InstrumentError('DISCONNECTED', `${this.link.address}: Prologix set-up ${cmd} ${value} did not take (reads back ${JSON.stringify(got)})`);
    }
  }

  /** Runs `fn` with the controller to itself. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async addr(pad: string): Promise<void> {
    if (this.addressed === pad) return;
    await this.link.write(`++addr ${pad}`);
    this.addressed = pad;
  }

  write(pad: string, line: string): Promise<void> {
    return this.exclusive(async () => {
      await this.addr(pad);
      await this.link.write(prologixEscape(line));
    });
  }

  /** Asks the instrument at `pad` to talk and returns its reply line; re-asks while the controller gives up early. */
  read(pad: string, timeoutMs: number): Promise<string> {
    return this.exclusive(async () => {
      await this.addr(pad);
      const end = Date.now() + timeoutMs;
      for (;;) {
        const left = end - Date.now();
        await this.link.write('++read eoi');
        try {
          return await this.link.read(Math.max(1, Math.min(left, READ_TMO_MS + 500)));
        } catch (err) {
          if (!(err instanceof InstrumentError && err.code === 'TIMEOUT') || Date.now() >= end) throw err;
        }
      }
    });
  }

  /** Selected device clear (`++clr`) of one instrument. */
  clear(pad: string): Promise<void> {
    return this.exclusive(async () => {
      await this.addr(pad);
      await this.link.write('++clr');
    });
  }

  /** One user fewer; the last closes the link to the controller. */
  async release(): Promise<void> {
    const entry = PrologixController.shared.get(this.address);
    if (entry && --entry.users > 0) return;
    PrologixController.shared.delete(this.address);
    await this.link.close();
  }
}

/** One GPIB instrument behind a shared Prologix controller, as a message transport. */
export class GpibTransport extends TransportBase {
  readonly address: string;
  private readonly pad: string;

  constructor(
    private readonly ctl: PrologixController,
    board: number,
    primary: number,
    secondary?: number,
  ) {
    super();
    this.address = `GPIB${board}::${primary}${secondary === undefined ? '' : `::${secondary}`}::INSTR`;
    // ++addr takes the secondary address as 96 + n
    this.pad = secondary === undefined ? String(primary) : `${primary} ${96 + secondary}`;
    ctl.link.onClose((err) => this.markClosed(err));
  }

  override get closed(): boolean {
    return this.isClosed || this.ctl.link.closed;
  }

  write(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new InstrumentError('DISCONNECTED', `${this.address}: closed`));
    return this.ctl.write(this.pad, line);
  }

  read(timeoutMs: number): Promise<string> {
    if (this.closed) return Promise.reject(new InstrumentError('DISCONNECTED', `${this.address}: closed`));
    return this.ctl.read(this.pad, timeoutMs).catch((err) => {
      if (err instanceof InstrumentError && err.code === 'TIMEOUT')
        throw new InstrumentError('TIMEOUT', `${this.address} (via Prologix ${this.ctl.address}): no reply within ${timeoutMs} ms`);
      throw err;
    });
  }

  discardInput(): void {
    this.ctl.link.discardInput();
  }

  async close(): Promise<void> {
    if (!this.markClosed()) return;
    await this.ctl.release();
  }
}
