/** The `spikeloop` command line, spawned as users run it: node bin/spikeloop.js <command> ... */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LifBench } from '../server/sources/simulated-bench.ts';
import { validateProtocol } from '../server/protocols/index.ts';
import { RunStore } from '../server/store/run-store.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'spikeloop.js');
let dir: string;
let db: string;

function cli(args: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-cli-'));
  db = path.join(dir, 'cli.db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spikeloop CLI', () => {
  it('--help on every command', async () => {
    const results = await Promise.all(['serve', 'run', 'runs', 'export'].map((c) => cli([c, '--help'])));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: spikeloop \w+/);
      expect(r.stdout).toContain('--db');
    }
    expect(results[0].stdout).toContain('--port');
    expect(results[0].stdout).toContain('--host');
    expect(results[1].stdout).toContain('--duration');
    expect(results[3].stdout).toContain('--format');
  });

  it('run records a protocol, runs lists it, export writes CSV and NPY that read back exactly', async () => {
    const protocolFile = path.join(dir, 'square.json');
    const doc = { kind: 'square', durationS: 5, frequencyHz: 500 };
    writeFileSync(protocolFile, JSON.stringify(doc));
    const run = await cli(['run', protocolFile, '--duration', '0.2', '--rate', '20000', '--db', db, '--label', 'from cli']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [idLine, summaryLine] = run.stdout.trim().split('\n');
    const id = Number(idLine);
    expect(Number.isInteger(id)).toBe(true);
    const summary = JSON.parse(summaryLine);
    expect(summary).toMatchObject({ id, status: 'completed', label: 'from cli', protocol: { kind: 'square', durationS: 0.2, frequencyHz: 500 } });
    expect(summary.channels.map((c: { sampleCount: number }) => c.sampleCount)).toEqual([4000, 4000]);

    const list = await cli(['runs', '--json', '--db', db]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).runs.map((r: { id: number; status: string }) => [r.id, r.status])).toEqual([[id, 'completed']]);

    const out = path.join(dir, 'out');
    const raw = path.join(dir, 'raw');
    const [npy, csv, npyRaw] = await Promise.all([
      cli(['export', String(id), '--format', 'npy', '--out', out, '--db', db, '--json']),
      cli(['export', String(id), '--format', 'csv', '--out', out, '--db', db]),
      cli(['export', String(id), '--format', 'npy', '--raw', '--out', raw, '--db', db, '--json']),
    ]);
    expect([npy.code, csv.code, npyRaw.code]).toEqual([0, 0, 0]);
    const expected = new LifBench(validateProtocol({ ...doc, durationS: 0.2 }), 20_000);
    const gen = expected.next(4000);
    const [cs, cr] = expected.channels;
    const files = JSON.parse(npy.stdout).files as { path: string; kind: string; channel?: string }[];
    expect(files.map((f) => path.basename(f.path))).toEqual([`run-${id}-stim.npy`, `run-${id}-v_mem.npy`, `run-${id}-events.csv`, `run-${id}_about.json`]);
    // default NPY: float64 in SI units
    const vmem = readFileSync(files[1].path);
    const headerLen = vmem.readUInt16LE(8);
    expect(vmem.subarray(10, 10 + headerLen).toString('latin1')).toMatch(/'descr': '<f8', 'fortran_order': False, 'shape': \(4000,\)/);
    const si = new Float64Array(vmem.buffer.slice(vmem.byteOffset + 10 + headerLen, vmem.byteOffset + vmem.length));
    expect(Array.from(si)).toEqual(Array.from(gen.resp, (r) => r * cr.scale + cr.offset));
    // --raw: the stored int16 codes
    const rawFile = (JSON.parse(npyRaw.stdout).files as { path: string }[])[1].path;
    const codes = readFileSync(rawFile);
    const rawLen = codes.readUInt16LE(8);
    expect(codes.subarray(10, 10 + rawLen).toString('latin1')).toMatch(/'descr': '<i2'/);
    expect(codes.subarray(10 + rawLen).equals(Buffer.from(gen.resp.buffer))).toBe(true);
    const about = JSON.parse(readFileSync(path.join(raw, `run-${id}_about.json`), 'utf8'));
    expect(about.channels[1]).toMatchObject({ name: 'v_mem', unit: 'V', role: 'response', scale: cr.scale, neo_raw_binary: { dtype: '<i2', signal_gain: cr.scale, bytesoffset: rawLen + 10 } });
    const csvFile = path.join(out, `run-${id}.csv`);
    expect(csv.stdout.trim().split('\n')[0]).toBe(csvFile);
    const rows = readFileSync(csvFile, 'utf8').trimEnd().split('\n');
    expect(rows.length).toBe(4001);
    expect(rows[0]).toBe('time_s,stim (A),v_mem (V)');
    expect(rows[123]).toBe(`${122 / 20_000},${gen.stim[122] * cs.scale},${gen.resp[122] * cr.scale}`);
  });

  it('refuses a bad protocol file naming the field, and an unknown run', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'square', duty: 2 }));
    const r = await cli(['run', bad, '--db', path.join(dir, 'bad.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/protocol field \/duty/);
    const e = await cli(['export', '999', '--format', 'csv', '--out', dir, '--db', db]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/run 999 does not exist/);
    // --out naming a file (not a folder) is said so, not a raw EEXIST from mkdir
    const o = await cli(['export', '999', '--format', 'csv', '--out', bad, '--db', db]);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/--out .*bad\.json is a file; give a folder/);
    const f = await cli(['run', bad, '--rate', 'fast']);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toMatch(/--rate/);
  });

  it('checks the requests it builds with the API schemas (common/schemas), naming the flag, before opening the database', async () => {
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ kind: 'square', durationS: 0.01 }));
    const sweepFile = path.join(dir, 'sweep.json');
    writeFileSync(sweepFile, JSON.stringify({ kind: 'sweep', base: { kind: 'dc', durationS: 0.01 }, parameters: [{ field: 'level', values: [1e-6] }] }));
    const noDb = path.join(dir, 'never.db');
    const csv = path.join(dir, 'plain.csv');
    writeFileSync(csv, '0.1\n0.2\n0.3\n');
    const badDuty = path.join(dir, 'bad-duty.json');
    writeFileSync(badDuty, JSON.stringify({ kind: 'square', durationS: 0.01, duty: 2 }));
    const [duty, label, method, mode, option, status, limit, format, rate] = await Promise.all([
      cli(['run', badDuty, '--db', noDb]),
      cli(['run', good, '--label', 'x'.repeat(201), '--db', noDb]),
      cli(['twin', 'run', 'lif', '--stimulus', good, '--method', 'rk5', '--db', noDb]),
      cli(['sweep', sweepFile, '--mode', 'both', '--db', noDb]),
      cli(['run', good, '-o', 'paced=false', '-o', 'pacde=true', '--db', path.join(dir, 'options.db')]),
      cli(['runs', '--status', 'finished', '--db', db]),
      cli(['runs', '--limit', '5000', '--db', db]),
      cli(['import', csv, '--format', 'xls', '--db', noDb]),
      cli(['import', csv, '--rate', '0', '--db', noDb]),
    ]);
    for (const r of [duty, label, method, mode, option, status, limit, format, rate]) expect(r.code).toBe(1);
    // the protocol's own parameters, not only the request's shape
    expect(duty.stderr).toMatch(/^spikeloop: protocol field \/duty: must be < 1/);
    expect(label.stderr).toMatch(/^spikeloop: --label: .*200/);
    expect(method.stderr).toMatch(/^spikeloop: --method: must be one of "rk4", "euler", "adaptive", "implicit"/);
    expect(mode.stderr).toMatch(/^spikeloop: --mode: must be one of "bench", "twin"/);
    // runs and import: the queries of GET /api/runs and POST /api/import (RunListQuerySchema, ImportQuerySchema)
    expect(status.stderr).toMatch(/^spikeloop: --status: must be one of "running", "completed", "aborted", "failed", "interrupted"/);
    expect(limit.stderr).toMatch(/^spikeloop: --limit: .*1000/);
    expect(format.stderr).toMatch(/^spikeloop: --format: must be one of "auto", "scope-csv", "csv", "npy", "wav", "nwb"/);
    expect(rate.stderr).toMatch(/^spikeloop: --rate: .*0/);
    // the source's own options schema (the registry) refuses a typo, as over HTTP
    expect(option.stderr).toMatch(/options\.pacde: is not an option of source "simulated"/);
    expect(existsSync(noDb)).toBe(false);
  });

  it('run on a database a server holds: a bad protocol is named first; a good one is refused saying what to do', async () => {
    const held = path.join(dir, 'held.db');
    const store = RunStore.open(held); // this process holds the writer's lock, as a running `serve` would
    try {
      const bad = path.join(dir, 'held-bad.json');
      writeFileSync(bad, JSON.stringify({ kind: 'square', duty: 2 }));
      const good = path.join(dir, 'held-good.json');
      writeFileSync(good, JSON.stringify({ kind: 'square', durationS: 0.01 }));
      const [b, g] = await Promise.all([cli(['run', bad, '--db', held]), cli(['run', good, '--db', held])]);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/^spikeloop: protocol field \/duty: must be < 1/);
      expect(g.code).toBe(1);
      expect(g.stderr).toMatch(new RegExp(`is open for writing by process ${process.pid} .*record through its API \\(POST /api/runs\\) or give another --db`));
    } finally {
      store.close();
    }
  });

  it('run: Ctrl-C (SIGINT) stops the run cleanly and still prints the summary', async () => {
    const protocolFile = path.join(dir, 'long.json');
    writeFileSync(protocolFile, JSON.stringify({ kind: 'sine', durationS: 600, frequencyHz: 20 }));
    let sent = false;
    const r = await cli(['run', protocolFile, '--rate', '10000', '--db', path.join(dir, 'sigint.db')], (text, child) => {
      if (!sent && /^\d+\n/.test(text)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n')[1]);
    expect(summary).toMatchObject({ status: 'aborted', reason: 'interrupted from the command line' });
    expect(summary.channels[0].sampleCount).toBeGreaterThan(0);
  });

  it('npm start\'s serve --source auto records from the virtual DAQ bench at its own rate', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    // the installed command's memory flag (bin/spikeloop.js's shebang) too, then the same serve
    expect(pkg.scripts.start).toBe('node --max-semi-space-size=4 bin/spikeloop.js serve --source auto');
    const serveDb = path.join(dir, 'auto.db');
    let run: { source: string; status: string; channels: { name: string; sampleRate: number; sampleCount: number }[] } | undefined;
    const result = await cli(['serve', '--source', 'auto', '--port', '0', '--db', serveDb], (text, child) => {
      // The start line's URL carries the generated token (…/?token=<t>), as Jupyter prints it.
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+) .*default source (\w+)/.exec(text);
      if (!m || run) return;
      run = { source: m[3], status: '', channels: [] };
      const auth = { authorization: `Bearer ${decodeURIComponent(m[2])}` };
      void (async () => {
        const post = (url: string) => fetch(url, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ protocol: { kind: 'square', durationS: 0.5 } }) });
        const id = ((await (await post(`${m[1]}/api/runs`)).json()) as { run: { id: number } }).run.id;
        // The emulated board runs at most at real time and slower on a loaded machine: wait for the run's end.
        for (let i = 0; i < 700 && !['completed', 'failed'].includes(run!.status); i++) {
          await new Promise((r) => setTimeout(r, 200));
          run = ((await (await fetch(`${m[1]}/api/runs/${id}`, { headers: auth })).json()) as { run: typeof run }).run;
        }
        child.kill('SIGTERM');
      })();
    });
    expect(result.code).toBe(0);
    // The firmware is built by npm test's setup, so the virtual Uno is there and is the default source.
    expect(run?.source).toBe('daq');
    expect(run?.status).toBe('completed');
    expect(run?.channels.map((c) => [c.name, c.sampleRate, c.sampleCount])).toEqual([
      ['stim', 5000, 2500],
      ['a0', 5000, 2500],
      ['a1', 5000, 2500],
    ]);
  }, 180_000);

  it('serve prints its URL, serves the API, and on SIGTERM stops running runs cleanly', async () => {
    const serveDb = path.join(dir, 'serve.db');
    let runId = 0;
    let started = false;
    const result = await cli(['serve', '--port', '0', '--db', serveDb], (text, child) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+) /.exec(text);
      if (!m || started) return;
      started = true;
      const auth = { authorization: `Bearer ${decodeURIComponent(m[2])}` };
      void (async () => {
        expect((await fetch(`${m[1]}/api/health`)).status).toBe(401);
        const health = (await (await fetch(`${m[1]}/api/health`, { headers: auth })).json()) as { ok: boolean };
        expect(health.ok).toBe(true);
        const res = await fetch(`${m[1]}/api/runs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ protocol: { kind: 'square', durationS: 600 }, sampleRate: 10_000 }),
        });
        runId = ((await res.json()) as { run: { id: number } }).run.id;
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGTERM');
      })();
    });
    expect(result.code).toBe(0);
    expect(runId).toBeGreaterThan(0);
    expect(existsSync(`${serveDb}.lock`)).toBe(false);
    const store = RunStore.open(serveDb, { readonly: true });
    try {
      const run = store.getRun(runId)!;
      expect(run.status).toBe('aborted');
      expect(run.reason).toBe('server shutdown');
      expect(run.channels[1].sampleCount).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('serve on a busy port says so and how to choose another, exits non-zero and leaves no lock', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const serveDb = path.join(dir, 'busy.db');
      const r = await cli(['serve', '--port', String(port), '--db', serveDb]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim()).toBe(`spikeloop: port ${port} is in use on 127.0.0.1; choose another with --port (--port 0 picks a free one)`);
      expect(r.stdout).not.toMatch(/listening/);
      expect(existsSync(`${serveDb}.lock`)).toBe(false);
    } finally {
      busy.close();
    }
  });
});
