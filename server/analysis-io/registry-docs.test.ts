/**
 * docs/analysis.md names every default of the analysis registry with its source: each parameter with a
 * non-boolean default has a row `| \`name\` | value | analyses | source |` in "Defaults and their sources",
 * with the registry's value and a non-empty source. Its "Results" tables are the registry's result schemas.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANALYSES } from './registry.ts';
import { withResults } from './result-fields.ts';

const doc = readFileSync(new URL('../../docs/analysis.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Defaults and their sources'));
const rows = new Map<string, { value: string; source: string }>();
for (const line of section.split('\n')) {
  const m = /^\| `([a-z_]+)` \| ([^|]+) \| [^|]+ \| ([^|]*) \|$/.exec(line);
  if (m) rows.set(m[1], { value: m[2].trim(), source: m[3].trim() });
}

describe('docs/analysis.md defaults table', () => {
  const defaults = new Map<string, unknown>();
  const conflicts: string[] = [];
  for (const d of ANALYSES)
    for (const [k, s] of Object.entries(d.params.properties as Record<string, { default?: unknown }>)) {
      if (s.default === undefined || typeof s.default === 'boolean') continue;
      if (defaults.has(k) && defaults.get(k) !== s.default) conflicts.push(`${k} in ${d.name}`);
      defaults.set(k, s.default);
    }
  it('one default per parameter name across the analyses (one row each)', () => expect(conflicts).toEqual([]));
  it.each([...defaults])('%s = %s is listed with its source', (k, v) => {
    const row = rows.get(k);
    expect(row, `no row for ${k}`).toBeDefined();
    expect(row!.value).toBe(String(v));
    expect(row!.source.length).toBeGreaterThan(0);
  });
  it('lists no parameter the registry does not have', () => {
    expect([...rows.keys()].filter((k) => !defaults.has(k))).toEqual([]);
  });
});

describe('docs/analysis.md results tables', () => {
  it('are the registry\'s result schemas (regenerate: node bin/run-ts.js scripts/analysis-results-doc.ts)', () => {
    expect(doc).toBe(withResults(doc));
  });
  it('every analysis names its source (no placeholder)', () => {
    for (const d of ANALYSES) expect(d.source, d.name).toMatch(/[A-Za-z].*\d{4}/);
  });
  it('list every analysis', () => {
    for (const d of ANALYSES) expect(doc).toContain(`### \`${d.name}\``);
  });
});
