/** `spikeloop virtual daq-uno`: prints the serial device on its first line, serves the firmware there, stops on SIGINT. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { DaqBoard } from '../drivers/daq/board.ts';

it('spikeloop virtual daq-uno serves the firmware behind the printed port until interrupted', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-daq-cli-'));
  const link = path.join(dir, 'ttyACM0');
  const proc = spawn(process.execPath, ['bin/spikeloop.js', 'virtual', 'daq-uno', '--pty', link], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    expect(first).toBe(link);
    const board = await DaqBoard.open({ path: first });
    const hello = await board.negotiate();
    expect(hello).toMatchObject({ protocolVersion: 1, board: 'uno', analogInputs: 6, adcBits: 10 });
    await board.close();
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(link)).toBe(false);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
