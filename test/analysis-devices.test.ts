/**
 * The analyses on the twin's own circuits, as a researcher runs them: each circuit is run as a twin run
 * through the API into a real SQLite store (POST /api/twin/runs), then analysed through the API with the
 * default parameters and stored with the run. The references are the twin's own records of the same run:
 * its spike events (neuron elements), the switch's state crossings (threshold-switch units), the output
 * crossings after locking (the CPG).
 *
 * Before this defaults (1 ms dead time, max-interval 0.17 s, CV-only bursting, linear chirp
 * labels): adaptive LIF 44 of 301 spikes; nsu-tonic 100 µA 725 Hz for 1,445 Hz; nsu-bursting one burst.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useInjectServer } from './helpers-live.ts';

const server = useInjectServer();
const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const r = await server.s.inject({ method, url, ...(payload ? { payload } : {}) });
  if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json();
};

/** A twin run of `circuit` on `protocol`, finished; its id. */
async function twinRun(circuit: string, protocol: Record<string, unknown>, sampleRate: number): Promise<number> {
  const id = (await inject('POST', '/api/twin/runs', { circuit, protocol, sampleRate })).run.id as number;
  await server.s.app.spikeloop.runs.waitForEnd(id);
  expect(server.s.store.getRun(id)!.status).toBe('completed');
  return id;
}

/** A stored channel in physical units. */
function channel(runId: number, name: string): { x: Float64Array; fs: number } {
  const run = server.s.store.getRun(runId)!;
  const c = run.channels.find((ch) => ch.name === name)!;
  const x = new Float64Array(c.sampleCount);
  for (const s of server.s.store.readRaw(runId, c.index, 0, c.sampleCount)) for (let i = 0; i < s.samples.length; i++) x[s.start + i] = s.samples[i] * c.scale + c.offset;
  return { x, fs: c.sampleRate };
}

/** Times (s) where x rises through th, linearly interpolated between samples. */
function risingTimes(x: Float64Array, fs: number, th: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < x.length; k++) if (x[k - 1] < th && x[k] >= th) out.push((k - 1 + (th - x[k - 1]) / (x[k] - x[k - 1])) / fs);
  return out;
}

describe('spike detection defaults on kHz devices', () => {
  it('adaptive LIF under its 1 kHz, 50 %, 1 mA square: all 301 spikes found at the default settings (was 44)', async () => {
    const id = await twinRun('adaptive-lif', { kind: 'square', quantity: 'current', amplitude: 1e-3, frequencyHz: 1000, duty: 0.5, durationS: 0.05 }, 1e6);
    const events = server.s.store.getRun(id)!.eventCounts.spike;
    expect(events).toBe(301);
    const r = await inject('POST', `/api/runs/${id}/analyses/spikes`, { channel: 'v_mem' });
    const ch = r.result.channels[0];
    expect(ch.n_spikes).toBe(events);
    // the chosen dead time and re-arm level are reported; the dead time is far below the 1 ms of old
    expect(ch.dead_time_source).toBe('signal');
    expect(ch.dead_time_s).toBeGreaterThan(0);
    expect(ch.dead_time_s).toBeLessThan(1e-4);
    expect(ch.rearm_level).toBeLessThan(ch.baseline + ch.threshold);
  });

  it('the simulated bench (LIF with drawn 1 V spikes) under its default square: every spike found at the default settings (was 0: the robust threshold 1.02 V sat above the 1 V peak)', async () => {
    const id = (await inject('POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.05 } })).run.id as number;
    await server.s.app.spikeloop.runs.waitForEnd(id);
    const run = server.s.store.getRun(id)!;
    expect(run.status).toBe('completed');
    expect(run.eventCounts.spike).toBe(100); // two spikes per 1 ms period (simulated-bench.ts)
    const ch = (await inject('POST', `/api/runs/${id}/analyses/spikes`, { channel: 'v_mem' })).result.channels[0];
    expect(ch.n_spikes).toBe(100);
    // each at the bench's own spike sample (a parabola through the drawn peak keeps it within half a sample)
    const ev = server.s.store.listEvents(id, { kind: 'spike' }).map((e) => e.index);
    ch.times_s.forEach((t: number, k: number) => expect(Math.abs(t * 1e5 - ev[k])).toBeLessThanOrEqual(0.5));
    // the k·σ rule was blind (its level above the trace's maximum) on a reset-type trace: the mesial level
    // halfway between the median and the maximum is used and reported
    expect(ch.threshold_rule).toBe('range');
    expect(ch.threshold).toBeCloseTo((1 - ch.baseline) / 2, 3);
  });

  it('nsu-tonic at 100 µA: the rate is within 1 % of the switch firing rate (was 725 Hz for 1,445 Hz)', async () => {
    const id = await twinRun('nsu-tonic', { kind: 'dc', quantity: 'current', level: 100e-6, durationS: 0.1 }, 2e5);
    // the twin's own record of each spike: the threshold switch turning on
    const x = channel(id, 'x_switch');
    const fired = risingTimes(x.x, x.fs, 0.5);
    const rate = fired.length / 0.1;
    expect(rate).toBeGreaterThan(1400);
    const r = await inject('POST', `/api/runs/${id}/analyses/spikes`, { channel: 'v_out' });
    expect(Math.abs(r.result.channels[0].stats.rate_hz - rate) / rate).toBeLessThan(0.01);
  });
});

describe('bursts and regimes', () => {
  it('nsu-bursting: the log-ISI default finds the bursts (max-interval at 0.17 s merged them into one), and the regime is bursting', async () => {
    const id = await twinRun('nsu-bursting', { kind: 'dc', quantity: 'current', level: 200e-6, durationS: 0.1 }, 2e5);
    const b = (await inject('POST', `/api/runs/${id}/analyses/bursts`, { channel: 'v_out' })).result;
    expect(b.method).toBe('log-isi');
    expect(b.channels[0].bursts.length).toBeGreaterThanOrEqual(8);
    expect(b.channels[0].mean_spikes_per_burst).toBeGreaterThanOrEqual(3);
    const mi = (await inject('POST', `/api/runs/${id}/analyses/bursts`, { channel: 'v_out', method: 'max-interval' })).result.channels[0];
    expect(mi.bursts.length).toBe(b.channels[0].bursts.length); // scaled to the train: the same bursts
    expect(mi.max_interval.scaled_to).toBe('mean-isi');
    const g = (await inject('POST', `/api/runs/${id}/analyses/regime`, { channel: 'v_out' })).result;
    expect(g.regime).toBe('bursting');
    expect(g.reason).toMatch(/^bimodal intervals \(bursts split at [\d.]+ ms\), \d+ % of spikes in bursts/);
  });

  it('a current ladder on nsu-tonic gives one regime per step: quiescent, oscillatory (fundamental, not a harmonic), saturated when latched', async () => {
    const levels = [0, 100e-6, 1e-3];
    const id = await twinRun('nsu-tonic', { kind: 'ladder', quantity: 'current', levels, dwellS: 0.02 }, 2e5);
    const r = (await inject('POST', `/api/runs/${id}/analyses/regime`, { channel: 'v_out' })).result;
    expect(r.steps.map((s: { level: number }) => s.level)).toEqual(levels);
    expect(r.steps.map((s: { regime: string }) => s.regime)).toEqual(['quiescent', 'oscillatory', 'saturated']);
    const osc = r.steps[1];
    expect(osc.rate_hz).toBeGreaterThan(1000);
    // a spectral peak, when reported, is the fundamental (the firing rate), not a harmonic
    if (Number.isFinite(osc.features.peak_frequency_hz)) expect(Math.abs(osc.features.peak_frequency_hz - osc.rate_hz) / osc.rate_hz).toBeLessThan(0.1);
    expect(r.steps[2].reason).toMatch(/^latched: x_switch held at its bound/);
    expect(r.regime).toBeTypeOf('string'); // the whole run's regime stays available
  });
});

/**
 * The run's stimulus and one response channel, recorded as a new run of source `daq` with the same
 * protocol: what a DAQ measuring the real part records (no device-state channel).
 */
function asMeasured(runId: number, response: string): number {
  const run = server.s.store.getRun(runId)!;
  const chans = ['stim', response].map((name) => ({ ...channel(runId, name), info: run.channels.find((c) => c.name === name)! }));
  const store = server.s.store;
  const id = store.createRun({ protocol: run.protocol as { kind: string }, source: 'daq', bench: {}, softwareVersion: 'test' });
  const rec = store.recorder(id);
  rec.write({ type: 'start', runId: id, protocol: run.protocol, source: 'daq', bench: {}, softwareVersion: 'test', wallTime: new Date().toISOString() });
  rec.write({ type: 'descriptor', channels: chans.map((c) => ({ name: c.info.name, unit: c.info.unit, sampleRate: c.fs, dtype: 'float64', scale: 1, offset: 0, role: c.info.role })) });
  chans.forEach((c, k) => rec.write({ type: 'block', channel: k, firstIndex: 0, samples: c.x }));
  rec.write({ type: 'stop', status: 'completed' });
  return id;
}

describe('saturation without a state channel', () => {
  it('nsu-tonic latched at 1 mA, recorded without x_switch: saturated from the response itself (was quiescent)', async () => {
    const dc = asMeasured(await twinRun('nsu-tonic', { kind: 'dc', quantity: 'current', level: 1e-3, durationS: 0.02 }, 2e5), 'v_out');
    expect(server.s.store.getRun(dc)!.channels.map((c) => c.name)).toEqual(['stim', 'v_out']);
    const r = (await inject('POST', `/api/runs/${dc}/analyses/regime`, {})).result;
    expect(r.regime).toBe('saturated');
    expect(r.reason).toMatch(/^latched: v_out per unit stimulus held at 100 Ω, (over 1000|[\d.]+)× the run's lowest/);
    // the ladder: quiescent at 0, tonic at 100 µA, latched at 1 mA
    const levels = [0, 100e-6, 1e-3];
    const ladder = asMeasured(await twinRun('nsu-tonic', { kind: 'ladder', quantity: 'current', levels, dwellS: 0.02 }, 2e5), 'v_out');
    const l = (await inject('POST', `/api/runs/${ladder}/analyses/regime`, {})).result;
    expect(l.steps.map((st: { regime: string }) => st.regime)).toEqual(['quiescent', 'oscillatory', 'saturated']);
  });
});

describe('phase', () => {
  it('cpg2: anti-phase locking, mean phase within 0.02 of the phase measured from the outputs after locking; the in-phase start is excluded', async () => {
    const id = await twinRun('cpg2', { kind: 'dc', quantity: 'current', level: 50e-6, durationS: 0.2 }, 2e5);
    const r = (await inject('POST', `/api/runs/${id}/analyses/phase`, { channels: ['v_outA', 'v_outB'] })).result;
    // reference: output crossings of the last cycles (well after locking)
    const a = channel(id, 'v_outA');
    const b = channel(id, 'v_outB');
    const ta = risingTimes(a.x, a.fs, 0.02);
    const tb = risingTimes(b.x, b.fs, 0.02);
    const ref: number[] = [];
    for (let k = ta.length - 6; k < ta.length - 1; k++) {
      const t = tb.find((x) => x >= ta[k] && x < ta[k + 1]);
      if (t !== undefined) ref.push((t - ta[k]) / (ta[k + 1] - ta[k]));
    }
    const refPhase = ref.reduce((s, x) => s + x, 0) / ref.length;
    expect(Math.abs(refPhase - 0.5)).toBeLessThan(0.15);
    expect(Math.abs(r.mean_phase - refPhase)).toBeLessThan(0.02);
    expect(r.vector_strength).toBeGreaterThan(0.9);
    expect(r.locking_time_s).toBeGreaterThan(0);
    expect(r.circular_sd).toBeLessThan(0.05);
    // stored with the run
    expect((await inject('GET', `/api/runs/${id}/analyses?name=phase`)).analyses).toHaveLength(1);
    // the CLI form: the server holds the writer lock, so the CLI reads and finds the stored result
    const out = execFileSync(process.execPath, ['bin/spikeloop.js', 'analyze', 'phase', String(id), '--channels', 'v_outA,v_outB', '--db', server.s.store.file, '--json'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
    });
    const cli = JSON.parse(out);
    expect(cli.cached).toBe(true);
    expect(cli.result.mean_phase).toBe(r.mean_phase);
    expect(Object.keys(cli.result)).toEqual(expect.arrayContaining(['mean_phase', 'circular_sd', 'vector_strength', 'locking_time_s']));
  });
});

describe('regimes of a network under a voltage ladder', () => {
  it('spiking-er: quiescent, oscillatory, bursting, saturated, one result per step from the stored ladder protocol', async () => {
    const levels = [2, 4, 6, 10];
    const id = await twinRun('spiking-er', { kind: 'ladder', quantity: 'voltage', levels, dwellS: 0.05 }, 1e5);
    expect(server.s.store.getRun(id)!.eventCounts.spike).toBeGreaterThan(10);
    // the network's spike events (its spike detectors), on the electrode current i_E0: used without asking
    // (a twin run's stored events are the twin's own spikes)
    const r = (await inject('POST', `/api/runs/${id}/analyses/regime`, {})).result;
    expect(r.channel).toBe('i_E0');
    expect(r.spikes_from).toBe('events');
    expect(r.steps.map((s: { level: number }) => s.level)).toEqual(levels);
    expect(r.steps.map((s: { regime: string }) => s.regime)).toEqual(['quiescent', 'oscillatory', 'bursting', 'saturated']);
    expect(r.steps[1].rate_hz).toBeGreaterThan(100);
    expect(r.steps[3].reason).toMatch(/^latched: conduction held at [\d.]+ µS, at least the conduction at the run's spikes/);
    // the CLI form needs no --events either; --no-events detects on the electrode current, where the
    // network's spikes do not show
    const cli = (...flags: string[]) =>
      JSON.parse(execFileSync(process.execPath, ['bin/spikeloop.js', 'analyze', 'regime', String(id), '--db', server.s.store.file, '--json', ...flags], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' }));
    const auto = cli();
    expect(auto.result.spikes_from).toBe('events');
    expect(auto.result.steps.map((s: { regime: string }) => s.regime)).toEqual(['quiescent', 'oscillatory', 'bursting', 'saturated']);
    const detected = cli('--no-events');
    expect(detected.result.spikes_from).toBe('detection');
    expect(detected.params.events).toBe(false);
    // the exact (sub-sample) event times: the same as asking for the stored events
    expect((await inject('POST', `/api/runs/${id}/analyses/regime`, { events: true })).result.steps).toEqual(r.steps);
  });
});

describe('regimes of the nanowire network', () => {
  it('spiking-nwn: quiescent, oscillatory, bursting, saturated in that order on a four-step ladder, with no events flag', async () => {
    const levels = [3, 6, 7.5, 9.5];
    const id = await twinRun('spiking-nwn', { kind: 'ladder', quantity: 'voltage', levels, dwellS: 0.05 }, 1e5);
    const r = (await inject('POST', `/api/runs/${id}/analyses/regime`, {})).result;
    expect(r.steps.map((s: { regime: string }) => s.regime)).toEqual(['quiescent', 'oscillatory', 'bursting', 'saturated']);
  });
});

describe('STDP inside a network from the shipped protocol', () => {
  it('examples/stdp-network.json on spiking-er-stdp: pre before post potentiates, post before pre depresses, |dw| falls with |dt|', async () => {
    const protocol = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../examples/stdp-network.json'), 'utf8'));
    // one stimulus channel: the pre electrode gets pre minus post, the post electrode (channel 1) stays at 0 V
    const id = await twinRun('spiking-er-stdp', protocol, 1e5);
    const r = await inject('POST', '/api/experiments/stdp', { runIds: [id] });
    expect(r.warnings).toEqual([]);
    const dw = new Map<number, number>(r.pairs.map((p: { dt_s: number; dw: number }) => [Math.round(p.dt_s * 1e3), p.dw]));
    expect([...dw.keys()]).toEqual([-8, 8, -4, 4, -2, 2]);
    for (const ms of [2, 4]) {
      expect(dw.get(ms)).toBeGreaterThan(0.1);
      expect(dw.get(-ms)).toBeLessThan(-0.1);
    }
    expect(dw.get(2)).toBeGreaterThan(dw.get(4)!);
    expect(dw.get(-2)).toBeLessThan(dw.get(-4)!);
    // 8 ms: the spikes no longer overlap above threshold; only the 10 s relaxation over the block (about -2 %)
    for (const ms of [8, -8]) expect(Math.abs(dw.get(ms)!)).toBeLessThan(0.05);
  });
});
