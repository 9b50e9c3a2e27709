/**
 * Safety on every exit path, each proven by the virtual instrument's command log: limits are checked
 * before output on; on stop, abort, error, SIGINT, SIGTERM, uncaught exception and a dropped connection
 * the output is ramped to zero and turned off.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connectSmu } from '../drivers/smu/connect.ts';
import { SafeSmu, type BenchLimits } from '../drivers/smu/safety.ts';
import type { CommandLogEntry } from '../drivers/smu/virtual/core.ts';
import { VirtualSmuServer, type VirtualSmuKind } from '../drivers/smu/virtual/server.ts';
import { defaultSmuDut } from '../server/sources/smu-twin-dut.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const LIMITS: BenchLimits = { maxVoltage: 2, maxCurrent: 1e-2, maxPower: 1e-2 };
const servers: VirtualSmuServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function serve(kind: VirtualSmuKind = 'smu-2400') {
  const s = await VirtualSmuServer.start(kind, { tcpPort: 0, dut: defaultSmuDut() });
  servers.push(s);
  return s;
}

const LEVEL = /^(?::SOUR:VOLT:LEV|smua\.source\.levelv =) ([-+0-9.e]+)(?:;| |$)/;
const OFF = /^(?::OUTP OFF|smua\.source\.output = smua\.OUTPUT_OFF)$/;
const ON = /^(?::OUTP ON|smua\.source\.output = smua\.OUTPUT_ON)$/;

/**
 * From the instrument's log: after the output went on, the last level commands before the output went
 * off form a ramp that falls monotonically from `from` to exactly 0 in `steps` steps.
 */
function expectRampDownInLog(log: CommandLogEntry[], from: number, steps: number) {
  const lines = log.map((e) => e.line);
  const offAt = lines.findLastIndex((l) => OFF.test(l));
  expect(offAt, `no output-off in the log:\n${lines.slice(-20).join('\n')}`).toBeGreaterThan(0);
  expect(lines.slice(0, offAt).some((l) => ON.test(l))).toBe(true);
  const levels = lines.slice(0, offAt).filter((l) => LEVEL.test(l)).map((l) => Number(LEVEL.exec(l)![1]));
  const ramp = levels.slice(-steps);
  expect(ramp.at(-1)).toBe(0);
  expect(ramp[0]).toBeLessThan(Math.abs(from));
  for (let k = 1; k < ramp.length; k++) expect(Math.abs(ramp[k])).toBeLessThan(Math.abs(ramp[k - 1]));
  expect(levels.at(-steps - 1)).toBeCloseTo(from, 9); // the level it ramped from
  // nothing after the output went off turns it back on
  expect(lines.slice(offAt).some((l) => ON.test(l))).toBe(false);
}

async function started(kind: VirtualSmuKind = 'smu-2400', opts = {}) {
  const server = await serve(kind);
  const smu = await connectSmu(server.addresses[0], { timeoutMs: 1500 });
  const safe = new SafeSmu(smu, LIMITS, { rampSteps: 5, rampStepS: 0, processGuards: false, ...opts });
  await safe.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.01 });
  return { server, smu, safe };
}

describe('limits before output on', () => {
  it('refuses a setup beyond the bench limits before anything is written', async () => {
    const server = await serve();
    const smu = await connectSmu(server.addresses[0]);
    const safe = new SafeSmu(smu, LIMITS, { processGuards: false });
    await expect(safe.on()).rejects.toThrow(/configure the source \(compliance first\)/);
    await expect(safe.configure({ func: 'voltage', level: 5, compliance: 1e-3 })).rejects.toThrow(/maxVoltage = 2 V/);
    await expect(safe.configure({ func: 'voltage', level: 0, compliance: 0.1 })).rejects.toThrow(/maxCurrent = 0.01 A/);
    await expect(safe.configure({ func: 'voltage', level: 0, compliance: 1e-2 }, [-1.5, 1.5])).rejects.toThrow(/maxPower = 0.01 W/);
    await expect(safe.configure({ func: 'current', level: 0, compliance: 5 })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect(server.instrument.log.map((e) => e.line)).toEqual(['*IDN?']);
    // a sweep program beyond the limits is refused before output on
    await safe.configure({ func: 'voltage', level: 0, compliance: 1e-3 });
    await expect(safe.listSweep([0, 1, 2.5])).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    const lines = server.instrument.log.map((e) => e.line);
    expect(lines.some((l) => ON.test(l))).toBe(false);
    // compliance is written before the output could ever turn on
    expect(lines.findIndex((l) => l.startsWith(':SENS:CURR:PROT'))).toBe(1);
    await safe.close();
  });
});

describe('ramp to zero and off', () => {
  it('on stop', async () => {
    const { server, safe } = await started();
    await safe.on();
    await safe.setLevel(1.5);
    await safe.read();
    expect(await safe.shutdown('stop')).toEqual({ reason: 'stop', ok: true });
    expectRampDownInLog(server.instrument.log, 1.5, 5);
    expect(server.instrument.channel.output).toBe(false);
    await safe.close();
  });

  it('on abort, keeping the readings taken so far', async () => {
    const { server, safe } = await started('smu-2600b');
    const ac = new AbortController();
    const levels = Array.from({ length: 100 }, (_, k) => k / 100);
    const r = await safe.stepSweep(levels, ac.signal, (_, k) => k === 9 && ac.abort());
    expect(r.length).toBe(10);
    expect(safe.shutdowns.at(-1)).toEqual({ reason: 'abort', ok: true });
    expectRampDownInLog(server.instrument.log, 0.09, 5);
    await safe.close();
  });

  it('on error (the program consuming the readings fails mid-sweep)', async () => {
    const { server, safe } = await started();
    const levels = [0.2, 0.4, 0.6, 0.8];
    await expect(
      safe.stepSweep(levels, undefined, (_, k) => {
        if (k === 2) throw new Error('analysis blew up');
      }),
    ).rejects.toThrow('analysis blew up');
    expect(safe.shutdowns.at(-1)).toEqual({ reason: 'error', ok: true });
    expectRampDownInLog(server.instrument.log, 0.6, 5);
    await safe.close();
  });

  it('on an instrument error mid-run', async () => {
    const { server, safe } = await started();
    // A fixed 0.2 V source range: the instrument refuses 1 V (-222) although the bench limits allow it.
    await safe.configure({ func: 'voltage', level: 0, compliance: 1e-3, sourceRange: 0.2 });
    const err = await safe.stepSweep([0.1, 0.15, 1]).catch((e) => e);
    expect(err).toMatchObject({ code: 'INSTRUMENT_ERROR', instrumentCode: -222 });
    expect(String(err)).toContain('":SOUR:VOLT:LEV 1;:READ?"');
    expect(safe.shutdowns.at(-1)).toEqual({ reason: 'error', ok: true });
    expectRampDownInLog(server.instrument.log, 1, 5);
    expect(server.instrument.channel.output).toBe(false);
    await safe.close();
  });

  it('on a dropped connection: reconnects and ramps down', async () => {
    const server = await serve('smu-b2900');
    const address = server.addresses[0];
    const smu = await connectSmu(address);
    const safe = new SafeSmu(smu, LIMITS, { rampSteps: 5, rampStepS: 0, processGuards: false, reconnect: () => connectSmu(address) });
    await safe.configure({ func: 'voltage', level: 0, compliance: 1e-3 });
    await safe.on();
    await safe.setLevel(-1.2);
    await safe.read();
    server.dropTcpClients(); // the LAN drops; the instrument keeps its output on
    for (let k = 0; k < 500 && !safe.shutdowns.length; k++) await new Promise((r) => setTimeout(r, 20));
    expect(safe.shutdowns.at(-1)).toEqual({ reason: 'disconnect', ok: true });
    const lines = server.instrument.log.map((e) => e.line);
    expect(lines.filter((l) => l === '*IDN?').length).toBe(2); // the reconnect
    const level = /^:SOUR:VOLT (\S+)$/;
    const after = lines.slice(lines.lastIndexOf('*IDN?')).filter((l) => level.test(l)).map((l) => Number(level.exec(l)![1]));
    expect(after.at(-1)).toBe(0);
    expect(after.length).toBe(5);
    expect(lines.at(-2)).toBe(':OUTP OFF');
    expect(server.instrument.channel.output).toBe(false);
    await safe.close();
  });

  it.each([
    ['SIGINT', 'wait', 130],
    ['SIGTERM', 'wait', 143],
    ['uncaught exception', 'throw', 1],
  ] as const)('on %s in the host process', async (what, mode, exitCode) => {
    const server = await serve();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/smu-safety-child.ts'), server.addresses[0], mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    if (mode === 'wait') child.kill(what as NodeJS.Signals);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(exitCode);
    expect(stderr).toContain('ramping SMU outputs to zero');
    expectRampDownInLog(server.instrument.log, 1, 5);
    expect(server.instrument.channel.output).toBe(false);
  });
});
