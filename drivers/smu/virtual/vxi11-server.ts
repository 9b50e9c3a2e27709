/**
 * A virtual instrument served over VXI-11 on loopback: a portmapper answering GETPORT for the VXI-11 core
 * program, and the core channel (create_link, device_write, device_read, device_readstb, device_clear,
 * destroy_link). A device_read waits for the instrument's reply (its busy time is modelled as in
 * server.ts) up to the client's io_timeout, then answers error 15 (I/O timeout), as an instrument does.
 * The portmapper listens where told (tests use a free port; an instrument uses 111).
 */
import type net from 'node:net';
import { rpcServer, rpcUnavailable, XdrWriter } from '../../transport/oncrpc.ts';
import { DEVICE_CORE, PORTMAPPER, VXI } from '../../transport/vxi11.ts';
import type { VirtualInstrument } from './core.ts';
import { InstrumentHost } from './server.ts';

export class VirtualVxi11Server {
  private readonly host: InstrumentHost;
  private links = new Map<number, { device: string }>();
  private nextLid = 1;
  private replies: { at: number; data: Buffer }[] = [];
  private servers: net.Server[] = [];
  private sockets = new Set<net.Socket>();
  portmapperPort = 0;
  corePort = 0;

  private constructor(readonly instrument: VirtualInstrument) {
    this.host = new InstrumentHost(instrument);
  }

  static async start(instrument: VirtualInstrument, opts: { portmapperPort?: number; host?: string } = {}): Promise<VirtualVxi11Server> {
    const s = new VirtualVxi11Server(instrument);
    const bind = opts.host ?? '127.0.0.1';
    const core = rpcServer((prog, vers, proc, args) => s.core(prog, vers, proc, args));
    s.corePort = await listen(core, 0, bind);
    s.servers.push(core);
    const pm = rpcServer(async (prog, vers, proc, args) => {
      if (prog !== PORTMAPPER.prog || vers !== PORTMAPPER.vers || (proc !== 0 && proc !== PORTMAPPER.getport)) throw rpcUnavailable(prog, vers, proc);
      if (proc === 0) return Buffer.alloc(0); // NULL
      const [p, v, prot] = [args.u32(), args.u32(), args.u32()];
      return new XdrWriter().u32(p === DEVICE_CORE.prog && v === DEVICE_CORE.vers && prot === 6 ? s.corePort : 0).bytes();
    });
    s.portmapperPort = await listen(pm, opts.portmapperPort ?? 0, bind);
    s.servers.push(pm);
    for (const srv of s.servers)
      srv.on('connection', (sock: net.Socket) => (s.sockets.add(sock), sock.on('close', () => s.sockets.delete(sock))));
    return s;
  }

  /** The VISA address of the served instrument (give `portmapperPort` to the client when it is not 111). */
  get address(): string {
    return 'TCPIP0::127.0.0.1::inst0::INSTR';
  }

  private async core(prog: number, vers: number, proc: number, a: import('../../transport/oncrpc.ts').XdrReader): Promise<Buffer> {
    if (prog !== DEVICE_CORE.prog || vers !== DEVICE_CORE.vers) throw rpcUnavailable(prog, vers, proc);
    const w = new XdrWriter();
    switch (proc) {
      case DEVICE_CORE.createLink: {
        a.i32();
        a.bool();
        a.u32();
        const device = a.string();
        if (!/^inst\d+$/.test(device)) return w.i32(3).i32(0).u32(0).u32(0).bytes(); // device not accessible
        const lid = this.nextLid++;
        this.links.set(lid, { device });
        return w.i32(0).i32(lid).u32(0).u32(1 << 20).bytes();
      }
      case DEVICE_CORE.write: {
        const lid = a.i32();
        a.u32();
        a.u32();
        a.i32();
        const data = a.opaque().toString('latin1');
        if (!this.links.has(lid)) return w.i32(4).u32(0).bytes();
        const h = this.host;
        for (const line of data.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length)) {
          const start = Math.max(h.nowS(), h.freeAt);
          const r = h.inst.execute(line, start);
          h.freeAt = start + r.busyS;
          if (r.reply !== null) this.replies.push({ at: h.freeAt, data: Buffer.from(r.reply + '\n', 'latin1') });
        }
        return w.i32(0).u32(data.length).bytes();
      }
      case DEVICE_CORE.read: {
        const lid = a.i32();
        const requestSize = a.u32();
        const ioTimeout = a.u32();
        if (!this.links.has(lid)) return w.i32(4).i32(0).opaque(Buffer.alloc(0)).bytes();
        const next = this.replies[0];
        const waitMs = next ? (next.at - this.host.nowS()) * 1000 : Infinity;
        if (waitMs > ioTimeout) {
          await new Promise((r) => setTimeout(r, ioTimeout));
          return w.i32(15).i32(0).opaque(Buffer.alloc(0)).bytes();
        }
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
        const data = next!.data.subarray(0, requestSize);
        if (data.length < next!.data.length) {
          next!.data = next!.data.subarray(requestSize);
          return w.i32(0).i32(VXI.reasonReqCnt).opaque(data).bytes();
        }
        this.replies.shift();
        return w.i32(0).i32(VXI.reasonEnd).opaque(data).bytes();
      }
      case DEVICE_CORE.readStb: {
        a.i32();
        const r = this.host.inst.execute('*STB?', this.host.nowS());
        return w.i32(0).u32(Number(r.reply ?? 0) & 0xff).bytes();
      }
      case DEVICE_CORE.clear:
        this.replies = [];
        this.host.inst.onDisconnect?.();
        return w.i32(0).bytes();
      case DEVICE_CORE.destroyLink:
        this.links.delete(a.i32());
        return w.i32(0).bytes();
      default:
        throw rpcUnavailable(prog, vers, proc);
    }
  }

  /** Drops every client connection (the instrument keeps its state), as a LAN drop would. */
  dropClients(): void {
    for (const sock of this.sockets) sock.destroy();
  }

  async close(): Promise<void> {
    this.dropClients();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}
