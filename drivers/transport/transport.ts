/**
 * The one transport interface every instrument driver talks through (serial, raw TCP, scripted).
 * Message-level: `write` sends one command line (the terminator is the transport's business) and `read`
 * returns the next reply line without its terminator. Serialising commands (one in flight) is the job of
 * the session on top (session.ts), not of the transport.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { InstrumentError } from './errors.ts';

export interface Transport {
  /** Where it is connected, as a VISA-style resource string. */
  readonly address: string;
  readonly closed: boolean;
  write(line: string): Promise<void>;
  /** Next reply line (without terminator); rejects with TIMEOUT after `timeoutMs`, DISCONNECTED if the port closes. */
  read(timeoutMs: number): Promise<string>;
  /** Drop any reply lines already received but not read (used after a time-out to resynchronise). */
  discardInput(): void;
  close(): Promise<void>;
  /** Called once when the port closes, with an error if it was not closed by us (port vanished, peer hung up). */
  onClose(listener: (err?: Error) => void): void;
}

export interface LineFramerOptions {
  /** Reply terminator; a trailing CR before an LF terminator is also stripped. */
  terminator: string;
  /** Longest line accepted; a longer one is reported as a FRAMING error and dropped, never emitted partially. */
  maxLineBytes: number;
}

/**
 * Splits a byte stream into lines with @serialport/parser-readline, adding the cap it lacks: its pending
 * buffer never grows past maxLineBytes; an over-long line is reported once and dropped whole. Chunks may
 * split lines (and terminators) anywhere. Lines are delivered synchronously, during `push`.
 */
export class LineFramer {
  private overflowed = false;
  private readonly parser: ReadlineParser;
  constructor(
    private readonly opts: LineFramerOptions,
    onLine: (line: string) => void,
    private readonly onError: (err: InstrumentError) => void,
  ) {
    const stripCr = opts.terminator === '\n';
    this.parser = new ReadlineParser({ delimiter: Buffer.from(opts.terminator, 'latin1'), encoding: 'latin1' });
    // The parser pushes each line from inside write(); taking it here keeps delivery synchronous and in order.
    this.parser.push = (chunk: Buffer | null): boolean => {
      if (chunk === null) return false;
      if (this.overflowed) {
        this.overflowed = false; // the tail of an oversized line: dropped with it
        return true;
      }
      if (chunk.length > opts.maxLineBytes) {
        // a whole over-long line arrived in one chunk
        this.onError(new InstrumentError('FRAMING', `reply line longer than ${opts.maxLineBytes} bytes`));
        return true;
      }
      const line = chunk.toString('latin1');
      onLine(stripCr && line.endsWith('\r') ? line.slice(0, -1) : line);
      return true;
    };
  }

  push(chunk: Buffer | string): void {
    this.parser.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    const pending = this.parser.buffer;
    if (pending.length > this.opts.maxLineBytes) {
      if (!this.overflowed)
        this.onError(new InstrumentError('FRAMING', `reply line longer than ${this.opts.maxLineBytes} bytes without a terminator`));
      this.overflowed = true;
      // keep only what could be the start of a terminator
      const keep = this.opts.terminator.length - 1;
      this.parser.buffer = keep > 0 ? pending.subarray(pending.length - keep) : Buffer.alloc(0);
    }
  }

  reset(): void {
    this.parser.buffer = Buffer.alloc(0);
    this.overflowed = false;
  }
}

/**
 * The closed state and close listeners every transport has: `markClosed(err)` closes it once and tells
 * the listeners, with the error when the other end went away (none when closed by us); a listener added
 * after the close is called at once, with the same error.
 */
export abstract class TransportBase implements Transport {
  abstract readonly address: string;
  protected isClosed = false;
  protected closeError: Error | undefined;
  private closeListeners: ((err?: Error) => void)[] = [];

  get closed(): boolean {
    return this.isClosed;
  }

  abstract write(line: string): Promise<void>;
  abstract read(timeoutMs: number): Promise<string>;
  abstract discardInput(): void;
  abstract close(): Promise<void>;

  onClose(listener: (err?: Error) => void): void {
    if (this.closed) listener(this.closeError);
    else this.closeListeners.push(listener);
  }

  /** Marks the transport closed (once; false when it already was) and tells the listeners. */
  protected markClosed(err?: Error): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    this.closeError = err;
    for (const l of this.closeListeners) l(err);
    return true;
  }
}

/** Base for byte-stream transports: framing, a bounded queue of reply lines, waiting readers, close handling. */
export abstract class StreamTransport extends TransportBase {
  private lines: string[] = [];
  private waiter: { resolve: (l: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private framingError: InstrumentError | null = null;
  private closingByUs = false;
  protected readonly framer: LineFramer;
  protected readonly writeTerminator: string;
  /** Max reply lines buffered; beyond this the oldest are dropped (a reader that never reads). */
  private static readonly MAX_LINES = 1000;

  constructor(opts: { readTerminator?: string; writeTerminator?: string; maxLineBytes?: number }) {
    super();
    this.writeTerminator = opts.writeTerminator ?? '\n';
    this.framer = new LineFramer(
      { terminator: opts.readTerminator ?? '\n', maxLineBytes: opts.maxLineBytes ?? 4 * 1024 * 1024 },
      (line) => this.deliver(line),
      (err) => this.deliverError(err),
    );
  }

  /** Bytes written and received so far (terminators included). */
  bytesOut = 0;
  bytesIn = 0;

  protected abstract writeBytes(data: string): Promise<void>;
  protected abstract closeStream(): Promise<void>;

  /** Subclasses call this with incoming bytes. */
  protected received(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.framer.push(chunk);
  }

  /** Subclasses call this when the stream ends. */
  protected streamClosed(err?: Error): void {
    if (this.isClosed) return;
    const e = this.closingByUs
      ? undefined
      : (err ?? new InstrumentError('DISCONNECTED', `${this.address}: connection closed by the other end`));
    const closeError = e instanceof InstrumentError || !e ? e : new InstrumentError('DISCONNECTED', `${this.address}: ${e.message}`);
    if (this.waiter) {
      clearTimeout(this.waiter.timer);
      this.waiter.reject(closeError ?? new InstrumentError('DISCONNECTED', `${this.address}: closed`));
      this.waiter = null;
    }
    this.markClosed(closeError);
  }

  private deliver(line: string): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(line);
      return;
    }
    this.lines.push(line);
    if (this.lines.length > StreamTransport.MAX_LINES) this.lines.shift();
  }

  private deliverError(err: InstrumentError): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(err);
    } else this.framingError = err;
  }

  async write(line: string): Promise<void> {
    if (this.isClosed) throw this.closeError ?? new InstrumentError('DISCONNECTED', `${this.address}: port is closed`);
    this.bytesOut += line.length + this.writeTerminator.length;
    await this.writeBytes(line + this.writeTerminator);
  }

  read(timeoutMs: number): Promise<string> {
    if (this.framingError) {
      const e = this.framingError;
      this.framingError = null;
      return Promise.reject(e);
    }
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.isClosed)
      return Promise.reject(this.closeError ?? new InstrumentError('DISCONNECTED', `${this.address}: port is closed`));
    if (this.waiter) return Promise.reject(new Error('StreamTransport: only one read may be pending'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new InstrumentError('TIMEOUT', `${this.address}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  discardInput(): void {
    this.lines = [];
    this.framingError = null;
    this.framer.reset();
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.closingByUs = true;
    await this.closeStream();
    this.streamClosed();
  }
}
