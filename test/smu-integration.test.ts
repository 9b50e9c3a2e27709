/**
 * Drivers against the virtual instruments over real ports: pseudo-terminals made by socat and TCP on
 * 127.0.0.1. Includes instrument errors, time-outs, garbage replies and a port vanishing mid-sweep.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectSmu } from '../drivers/smu/connect.ts';
import { K2400, Keithley2400 } from '../drivers/smu/keithley2400.ts';
import { SafeSmu } from '../drivers/smu/safety.ts';
import { ivLoop, type Reading } from '../drivers/smu/smu.ts';
import { VirtualSmuServer, type VirtualSmuKind } from '../drivers/smu/virtual/server.ts';
import { defaultSmuDut } from '../server/sources/smu-twin-dut.ts';
import { InstrumentError } from '../drivers/transport/errors.ts';

const tmp = (name: string) => path.join(os.tmpdir(), `spikeloop-test-${process.pid}-${name}`);
const servers: VirtualSmuServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function serve(kind: VirtualSmuKind, pty = false, baud = 115200) {
  const s = await VirtualSmuServer.start(kind, pty ? { ptyPath: tmp(`${kind}-${servers.length}`), baud, dut: defaultSmuDut() } : { tcpPort: 0, dut: defaultSmuDut() });
  servers.push(s);
  return s;
}

/** Pinched hysteresis: near-zero current at 0 V, and different currents at the same voltage on the two passes. */
function expectPinchedLoop(levels: number[], r: Reading[]) {
  const q = (levels.length - 1) / 4;
  expect(Math.abs(r[2 * q].i)).toBeLessThan(1e-9); // back at 0 V after the positive lobe
  const up = r[q / 2].i; // +peak/2 rising
  const down = r[q + q / 2].i; // +peak/2 falling
  expect(levels[q / 2]).toBeCloseTo(levels[q + q / 2], 9);
  expect(Math.abs(down - up) / Math.abs(up)).toBeGreaterThan(0.05);
  // timestamps from the instrument increase
  for (let k = 1; k < r.length; k++) expect(r[k].t).toBeGreaterThan(r[k - 1].t);
}

describe.each([
  ['smu-2400', false],
  ['smu-2400', true],
  ['smu-2600b', false],
  ['smu-2600b', true],
  ['smu-b2900', false],
  ['smu-b2900', true],
] as [VirtualSmuKind, boolean][])('%s (pty: %s)', (kind, pty) => {
  it('identifies, configures, sweeps an I-V loop on the memristor and reads single points', async () => {
    const server = await serve(kind, pty);
    const smu = await connectSmu(server.addresses[0], { baudRate: 115200 });
    expect(smu.model).toMatch(kind === 'smu-b2900' ? /B2901A/ : kind === 'smu-2400' ? /2400/ : /2602B/);
    await smu.reset();
    await smu.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.01 });
    await smu.output(true);
    const levels = ivLoop(1, 8);
    const r = await smu.listSweep(levels, { delayS: 0.02 });
    expect(r.length).toBe(levels.length);
    r.forEach((x, k) => expect(x.v).toBeCloseTo(levels[k], 9));
    expectPinchedLoop(levels, r);
    await smu.setLevel(0.3);
    const one = await smu.read();
    expect(one.v).toBeCloseTo(0.3, 9);
    expect(one.i).toBeGreaterThan(0);
    await smu.output(false);
    expect(await smu.isOutputOn()).toBe(false);
    await smu.close();
    expect(server.instrument.log[0].line).toBe('*IDN?');
  });
});

describe('faults', () => {
  it('an instrument error surfaces as INSTRUMENT_ERROR naming the command (2400 over a pty)', async () => {
    const server = await serve('smu-2400', true);
    const smu = (await connectSmu(server.addresses[0], { baudRate: 115200 })) as Keithley2400;
    await smu.configure({ func: 'voltage', level: 0, compliance: 1e-3, sourceRange: 2 });
    const err = await smu.set(K2400.voltageLevel, 5).catch((e: InstrumentError) => e);
    expect(err).toMatchObject({ code: 'INSTRUMENT_ERROR', command: ':SOUR:VOLT:LEV 5', instrumentCode: -222 });
    expect(String(err)).toMatch(/instrument rejected ":SOUR:VOLT:LEV 5": -222 "Data out of range"/);
    await smu.close();
  });

  it('a TSP run-time error names the command (2600B over TCP)', async () => {
    const server = await serve('smu-2600b');
    const smu = await connectSmu(server.addresses[0]);
    await smu.configure({ func: 'voltage', level: 0, compliance: 1e-3 });
    // output left off: the trigger model refuses to sweep
    const err = await smu.listSweep([0, 0.1]).catch((e: InstrumentError) => e);
    expect(err).toMatchObject({ code: 'INSTRUMENT_ERROR', instrumentCode: -221 });
    expect(String(err)).toContain('smua.trigger.initiate()');
    await smu.close();
  });

  it('a query that gets no reply times out naming the command, and the session recovers', async () => {
    const server = await serve('smu-b2900');
    const smu = await connectSmu(server.addresses[0], { timeoutMs: 2000 });
    await expect(smu.session.query(':SOUR:VOLT 0.1', 150)).rejects.toMatchObject({ code: 'TIMEOUT', command: ':SOUR:VOLT 0.1' });
    // an unknown query: the instrument's own error wins over the time-out
    await expect(smu.session.queryChecked(':SOUR:BOGUS?', 150)).rejects.toMatchObject({ code: 'INSTRUMENT_ERROR', instrumentCode: -113 });
    expect(await smu.session.idn()).toMatch(/B2901A/);
    await smu.close();
  });

  it('a reply that arrives after its time-out is not taken for the next reply', async () => {
    const server = await serve('smu-2400');
    const smu = await connectSmu(server.addresses[0], { timeoutMs: 3000 });
    await smu.configure({ func: 'voltage', level: 0.2, compliance: 1e-3, nplc: 0.01 });
    await smu.output(true);
    await smu.session.configure(':SOUR:DEL 0.4'); // each reading now takes 0.4 s
    await expect(smu.session.query(':READ?', 50)).rejects.toMatchObject({ code: 'TIMEOUT', command: ':READ?' });
    expect(await smu.session.idn()).toMatch(/MODEL 2400/); // not the late reading
    await smu.session.configure(':SOUR:DEL 0');
    expect((await smu.read()).v).toBeCloseTo(0.2, 9);
    await smu.output(false);
    await smu.close();
  });

  it('garbage replies are BAD_REPLY naming the command; unknown models are refused', async () => {
    // A real socket that answers like a broken instrument.
    const fake = net.createServer((sock) => {
      let buf = '';
      sock.on('data', (c) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === '*IDN?') sock.write(fake.idn + '\n');
          else if (line === ':SYST:ERR?') sock.write('0,"No error"\n');
          else if (line.endsWith('?')) sock.write('\u0013#garbage&\u00ff\n');
        }
      });
    }) as net.Server & { idn: string };
    fake.idn = 'KEITHLEY INSTRUMENTS INC.,MODEL 2400,1,C30';
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const port = (fake.address() as net.AddressInfo).port;
    const smu = await connectSmu(`127.0.0.1:${port}`);
    await expect(smu.read()).rejects.toMatchObject({ code: 'BAD_REPLY', command: ':READ?' });
    await expect(smu.isOutputOn()).rejects.toMatchObject({ code: 'BAD_REPLY', command: ':OUTP?' });
    await smu.close();
    fake.idn = 'ACME,SUPERSMU 9000,1,1';
    await expect(connectSmu(`TCPIP0::127.0.0.1::${port}::SOCKET`)).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await new Promise<void>((r) => fake.close(() => r()));
  });

  it('a port vanishing mid-sweep ends the sweep with DISCONNECTED (no hang, no retry forever)', async () => {
    const server = await serve('smu-2400', true, 57600);
    const smu = await connectSmu(server.addresses[0], { baudRate: 57600, timeoutMs: 2000 });
    await smu.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.01 });
    const safe = new SafeSmu(smu, { maxVoltage: 2, maxCurrent: 1e-2, maxPower: 1e-2 }, { processGuards: false });
    const levels = Array.from({ length: 5000 }, (_, k) => Math.sin(k / 50));
    let points = 0;
    const sweep = safe.stepSweep(levels, undefined, () => points++).catch((e: InstrumentError) => e);
    while (points < 5) await new Promise((r) => setTimeout(r, 10));
    await server.dropPty();
    const err = await sweep;
    expect(err).toBeInstanceOf(InstrumentError);
    expect((err as InstrumentError).code).toBe('DISCONNECTED');
    expect(points).toBeLessThan(levels.length);
    // Nothing can reach the instrument now: the shutdown reports that, it does not pretend.
    expect(safe.shutdowns.at(-1)).toMatchObject({ reason: 'disconnect', ok: false });
    await safe.close();
  });
});
