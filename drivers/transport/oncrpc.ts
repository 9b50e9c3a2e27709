/**
 * ONC RPC version 2 (RFC 5531) over TCP with record marking, and the XDR encoding it uses (RFC 4506):
 * the small part VXI-11 needs (no npm package implements it today). Records are capped, and a reply
 * that does not parse is an error, never a partial result.
 */
import net from 'node:net';
import { InstrumentError } from './errors.ts';

/** Largest record accepted (VXI-11 replies carry at most maxRecvSize bytes of data). */
const MAX_RECORD = 16 * 1024 * 1024;
const LAST_FRAGMENT = 0x80000000;

export class XdrWriter {
  private parts: Buffer[] = [];
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n | 0);
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }
  /** Variable-length opaque: length, bytes, zero padding to a multiple of 4. */
  opaque(data: Buffer): this {
    this.u32(data.length);
    this.parts.push(data, Buffer.alloc((4 - (data.length % 4)) % 4));
    return this;
  }
  string(s: string): this {
    return this.opaque(Buffer.from(s, 'latin1'));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class XdrReader {
  private p = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.p + n > this.buf.length) throw new InstrumentError('BAD_REPLY', 'XDR: record ends early');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.p);
    this.p += 4;
    return v;
  }
  bool(): boolean {
    return this.u32() !== 0;
  }
  opaque(): Buffer {
    const n = this.u32();
    this.need(n);
    const out = this.buf.subarray(this.p, this.p + n);
    this.p += n + ((4 - (n % 4)) % 4);
    return out;
  }
  string(): string {
    return this.opaque().toString('latin1');
  }
}

/** Wraps one message as a single last fragment. */
export function recordOf(payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE((LAST_FRAGMENT | payload.length) >>> 0);
  return Buffer.concat([h, payload]);
}

/** Reassembles records from a TCP byte stream (fragments joined; chunks may split anything). */
export class RecordFramer {
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private size = 0;
  constructor(
    private readonly onRecord: (r: Buffer) => void,
    private readonly onError: (e: InstrumentError) => void,
  ) {}
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const h = this.pending.readUInt32BE(0);
      const len = h & 0x7fffffff;
      if (this.size + len > MAX_RECORD) {
        this.onError(new InstrumentError('FRAMING', `RPC record longer than ${MAX_RECORD} bytes`));
        this.pending = Buffer.alloc(0);
        this.fragments = [];
        this.size = 0;
        return;
      }
      if (this.pending.length < 4 + len) return;
      this.fragments.push(this.pending.subarray(4, 4 + len));
      this.size += len;
      this.pending = this.pending.subarray(4 + len);
      if (h & LAST_FRAGMENT) {
        const rec = Buffer.concat(this.fragments);
        this.fragments = [];
        this.size = 0;
        this.onRecord(rec);
      }
    }
  }
}

const ACCEPT_ERRORS = ['', 'program unavailable', 'program version mismatch', 'procedure unavailable', 'garbage arguments', 'system error'];

/** An RPC client on one TCP connection: calls matched to replies by xid. */
export class RpcClient {
  private xid = Math.floor(Math.random() * 0x7fffffff);
  private pending = new Map<number, { resolve: (r: XdrReader) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closeListeners: ((err?: Error) => void)[] = [];
  closed = false;

  private constructor(
    private readonly socket: net.Socket,
    readonly where: string,
  ) {
    const framer = new RecordFramer((r) => this.onReply(r), (e) => this.fail(e));
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => framer.push(c));
    socket.on('error', (e) => this.fail(new InstrumentError('DISCONNECTED', `${where}: ${e.message}`)));
    socket.on('close', () => this.fail(new InstrumentError('DISCONNECTED', `${where}: connection closed`)));
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<RpcClient> {
    const where = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new InstrumentError('TIMEOUT', `${where}: connect timed out`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new InstrumentError('DISCONNECTED', `${where}: ${e.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RpcClient(socket, where));
      });
    });
  }

  call(prog: number, vers: number, proc: number, args: Buffer, timeoutMs: number): Promise<XdrReader> {
    if (this.closed) return Promise.reject(new InstrumentError('DISCONNECTED', `${this.where}: closed`));
    const xid = (this.xid = (this.xid + 1) >>> 0);
    const head = new XdrWriter().u32(xid).u32(0).u32(2).u32(prog).u32(vers).u32(proc).u32(0).u32(0).u32(0).u32(0).bytes();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new InstrumentError('TIMEOUT', `${this.where}: no RPC reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(xid, { resolve, reject, timer });
      this.socket.write(recordOf(Buffer.concat([head, args])));
    });
  }

  private onReply(rec: Buffer): void {
    const r = new XdrReader(rec);
    try {
      const xid = r.u32();
      const p = this.pending.get(xid);
      if (!p) return; // a reply to a call we gave up on
      this.pending.delete(xid);
      clearTimeout(p.timer);
      if (r.u32() !== 1) return p.reject(new InstrumentError('BAD_REPLY', `${this.where}: RPC message is not a reply`));
      if (r.u32() !== 0) return p.reject(new InstrumentError('BAD_REPLY', `${this.where}: RPC call denied`));
      r.u32();
      r.opaque(); // verifier
      const stat = r.u32();
      // program, version or procedure not served: RPC_UNAVAILABLE (as the server side throws it); else a reply we cannot use
      if (stat !== 0) return p.reject(new InstrumentError(stat <= 3 ? 'RPC_UNAVAILABLE' : 'BAD_REPLY', `${this.where}: RPC ${ACCEPT_ERRORS[stat] ?? `error ${stat}`}`));
      p.resolve(r);
    } catch (err) {
      this.fail(err as InstrumentError);
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.socket.destroy();
    for (const l of this.closeListeners) l(err);
  }

  onClose(l: (err?: Error) => void): void {
    this.closeListeners.push(l);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new InstrumentError('DISCONNECTED', `${this.where}: closed`));
    }
    this.socket.end();
    for (const l of this.closeListeners) l();
  }
}

/** What a server handler throws for a program, version or procedure it does not serve (answered PROC_UNAVAIL). */
export const rpcUnavailable = (prog: number, vers: number, proc: number): InstrumentError =>
  new InstrumentError('RPC_UNAVAILABLE', `RPC program ${prog} version ${vers} procedure ${proc} is not served here`);

export type RpcHandler = (prog: number, vers: number, proc: number, args: XdrReader, socket: net.Socket) => Promise<Buffer>;

/** A TCP RPC server: each call record goes to `handler`; its result (or the matching error) is the reply. */
export function rpcServer(handler: RpcHandler): net.Server {
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const framer = new RecordFramer(
      (rec) => {
        const r = new XdrReader(rec);
        let xid = 0;
        (async () => {
          xid = r.u32();
          if (r.u32() !== 0 || r.u32() !== 2) return; // not a version-2 call: ignore
          const prog = r.u32();
          const vers = r.u32();
          const proc = r.u32();
          r.u32();
          r.opaque(); // credentials
          r.u32();
          r.opaque(); // verifier
          const head = () => new XdrWriter().u32(xid).u32(1).u32(0).u32(0).u32(0);
          let body: Buffer;
          try {
            body = Buffer.concat([head().u32(0).bytes(), await handler(prog, vers, proc, r, socket)]);
          } catch (err) {
            // not served: PROC_UNAVAIL; arguments that do not parse (XDR short): GARBAGE_ARGS; anything else: SYSTEM_ERR
            const code = err instanceof InstrumentError ? err.code : undefined;
            body = head().u32(code === 'RPC_UNAVAILABLE' ? 3 : code === 'BAD_REPLY' ? 4 : 5).bytes();
          }
          if (!socket.destroyed) socket.write(recordOf(body));
        })().catch(() => socket.destroy());
      },
      () => socket.destroy(),
    );
    socket.on('data', (c: Buffer) => framer.push(c));
  });
}
