/**
 * Avalanches of the nanowire network near its onset (issue 13): spiking-nwn-raster (every junction
 * switching an event) driven by the first ramp of examples/avalanche-ramp.json (0 → 8 → 0 V in 1 s,
 * through the oscillatory onset at 5 V), binned and fitted as `analyze avalanches` does (Beggs & Plenz
 * 2003; Clauset et al. 2009). It checks the finding documented in docs/twin/circuits.md: an avalanche is
 * the formation of the lowest-threshold path, repeated, so the sizes peak at the path's junction count
 * with no tail and the branching ratio is far below 1 (not critical); bins wider than the spike interval
 * merge trains of cascades into larger avalanches with exponents near 1.5 — a binning artefact.
 * With seeded stochastic switching (spiking-nwn-stochastic, docs/twin/models.md) the network keeps
 * switching and the sizes no longer peak at a path length, but they fall to a cut-off: still not critical.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulate } from '../server/twin/index.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { naturalDurationS, sampleStimulus, validateProtocol } from '../server/protocols/index.ts';
import { analyzeAvalanches, avalanchesFromEvents } from '../server/analysis/avalanches.ts';
import { fitPowerLaw, powerLawPValue } from '../server/analysis/powerlaw.ts';

const FS = 1e5;

describe('avalanches of spiking-nwn under the slow ramp', () => {
  it('first ramp of examples/avalanche-ramp.json: path-formation cascades of 7-8 junctions, subcritical branching; wide bins make the artefact', () => {
    const example = JSON.parse(readFileSync(new URL('../examples/avalanche-ramp.json', import.meta.url), 'utf8'));
    const protocol = validateProtocol({ ...example, cycles: 1 });
    const n = Math.round(naturalDurationS(protocol) * FS);
    const r = simulate(builtInCircuit('spiking-nwn-raster')!, { samples: sampleStimulus(protocol, FS, 0, n), sampleRate: FS, quantity: 'voltage' });
    const times = r.events.map((e) => e.time);
    expect(times.length).toBeGreaterThan(200); // 313
    const av = avalanchesFromEvents(times, { tStart: 0, tEnd: n / FS });
    const a = analyzeAvalanches(av);
    expect(a.count).toBeGreaterThan(40); // 59
    const hist = new Map<number, number>();
    for (const s of av.sizes) hist.set(s, (hist.get(s) ?? 0) + 1);
    const modal = [...hist].sort((x, y) => y[1] - x[1]).slice(0, 2).map(([s]) => s).sort((x, y) => x - y);
    expect(modal).toEqual([7, 8]); // 19 and 14 of 59
    const largest = Math.max(...av.sizes);
    expect(largest).toBeLessThan(12); // 9: below the 12 junctions of the shortest path, no tail
    expect(a.branchingRatioPooled).toBeLessThan(0.5); // 0.36
    // bins 2.5 × wider (as the silent parts of a longer ramp stretch the mean interval): trains merge
    const wideAv = avalanchesFromEvents(times, { tStart: 0, tEnd: n / FS, binWidth: 2.5 * a.binWidth });
    const wide = analyzeAvalanches(wideAv);
    expect(Math.max(...wideAv.sizes)).toBeGreaterThan(2 * largest);
    expect(wide.size!.alpha).toBeLessThan(2); // 1.47
    expect(wide.branchingRatioPooled).toBeGreaterThan(0.8); // 0.91
  }, 300_000);
});

describe('avalanches of spiking-nwn-stochastic (seeded stochastic switching) at constant bias', () => {
  it('first 0.5 s of examples/avalanche-stochastic.json (6 V): switching goes on, sizes fall from 1 to a cut-off, no power law, subcritical', () => {
    const example = JSON.parse(readFileSync(new URL('../examples/avalanche-stochastic.json', import.meta.url), 'utf8'));
    const protocol = validateProtocol({ ...example, durationS: 0.5 });
    const n = Math.round(naturalDurationS(protocol) * FS);
    const r = simulate(builtInCircuit('spiking-nwn-stochastic')!, { samples: sampleStimulus(protocol, FS, 0, n), sampleRate: FS, quantity: 'voltage' });
    const times = r.events.map((e) => e.time);
    const av = avalanchesFromEvents(times, { tStart: 0, tEnd: n / FS });
    const a = analyzeAvalanches(av);
    const hist = new Map<number, number>();
    for (const s of av.sizes) hist.set(s, (hist.get(s) ?? 0) + 1);
    const c = (s: number) => hist.get(s) ?? 0;
    // the deterministic circuit switches 497 times in 1 s at 6 V in stereotyped cascades (docs/twin/circuits.md)
    expect(times.length).toBeGreaterThan(1000); // 1,857
    expect(a.count).toBeGreaterThan(200); // 433
    // sizes fall monotonically from 1 (no peak at a path length) ...
    expect(c(1)).toBeGreaterThan(c(2)); // 126, 77, 27, 17
    expect(c(2)).toBeGreaterThan(c(4));
    expect(c(4)).toBeGreaterThan(c(8));
    // ... to a cut-off far below the network's 261 junctions
    expect(Math.max(...av.sizes)).toBeLessThan(60); // 28
    // the fitted tail is the cut-off (α far above the critical 1.5 – 2), and from size 1 a power law is ruled out
    expect(a.size!.xmin).toBeGreaterThanOrEqual(5); // 7 (94 of 433 in the tail)
    expect(a.size!.alpha).toBeGreaterThan(3); // 3.34 ± 0.24
    const from1 = fitPowerLaw(av.sizes, { kind: 'discrete', xmin: 1 });
    expect(powerLawPValue(av.sizes, from1, { kind: 'discrete', xmin: 1 }, 50, 1).p_value).toBeLessThan(0.1);
    // subcritical branching
    expect(a.branchingRatioPooled).toBeLessThan(0.8); // 0.61
  }, 300_000);
});
