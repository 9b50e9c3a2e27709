/**
 * `spikeloop twin fit` (the compiled CLI on a real database): the JSON result carries params, ci, residual and
 * the stored circuit's name; the circuit is listed by `twin circuits` and usable by name in the next fit; bad
 * input is refused with a clear message before anything is stored.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-fit-cli-'));
const db = path.join(dir, 'runs.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/spikeloop.js'), ...args, '--db', db], { encoding: 'utf8' });

describe('spikeloop twin fit', () => {
  it('fits, prints one JSON object, stores the circuit and pairs the run; the stored circuit fits again by name', () => {
    const proto = path.join(dir, 'square.json');
    writeFileSync(proto, JSON.stringify({ kind: 'square', quantity: 'current', amplitude: 8e-6, frequencyHz: 20, duty: 0.5, durationS: 0.1 }));
    const run = cli('twin', 'run', 'lif', '--stimulus', proto, '--rate', '10000', '--json');
    expect(run.status, run.stderr).toBe(0);
    const runId = JSON.parse(run.stdout).id as number;
    const bounds = path.join(dir, 'bounds.json');
    writeFileSync(bounds, JSON.stringify({ 'Cm.value': [30e-9, 300e-9], 'Rm.value': { min: 30e3, max: 300e3 } }));
    const r = cli('twin', 'fit', 'lif', '--run', String(runId), '--params', 'Cm.value,Rm.value', '--bounds', bounds, '--objective', 'waveform', '--max-evals', '300', '--json', '--workers', '2');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out.params).sort()).toEqual(['Cm.value', 'Rm.value']);
    expect(Math.abs(out.params['Cm.value'] / 100e-9 - 1)).toBeLessThan(0.02);
    expect(Math.abs(out.params['Rm.value'] / 100e3 - 1)).toBeLessThan(0.02);
    expect(out.ci['Cm.value']).toHaveLength(2);
    expect(out).toMatchObject({ circuit: `lif-fit-run${runId}`, objective: 'waveform', bounds: { 'Rm.value': { min: 30e3, max: 300e3, log: true } } });
    expect(typeof out.residual).toBe('number');
    expect(out.twinRunId).toBeGreaterThan(runId);
    const list = JSON.parse(cli('twin', 'circuits', '--json').stdout).circuits as { name: string; stored?: boolean }[];
    expect(list.find((c) => c.name === out.circuit)).toMatchObject({ stored: true });
    const again = cli('twin', 'fit', out.circuit, '--run', String(runId), '--params', 'Cm.value', '--max-evals', '40', '--no-pair');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`stored as circuit "${out.circuit}-fit-run${runId}"`));
    expect(again.stdout).toMatch(/Cm\.value/);
  });

  it('refuses an unknown parameter, objective or run with a clear message', () => {
    const bad = cli('twin', 'fit', 'lif', '--run', '1', '--params', 'Cm.nope');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/parameter "Cm.nope": a C element has value/);
    expect(cli('twin', 'fit', 'lif', '--run', '1', '--objective', 'nope').stderr).toMatch(/--objective must be one of waveform, spikes, iv/);
    expect(cli('twin', 'fit', 'lif', '--run', '999').stderr).toMatch(/run 999 does not exist/);
  });
});
