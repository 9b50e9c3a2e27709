/**
 * The package as users get it: what `npm pack` ships (the `files` list; dist/, web/dist and the firmware
 * built by `prepack`, which also writes npm-shrinkwrap.json from the lock file), installed with
 * `npm install -g` into a temporary prefix, then run from an empty folder: `spikeloop serve` serves the
 * dashboard, `spikeloop virtual daq-uno` starts the firmware in simavr.
 *
 * The tarball is packed from the tree `npm test` has just built (`--ignore-scripts`, so this test does not
 * rebuild dist/ under the other tests' feet); the shrinkwrap step of `prepack` is repeated on a staged copy.
 * better-sqlite3 installs from a local prebuild made of this checkout's compiled binary (same version and
 * Node ABI), since its usual prebuild host is not reachable here and a source build takes minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let tmp: string;
let packed: { filename: string; files: { path: string; mode: number }[] };

const npm = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  execFileSync('npm', args, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  for (const f of ['dist/server/cli/main.js', 'web/dist/index.html', 'firmware/build/uno/spikeloop_daq.elf', 'firmware/build/virtual_board']) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` (npm test does) before this test`);
  }
  tmp = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-pkg-'));
  packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp]))[0];
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function waitFor(proc: ChildProcess, re: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`)), ms);
    const on = (d: Buffer) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before ${re}; output:\n${out}`)));
  });
}

const stop = (proc: ChildProcess) => new Promise((r) => (proc.exitCode !== null ? r(null) : (proc.once('exit', r), proc.kill('SIGTERM'))));

describe('the npm package', () => {
  it('ships the compiled app, the dashboard and the firmware image, and no sources, tests, benches or CI', () => {
    const paths = packed.files.map((f) => f.path);
    for (const f of ['bin/spikeloop.js', 'dist/server/cli/main.js', 'dist/server/workers/entry.mjs', 'dist/server/twin/circuits/lif.json', 'web/dist/index.html', 'firmware/build/uno/spikeloop_daq.elf', 'firmware/build/virtual_board']) {
      expect(paths).toContain(f);
    }
    const stray = paths.filter((p) => /\.test\.|\.ts$|^(test|bench|\.ci|scripts|server|drivers|common)\//.test(p) || p === 'web/index.html');
    expect(stray).toEqual([]);
    expect(packed.files.find((f) => f.path === 'firmware/build/virtual_board')!.mode & 0o111).not.toBe(0);
    expect(pkg.scripts.prepack).toBe('npm run build && cp package-lock.json npm-shrinkwrap.json');
    expect(pkg.files).toContain('npm-shrinkwrap.json');
  });

  it('installs with npm install -g into a temporary prefix; from an empty folder serve shows the dashboard and virtual daq-uno runs', async () => {
    // stage: the packed tarball plus the shrinkwrap prepack writes
    const stage = path.join(tmp, 'stage');
    mkdirSync(stage);
    execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', stage]);
    copyFileSync(path.join(root, 'package-lock.json'), path.join(stage, 'package/npm-shrinkwrap.json'));
    const tarball = path.join(tmp, 'spikeloop.tgz');
    execFileSync('tar', ['-czf', tarball, '-C', stage, 'package']);
    const sqliteVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
    const prebuilds = path.join(tmp, 'prebuilds');
    mkdirSync(prebuilds);
    execFileSync('tar', [
      '-czf',
      path.join(prebuilds, `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`),
      '-C',
      path.join(root, 'node_modules/better-sqlite3'),
      'build/Release/better_sqlite3.node',
    ]);

    const prefix = path.join(tmp, 'prefix');
    const log = execFileSync(
      'bash',
      ['-c', `npm install -g --prefix "${prefix}" --allow-scripts=better-sqlite3,@serialport/bindings-cpp,msgpackr-extract --no-audit --no-fund --prefer-offline "${tarball}" 2>&1`],
      { cwd: tmp, env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds }, encoding: 'utf8' },
    );
    const warnings = log.split('\n').filter((l) => /warn|skipp/i.test(l) && !/Unknown env config "better-sqlite3-local-prebuilds"/.test(l));
    expect(warnings).toEqual([]);
    const installed = path.join(prefix, 'lib/node_modules/spikeloop');
    expect(existsSync(path.join(installed, 'node_modules/tsx')), 'tsx (a dev dependency) is not installed').toBe(false);

    const bin = path.join(prefix, 'bin/spikeloop');
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    const serve = spawn(bin, ['serve', '--port', '0'], { cwd: empty, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      // the start line's URL carries the generated token; the dashboard's first load sets its cookie
      const [, base, token] = await waitFor(serve, /listening on (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/, 30_000);
      expect((await fetch(`${base}/api/runs`)).status).toBe(401);
      const page = await fetch(`${base}/?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const html = await page.text();
      expect(html).toContain('<title>spikeloop</title>');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
      const auth = { headers: { authorization: `Bearer ${token}` } };
      expect((await fetch(`${base}${script}`, auth)).status).toBe(200);
      expect((await fetch(`${base}/api/runs`, auth)).status).toBe(200);
    } finally {
      await stop(serve);
    }
    expect(existsSync(path.join(empty, 'data/spikeloop.db'))).toBe(true);

    const daq = spawn(bin, ['virtual', 'daq-uno'], { cwd: empty, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [, pty] = await waitFor(daq, /^(\/dev\/pts\/\d+)$/m, 30_000);
      expect(existsSync(pty)).toBe(true);
    } finally {
      await stop(daq);
    }
  }, 600_000);
});
