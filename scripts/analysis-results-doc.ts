/**
 * Writes docs/analysis.md "Results" (between its `results:start` and `results:end` markers) from the
 * analysis registry's result schemas: `node bin/run-ts.js scripts/analysis-results-doc.ts`.
 * server/analysis-io/registry-docs.test.ts fails while the page and the schemas differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withResults } from '../server/analysis-io/result-fields.ts';

const doc = new URL('../docs/analysis.md', import.meta.url);
writeFileSync(doc, withResults(readFileSync(doc, 'utf8')));
