/** `spikeloop db info|vacuum` against a real database file, through the real CLI entry point. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../server/store/run-store.ts';
import { SCHEMA_VERSION } from '../server/store/schema.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'spikeloop-dbcli-'));
  file = path.join(dir, 'runs.db');
  const store = RunStore.open(file);
  for (let r = 0; r < 2; r++) {
    const id = store.createRun({ protocol: { kind: 'dc_step' }, source: 'simulated', bench: {}, softwareVersion: 'test' });
    const rec = store.recorder(id);
    rec.write({ type: 'descriptor', channels: [{ name: 'v', unit: 'V', sampleRate: 1e6, dtype: 'int16', scale: 1, offset: 0, role: 'response' }] });
    rec.write({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(1_000_000).map((_, i) => i) });
    rec.write({ type: 'stop', status: r === 0 ? 'completed' : 'failed', reason: 'test' });
  }
  store.deleteRun(1);
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin/spikeloop.js'), ...args], { encoding: 'utf8' });

describe('spikeloop db', () => {
  it('info --json describes the file; vacuum --json compacts it', () => {
    const info = JSON.parse(cli('db', 'info', '--db', file, '--json'));
    expect(info).toMatchObject({ schemaVersion: SCHEMA_VERSION, pageSize: 65536, runs: { failed: 1, completed: 0 }, channels: 1, samples: 1_000_000 });
    expect(info.freePages).toBeGreaterThan(0);
    const v = JSON.parse(cli('db', 'vacuum', '--db', file, '--json'));
    expect(v.after).toBeLessThan(v.before);
    expect(JSON.parse(cli('db', 'info', '--db', file, '--json')).freePages).toBe(0);
    expect(() => cli('db', 'info', '--db', path.join(dir, 'missing.db'))).toThrow(/no database/);
  });
});
