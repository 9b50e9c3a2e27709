#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `spikeloop` command: the compiled CLI (dist/, made by `npm run build`; no TypeScript
// loader at run time). 4 MB semi-spaces (V8's default is 16): recording 4 x 1 MS/s, the server's heap then
// stays near 42 MB instead of growing (64 -> 99 MB over 90 s, with the typed arrays it holds), and its
// resident memory near 130 MB instead of 210 (bench server_rss_mb). The Dockerfile passes the same flag.
import { existsSync } from 'node:fs';

const main = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('spikeloop is not built: run `npm run build` in its folder (dist/server/cli/main.js is missing)');
  process.exit(1);
}
await import(main.href);
