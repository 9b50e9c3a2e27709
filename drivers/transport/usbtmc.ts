/**
 * USB-TMC instruments through the Linux `usbtmc` kernel driver: `/dev/usbtmcN` is written one message at a
 * time and read back one reply at a time (the driver does the USBTMC framing and its own 5 s time-out).
 * A VISA `USB0::vendor::product::serial::INSTR` resource is found by matching sysfs attributes.
 * Permissions: the device belongs to root unless a udev rule grants it (docs/instruments/connecting.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InstrumentError } from './errors.ts';
import { LineFramer, TransportBase } from './transport.ts';

/** The /dev/usbtmcN whose USB device has this vendor, product (and serial, if given). */
export function findUsbtmc(r: { vendor: number; product: number; serial?: string }, sysfsRoot = '/sys'): string {
  const dir = path.join(sysfsRoot, 'class', 'usbmisc');
  const seen: string[] = [];
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => /^usbtmc\d+$/.test(e)).sort() : [];
  for (const e of entries) {
    // device → the USB interface; its parent directory is the USB device with idVendor/idProduct/serial
    const usbDevice = path.dirname(fs.realpathSync(path.join(dir, e, 'device')));
    const attr = (name: string) => {
      try {
        return fs.readFileSync(path.join(usbDevice, name), 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    const vendor = parseInt(attr('idVendor') ?? '', 16);
    const product = parseInt(attr('idProduct') ?? '', 16);
    const serial = attr('serial');
    seen.push(`${e} (0x${vendor.toString(16)}:0x${product.toString(16)}${serial ? ` ${serial}` : ''})`);
    if (vendor === r.vendor && product === r.product && (r.serial === undefined || r.serial === serial)) return path.join('/dev', e);
  }
  throw new InstrumentError(
    'BAD_ADDRESS',
    `no usbtmc device 0x${r.vendor.toString(16)}:0x${r.product.toString(16)}${r.serial ? ` serial ${r.serial}` : ''} (found: ${seen.join(', ') || 'none; is the usbtmc module loaded and the instrument plugged in?'})`,
  );
}

export class UsbtmcTransport extends TransportBase {
  private lines: string[] = [];
  private framingError: InstrumentError | null = null;
  private reading: Promise<void> | null = null;
  private readonly framer = new LineFramer(
    { terminator: '\n', maxLineBytes: 4 * 1024 * 1024 },
    (l) => this.lines.push(l),
    (e) => (this.framingError = e),
  );
  private readonly buf = Buffer.alloc(64 * 1024);

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    readonly address: string,
  ) {
    super();
  }

  static async open(devicePath: string, address = devicePath): Promise<UsbtmcTransport> {
    try {
      return new UsbtmcTransport(await fs.promises.open(devicePath, 'r+'), address);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const hint = e.code === 'EACCES' ? ' (permission denied: add a udev rule for the instrument, see docs/instruments/connecting.md)' : '';
      throw new InstrumentError('DISCONNECTED', `${address}: ${e.message}${hint}`);
    }
  }

  async write(line: string): Promise<void> {
    if (this.isClosed) throw new InstrumentError('DISCONNECTED', `${this.address}: closed`);
    try {
      await this.fh.write(Buffer.from(line + '\n', 'latin1'));
    } catch (err) {
      this.gone(err as Error);
      throw new InstrumentError('DISCONNECTED', `${this.address}: ${(err as Error).message}`);
    }
  }

  /** One read() of the device in flight at a time; a read the driver times out (ETIMEDOUT) is not an error. */
  private pump(): Promise<void> {
    this.reading ??= this.fh.read(this.buf, 0, this.buf.length, null).then(
      ({ bytesRead }) => {
        this.reading = null;
        if (bytesRead > 0) this.framer.push(Buffer.from(this.buf.subarray(0, bytesRead)));
      },
      (err: NodeJS.ErrnoException) => {
        this.reading = null;
        if (err.code !== 'ETIMEDOUT') this.gone(err);
      },
    );
    return this.reading;
  }

  async read(timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.framingError) {
        const e = this.framingError;
        this.framingError = null;
        throw e;
      }
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.isClosed) throw new InstrumentError('DISCONNECTED', `${this.address}: closed`);
      const left = end - Date.now();
      if (left <= 0) throw new InstrumentError('TIMEOUT', `${this.address}: no reply within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.pump(), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
  }

  discardInput(): void {
    this.lines = [];
    this.framingError = null;
    this.framer.reset();
  }

  /** The device went away (or we closed it: no error). */
  private gone(err?: Error): void {
    this.markClosed(err ? new InstrumentError('DISCONNECTED', `${this.address}: ${err.message}`) : undefined);
  }

  async close(): Promise<void> {
    if (!this.markClosed()) return;
    await this.fh.close();
  }
}
