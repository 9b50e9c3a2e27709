import { Type } from 'typebox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunMessage, SourceMessage } from '../../common/run-stream.ts';
import { RunStore } from '../store/run-store.ts';
import { SourceRegistry } from '../sources/registry.ts';
import { NO_OPTIONS } from '../sources/options.ts';
import { register as registerSimulated } from '../sources/simulated-bench.ts';
import { RunManager } from './run-manager.ts';
import { AppError } from '../../common/errors.ts';
import { RUN_TRANSITIONS, RunStateMachine } from './state.ts';

const descriptor: SourceMessage = {
  type: 'descriptor',
  channels: [{ name: 'x', unit: 'V', sampleRate: 1000, dtype: 'int16', scale: 1e-3, offset: 0, role: 'response' }],
};

let dir: string;
let store: RunStore;
let sources: SourceRegistry;
let manager: RunManager;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-runs-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  sources = new SourceRegistry();
  registerSimulated(sources);
  // Sources that misbehave in ways real hardware rarely does on demand.
  sources.registerSource('daq', {
    options: NO_OPTIONS,
    title: 'fails after two blocks',
    available: async () => ({ available: true }),
    create: () => ({
      kind: 'daq',
      async *messages() {
        yield descriptor;
        yield { type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([1, 2, 3]) };
        yield { type: 'block', channel: 0, firstIndex: 3, samples: new Int16Array([4, 5]) };
        throw new Error('serial port vanished');
      },
    }),
  });
  sources.registerSource('smu', {
    options: NO_OPTIONS,
    title: 'ignores abort',
    available: async () => ({ available: true }),
    create: () => ({
      kind: 'smu',
      async *messages() {
        yield descriptor;
        await new Promise(() => {}); // hangs forever
      },
    }),
  });
  sources.registerSource('twin', {
    options: NO_OPTIONS,
    title: 'unavailable',
    available: async () => ({ available: false, detail: 'ngspice missing' }),
    create: () => {
      throw new Error('unreachable');
    },
  });
  sources.registerSource('replay', {
    title: 'checks its options',
    options: Type.Object({ gain: Type.Number() }, { additionalProperties: false }),
    available: async () => ({ available: true }),
    create: (ctx) => {
      if (typeof ctx.options?.gain !== 'number') throw new AppError('BAD_SOURCE_OPTIONS', `option gain must be a number, got ${JSON.stringify(ctx.options?.gain)}`, '/options');
      if (ctx.options.gain === 0) (undefined as unknown as { x: number }).x; // a bug: TypeError
      const gain = ctx.options.gain;
      return {
        kind: 'replay',
        async *messages() {
          yield descriptor;
          yield { type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([gain, 2 * gain]) };
        },
      };
    },
  });
  sources.registerSource('import', {
    options: NO_OPTIONS,
    title: 'finishes its chunk after the abort',
    available: async () => ({ available: true }),
    create: () => ({
      kind: 'import',
      async *messages(signal: AbortSignal) {
        yield descriptor;
        // as a paced source does: the stop arrives while it waits, the chunk it is in still goes out whole
        await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
        yield { type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array([0, 900, 0]) };
        yield { type: 'event', kind: 'spike', channel: 0, index: 1, value: 0.9 };
        // and, as the SMU source does, ends with a stop of its own that knows only that it was aborted
        yield { type: 'stop', status: 'aborted', reason: 'aborted by the user' };
      },
    }),
  });
  manager = new RunManager(store, sources, { abortGraceMs: 300 });
});

afterEach(async () => {
  await manager.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('run state machine', () => {
  it('allows only the transitions in the table and ends in done', () => {
    const m = new RunStateMachine();
    expect(m.state).toBe('starting');
    expect(() => m.to('starting')).toThrow(/illegal/);
    m.to('running');
    m.to('stopping');
    expect(m.tryTo('running')).toBe(false);
    m.to('done');
    expect(RUN_TRANSITIONS.done).toEqual([]);
    expect(() => m.to('running')).toThrow(/done -> running/);
  });
});

describe('run manager', () => {
  it('records a simulated run to completion with start and stop around the stream', async () => {
    const seen: RunMessage['type'][] = [];
    manager.subscribeAll((_, m) => seen.push(m.type));
    const run = await manager.start({ protocol: { kind: 'square', durationS: 0.1 }, sampleRate: 20_000, label: 'unit' });
    expect(run.status).toBe('running');
    expect(run.channels.map((c) => c.name)).toEqual(['stim', 'v_mem']);
    expect(manager.state(run.id)).toBe('running');
    const stop = await manager.waitForEnd(run.id);
    expect(stop).toEqual({ type: 'stop', status: 'completed' });
    const done = store.getRun(run.id)!;
    expect(done.status).toBe('completed');
    expect(done.label).toBe('unit');
    expect(done.channels.map((c) => c.sampleCount)).toEqual([2000, 2000]);
    expect(seen[0]).toBe('start');
    expect(seen[1]).toBe('descriptor');
    expect(seen.at(-1)).toBe('stop');
    expect(manager.isActive(run.id)).toBe(false);
  });

  it('stop() aborts with the reason, and the stop message reaches subscribers', async () => {
    const run = await manager.start({ protocol: { kind: 'square', durationS: 60 } });
    const got: RunMessage[] = [];
    manager.subscribe(run.id, (m) => got.push(m));
    await new Promise((r) => setTimeout(r, 100));
    const stopped = await manager.stop(run.id);
    expect(stopped.status).toBe('aborted');
    expect(stopped.reason).toBe('stopped by user');
    expect(got.at(-1)).toEqual({ type: 'stop', status: 'aborted', reason: 'stopped by user' });
    // Stopping again returns the stored run unchanged.
    expect((await manager.stop(run.id)).status).toBe('aborted');
  });

  it('a source error ends the run failed with the reason, keeping what was recorded', async () => {
    const run = await manager.start({ protocol: { kind: 'dc' }, source: 'daq' });
    const stop = await manager.waitForEnd(run.id);
    expect(stop).toMatchObject({ status: 'failed', reason: 'serial port vanished' });
    const stored = store.getRun(run.id)!;
    expect(stored.status).toBe('failed');
    expect(stored.reason).toBe('serial port vanished');
    expect(Array.from(store.readRaw(run.id, 0, 0, 5)[0].samples)).toEqual([1, 2, 3, 4, 5]);
  });

  it('after a stop, the source is drained to its end: the events of its last block are kept with it', async () => {
    const run = await manager.start({ protocol: { kind: 'dc' }, source: 'import' });
    // the reason is the one the stop was asked with, not the source's own stop message's
    const stopped = await manager.stop(run.id, 'server shutdown');
    expect(stopped).toMatchObject({ status: 'aborted', reason: 'server shutdown' });
    expect(Array.from(store.readRaw(run.id, 0, 0, 3)[0].samples)).toEqual([0, 900, 0]);
    expect(store.listEvents(run.id).map((e) => [e.kind, e.index])).toEqual([['spike', 1]]);
  });

  it('a source that ignores the abort is abandoned after the grace period, run aborted', async () => {
    const run = await manager.start({ protocol: { kind: 'dc' }, source: 'smu' });
    const stopped = await manager.stop(run.id);
    expect(stopped.status).toBe('aborted');
    expect(stopped.reason).toMatch(/did not stop within 300 ms/);
  });

  it('refuses bad requests before creating any run', async () => {
    const attempts: [object, string, string | undefined][] = [
      [{ protocol: { kind: 'square', frequencyHz: 0 } }, 'BAD_PROTOCOL', '/protocol/frequencyHz'],
      [{ protocol: { kind: 'warp' } }, 'BAD_PROTOCOL', '/protocol/kind'],
      [{ protocol: { kind: 'dc' }, sampleRate: 3e6 }, 'BAD_SAMPLE_RATE', '/sampleRate'],
      [{ protocol: { kind: 'dc' }, source: 'warp' }, 'SOURCE_UNKNOWN', '/source'],
      [{ protocol: { kind: 'dc' }, source: 'replay', options: { gain: 'high' } }, 'BAD_SOURCE_OPTIONS', '/options/gain'],
      [{ protocol: { kind: 'dc' }, source: 'replay', options: { gian: 7 } }, 'BAD_SOURCE_OPTIONS', '/options/gian'],
      [{ protocol: { kind: 'dc' }, source: 'twin' }, 'SOURCE_UNAVAILABLE', '/source'],
    ];
    for (const [req, code, field] of attempts) {
      const err = await manager.start(req as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code, field });
    }
    expect(store.listRuns()).toEqual([]);
  });

  it('a bug in a source (TypeError) is not passed off as bad options: it stays the TypeError, no run created', async () => {
    const err = await manager.start({ protocol: { kind: 'dc' }, source: 'replay', options: { gain: 0 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(AppError);
    expect(store.listRuns()).toEqual([]);
  });

  it('a run that names no rate gets its source\'s default rate, else the global default', () => {
    sources.registerSource('twin-slow' as never, {
      options: NO_OPTIONS,
      title: 'a source whose hardware sustains 5 kS/s',
      defaultSampleRate: 5000,
      available: async () => ({ available: true }),
      create: () => {
        throw new Error('not started in this test');
      },
    });
    const protocol = { kind: 'dc', durationS: 0.1 };
    expect(manager.validate({ protocol, source: 'twin-slow' as never }).sampleRate).toBe(5000);
    expect(manager.validate({ protocol, source: 'twin-slow' as never, sampleRate: 1234 }).sampleRate).toBe(1234);
    expect(manager.validate({ protocol, source: 'simulated' }).sampleRate).toBe(100_000);
  });

  it('passes run options to the source', async () => {
    const run = await manager.start({ protocol: { kind: 'dc' }, source: 'replay', options: { gain: 7 } });
    await manager.waitForEnd(run.id);
    expect(Array.from(store.readRaw(run.id, 0, 0, 2)[0].samples)).toEqual([7, 14]);
    expect(store.getRun(run.id)!.status).toBe('completed');
  });

  it('shutdown stops running runs cleanly and refuses new ones', async () => {
    const a = await manager.start({ protocol: { kind: 'square', durationS: 60 } });
    const b = await manager.start({ protocol: { kind: 'sine', durationS: 60 } });
    await manager.shutdown();
    for (const id of [a.id, b.id]) expect(store.getRun(id)).toMatchObject({ status: 'aborted', reason: 'server shutdown' });
    await expect(manager.start({ protocol: { kind: 'dc' } })).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
