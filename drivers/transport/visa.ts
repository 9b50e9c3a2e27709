/**
 * Instrument addresses as labs write them: VISA resource strings (`ASRL/dev/ttyUSB0::INSTR`,
 * `ASRL3::INSTR`, `TCPIP0::192.168.1.20::5025::SOCKET`, `TCPIP0::192.168.1.20::inst0::INSTR` (VXI-11),
 * `GPIB0::24::INSTR` (through a Prologix controller), `USB0::0x05E6::0x2450::04012345::INSTR` (USB-TMC
 * through the Linux usbtmc driver)), or a plain serial path (`/dev/ttyUSB0`, `COM3`), a usbtmc device
 * (`/dev/usbtmc0`) or `host:port`. `openResource` opens the matching transport.
 */
import { InstrumentError } from './errors.ts';
import { GpibTransport, PrologixController } from './prologix.ts';
import { SerialTransport, type SerialOptions } from './serial.ts';
import { TcpTransport } from './tcp.ts';
import type { Transport } from './transport.ts';
import { findUsbtmc, UsbtmcTransport } from './usbtmc.ts';
import { Vxi11Transport } from './vxi11.ts';

export type Resource =
  | { kind: 'serial'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'gpib'; board: number; primary: number; secondary?: number }
  | { kind: 'usbtmc'; path: string }
  | { kind: 'usb'; vendor: number; product: number; serial?: string }
  | { kind: 'vxi11'; host: string; device: string };

export function parseResource(address: string): Resource {
  const a = address.trim();
  let m = /^ASRL(.+)::INSTR$/i.exec(a);
  if (m) {
    const p = m[1];
    // ASRL3::INSTR is the third serial port: COM3 on Windows, /dev/ttyS2 on Linux.
    if (/^\d+$/.test(p)) return { kind: 'serial', path: process.platform === 'win32' ? `COM${p}` : `/dev/ttyS${Number(p) - 1}` };
    return { kind: 'serial', path: p };
  }
  m = /^TCPIP\d*::([^:]+)::(\d+)::SOCKET$/i.exec(a);
  if (m) return { kind: 'tcp', host: m[1], port: checkPort(Number(m[2]), address) };
  m = /^TCPIP\d*::([^:]+)(?:::((?:inst|gpib\d*,)\d+))?(?:::INSTR)?$/i.exec(a);
  if (m) return { kind: 'vxi11', host: m[1], device: m[2] ?? 'inst0' };
  if (/^TCPIP\d*::/i.test(a))
    throw new InstrumentError('BAD_ADDRESS', `${address}: HiSLIP (hislip0) is not supported; use the raw socket (::5025::SOCKET) or VXI-11 (::inst0::INSTR)`);
  m = /^GPIB(\d*)::(\d+)(?:::(\d+))?::INSTR$/i.exec(a);
  if (m) {
    const primary = Number(m[2]);
    const secondary = m[3] === undefined ? undefined : Number(m[3]);
    if (primary > 30 || (secondary !== undefined && secondary > 30)) throw new InstrumentError('BAD_ADDRESS', `${address}: GPIB addresses are 0-30`);
    return { kind: 'gpib', board: Number(m[1] || 0), primary, secondary };
  }
  m = /^USB\d*::(0x[0-9a-f]+|\d+)::(0x[0-9a-f]+|\d+)(?:::([^:]+))?(?:::\d+)?::INSTR$/i.exec(a);
  if (m) return { kind: 'usb', vendor: Number(m[1]), product: Number(m[2]), serial: m[3] };
  if (/^\/dev\/usbtmc\d+$/.test(a)) return { kind: 'usbtmc', path: a };
  if (a.startsWith('/') || /^COM\d+$/i.test(a)) return { kind: 'serial', path: a };
  m = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d+)$/i.exec(a);
  if (m) return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port: checkPort(Number(m[2]), address) };
  throw new InstrumentError(
    'BAD_ADDRESS',
    `${JSON.stringify(address)} is not an instrument address: use ASRL<path>::INSTR, TCPIP0::<host>::<port>::SOCKET, TCPIP0::<host>::inst0::INSTR, GPIB0::<n>::INSTR, USB0::<vendor>::<product>::<serial>::INSTR, a serial path, /dev/usbtmcN or host:port`,
  );
}

function checkPort(port: number, address: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InstrumentError('BAD_ADDRESS', `${address}: bad TCP port`);
  return port;
}

export function formatResource(r: Resource): string {
  switch (r.kind) {
    case 'serial':
      return `ASRL${r.path}::INSTR`;
    case 'tcp':
      return `TCPIP0::${r.host}::${r.port}::SOCKET`;
    case 'vxi11':
      return `TCPIP0::${r.host}::${r.device}::INSTR`;
    case 'gpib':
      return `GPIB${r.board}::${r.primary}${r.secondary === undefined ? '' : `::${r.secondary}`}::INSTR`;
    case 'usbtmc':
      return r.path;
    case 'usb':
      return `USB0::0x${r.vendor.toString(16).toUpperCase().padStart(4, '0')}::0x${r.product.toString(16).toUpperCase().padStart(4, '0')}${r.serial ? `::${r.serial}` : ''}::INSTR`;
  }
}

export interface OpenOptions extends Omit<SerialOptions, 'path'> {
  connectTimeoutMs?: number;
  /** GPIB resources: the Prologix controller's address (serial port, or host[:1234] of a GPIB-ETHERNET). */
  gpibController?: string;
  /** VXI-11: the portmapper's TCP port (111 on every instrument; other values for tests). */
  portmapperPort?: number;
  /** USB resources: where sysfs is (tests point it at a fixture tree). */
  sysfsRoot?: string;
}

export async function openResource(address: string, opts: OpenOptions = {}): Promise<Transport> {
  const r = parseResource(address);
  switch (r.kind) {
    case 'serial':
      return SerialTransport.open({ ...opts, path: r.path });
    case 'tcp':
      return TcpTransport.open({ ...opts, host: r.host, port: r.port });
    case 'vxi11':
      return Vxi11Transport.open({ host: r.host, device: r.device, portmapperPort: opts.portmapperPort, connectTimeoutMs: opts.connectTimeoutMs });
    case 'usbtmc':
      return UsbtmcTransport.open(r.path);
    case 'usb':
      return UsbtmcTransport.open(findUsbtmc(r, opts.sysfsRoot), formatResource(r));
    case 'gpib': {
      if (!opts.gpibController)
        throw new InstrumentError('BAD_ADDRESS', `${address}: a GPIB address needs the Prologix controller it sits behind (--gpib <serial port or host>)`);
      const ctl = await PrologixController.acquire(opts.gpibController, opts);
      return new GpibTransport(ctl, r.board, r.primary, r.secondary);
    }
  }
}
