/** The one error catalogue: its docs table, and what becomes a 500. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERRORS } from '../../common/errors.ts';
import { StoreError } from '../store/errors.ts';
import { ProtocolError } from '../protocols/index.ts';
import { toAppError } from './errors.ts';

describe('error catalogue', () => {
  it('docs/api.md lists every code with its status', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const [code, e] of Object.entries(ERRORS)) expect(doc, code).toContain(`| ${code} | ${e.status} |`);
  });

  it('an AppError (or a narrowing of it) keeps its code, status and field', () => {
    expect(toAppError(new ProtocolError('/frequencyHz', 'must be > 0'), 1024).body()).toEqual({
      error: { code: 'BAD_PROTOCOL', message: 'protocol field /frequencyHz: must be > 0', field: '/frequencyHz' },
    });
    const store = toAppError(new StoreError('STORE_LOCKED', 'another process writes'), 1024);
    expect([store.code, store.status]).toEqual(['STORE_LOCKED', 503]);
  });

  it('a bug is a 500 INTERNAL, never a 400', () => {
    for (const bug of [new TypeError("Cannot read properties of undefined (reading 'x')"), new RangeError('Invalid array length'), new SyntaxError('Unexpected token')]) {
      const e = toAppError(bug, 1024);
      expect(e).toBeInstanceOf(AppError);
      expect([e.code, e.status]).toEqual(['INTERNAL', 500]);
    }
  });
});
