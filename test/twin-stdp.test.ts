/**
 * STDP on the plastic memristive synapse (server/twin/circuits/stdp-synapse.json) driven by the stdp
 * protocol's exp-tail spikes: the protocol's waveform and peaks, each spike alone below the device
 * threshold, the learning window's signs and decay from the simulation itself, the synapse's weight
 * change after pairing confirmed by ngspice, and the whole experiment through the API (a twin-mode sweep
 * with no circuit named picks the plastic synapse; POST /api/experiments/stdp draws and fits the curve).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProtocolError, protocolSummary, sampleStimulus, validateProtocol, type Protocol, type Stdp } from '../server/protocols/index.ts';
import { expandCircuit, simulate } from '../server/twin/index.ts';
import { stdpPairsFromTrace, type StdpPoint } from '../server/experiments/stdp-pairs.ts';
import { fitStdp } from '../server/analysis/stdp.ts';
import { readRunSignal } from '../server/analysis-io/inputs.ts';
import { nrmse, runNgspice } from './twin-ngspice.ts';
import { useInjectServer } from './helpers-live.ts';
import { builtInCircuit } from '../server/twin/circuits/index.ts';

const circuitDoc = builtInCircuit('stdp-synapse') as unknown as { elements: { type: string; params: unknown }[] };
const net = expandCircuit(circuitDoc);
const device = circuitDoc.elements.find((e) => e.type === 'device')!.params as { von: number; voff: number };
const FS = 20_000;

const stdp = (over: Record<string, unknown>): Stdp => {
  const p = validateProtocol({ kind: 'stdp', spikeShape: 'exp-tail', readWidthS: 2e-3, gapS: 2e-3, ...over });
  if (p.kind !== 'stdp') throw new Error('kind');
  return p;
};
const stimulusOf = (p: Protocol, fs = FS) => ({ samples: sampleStimulus(p, fs, 0, Math.round(p.durationS * fs) + 1), sampleRate: fs, quantity: 'voltage' as const });
const pairsOf = (p: Stdp): StdpPoint[] => stdpPairsFromTrace(p, simulate(net, stimulusOf(p)).channels[0].data, FS);

describe('stdp protocol, exp-tail spikes', () => {
  it('a spike is the pulse then an opposite tail decaying with tailTauS; pre minus post across the device', () => {
    const p = stdp({ offsetsS: [5e-3], pairsPerOffset: 1, postAmplitude: 0 });
    const s = sampleStimulus(p, 100_000, 0, Math.round(p.durationS * 100_000));
    // pairing starts after gap, read, gap = 6 ms; pre at its start (Δt > 0)
    const at = (t: number) => s[Math.round((6e-3 + t) * 100_000)];
    expect(at(0.5e-3)).toBe(p.preAmplitude);
    expect(at(1e-3)).toBeCloseTo(-p.tailRatio * p.preAmplitude, 12);
    expect(at(1e-3 + p.tailTauS) / at(1e-3)).toBeCloseTo(Math.exp(-1), 9);
    expect(at(1e-3 + p.tailS + 1e-5)).toBe(0);
  });

  it('states its peaks exactly (the overlap of a tail and a pulse), checked against the sampled waveform', () => {
    for (const over of [{}, { preAmplitude: 0.7, postAmplitude: 1.3, tailRatio: 1.5, offsetsS: [-3e-3, 0.5e-3, 2e-3] }]) {
      const p = stdp(over);
      const sum = protocolSummary(p);
      const s = sampleStimulus(p, 200_000, 0, Math.round(p.durationS * 200_000));
      const lo = s.reduce((a, b) => Math.min(a, b), Infinity);
      const hi = s.reduce((a, b) => Math.max(a, b), -Infinity);
      expect(sum.min).toBeLessThanOrEqual(lo);
      expect(sum.max).toBeGreaterThanOrEqual(hi);
      expect(lo - sum.min).toBeLessThan(0.01 * (hi - lo));
      expect(sum.max - hi).toBeLessThan(0.01 * (hi - lo));
    }
  });

  it('refuses a tail that does not fit the pair period, naming the offset', () => {
    expect(() => validateProtocol({ kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [2e-3, 12e-3], tailS: 10e-3, pairPeriodS: 20e-3 })).toThrow(
      expect.objectContaining({ field: '/offsetsS/1', message: expect.stringMatching(/tail/) }) as unknown as ProtocolError,
    );
    expect(() => validateProtocol({ kind: 'stdp', spikeShape: 'triangle' })).toThrow(ProtocolError);
  });
});

describe('plastic synapse (VTEAM threshold memristor) under STDP pairing', () => {
  const offsets = [-6e-3, -4e-3, -3e-3, -2e-3, -1e-3, 1e-3, 2e-3, 3e-3, 4e-3, 6e-3];
  const base = { offsetsS: offsets, pairsPerOffset: 5 };

  it('each spike alone (and the read pulse) stays below the device threshold: no weight change', () => {
    const p = stdp(base);
    expect(p.preAmplitude).toBeLessThan(device.voff);
    expect(p.tailRatio * p.preAmplitude).toBeLessThan(device.voff);
    for (const alone of [stdp({ ...base, postAmplitude: 0 }), stdp({ ...base, preAmplitude: 0 })]) {
      const r = simulate(net, stimulusOf(alone));
      const x = r.channels.find((c) => c.name === 'x_M')!.data;
      expect(Math.max(...x) - Math.min(...x)).toBe(0);
    }
    // rectangular spikes do not overlap above threshold either: the tail is the mechanism
    for (const pt of pairsOf(stdp({ ...base, spikeShape: 'rect' }))) expect(pt.dw).toBe(0);
  });

  it('gives LTP for Δt > 0, LTD for Δt < 0, |Δw| falling with |Δt|; the two-exponential fit', () => {
    const pairs = pairsOf(stdp(base));
    expect(pairs.map((q) => q.dt)).toEqual(offsets);
    for (const q of pairs) expect(Math.sign(q.dw)).toBe(Math.sign(q.dt));
    const ltp = pairs.filter((q) => q.dt > 0).sort((a, b) => a.dt - b.dt);
    const ltd = pairs.filter((q) => q.dt < 0).sort((a, b) => b.dt - a.dt);
    for (const side of [ltp, ltd]) for (let i = 1; i < side.length; i++) expect(Math.abs(side[i].dw)).toBeLessThan(Math.abs(side[i - 1].dw));
    // the nearest pairings change the weight by a few per cent per block, not by rounding noise
    expect(ltp[0].dw).toBeGreaterThan(0.02);
    expect(ltd[0].dw).toBeLessThan(-0.02);
    const fit = fitStdp(pairs);
    for (const b of [fit.potentiation, fit.depression]) {
      expect(b.A).toBeGreaterThan(0);
      expect(b.tau).toBeGreaterThan(0.5e-3);
      expect(b.tau).toBeLessThan(10e-3);
      expect(b.r2).toBeGreaterThan(0.95);
    }
  });

  it('matches ngspice: currents, state and the weight change after pairing', () => {
    const p = stdp({ offsetsS: [2e-3, -2e-3], pairsPerOffset: 3 });
    const stim = stimulusOf(p);
    const twin = simulate(net, stim);
    const ref = runNgspice(net, { stimulus: stim, tmax: 1 / FS / 4 });
    expect(nrmse(twin.channels[0].data, ref.columns[0])).toBeLessThan(0.01);
    expect(nrmse(twin.channels[1].data, ref.columns[1])).toBeLessThan(0.01);
    const a = stdpPairsFromTrace(p, twin.channels[0].data, FS);
    const b = stdpPairsFromTrace(p, ref.columns[0], FS);
    expect(a).toHaveLength(2);
    a.forEach((q, i) => {
      expect(Math.abs(q.gAfter - b[i].gAfter) / b[i].gAfter).toBeLessThan(1e-3);
      expect(Math.abs(q.dw - b[i].dw) / Math.abs(b[i].dw)).toBeLessThan(0.02);
    });
    expect(a[0].dw).toBeGreaterThan(0);
    expect(a[1].dw).toBeLessThan(0);
  });
});

describe('the STDP experiment over the API', () => {
  const server = useInjectServer();
  const { inject } = server;

  it('a twin-mode stdp sweep with no circuit runs on the plastic synapse; the curve has the right signs and a fit', async () => {
    const r = await inject('POST', '/api/sweeps', {
      mode: 'twin',
      sampleRate: 10_000,
      sweep: {
        kind: 'sweep',
        base: { kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [-4e-3, -2e-3, -1e-3, 1e-3, 2e-3, 4e-3], pairsPerOffset: 3, readWidthS: 2e-3, gapS: 2e-3 },
        parameters: [{ field: 'tailTauS', values: [3e-3, 5e-3] }],
      },
    });
    expect(r.status).toBe(201);
    const sw = await server.waitSweep(r.body.sweep.id);
    expect(sw.state).toBe('completed');
    const runIds: number[] = sw.points.map((p: { runId: number }) => p.runId);
    expect(readRunSignal(server.s.store, runIds[0]).channels.map((c) => c.name)).toContain('x_M');
    const curve = await inject('POST', '/api/experiments/stdp', { runIds });
    expect(curve.status).toBe(200);
    expect(curve.body.pairs).toHaveLength(12);
    for (const q of curve.body.pairs) expect(Math.sign(q.dw)).toBe(Math.sign(q.dt_s));
    // the longer tail keeps the pairings above threshold for longer: more change at the same Δt
    const at = (runId: number, dt: number) => curve.body.pairs.find((q: any) => q.run_id === runId && q.dt_s === dt).dw;
    expect(at(runIds[1], 4e-3)).toBeGreaterThan(at(runIds[0], 4e-3));
    expect(at(runIds[1], -4e-3)).toBeLessThan(at(runIds[0], -4e-3));
    expect(curve.body.fit.Aplus).toBeGreaterThan(0);
    expect(curve.body.fit.Aminus).toBeGreaterThan(0);
    expect(curve.body.fit.tau_plus_s).toBeGreaterThan(0.5e-3);
    expect(curve.body.fit.tau_minus_s).toBeGreaterThan(0.5e-3);
    expect(curve.body.warnings).toEqual([]);
    // the CLI reads the same runs from the database file: a table, the fit with its time constants
    const text = execFileSync(process.execPath, [fileURLToPath(new URL('../bin/spikeloop.js', import.meta.url)), 'analyze', 'stdp', ...runIds.map(String), '--db', server.s.store.file], {
      encoding: 'utf8',
    });
    expect(text.split('\n').filter((l) => /^\d+\s+-?\d/.test(l))).toHaveLength(12);
    expect(text).toMatch(/^fit: A\+ = [\d.]+, τ\+ = [\d.]+ ms \(R² [\d.]+\); A− = [\d.]+, τ− = [\d.]+ ms/m);
  });

  it('a twin run of an stdp protocol with no circuit option runs on the plastic synapse', async () => {
    const r = await inject('POST', '/api/runs', {
      protocol: { kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [-2e-3, 2e-3], pairsPerOffset: 2, readWidthS: 2e-3, gapS: 2e-3 },
      source: 'twin',
      sampleRate: 10_000,
    });
    expect(r.status).toBe(201);
    const id = r.body.run.id;
    let run;
    do {
      await new Promise((res) => setTimeout(res, 50));
      run = (await inject('GET', `/api/runs/${id}`)).body.run;
    } while (run.status === 'running');
    expect(run.status).toBe('completed');
    expect(run.channels.map((c: { name: string }) => c.name)).toEqual(['stim', 'i_M', 'x_M', 'v_pre', 'v_post']);
    const curve = await inject('POST', '/api/experiments/stdp', { runIds: [id] });
    expect(curve.body.pairs.map((q: { dw: number }) => Math.sign(q.dw))).toEqual([-1, 1]);
  });

  it('an STDP curve of a LIF twin run comes with a warning naming the circuit', async () => {
    const r = await inject('POST', '/api/sweeps', {
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      sweep: {
        kind: 'sweep',
        base: { kind: 'stdp', quantity: 'current', preAmplitude: 20e-6, postAmplitude: 20e-6, readAmplitude: 5e-6, offsetsS: [-2e-3, 2e-3], pairsPerOffset: 2 },
        parameters: [{ field: 'pairPeriodS', values: [20e-3] }],
      },
    });
    expect(r.status).toBe(201);
    const sw = await server.waitSweep(r.body.sweep.id);
    const runId = sw.points[0].runId;
    const curve = await inject('POST', '/api/experiments/stdp', { runIds: [runId] });
    expect(curve.status).toBe(200);
    expect(curve.body.warnings).toEqual([expect.stringMatching(new RegExp(`^run ${runId}: circuit lif has no non-volatile memristive device`))]);
  });
});
