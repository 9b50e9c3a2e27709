/**
 * The second audit from outside (issue 14): what an attacker on the network, a careless user and a lab's
 * usual clients (curl, Python requests, a browser) met on a built server, one `it` per finding, each failing
 * on the code before its fix. Real sockets against a listening server; curl and Python as the labs run them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { startServer, type TestServer } from './helpers-live.ts';
import { FIRST_REQUEST_MS } from '../server/api/security.ts';
import { fileURLToPath } from 'node:url';
import { pythonJson } from './python.ts';
import { freeParams } from '../server/twin/calibration.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';

const run = promisify(execFile);

let srv: TestServer;
let dist: string;
beforeAll(async () => {
  // a dashboard folder, so the page's fallback for its own paths is there as in `spikeloop serve`
  dist = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-dist-'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>spikeloop</title>');
  srv = await startServer({ webDist: dist });
});
afterAll(async () => {
  await srv?.close();
  rmSync(dist, { recursive: true, force: true });
});

/** One request over a real socket with exactly these headers (node:http sends Host and Cookie as written). */
function request(base: string, url: string, headers: Record<string, string>): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${url}`, { headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the token', () => {
  it('a cookie whose value is not valid percent-encoding is a wrong token (401), not a 500', async () => {
    const port = new URL(srv.base).port;
    for (const value of ['%E0%A4%A', '%', '%zz']) {
      const r = await request(srv.base, '/api/runs', { cookie: `spikeloop_token_${port}=${value}` });
      expect(r.status, `${value}: ${r.text}`).toBe(401);
      expect(JSON.parse(r.text).error.code).toBe('UNAUTHORIZED');
    }
    // another cookie of the page with a bad escape is not read at all
    expect((await request(srv.base, '/api/health', { ...srv.auth, cookie: 'other=%E0' })).status).toBe(200);
  });
});

describe('connections', () => {
  it('a connection that sends nothing is closed after FIRST_REQUEST_MS (it stayed open: anyone could hold thousands); a quiet live feed is not', async () => {
    const port = Number(new URL(srv.base).port);
    const t0 = Date.now();
    const idle = net.connect(port, '127.0.0.1');
    const closedAfter = new Promise<number>((resolve) => idle.on('close', () => resolve(Date.now() - t0)));
    // a live feed of a paused run: its hello, then nothing for longer than the first-request timer
    const made = await srv.fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol: { kind: 'dc', durationS: 600 }, sampleRate: 1000 }) });
    const runId = ((await made.json()) as { run: { id: number } }).run.id;
    expect((await srv.fetch(`/api/runs/${runId}/pause`, { method: 'POST' })).status).toBe(200);
    const ws = new WebSocket(srv.wsUrl(`/api/runs/${runId}/live`));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(-1), FIRST_REQUEST_MS + 15_000));
    const idleAfter = await Promise.race([closedAfter, timeout]);
    expect(idleAfter, 'the idle connection was not closed').toBeGreaterThanOrEqual(FIRST_REQUEST_MS - 100);
    expect(idleAfter).toBeLessThan(FIRST_REQUEST_MS + 15_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await srv.fetch(`/api/runs/${runId}/stop`, { method: 'POST' });
    await srv.app.spikeloop.runs.waitForEnd(runId);
    idle.destroy();
  }, 60_000);
});

describe('refused requests', () => {
  it('a refused request ends its connection: a body trickled after the 401 (no token) is not read for as long as it comes', async () => {
    const port = Number(new URL(srv.base).port);
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => (answer += d));
    const closed = new Promise<string>((resolve) => s.on('close', () => resolve('closed')));
    await new Promise((resolve) => s.once('connect', resolve));
    s.write(`POST /api/import?name=x.csv HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/csv\r\nContent-Length: 100000000\r\n\r\nabc`);
    // a byte a second: the socket is never idle, so no inactivity timer would close it
    const trickle = setInterval(() => s.writable && s.write('1'), 1000);
    try {
      expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 8000))])).toBe('closed');
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
  }, 30_000);
});

describe('the OpenAPI document', () => {
  it('/openapi.json answers the document (to curl and Python requests); a missing file is a JSON 404, not the dashboard page', async () => {
    const spec = JSON.parse((await run('curl', ['-sf', '-H', `Authorization: Bearer ${srv.token}`, `${srv.base}/openapi.json`])).stdout) as { openapi: string; paths: object };
    expect(spec.openapi).toMatch(/^3\./);
    const docs = (await (await srv.fetch('/docs/json')).json()) as { paths: object };
    expect(Object.keys(spec.paths)).toEqual(Object.keys(docs.paths));
    expect(Object.keys(spec.paths)).not.toContain('/openapi.json');
    const py = await pythonJson<{ status: number; openapi: string }>(
      `import json, sys, requests\nr = requests.get(sys.argv[1] + "/openapi.json", headers={"Authorization": "Bearer " + sys.argv[2]})\nprint(json.dumps({"status": r.status_code, "openapi": r.json()["openapi"]}))`,
      [srv.base, srv.token],
    );
    expect(py).toMatchObject({ status: 200, openapi: spec.openapi });
    for (const file of ['/swagger.json', '/openapi.yaml', '/favicon.ico', '/api.json']) {
      const r = await request(srv.base, file, srv.auth);
      expect(r.status, file).toBe(404);
      expect(r.type, file).toMatch(/json/);
      expect(JSON.parse(r.text).error.message).toMatch(/\/openapi\.json/);
    }
    // the dashboard's own paths still get its page
    expect((await request(srv.base, '/runs/12', srv.auth)).text).toContain('<title>spikeloop</title>');
  });
});

describe('requests a browser makes without Origin', () => {
  it('"Save link as…" on an export link in a page of another port (a navigation whose destination is empty) is served; a no-cors fetch from there is not', async () => {
    const other = { 'sec-fetch-site': 'same-site' };
    // Chromium sends a download the user asks for as a navigation with Fetch's download destination ("")
    const save = await request(srv.base, '/api/runs', { ...srv.auth, ...other, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'empty', 'sec-fetch-user': '?1' });
    expect(save.status, save.text).toBe(200);
    // a page's script or <img>: its answer would reach the page (or its side effect be had), still refused
    for (const [mode, dest] of [
      ['no-cors', 'empty'],
      ['no-cors', 'image'],
      ['navigate', 'iframe'],
    ]) {
      const r = await request(srv.base, '/api/runs', { ...srv.auth, ...other, 'sec-fetch-mode': mode, 'sec-fetch-dest': dest });
      expect(r.status, `${mode} ${dest}`).toBe(403);
    }
  });
});

describe('IPv6', () => {
  it('a link-local address answers as the bound address (its zone id is the client\'s, not part of the Host)', async (ctx) => {
    const linkLocal = Object.entries(os.networkInterfaces()).flatMap(([name, addrs]) =>
      (addrs ?? []).filter((a) => a.family === 'IPv6' && a.address.startsWith('fe80:')).map((a) => ({ name, address: a.address })),
    )[0];
    if (!linkLocal) return ctx.skip('this machine has no IPv6 link-local address');
    const v6 = await startServer({}, false);
    try {
      await v6.app.listen({ host: '::', port: 0 });
      const port = (v6.app.server.address() as { port: number }).port;
      // curl sends `Host: [fe80::…]:port` (no zone) and the socket's local address is `fe80::…%eth0`
      const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${v6.token}`, `http://[${linkLocal.address}%${linkLocal.name}]:${port}/api/health`]);
      expect(stdout).toBe('200');
      // a Host that carries the zone (RFC 6874 `%25`, or a bare `%`) names the same address
      const base = `http://[${linkLocal.address}%${linkLocal.name}]:${port}`;
      for (const host of [`[${linkLocal.address}%25${linkLocal.name}]:${port}`, `[${linkLocal.address}%${linkLocal.name}]:${port}`]) {
        const r = await new Promise<number>((resolve, reject) => {
          const req = http.request({ host: `${linkLocal.address}%${linkLocal.name}`, family: 6, port, path: '/api/health', headers: { ...v6.auth, host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
        expect(r, `${base} Host ${host}`).toBe(200);
      }
      // another machine's address with a zone is still not this server
      expect((await request(`http://127.0.0.1:${port}`, '/api/health', { ...v6.auth, host: `[fe80::dead:beef%25eth0]:${port}` })).status).toBe(403);
    } finally {
      await v6.close();
    }
  });
});

describe("names from the network are looked up as a table's own keys, never Object's", () => {
  it('a device model "constructor" or "__proto__" is an unknown model (400), not a 409 "model.g is not a function"', async () => {
    const circuit = (model: string) => ({
      kind: 'netlist',
      name: 'probe',
      elements: [
        { type: 'V', name: 'Vs', node: 'p', stimulus: true },
        { type: 'device', name: 'M', a: 'p', b: '0', model, x0: 0.1 },
      ],
      outputs: [{ name: 'i_mem', kind: 'i', element: 'M' }],
    });
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await srv.fetch('/api/twin/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ circuit: circuit(model), protocol: { kind: 'dc', level: 0.5, quantity: 'voltage', durationS: 0.1 }, sampleRate: 1000 }),
      });
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(r.status, `${model}: ${body.error.message}`).toBe(400);
      expect(body.error.message).toMatch(new RegExp(`unknown device model "${model}"`));
    }
  });

  it('a fit parameter "junction.constructor" is refused as no parameter of the model (it passed as one, then failed on NaN bounds)', () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      expect(() => freeParams(builtInCircuit('nwn2000'), [`junction.${key}`], { [`junction.${key}`]: { min: 1, max: 2 } })).toThrow(new RegExp(`has no parameter "${key}"`));
    }
  });

  it('a CSV column whose unit reads "(constructor)" or "(__proto__)" is imported with that unit (it was a 500 TASK_FAILED)', async () => {
    for (const unit of ['constructor', '__proto__']) {
      const r = await srv.fetch(`/api/import?name=odd-${unit}.csv&rate=1000`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `x (${unit})\n1\n2\n3\n` });
      const text = await r.text();
      expect(r.status, text).toBe(201);
      const id = (JSON.parse(text) as { run: { id: number } }).run.id;
      const run = (await (await srv.fetch(`/api/runs/${id}`)).json()) as { run: { channels: { unit: string }[] } };
      expect(run.run.channels.map((c) => c.unit)).toEqual([unit]);
    }
  });
});

describe('bounded work: twin fits', () => {
  it('a fit whose evaluations × samples × circuit work could exceed MAX_FIT_WORK is refused before it starts (400 naming it); a small one starts', async () => {
    const post = (p: string, body: unknown) => srv.fetch(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // a spiking LIF run of 1e5 samples (1 s at 100 kS/s; 20 µA into 100 kΩ is twice the 1 V threshold)
    const made = await post('/api/twin/runs', { circuit: 'lif', protocol: { kind: 'square', quantity: 'current', amplitude: 20e-6, frequencyHz: 20, duty: 0.5, durationS: 1 }, sampleRate: 100_000 });
    expect(made.status, await made.clone().text()).toBe(201);
    const runId = ((await made.json()) as { run: { id: number } }).run.id;
    await srv.app.spikeloop.runs.waitForEnd(runId);
    // maxEvals 20000 with spike-time intervals: about 1e6 evaluations of 1e5 steps (it was accepted: days of the pool)
    const big = await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value', 'Rm.value'], maxEvals: 20_000 });
    const refusal = (await big.json()) as { error: { code: string; message: string; field?: string } };
    expect(big.status, JSON.stringify(refusal)).toBe(400);
    expect(refusal.error).toMatchObject({ code: 'TWIN_TOO_COSTLY', field: '/maxEvals' });
    expect(refusal.error.message).toMatch(/MAX_FIT_WORK = 2e\+10/);
    expect(refusal.error.message).toMatch(/100000 samples/);
    expect(srv.app.spikeloop.fits.running).toBe(0);
    // the same run with a search of 120 evaluations is within it, and starts
    const small = await post(`/api/runs/${runId}/fit`, { circuit: 'lif', params: ['Cm.value'], bounds: { 'Cm.value': [30e-9, 300e-9] }, maxEvals: 120 });
    const started = (await small.json()) as { fit: { id: string } };
    expect(small.status, JSON.stringify(started)).toBe(202);
    const cancelled = await srv.fetch(`/api/fits/${started.fit.id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
  });
});

describe('patterns that backtracked on what a client sends', () => {
  /** Status of a request, or 0 when none came within `ms` (the server or its pool thread is held). */
  const within = async (ms: number, p: string, init: RequestInit = {}) => {
    try {
      const r = await srv.fetch(p, { ...init, signal: AbortSignal.timeout(ms) });
      await r.arrayBuffer();
      return r.status;
    } catch {
      return 0;
    }
  };

  it('a query number of 15,000 digits and a letter is a 400 at once (30 of them held the event loop 1.3 s each)', async () => {
    const digits = `${'1'.repeat(15_000)}x`;
    const t0 = Date.now();
    const statuses = await Promise.all(Array.from({ length: 30 }, () => within(20_000, `/api/runs?limit=${digits}`)));
    expect(statuses.every((s) => s === 400), `${statuses.join(' ')} after ${Date.now() - t0} ms`).toBe(true);
    // answered together, not one after another's 1.3 s (39 s in all before)
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it("a CSV header cell of '(', 20,000 spaces and a letter, or a cell of 100,000 digits and a letter, is read at once (they held a pool thread for minutes)", async () => {
    const csv = (text: string) => within(20_000, '/api/import?name=odd.csv&rate=1000', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: text });
    expect(await csv(`(${' '.repeat(20_000)}x\n1\n2\n3\n`)).toBe(201);
    expect([201, 400]).toContain(await csv(`v (V)\n1\n${'1'.repeat(100_000)}x\n3\n`));
  });
});

describe('a careless configuration', () => {
  /** `serve` started with these arguments and environment, as a user would (it should stop at once). */
  const serve = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), '../bin/spikeloop.js'), 'serve', '--port', '0', ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('serve stops at start on an --allow-host entry that names no host ("*", a wildcard, a bad port), naming it (it was dropped silently)', () => {
    for (const entry of ['*', '*.lab.example', 'http://lab.example:99999']) {
      const r = serve(['--db', path.join(srv.dir, 'hosts.db'), '--allow-host', 'lab.example', '--allow-host', entry]);
      expect(r.status, `${entry}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`--allow-host ${JSON.stringify(entry)}: not a host name`);
    }
  });

  it('serve stops at start on a mistyped SPIKELOOP_SMU_MAX_* variable, naming it (it started, and every smu run answered 500)', () => {
    const db = path.join(srv.dir, 'env.db');
    const r = serve(['--db', db], { SPIKELOOP_SMU_MAX_VOLTAGE: '2 V' });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/SPIKELOOP_SMU_MAX_VOLTAGE must be a positive number, got "2 V"/);
    expect(existsSync(db)).toBe(false);
  });

  it('serve stops at start on a misspelt SPIKELOOP_SMU_* name (SPIKELOOP_SMU_MAX_VOLTS=1 left the 2 V default in force, silently)', () => {
    const db = path.join(srv.dir, 'env-name.db');
    const r = serve(['--db', db], { SPIKELOOP_SMU_MAX_VOLTS: '1' });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/unknown environment variable SPIKELOOP_SMU_MAX_VOLTS: the SMU reads SPIKELOOP_SMU_COMPLIANCE, SPIKELOOP_SMU_MAX_VOLTAGE/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('JSON nesting', () => {
  it('a body nested deeper than MAX_JSON_DEPTH is a 400 at once, for every route (an inline circuit 100,000 deep answered 409/500 "Maximum call stack size exceeded")', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const post = (p: string, text: string) => srv.fetch(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const made = await post('/api/runs', JSON.stringify({ protocol: { kind: 'dc', durationS: 0.05 }, sampleRate: 1000 }));
    const runId = ((await made.json()) as { run: { id: number } }).run.id;
    await srv.app.spikeloop.runs.waitForEnd(runId);
    const bodies: [string, string][] = [
      ['/api/twin/runs', `{"protocol":{"kind":"dc","durationS":0.1,"quantity":"voltage","level":0.1},"sampleRate":1000,"circuit":{"kind":"netlist","x":${deep(100_000)}}}`],
      ['/api/runs', `{"protocol":{"kind":"dc","durationS":0.1},"sampleRate":1000,"source":"twin","options":{"circuit":{"kind":"netlist","x":${deep(100_000)}}}}`],
      [`/api/runs/${runId}/fit`, `{"circuit":{"kind":"netlist","x":${'['.repeat(300_000)}${']'.repeat(300_000)}}}`],
    ];
    for (const [p, text] of bodies) {
      const r = await post(p, text);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(r.status, `${p}: ${body.error.message}`).toBe(400);
      expect(body.error.message).toMatch(/nested more than 64 levels/);
    }
    // brackets inside strings are not nesting; 64 levels are fine
    const quoted = await post('/api/runs', JSON.stringify({ protocol: { kind: 'dc', durationS: 0.05 }, sampleRate: 1000, label: '['.repeat(200) }));
    expect(quoted.status).toBe(201);
    const at64 = await post('/api/runs', `{"protocol":{"kind":"dc","durationS":0.05},"sampleRate":1000,"notes":${deep(62)}}`);
    expect(((await at64.json()) as { error: { message: string } }).error.message).not.toMatch(/nested more than/);
  });
});

describe('prototype pollution', () => {
  it("a sweep's field /__proto__/x or /constructor/prototype/x is refused (400) and sets nothing on Object.prototype (it set it for the whole process)", async () => {
    for (const field of ['/__proto__/spikeloopPolluted', '__proto__', '/constructor/prototype/spikeloopPolluted', '/toString']) {
      const r = await srv.fetch('/api/protocols/check', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: { kind: 'sweep', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field, values: [1] }] } }),
      });
      const body = (await r.json()) as { error?: { code: string; message: string } };
      expect(r.status, `${field}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error?.message).toMatch(/does not point into the base protocol/);
    }
    expect(({} as Record<string, unknown>).spikeloopPolluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'spikeloopPolluted')).toBe(false);
    // a field the base leaves to its default is still swept
    const ok = await srv.fetch('/api/protocols/check', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: { kind: 'sweep', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field: 'level', values: [0.001, 0.002] }] } }),
    });
    expect(ok.status).toBe(200);
  });
});
