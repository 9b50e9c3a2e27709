#!/usr/bin/env node
// `npm run typecheck`: type-checks every tsconfig.json in the tree (the Node side at the root, the dashboard with
// DOM types and no Node types, the browser tests, the pure server/twin without Node types), so a folder cannot
// silently fall out of the check. Exits non-zero on the first config that fails.
import { execFileSync, spawnSync } from 'node:child_process';

const configs = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*tsconfig.json'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('node_modules/'));
for (const config of configs) {
  const r = spawnSync('npx', ['tsc', '--noEmit', '-p', config], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`typecheck failed: ${config}`);
    process.exit(r.status ?? 1);
  }
}
console.log(`typecheck: ${configs.length} configs clean (${configs.join(', ')})`);
