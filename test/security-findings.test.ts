/**
 * Issue 14's findings, one `it` each, reproduced against a real `spikeloop serve` (and the `spikeloop`
 * CLI) spawned from a checkout and driven over HTTP, WebSocket and the command line only: what every
 * commit since before the issue offers, so the same file runs against any of them. In CI it runs against
 * this checkout and every test passes. `node scripts/findings-on.mjs <commit>` runs it against another
 * commit's checkout (SPIKELOOP_FINDINGS_ROOT); on the commit before the issue's work each test fails,
 * showing the finding as the probe found it. docs/security.md records both results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitForOutput } from './cluster-helpers.ts';
import { damageSampleTable, upgrade } from './helpers-live.ts';
import { fill, mountTmpfs, type Tmpfs } from './tmpfs.ts';

/** The checkout whose `bin/spikeloop.js` is tested: this one, or SPIKELOOP_FINDINGS_ROOT. */
const ROOT = path.resolve(process.env.SPIKELOOP_FINDINGS_ROOT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const TOKEN = 'findings-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** A request the server has not answered in time (it is busy, or frozen). */
const NO_ANSWER = 0;

interface Served {
  proc: ChildProcess;
  base: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
}

/** `spikeloop serve` on a free port with the token in its environment (a commit without tokens ignores it). */
async function serve(db: string, args: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/spikeloop.js'), 'serve', '--port', '0', '--db', db, ...args], {
    cwd: ROOT,
    env: { ...process.env, SPIKELOOP_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const [, port] = await waitForOutput(proc, /listening on http:\/\/[^:/]+:(\d+)/);
  return { proc, base: `http://127.0.0.1:${port}`, output: () => out };
}

/** One request: its status (NO_ANSWER when none came within `timeoutMs`) and body text. */
async function call(base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = AUTH, timeoutMs = 20_000): Promise<{ status: number; text: string }> {
  try {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: r.status, text: await r.text() };
  } catch {
    return { status: NO_ANSWER, text: `no answer within ${timeoutMs} ms` };
  }
}

interface RunView {
  id: number;
  status: string;
  reason: string | null;
  channels: { sampleCount: number }[];
}
const getRun = async (base: string, id: number): Promise<RunView> => (JSON.parse((await call(base, 'GET', `/api/runs/${id}`)).text) as { run: RunView }).run;

/** Waits until run `id` is no longer running; its last state. */
async function waitEnd(base: string, id: number, timeoutMs = 30_000): Promise<RunView> {
  const until = Date.now() + timeoutMs;
  let run = await getRun(base, id);
  while (['running', 'paused'].includes(run.status) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    run = await getRun(base, id);
  }
  return run;
}

/** POST /api/runs; when a run was created (where a refusal was expected), how it went, for the failure message. */
async function startRun(base: string, body: unknown): Promise<{ status: number; text: string; id?: number; outcome: string }> {
  const r = await call(base, 'POST', '/api/runs', body);
  if (r.status !== 201) return { ...r, outcome: `${r.status} ${r.text.slice(0, 300)}` };
  const id = (JSON.parse(r.text) as { run: { id: number } }).run.id;
  const end = await waitEnd(base, id);
  return { ...r, id, outcome: `201: run ${id} was created and ended ${end.status}${end.reason ? ` (${end.reason.slice(0, 200)})` : ''}` };
}

let dir: string;
let srv: Served;
let spare: Served | undefined;

/**
 * A second server for the findings that froze or loaded the server for minutes: `fn` gets it, and when
 * `fn` throws (the finding is there) it is killed and the next one starts afresh, so every test still
 * meets a responsive server.
 */
async function withSpareServer(fn: (s: Served) => Promise<void>): Promise<void> {
  spare ??= await serve(path.join(dir, `spare-${Date.now()}.db`));
  try {
    await fn(spare);
  } catch (err) {
    await stopProcess(spare.proc, 'SIGKILL');
    spare = undefined;
    throw err;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-findings-'));
  srv = await serve(path.join(dir, 'runs.db'));
});
afterAll(async () => {
  for (const s of [srv, spare]) if (s) await stopProcess(s.proc, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A run that keeps running (10 minutes, 1 kS/s, the default source) to aim at; its id. */
async function longRun(): Promise<number> {
  const r = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'dc', durationS: 600 }, sampleRate: 1000 });
  expect(r.status, r.text).toBe(201);
  return (JSON.parse(r.text) as { run: { id: number } }).run.id;
}

describe('authentication, Host and Origin', () => {
  it('no authentication: without the token every request is refused (401), so a stranger cannot start, stop or delete runs', async () => {
    const id = await longRun();
    const statuses: Record<string, number> = {};
    for (const [method, url, body] of [
      ['GET', '/api/runs'],
      ['POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.1 }, sampleRate: 1000 }],
      ['POST', `/api/runs/${id}/stop`],
      ['DELETE', `/api/runs/${id}`],
    ] as const) {
      statuses[`${method} ${url}`] = (await call(srv.base, method, url, body, {})).status;
    }
    expect(statuses).toEqual(Object.fromEntries(Object.keys(statuses).map((k) => [k, 401])));
  });

  it('serve --host 0.0.0.0 names the address it listens on, with a warning (it printed the 127.0.0.1 URL)', async () => {
    const open = await serve(path.join(dir, 'open.db'), ['--host', '0.0.0.0']);
    await stopProcess(open.proc, 'SIGKILL');
    expect(open.output()).toMatch(/WARNING: listening on 0\.0\.0\.0/);
  });

  it('cross-origin POSTs with no body (pause, resume, stop) from Origin: http://evil.example are refused (403)', async () => {
    const id = await longRun();
    const statuses: Record<string, number> = {};
    for (const action of ['pause', 'resume', 'stop']) {
      statuses[action] = (await call(srv.base, 'POST', `/api/runs/${id}/${action}`, undefined, { ...AUTH, origin: 'http://evil.example' })).status;
    }
    expect({ statuses, status: (await getRun(srv.base, id)).status }).toEqual({ statuses: { pause: 403, resume: 403, stop: 403 }, status: 'running' });
  });

  it('the WebSocket upgrade from a foreign Origin or Host is refused (it was accepted and streamed the run)', async () => {
    const id = await longRun();
    const url = `${srv.base.replace('http', 'ws')}/api/runs/${id}/live`;
    const outcomes = {
      origin: await upgrade(url, { ...AUTH, origin: 'http://evil.example' }),
      host: await upgrade(url, { ...AUTH, host: 'evil.example' }),
    };
    expect(outcomes).toEqual({ origin: 403, host: 403 });
  });

  it('Host: evil.example is refused (403), so DNS rebinding cannot reach the API from a web page', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${srv.base}/api/runs`, { headers: { ...AUTH, host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('limits, files and hosts', () => {
  it('run options cannot loosen the bench limits: a 15 V dc run with maxVoltage 1000, maxCurrent 10, maxPower 1000, compliance 1 on the virtual SMU is refused', async () => {
    const r = await startRun(srv.base, {
      protocol: { kind: 'dc', quantity: 'voltage', level: 15, durationS: 0.5 },
      source: 'smu',
      sampleRate: 100,
      options: { maxVoltage: 1000, maxCurrent: 10, maxPower: 1000, compliance: 1 },
    });
    expect(r.status, r.outcome).toBe(400);
  });

  it('an smu run its limits refuse answers 400 before the run exists (it answered 201, then failed)', async () => {
    const r = await startRun(srv.base, { protocol: { kind: 'dc', quantity: 'voltage', level: 15, durationS: 0.5 }, source: 'smu', sampleRate: 100 });
    expect(r.status, r.outcome).toBe(400);
  });

  it('options.circuit names no file: a path is refused (400) and no byte of the file is echoed (it read the file and echoed its first bytes)', async () => {
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'SECRET-CONTENT of a file the server can read');
    const answers: Record<string, { status: number; echoes: boolean }> = {};
    for (const circuit of [secret, '/etc/passwd']) {
      const r = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.1 }, source: 'daq', sampleRate: 1000, options: { circuit } });
      answers[circuit] = { status: r.status, echoes: /SECRET|root:/.test(r.text) };
    }
    expect(answers).toEqual(Object.fromEntries(Object.keys(answers).map((k) => [k, { status: 400, echoes: false }])));
  });

  it('a FIFO as options.circuit does not freeze the server (it blocked on reading it)', async () => {
    await withSpareServer(async (s) => {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      try {
        const r = await call(s.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.1 }, source: 'daq', sampleRate: 1000, options: { circuit: fifo } }, AUTH, 5000);
        const health = await call(s.base, 'GET', '/api/health', undefined, AUTH, 3000);
        expect({ run: r.status, health: health.status }).toEqual({ run: 400, health: 200 });
      } finally {
        // a server blocked reading the FIFO gets its end of file (a refused path was never opened: ENXIO)
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          /* no reader */
        }
        rmSync(fifo);
      }
    });
  });

  it('options.address makes the server connect to no host (request forgery), and a serial path from the network is refused', async () => {
    const received: string[] = [];
    const listener = net.createServer((sock) => sock.on('data', (d) => received.push(d.toString())));
    await new Promise<void>((res) => listener.listen(0, '127.0.0.1', res));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const smu = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'dc', quantity: 'voltage', level: 0.1, durationS: 0.5 }, source: 'smu', sampleRate: 100, options: { address: `127.0.0.1:${port}` } });
      const daq = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.1 }, source: 'daq', sampleRate: 1000, options: { port: path.join(dir, 'runs.db') } });
      // an accepted run connects as it starts
      await new Promise((r) => setTimeout(r, 2000));
      expect({ smu: smu.status, sentToHost: received.join(''), daqPort: daq.status }).toEqual({ smu: 400, sentToHost: '', daqPort: 400 });
    } finally {
      listener.close();
    }
  });
});

describe('bounded work', () => {
  const el = [{ node: 0, stimulus: true }, { node: -1, value: 0 }];
  const twin = (circuit: unknown) => ({ circuit, protocol: { kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.01 }, sampleRate: 1000 });
  const spikes = (k: number) => Array.from({ length: 15 }, (_, i) => i * 0.01 + k * 1e-5);
  const cases: [string, string, unknown][] = [
    ['a twin network of n = 10⁶', '/api/twin/runs', twin({ kind: 'erdos-renyi', n: 1_000_000, p: 1e-6, junction: { model: 'threshold' }, electrodes: el })],
    ['a 1000 × 1000 lattice', '/api/twin/runs', twin({ kind: 'lattice', rows: 1000, cols: 1000, junction: { model: 'threshold' }, electrodes: el })],
    ['a distance over 2,000 trains', '/api/analysis/distance', { trains: Array.from({ length: 2000 }, (_, k) => spikes(k)), metric: 'victor-purpura', q: 10 }],
    ['a 100,000-replicate bootstrap', '/api/analysis/powerlaw', { values: Array.from({ length: 2000 }, (_, i) => 1 / Math.pow((i + 0.5) / 2000, 1 / 1.5)), bootstrap: 100_000 }],
  ];
  for (const [what, url, body] of cases) {
    it(`${what} is refused at once (400) and the server keeps answering (it ran for seconds to minutes)`, async () => {
      await withSpareServer(async (s) => {
        const r = await call(s.base, 'POST', url, body, AUTH, 10_000);
        const health = await call(s.base, 'GET', '/api/health', undefined, AUTH, 3000);
        expect({ status: r.status, health: health.status }, r.text.slice(0, 300)).toEqual({ status: 400, health: 200 });
      });
    });
  }
});

describe('disk', () => {
  it('a 1-day run at 2 MS/s is refused (507) when the free space cannot hold it (it was accepted)', async () => {
    const r = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 86_400 }, sampleRate: 2_000_000 });
    if (r.status === 201) await call(srv.base, 'POST', `/api/runs/${(JSON.parse(r.text) as { run: { id: number } }).run.id}/stop`);
    expect(r.status, r.text.slice(0, 300)).toBe(507);
  });

  // mounted when the test runs (a filtered-out test mounts nothing; vitest runs no hooks of a skipped suite)
  let fs: Tmpfs | undefined;
  let served: Served | undefined;
  // a timed-out test never reaches its finally: the server is stopped here, before its files' tmpfs goes
  afterAll(async () => {
    try {
      if (served) await stopProcess(served.proc, 'SIGKILL');
    } finally {
      fs?.unmount();
    }
  });
  it('on a full disk the run ends failed "disk full", new runs are refused, SIGTERM exits cleanly (it stayed running, new runs recorded nothing, SIGTERM crashed on SQLITE_FULL)', async (ctx) => {
    fs = mountTmpfs(32, 'spikeloop-findings-full-');
    if (!fs.mounted) return ctx.skip(fs.why);
    const s = (served = await serve(path.join(fs.dir, 'runs.db')));
    try {
      const r = await call(s.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 50 }, sampleRate: 100_000 });
      expect(r.status, r.text).toBe(201);
      const id = (JSON.parse(r.text) as { run: { id: number } }).run.id;
      await expect.poll(async () => (await getRun(s.base, id)).channels[0]?.sampleCount ?? 0, { timeout: 20_000 }).toBeGreaterThan(100_000);
      fill(path.join(fs.dir, 'filler'));
      // SQLite reports the disk full when a commit must grow a file (seconds later when the WAL has room left)
      const ended = await waitEnd(s.base, id, 20_000);
      const next = await call(s.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.1 }, sampleRate: 1000 });
      const exitCode = new Promise<number | null>((res) => s.proc.once('exit', (code) => res(code)));
      s.proc.kill('SIGTERM');
      const code = await exitCode;
      expect({
        run: `${ended.status} ${ended.reason ?? ''}`.slice(0, 16),
        newRun: next.status,
        exitCode: code,
        crashed: /SQLITE_FULL|Uncaught|node:internal/.test(s.output()),
      }, s.output().slice(-800)).toEqual({ run: 'failed disk full', newRun: 507, exitCode: 0, crashed: false });
    } finally {
      await stopProcess(s.proc, 'SIGKILL');
    }
  });
});

describe('the small ones', () => {
  it('GET /api/runs?offset=1e20 is a 400 (it was a 500)', async () => {
    expect((await call(srv.base, 'GET', '/api/runs?offset=1e20')).status).toBe(400);
  });

  it('?recompute=true is read as a boolean (it was always a 400)', async () => {
    const r = await call(srv.base, 'POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.05 }, sampleRate: 2000 });
    const id = (JSON.parse(r.text) as { run: { id: number } }).run.id;
    expect((await waitEnd(srv.base, id)).status).toBe('completed');
    const again = await call(srv.base, 'POST', `/api/runs/${id}/analyses/spikes?recompute=true`, {});
    expect(again.status, again.text.slice(0, 300)).toBe(200);
  });

  it('a corrupt page is reported by db info (exit 1) and by serve at start (both went on unaware)', async () => {
    const db = path.join(dir, 'damaged.db');
    const proto = path.join(dir, 'square.json');
    writeFileSync(proto, JSON.stringify({ kind: 'square', durationS: 0.5 }));
    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/spikeloop.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(cli(['run', proto, '--db', db, '-o', 'paced=false']).status).toBe(0);
    damageSampleTable(db);
    const info = cli(['db', 'info', '--db', db]);
    const started = await serve(db);
    await stopProcess(started.proc, 'SIGKILL');
    expect({ dbInfoExit: info.status, serveReports: /integrity check/.test(started.output()) }).toEqual({ dbInfoExit: 1, serveReports: true });
  });
});
