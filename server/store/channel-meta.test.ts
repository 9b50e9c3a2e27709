import { describe, expect, it } from 'vitest';
import { channelMeta, humanName } from './channel-meta.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';

const square = (frequencyHz: number, quantity = 'current') => ({ kind: 'square', quantity, amplitude: 1e-3, frequencyHz, duty: 0.5, durationS: 1 });
const stim = { name: 'stim', unit: 'V', role: 'stimulus' as const, sampleRate: 20_000 };

describe('channel labels, conversions and notes', () => {
  it('names channels by what they record', () => {
    expect(humanName('v_mem', 'V')).toBe('membrane v');
    expect(humanName('stim', 'A')).toBe('stimulus i');
    expect(humanName('resp', 'A')).toBe('response i');
    const run = { source: 'daq', protocol: square(100), bench: { daq: { seriesOhms: 5000 }, twinCircuit: builtInCircuit('lif-daq') } };
    expect(channelMeta({ name: 'a0', unit: 'V', role: 'response', sampleRate: 20_000 }, run).label).toBe('membrane v (A0)');
    expect(channelMeta({ name: 'a1', unit: 'V', role: 'response', sampleRate: 20_000 }, run).label).toBe('stimulus v (A1)');
    // a real board: no circuit known; the bench configuration's label when it gives one
    const real = { source: 'daq', protocol: square(100), bench: { daq: { labels: { a1: 'synapse v' } } } };
    expect(channelMeta({ name: 'a0', unit: 'V', role: 'response', sampleRate: 20_000 }, real).label).toBe('input v (A0)');
    expect(channelMeta({ name: 'a1', unit: 'V', role: 'response', sampleRate: 20_000 }, real).label).toBe('synapse v (A1)');
    const sim = { source: 'simulated', protocol: square(100), bench: { labels: { v_mem: 'soma v' } } };
    expect(channelMeta({ name: 'v_mem', unit: 'V', role: 'response', sampleRate: 20_000 }, sim).label).toBe('soma v');
    // names and units from an imported file are looked up as the tables' own keys, not Object's
    expect(humanName('constructor', 'toString')).toBe('constructor');
    expect(humanName('v_constructor', 'V')).toBe('constructor v');
    expect(channelMeta({ name: 'constructor', unit: 'V', role: 'response', sampleRate: 20_000 }, sim).label).toBe('constructor v');
  });

  it('shows a DAQ stimulus of a current protocol in A when the bench configuration gives the conversion, else says why not', () => {
    const shunt = channelMeta(stim, { source: 'daq', protocol: square(100), bench: { daq: { stimulus: { toCurrent: { shuntOhms: 1000 } } } } });
    expect(shunt).toEqual({ label: 'stimulus i', convert: { unit: 'A', factor: 1e-3, via: 'shunt resistor 1 kΩ' } });
    const gm = channelMeta(stim, { source: 'daq', protocol: square(100), bench: { daq: { stimulus: { toCurrent: { transconductanceS: 2e-4 } } } } });
    expect(gm.convert).toEqual({ unit: 'A', factor: 2e-4, via: 'transconductance stage 200 µA/V' });
    const none = channelMeta(stim, { source: 'daq', protocol: square(100), bench: { daq: { seriesOhms: 5000 } } });
    expect(none.convert).toBeUndefined();
    expect(none.notes?.[0]).toMatch(/recorded in V.*no conversion.*toCurrent.*V \/ 5 kΩ/);
    // a voltage protocol needs none
    expect(channelMeta(stim, { source: 'daq', protocol: square(100, 'voltage'), bench: { daq: {} } }).notes).toBeUndefined();
  });

  it('warns when the rate gives fewer than 20 samples per stimulus period', () => {
    const five = channelMeta({ ...stim, sampleRate: 5000 }, { source: 'simulated', protocol: square(1000), bench: {} });
    expect(five.notes).toEqual([expect.stringMatching(/^5 samples per stimulus period \(1 ms\): fewer than 20.*20 kS\/s or more$/)]);
    expect(channelMeta({ ...stim, sampleRate: 20_000 }, { source: 'simulated', protocol: square(1000), bench: {} }).notes).toBeUndefined();
    expect(channelMeta(stim, { source: 'simulated', protocol: { kind: 'dc', quantity: 'current', level: 1e-3, durationS: 1 }, bench: {} }).notes).toBeUndefined();
  });
});
