/**
 * The instrument manager with a bench configuration naming a real-protocol SMU (the virtual 2602B over TCP):
 * identified by *IDN?, its capabilities narrowed by the configuration, lent to a run that names nothing (it is
 * the bench's stimulus instrument), refused while lent; boards found by VID/PID listed unless configured.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualSmuServer } from '../../drivers/smu/virtual/server.ts';
import { RunManager } from '../runs/run-manager.ts';
import { SourceRegistry } from '../sources/registry.ts';
import { register as registerSmu } from '../sources/smu-source.ts';
import { defaultSmuDut } from '../sources/smu-twin-dut.ts';
import { RunStore } from '../store/run-store.ts';
import { validateBenchConfig } from './index.ts';
import { InstrumentManager } from './instruments.ts';
import type { AppError } from '../../common/errors.ts';

const servers: VirtualSmuServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
const limits = { maxVoltage: 2, maxCurrent: 0.01, maxPower: 0.02, compliance: { current: 0.001, voltage: 2 } };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as AppError).code;
  }
  return 'none';
};

describe('instrument manager', () => {
  it('connects a configured SMU, lends it to the run that names nothing, refuses a disconnect while lent', async () => {
    const smu = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: defaultSmuDut() });
    servers.push(smu);
    const bench = validateBenchConfig({
      name: 'memristor bench',
      instruments: [
        { id: 'k2602', kind: 'smu', model: 'keithley-2602b', port: smu.addresses[0], channels: [{ name: 'v', role: 'stimulus', unit: 'V' }], smu: { maxPoints: 1000 } },
        { id: 'uno', kind: 'daq', model: 'arduino-uno', port: '/dev/ttyACM0', channels: [{ name: 'a0', role: 'response', unit: 'V' }] },
      ],
      limits,
    });
    const found = [
      { path: '/dev/ttyACM0', name: 'Arduino Uno' },
      { path: '/dev/ttyUSB3', name: 'CH340 USB-serial (Uno/Nano clone)' },
    ];
    const m = new InstrumentManager(bench, { virtual: false, findBoards: async () => found });
    const list = await m.list();
    expect(list.map((i) => [i.id, i.origin, i.state, i.port])).toEqual([
      ['k2602', 'configured', 'disconnected', smu.addresses[0]],
      ['uno', 'configured', 'disconnected', '/dev/ttyACM0'],
      ['daq-ttyUSB3', 'found', 'disconnected', '/dev/ttyUSB3'],
    ]);
    // not connected: a run on the bench's stimulus SMU is refused
    expect(code(() => m.forRun(() => 1).leaseSmu({}))).toBe('INSTRUMENT_NOT_CONNECTED');

    const c = await m.connect('k2602');
    expect(c).toMatchObject({ state: 'connected', outputs: 'off', identity: expect.stringMatching(/^Keithley Instruments.*2602B/i) });
    // the configuration's instrument.smu (maxPoints 1000, minDwellS defaulted to 0.5 ms) narrows the 2600B's 60 000 points, 0.1 ms
    expect(c.capabilities).toMatchObject({ driver: 'Keithley 2602B', maxPoints: 1000, minDwellS: 5e-4 });
    const lease = m.forRun(() => 7).leaseSmu({})!;
    expect(lease.id).toBe('k2602');
    expect(lease.capabilities).toEqual({ maxPoints: 1000, minDwellS: 5e-4 });
    expect(await m.get('k2602')).toMatchObject({ inUseBy: 7, outputs: 'on' });
    expect(code(() => m.forRun(() => 8).leaseSmu({ instrument: 'k2602' }))).toBe('INSTRUMENT_BUSY');
    await expect(m.disconnect('k2602')).rejects.toMatchObject({ code: 'INSTRUMENT_BUSY', message: expect.stringMatching(/in use by run 7/) });
    lease.release();
    // a run naming an address that is not a bench instrument opens it itself
    expect(m.forRun(() => 9).leaseSmu({ address: 'TCPIP0::127.0.0.1::1::SOCKET' })).toBeUndefined();
    expect(() => m.forRun(() => 9).leaseSmu({ instrument: 'uno' })).toThrow(/"uno" is a daq, not a smu/);
    const d = await m.disconnect('k2602');
    expect(d.state).toBe('disconnected');
    expect(d.error).toBeUndefined();
    expect(smu.instrument.log.at(-1)?.line ?? '').not.toMatch(/OUTPUT_ON/);
  });

  it('a connect that fails leaves the instrument disconnected with the reason', async () => {
    const bench = validateBenchConfig({
      name: 'b',
      instruments: [{ id: 'gone', kind: 'smu', model: 'keithley-2400', port: 'TCPIP0::127.0.0.1::9::SOCKET', channels: [{ name: 'v', role: 'stimulus' }] }],
      limits,
    });
    const m = new InstrumentManager(bench, { virtual: false, findBoards: async () => [], timeoutMs: 1000 });
    // the transport's own code and status (a refused connection: DISCONNECTED, 502), not a generic one
    await expect(m.connect('gone')).rejects.toMatchObject({ code: 'DISCONNECTED', status: 502, message: expect.stringMatching(/"gone" could not be connected: .*ECONNREFUSED/) });
    expect(await m.get('gone')).toMatchObject({ state: 'disconnected', error: expect.any(String) });
    await expect(m.connect('nope')).rejects.toMatchObject({ code: 'INSTRUMENT_NOT_FOUND' });
  });

  it('a run that fails to start (store closed) gives the lent SMU back', async () => {
    const smu = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: defaultSmuDut() });
    servers.push(smu);
    const bench = validateBenchConfig({
      name: 'b',
      instruments: [{ id: 'k2602', kind: 'smu', model: 'keithley-2602b', port: smu.addresses[0], channels: [{ name: 'v', role: 'stimulus', unit: 'V' }] }],
      limits,
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-instr-'));
    const store = RunStore.open(path.join(dir, 'runs.db'));
    const registry = new SourceRegistry();
    registerSmu(registry);
    const m = new InstrumentManager(bench, { virtual: false, findBoards: async () => [] });
    try {
      const runs = new RunManager(store, registry, { bench, instruments: m });
      await m.connect('k2602');
      store.close();
      await expect(runs.start({ protocol: { kind: 'dc', quantity: 'voltage', level: 0.1, durationS: 0.2 }, source: 'smu', sampleRate: 100 })).rejects.toMatchObject({
        code: 'STORE_CLOSED',
      });
      expect((await m.get('k2602')).inUseBy).toBeUndefined();
      expect((await m.disconnect('k2602')).state).toBe('disconnected');
    } finally {
      await m.closeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
