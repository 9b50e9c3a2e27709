/**
 * Property test: over random protocols, bench limits and instrument capabilities (seeded, so a failure
 * reproduces), no instrument program that gets past the gate ever exceeds the bench limits, and every
 * refusal names a limit (or an instrument capability) that really is exceeded.
 */
import { describe, expect, it } from 'vitest';
import { protocolSummary, sampleStimulus, validateProtocol, ProtocolError, type Protocol } from '../protocols/index.ts';
import { CompileError, compileDaqProgram, compileSmuProgram, daqSampleAt, type DaqCapabilities, type SmuCapabilities } from '../protocols/compile.ts';
import { Gen, randomProtocolDoc } from '../protocols/random.ts';
import { Rng } from '../../common/random.ts';
import { checkLimits, LimitError, type Limits } from './index.ts';

const SEED = 20261123;
const CASES = 1500;
const LIMIT_NAMES = ['maxVoltage', 'maxCurrent', 'maxPower', 'maxDurationS'];
const CAPABILITIES = ['maxPoints', 'minDwellS', 'maxTableLength', 'maxSegments', 'sampleRate', 'frequencyHz', 'outputRange'];

function randomLimits(g: Gen): Limits {
  const maxVoltage = g.log(0.01, 200);
  const maxCurrent = g.log(1e-6, 1);
  return {
    maxVoltage,
    maxCurrent,
    maxPower: g.log(1e-7, 10),
    compliance: { current: maxCurrent * g.uni(0.01, 1), voltage: maxVoltage * g.uni(0.01, 1) },
    ...(g.chance(0.3) ? { maxDurationS: g.log(0.01, 20) } : {}),
  };
}

/** Peak magnitude and worst power, recomputed here independently of checkLimits. */
function violations(peak: number, quantity: 'current' | 'voltage', durationS: number, l: Limits): string[] {
  const v: string[] = [];
  if (quantity === 'voltage' && peak > l.maxVoltage) v.push('maxVoltage');
  if (quantity === 'current' && peak > l.maxCurrent) v.push('maxCurrent');
  const compliance = quantity === 'voltage' ? l.compliance.current : l.compliance.voltage;
  if (peak * compliance > l.maxPower) v.push('maxPower');
  if (l.maxDurationS !== undefined && durationS > l.maxDurationS) v.push('maxDurationS');
  return v;
}

/** Dense samples of the stimulus plus the points where it is most likely to peak. */
function sampledPeak(p: Protocol): number {
  const n = 4000;
  const s = sampleStimulus(p, n / p.durationS, 0, n);
  let peak = 0;
  for (const x of s) peak = Math.max(peak, Math.abs(x));
  return peak;
}

describe('bench limits: property over random protocols', () => {
  it(`${CASES} seeded cases: nothing past the gate exceeds a limit; every refusal names a real one`, () => {
    const g = new Gen(new Rng(SEED));
    const tally = { invalid: 0, refused: 0, compiled: 0, compileRefused: 0 };
    const refusedBy = new Set<string>();
    for (let c = 0; c < CASES; c++) {
      const doc = randomProtocolDoc(g);
      const limits = randomLimits(g);
      const smuCaps: SmuCapabilities = { maxPoints: g.int(10, 5000), minDwellS: g.log(1e-5, 1e-2) };
      const daqCaps: DaqCapabilities = { sampleRate: g.log(1e3, 1e6), maxTableLength: g.int(16, 100_000), maxSegments: g.int(4, 2000) };
      const ctx = () => JSON.stringify({ c, doc: { ...doc, csv: undefined }, limits });

      let p: Protocol;
      try {
        p = validateProtocol(doc);
      } catch (err) {
        expect(err, ctx()).toBeInstanceOf(ProtocolError);
        tally.invalid++;
        continue;
      }
      const summary = protocolSummary(p);
      const peak = Math.max(Math.abs(summary.min), Math.abs(summary.max));
      // The summary is a true bound of the waveform.
      expect(sampledPeak(p), ctx()).toBeLessThanOrEqual(peak * (1 + 1e-12));

      const expected = violations(peak, p.quantity, p.durationS, limits);
      let refused: LimitError | undefined;
      try {
        checkLimits(summary, limits);
      } catch (err) {
        if (!(err instanceof LimitError)) throw err;
        refused = err;
      }
      if (refused) {
        tally.refused++;
        refusedBy.add(refused.limit);
        expect(LIMIT_NAMES, ctx()).toContain(refused.limit);
        expect(refused.message, ctx()).toContain(refused.limit);
        expect(expected, ctx()).toContain(refused.limit);
        continue;
      }
      expect(expected, ctx()).toEqual([]);

      for (const compile of [() => compileSmuProgram(p, smuCaps), () => compileDaqProgram(p, daqCaps)]) {
        let program;
        try {
          program = compile();
        } catch (err) {
          expect(err, ctx()).toBeInstanceOf(CompileError);
          const ce = err as CompileError;
          expect(CAPABILITIES, ctx()).toContain(ce.capability);
          expect(ce.message, ctx()).toContain(ce.capability);
          tally.compileRefused++;
          continue;
        }
        tally.compiled++;
        // Independently: every value the instrument will source is within the limits.
        const values: number[] =
          program.type === 'smu' ? program.points.map((q) => q.value) : program.tables.flatMap((t) => Array.from(t));
        const progPeak = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const durationS = program.type === 'smu' ? program.points.reduce((s, q) => s + q.dwellS, 0) : program.totalSamples / program.sampleRate;
        expect(violations(progPeak, p.quantity, durationS * (1 - 1e-9), limits), ctx()).toEqual([]);
        expect(() => checkLimits(program, limits), ctx()).not.toThrow();
        expect(progPeak, ctx()).toBeLessThanOrEqual(peak * (1 + 1e-12));
        if (program.type === 'smu') {
          expect(program.points.length, ctx()).toBeLessThanOrEqual(smuCaps.maxPoints);
          expect(Math.abs(durationS - p.durationS), ctx()).toBeLessThan(1e-9 * p.durationS + 1e-12);
        } else {
          expect(program.segments.length, ctx()).toBeLessThanOrEqual(daqCaps.maxSegments);
          expect(program.tables.reduce((n, t) => n + t.length, 0), ctx()).toBeLessThanOrEqual(daqCaps.maxTableLength);
          expect(program.segments.reduce((n, s) => n + s.samples, 0), ctx()).toBe(program.totalSamples);
          // The board plays the sampled stimulus (exactly, unless a period was rounded to whole samples).
          const i = g.int(0, program.totalSamples - 1);
          const played = daqSampleAt(program, i);
          expect(Math.abs(played), ctx()).toBeLessThanOrEqual(peak * (1 + 1e-12));
          if (p.kind === 'dc' || p.kind === 'ladder' || p.kind === 'stdp') {
            expect(played, ctx()).toBeCloseTo(sampleStimulus(p, program.sampleRate, i, 1)[0], 9);
          }
        }
      }
    }
    // The generator reaches every branch.
    expect(tally.refused).toBeGreaterThan(CASES / 10);
    expect(tally.compiled).toBeGreaterThan(CASES / 10);
    expect(tally.compileRefused).toBeGreaterThan(10);
    expect([...refusedBy].sort()).toEqual([...LIMIT_NAMES].sort());
  });
});
