/**
 * A lint of the container files (no Docker daemon is needed): every path the Dockerfile copies exists
 * (sources in the build context, outputs of the build stage in this built checkout), the image's entry
 * command and each compose service's command exist in the compiled CLI, and the runtime stage carries no
 * compilers or browsers, runs as a non-root user and has a health check.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './helpers-live.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

interface Stage {
  name: string;
  lines: string[];
}
const stages: Stage[] = [];
for (const line of dockerfile.split('\n').map((l) => l.trim())) {
  if (!line || line.startsWith('#')) continue;
  const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
  if (from) stages.push({ name: from[1] ?? String(stages.length), lines: [] });
  else stages.at(-1)!.lines.push(line);
}
const workdir = (s: Stage) => /^WORKDIR\s+(\S+)/m.exec(s.lines.join('\n'))![1];
const jsonArray = (s: Stage, instr: string) => JSON.parse(s.lines.find((l) => l.startsWith(`${instr} `))!.slice(instr.length + 1)) as string[];
const cli = (args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin/spikeloop.js'), ...args], { encoding: 'utf8' });

describe('container files', () => {
  it('every COPY source exists: context files not excluded by .dockerignore, build-stage outputs in this built checkout', () => {
    const copies = stages.flatMap((s) => s.lines.filter((l) => l.startsWith('COPY ')).map((l) => ({ stage: s, args: l.split(/\s+/).slice(1) })));
    expect(copies.length).toBeGreaterThan(5);
    for (const { args } of copies) {
      const from = args.find((a) => a.startsWith('--from='))?.slice(7);
      const sources = args.filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const src of sources) {
        if (from) {
          const stage = stages.find((s) => s.name === from);
          expect(stage, `stage ${from}`).toBeDefined();
          const rel = path.posix.relative(workdir(stage!), src);
          expect(existsSync(path.join(root, rel)), `COPY --from=${from} ${src}: ${rel} is not in the built checkout`).toBe(true);
        } else {
          expect(existsSync(path.join(root, src)), `COPY ${src}: not in the build context`).toBe(true);
          expect(ignored.some((pat) => src === pat || src.startsWith(`${pat}/`)), `COPY ${src} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('the image entry command and every compose service command exist in the compiled CLI', () => {
    const runtime = stages.at(-1)!;
    const entry = jsonArray(runtime, 'ENTRYPOINT');
    // the same V8 flag as the bin's shebang (bin/spikeloop.js), which an image entry bypasses
    expect(entry).toEqual(['node', '--max-semi-space-size=4', 'bin/spikeloop.js']);
    expect(readFileSync(path.join(root, 'bin/spikeloop.js'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S ${entry.slice(0, -1).join(' ')}`);
    const cmd = jsonArray(runtime, 'CMD');
    expect(cli([cmd[0], '--help'])).toMatch(new RegExp(`^Usage: spikeloop ${cmd[0]}`));
    const help = cli([cmd[0], '--help']);
    for (const opt of cmd.filter((a) => a.startsWith('--'))) expect(help, `${cmd[0]} ${opt}`).toContain(opt);
    const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    // the services running the spikeloop image (not redis): each `  name:` block under services
    const services = compose.split(/^volumes:/m)[0].split(/^ {2}(?=[\w-]+:\s*$)/m).slice(1);
    const ours = services.filter((b) => /^\s+(build: \.|image: spikeloop:)/m.test(b));
    expect(ours.length).toBe(2);
    const commands = ours.map((b) => JSON.parse(/^\s+command:\s*(\[.*\])\s*$/m.exec(b)![1]) as string[]);
    for (const c of commands) {
      const h = cli([c[0], '--help']);
      for (const opt of c.filter((a) => a.startsWith('--'))) expect(h, `compose: ${c[0]} ${opt}`).toContain(opt);
    }
  });

  it('the worker service reaches the server under a name the server answers to (its Host is allowed), with the token', async () => {
    const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    const commands = [...compose.matchAll(/^\s+command:\s*(\[.*\])\s*$/gm)].map((m) => JSON.parse(m[1]) as string[]);
    const serve = commands.find((c) => c[0] === 'serve')!;
    const worker = commands.find((c) => c[0] === 'worker')!;
    const allowedHosts = serve.flatMap((a, i) => (serve[i - 1] === '--allow-host' ? [a] : []));
    const server = new URL(worker[worker.indexOf('--server') + 1]);
    // the server's real security hook, configured as compose configures it
    const s = await startServer({ security: { token: 'compose-token-1', allowedHosts } }, false);
    try {
      const health = (host: string) => s.app.inject({ method: 'GET', url: '/api/health', headers: { host, authorization: 'Bearer compose-token-1' } });
      expect((await health(server.host)).statusCode, `Host: ${server.host}`).toBe(200);
      expect((await health('evil.example:8080')).statusCode).toBe(403);
    } finally {
      await s.close();
    }
  });

  it('the runtime stage installs no compilers or browsers, runs as a non-root user and has a health check', () => {
    const runtime = stages.at(-1)!;
    const apt = runtime.lines.filter((l) => /apt-get install/.test(l)).join(' ');
    for (const banned of ['gcc', 'g++', 'gcc-avr', 'make', 'chromium', 'docker-compose', 'python3', 'libsimavr-dev']) {
      expect(apt.split(/\s+/), banned).not.toContain(banned);
    }
    expect(apt).toMatch(/\bsimavr\b/);
    expect(apt).toMatch(/\bngspice\b/);
    const user = runtime.lines.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)$/);
    expect(runtime.lines.some((l) => l.startsWith('HEALTHCHECK '))).toBe(true);
  });
});
