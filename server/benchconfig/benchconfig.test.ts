import { describe, expect, it } from 'vitest';
import { validateProtocol } from '../protocols/index.ts';
import { CompileError } from '../protocols/compile.ts';
import { BenchConfigError, checkLimits, LimitError, planStimulus, validateBenchConfig, virtualBenchConfig, type BenchConfig } from './index.ts';

const smuBench = (): BenchConfig =>
  validateBenchConfig({
    name: 'keithley bench',
    instruments: [
      { id: 'k2400', kind: 'smu', model: 'keithley-2400', port: '/dev/ttyUSB0', baudRate: 57600, channels: [{ name: 'smu', role: 'stimulus' }] },
      { id: 'uno', kind: 'daq', model: 'arduino-uno', port: '/dev/ttyACM0', channels: [{ name: 'a0', role: 'response', unit: 'V' }] },
    ],
    limits: { maxVoltage: 5, maxCurrent: 0.01, maxPower: 0.02, compliance: { current: 0.001, voltage: 5 } },
  });

describe('bench configuration', () => {
  it('validates, fills instrument capability defaults, and the virtual bench is valid', () => {
    const cfg = smuBench();
    expect(cfg.instruments[0].kind).toBe('smu');
    expect(virtualBenchConfig().instruments[0].channels.map((c) => c.role)).toEqual(['stimulus', 'response']);
    const daq = validateBenchConfig({
      ...cfg,
      instruments: [{ id: 'uno', kind: 'daq', model: 'arduino-uno', port: '/dev/ttyACM0', daq: { sampleRate: 2000 }, channels: [{ name: 'pwm', role: 'stimulus' }] }],
    });
    expect(daq.instruments[0].daq).toMatchObject({ sampleRate: 2000, maxTableLength: 4096, maxSegments: 256 });
  });

  it('refuses bad configurations naming the field', () => {
    const base = JSON.parse(JSON.stringify(smuBench()));
    const bad = (mut: (c: any) => void) => {
      const c = structuredClone(base);
      mut(c);
      try {
        validateBenchConfig(c);
      } catch (e) {
        expect(e).toBeInstanceOf(BenchConfigError);
        return (e as BenchConfigError).field;
      }
      throw new Error('accepted');
    };
    expect(bad((c) => (c.limits.maxVoltage = -1))).toBe('/limits/maxVoltage');
    expect(bad((c) => (c.instruments[1].id = 'k2400'))).toBe('/instruments/1/id');
    expect(bad((c) => (c.instruments[1].port = '/dev/ttyUSB0'))).toBe('/instruments/1/port');
    expect(bad((c) => delete c.instruments[0].port)).toBe('/instruments/0/port');
    expect(bad((c) => (c.instruments[0].channels[0].role = 'response'))).toBe('/instruments');
    expect(bad((c) => (c.limits.compliance.current = 1))).toBe('/limits/compliance/current');
    expect(bad((c) => (c.instruments[0].kind = 'oscilloscope'))).toMatch(/^\/instruments\/0/);
    expect(() => validateBenchConfig('{ nope')).toThrow(/not valid JSON/);
  });

  it('accepts spike detection on a response channel and refuses a bad one naming the field', () => {
    const spikes = { threshold: 1.5, direction: 'reset', refractoryS: 0.0005 };
    const cfg = structuredClone(smuBench());
    (cfg.instruments[1].channels[0] as Record<string, unknown>).spikes = spikes;
    expect(validateBenchConfig(cfg).instruments[1].channels[0].spikes).toEqual(spikes);
    const bad = (s: unknown, role = 'response') => {
      const c = structuredClone(cfg) as any;
      c.instruments[1].channels[0].spikes = s;
      c.instruments[1].channels[0].role = role;
      try {
        validateBenchConfig(c);
      } catch (e) {
        expect(e).toBeInstanceOf(BenchConfigError);
        return (e as BenchConfigError).field;
      }
      throw new Error('accepted');
    };
    expect(bad({ threshold: 1, direction: 'up' })).toMatch(/^\/instruments\/1\/channels\/0\/spikes/);
    expect(bad({ threshold: 1, direction: 'rising', refractoryS: -1 })).toMatch(/^\/instruments\/1\/channels\/0\/spikes/);
    expect(bad({ threshold: 0, direction: 'reset' })).toBe('/instruments/1/channels/0/spikes');
    expect(bad(spikes, 'stimulus')).toBe('/instruments/1/channels/0/spikes');
  });

  it('checkLimits names the limit: voltage, current, power through compliance, duration', () => {
    const { limits } = smuBench();
    const v = (level: number, durationS = 1) => ({ kind: 'dc' as const, quantity: 'voltage' as const, unit: 'V' as const, durationS, min: 0, max: level });
    expect(checkLimits(v(4), limits)).toMatchObject({ peak: 4, worstPowerW: 0.004 });
    expect(() => checkLimits(v(6), limits)).toThrow(/maxVoltage = 5 V/);
    const power = { ...limits, maxPower: 0.003 };
    expect(() => checkLimits(v(4), power)).toThrow(/4 V × current compliance 0.001 A = 0.004 W exceeds the bench limit maxPower/);
    const i = { ...v(0.02), quantity: 'current' as const, unit: 'A' as const };
    expect(() => checkLimits(i, limits)).toThrow(LimitError);
    expect(() => checkLimits(i, limits)).toThrow(/maxCurrent/);
    expect(() => checkLimits(v(1, 100), { ...limits, maxDurationS: 60 })).toThrow(/maxDurationS/);
  });

  it('planStimulus refuses before compiling, then compiles for the stimulus instrument and rechecks', () => {
    const cfg = smuBench();
    const over = validateProtocol({ kind: 'iv-sweep', peak: 6, periodS: 1, cycles: 1 });
    expect(() => planStimulus(over, cfg)).toThrow(/maxVoltage/);
    const ok = validateProtocol({ kind: 'iv-sweep', peak: 2, periodS: 1, cycles: 2, stepsPerBranch: 25 });
    const plan = planStimulus(ok, cfg);
    expect(plan.instrument.id).toBe('k2400');
    expect(plan.program?.type).toBe('smu');
    expect(plan.summary).toMatchObject({ min: -2, max: 2, durationS: 2 });
    const tooLong = validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 1, durationS: 60 });
    expect(() => planStimulus(tooLong, cfg)).toThrow(CompileError);
    expect(planStimulus(validateProtocol({ kind: 'square' }), virtualBenchConfig()).program).toBeUndefined();
  });
});
