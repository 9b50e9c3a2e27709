/** Serial transport (RS-232, USB-serial, Prologix GPIB-USB, pseudo-terminals) on node-serialport. */
import tty from 'node:tty';
import { SerialPort } from 'serialport';
import { InstrumentError } from './errors.ts';
import { StreamTransport } from './transport.ts';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type FlowControl = 'none' | 'rtscts' | 'xonxoff';

export interface SerialOptions {
  path: string;
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: Parity;
  flowControl?: FlowControl;
  /** Reply terminator (2400 default over RS-232: CR; set the instrument's TERM to match). */
  readTerminator?: string;
  writeTerminator?: string;
  maxLineBytes?: number;
}

export class SerialTransport extends StreamTransport {
  readonly address: string;
  private ttyInput: tty.ReadStream | null = null;
  private constructor(
    private readonly port: SerialPort,
    opts: SerialOptions,
  ) {
    super(opts);
    this.address = `ASRL${opts.path}::INSTR`;
    // On Linux, read through libuv's tty handle on the same device (epoll; no thread-pool hop per read as
    // node-serialport's poller + read has); serialport still owns the settings, writes and close.
    const fd = (port as unknown as { port?: { fd?: number } }).port?.fd;
    let input: tty.ReadStream | null = null;
    if (process.platform === 'linux' && typeof fd === 'number' && tty.isatty(fd)) {
      try {
        input = new tty.ReadStream(fd);
      } catch {
        input = null; // e.g. libuv could not reopen an exclusively locked port: fall back to serialport's reads
      }
    }
    if (input) {
      this.ttyInput = input;
      input.on('data', (c: Buffer) => this.received(c));
      input.on('error', (e) => this.streamClosed(new InstrumentError('DISCONNECTED', `${this.address}: ${e.message}`)));
      input.on('end', () => this.streamClosed(new InstrumentError('DISCONNECTED', `${this.address}: port vanished`)));
    } else port.on('data', (c: Buffer) => this.received(c));
    port.on('close', (err?: Error & { disconnected?: boolean }) =>
      this.streamClosed(err ? new InstrumentError('DISCONNECTED', `${this.address}: ${err.message}`) : undefined),
    );
    port.on('error', (e) => this.streamClosed(new InstrumentError('DISCONNECTED', `${this.address}: ${e.message}`)));
  }

  static open(opts: SerialOptions): Promise<SerialTransport> {
    const flow = opts.flowControl ?? 'none';
    return new Promise((resolve, reject) => {
      const port = new SerialPort(
        {
          path: opts.path,
          baudRate: opts.baudRate ?? 9600,
          dataBits: opts.dataBits ?? 8,
          stopBits: opts.stopBits ?? 1,
          parity: opts.parity ?? 'none',
          rtscts: flow === 'rtscts',
          xon: flow === 'xonxoff',
          xoff: flow === 'xonxoff',
          autoOpen: false,
        },
      );
      port.open((err) => {
        if (err) reject(new InstrumentError('DISCONNECTED', `ASRL${opts.path}::INSTR: ${err.message}`));
        else resolve(new SerialTransport(port, opts));
      });
    });
  }

  protected writeBytes(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // Resolves once the bytes are handed to the OS (no tcdrain: that would cost a thread-pool round trip per command).
      this.port.write(Buffer.from(data, 'latin1'), (err) =>
        err ? reject(new InstrumentError('DISCONNECTED', `${this.address}: ${err.message}`)) : resolve(),
      );
    });
  }

  protected closeStream(): Promise<void> {
    if (this.ttyInput) {
      this.ttyInput.removeAllListeners('end');
      this.ttyInput.removeAllListeners('error');
      this.ttyInput.on('error', () => undefined);
      this.ttyInput.destroy();
    }
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
