/**
 * The second audit from outside (issue 14): what an attacker on the network, a careless user and a lab's
 * usual clients (curl, Python requests, a browser) met on a built server, one `it` per finding, each failing
 * on the code before its fix. Real sockets against a listening server; curl and Python as the labs run them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, type TestServer } from './helpers-live.ts';
import { pythonJson } from './python.ts';

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
