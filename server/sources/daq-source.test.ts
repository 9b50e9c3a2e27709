import { describe, expect, it } from 'vitest';
import { validateProtocol } from '../protocols/index.ts';
import { SourceRegistry } from './registry.ts';
import { DaqProtocolError, compileStimulus, register } from './daq-source.ts';
import type { SourceMessage } from '../../common/run-stream.ts';

describe('DAQ source', () => {
  it('compiles one period of a protocol to PWM codes, refusing what the board cannot play', () => {
    const sq = validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 5, offset: 0, frequencyHz: 100, duty: 0.25 });
    const { codes, loop } = compileStimulus(sq, 10_000);
    expect(loop).toBe(true);
    expect(codes.length).toBe(100);
    expect(codes.filter((c) => c === 255).length).toBe(25);
    expect(codes.filter((c) => c === 0).length).toBe(75);
    // 1 mA through the default 5 kOhm series resistor is full scale
    expect(compileStimulus(validateProtocol({ kind: 'dc', quantity: 'current', level: 0.5e-3 }), 1000).codes).toEqual([128]);
    expect(() => compileStimulus(validateProtocol({ kind: 'dc', quantity: 'voltage', level: 6 }), 1000)).toThrow(DaqProtocolError);
    expect(() => compileStimulus(validateProtocol({ kind: 'sine', quantity: 'voltage', amplitude: 1, offset: 2, frequencyHz: 10 }), 10_000)).toThrow(/256/);
    expect(() => compileStimulus(validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 1, frequencyHz: 300 }), 1000)).toThrow(/whole number/);
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
  });
});
