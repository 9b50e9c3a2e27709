/**
 * Rate limits on the emulated Uno (real firmware in simavr, real pty): the board refuses, before any output turns
 * on, a sample rate its CPU cannot sustain without losing ticks for the configuration (inputs, stimulus echo,
 * pulse train), naming the mode and the highest rate it sustains; a run at that rate loses nothing.
 * The plain 2-channel limit is in daq-speed.test.ts, the MCP4725's I2C limit (dac-rate) in daq-output.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceMessage } from '../common/run-stream.ts';
import { DaqRun } from '../drivers/daq/source.ts';
import { VirtualBoard } from '../drivers/daq/virtual.ts';
import { collect, refusedLimit } from './daq-helpers.ts';

const codes = Array.from({ length: 200 }, (_, i) => (i * 97) % 256);

/** The run completed with every tick of every channel delivered, no gap. */
function expectLossless(run: DaqRun, msgs: SourceMessage[], n: number, channels: number) {
  const stop = msgs.at(-1);
  expect(stop, JSON.stringify(stop)).toMatchObject({ type: 'stop', status: 'completed' });
  expect(msgs.filter((m) => m.type === 'event' && m.kind === 'fault')).toEqual([]);
  for (let ch = 0; ch < channels; ch++) {
    let next = 0;
    for (const m of msgs) {
      if (m.type !== 'block' || m.channel !== ch) continue;
      expect(m.firstIndex).toBe(next);
      next += m.samples.length;
    }
    expect(next).toBe(n);
  }
  expect(run.stats.droppedTicks).toBe(0);
}

describe('DAQ rate limits (emulated Uno)', () => {
  let vb: VirtualBoard;
  beforeAll(async () => {
    vb = await VirtualBoard.start({ circuit: { kind: 'direct' } });
  });
  afterAll(async () => {
    await vb?.close();
  });

  /** Runs `make()` for a run the board must refuse; no output turned on meanwhile. */
  async function refused(run: DaqRun, pattern: RegExp): Promise<number> {
    const since = vb.events.length;
    const limit = refusedLimit(await collect(run), pattern);
    expect(vb.events.slice(since).filter((e) => e.kind === 'outputs')).toEqual([]);
    return limit;
  }

  it('with the stimulus echo (3 values per tick): 16 kS/s refused, the limit it names loses nothing', async () => {
    const limit = await refused(
      new DaqRun({ path: vb.path, channels: [0, 1], rate: 16_000, recordStimulus: true, stimulus: { codes, loop: true }, durationSamples: 100 }),
      /cannot sustain 16000 S\/s without losing samples with 2 analog input\(s\) \+ the stimulus echo, PWM output: at most (\d+) S\/s/,
    );
    expect(limit).toBeGreaterThan(10_000);
    expect(limit).toBeLessThan(16_000);
    const n = limit; // 1 s
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate: limit, recordStimulus: true, stimulus: { codes, loop: true }, durationSamples: n });
    const msgs = await collect(run);
    expectLossless(run, msgs, n, 3);
  });

  it('six inputs: a lower limit than two', async () => {
    const limit = await refused(
      new DaqRun({ path: vb.path, channels: [0, 1, 2, 3, 4, 5], rate: 10_000, durationSamples: 100 }),
      /cannot sustain 10000 S\/s without losing samples with 6 analog input\(s\), PWM output: at most (\d+) S\/s/,
    );
    expect(limit).toBeLessThan(10_000);
    const run = new DaqRun({ path: vb.path, channels: [0, 1, 2, 3, 4, 5], rate: limit, durationSamples: limit });
    expectLossless(run, await collect(run), limit, 6);
  });

  it('with a pulse train: refused at PULSES, before START, above the pulse-mode limit; at the limit no tick and no edge is lost', async () => {
    const train = { delayUs: 100, periodUs: 1000, widthUs: 200, count: 0 };
    const limit = await refused(
      new DaqRun({ path: vb.path, channels: [0, 1], rate: 12_500, pulses: train, stimulus: { codes, loop: true }, durationSamples: 100 }),
      /cannot sustain 12500 S\/s without losing samples with a pulse train every 1000 us \(pulse mode\): at most (\d+) S\/s/,
    );
    expect(limit).toBeLessThanOrEqual(10_000);
    const st0 = await vb.stats();
    expect(st0.pulse_edges).toBe(0); // the refused run never started the sample clock
    const n = limit; // 1 s: 1000 pulses
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate: limit, pulses: train, stimulus: { codes, loop: true }, durationSamples: n });
    const late: number[] = [];
    (run.options as { onBoard?: DaqRun['options']['onBoard'] }).onBoard = (b) => b.on('status', (s) => late.push(s.lateEdges));
    const msgs = await collect(run);
    expectLossless(run, msgs, n, 2);
    expect(late.at(-1)).toBe(0);
    const edges = msgs.filter((m) => m.type === 'event' && m.kind === 'marker' && /^pulse /.test(m.label ?? ''));
    expect(edges.length).toBeGreaterThan(1900);
  });
});
