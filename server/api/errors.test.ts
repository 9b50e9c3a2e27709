/** The one error catalogue: its docs table, and what becomes a 500. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { SourceRegistry } from '../sources/registry.ts';
import { RunStore } from '../store/run-store.ts';
import { buildApp } from './app.ts';
import { AppError, ERRORS } from '../../common/errors.ts';
import { StoreError } from '../store/errors.ts';
import { ProtocolError } from '../protocols/index.ts';
import { toAppError } from './errors.ts';
import { InstrumentError } from '../../drivers/transport/errors.ts';
import { DaqError } from '../../drivers/daq/board.ts';

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
    // the drivers' errors are AppErrors of the same catalogue: their code and message reach the API unchanged
    const timeout = toAppError(new InstrumentError('TIMEOUT', 'no reply to *IDN? within 1500 ms', { command: '*IDN?' }), 1024);
    expect([timeout.code, timeout.status, timeout.message]).toEqual(['TIMEOUT', 504, 'no reply to *IDN? within 1500 ms']);
    const board = toAppError(new DaqError('PROGRAM_LIMIT', 'cpu-rate', 'uno cannot sustain 20000 S/s: at most 7500 S/s', 7500), 1024);
    expect([board.code, board.status, (board as DaqError).reason]).toEqual(['PROGRAM_LIMIT', 400, 'cpu-rate']);
  });

  it('a bug is a 500 INTERNAL, never a 400', () => {
    for (const bug of [new TypeError("Cannot read properties of undefined (reading 'x')"), new RangeError('Invalid array length'), new SyntaxError('Unexpected token')]) {
      const e = toAppError(bug, 1024);
      expect(e).toBeInstanceOf(AppError);
      expect([e.code, e.status]).toEqual(['INTERNAL', 500]);
    }
  });

  it('over HTTP: a source that refuses its options answers 400 naming the option; a bug in a source answers 500 INTERNAL', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-errors-'));
    const store = RunStore.open(path.join(dir, 'runs.db'));
    const sources = new SourceRegistry();
    sources.registerSource('replay', {
      title: 'refuses gain, has a bug with gain 0',
      options: Type.Object({ gain: Type.Optional(Type.Unknown()) }, { additionalProperties: false }), // the source checks gain itself
      available: async () => ({ available: true }),
      create: (ctx) => {
        if (typeof ctx.options?.gain !== 'number') throw new AppError('BAD_SOURCE_OPTIONS', 'option gain must be a number', '/options/gain');
        return (undefined as unknown as { kind: 'replay' }).kind as never; // a bug: TypeError
      },
    });
    const token = 'errors-test-token';
    const app = await buildApp({ store, sources, instruments: false, webDist: false, security: { token } });
    try {
      const post = async (options: object) => {
        const r = await app.inject({ method: 'POST', url: '/api/runs', headers: { authorization: `Bearer ${token}` }, payload: { protocol: { kind: 'dc' }, source: 'replay', options } });
        return { status: r.statusCode, error: r.json().error };
      };
      expect(await post({ gain: 'high' })).toMatchObject({ status: 400, error: { code: 'BAD_SOURCE_OPTIONS', field: '/options/gain' } });
      expect(await post({ gain: 0 })).toMatchObject({ status: 500, error: { code: 'INTERNAL' } });
      expect(store.listRuns()).toEqual([]);
    } finally {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
