/**
 * VXI-11 (`TCPIP0::host::inst0::INSTR`): the LAN instrument protocol of the VXI-11 specification
 * (VXIbus Consortium, rev. 1.0), ONC RPC over TCP. The portmapper (port 111) gives the core channel's
 * port; `create_link` opens the device (`inst0`, or `gpib0,N` behind a LAN/GPIB gateway); each command is
 * one `device_write` with END, each reply is read with `device_read` until END.
 */
import { InstrumentError } from './errors.ts';
import { RpcClient, XdrWriter, type XdrReader } from './oncrpc.ts';
import { TransportBase } from './transport.ts';

export const PORTMAPPER = { prog: 100000, vers: 2, getport: 3 } as const;
export const DEVICE_CORE = { prog: 0x0607af, vers: 1, createLink: 10, write: 11, read: 12, readStb: 13, clear: 15, destroyLink: 23 } as const;
/** Device_Flags and read reasons. */
export const VXI = { flagEnd: 8, reasonEnd: 4, reasonChr: 2, reasonReqCnt: 1 } as const;
/** Device_ErrorCode values (VXI-11 table B.2). */
export const VXI_ERRORS: Record<number, string> = {
  1: 'syntax error', 3: 'device not accessible', 4: 'invalid link identifier', 5: 'parameter error', 6: 'channel not established',
  8: 'operation not supported', 9: 'out of resources', 11: 'device locked by another link', 12: 'no lock held by this link',
  15: 'I/O timeout', 17: 'I/O error', 21: 'invalid address', 23: 'abort', 29: 'channel already established',
};

export class Vxi11Transport extends TransportBase {
  readonly address: string;

  private constructor(
    private readonly core: RpcClient,
    private readonly lid: number,
    private readonly maxRecvSize: number,
    host: string,
    device: string,
  ) {
    super();
    this.address = `TCPIP0::${host}::${device}::INSTR`;
    core.onClose((err) => this.markClosed(err));
  }

  static async open(o: { host: string; device: string; portmapperPort?: number; connectTimeoutMs?: number }): Promise<Vxi11Transport> {
    const address = `TCPIP0::${o.host}::${o.device}::INSTR`;
    const t = o.connectTimeoutMs ?? 5000;
    const pm = await RpcClient.connect(o.host, o.portmapperPort ?? 111, t);
    let port: number;
    try {
      const r = await pm.call(PORTMAPPER.prog, PORTMAPPER.vers, PORTMAPPER.getport, new XdrWriter().u32(DEVICE_CORE.prog).u32(DEVICE_CORE.vers).u32(6).u32(0).bytes(), t);
      port = r.u32();
    } finally {
      pm.close();
    }
    if (!port) throw new InstrumentError('DISCONNECTED', `${address}: the portmapper knows no VXI-11 core channel`);
    const core = await RpcClient.connect(o.host, port, t);
    try {
      const r = await core.call(
        DEVICE_CORE.prog, DEVICE_CORE.vers, DEVICE_CORE.createLink,
        new XdrWriter().i32(Math.floor(Math.random() * 0x7fffffff)).bool(false).u32(0).string(o.device).bytes(),
        t,
      );
      const error = r.i32();
      const lid = r.i32();
      r.u32(); // abort port
      const maxRecvSize = r.u32();
      if (error) throw new InstrumentError('DISCONNECTED', `${address}: create_link failed: ${VXI_ERRORS[error] ?? `error ${error}`}`);
      return new Vxi11Transport(core, lid, Math.max(64, maxRecvSize || 1024), o.host, o.device);
    } catch (err) {
      core.close();
      throw err;
    }
  }

  private check(r: XdrReader, what: string, timeoutMs: number): void {
    const error = r.i32();
    if (error === 15) throw new InstrumentError('TIMEOUT', `${this.address}: no reply within ${timeoutMs} ms`);
    if (error) throw new InstrumentError(error === 17 || error === 4 ? 'DISCONNECTED' : 'BAD_REPLY', `${this.address}: ${what}: ${VXI_ERRORS[error] ?? `error ${error}`}`);
  }

  async write(line: string): Promise<void> {
    if (this.isClosed) throw new InstrumentError('DISCONNECTED', `${this.address}: closed`);
    const data = Buffer.from(line + '\n', 'latin1');
    for (let k = 0; k < data.length; k += this.maxRecvSize) {
      const part = data.subarray(k, k + this.maxRecvSize);
      const last = k + this.maxRecvSize >= data.length;
      const args = new XdrWriter().i32(this.lid).u32(10_000).u32(0).i32(last ? VXI.flagEnd : 0).opaque(part).bytes();
      const r = await this.core.call(DEVICE_CORE.prog, DEVICE_CORE.vers, DEVICE_CORE.write, args, 12_000);
      this.check(r, 'device_write', 10_000);
    }
  }

  async read(timeoutMs: number): Promise<string> {
    if (this.isClosed) throw new InstrumentError('DISCONNECTED', `${this.address}: closed`);
    const parts: Buffer[] = [];
    const end = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.max(1, end - Date.now());
      const args = new XdrWriter().i32(this.lid).u32(1 << 20).u32(left).u32(0).i32(0).i32(0).bytes();
      const r = await this.core.call(DEVICE_CORE.prog, DEVICE_CORE.vers, DEVICE_CORE.read, args, left + 2000);
      this.check(r, 'device_read', timeoutMs);
      const reason = r.i32();
      parts.push(Buffer.from(r.opaque()));
      if (reason & (VXI.reasonEnd | VXI.reasonChr)) break;
    }
    return Buffer.concat(parts).toString('latin1').replace(/\r?\n$/, '');
  }

  /** Replies are fetched on demand (device_read): nothing is buffered on this side. */
  discardInput(): void {}

  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.core.call(DEVICE_CORE.prog, DEVICE_CORE.vers, DEVICE_CORE.destroyLink, new XdrWriter().i32(this.lid).bytes(), 2000).catch(() => undefined);
    this.markClosed();
    this.core.close();
  }
}
