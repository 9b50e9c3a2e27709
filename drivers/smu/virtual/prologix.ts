/**
 * A virtual Prologix GPIB controller with virtual instruments on its bus, behind a pseudo-terminal (as a
 * GPIB-USB) and/or TCP (as a GPIB-ETHERNET on port 1234). It keeps the controller's own settings
 * (++addr, ++auto, ++eoi, ++eos, ++mode, ++read_tmo_ms, ++savecfg), answers ++ver, and forwards each
 * unescaped data line to the instrument addressed. With ++auto 0 a reply waits in its instrument until
 * `++read`; a `++read` that finds nothing within read_tmo_ms returns nothing, as the real controller does.
 * Instruments execute on their own clocks (busy time delays their replies), as in server.ts.
 */
import { LineFramer } from '../../transport/transport.ts';
import { ServedPorts } from './ports.ts';
import { prologixUnescape } from '../../transport/prologix.ts';
import type { VirtualInstrument } from './core.ts';
import { InstrumentHost } from './server.ts';

interface BusDevice {
  host: InstrumentHost;
  /** Replies waiting to be read, with the instrument time they are ready. */
  replies: { at: number; data: string }[];
}

export class VirtualPrologix {
  readonly addresses: string[] = [];
  /** Every ++ command received, for tests that check the set-up. */
  readonly controllerLog: string[] = [];
  readonly settings: Record<string, string> = { auto: '1', eoi: '1', eos: '0', mode: '1', read_tmo_ms: '500', savecfg: '1', eot_enable: '0', eot_char: '0' };
  private addressed = 0;
  private bus = new Map<number, BusDevice>();
  private readonly ports = new ServedPorts();
  /** Output is serialised: a ++read that waits for its reply holds back what follows. */
  private chain: Promise<void> = Promise.resolve();

  private constructor(instruments: Record<number, VirtualInstrument>) {
    for (const [pad, inst] of Object.entries(instruments)) this.bus.set(Number(pad), { host: new InstrumentHost(inst), replies: [] });
  }

  static async start(instruments: Record<number, VirtualInstrument>, opts: { ptyPath?: string; tcpPort?: number; tcpHost?: string }): Promise<VirtualPrologix> {
    const p = new VirtualPrologix(instruments);
    try {
      if (opts.tcpPort !== undefined) await p.listenTcp(opts.tcpPort, opts.tcpHost ?? '127.0.0.1');
      if (opts.ptyPath !== undefined) await p.attachPty(opts.ptyPath);
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  instrument(pad: number): VirtualInstrument | undefined {
    return this.bus.get(pad)?.host.inst;
  }

  private connection(send: (d: string) => void): LineFramer {
    return new LineFramer(
      { terminator: '\n', maxLineBytes: 1 << 20 },
      (raw) => {
        const line = raw.replace(/\r$/, '');
        this.chain = this.chain.then(() => this.onLine(line, send)).catch(() => undefined);
      },
      () => undefined,
    );
  }

  private async onLine(line: string, send: (d: string) => void): Promise<void> {
    if (line.startsWith('++')) return this.controllerCommand(line.slice(2).trim(), send);
    const dev = this.bus.get(this.addressed);
    if (!dev) return; // nobody listening at that address: the bytes go nowhere
    const h = dev.host;
    const start = Math.max(h.nowS(), h.freeAt);
    const r = h.inst.execute(prologixUnescape(line), start);
    h.freeAt = start + r.busyS;
    if (r.reply !== null) dev.replies.push({ at: h.freeAt, data: r.reply + '\n' });
    if (this.settings.auto === '1' && r.reply !== null) await this.talk(dev, send);
  }

  /** The addressed instrument talks: its next reply once ready, or nothing after read_tmo_ms. */
  private async talk(dev: BusDevice, send: (d: string) => void): Promise<void> {
    const next = dev.replies[0];
    if (!next) return;
    const waitS = next.at - dev.host.nowS();
    if (waitS * 1000 > Number(this.settings.read_tmo_ms)) {
      await new Promise((r) => setTimeout(r, Number(this.settings.read_tmo_ms)));
      return;
    }
    if (waitS > 0) await new Promise((r) => setTimeout(r, waitS * 1000));
    dev.replies.shift();
    send(next.data);
  }

  private async controllerCommand(cmd: string, send: (d: string) => void): Promise<void> {
    this.controllerLog.push(`++${cmd}`);
    const [name, ...args] = cmd.split(/\s+/);
    const key = name.toLowerCase();
    switch (key) {
      case 'ver':
        return send('Prologix GPIB-USB Controller version 6.107 (virtual, spikeloop)\n');
      case 'addr':
        if (!args.length) return send(`${this.addressed}\n`);
        this.addressed = Number(args[0]);
        return;
      case 'read': {
        const dev = this.bus.get(this.addressed);
        if (dev) await this.talk(dev, send);
        return;
      }
      case 'clr': {
        const dev = this.bus.get(this.addressed);
        if (dev) {
          dev.replies = [];
          dev.host.inst.onDisconnect?.();
        }
        return;
      }
      case 'auto':
      case 'eoi':
      case 'eos':
      case 'mode':
      case 'read_tmo_ms':
      case 'savecfg':
      case 'eot_enable':
      case 'eot_char':
        if (!args.length) return send(`${this.settings[key]}\n`);
        this.settings[key] = args[0];
        return;
      default:
        return; // the controller ignores what it does not know
    }
  }

  private async listenTcp(port: number, hostName: string): Promise<void> {
    const bound = await this.ports.listenTcp(port, hostName, (socket) => {
      const framer = this.connection((d) => socket.write(d, 'latin1'));
      socket.on('data', (c: Buffer) => framer.push(c));
    });
    this.addresses.push(`${hostName}:${bound}`);
  }

  private async attachPty(linkPath: string): Promise<void> {
    const { input, output } = await this.ports.attachPty(linkPath, 'vprologix');
    const framer = this.connection((d) => output.write(Buffer.from(d, 'latin1')));
    input.on('data', (c: Buffer) => framer.push(c));
    input.on('error', () => undefined);
    output.on('error', () => undefined);
    this.addresses.push(linkPath);
  }

  close(): Promise<void> {
    return this.ports.close();
  }
}
