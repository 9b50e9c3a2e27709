import { describe, expect, it } from 'vitest';
import { validateProtocol } from '../protocols/index.ts';
import { SourceRegistry } from './registry.ts';
import { CompileError } from '../protocols/compile.ts';
import { ProgramPlayer } from '../../drivers/daq/source.ts';
import { daqBoardProgram, register, unoCaps, withSpikeEvents } from './daq-source.ts';
import { circuitDaqSpikes } from './daq-twin-dut.ts';
import { loadExampleCircuit } from './twin-source.ts';
import type { SourceMessage } from '../../common/run-stream.ts';

describe('DAQ source', () => {
  it('compiles protocols with compile.ts for the board, refusing (naming the capability) what it cannot play', () => {
    const sq = validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 5, offset: 0, frequencyHz: 100, duty: 0.25, durationS: 0.05 });
    const prog = daqBoardProgram(sq, unoCaps(10_000));
    const player = new ProgramPlayer(prog);
    expect(player.total).toBe(500);
    const codes = Array.from({ length: 100 }, (_, i) => player.codeAt(i));
    expect(codes.filter((c) => c === 255).length).toBe(25);
    expect(codes.filter((c) => c === 0).length).toBe(75);
    // 1 mA through the default 5 kOhm series resistor is full scale; the MCP4725 has 4096 steps of 5/4096 V
    const dc = validateProtocol({ kind: 'dc', quantity: 'current', level: 0.5e-3, durationS: 0.01 });
    expect(new ProgramPlayer(daqBoardProgram(dc, unoCaps(1000))).codeAt(5)).toBe(128);
    expect(new ProgramPlayer(daqBoardProgram(dc, unoCaps(1000, 'mcp4725'))).codeAt(5)).toBe(2048);
    // a ladder: piecewise constant, one-sample tables per level, a segment per step
    const ladder = validateProtocol({ kind: 'ladder', quantity: 'voltage', start: 1, stop: 4, steps: 4, dwellS: 0.01, restS: 0.01 });
    const lp = daqBoardProgram(ladder, unoCaps(1000));
    expect(lp.segments.length).toBeGreaterThan(1);
    expect(lp.segments.length).toBeLessThanOrEqual(16);
    expect(() => daqBoardProgram(validateProtocol({ kind: 'dc', quantity: 'voltage', level: 6 }), unoCaps(1000))).toThrow(/outputRange/);
    // a 10 Hz sine at 10 kS/s needs a 1000-sample period table; the Uno holds 256 entries
    const sine = validateProtocol({ kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 2, frequencyHz: 10, durationS: 1 });
    expect(() => daqBoardProgram(sine, unoCaps(10_000))).toThrow(CompileError);
    expect(() => daqBoardProgram(sine, unoCaps(10_000))).toThrow(/maxTableLength/);
  });

  it('records a run from the virtual board through the registry', async () => {
    const registry = new SourceRegistry();
    register(registry);
    const def = registry.get('daq')!;
    expect((await def.available()).available).toBe(true);
    const protocol = validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 4, offset: 0, frequencyHz: 50, duty: 0.5, durationS: 0.5 });
    const src = await def.create({ protocol, sampleRate: 2000, runId: 1 });
    const msgs: SourceMessage[] = [];
    for await (const m of src.messages(new AbortController().signal)) msgs.push(m);
    expect(msgs[0].type).toBe('descriptor');
    expect(msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    const stim = msgs.flatMap((m) => (m.type === 'block' && m.channel === 0 ? [...m.samples] : []));
    expect(stim.length).toBe(1000);
    // 50 Hz square at 2 kS/s: 20 samples at 4 V (code 204), 20 at 0, from index 0
    expect(stim.slice(0, 40)).toEqual([...Array(20).fill(204), ...Array(20).fill(0)]);

    // what the virtual Uno cannot hold is refused before the run, naming the capability
    const sine = validateProtocol({ kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 2, frequencyHz: 10, durationS: 1 });
    await expect(def.create({ protocol: sine, sampleRate: 10_000, runId: 2 })).rejects.toThrow(/maxTableLength/);

    // the MCP4725 output and a pulse train, through the registry options
    const ramp = validateProtocol({ kind: 'sine', quantity: 'voltage', amplitude: 2, offset: 2.5, frequencyHz: 50, durationS: 0.2 });
    const dac = await def.create({ protocol: ramp, sampleRate: 2000, runId: 3, options: { output: 'mcp4725', pulses: { delayUs: 100, periodUs: 20_000, widthUs: 5000, count: 5 } } });
    const got: SourceMessage[] = [];
    for await (const m of dac.messages(new AbortController().signal)) got.push(m);
    expect(got.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    expect(got[0].type === 'descriptor' && got[0].channels[0].scale).toBeCloseTo(5 / 4096, 12);
    const codes = got.flatMap((m) => (m.type === 'block' && m.channel === 0 ? [...m.samples] : []));
    expect(codes.length).toBe(400);
    expect(Math.max(...codes)).toBe(Math.round((4.5 / 5) * 4096));
    const pulses = got.filter((m) => m.type === 'event' && m.kind === 'marker' && m.label?.startsWith('pulse'));
    expect(pulses.length).toBe(10); // 5 pulses, the last ending at 85.1 ms
  });

  it('spike events: passes the stream on unchanged, an event after the block holding it, state across blocks, none across a gap', async () => {
    const blocks: SourceMessage[] = [
      { type: 'descriptor', channels: [
        { name: 'stim', unit: 'V', sampleRate: 1000, dtype: 'uint16', scale: 5 / 255, offset: 0, role: 'stimulus' },
        { name: 'a0', unit: 'V', sampleRate: 1000, dtype: 'uint16', scale: 5 / 1024, offset: 0, role: 'response' },
      ] },
      { type: 'block', channel: 0, firstIndex: 0, samples: Uint16Array.from([0, 255, 0]) },
      { type: 'block', channel: 1, firstIndex: 0, samples: Uint16Array.from([0, 200, 300]) },
      { type: 'block', channel: 1, firstIndex: 3, samples: Uint16Array.from([0, 100]) }, // reset at 3, across blocks
      { type: 'block', channel: 1, firstIndex: 9, samples: Uint16Array.from([0, 0]) }, // 100 -> 0 across the gap: nothing
      { type: 'stop', status: 'completed' },
    ];
    async function* src() {
      yield* blocks;
    }
    const out: SourceMessage[] = [];
    for await (const m of withSpikeEvents(src(), { a0: { threshold: 1, direction: 'reset' }, stim: { threshold: 1, direction: 'rising' } })) out.push(m);
    // stim is the stimulus channel: no detector there
    expect(out).toEqual([...blocks.slice(0, 4), { type: 'event', kind: 'spike', channel: 1, index: 3, value: (300 * 5) / 1024 }, ...blocks.slice(4)]);
  });

  it('spike settings: lif-daq detects its membrane reset on a0; bad settings are refused before a run', async () => {
    expect(circuitDaqSpikes(loadExampleCircuit('lif-daq'))).toEqual({ a0: { threshold: 1.5, direction: 'reset', dropFraction: 0.3, refractoryS: 0.0005 } });
    const doc = structuredClone(loadExampleCircuit('lif-daq')) as { daq: { spikes: Record<string, unknown> } };
    doc.daq.spikes = { v_out: { threshold: 1, direction: 'rising' } };
    expect(() => circuitDaqSpikes(doc)).toThrow(/daq\.spikes\.v_out: not a pin \(daq\.pins: v_mem, stimulus\)/);
    doc.daq.spikes = { stimulus: { threshold: 1, direction: 'sideways' } };
    expect(() => circuitDaqSpikes(doc)).toThrow(/daq\.spikes\.stimulus\.direction/);
    const registry = new SourceRegistry();
    register(registry);
    const protocol = validateProtocol({ kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.01 });
    // the registry refuses bad settings before the source sees them (the run manager checks every run so)
    expect(() => registry.checkOptions('daq', { spikes: { a0: { threshold: 'x', direction: 'reset' } } }, 'network')).toThrow(/options\.spikes\.a0\.threshold: must be number/);
    // the rule across settings, in the source: a reset threshold of 0
    await expect(registry.get('daq')!.create({ protocol, sampleRate: 1000, runId: 1, options: { spikes: { a0: { threshold: 0, direction: 'reset' } } } })).rejects.toMatchObject({
      code: 'BAD_SOURCE_OPTIONS',
      field: '/options/spikes/a0',
    });
  });
});
