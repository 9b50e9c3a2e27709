/**
 * The newcomer's path: the README quick start, the CI script that mirrors it, the package metadata and the
 * compose file. These are the promises a fresh clone makes, checked as written.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const read = (f: string) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');

function quickStartLines(): string[] {
  const readme = read('README.md');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  expect(section, 'README has a "Quick start" section').toBeDefined();
  const blocks = [...section!.matchAll(/```[a-z]*\n([\s\S]*?)```/g)];
  expect(blocks).toHaveLength(1);
  return blocks[0][1].split('\n').filter((l) => l.trim() !== '');
}

describe('project setup', () => {
  it('README quick start is one block of exactly two command lines: start, then test', () => {
    const lines = quickStartLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/npm start/);
    expect(lines[1]).toMatch(/npm test/);
  });

  it('.ci/run runs exactly the README test line', () => {
    const ci = read('.ci/run').split('\n').filter((l) => l.trim() && !l.startsWith('#') && !/^(set|cd) /.test(l));
    expect(ci).toEqual([quickStartLines()[1]]);
  });

  it('package.json is the spikeloop ESM package with its bin and engine', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.name).toBe('spikeloop');
    expect(pkg.type).toBe('module');
    expect(pkg.bin.spikeloop).toBe('bin/spikeloop.js');
    expect(pkg.engines.node).toBe('>=20');
    const ts = JSON.parse(read('tsconfig.json'));
    expect(ts.compilerOptions.strict).toBe(true);
  });

  it('docker-compose.yml is valid, and refuses to start without SPIKELOOP_TOKEN', () => {
    const file = new URL('../docker-compose.yml', import.meta.url).pathname;
    const { SPIKELOOP_TOKEN: _, ...env } = process.env;
    // Throws (non-zero exit) with docker-compose's own message when the file is invalid.
    execFileSync('docker-compose', ['-f', file, 'config', '-q'], { stdio: 'pipe', env: { ...env, SPIKELOOP_TOKEN: 'compose-check-token' } });
    expect(() => execFileSync('docker-compose', ['-f', file, 'config', '-q'], { stdio: 'pipe', env })).toThrow(/SPIKELOOP_TOKEN/);
  });

  it('every tsconfig in the tree type-checks under strict mode (npm run typecheck)', () => {
    execFileSync('node', ['scripts/typecheck.mjs'], {
      cwd: new URL('..', import.meta.url).pathname,
      stdio: 'pipe',
    });
  }, 600_000); // four tsc programs over the whole tree: minutes on a loaded 2-core machine
});
