/** Raw-socket transport (SCPI/TSP over LAN, port 5025 by convention). */
import net from 'node:net';
import { InstrumentError } from './errors.ts';
import { StreamTransport } from './transport.ts';

export interface TcpOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  readTerminator?: string;
  writeTerminator?: string;
  maxLineBytes?: number;
}

export class TcpTransport extends StreamTransport {
  readonly address: string;
  private constructor(
    private readonly socket: net.Socket,
    opts: TcpOptions,
  ) {
    super(opts);
    this.address = `TCPIP0::${opts.host}::${opts.port}::SOCKET`;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.received(c));
    socket.on('error', (e) => this.streamClosed(new InstrumentError('DISCONNECTED', `${this.address}: ${e.message}`)));
    socket.on('close', () => this.streamClosed());
  }

  static open(opts: TcpOptions): Promise<TcpTransport> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new InstrumentError('TIMEOUT', `TCPIP0::${opts.host}::${opts.port}::SOCKET: connect timed out`));
      }, opts.connectTimeoutMs ?? 5000);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new InstrumentError('DISCONNECTED', `TCPIP0::${opts.host}::${opts.port}::SOCKET: ${e.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TcpTransport(socket, opts));
      });
    });
  }

  protected writeBytes(data: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(Buffer.from(data, 'latin1'), (err) =>
        err ? reject(new InstrumentError('DISCONNECTED', `${this.address}: ${err.message}`)) : resolve(),
      ),
    );
  }

  protected closeStream(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
}
