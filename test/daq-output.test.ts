/**
 * DAQ stimulus output on the emulated Uno (real firmware in simavr, real pty): compile.ts programs played
 * by the board (tables + segments) with the applied stimulus on its own channel, capability refusals, the
 * hardware-timed pulse train (edges timed by the harness in emulated cycles), and the MCP4725 I2C DAC
 * (a slave on simavr's TWI) bit-exact through the `direct` circuit.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockMessage, EventMessage, SourceMessage } from '../common/run-stream.ts';
import { DaqRun, ProgramPlayer } from '../drivers/daq/source.ts';
import { FIRMWARE_BUILD, VirtualBoard } from '../drivers/daq/virtual.ts';
import { parseHelloReply, type Status } from '../drivers/daq/protocol.ts';
import { validateProtocol } from '../server/protocols/index.ts';
import { daqBoardProgram, unoCaps } from '../server/sources/daq-source.ts';
import { adcCode, collect, stimMv } from './daq-helpers.ts';

/** What the MCP4725 model puts out for a code (VDD 5 V), in mV. */
const dacMv = (code: number) => Math.floor((code * 5000) / 4096);

function channel(msgs: SourceMessage[], c: number): number[] {
  const blocks = msgs.filter((m): m is BlockMessage => m.type === 'block' && m.channel === c);
  const out: number[] = [];
  for (const b of blocks) {
    expect(b.firstIndex).toBe(out.length);
    out.push(...b.samples);
  }
  return out;
}

/** The run ended `completed`; otherwise the assertion names the reason and the fault events. */
function expectCompleted(msgs: SourceMessage[]) {
  const stop = msgs.at(-1);
  const why = msgs.flatMap((m) => (m.type === 'event' && m.kind === 'fault' ? [m.label] : m.type === 'stop' ? [m.reason] : [])).join('; ');
  expect(stop?.type === 'stop' && stop.status, why).toBe('completed');
}

/** Every STATUS the board sent during the run (heartbeat replies). */
function statuses(run: DaqRun): Status[] {
  const seen: Status[] = [];
  const prev = run.options.onBoard;
  (run.options as { onBoard?: DaqRun['options']['onBoard'] }).onBoard = (b) => {
    b.on('status', (s) => seen.push(s));
    prev?.(b);
  };
  return seen;
}

describe('DAQ stimulus output (emulated Uno)', () => {
  let vb: VirtualBoard;
  beforeAll(async () => {
    vb = await VirtualBoard.start({ circuit: { kind: 'direct' } });
  });
  afterAll(async () => {
    await vb?.close();
  });

  it('the pulse schedule walks the same edges as the direct formula (host C test)', () => {
    const out = execFileSync(path.join(FIRMWARE_BUILD, 'test_pulse'), { encoding: 'utf8' });
    expect(out).toMatch(/^ok \d+ checks/);
  });

  it('plays a compile.ts program (several tables and segments), stimulus channel aligned, ADC codes bit-exact', async () => {
    const ladder = validateProtocol({ kind: 'ladder', quantity: 'voltage', start: 1, stop: 4, steps: 4, dwellS: 0.03, restS: 0.02 });
    const rate = 5000;
    const run = new DaqRun({
      path: vb.path,
      channels: [0, 1],
      rate,
      program: (caps) => daqBoardProgram(ladder, caps),
      recordStimulus: true,
      durationSamples: Math.round(ladder.durationS * rate),
    });
    const msgs = await collect(run);
    expectCompleted(msgs);
    // the capabilities the board reported are the ones the server assumes for the virtual Uno
    expect(run.caps).toEqual(unoCaps(rate, 'pwm'));
    expect(run.board!.hello).toMatchObject({
      protocolVersion: 1,
      protocolMinor: 1,
      board: 'uno',
      outputs: ['pwm', 'mcp4725'],
      timerPulses: true,
      maxSegments: 16,
      tableBytes: 256,
      dacBits: 12,
      dacMaxRate: 9708,
      maxRequestPayload: 100,
      pulseMinUs: 60,
    });
    const program = run.program!;
    expect(program.tables.length).toBeGreaterThan(2);
    expect(program.segments.length).toBeGreaterThan(4);
    const player = new ProgramPlayer(program);
    const stim = channel(msgs, 0);
    const a0 = channel(msgs, 1);
    const a1 = channel(msgs, 2);
    expect(stim.length).toBe(Math.round(ladder.durationS * rate));
    let bad = 0;
    for (let i = 0; i < stim.length; i++) {
      const code = player.codeAt(i);
      const mv = stimMv(code);
      if (stim[i] !== code || a0[i] !== adcCode(mv) || a1[i] !== adcCode(5000 - mv)) bad++;
    }
    expect(bad).toBe(0);
    // the ladder's levels (1..4 V) and rests (0 V) are all there, in order, at the right indices
    const dwell = 0.03 * rate;
    const step = 0.05 * rate;
    for (let k = 0; k < 4; k++) {
      expect(stim[k * step + dwell / 2]).toBe(Math.round(((k + 1) / 5) * 255));
      expect(stim[k * step + dwell + 5]).toBe(0);
    }
    expect(run.stats.droppedTicks).toBe(0);
  });

  it('tells a protocol 1.0 board (name where 1.1 has its minor version) from a 1.1 one', () => {
    const v10 = new Uint8Array(27);
    v10.set([1, 0, 1, 0, 1, 6, 10, 8]);
    v10.set(new TextEncoder().encode('uno'), 24);
    expect(parseHelloReply(v10)).toMatchObject({ protocolMinor: 0, board: 'uno', outputs: ['pwm'], timerPulses: false });
  });

  it('refuses, naming the capability, a protocol the board cannot hold', async () => {
    const sine = validateProtocol({ kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 2, frequencyHz: 10, durationS: 1 });
    const run = new DaqRun({ path: vb.path, channels: [0], rate: 5000, program: (caps) => daqBoardProgram(sine, caps), durationSamples: 5000 });
    const msgs = await collect(run);
    const stop = msgs.at(-1);
    expect(stop).toMatchObject({ type: 'stop', status: 'failed' });
    expect(stop?.type === 'stop' && stop.reason).toMatch(/maxTableLength/);
    expect(msgs.some((m) => m.type === 'block')).toBe(false);
  });

  it('makes a pulse train with the timer: widths, periods and delay exact in timer counts (62.5 ns; simavr timestamps to 4 cycles), edges as events', async () => {
    const rate = 5000; // Timer1 prescaler 1: 16 counts per us, 3200 per sample
    const train = { delayUs: 130, periodUs: 1000, widthUs: 250, count: 20 };
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate, stimulus: { codes: [50, 150], loop: true }, pulses: train, durationSamples: 1500 });
    const seen = statuses(run);
    const msgs = await collect(run);
    expectCompleted(msgs);
    expect(run.pulsePrescaler).toBe(1);
    const st = await vb.stats();
    // emulated-cycle timestamps: simavr reports a compare-match output change when the instruction in
    // progress ends, so an edge is seen up to 4 cycles late
    const near = (got: number, want: number) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(4);
    expect(st.pulse_edges).toBe(40);
    near(st.pulse_first_rise, 3200 + 130 * 16); // tick 0 is one sample period after the timer starts
    for (const k of ['pulse_hi_min', 'pulse_hi_max']) near(st[k], 250 * 16);
    for (const k of ['pulse_lo_min', 'pulse_lo_max']) near(st[k], 750 * 16);
    for (const k of ['pulse_per_min', 'pulse_per_max']) near(st[k], 1000 * 16);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.lateEdges).toBe(0);
    expect(msgs.filter((m) => m.type === 'event' && m.kind === 'fault')).toEqual([]);
    // the host records every edge as a marker at the sample of the tick at or before it
    const edges = msgs.filter((m): m is EventMessage => m.type === 'event' && m.kind === 'marker' && /^pulse /.test(m.label ?? ''));
    expect(edges.length).toBe(40);
    expect(edges[0]).toMatchObject({ index: 0, value: 1, label: 'pulse 1 rise at 130.0000 us' });
    expect(edges[1]).toMatchObject({ index: 1, value: 0, label: 'pulse 1 fall at 380.0000 us' });
    expect(edges[39]).toMatchObject({ index: Math.floor((19_380e-6) * rate), value: 0 });
  });

  it('at a slow sample clock the pulse timer counts 0.5 us (prescaler 8); phases under the minimum are refused', async () => {
    const rate = 200;
    const train = { delayUs: 1001, periodUs: 2500, widthUs: 1234, count: 5 };
    const run = new DaqRun({ path: vb.path, channels: [0], rate, pulses: train, durationSamples: 20 });
    const msgs = await collect(run);
    expectCompleted(msgs);
    expect(run.pulsePrescaler).toBe(8);
    const st = await vb.stats();
    const near = (got: number, want: number) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(4);
    expect(st.pulse_edges).toBe(10);
    near(st.pulse_first_rise, 80_000 + 1001 * 16);
    near(st.pulse_hi_min, 1234 * 16);
    near(st.pulse_hi_max, 1234 * 16);
    near(st.pulse_per_min, 2500 * 16);
    near(st.pulse_per_max, 2500 * 16);

    const short = new DaqRun({ path: vb.path, channels: [0], rate: 5000, pulses: { delayUs: 0, periodUs: 100, widthUs: 30, count: 3 }, durationSamples: 100 });
    const refused = await collect(short);
    const stop = refused.at(-1);
    expect(stop).toMatchObject({ type: 'stop', status: 'failed' });
    expect(stop?.type === 'stop' && stop.reason).toMatch(/at least 60 us/);
  });

  it('drives the MCP4725 over I2C: 12-bit codes bit-exact through the DAC, rates the bus cannot follow refused', async () => {
    const codes = [0, 4095, 1, 4094, 2048, 2047, 1024, 3072, ...Array.from({ length: 120 }, (_, i) => (i * 331 + 17) % 4096)];
    const n = 1000;
    const run = new DaqRun({ path: vb.path, channels: [0, 1], rate: 2000, output: 'mcp4725', stimulus: { codes, loop: true }, durationSamples: n });
    const seen = statuses(run);
    const msgs = await collect(run);
    expectCompleted(msgs);
    expect(run.caps).toEqual(unoCaps(2000, 'mcp4725'));
    const desc = msgs[0];
    expect(desc.type === 'descriptor' && desc.channels[0].scale).toBeCloseTo(5 / 4096, 12);
    const stim = channel(msgs, 0);
    const a0 = channel(msgs, 1);
    const a1 = channel(msgs, 2);
    expect(stim.length).toBe(n);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const code = codes[i % codes.length];
      const mv = dacMv(code);
      if (stim[i] !== code || a0[i] !== adcCode(mv) || a1[i] !== adcCode(5000 - mv)) bad++;
    }
    expect(bad).toBe(0);
    expect(seen.at(-1)!.dacErrors).toBe(0);
    const st = await vb.stats();
    expect(st.dac_writes).toBeGreaterThanOrEqual(n);
    expect(st.dac_mv).toBe(0); // STOP writes 0 to the DAC

    const fast = new DaqRun({ path: vb.path, channels: [0, 1], rate: 20_000, output: 'mcp4725', stimulus: { codes, loop: true }, durationSamples: 100 });
    const refused = (await collect(fast)).at(-1);
    expect(refused).toMatchObject({ type: 'stop', status: 'failed' });
    expect(refused?.type === 'stop' && refused.reason).toMatch(/MCP4725.*at most 8620 S\/s/);
  });

  it('the stack never reached the static data over all the runs above (2 KiB of SRAM on the Uno)', async () => {
    // __bss_end: the end of the firmware's static data; the harness tracks the lowest stack pointer since reset
    const nm = execFileSync('avr-nm', [path.join(FIRMWARE_BUILD, 'uno/spikeloop_daq.elf')], { encoding: 'utf8' });
    const bssEnd = parseInt(/^([0-9a-f]+) B __bss_end$/m.exec(nm)![1], 16) & 0xffff;
    const st = await vb.stats();
    expect(st.sp_min).toBeGreaterThan(0);
    expect(st.sp_min).toBeLessThan(0x8ff); // the firmware did use its stack
    expect(st.sp_min).toBeGreaterThanOrEqual(bssEnd); // SP points at the next free byte: the lowest byte used is sp_min + 1
  });
});
