/** The SMU run source against the virtual 2600B over TCP: a sine I-V run, an abort, a refused protocol. */
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockMessage, DescriptorMessage, SourceMessage } from '../common/run-stream.ts';
import { VirtualSmuServer } from '../drivers/smu/virtual/server.ts';
import { defaultSmuDut } from '../server/sources/smu-twin-dut.ts';
import { createSmuSource, register } from '../server/sources/smu-source.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunManager } from '../server/runs/run-manager.ts';
import { SourceRegistry } from '../server/sources/registry.ts';
import { RunStore } from '../server/store/run-store.ts';

const servers: VirtualSmuServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function serve() {
  const s = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: defaultSmuDut() });
  servers.push(s);
  return s;
}
const limits = { maxVoltage: 2, maxCurrent: 1e-2, maxPower: 1e-2 };

async function collect(it: AsyncIterable<SourceMessage>, onMsg?: (m: SourceMessage) => void) {
  const out: SourceMessage[] = [];
  for await (const m of it) {
    out.push(m);
    onMsg?.(m);
  }
  return out;
}

describe('SMU run source', () => {
  it('plays a sine voltage on the memristor and streams a pinched hysteresis loop', async () => {
    const server = await serve();
    const src = createSmuSource({
      address: server.addresses[0],
      protocol: { kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 0, frequencyHz: 2, durationS: 0.5 },
      limits,
      compliance: 1e-3,
      pointRateHz: 200,
      chunkPoints: 25,
    });
    expect(src.kind).toBe('smu');
    const msgs = await collect(src.messages(new AbortController().signal));
    const d = msgs[0] as DescriptorMessage;
    expect(d.type).toBe('descriptor');
    expect(d.channels.map((c) => [c.name, c.unit, c.role, c.sampleRate])).toEqual([
      ['stim', 'V', 'stimulus', 200],
      ['resp', 'A', 'response', 200],
      ['t_instr', 's', 'response', 200],
    ]);
    const blocks = msgs.filter((m): m is BlockMessage => m.type === 'block');
    const join = (ch: number) => {
      const bs = blocks.filter((b) => b.channel === ch);
      let next = 0;
      const out: number[] = [];
      for (const b of bs) {
        expect(b.firstIndex).toBe(next); // no gaps
        next += b.samples.length;
        out.push(...b.samples);
      }
      return out;
    };
    const v = join(0);
    const i = join(1);
    const t = join(2);
    expect(v.length).toBe(100);
    expect(msgs.some((m) => m.type === 'stop')).toBe(false);
    // one period at 2 Hz / 200 points/s = 100 points; +0.5 V rising at k≈8, falling at k≈42
    const up = i[8];
    const down = i[42];
    expect(v[8]).toBeCloseTo(v[42], 6);
    expect(Math.abs(down - up) / Math.abs(up)).toBeGreaterThan(0.05);
    // the instrument ran at the point rate (its own timestamps), once the source delay was calibrated
    expect(Math.abs((t[99] - t[75]) / 24 - 1 / 200)).toBeLessThan(0.01 / 200);
    const lines = server.instrument.log.map((e) => e.line);
    expect(lines.at(-2)).toBe('smua.source.output = smua.OUTPUT_OFF');
    expect(server.instrument.channel.output).toBe(false);
  });

  it('aborts promptly with the output ramped off', async () => {
    const server = await serve();
    const ac = new AbortController();
    const src = createSmuSource({
      address: server.addresses[0],
      protocol: { kind: 'square', quantity: 'voltage', amplitude: 1, offset: 0, frequencyHz: 5, durationS: 30 },
      limits,
      compliance: 1e-3,
      pointRateHz: 100,
      chunkPoints: 20,
    });
    let blocks = 0;
    const msgs = await collect(src.messages(ac.signal), (m) => m.type === 'block' && ++blocks === 6 && ac.abort());
    expect(msgs.at(-1)).toEqual({ type: 'stop', status: 'aborted', reason: 'aborted by the user' });
    expect(server.instrument.channel.output).toBe(false);
    expect(server.instrument.log.some((e) => e.line === 'smua.source.output = smua.OUTPUT_OFF')).toBe(true);
  });

  it('refuses a protocol beyond the bench limits before the output turns on', async () => {
    const server = await serve();
    const src = createSmuSource({
      address: server.addresses[0],
      protocol: { kind: 'pulse-train', quantity: 'voltage', amplitude: 5, baseline: 0, widthS: 0.01, periodS: 0.02, count: 5, durationS: 0.1 },
      limits,
      compliance: 1e-3,
    });
    const msgs = await collect(src.messages(new AbortController().signal));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ type: 'stop', status: 'failed' });
    expect((msgs[0] as { reason: string }).reason).toMatch(/5 V exceeds the bench limit maxVoltage = 2 V/);
    expect(server.instrument.log.some((e) => /OUTPUT_ON/.test(e.line))).toBe(false);
  });
});

describe('SMU runs through the run manager into a SQLite store', () => {
  it('stores an I-V run (pinched loop) with stimulus, response and timestamp channels', async () => {
    const server = await serve();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-smu-run-'));
    const store = RunStore.open(path.join(dir, 'runs.db'));
    try {
      const sources = new SourceRegistry();
      register(sources);
      const manager = new RunManager(store, sources);
      const started = await manager.start({
        protocol: { kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 0, frequencyHz: 2, durationS: 0.5 },
        source: 'smu',
        sampleRate: 200,
        options: { address: server.addresses[0], compliance: 1e-3 },
        from: 'local', // an address is taken from this machine's CLI, never from the network
      });
      await manager.waitForEnd(started.id);
      const run = store.getRun(started.id)!;
      expect(run.status).toBe('completed');
      expect(run.source).toBe('smu');
      expect(run.channels.map((c) => [c.name, c.unit, c.role, c.sampleCount])).toEqual([
        ['stim', 'V', 'stimulus', 100],
        ['resp', 'A', 'response', 100],
        ['t_instr', 's', 'response', 100],
      ]);
      const read = (ch: number) => store.readRaw(run.id, ch, 0, 100).flatMap((seg) => Array.from(seg.samples as Float64Array));
      const v = read(0);
      const i = read(1);
      expect(v[8]).toBeCloseTo(v[42], 6);
      expect(Math.abs(i[42] - i[8]) / Math.abs(i[8])).toBeGreaterThan(0.05);
      expect(server.instrument.channel.output).toBe(false);
      // a point rate an SMU cannot do is refused before the run starts
      await expect(
        manager.start({ protocol: { kind: 'dc', quantity: 'voltage', level: 0.1 }, source: 'smu', sampleRate: 100_000, options: { address: server.addresses[0] }, from: 'local' }),
      ).rejects.toThrow(/at most 1000/);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with no instrument named, records from a virtual 2400 on a pty at its default point rate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-smu-virtual-'));
    const store = RunStore.open(path.join(dir, 'runs.db'));
    const saved = process.env.SPIKELOOP_SMU;
    delete process.env.SPIKELOOP_SMU;
    try {
      const sources = new SourceRegistry();
      register(sources);
      expect((await sources.list())[0]).toMatchObject({ kind: 'smu', available: true, defaultSampleRate: 100 });
      const manager = new RunManager(store, sources);
      const started = await manager.start({
        protocol: { kind: 'iv-sweep', peak: 1, periodS: 0.3, cycles: 1 } as never,
        source: 'smu',
        options: { compliance: 1e-3 },
      });
      await manager.waitForEnd(started.id);
      const run = store.getRun(started.id)!;
      expect(run.status, run.reason ?? '').toBe('completed');
      expect(run.bench).toMatchObject({ virtual: true, pointRateHz: 100 });
      expect(run.channels.map((c) => [c.name, c.sampleRate, c.sampleCount])).toEqual([
        ['stim', 100, 30],
        ['resp', 100, 30],
        ['t_instr', 100, 30],
      ]);
    } finally {
      if (saved !== undefined) process.env.SPIKELOOP_SMU = saved;
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
