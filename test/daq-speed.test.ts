/**
 * The acquisition path at the Uno's full rate: 2 channels at the highest rate the board accepts (its CPU budget,
 * docs/daq/overview.md "Rate limits"; 20 kS/s is refused), a known stimulus table in, every tick delivered and every
 * ADC code bit-exact, over 2 s of emulated time. Not timed (the bench daq_sustained_ks_2ch measures the 10-minute run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualBoard } from '../drivers/daq/virtual.ts';
import { DaqRun } from '../drivers/daq/source.ts';
import type { BlockMessage } from '../common/run-stream.ts';
import { adcCode, collect, refusedLimit, stimMv } from './daq-helpers.ts';

describe('virtual DAQ board at its highest rate, 2 channels', () => {
  let vb: VirtualBoard;
  beforeAll(async () => {
    vb = await VirtualBoard.start({ circuit: { kind: 'direct' } });
  });
  afterAll(async () => {
    await vb?.close();
  });

  it('refuses 20 kS/s, then delivers 2 s of both channels at the limit gap-free and bit-exact, aligned with the stimulus table', async () => {
    // 253 entries (prime to the 64- and 96-tick blocks): a scrambled ramp plus full-scale jumps, looped
    const codes = Array.from({ length: 245 }, (_, i) => (i * 97) % 256).concat([0, 255, 0, 255, 128, 1, 254, 3]);
    const refused = await collect(new DaqRun({ path: vb.path, channels: [0, 1], rate: 20_000, stimulus: { codes, loop: true }, durationSamples: 100 }));
    const limit = refusedLimit(refused, /cannot sustain 20000 S\/s without losing samples with 2 analog input\(s\), PWM output: at most (\d+) S\/s/);
    expect(limit).toBeGreaterThan(15_000);
    const n = 2 * limit;
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate: limit, stimulus: { codes, loop: true }, durationSamples: n });
    const msgs = await collect(run);
    expect(Math.floor(run.rate)).toBe(limit);
    expect(msgs.find((m) => m.type === 'stop')).toEqual({ type: 'stop', status: 'completed', reason: undefined });
    expect(msgs.filter((m) => m.type === 'event' && m.kind === 'fault')).toEqual([]);
    const data = [0, 1, 2].map((ch) => {
      const blocks = msgs.filter((m): m is BlockMessage => m.type === 'block' && m.channel === ch);
      const out: number[] = [];
      for (const b of blocks) {
        expect(b.firstIndex).toBe(out.length); // no gap, no overlap
        out.push(...b.samples);
      }
      return out;
    });
    for (const d of data) expect(d.length).toBe(n);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const code = codes[i % codes.length];
      const mv = stimMv(code);
      if (data[0][i] !== code || data[1][i] !== adcCode(mv) || data[2][i] !== adcCode(5000 - mv)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(run.stats.droppedTicks).toBe(0);
    expect(run.stats.crcErrors).toBe(0);
  });
});
