/** `spikeloop virtual smu-…` as a lab would start it: address on the first line, real ports, runs until interrupted. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { connectSmu } from '../drivers/smu/connect.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-smu-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('virtual smu-2400 serves TCP and a pty with the given device, prints both addresses first, stops on SIGINT', async () => {
  const dut = path.join(dir, 'dut.json');
  writeFileSync(dut, JSON.stringify({ model: 'resistor', ohms: 2000 }));
  const link = path.join(dir, 'smu');
  const child = spawn(process.execPath, [path.join(root, 'bin/spikeloop.js'), 'virtual', 'smu-2400', '--tcp', '0', '--pty', link, '--baud', '115200', '--dut', dut], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
  const [tcp, pty] = first.split(' ');
  expect(tcp).toMatch(/^TCPIP0::127\.0\.0\.1::\d+::SOCKET$/);
  expect(pty).toBe(`ASRL${link}::INSTR`);
  for (const address of [pty, tcp]) {
    const smu = await connectSmu(address, { baudRate: 115200 });
    expect(smu.model).toBe('Keithley 2400');
    await smu.configure({ func: 'voltage', level: 1, compliance: 1e-2, nplc: 0.01 });
    await smu.output(true);
    const r = await smu.read();
    expect(r.i).toBeCloseTo(1 / 2000, 12); // the resistor from --dut
    await smu.output(false);
    await smu.close();
  }
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  child.kill('SIGINT');
  expect(await exit).toBe(0);
});
