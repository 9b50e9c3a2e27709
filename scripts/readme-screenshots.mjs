#!/usr/bin/env node
/**
 * Refreshes the README's screenshots (docs/images/) from the browser tests' artifacts, so they show the
 * dashboard as the tests last saw it. Run the tests that make them first:
 *
 *   npx vitest run test/browser-compare.test.ts test/browser-pages.test.ts test/browser-live-tools.test.ts \
 *     test/browser-plots.test.ts test/browser-analysis-plots.test.ts test/browser-new-run.test.ts
 *   node scripts/readme-screenshots.mjs
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** README image ← test artifact (and the test that saves it). */
const SHOTS = [
  ['compare.png', 'compare-view.png', 'test/browser-compare.test.ts'],
  ['compare-several.png', 'pages-compare-several-1366x768.png', 'test/browser-pages.test.ts'],
  ['live-tools.png', 'live-tools.png', 'test/browser-live-tools.test.ts'],
  ['xy.png', 'plots-xy.png', 'test/browser-plots.test.ts'],
  ['analysis.png', 'analysis-phase.png', 'test/browser-analysis-plots.test.ts'],
  ['new-run.png', 'new-run.png', 'test/browser-new-run.test.ts'],
];

mkdirSync(path.join(ROOT, 'docs/images'), { recursive: true });
let missing = 0;
for (const [image, artifact, test] of SHOTS) {
  const from = path.join(ROOT, 'test/artifacts', artifact);
  if (!existsSync(from)) {
    console.error(`missing test/artifacts/${artifact}: run npx vitest run ${test}`);
    missing++;
    continue;
  }
  copyFileSync(from, path.join(ROOT, 'docs/images', image));
  console.log(`docs/images/${image} ← test/artifacts/${artifact} (${new Date(statSync(from).mtimeMs).toISOString()})`);
}
process.exitCode = missing ? 1 : 0;
