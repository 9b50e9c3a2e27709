/**
 * The security hook's edges, found by probing a built server as an outsider would (issue 14's audit): how a
 * Host header is read, the Bearer scheme's case, the page's own origin behind a port mapping, requests a
 * foreign page makes without an Origin (Sec-Fetch-Site), and the `worker` command's refusal message.
 * Real sockets (node:http, so Host and Origin are sent as written) against a real listening server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { startServer, type TestServer } from './helpers-live.ts';
import { python } from './python.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let srv: TestServer;
let port: string;
beforeAll(async () => {
  srv = await startServer();
  port = new URL(srv.base).port;
});
afterAll(async () => {
  await srv?.close();
});

/** One request over a real socket with exactly these headers; the status and the error code. */
function request(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.base}${url}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Host header', () => {
  it('case and one trailing dot name the same host; userinfo, a second port or junk is refused', async () => {
    const health = (host: string) => request('GET', '/api/health', { ...srv.auth, host });
    for (const host of [`LOCALHOST:${port}`, `localhost.:${port}`, `127.0.0.1.:${port}`, `[::1]:${port}`, `app.localhost:${port}`, `[::ffff:127.0.0.1]:${port}`, `[::ffff:7f00:1]:${port}`]) {
      expect((await health(host)).status, host).toBe(200);
    }
    for (const host of [`localhost:${port}@evil.example`, `localhost:${port}:${port}`, 'evil.example.', `evil.example:${port}`, 'localhost/evil', `[::ffff:a00:1]:${port}`]) {
      const r = await health(host);
      expect(r.status, host).toBe(403);
      expect(r.code).toBe('FORBIDDEN_HOST');
    }
  });
});

describe('token', () => {
  it('the Authorization scheme is case-insensitive (RFC 9110): "bearer <t>" is accepted, a wrong token is not', async () => {
    expect((await request('GET', '/api/health', { authorization: `bearer ${srv.token}` })).status).toBe(200);
    expect((await request('GET', '/api/health', { authorization: `BEARER ${srv.token}` })).status).toBe(200);
    expect((await request('GET', '/api/health', { authorization: 'bearer not-the-token' })).status).toBe(401);
  });
});

describe('Origin', () => {
  it("behind a port mapping (docker -p 9000:8080) the page's own origin, as its Host names the server, may post; another port stays foreign", async () => {
    const check = JSON.stringify({ protocol: { kind: 'dc', durationS: 0.1 } });
    const post = (host: string, origin: string) => request('POST', '/api/protocols/check', { ...srv.auth, host, origin, 'content-type': 'application/json' }, check);
    expect((await post('127.0.0.1:9000', 'http://127.0.0.1:9000')).status).toBe(200);
    expect((await post('localhost:9000', 'http://localhost:9000')).status).toBe(200);
    expect((await post('localhost', 'http://localhost')).status).toBe(200);
    expect((await post('localhost:09000', 'http://localhost:9000')).status).toBe(200); // the Origin's port as URL normalises it
    for (const [host, origin] of [
      ['127.0.0.1:9000', 'http://127.0.0.1:9001'],
      ['127.0.0.1:9000', 'http://localhost:9000'],
      ['127.0.0.1:9000', 'https://127.0.0.1:9000'],
      ['localhost', 'http://localhost:9000'],
    ]) {
      const r = await post(host, origin);
      expect(r.status, `${host} from ${origin}`).toBe(403);
      expect(r.code).toBe('FORBIDDEN_ORIGIN');
    }
  });

  it('a request a page of another site or port makes without an Origin (img, script: Sec-Fetch-Site) is refused; following a link is not', async () => {
    const cookie = `spikeloop_token_${port}=${srv.token}`;
    for (const site of ['cross-site', 'same-site']) {
      const r = await request('GET', '/api/runs', { cookie, 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
      expect(r.status, site).toBe(403);
      expect(r.code).toBe('FORBIDDEN_ORIGIN');
    }
    expect((await request('GET', '/api/runs', { cookie, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' })).status).toBe(200);
    expect((await request('GET', '/api/health', { cookie, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' })).status).toBe(200);
    // the dashboard loaded into a frame of a page on another port (same-site: it would carry the cookie)
    expect((await request('GET', '/', { cookie, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' })).status).toBe(403);
  });

  it('no answer may be framed by another page, nor send its URL (?token=) on as a Referer', async () => {
    const r = await srv.fetch('/api/health');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await fetch(`${srv.base}/api/health`)).headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('serve --log', () => {
  it('logs each request without its ?token= value', async () => {
    const child = spawn(process.execPath, ['bin/spikeloop.js', 'serve', '--log', '--port', '0', '--db', path.join(srv.dir, 'log.db'), '--token', 'secret-token-in-url'], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await expect.poll(() => /listening on (http:\/\/\S+)\/\?token=/.exec(out)?.[1], { timeout: 30_000 }).toBeTruthy();
      const base = /listening on (http:\/\/\S+)\/\?token=/.exec(out)![1];
      expect((await fetch(`${base}/api/health?token=secret-token-in-url`)).status).toBe(200);
      await expect.poll(() => out, { timeout: 10_000 }).toMatch(/"url":"\/api\/health\?token=\[redacted\]"/);
      // the start line prints it (that is how the user gets it); no log line does
      expect(out.split('\n').filter((l) => l.includes('secret-token-in-url')).map((l) => l.slice(0, 39))).toEqual(['spikeloop listening on http://127.0.0.1']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 60_000);
});

describe('worker', () => {
  it("a server that refuses the worker's Host name: the worker exits naming the server's reason (serve --allow-host)", async () => {
    // the machine's own name is not a loopback name: this server answers to it only with --allow-host
    const s = await startServer({}, false);
    try {
      await s.app.listen({ port: 0, host: '0.0.0.0' });
      const addr = s.app.server.address() as { port: number };
      const r = await promisify(execFile)(process.execPath, ['bin/spikeloop.js', 'worker', '--redis', 'redis://127.0.0.1:1', '--server', `http://${os.hostname()}:${addr.port}`, '--token', s.token], { cwd: ROOT }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/answered 403: Host .* is not this server .*--allow-host/);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('bounded work', () => {
  it('a twin-mode sweep point, simulated whole in memory, is capped at MAX_TWIN_POINT_SAMPLES (400 naming it), before anything runs', async () => {
    const sweep = (durationS: number, sampleRate: number) =>
      srv.fetch('/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'twin', circuit: 'lif', sampleRate, sweep: { kind: 'sweep', base: { kind: 'dc', durationS }, parameters: [{ field: 'level', values: [1e-3, 2e-3] }] } }) });
    const big = await sweep(20, 1_000_000);
    expect(big.status).toBe(400);
    const body = (await big.json()) as { error: { code: string; message: string; field: string } };
    expect(body.error).toMatchObject({ code: 'VALIDATION', field: '/sampleRate' });
    expect(body.error.message).toMatch(/sweep point 0 \(level=0\.001\): 20 s at 1000000 S\/s is 2\.00e\+7 samples; at most MAX_TWIN_POINT_SAMPLES = 1e\+7/);
    expect(srv.store.listRuns()).toEqual([]);
    const ok = await sweep(0.01, 100_000);
    expect(ok.status).toBe(201);
    const { sweep: s } = (await ok.json()) as { sweep: { id: string } };
    await srv.app.spikeloop.sweeps.wait(s.id);
  });
});

describe('bounded work: imports', () => {
  it('an NWB file whose dataset claims more samples than it holds (8 kB claiming 1e10) is a 400 naming the limit, not a 5xx', async () => {
    // never-written chunks read as fill values: h5py writes such a file in a few kB
    await python(
      `import h5py, sys\nfor name, n in [('big.nwb', 10**10), ('mid.nwb', 3 * 10**8)]:\n    with h5py.File(sys.argv[1] + '/' + name, 'w') as f:\n        f.attrs['neurodata_type'] = 'NWBFile'\n        g = f.create_group('acquisition/v')\n        d = g.create_dataset('data', shape=(n,), dtype='f8', chunks=(1 << 20,), compression='gzip')\n        d.attrs['unit'] = 'V'\n        g.create_dataset('starting_time', data=0.0).attrs['rate'] = 1000.0\n`,
      [srv.dir],
    );
    const before = srv.store.listRuns().length;
    for (const [name, n] of [['big.nwb', 1e10], ['mid.nwb', 3e8]] as const) {
      const body = readFileSync(path.join(srv.dir, name));
      expect(body.length).toBeLessThan(65_536);
      const r = await srv.fetch(`/api/import?name=${name}&format=nwb`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
      const err = ((await r.json()) as { error: { code: string; message: string } }).error;
      expect(r.status, name).toBe(400);
      expect(err.code).toBe('BAD_IMPORT');
      expect(err.message).toContain(`series v claims ${n} samples`);
      expect(err.message).toMatch(/at most 256 MiB \(an import's limit\)/);
    }
    expect(srv.store.listRuns().length).toBe(before);
    expect((await srv.fetch('/api/health')).status).toBe(200);
  });
});

describe('bounded work: the twin', () => {
  it('a twin run whose internal step dt makes more than MAX_NETWORK_WORK steps is refused (TWIN_TOO_COSTLY), even for a circuit without devices', async () => {
    const twin = (dt: number) =>
      srv.fetch('/api/twin/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ circuit: 'lif', protocol: { kind: 'dc', durationS: 1 }, sampleRate: 1000, dt, method: 'euler' }), signal: AbortSignal.timeout(30_000) });
    const r = await twin(1e-12);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TWIN_TOO_COSTLY');
    expect(body.error.message).toMatch(/1 units of work per step .* × 1000000000000 steps = 1\.00e\+12; at most MAX_NETWORK_WORK = 1e\+9/);
    const ok = await twin(1e-4);
    expect(ok.status).toBe(201);
    const { run } = (await ok.json()) as { run: { id: number } };
    await expect.poll(() => srv.store.getRun(run.id)?.status, { timeout: 30_000 }).toBe('completed');
  }, 90_000);
});
