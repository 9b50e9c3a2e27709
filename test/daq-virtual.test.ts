/**
 * The real firmware in simavr behind a real pty, driven by the host driver: a known stimulus table in,
 * bit-exact ADC codes out, the stimulus channel aligned to the sample index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualBoard } from '../drivers/daq/virtual.ts';
import { DaqRun } from '../drivers/daq/source.ts';
import type { BlockMessage, SourceMessage } from '../common/run-stream.ts';
import { adcCode, collect, stimMv } from './daq-helpers.ts';

function channelData(msgs: SourceMessage[], channel: number): { first: number; data: number[] } {
  const blocks = msgs.filter((m): m is BlockMessage => m.type === 'block' && m.channel === channel);
  const data: number[] = [];
  for (const b of blocks) {
    expect(b.firstIndex).toBe(blocks[0].firstIndex + data.length);
    data.push(...b.samples);
  }
  return { first: blocks[0]?.firstIndex ?? 0, data };
}

describe('virtual DAQ board (firmware in simavr, real pty)', () => {
  let vb: VirtualBoard;
  beforeAll(async () => {
    vb = await VirtualBoard.start({ circuit: { kind: 'direct' } });
  });
  afterAll(async () => {
    await vb?.close();
  });

  it('returns bit-exact ADC codes for a known stimulus, stimulus channel aligned to the index', async () => {
    // a table of 256 entries (scrambled ramp plus full-scale jumps), looped
    const codes = Array.from({ length: 248 }, (_, i) => (i * 97) % 256).concat([0, 255, 0, 255, 128, 1, 254, 3]);
    const n = 12_000;
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate: 10_000, stimulus: { codes, loop: true }, recordStimulus: true, durationSamples: n });
    const msgs = await collect(run);
    const stop = msgs.find((m) => m.type === 'stop');
    expect(stop).toEqual({ type: 'stop', status: 'completed', reason: undefined });
    const desc = msgs[0];
    expect(desc.type).toBe('descriptor');
    if (desc.type === 'descriptor') expect(desc.channels.map((c) => c.name)).toEqual(['stim', 'a0', 'a1']);
    const stim = channelData(msgs, 0);
    const a0 = channelData(msgs, 1);
    const a1 = channelData(msgs, 2);
    expect(stim.first).toBe(0);
    expect(stim.data.length).toBe(n);
    expect(a0.data.length).toBe(n);
    expect(a1.data.length).toBe(n);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const code = codes[i % codes.length];
      const mv = stimMv(code);
      if (stim.data[i] !== code || a0.data[i] !== adcCode(mv) || a1.data[i] !== adcCode(5000 - mv)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(run.stats.droppedTicks).toBe(0);
    expect(run.stats.crcErrors).toBe(0);
  });
});
