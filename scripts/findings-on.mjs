#!/usr/bin/env node
// `node scripts/findings-on.mjs <commit> [--keep]`: runs test/security-findings.test.ts (issue 14's findings,
// over HTTP, WebSocket and the CLI only) from this checkout against the `spikeloop` of another commit, and
// prints which findings that commit still shows. The commit is checked out in a detached worktree under the
// system's temporary folder, its own dependencies installed (`npm ci`, native modules rebuilt when they do
// not load), its DAQ firmware and compiled app built when it has them; the worktree is removed afterwards
// unless --keep (a kept one is reused by the next call). On the commit before the work every test
// fails: each failure is the finding reproduced (docs/security.md, "Each finding and its test").
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const commit = args.find((a) => !a.startsWith('--'));
if (!commit) {
  console.error('usage: node scripts/findings-on.mjs <commit> [--keep]');
  process.exit(2);
}
const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
const sha = git('rev-parse', '--verify', `${commit}^{commit}`);
const dir = path.join(os.tmpdir(), `spikeloop-findings-${sha.slice(0, 12)}`);
const step = (what, cmd, cmdArgs, opts = {}) => {
  console.log(`findings-on: ${what}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: dir, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${cmdArgs.join(' ')}: exit ${r.status})`);
};

if (!existsSync(path.join(dir, 'node_modules'))) {
  rmSync(dir, { recursive: true, force: true });
  git('worktree', 'prune');
  git('worktree', 'add', '--detach', dir, sha);
  step(`installing ${sha.slice(0, 12)}'s dependencies`, 'npm', ['ci', '--no-audit', '--no-fund']);
}
try {
  // npm ci may leave native modules unbuilt (no prebuilt binary reachable): build them from source
  const sqliteLoads = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:')"], { cwd: dir }).status === 0;
  if (!sqliteLoads) step('building native modules', 'npm', ['rebuild', 'better-sqlite3', '@serialport/bindings-cpp']);
  if (existsSync(path.join(dir, 'firmware/Makefile'))) step('building the DAQ firmware and virtual board', 'make', ['-s', '-C', 'firmware']);
  if (existsSync(path.join(dir, 'scripts/build.mjs'))) step('compiling the app', process.execPath, ['scripts/build.mjs', '--app']);

  const report = path.join(mkdtempSync(path.join(os.tmpdir(), 'spikeloop-findings-report-')), 'report.json');
  console.log(`findings-on: test/security-findings.test.ts against ${sha.slice(0, 12)} (${dir})`);
  spawnSync('npx', ['vitest', 'run', 'test/security-findings.test.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SPIKELOOP_FINDINGS_ROOT: dir },
  });
  if (!existsSync(report)) throw new Error('vitest wrote no report');
  const tests = JSON.parse(readFileSync(report, 'utf8')).testResults.flatMap((f) => f.assertionResults);
  rmSync(path.dirname(report), { recursive: true, force: true });
  const word = { passed: 'passes (fixed)', failed: 'FAILS  (finding shown)', skipped: 'skipped', pending: 'skipped' };
  console.log(`\nIssue 14's findings on ${sha.slice(0, 12)} (${git('log', '-1', '--format=%ad %s', '--date=short', sha).slice(0, 90)}):`);
  for (const t of tests) console.log(`  ${(word[t.status] ?? t.status).padEnd(24)} ${t.ancestorTitles.join(' › ')} › ${t.title}`);
  const n = (s) => tests.filter((t) => t.status === s).length;
  console.log(`${n('failed')} of ${tests.length} findings shown, ${n('passed')} fixed, ${tests.length - n('failed') - n('passed')} skipped`);
} finally {
  if (!keep) {
    git('worktree', 'remove', '--force', dir);
    console.log(`findings-on: removed ${dir} (--keep keeps it for the next call)`);
  }
}
