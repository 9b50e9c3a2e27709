#!/usr/bin/env node
// `npm test`: installs/builds what the tests need, runs the whole vitest suite, and ends with the plain
// summary line `N passed, N failed[, N skipped]` taken from vitest's JSON report (CI reads that line).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\`${cmd} ${args.join(' ')}\` failed with status ${r.status}`);
    process.exit(r.status ?? 1);
  }
};

run('bash', ['scripts/setup.sh']);
run(process.execPath, ['scripts/build.mjs']); // the compiled app, the dashboard and the firmware image

const report = 'test/.reports/vitest.json';
mkdirSync('test/.reports', { recursive: true });
if (existsSync(report)) rmSync(report);
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

if (!existsSync(report)) {
  console.error('vitest wrote no JSON report');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
// A test file that fails outside its tests (load error, failing beforeAll) is still a failure, even when
// its tests read as skipped.
const brokenFiles = r.testResults.filter(
  (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
).length;
const failed = r.numFailedTests + brokenFiles;
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || vitest.status !== 0 ? 1 : 0);
