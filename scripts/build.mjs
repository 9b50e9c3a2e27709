#!/usr/bin/env node
// `npm run build`: the compiled app in dist/ (server, drivers, common: each TypeScript file to one
// JavaScript file, relative imports rewritten from .ts to .js, the .mjs workers and the twin circuits
// copied beside them), then the dashboard (web/dist) and the DAQ firmware image (firmware/build).
// `--app` builds only dist/ (well under a second; what the tests need before spawning the CLI).
// Type checking is not done here: `npm run typecheck` does it.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(root, 'dist');
const FOLDERS = ['server', 'drivers', 'common'];

/** Files under dir (relative to root), without tests. */
function walk(dir, out = []) {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) walk(rel, out);
    else if (!/\.test\.ts$/.test(name)) out.push(rel);
  }
  return out;
}

export async function buildApp() {
  const files = FOLDERS.flatMap((f) => walk(f));
  rmSync(OUT, { recursive: true, force: true });
  await build({
    entryPoints: files.filter((f) => f.endsWith('.ts')).map((f) => path.join(root, f)),
    outdir: OUT,
    outbase: root,
    outExtension: { '.js': '.js' },
    bundle: true, // only to rewrite imports: every import stays external (below), so each file is its own module
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [
      {
        name: 'relative-ts-to-js',
        setup(b) {
          // JSON imports (the twin's circuit catalogue) are inlined: an external one would lose its
          // `with { type: 'json' }`, which Node requires.
          b.onResolve({ filter: /^\.\.?\// }, (args) =>
            args.kind === 'entry-point' || args.path.endsWith('.json') ? undefined : { path: args.path.replace(/\.ts$/, '.js'), external: true },
          );
        },
      },
    ],
  });
  for (const f of files.filter((f) => /\.(mjs|json)$/.test(f) && !f.endsWith('tsconfig.json'))) cpSync(path.join(root, f), path.join(OUT, f));
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\`${cmd} ${args.join(' ')}\` failed with status ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  await buildApp();
  console.error(`build: dist/ in ${Math.round(performance.now() - t0)} ms`);
  if (!process.argv.includes('--app')) {
    run('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
    run('bash', ['scripts/setup.d/20-firmware.sh']);
  }
}
