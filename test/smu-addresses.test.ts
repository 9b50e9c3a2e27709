/**
 * Every address kind against its virtual counterpart: GPIB through a virtual Prologix controller (on a
 * pseudo-terminal as a GPIB-USB, and on TCP as a GPIB-ETHERNET) shared by two instruments, VXI-11 through
 * a virtual portmapper and core channel on loopback, and USB-TMC (`USB0::…` found through a sysfs tree,
 * the device file read and written message by message, here a pseudo-terminal standing in for /dev/usbtmcN).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectSmu, identifySmu } from '../drivers/smu/connect.ts';
import { Resistor } from '../drivers/smu/virtual/dut.ts';
import { VirtualPrologix } from '../drivers/smu/virtual/prologix.ts';
import { createVirtualSmu, VirtualSmuServer } from '../drivers/smu/virtual/server.ts';
import { VirtualVxi11Server } from '../drivers/smu/virtual/vxi11-server.ts';
import { InstrumentError } from '../drivers/transport/errors.ts';
import { prologixEscape, prologixUnescape } from '../drivers/transport/prologix.ts';
import { findUsbtmc, UsbtmcTransport } from '../drivers/transport/usbtmc.ts';
import { formatResource, openResource, parseResource } from '../drivers/transport/visa.ts';

const tmp = (name: string) => path.join(os.tmpdir(), `spikeloop-test-${process.pid}-${name}`);
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

describe('VISA addresses', () => {
  it('parses GPIB, VXI-11, USB and usbtmc forms and prints them back', () => {
    expect(parseResource('GPIB0::24::INSTR')).toEqual({ kind: 'gpib', board: 0, primary: 24, secondary: undefined });
    expect(parseResource('GPIB::5::2::INSTR')).toEqual({ kind: 'gpib', board: 0, primary: 5, secondary: 2 });
    expect(parseResource('TCPIP0::192.168.1.20::inst0::INSTR')).toEqual({ kind: 'vxi11', host: '192.168.1.20', device: 'inst0' });
    expect(parseResource('TCPIP::k2602b.lab::INSTR')).toEqual({ kind: 'vxi11', host: 'k2602b.lab', device: 'inst0' });
    expect(parseResource('USB0::0x05E6::0x2450::04012345::INSTR')).toEqual({ kind: 'usb', vendor: 0x05e6, product: 0x2450, serial: '04012345' });
    expect(parseResource('/dev/usbtmc0')).toEqual({ kind: 'usbtmc', path: '/dev/usbtmc0' });
    for (const a of ['GPIB0::24::INSTR', 'TCPIP0::10.0.0.2::inst0::INSTR', 'USB0::0x0957::0x8B18::MY123::INSTR'])
      expect(formatResource(parseResource(a))).toBe(a);
    expect(() => parseResource('GPIB0::31::INSTR')).toThrow(/0-30/);
    expect(() => parseResource('TCPIP0::10.0.0.2::hislip0::INSTR')).toThrow(/HiSLIP/);
  });

  it('refuses a GPIB address without a controller, naming what is missing', async () => {
    await expect(openResource('GPIB0::24::INSTR')).rejects.toThrow(/Prologix controller/);
  });

  it('escapes the bytes a Prologix would take for its own', () => {
    expect(prologixEscape(':SOUR:VOLT 1e+0')).toBe(':SOUR:VOLT 1e\x1b+0');
    expect(prologixUnescape(prologixEscape('a+b\x1bc'))).toBe('a+b\x1bc');
  });
});

describe.each([
  ['GPIB-USB (pty)', 'pty'],
  ['GPIB-ETHERNET (TCP)', 'tcp'],
])('GPIB through a virtual Prologix %s', (_name, link) => {
  it('sets the controller up once, checks it, and shares it between two instruments', async () => {
    const ptyPath = tmp(`prologix-${link}`);
    const ctl = await VirtualPrologix.start(
      { 24: createVirtualSmu('smu-2400', new Resistor(1e3)), 23: createVirtualSmu('smu-b2900', new Resistor(2e3)) },
      link === 'pty' ? { ptyPath } : { tcpPort: 0 },
    );
    cleanup.push(() => ctl.close());
    const controller = ctl.addresses[0];
    const [k2400, b2900] = await Promise.all([
      connectSmu('GPIB0::24::INSTR', { gpibController: controller, baudRate: 115200 }),
      connectSmu('GPIB0::23::INSTR', { gpibController: controller, baudRate: 115200 }),
    ]);
    expect(k2400.model).toBe('Keithley 2400');
    expect(b2900.model).toBe('Keysight B2901A');
    expect(k2400.session.transport.address).toBe('GPIB0::24::INSTR');
    // one set-up, every setting read back
    expect(ctl.controllerLog.filter((c) => c === '++ver')).toHaveLength(1);
    for (const c of ['++savecfg 0', '++mode 1', '++auto 0', '++eoi 1', '++eos 2', '++auto', '++eos']) expect(ctl.controllerLog).toContain(c);
    expect(ctl.settings.auto).toBe('0');
    // both instruments measured at once, interleaved on the one bus
    await Promise.all([
      k2400.configure({ func: 'voltage', level: 0.5, compliance: 0.01, nplc: 0.1 }),
      b2900.configure({ func: 'voltage', level: 0.5, compliance: 0.01, nplc: 0.1 }),
    ]);
    await Promise.all([k2400.output(true), b2900.output(true)]);
    const reads = await Promise.all([k2400.read(), b2900.read(), k2400.read(), b2900.read()]);
    expect(reads.map((r) => r.i)).toEqual([0.5e-3, 0.25e-3, 0.5e-3, 0.25e-3].map((x) => expect.closeTo(x, 12)));
    const sweep = await k2400.listSweep([0.1, 0.2, 0.3]);
    expect(sweep.map((r) => r.i)).toEqual([1e-4, 2e-4, 3e-4].map((x) => expect.closeTo(x, 12)));
    await Promise.all([k2400.output(false), b2900.output(false)]);
    await k2400.close();
    expect(b2900.session.transport.closed).toBe(false); // the controller stays open for the other
    expect(await b2900.isOutputOn()).toBe(false);
    await b2900.close();
  }, 30_000);
});

describe('Prologix set-up check', () => {
  it('refuses a serial port where no Prologix answers', async () => {
    const server = await VirtualSmuServer.start('smu-2400', { ptyPath: tmp('not-prologix'), baud: 115200, dut: new Resistor(1e3) });
    cleanup.push(() => server.close());
    const err = await openResource('GPIB0::5::INSTR', { gpibController: server.addresses[0], baudRate: 115200, timeoutMs: 300 } as never).catch((e) => e);
    expect(err).toBeInstanceOf(InstrumentError);
    expect((err as InstrumentError).message).toMatch(/no Prologix controller answered \+\+ver/);
  });

  it('a GPIB address with nothing behind it times out with the address named', async () => {
    const ctl = await VirtualPrologix.start({}, { tcpPort: 0 });
    cleanup.push(() => ctl.close());
    const t = await openResource('GPIB0::7::INSTR', { gpibController: ctl.addresses[0] });
    await t.write('*IDN?');
    await expect(t.read(300)).rejects.toThrow(/GPIB0::7::INSTR .*no reply within 300 ms/);
    await t.close();
  });
});

describe('VXI-11 against a virtual portmapper and core channel', () => {
  it('opens TCPIP0::host::inst0::INSTR, identifies, configures and sweeps', async () => {
    const server = await VirtualVxi11Server.start(createVirtualSmu('smu-2600b', new Resistor(1e3)));
    cleanup.push(() => server.close());
    const smu = await connectSmu(server.address, { portmapperPort: server.portmapperPort });
    expect(smu.model).toBe('Keithley 2602B');
    expect(smu.session.transport.address).toBe('TCPIP0::127.0.0.1::inst0::INSTR');
    await smu.configure({ func: 'voltage', level: 0, compliance: 0.01, nplc: 0.1 });
    await smu.output(true);
    const r = await smu.listSweep([0.1, -0.2, 0.3]);
    expect(r.map((x) => x.i)).toEqual([1e-4, -2e-4, 3e-4].map((x) => expect.closeTo(x, 12)));
    await smu.output(false);
    // a query the instrument does not answer: the core channel's I/O timeout, as a TIMEOUT
    await smu.session.transport.write('x = 1');
    await expect(smu.session.transport.read(200)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await smu.close();
  }, 30_000);

  it('refuses a device name the instrument does not have, and a dropped link is DISCONNECTED', async () => {
    const server = await VirtualVxi11Server.start(createVirtualSmu('smu-2400', new Resistor(1e3)));
    cleanup.push(() => server.close());
    await expect(openResource('TCPIP0::127.0.0.1::gpib0,5::INSTR', { portmapperPort: server.portmapperPort })).rejects.toThrow(/device not accessible/);
    const t = await openResource(server.address, { portmapperPort: server.portmapperPort });
    server.dropClients();
    await expect(t.write('*IDN?').then(() => t.read(1000))).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});

describe('USB-TMC', () => {
  it('finds /dev/usbtmcN for a USB0:: resource through sysfs', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spikeloop-sysfs-'));
    cleanup.push(async () => fs.rmSync(root, { recursive: true, force: true }));
    const dev = (n: number, vid: string, pid: string, serial: string) => {
      const usb = path.join(root, 'devices', `1-${n}`);
      fs.mkdirSync(path.join(usb, `1-${n}:1.0`), { recursive: true });
      fs.writeFileSync(path.join(usb, 'idVendor'), `${vid}\n`);
      fs.writeFileSync(path.join(usb, 'idProduct'), `${pid}\n`);
      fs.writeFileSync(path.join(usb, 'serial'), `${serial}\n`);
      fs.mkdirSync(path.join(root, 'class', 'usbmisc', `usbtmc${n}`), { recursive: true });
      fs.symlinkSync(path.join(usb, `1-${n}:1.0`), path.join(root, 'class', 'usbmisc', `usbtmc${n}`, 'device'));
    };
    dev(0, '0957', '8b18', 'MY51140001');
    dev(1, '05e6', '2602', '4000001');
    expect(findUsbtmc(parseResource('USB0::0x05E6::0x2602::4000001::INSTR') as never, root)).toBe('/dev/usbtmc1');
    expect(findUsbtmc(parseResource('USB0::0x0957::0x8B18::INSTR') as never, root)).toBe('/dev/usbtmc0');
    expect(() => findUsbtmc({ vendor: 0x05e6, product: 0x2450 }, root)).toThrow(/found: usbtmc0 \(0x957:0x8b18 MY51140001\), usbtmc1/);
  });

  it('talks message by message through the device file (a pty standing in for /dev/usbtmcN)', async () => {
    const server = await VirtualSmuServer.start('smu-b2900', { ptyPath: tmp('usbtmc'), baud: 4_000_000, dut: new Resistor(1e3) });
    cleanup.push(() => server.close());
    const t = await UsbtmcTransport.open(server.addresses[0].replace(/^ASRL|::INSTR$/g, ''), 'USB0::0x0957::0x8B18::MY51140001::INSTR');
    const smu = await identifySmu(t);
    expect(smu.model).toBe('Keysight B2901A');
    await smu.configure({ func: 'voltage', level: 1, compliance: 0.01, nplc: 0.1 });
    await smu.output(true);
    expect((await smu.read()).i).toBeCloseTo(1e-3, 12);
    await smu.output(false);
    await smu.close();
    await expect(UsbtmcTransport.open('/dev/usbtmc99')).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});
