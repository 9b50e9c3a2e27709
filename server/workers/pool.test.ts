/** The one worker pool (tinypool underneath) running real twin tasks on real threads. */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { TaskError, WorkerPool } from './pool.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';
import { validateProtocol } from '../protocols/index.ts';

const lif = builtInCircuit('lif');
/** A lif simulation of n samples at 100 kS/s (10^6 samples take about half a second). */
const twin = (n: number) => ({ circuit: lif, stimulus: { samples: new Float64Array(n).fill(30e-6), sampleRate: 100_000, quantity: 'current' as const } });

describe('worker pool', () => {
  it('a failing task rejects with its message and code; the pool keeps working; closing rejects new work', async () => {
    const p = new WorkerPool({ threads: 1 });
    const err = await p.run('twin', { circuit: { kind: 'bogus' }, stimulus: twin(4).stimulus }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).message).toMatch(/unknown circuit kind/);
    expect((err as TaskError).code).toBe('TWIN_BAD_CIRCUIT');
    const ok = await p.run('twin', twin(100));
    expect(ok.channels.map((c) => c.name)).toEqual(['v_mem', 'i_in']);
    expect(ok.channels[0].data).toBeInstanceOf(Float64Array);
    expect(ok.channels[0].data.length).toBe(100);
    await p.close();
    await expect(p.run('twin', twin(4))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('runs at most `threads` tasks at once, the rest in order', async () => {
    const order = async (threads: number) => {
      const p = new WorkerPool({ threads });
      const done: string[] = [];
      await p.run('twin', twin(10)); // a warm thread, so both tasks start from the same state
      await Promise.all([p.run('twin', twin(1_500_000)).then(() => done.push('long')), p.run('twin', twin(1000)).then(() => done.push('short'))]);
      await p.close();
      return done;
    };
    expect(await order(1)).toEqual(['long', 'short']);
    expect(await order(2)).toEqual(['short', 'long']);
    // pool threads run at nice 10: on a loaded machine the long task takes a while
  }, 120_000);

  it('an AbortSignal cancels a queued task and stops a running one; the pool goes on', async () => {
    const p = new WorkerPool({ threads: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const t0 = performance.now();
    const a = p.run('twin', twin(20_000_000), { signal: running.signal }).catch((e: unknown) => e);
    const b = p.run('twin', twin(1000), { signal: queued.signal }).catch((e: unknown) => e);
    queued.abort(new Error('not wanted'));
    expect(await b).toMatchObject({ code: 'CANCELLED', message: 'cancelled: not wanted' });
    running.abort(new Error('user stop'));
    expect(await a).toMatchObject({ code: 'CANCELLED' });
    // 2·10^7 samples would take about 10 s; the stopped thread is replaced and the next task runs
    expect(performance.now() - t0).toBeLessThan(8000);
    expect((await p.run('twin', twin(100))).channels[0].data.length).toBe(100);
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(p.run('twin', twin(10), { signal: aborted })).rejects.toThrow(/already/);
    await p.close();
  }, 30_000);
});

describe('one abort signal for many tasks', () => {
  it('holds one abort listener on a signal shared by 24 queued tasks, none once they end, and still cancels them all', async () => {
    const p = new WorkerPool({ threads: 1 });
    const shared = new AbortController();
    const done = Array.from({ length: 24 }, () => p.run('twin', twin(100), { signal: shared.signal }));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    await Promise.all(done);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    const cancelled = Array.from({ length: 12 }, () => p.run('twin', twin(2_000_000), { signal: shared.signal }).catch((e: unknown) => e));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort(new Error('sweep stopped'));
    for (const e of await Promise.all(cancelled)) expect(e).toMatchObject({ code: 'CANCELLED', message: 'cancelled: sweep stopped' });
    await p.close();
  }, 30_000);
});

describe('streaming tasks', () => {
  it('a twin run streams in order from its thread; a reader that stops early stops the thread', async () => {
    const p = new WorkerPool({ threads: 1 });
    // 20 s at 100 kS/s: far more than is read here
    const spec = { protocol: validateProtocol({ kind: 'dc', quantity: 'current', level: 30e-6, durationS: 20 }), sampleRate: 100_000, options: { circuit: 'lif' } };
    const items = p.stream('twinRun', spec);
    const first = await items.next();
    expect(first.value).toHaveProperty('twin');
    expect((await items.next()).value).toMatchObject({ type: 'descriptor' });
    let next = 0;
    for (let k = 0; k < 20; k++) {
      const m = (await items.next()).value as { type: string; channel?: number; firstIndex?: number; samples?: Float64Array };
      if (m.type === 'block' && m.channel === 0) {
        expect(m.firstIndex).toBe(next);
        next += m.samples!.length;
      }
    }
    expect(p.pending).toBe(1);
    await items.return(undefined);
    expect(p.pending).toBe(0);
    // the thread was replaced: the next task runs
    expect((await p.run('twin', twin(100))).channels[0].data.length).toBe(100);
    await p.close();
  }, 30_000);

  it("a refusal before the first item rejects the first next() with the worker's code and field", async () => {
    const p = new WorkerPool({ threads: 1 });
    const spec = { protocol: validateProtocol({ kind: 'dc', quantity: 'current', level: 1e-6, durationS: 0.01 }), sampleRate: 1000, options: { circuit: 'no-such-circuit' } };
    await expect(p.stream('twinRun', spec).next()).rejects.toMatchObject({ code: 'BAD_CIRCUIT', field: '/options/circuit' });
    await p.close();
  });
});
