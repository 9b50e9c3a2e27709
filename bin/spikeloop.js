#!/usr/bin/env node
// Entry point of the `spikeloop` command: the compiled CLI (dist/, made by `npm run build`; no TypeScript
// loader at run time).
import { existsSync } from 'node:fs';

const main = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('spikeloop is not built: run `npm run build` in its folder (dist/server/cli/main.js is missing)');
  process.exit(1);
}
await import(main.href);
