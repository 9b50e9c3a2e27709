/**
 * `npm run bench [-- name-filter ...]`: runs every bench/*.bench.ts, prints one JSON object per line
 * ({"metric","value","unit"}) and writes them to bench/results.json (a JSON array, one object per line).
 * A filtered run keeps the other metrics already in results.json.
 *
 * Each bench file default-exports an async generator of metrics, so long benches report as they go.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Metric {
  metric: string;
  value: number;
  unit: string;
  /** Optional context (target, parameters); kept in results.json. */
  note?: string;
}

export type Bench = () => AsyncIterable<Metric>;

const dir = path.dirname(fileURLToPath(import.meta.url));
const resultsFile = path.join(dir, 'results.json');
const filters = process.argv.slice(2);
const OPT_IN = ['soak.bench.ts', 'coverage.bench.ts'];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  // long soaks and the coverage study run only when named (`npm run bench -- soak`, `-- coverage`)
  .filter((f) => (filters.length === 0 ? !OPT_IN.includes(f) : filters.some((w) => f.includes(w))))
  .sort();

const results = new Map<string, Metric>();
if (filters.length > 0 && existsSync(resultsFile)) {
  for (const m of JSON.parse(readFileSync(resultsFile, 'utf8')) as Metric[]) results.set(m.metric, m);
}
const save = () =>
  writeFileSync(resultsFile, '[\n' + [...results.values()].map((m) => JSON.stringify(m)).join(',\n') + '\n]\n');

let failed = 0;
for (const file of files) {
  const bench = (await import(pathToFileURL(path.join(dir, file)).href)).default as Bench;
  try {
    for await (const m of bench()) {
      console.log(JSON.stringify(m));
      results.set(m.metric, m);
      save();
    }
  } catch (err) {
    failed++;
    console.error(`bench ${file} failed: ${err instanceof Error ? err.stack : String(err)}`);
  }
}
save();
process.exitCode = failed ? 1 : 0;
