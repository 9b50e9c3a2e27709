/**
 * The file edge of the protocol library (the rest of server/protocols is pure): reads a protocol or
 * sweep document from disk and resolves an arbitrary waveform's `csvFile` (a path relative to the
 * document) into its `csv` text, recursively inside a sweep's `base`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ProtocolError } from './index.ts';

/** Replaces `csvFile` by the file's text as `csv` (in place); paths relative to `baseDir`. */
export function resolveCsvFiles(doc: unknown, baseDir: string): unknown {
  if (typeof doc !== 'object' || doc === null) return doc;
  const d = doc as Record<string, unknown>;
  if (d.kind === 'sweep') {
    resolveCsvFiles(d.base, baseDir);
    return d;
  }
  if (typeof d.csvFile === 'string') {
    const file = path.resolve(baseDir, d.csvFile);
    try {
      d.csv = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ProtocolError('/csvFile', `cannot read ${file}: ${(err as Error).message}`);
    }
    delete d.csvFile;
  }
  return d;
}

/** Reads a JSON protocol (or sweep) document; throws ProtocolError on unreadable or malformed files. */
export function readProtocolFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProtocolError('', `cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError('', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  return resolveCsvFiles(doc, path.dirname(path.resolve(file)));
}
