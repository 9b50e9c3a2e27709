/**
 * cli_help_ms: wall time of `spikeloop --help` (node bin/spikeloop.js, the compiled build), median of 5
 * runs after one warm-up (file cache). Target <= 300 ms.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metric } from './run.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/spikeloop.js');

export default async function* cliBench(): AsyncIterable<Metric> {
  const once = () => {
    const t0 = performance.now();
    execFileSync(process.execPath, [bin, '--help'], { stdio: 'ignore' });
    return performance.now() - t0;
  };
  once();
  const times = Array.from({ length: 5 }, once).sort((a, b) => a - b);
  const t0 = performance.now();
  execFileSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const bare = performance.now() - t0;
  yield {
    metric: 'cli_help_ms',
    value: Math.round(times[2]),
    unit: 'ms',
    note: `median of 5 wall times of \`spikeloop --help\` (${times.map((t) => t.toFixed(0)).join(', ')} ms), compiled build, no TypeScript loader; \`node -e 0\` took ${bare.toFixed(0)} ms; load average ${os.loadavg()[0].toFixed(1)}; target <= 300 ms`,
  };
}
