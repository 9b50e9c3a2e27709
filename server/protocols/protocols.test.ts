import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { ProtocolError, protocolSchemas, protocolSummary, sampleStimulus, validateProtocol } from './index.ts';
import { PROTOCOL_KINDS } from './kinds/index.ts';
import { expandSweep, sweepSummary } from './sweep.ts';

describe('protocols', () => {
  it('states a sweep\'s total duration as written, not as a float sum', () => {
    const sweep = { kind: 'sweep', base: { kind: 'dc', durationS: 0.2 }, parameters: [{ field: 'level', start: 1e-5, stop: 8e-5, steps: 8 }] };
    expect(sweepSummary(expandSweep(sweep)).durationS).toBe(1.6);
  });
  it('fills defaults and states duration and peaks', () => {
    const p = validateProtocol({ kind: 'square', durationS: 0.5 });
    expect(p).toMatchObject({ kind: 'square', quantity: 'current', amplitude: 1e-3, frequencyHz: 1000, duty: 0.5 });
    expect(protocolSummary(p)).toEqual({ kind: 'square', quantity: 'current', unit: 'A', durationS: 0.5, min: 0, max: 1e-3 });
  });

  it('samples a 1 kHz 50 % square wave: 500 high then 500 low samples at 1 MS/s', () => {
    const p = validateProtocol({ kind: 'square', amplitude: 1e-3, frequencyHz: 1000, duty: 0.5 });
    const s = sampleStimulus(p, 1e6, 0, 2000);
    const high = s.reduce((n, v) => n + (v === 1e-3 ? 1 : 0), 0);
    expect(high).toBe(1000);
    expect(s[499]).toBe(1e-3);
    expect(s[500]).toBe(0);
    expect(s[1000]).toBe(1e-3);
  });

  it('continues a waveform across block boundaries', () => {
    const p = validateProtocol({ kind: 'sine', amplitude: 2, frequencyHz: 7, quantity: 'voltage' });
    const whole = sampleStimulus(p, 1000, 0, 300);
    const tail = sampleStimulus(p, 1000, 100, 200);
    expect(Array.from(tail)).toEqual(Array.from(whole.subarray(100)));
  });

  it('refuses bad documents naming the field', () => {
    expect(() => validateProtocol({ kind: 'warp' })).toThrow(/\/kind/);
    expect(() => validateProtocol({ kind: 'square', frequencyHz: -1 })).toThrow(/\/frequencyHz/);
    expect(() => validateProtocol({ kind: 'square', bogus: 1 })).toThrow(ProtocolError);
    expect(() => validateProtocol({ kind: 'pulse-train', widthS: 2e-3, periodS: 1e-3 })).toThrow(/\/widthS/);
    expect(() => validateProtocol('square')).toThrow(/JSON object/);
  });

  it('every file in kinds/ is a registered kind, named by its schema', async () => {
    const files = readdirSync(new URL('./kinds/', import.meta.url)).filter((f) => f !== 'index.ts');
    const registered = new Set<unknown>(Object.values(PROTOCOL_KINDS));
    for (const f of files) {
      const mod = (await import(`./kinds/${f}`)) as Record<string, unknown>;
      expect(Object.values(mod).some((v) => registered.has(v)), `kinds/${f} exports a kind listed in kinds/index.ts`).toBe(true);
    }
    expect(files).toHaveLength(Object.keys(PROTOCOL_KINDS).length);
    for (const [name, kind] of Object.entries(PROTOCOL_KINDS)) {
      expect((kind.schema.properties.kind as { const?: string }).const, name).toBe(name);
      expect(protocolSchemas[name as keyof typeof protocolSchemas]).toBe(kind.schema);
    }
  });
});
