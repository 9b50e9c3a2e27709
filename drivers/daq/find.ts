/** Finds DAQ boards among the serial ports by USB vendor/product id. */
import { SerialPort } from 'serialport';

/** USB ids of the boards the firmware runs on (vendor, product; product undefined = any of that vendor). */
export const KNOWN_BOARDS: { vid: number; pid?: number; name: string }[] = [
  { vid: 0x2341, pid: 0x0043, name: 'Arduino Uno' },
  { vid: 0x2341, pid: 0x0001, name: 'Arduino Uno' },
  { vid: 0x2341, pid: 0x0042, name: 'Arduino Mega 2560' },
  { vid: 0x2341, pid: 0x0010, name: 'Arduino Mega 2560' },
  { vid: 0x2a03, pid: 0x0043, name: 'Arduino Uno (arduino.org)' },
  { vid: 0x1a86, pid: 0x7523, name: 'CH340 USB-serial (Uno/Nano clone)' },
  { vid: 0x0403, pid: 0x6001, name: 'FTDI USB-serial (Nano, older boards)' },
  { vid: 0x16c0, pid: 0x0483, name: 'Teensy (USB serial)' },
];

export interface FoundBoard {
  path: string;
  name: string;
  serialNumber?: string;
}

export function matchBoard(vendorId?: string, productId?: string): string | undefined {
  if (!vendorId) return undefined;
  const vid = parseInt(vendorId, 16);
  const pid = productId ? parseInt(productId, 16) : NaN;
  return KNOWN_BOARDS.find((b) => b.vid === vid && (b.pid === undefined || b.pid === pid))?.name;
}

export async function findBoards(): Promise<FoundBoard[]> {
  const ports = await SerialPort.list();
  const out: FoundBoard[] = [];
  for (const p of ports) {
    const name = matchBoard(p.vendorId, p.productId);
    if (name) out.push({ path: p.path, name, serialNumber: p.serialNumber });
  }
  return out;
}
