/**
 * Avalanches of the nanowire network near its onset (issue 13): spiking-nwn-raster (every junction
 * switching an event) driven by the first ramp of examples/avalanche-ramp.json (0 → 8 → 0 V in 1 s,
 * through the oscillatory onset at 5 V), binned and fitted as `analyze avalanches` does (Beggs & Plenz
 * 2003; Clauset et al. 2009). It checks the finding documented in docs/twin/circuits.md: an avalanche is
 * the formation of the lowest-threshold path, repeated, so the sizes peak at the path's junction count
 * with no tail and the branching ratio is far below 1 (not critical); bins wider than the spike interval
 * merge trains of cascades into larger avalanches with exponents near 1.5 — a binning artefact.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulate } from '../server/twin/index.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';
import { naturalDurationS, sampleStimulus, validateProtocol } from '../server/protocols/index.ts';
import { analyzeAvalanches, avalanchesFromEvents } from '../server/analysis/avalanches.ts';

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
