/**
 * Clients labs already have, unchanged, against the virtual instruments: PyMeasure's own Keithley2400 class
 * (Debian python3-pymeasure over python3-pyvisa-py) through its buffer, reset, resistance and sweep methods,
 * over a raw TCP socket, a pseudo-terminal as a serial port, and VXI-11 (pyvisa-py's own ONC RPC client against
 * the virtual VXI-11 server, a check of that server independent of spikeloop's client). The instrument's error queue must be
 * empty at the end, as PyMeasure reads it and as the instrument holds it.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorQueue } from '../drivers/smu/virtual/core.ts';
import type { VirtualInstrument } from '../drivers/smu/virtual/core.ts';
import { Resistor } from '../drivers/smu/virtual/dut.ts';
import { createVirtualSmu, VirtualSmuServer } from '../drivers/smu/virtual/server.ts';
import { VirtualVxi11Server } from '../drivers/smu/virtual/vxi11-server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function runPython(script: string, resource: string, env: Record<string, string> = {}): Promise<Record<string, any>> {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', [path.join(here, 'clients', script), resource], { timeout: 90_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${script} failed: ${stderr || err.message}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

/** The virtual 2400 behind one kind of port, as pyvisa-py opens it. */
async function serve2400(kind: 'tcp' | 'pty' | 'vxi11'): Promise<{ instrument: VirtualInstrument; resource: string; env?: Record<string, string> }> {
  if (kind === 'vxi11') {
    const v = await VirtualVxi11Server.start(createVirtualSmu('smu-2400', new Resistor(1e3)));
    servers.push(v);
    return { instrument: v.instrument, resource: 'TCPIP::127.0.0.1::inst0::INSTR', env: { SPIKELOOP_PORTMAPPER_PORT: String(v.portmapperPort) } };
  }
  const opts = kind === 'tcp' ? { tcpPort: 0 } : { ptyPath: path.join(os.tmpdir(), `spikeloop-test-${process.pid}-pymeasure`), baud: 9600 };
  const server = await VirtualSmuServer.start('smu-2400', { ...opts, dut: new Resistor(1e3) });
  servers.push(server);
  // pyvisa writes the board number-less form for sockets; both name the same resource.
  return { instrument: server.instrument, resource: server.addresses[0].replace(/^TCPIP0::/, 'TCPIP::') };
}

describe.each([
  ['TCP socket', 'tcp'],
  ['serial (pty)', 'pty'],
  ['VXI-11 (pyvisa-py\'s own ONC RPC client)', 'vxi11'],
] as const)("PyMeasure's Keithley2400 over %s", (_name, kind) => {
  it('runs its buffer, reset, resistance, sweep and shutdown methods and leaves no error behind', async () => {
    const server = await serve2400(kind);
    const out = await runPython('pymeasure_k2400.py', server.resource, server.env);
    expect(out.id).toMatch(/MODEL 2400/);
    expect(out.current).toBeCloseTo(0.5e-3, 12); // 0.5 V into 1 kΩ
    expect(out.buffer_points).toBe(20);
    expect(out.buffer_data).toHaveLength(20);
    for (const i of out.buffer_data) expect(i).toBeCloseTo(0.5e-3, 12);
    expect(out.mean_current).toBeCloseTo(0.5e-3, 12);
    expect(out.std_current).toBeLessThan(1e-12);
    expect(out.max_voltage).toBeCloseTo(0.5, 9);
    expect(out.resistance[0]).toBeCloseTo(1e3, 6);
    // RvsI zips its five currents with the flat :READ? reply (V, I, R, TIME, STAT per point): first point V = I·R
    expect(out.sweep.map((p: number[]) => p[0])).toEqual([1e-4, 2e-4, 3e-4, 4e-4, 5e-4].map((x) => expect.closeTo(x, 12)));
    expect(out.sweep[0][1]).toBeCloseTo(0.1, 9);
    expect(out.sweep[1][1]).toBeCloseTo(1e-4, 12);
    expect(out.ramped_to).toBeCloseTo(0.2, 9);
    expect(out.source_enabled_after_shutdown).toBe(false);
    expect(out.error).toEqual([0, 'No error']);
    expect(server.instrument.channel.output).toBe(false);
    const lines = server.instrument.log.map((e) => e.line);
    for (const cmd of [':INIT', ':TRAC:DATA?', ':CALC3:FORM MEAN;:CALC3:DATA?;', ':SOUR:CURR:MODE SWE', 'status:queue:clear;*RST;:stat:pres;:*CLS;'])
      expect(lines).toContain(cmd);
    // nothing PyMeasure sent was refused along the way (check_errors would have drained it silently)
    expect((server.instrument as unknown as { errors: ErrorQueue }).errors.pushed).toBe(0);
  }, 120_000);
});
