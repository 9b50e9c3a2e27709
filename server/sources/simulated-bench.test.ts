import { describe, expect, it } from 'vitest';
import type { BlockMessage, EventMessage, SourceMessage } from '../../common/run-stream.ts';
import { validateProtocol } from '../protocols/index.ts';
import { simulate } from '../twin/index.ts';
import { LIF_CIRCUIT, LIF_PARAMS, LifBench, SIMULATED_DEMO_PROTOCOL, createSimulatedBench } from './simulated-bench.ts';
import { SourceRegistry, loadSources } from './registry.ts';

describe('simulated LIF bench', () => {
  it('fires two spikes per period of the default 1 kHz square wave, as the parameters predict', () => {
    const rate = 1e6;
    const gen = new LifBench(validateProtocol({ kind: 'square' }), rate);
    const { spikes, stim, resp } = gen.next(10_000); // 10 periods
    expect(spikes.length).toBe(20);
    // First spike tau*ln(1/(1-Vth/(I R))) after the rising edge, the second one refractory period later again.
    const tau = LIF_PARAMS.R * LIF_PARAMS.C;
    const t1 = tau * Math.log(1 / (1 - LIF_PARAMS.vThreshold / (1e-3 * LIF_PARAMS.R)));
    expect(Math.abs(spikes[0].index - t1 * rate)).toBeLessThanOrEqual(1);
    expect(Math.abs(spikes[1].index - (2 * t1 + LIF_PARAMS.refractoryS) * rate)).toBeLessThanOrEqual(2);
    // Every period looks the same after the first one.
    expect(spikes[2].index - spikes[0].index).toBe(1000);
    // Stimulus codes: 1 mA high for 500 samples, 0 low; spike samples read V_spike.
    const [cs, cr] = gen.channels;
    expect(stim[0] * cs.scale).toBeCloseTo(1e-3, 6);
    expect(stim[500]).toBe(0);
    expect(resp[spikes[0].index] * cr.scale).toBeCloseTo(LIF_PARAMS.vSpike, 3);
    expect(cs.role).toBe('stimulus');
    expect(cr.role).toBe('response');
  });

  it('is the lif-bench twin circuit: the twin on the recorded stimulus gives the same trace and spikes', () => {
    for (const [doc, rate] of [
      [{ kind: 'square' }, 200_000],
      [{ kind: 'sine', frequencyHz: 300, amplitude: 1.5e-3, offset: 0.5e-3 }, 50_000],
    ] as const) {
      const protocol = validateProtocol({ ...doc, durationS: 0.02 });
      const n = Math.round(0.02 * rate);
      const gen = new LifBench(protocol, rate);
      const { stim, resp, spikes } = gen.next(n);
      const [cs, cr] = gen.channels;
      const twin = simulate(LIF_CIRCUIT, { samples: Float64Array.from(stim, (c) => c * cs.scale), sampleRate: rate, quantity: 'current' });
      expect(spikes.length).toBeGreaterThan(10);
      expect(twin.events.length).toBe(spikes.length);
      // the bench marks the first sample after the crossing; the twin's index is the nearest sample
      twin.events.forEach((e, i) => expect(spikes[i].index - e.time * rate).toBeGreaterThanOrEqual(0));
      twin.events.forEach((e, i) => expect(spikes[i].index - e.time * rate).toBeLessThanOrEqual(1));
      const drawn = new Set(spikes.map((s) => s.index));
      let worst = 0;
      for (let k = 0; k < n; k++) if (!drawn.has(k)) worst = Math.max(worst, Math.abs(resp[k] - Math.round(twin.channels[0].data[k] / cr.scale)));
      // the recorded stimulus is quantised (int16) and the twin locates crossings numerically: a few LSB of 62.5 µV
      expect(worst).toBeLessThanOrEqual(3);
    }
  });

  it('produces the same samples whatever the chunking', () => {
    const p = validateProtocol({ kind: 'sine', frequencyHz: 300, amplitude: 2e-3 });
    const whole = new LifBench(p, 50_000).next(5000);
    const parts = new LifBench(p, 50_000);
    const a = parts.next(1234);
    const b = parts.next(5000 - 1234);
    expect([...a.resp, ...b.resp]).toEqual([...whole.resp]);
    expect([...a.stim, ...b.stim]).toEqual([...whole.stim]);
    expect([...a.spikes, ...b.spikes]).toEqual(whole.spikes);
  });

  it('streams descriptor, contiguous blocks and spike events paced by the clock, and stops on abort', async () => {
    const protocol = validateProtocol({ kind: 'square', durationS: 10 });
    const src = createSimulatedBench({ protocol, sampleRate: 200_000, runId: 1 });
    const ac = new AbortController();
    const msgs: SourceMessage[] = [];
    const t0 = Date.now();
    for await (const m of src.messages(ac.signal)) {
      msgs.push(m);
      if (Date.now() - t0 > 200) ac.abort();
    }
    expect(msgs[0].type).toBe('descriptor');
    const blocks = msgs.filter((m): m is BlockMessage => m.type === 'block');
    const next = [0, 0];
    for (const b of blocks) {
      expect(b.firstIndex).toBe(next[b.channel]);
      next[b.channel] += b.samples.length;
    }
    // Paced: about 0.2 s worth, far less than the 10 s protocol.
    expect(next[1]).toBeLessThan(200_000 * 2);
    const regenerated = new LifBench(protocol, 200_000).next(next[1]);
    const spikes = msgs.filter((m): m is EventMessage => m.type === 'event').map((e) => e.index);
    expect(spikes).toEqual(regenerated.spikes.map((s) => s.index));
  });

  it('a stop ends the recording at its time: the samples due then go out, even when a busy event loop had not woken the source', async () => {
    const rate = 100_000;
    const protocol = validateProtocol({ kind: 'square', durationS: 10 });
    const ac = new AbortController();
    const messages = createSimulatedBench({ protocol, sampleRate: rate, runId: 1 }).messages(ac.signal)[Symbol.asyncIterator]();
    expect((await messages.next()).value).toMatchObject({ type: 'descriptor' });
    const first = messages.next(); // the source starts its clock and waits for its first block interval
    const t0 = performance.now();
    while (performance.now() - t0 < 300); // the event loop held: the source's timer cannot fire
    ac.abort();
    const msgs: SourceMessage[] = [];
    for (let r = await first; !r.done; r = await messages.next()) msgs.push(r.value);
    const samples = msgs.filter((m): m is BlockMessage => m.type === 'block' && m.channel === 1).reduce((n, b) => n + b.samples.length, 0);
    expect(samples).toBeGreaterThanOrEqual(0.3 * rate);
    expect(samples).toBeLessThan(10 * rate);
    const spikes = msgs.filter((m): m is EventMessage => m.type === 'event').map((e) => e.index);
    expect(spikes).toEqual(new LifBench(protocol, rate).next(samples).spikes.map((s) => s.index));
  });

  it('a stop ends the recording at the stop\'s time, not when a busy event loop lets the source run again', async () => {
    const rate = 100_000;
    const ac = new AbortController();
    const messages = createSimulatedBench({ protocol: validateProtocol({ kind: 'square', durationS: 10 }), sampleRate: rate, runId: 1 }).messages(ac.signal)[Symbol.asyncIterator]();
    await messages.next(); // the descriptor
    const first = messages.next(); // the source starts its clock
    const hold = (ms: number) => {
      const t0 = performance.now();
      while (performance.now() - t0 < ms);
    };
    hold(300);
    ac.abort();
    hold(300); // the stop is 300 ms old when the source wakes
    let samples = 0;
    for (let r = await first; !r.done; r = await messages.next()) if (r.value.type === 'block' && r.value.channel === 1) samples += r.value.samples.length;
    expect(samples).toBeGreaterThanOrEqual(0.3 * rate);
    expect(samples, 'samples due after the stop were sent').toBeLessThan(0.45 * rate);
  });

  it('is registered by loadSources and refuses a second registration', async () => {
    const reg = await loadSources(new SourceRegistry());
    expect(reg.kinds()).toContain('simulated');
    expect(await reg.list()).toContainEqual({ kind: 'simulated', title: expect.any(String), available: true, twinCircuit: 'lif-bench', protocol: { quantity: 'current', levelScale: 1, demo: { ...SIMULATED_DEMO_PROTOCOL } }, options: expect.objectContaining({ properties: { paced: expect.objectContaining({ title: 'Paced' }) } }) });
    expect(() => reg.registerSource('simulated', reg.get('simulated')!)).toThrow(/already registered/);
    // a demo protocol New run would start with is checked when the source registers, not when a user runs it
    expect(() => new SourceRegistry().registerSource('simulated', { ...reg.get('simulated')!, protocol: { quantity: 'current', levelScale: 1, demo: { kind: 'square', duty: 2 } } })).toThrow(/duty/);
  });
});
