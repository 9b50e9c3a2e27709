/**
 * docs/api.md "From a shell (curl)", run: the guide's curl block is extracted and run by bash, as a lab
 * would paste it, against a real server (its token, the simulated bench, a real SQLite file); what it prints
 * and the files it writes are checked against the store, and the NPY it downloads is read by Debian's numpy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../server/store/run-store.ts';
import { buildServices, type Services } from '../server/services.ts';
import { buildApp, type App } from '../server/api/app.ts';
import { newToken } from '../server/api/security.ts';
import { pythonJson } from './python.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const guide = readFileSync(path.join(root, 'docs/api.md'), 'utf8');
const blocks = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('curl'));

let dir: string;
let store: RunStore;
let services: Services;
let app: App;
let out: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-apiguide-'));
  store = RunStore.open(path.join(dir, 'spikeloop.db'));
  services = buildServices({ store, instruments: false });
  const token = newToken();
  app = await buildApp({ services, webDist: false, security: { token } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  out = await new Promise((resolve) => {
    const child = execFile('bash', ['-e', '-c', blocks[0]], { cwd: dir, env: { ...process.env, SPIKELOOP_URL: url, SPIKELOOP_TOKEN: token }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}, 90_000);
afterAll(async () => {
  await app?.close();
  await services?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/api.md, the curl block', () => {
  it('runs as written with the token: health, a run started and waited for, events, CSV, NPY, a stored analysis', async () => {
    expect(blocks).toHaveLength(1);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(JSON.parse(lines[0])).toEqual({ ok: true, version: expect.any(String) });
    const id = Number(/^run (\d+)$/.exec(lines[1])?.[1]);
    const run = store.getRun(id)!;
    expect(run).toMatchObject({ status: 'completed', label: 'from curl', source: 'simulated' });
    const spikes = store.listEvents(id, { kind: 'spike', limit: 3 });
    // the simulated bench's run fires: the events line and the analysis line hold spikes, not empty lists
    expect(spikes).toHaveLength(3);
    expect(JSON.parse(lines[2]).events.map((e: { index: number }) => e.index)).toEqual(spikes.map((e) => e.index));
    // the analysis the block ran is stored with the run; its line prints the stored figures
    const stored = store.listAnalyses(id, 'spikes')[0].result as { channels: { channel: string; n_spikes: number; stats: { rate_hz: number } }[] };
    const c = stored.channels[0];
    expect(c.n_spikes).toBeGreaterThan(0);
    expect(lines[3]).toBe(`${c.channel} ${c.n_spikes} spikes, ${c.stats.rate_hz} Hz`);
    const csv = readFileSync(path.join(dir, `run-${id}.csv`), 'utf8').split('\n');
    expect(csv[0]).toBe('time_s,stim (A),v_mem (V)');
    expect(csv.filter((l) => l !== '')).toHaveLength(1 + run.channels[0].sampleCount);
    const npy = await pythonJson(`import json, sys, numpy as np\nx = np.load(sys.argv[1])\nprint(json.dumps({"n": int(x.shape[0]), "dtype": str(x.dtype)}))`, [path.join(dir, `run-${id}-v_mem.npy`)]);
    expect(npy).toEqual({ n: run.channels[1].sampleCount, dtype: 'float64' });
  });
});
