/**
 * Runs once before the tests: compiles the app to dist/ (scripts/build.mjs --app, under a second), so the
 * tests that spawn `bin/spikeloop.js` run the compiled code users run, built from the sources under test.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--app'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}
