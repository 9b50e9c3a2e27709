/**
 * Serves a virtual SMU behind real ports: raw TCP (SCPI/TSP port 5025 style) and/or a pseudo-terminal
 * made by socat, so any client (this project's drivers, a lab's PyVISA script, a terminal) can talk to it.
 *
 * Line timing: on a serial port each byte costs 10 bit times (8N1) at the chosen baud, both ways. A line
 * a client writes into the pty arrives all at once, so the server starts executing it only when its last
 * byte would have arrived on the wire, and writes each reply when its last byte would have left; the
 * instrument's own busy time (integration, sweeps) comes on top. Over TCP there is no byte time.
 */
import { performance } from 'node:perf_hooks';
import { LineFramer } from '../../transport/transport.ts';
import { ServedPorts } from './ports.ts';
import type { VirtualInstrument } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { createVirtual2400 } from './k2400.ts';
import { createVirtual2600B } from './k2600b.ts';
import { createVirtualB2900 } from './b2900.ts';

export type VirtualSmuKind = 'smu-2400' | 'smu-2600b' | 'smu-b2900';
export const VIRTUAL_SMU_KINDS: VirtualSmuKind[] = ['smu-2400', 'smu-2600b', 'smu-b2900'];

/** A virtual SMU of `kind` driving `dut` (the server side injects it: server/sources/smu-twin-dut.ts). */
export function createVirtualSmu(kind: VirtualSmuKind, dut: DeviceUnderTest): VirtualInstrument {
  if (kind === 'smu-2400') return createVirtual2400(dut);
  if (kind === 'smu-2600b') return createVirtual2600B(dut);
  if (kind === 'smu-b2900') return createVirtualB2900(dut);
  throw new Error(`unknown virtual SMU ${JSON.stringify(kind)} (expected ${VIRTUAL_SMU_KINDS.join(', ')})`);
}

/** The instrument plus its clock; shared by all ports so commands execute one after another. */
export class InstrumentHost {
  private readonly t0 = performance.now();
  /** Instrument time (s) until which it is busy. */
  freeAt = 0;
  constructor(readonly inst: VirtualInstrument) {}
  nowS(): number {
    return (performance.now() - this.t0) / 1000;
  }
}

/** One connection: framing in, execution at the modelled time, paced replies out. */
class Connection {
  private rxFree = 0;
  private txFree = 0;
  private out: { at: number; data: string }[] = [];
  private pumping = false;
  private closed = false;
  private readonly framer: LineFramer;
  private readonly byteS: number;

  constructor(
    private readonly host: InstrumentHost,
    private readonly send: (data: string) => void,
    baud: number | undefined,
  ) {
    this.byteS = baud ? 10 / baud : 0;
    this.framer = new LineFramer(
      { terminator: '\n', maxLineBytes: 1 << 20 },
      (line) => this.onLine(line.replace(/\r$/, '')),
      () => undefined, // an over-long line is dropped whole
    );
  }

  push(chunk: Buffer): void {
    if (!this.closed) this.framer.push(chunk);
  }

  close(): void {
    this.closed = true;
    this.out = [];
  }

  private onLine(line: string): void {
    const now = this.host.nowS();
    this.rxFree = Math.max(now, this.rxFree) + (line.length + 1) * this.byteS;
    const start = Math.max(this.rxFree, this.host.freeAt);
    const r = this.host.inst.execute(line, start);
    this.host.freeAt = start + r.busyS;
    if (r.reply === null) return;
    const data = r.reply + '\n';
    const txStart = Math.max(this.host.freeAt, this.txFree, now);
    this.txFree = txStart + data.length * this.byteS;
    this.out.push({ at: this.txFree, data });
    this.pump();
  }

  /** Writes queued replies at their times: a timer to ~1.5 ms before, then a setImmediate spin. */
  private pump = (): void => {
    this.pumping = false;
    while (!this.closed && this.out.length && this.out[0].at <= this.host.nowS() + 1e-4) this.send(this.out.shift()!.data);
    if (this.closed || !this.out.length || this.pumping) return;
    this.pumping = true;
    const waitMs = (this.out[0].at - this.host.nowS()) * 1000;
    if (waitMs > 2) setTimeout(this.pump, waitMs - 1.5);
    else setImmediate(this.pump);
  };
}

export interface VirtualSmuServerOptions {
  /** Serve on TCP at this port (0: any free port). */
  tcpPort?: number;
  tcpHost?: string;
  /** Serve on a pseudo-terminal whose client end is linked at this path. */
  ptyPath?: string;
  /** Baud rate modelled on the pty (default 9600). */
  baud?: number;
  /** The device under test (server/sources/smu-twin-dut.ts: a twin circuit, by default `hp-memristor`). */
  dut: DeviceUnderTest;
}

export class VirtualSmuServer {
  /** Addresses served, as VISA resource strings. */
  readonly addresses: string[] = [];
  private readonly ports = new ServedPorts();
  private readonly host: InstrumentHost;

  private constructor(readonly instrument: VirtualInstrument) {
    this.host = new InstrumentHost(instrument);
  }

  static async start(kind: VirtualSmuKind, opts: VirtualSmuServerOptions): Promise<VirtualSmuServer> {
    const s = new VirtualSmuServer(createVirtualSmu(kind, opts.dut));
    try {
      if (opts.tcpPort !== undefined) await s.listenTcp(opts.tcpPort, opts.tcpHost ?? '127.0.0.1');
      if (opts.ptyPath !== undefined) await s.attachPty(opts.ptyPath, opts.baud ?? 9600);
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  private async listenTcp(port: number, hostName: string): Promise<void> {
    const bound = await this.ports.listenTcp(port, hostName, (socket) => {
      const conn = new Connection(this.host, (d) => socket.write(d, 'latin1'), undefined);
      socket.on('data', (c: Buffer) => conn.push(c));
      socket.on('close', () => {
        conn.close();
        this.instrument.onDisconnect?.();
      });
    });
    this.addresses.push(`TCPIP0::${hostName}::${bound}::SOCKET`);
  }

  private async attachPty(linkPath: string, baud: number): Promise<void> {
    const { input, output } = await this.ports.attachPty(linkPath, 'vsmu');
    const conn = new Connection(this.host, (d) => output.write(Buffer.from(d, 'latin1')), baud);
    input.on('data', (c: Buffer) => conn.push(c));
    input.on('error', () => conn.close());
    output.on('error', () => conn.close());
    input.on('close', () => conn.close());
    this.addresses.push(`ASRL${linkPath}::INSTR`);
  }

  /** Tcp port actually bound (when serving TCP). */
  get tcpPort(): number | undefined {
    return this.ports.tcpPort;
  }

  /** Makes the pty vanish (socat ends), as if the cable were pulled. */
  dropPty(): Promise<void> {
    return this.ports.dropPty();
  }

  /** Closes every TCP connection (the instrument keeps its state), as a LAN drop would. */
  dropTcpClients(): void {
    this.ports.dropTcpClients();
  }

  close(): Promise<void> {
    return this.ports.close();
  }

}
