/**
 * Property test (issue 14): run options may lower the bench limits, never raise them. Over random bench
 * limits, random dc protocols and random run options (seeded, so a failure reproduces), the real `smu`
 * source either refuses the run before it exists, naming a limit, or is built with limits and a
 * compliance that are each at or below the bench's and at or below what the run asked for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tightenLimits, LimitError, type Limits } from '../benchconfig/index.ts';
import { validateProtocol } from '../protocols/index.ts';
import { Gen } from '../protocols/random.ts';
import { Rng } from '../../common/random.ts';
import { loadSources, type SourceRegistry } from './registry.ts';

const SEED = 20261206;
const CASES = 1200;

let sources: SourceRegistry;
beforeAll(async () => {
  sources = await loadSources();
});

function randomBench(g: Gen): Limits {
  const maxVoltage = g.log(0.1, 200);
  const maxCurrent = g.log(1e-5, 1);
  return { maxVoltage, maxCurrent, maxPower: g.log(1e-5, 10), compliance: { current: maxCurrent * g.uni(0.05, 1), voltage: maxVoltage * g.uni(0.05, 1) } };
}

/** An option around the bench value: often above it (an attempt to loosen), often below. */
const around = (g: Gen, bench: number) => (g.chance(0.3) ? undefined : bench * g.log(0.01, 3));

describe('run options only tighten the bench limits', () => {
  it(`${CASES} seeded cases through the smu source: refused naming a limit, or every limit <= the bench's`, async () => {
    const g = new Gen(new Rng(SEED));
    const tally = { built: 0, refused: 0, loosenAttempts: 0 };
    for (let c = 0; c < CASES; c++) {
      const bench = randomBench(g);
      const quantity = g.chance(0.5) ? 'voltage' : 'current';
      const peak = quantity === 'voltage' ? bench.maxVoltage * g.log(0.001, 2) : bench.maxCurrent * g.log(0.001, 2);
      const protocol = validateProtocol({ kind: 'dc', quantity, level: peak, durationS: 0.5 });
      const options: Record<string, number> = {};
      for (const [k, b] of [
        ['maxVoltage', bench.maxVoltage],
        ['maxCurrent', bench.maxCurrent],
        ['maxPower', bench.maxPower],
        ['compliance', quantity === 'voltage' ? bench.compliance.current : bench.compliance.voltage],
      ] as const) {
        const v = around(g, b);
        if (v !== undefined) options[k] = v;
      }
      const ceiling = quantity === 'voltage' ? Math.min(bench.compliance.current, options.maxCurrent ?? bench.maxCurrent) : Math.min(bench.compliance.voltage, options.maxVoltage ?? bench.maxVoltage);
      const loosens =
        (options.maxVoltage ?? 0) > bench.maxVoltage || (options.maxCurrent ?? 0) > bench.maxCurrent || (options.maxPower ?? 0) > bench.maxPower || (options.compliance ?? 0) > ceiling;
      if (loosens) tally.loosenAttempts++;
      const ctx = () => JSON.stringify({ c, bench, quantity, peak, options });
      let built: { bench?: unknown } | undefined;
      let refusal: unknown;
      try {
        sources.checkOptions('smu', options, 'network');
        built = await sources.get('smu')!.create({ protocol, sampleRate: 100, runId: c, options, from: 'network', limits: bench });
      } catch (err) {
        refusal = err;
      }
      if (loosens) expect(refusal, ctx()).toBeInstanceOf(LimitError);
      if (refusal) {
        tally.refused++;
        // the refusal names a limit
        expect(String((refusal as Error).message), ctx()).toMatch(/maxVoltage|maxCurrent|maxPower|compliance|limit/i);
        continue;
      }
      tally.built++;
      const b = built!.bench as { limits: { maxVoltage: number; maxCurrent: number; maxPower: number }; compliance: number };
      for (const k of ['maxVoltage', 'maxCurrent', 'maxPower'] as const) {
        expect(b.limits[k], `${k} ${ctx()}`).toBeLessThanOrEqual(bench[k]);
        if (options[k] !== undefined) expect(b.limits[k], `${k} ${ctx()}`).toBeLessThanOrEqual(options[k]);
      }
      expect(b.compliance, ctx()).toBeLessThanOrEqual(ceiling);
      // and what is sourced fits: the level within the run's limits
      expect(peak, ctx()).toBeLessThanOrEqual(quantity === 'voltage' ? b.limits.maxVoltage : b.limits.maxCurrent);
    }
    // the generator really exercises both sides
    expect(tally.built).toBeGreaterThan(CASES / 10);
    expect(tally.loosenAttempts).toBeGreaterThan(CASES / 4);
  });

  it('tightenLimits: each result is the smallest of bench and request; a request above the bench is refused by name', () => {
    const bench: Limits = { maxVoltage: 20, maxCurrent: 0.01, maxPower: 0.25, compliance: { current: 0.01, voltage: 20 } };
    expect(tightenLimits(bench, 'voltage', { maxVoltage: 5 })).toEqual({ maxVoltage: 5, maxCurrent: 0.01, maxPower: 0.25, compliance: 0.01 });
    expect(tightenLimits(bench, 'voltage', {}, { maxVoltage: 2, compliance: 1e-3 })).toEqual({ maxVoltage: 2, maxCurrent: 0.01, maxPower: 0.25, compliance: 1e-3 });
    expect(() => tightenLimits(bench, 'voltage', { maxVoltage: 1000 })).toThrow(/maxVoltage = 20 V/);
    expect(() => tightenLimits(bench, 'voltage', { compliance: 1 })).toThrow(/compliance\.current = 0\.01 A/);
    expect(() => tightenLimits(bench, 'current', { maxVoltage: 5, compliance: 10 })).toThrow(/compliance\.voltage = 5 V/);
  });
});
