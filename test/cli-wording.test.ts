/** The compiled CLI's plain-text output: counts read in the singular when one, column headings carry units. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/spikeloop.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-cli-wording-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, [bin, ...args])).stdout;

it('protocol compile: "1 table (1 sample), 1 segment"', async () => {
  const file = path.join(dir, 'dc.json');
  writeFileSync(file, JSON.stringify({ kind: 'dc', quantity: 'voltage', level: 0.5, durationS: 0.01 }));
  expect(await cli('protocol', 'compile', file, '--target', 'daq')).toContain('100 samples at 10000 S/s: 1 table (1 sample), 1 segment\n');
});

it('smu iv: column headings with units, on a virtual SMU', async () => {
  const child = spawn(process.execPath, [bin, 'virtual', 'smu-2400', '--tcp', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()).includes('\n') && resolve(out.split('\n')[0].split(' ')[0]));
      child.once('exit', (code) => reject(new Error(`virtual smu exited ${code}`)));
    });
    const lines = (await cli('smu', 'iv', address, '--peak', '0.2', '--points', '2', '--delay', '0')).trim().split('\n');
    expect(lines[0]).toBe('V (V)\tI (A)\tt (s)');
    expect(lines.length).toBeGreaterThan(2);
  } finally {
    child.kill('SIGINT');
  }
});
