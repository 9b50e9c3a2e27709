/**
 * The security suite (issue 14): each finding of the attacker's probe, reproduced against a real listening
 * server on a real temp store. Token, Host and Origin on HTTP and on the WebSocket upgrade; the `serve`
 * command's token, --no-token and non-loopback warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { damageSampleTable, startServer, twinRun, upgrade, type TestServer } from './helpers-live.ts';
import type { WorkerPool } from '../server/workers/pool.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let srv: TestServer;
let runId: number;
beforeAll(async () => {
  srv = await startServer();
  const r = await srv.fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol: { kind: 'dc', durationS: 600 }, sampleRate: 1000 }) });
  runId = ((await r.json()) as { run: { id: number } }).run.id;
});
afterAll(async () => {
  await srv?.close();
});

describe('token', () => {
  it('every route answers 401 without the token, naming how to send it', async () => {
    for (const [method, url] of [
      ['GET', '/api/health'],
      ['GET', '/api/runs'],
      ['POST', `/api/runs/${runId}/pause`],
      ['POST', `/api/runs/${runId}/stop`],
      ['DELETE', `/api/runs/${runId}`],
      ['GET', '/docs/json'],
      ['GET', '/'],
    ] as const) {
      const r = await fetch(`${srv.base}${url}`, { method });
      expect(r.status, `${method} ${url}`).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAUTHORIZED');
      expect(body.error.message).toMatch(/token/);
    }
    const wrong = await fetch(`${srv.base}/api/runs`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect((await srv.fetch(`/api/runs/${runId}`)).status).toBe(200);
    expect(srv.store.getRun(runId)?.status).toBe('running');
  });

  it('accepts Bearer, ?token= (answering with an HttpOnly SameSite=Strict cookie), and that cookie', async () => {
    expect((await fetch(`${srv.base}/api/health`, { headers: srv.auth })).status).toBe(200);
    const viaQuery = await fetch(`${srv.base}/api/health?token=${encodeURIComponent(srv.token)}`);
    expect(viaQuery.status).toBe(200);
    const cookie = viaQuery.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0];
    expect((await fetch(`${srv.base}/api/runs`, { headers: { cookie: pair } })).status).toBe(200);
    expect((await fetch(`${srv.base}/api/runs`, { headers: { cookie: pair.replace(/=.*/, '=forged') } })).status).toBe(401);
  });

  it('?token= works on routes with query parameters of their own (their closed query schemas never see it)', async () => {
    const t = encodeURIComponent(srv.token);
    const list = await fetch(`${srv.base}/api/runs?limit=1&token=${t}`);
    expect(list.status, await list.clone().text()).toBe(200);
    expect(((await list.json()) as { runs: unknown[] }).runs).toHaveLength(1);
    const csv = await fetch(`${srv.base}/api/runs/${runId}/export?format=csv&token=${t}`);
    expect(csv.status, await csv.clone().text()).toBe(200);
    // with Bearer too, a ?token= left in a copied URL is no unknown field
    expect((await fetch(`${srv.base}/api/runs?token=${t}&limit=1`, { headers: srv.auth })).status).toBe(200);
    // a wrong one is still refused, and the route's own parameters are still checked
    expect((await fetch(`${srv.base}/api/runs?limit=1&token=wrong`)).status).toBe(401);
    expect((await fetch(`${srv.base}/api/runs?limit=1&bogus=1&token=${t}`)).status).toBe(400);
  });

  it('the WebSocket upgrade needs the token too', async () => {
    const url = `${srv.wsBase}/api/runs/${runId}/live`;
    expect(await upgrade(url)).toBe(401);
    expect(await upgrade(url, srv.auth)).toBe('open');
    expect(await upgrade(srv.wsUrl(`/api/runs/${runId}/live`))).toBe('open');
  });
});

describe('Host and Origin', () => {
  it('a foreign Host is refused (DNS rebinding), loopback names and the bound address are served', async () => {
    const get = (host: string) => srv.inject({ method: 'GET', url: '/api/health', headers: { host } });
    for (const host of ['evil.example', 'evil.example:80', '10.0.0.1']) {
      const r = await get(host);
      expect(r.statusCode, host).toBe(403);
      expect(r.json().error.code).toBe('FORBIDDEN_HOST');
    }
    for (const host of ['localhost', 'localhost:8080', '127.0.0.1:1', '[::1]:8080']) expect((await get(host)).statusCode, host).toBe(200);
    // over a real socket: the address it arrived on
    expect((await srv.fetch('/api/health')).status).toBe(200);
  });

  it('state-changing requests from a foreign Origin are refused, even with the token and no body', async () => {
    for (const action of ['pause', 'resume', 'stop']) {
      const r = await srv.fetch(`/api/runs/${runId}/${action}`, { method: 'POST', headers: { origin: 'http://evil.example' } });
      expect(r.status, action).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN_ORIGIN');
    }
    expect((await srv.fetch(`/api/runs/${runId}`, { method: 'DELETE', headers: { origin: 'null' } })).status).toBe(403);
    expect(srv.store.getRun(runId)?.status).toBe('running');
    // the dashboard's own origin is fine
    expect((await srv.fetch(`/api/runs/${runId}/progress`, { headers: { origin: srv.base } })).status).toBe(200);
  });

  it('the WebSocket upgrade from a foreign Origin or Host is refused', async () => {
    const url = srv.wsUrl(`/api/runs/${runId}/live`);
    expect(await upgrade(url, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(url, { host: 'evil.example' })).toBe(403);
    expect(await upgrade(url, { origin: srv.base })).toBe('open');
  });

  it('an Origin on another port or scheme of this machine is foreign too (cookies and SameSite do not separate ports)', async () => {
    const port = new URL(srv.base).port;
    const other = port === '9999' ? '9998' : '9999';
    for (const origin of [`http://127.0.0.1:${other}`, `http://localhost:${other}`, `https://127.0.0.1:${port}`, 'http://127.0.0.1']) {
      const cookie = `spikeloop_token_${port}=${srv.token}`;
      const r = await fetch(`${srv.base}/api/runs/${runId}/stop`, { method: 'POST', headers: { cookie, origin } });
      expect(r.status, origin).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN_ORIGIN');
      expect(await upgrade(srv.wsUrl(`/api/runs/${runId}/live`), { origin }), origin).toBe(403);
    }
    expect(srv.store.getRun(runId)?.status).toBe('running');
    expect((await srv.fetch(`/api/runs/${runId}/progress`, { headers: { origin: `http://localhost:${port}` } })).status).toBe(200);
  });

  it('--allow-host entries are allowed origins: a bare name on this port or its default port, an entry with scheme or port exactly', async () => {
    const s2 = await startServer({ security: { token: null, allowedHosts: ['lab.example', 'https://proxy.example', 'other.example:8443'] } });
    try {
      const port = new URL(s2.base).port;
      const status = async (origin: string) => (await s2.fetch('/api/health', { headers: { origin } })).status;
      for (const origin of ['http://lab.example', 'https://lab.example', `http://lab.example:${port}`, 'https://proxy.example', 'http://other.example:8443']) expect(await status(origin), origin).toBe(200);
      for (const origin of ['http://lab.example:9999', 'http://proxy.example', 'https://proxy.example:8443', 'http://other.example', 'http://evil.example']) expect(await status(origin), origin).toBe(403);
    } finally {
      await s2.close();
    }
  });
});

/** Runs `spikeloop serve` until it prints its start line (or exits); its output and exit code. */
function serve(args: string[], env: Record<string, string> = {}, db = path.join(srv.dir, `serve-${Math.random()}.db`)): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/spikeloop.js', 'serve', '--port', '0', '--db', db, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/listening on/.test(out)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => resolve({ out, err, code }));
  });
}

describe('serve', () => {
  it('prints the URL with a generated token, or the one given by --token or SPIKELOOP_TOKEN', async () => {
    const gen = await serve([]);
    expect(gen.out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,} /);
    // the API docs' URL carries the token too: without it a fresh browser gets 401 on /docs
    const docs = /API docs (http:\S+\/docs\?token=[\w-]{20,});/.exec(gen.out);
    expect(docs, gen.out).not.toBeNull();
    expect((await serve(['--token', 'given-token-1'])).out).toMatch(/\/\?token=given-token-1 /);
    expect((await serve([], { SPIKELOOP_TOKEN: 'env-token-22' })).out).toMatch(/\/\?token=env-token-22 /);
  }, 60_000);

  it('--no-token only on loopback, with a warning; a non-loopback bind warns loudly with the real address', async () => {
    const none = await serve(['--no-token']);
    expect(none.out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(none.err).toMatch(/WARNING: --no-token/);
    // an IPv6 loopback as written in a URL, brackets and all
    const v6 = await serve(['--no-token', '--host', '[::1]']);
    expect(v6.out).toMatch(/listening on http:\/\/localhost:\d+\/ /);
    const refused = await serve(['--no-token', '--host', '0.0.0.0']);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/--no-token is allowed only on a loopback address/);
    const open = await serve(['--host', '0.0.0.0']);
    expect(open.err).toMatch(/WARNING: listening on 0\.0\.0\.0, reachable from other machines/);
    expect(open.out).toMatch(/\?token=/);
    // every address listed is one a browser can open: no link-local fe80:: (it needs an interface's zone)
    const v6any = await serve(['--host', '::']);
    expect(v6any.err).toMatch(/it answers at http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(v6any.err).not.toMatch(/\[fe80:/i);
  }, 60_000);
});

const post = async (body: unknown) => {
  const r = await srv.inject({ method: 'POST', url: '/api/runs', payload: body as object });
  return { status: r.statusCode, body: r.json() as { run?: { id: number }; error?: { code: string; message: string; field?: string } } };
};

describe('limits only tighten', () => {
  it('run options cannot raise the bench limits (the virtual SMU run that sourced 15 V / 0.15 A is refused naming the limit)', async () => {
    const before = srv.store.listRuns().length;
    const loosened = await post({
      protocol: { kind: 'dc', quantity: 'voltage', level: 15, durationS: 0.5 },
      source: 'smu',
      sampleRate: 100,
      options: { maxVoltage: 1000, maxCurrent: 10, maxPower: 1000, compliance: 1 },
    });
    expect(loosened.status).toBe(400);
    expect(loosened.body.error?.code).toBe('LIMIT_EXCEEDED');
    expect(loosened.body.error?.message).toMatch(/bench limit maxVoltage = 20 V/);
    const compliance = await post({ protocol: { kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.5 }, source: 'smu', sampleRate: 100, options: { compliance: 1 } });
    expect(compliance.body.error?.code).toBe('LIMIT_EXCEEDED');
    expect(compliance.body.error?.message).toMatch(/compliance\.current/);
    expect(srv.store.listRuns().length).toBe(before);
  });

  it('an smu run that its program or limits refuse answers 400 before the run exists, leased or not', async () => {
    const before = srv.store.listRuns().length;
    // 15 V over the SMU default of 2 V: was 201 and then a failed run
    const over = await post({ protocol: { kind: 'dc', quantity: 'voltage', level: 15, durationS: 0.5 }, source: 'smu', sampleRate: 100 });
    expect(over.status).toBe(400);
    expect(over.body.error?.code).toBe('LIMIT_EXCEEDED');
    const rate = await post({ protocol: { kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.5 }, source: 'smu', sampleRate: 5000 });
    expect(rate.status).toBe(400);
    expect(rate.body.error?.code).toBe('BAD_SAMPLE_RATE');
    expect(srv.store.listRuns().length).toBe(before);
  });
});

describe('nothing from the network names a file or a host', () => {
  it('a circuit is a built-in name or an inline document: file paths refused with a 400 that echoes no file content', async () => {
    const fifo = path.join(srv.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const circuit of ['/etc/shadow', '/etc/passwd', '../../../../etc/hostname', fifo, '/dev/zero']) {
      for (const source of ['daq', 'twin']) {
        const r = await post({ protocol: { kind: 'square', durationS: 0.1 }, source, sampleRate: 1000, options: { circuit } });
        expect(r.status, `${source} ${circuit}`).toBe(400);
        expect(r.body.error?.code).toBe('BAD_SOURCE_OPTIONS');
        expect(r.body.error?.field).toBe('/options/circuit');
        expect(r.body.error?.message).toMatch(/built-in circuit name .* inline circuit document/);
        expect(r.body.error?.message).not.toMatch(/root:|x:0:0/);
      }
    }
  });

  it('instrument addresses, serial ports and baud rates from the network are refused: instruments by id only', async () => {
    for (const [source, options, field] of [
      ['smu', { address: '127.0.0.1:22' }, '/options/address'],
      ['smu', { address: '/dev/ttyS0' }, '/options/address'],
      ['smu', { baudRate: 9600 }, '/options/baudRate'],
      ['daq', { port: '/etc/passwd' }, '/options/port'],
      ['smu', { instrument: '../../dev/ttyUSB0' }, '/options/instrument'],
      ['daq', { outptu: 'mcp4725' }, '/options/outptu'],
    ] as const) {
      const r = await post({ protocol: { kind: 'dc', durationS: 0.1 }, source, sampleRate: 100, options });
      expect(r.status, JSON.stringify(options)).toBe(400);
      expect(r.body.error?.code).toBe('BAD_SOURCE_OPTIONS');
      expect(r.body.error?.field).toBe(field);
    }
    const byId = await post({ protocol: { kind: 'dc', durationS: 0.1 }, source: 'smu', sampleRate: 100, options: { instrument: 'nosuch' } });
    expect(byId.status).toBe(404);
    expect(byId.body.error?.code).toBe('INSTRUMENT_NOT_FOUND');
  });

  it('a URL path climbing out of the dashboard (.., plain or encoded) is a 400 BAD_PATH; nothing is read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-dist-'));
    mkdirSync(path.join(dir, 'web'));
    writeFileSync(path.join(dir, 'web', 'index.html'), '<!doctype html><title>dashboard</title>');
    writeFileSync(path.join(dir, 'secret.txt'), 'SECRET-CONTENT');
    const s2 = await startServer({ webDist: path.join(dir, 'web') });
    // sent byte for byte (fetch would resolve the dots itself)
    const get = (p: string, headers: Record<string, string> = s2.auth) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${s2.base}${p}`, { path: p, headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.once('error', reject);
        req.end();
      });
    try {
      for (const p of ['/../secret.txt', '/../../etc/passwd', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/web/..%5c..%5csecret.txt', '/api/../../secret.txt']) {
        const r = await get(p);
        expect(r.status, p).toBe(400);
        expect(JSON.parse(r.body).error, p).toMatchObject({ code: 'BAD_PATH', message: expect.stringContaining('outside the dashboard') });
        expect(r.body).not.toContain('SECRET');
      }
      expect((await get('/../secret.txt', {})).status).toBe(401); // the token first: a stranger learns nothing
      expect(await get('/index.html')).toMatchObject({ status: 200, body: expect.stringContaining('dashboard') });
      expect((await get('/a..b/x..')).status).toBe(200); // dots inside a name are no segment (the dashboard's index)
    } finally {
      await s2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bounded work', () => {
  const json = (url: string, body: unknown, signal?: AbortSignal) =>
    srv.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  it('caps refuse what explodes: too many trains or spike pairs, run ids, replicates, networks', async () => {
    const spikes = (n: number) => Array.from({ length: n }, (_, i) => i * 1e-3);
    const tooMany = await json('/api/analysis/distance', { trains: Array.from({ length: 501 }, () => [1]), metric: 'isi' });
    expect(tooMany.status).toBe(400);
    const tooMuch = await json('/api/analysis/distance', { trains: Array.from({ length: 200 }, () => spikes(300)), metric: 'victor-purpura', q: 10 });
    expect(tooMuch.status).toBe(400);
    expect(((await tooMuch.json()) as { error: { message: string } }).error.message).toMatch(/spike-pair operations/);
    expect((await json('/api/analysis/regime', { runIds: Array.from({ length: 17 }, () => runId) })).status).toBe(400);
    expect((await json('/api/experiments/stdp', { runIds: Array.from({ length: 257 }, () => runId) })).status).toBe(400);
    expect((await json('/api/analysis/powerlaw', { values: [1, 2, 3], bootstrap: 100_000 })).status).toBe(400);
    const el = [{ node: 0, stimulus: true }, { node: -1, value: 0 }];
    for (const circuit of [
      { kind: 'erdos-renyi', n: 1_000_000, p: 1e-6, junction: { model: 'threshold' }, electrodes: el },
      { kind: 'lattice', rows: 1000, cols: 1000, junction: { model: 'threshold' }, electrodes: el },
    ]) {
      const r = await json('/api/twin/runs', { circuit, protocol: { kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.01 }, sampleRate: 1000 });
      expect(r.status, JSON.stringify(circuit)).toBe(400);
    }
    // within the node and junction caps, what a simulation costs: a densely connected network (its factor
    // fills in: 9 s to order, 10 s for its first step, before this cap) and too many steps of a large one
    const costly = async (circuit: unknown, durationS: number) => {
      const r = await json('/api/twin/runs', { circuit, protocol: { kind: 'dc', quantity: 'voltage', level: 1, durationS }, sampleRate: 1000 });
      expect(r.status).toBe(400);
      return ((await r.json()) as { error: { code: string; message: string } }).error;
    };
    const dense = await costly({ kind: 'erdos-renyi', n: 1000, p: 0.02, junction: { model: 'threshold' }, electrodes: el }, 0.002);
    expect(dense.code).toBe('TWIN_TOO_COSTLY');
    expect(dense.message).toMatch(/MAX_ORDERING_WORK/);
    const long = await costly({ kind: 'lattice', rows: 70, cols: 70, junction: { model: 'threshold' }, electrodes: el }, 20);
    expect(long).toMatchObject({ code: 'TWIN_TOO_COSTLY', message: expect.stringMatching(/× 20000 steps = .*MAX_NETWORK_WORK = 1e\+9/) });
  });

  it('heavy work is cancelled when its client disconnects or asks: analyses, distances, bootstraps, pairings, imports, twin runs, sweeps', { timeout: 600_000 }, async () => {
    const pool = srv.app.spikeloop.pool as WorkerPool;
    // every pool task's outcome (the pool itself, watched): a cancelled task rejects with CANCELLED
    const outcomes: string[] = [];
    const run = pool.run.bind(pool);
    pool.run = (async (task, input, opts) => {
      try {
        const out = await run(task, input, opts);
        outcomes.push(`${task}:done`);
        return out;
      } catch (err) {
        outcomes.push(`${task}:${(err as { code?: string }).code}`);
        throw err;
      }
    }) as typeof pool.run;
    // generous: a thread at nice 10 on a loaded machine finishes what cannot be interrupted (a network's ordering) slowly
    const idle = () => expect.poll(() => pool.pending, { timeout: 90_000 }).toBe(0);
    /** Sends `body` to `url`, leaves `afterMs` after its work has reached the pool; the outcomes of the pool tasks it caused. */
    const leave = async (url: string, body: unknown, afterMs: number, init: RequestInit = {}): Promise<string[]> => {
      const from = outcomes.length;
      const ac = new AbortController();
      const req = (init.body !== undefined ? srv.fetch(url, { ...init, signal: ac.signal }) : json(url, body, ac.signal)).catch(() => 'left');
      await expect.poll(() => pool.pending, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, afterMs));
      ac.abort();
      expect(await req).toBe('left');
      await expect.poll(() => srv.app.spikeloop.heavy.running, { timeout: 20_000 }).toBe(0);
      await idle();
      return outcomes.slice(from);
    };
    try {
      const el = [{ node: 0, stimulus: true }, { node: -1, value: 0 }];
      // a network at its caps: minutes per run (test/health-under-load.test.ts)
      const dense = { kind: 'erdos-renyi', n: 2000, p: 0.002, junction: { model: 'threshold' }, electrodes: el };
      const long = await twinRun(srv, { circuit: 'lif', protocol: { kind: 'sine', quantity: 'current', amplitude: 40e-6, offset: 20e-6, frequencyHz: 50, durationS: 3 }, sampleRate: 100_000 });
      const slowStim = await twinRun(srv, { circuit: 'er20', protocol: { kind: 'sine', quantity: 'voltage', amplitude: 2, frequencyHz: 10, durationS: 8 }, sampleRate: 1000 });

      // analyses of data sent: a distance at its pair-work cap, a bootstrap at its replicate cap
      const trains = Array.from({ length: 100 }, (_, k) => Array.from({ length: 100 }, (_, i) => i * 0.01 + k * 1e-5));
      // leaves soon after the task starts: on an idle machine the whole distance takes only a few hundred ms
      expect(await leave('/api/analysis/distance', { trains, metric: 'victor-purpura', q: 10 }, 20)).toEqual(['analysis:CANCELLED']);
      const values = Array.from({ length: 2000 }, (_, i) => 1 / Math.pow((i + 0.5) / 2000, 1 / 1.5));
      expect(await leave('/api/analysis/powerlaw', { values, bootstrap: 2500 }, 1000)).toContain('analysis:CANCELLED');
      // analyses of stored runs (the STDP curve, POST /api/experiments/stdp, goes the same way: HeavyWork.run)
      expect(await leave('/api/analysis/regime', { runIds: Array.from({ length: 16 }, () => long) }, 300)).toEqual(['analysis:CANCELLED']);
      // an import: its parsing stopped, nothing stored
      const lines: string[] = ['time_s,v_in,v_out'];
      for (let i = 0; i < 1_000_000; i++) lines.push(`${(i * 1e-5).toFixed(5)},${Math.sin(i / 50).toFixed(6)},${Math.cos(i / 70).toFixed(6)}`);
      const csv = Buffer.from(lines.join('\n'));
      const runsBefore = srv.store.listRuns({ limit: 1000 }).length;
      expect(await leave('/api/import?name=left.csv&unit=V&stimulus=v_in', null, 500, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv })).toEqual(['readRecording:CANCELLED']);
      expect(srv.store.listRuns({ limit: 1000 }).length).toBe(runsBefore);
      // a pairing: its twin run (the network on 8,000 samples) stopped with its client
      await leave(`/api/runs/${slowStim}/pair`, { circuit: dense }, 2000);
      const twinOf = srv.store.listRuns({ limit: 1000 }).find((r) => r.linkedRunId === slowStim)!;
      await srv.app.spikeloop.runs.waitForEnd(twinOf.id);
      expect(srv.store.getRun(twinOf.id)!.status).toBe('aborted');
      expect(srv.store.getRun(twinOf.id)!.reason).toMatch(/client disconnected/);

      // a twin run is stopped by asking: its thread stops
      const r = await json('/api/twin/runs', { circuit: dense, protocol: { kind: 'sine', quantity: 'voltage', amplitude: 2, frequencyHz: 10, durationS: 8 }, sampleRate: 1000 });
      const twinId = ((await r.json()) as { run: { id: number } }).run.id;
      await new Promise((res) => setTimeout(res, 1000));
      expect(pool.pending).toBe(1);
      expect((await json(`/api/runs/${twinId}/stop`, {})).status).toBe(200);
      await idle();
      expect(srv.store.getRun(twinId)!.status).toBe('aborted');
      // a sweep too: its simulations are cancelled
      const from = outcomes.length;
      const sw = await json('/api/sweeps', { mode: 'twin', circuit: dense, sampleRate: 1000, sweep: { kind: 'sweep', base: { kind: 'sine', quantity: 'voltage', frequencyHz: 10, durationS: 8 }, parameters: [{ field: 'amplitude', values: [0.5, 1, 1.5] }] } });
      const sweepId = ((await sw.json()) as { sweep: { id: string } }).sweep.id;
      await new Promise((res) => setTimeout(res, 1000));
      expect((await json(`/api/sweeps/${sweepId}/stop`, {})).status).toBe(200);
      await idle();
      expect(outcomes.slice(from)).toEqual(['circuit:done', 'twin:CANCELLED', 'twin:CANCELLED', 'twin:CANCELLED']);
      expect(srv.app.spikeloop.sweeps.get(sweepId).points.map((p) => p.status)).toEqual(['aborted', 'aborted', 'aborted']);
    } finally {
      pool.run = run;
    }
  });
});

describe('the small ones', () => {
  it('a corrupt page is reported by serve at start and by db info (exit 1), not found later by a failing read', async () => {
    const db = path.join(srv.dir, 'damaged.db');
    const proto = path.join(srv.dir, 'square.json');
    writeFileSync(proto, JSON.stringify({ kind: 'square', durationS: 0.5 }));
    const cli = (args: string[]) => spawnSync(process.execPath, ['bin/spikeloop.js', ...args], { cwd: ROOT, encoding: 'utf8' });
    for (let i = 0; i < 3; i++) expect(cli(['run', proto, '--db', db, '-o', 'paced=false']).status).toBe(0);
    const sound = cli(['db', 'info', '--db', db]);
    expect(sound.status).toBe(0);
    expect(sound.stdout).toMatch(/ok \(PRAGMA quick_check\)/);
    damageSampleTable(db);
    const info = cli(['db', 'info', '--db', db]);
    expect(info.status).toBe(1);
    expect(info.stdout).toMatch(/CORRUPT \(PRAGMA quick_check\)/);
    const started = await serve([], {}, db);
    expect(started.err).toMatch(/fails its integrity check \(PRAGMA quick_check\)/);
  }, 120_000);

  it('?offset=1e20 is a 400 (never a 500); ?recompute=true is read as a boolean', async () => {
    const big = await srv.inject({ method: 'GET', url: '/api/runs?offset=1e20' });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.field).toBe('/query/offset');
    const done = await post({ protocol: { kind: 'square', durationS: 0.05 }, sampleRate: 2000 });
    await srv.app.spikeloop.runs.waitForEnd(done.body.run!.id);
    const again = await srv.inject({ method: 'POST', url: `/api/runs/${done.body.run!.id}/analyses/spikes?recompute=true`, payload: {} });
    expect(again.statusCode, again.body).toBe(200);
  });
});
