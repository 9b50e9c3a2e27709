/**
 * Instrument addresses as labs write them: VISA resource strings (`ASRL/dev/ttyUSB0::INSTR`,
 * `ASRL3::INSTR`, `TCPIP0::192.168.1.20::5025::SOCKET`), or a plain serial path (`/dev/ttyUSB0`, `COM3`)
 * or `host:port`. `openResource` opens the matching transport.
 */
import { InstrumentError } from './errors.ts';
import { SerialTransport, type SerialOptions } from './serial.ts';
import { TcpTransport } from './tcp.ts';
import type { Transport } from './transport.ts';

export type Resource = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

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
  if (/^TCPIP\d*::/i.test(a))
    throw new InstrumentError(
      'BAD_ADDRESS',
      `${address}: only raw-socket TCPIP resources (TCPIP0::host::port::SOCKET) are supported, not VXI-11/HiSLIP`,
    );
  if (a.startsWith('/') || /^COM\d+$/i.test(a)) return { kind: 'serial', path: a };
  m = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d+)$/i.exec(a);
  if (m) return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port: checkPort(Number(m[2]), address) };
  throw new InstrumentError(
    'BAD_ADDRESS',
    `${JSON.stringify(address)} is not an instrument address: use ASRL<path>::INSTR, TCPIP0::<host>::<port>::SOCKET, a serial path or host:port`,
  );
}

function checkPort(port: number, address: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InstrumentError('BAD_ADDRESS', `${address}: bad TCP port`);
  return port;
}

export function formatResource(r: Resource): string {
  return r.kind === 'serial' ? `ASRL${r.path}::INSTR` : `TCPIP0::${r.host}::${r.port}::SOCKET`;
}

export interface OpenOptions extends Omit<SerialOptions, 'path'> {
  connectTimeoutMs?: number;
}

export async function openResource(address: string, opts: OpenOptions = {}): Promise<Transport> {
  const r = parseResource(address);
  if (r.kind === 'serial') return SerialTransport.open({ ...opts, path: r.path });
  return TcpTransport.open({ ...opts, host: r.host, port: r.port });
}
