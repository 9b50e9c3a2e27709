/**
 * DAQ runs record spike events (real firmware in simavr behind a real pty, lif-daq on the pins, a real SQLite
 * store): the online detector's events on the membrane channel match the paired twin run's spikes, and the
 * compare analysis on the stored events of both runs gives SPIKE-synchronization close to 1. The same run
 * checks the bench configuration path: a channel entry's `spikes` adds rising-crossing events on a1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../server/api/app.ts';
import { newToken } from '../server/api/security.ts';
import { validateBenchConfig } from '../server/benchconfig/index.ts';
import { pairWithTwin } from '../server/experiments/pairing.ts';
import { inlineSimulate } from '../server/experiments/twin-task.ts';
import { register as registerDaq } from '../server/sources/daq-source.ts';
import { register as registerTwin } from '../server/sources/twin-source.ts';
import { SourceRegistry } from '../server/sources/registry.ts';
import { loadExampleCircuit } from '../server/sources/twin-source.ts';
import { RunStore } from '../server/store/run-store.ts';
import { detectSpikes } from '../server/analysis/spikes.ts';
import { spikeDetectOptions, type SpikeDetectorConfig } from '../server/analysis/online-spikes.ts';

describe('a DAQ run on the virtual bench records spike events', () => {
  it('lif-daq: membrane resets as spike events within 2 ticks of the twin run, SPIKE-synchronization ~1 through the API', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-daq-spikes-'));
    const store = RunStore.open(path.join(dir, 'runs.db'));
    const sources = new SourceRegistry();
    registerDaq(sources);
    registerTwin(sources); // the pairing is a twin run of the run manager
    // a bench configuration (as `serve --bench`) that also lists a board, with spike detection on its a1 (the
    // stimulus pin): rising at 2.5 V. The stimulus instrument is the simulated one, so a daq run with no port
    // goes to the virtual Uno, and the board's channel entries still apply.
    const bench = validateBenchConfig({
      name: 'virtual bench + uno',
      instruments: [
        { id: 'sim', kind: 'simulated', model: 'lif-square-demo', channels: [{ name: 'stim', role: 'stimulus', unit: 'A' }, { name: 'v_mem', role: 'response', unit: 'V' }] },
        {
          id: 'uno',
          kind: 'daq',
          model: 'arduino-uno',
          port: '/dev/ttyACM-not-plugged',
          channels: [
            { name: 'stim', role: 'stimulus', unit: 'V' },
            { name: 'a1', role: 'response', unit: 'V', spikes: { threshold: 2.5, direction: 'rising' } },
          ],
        },
      ],
      limits: { maxVoltage: 20, maxCurrent: 0.01, maxPower: 0.25, compliance: { current: 0.01, voltage: 20 } },
    });
    // the server's services: the instrument manager lends the bench's DAQ settings to the daq source
    const token = newToken();
    const app = await buildApp({ store, sources, bench, webDist: false, security: { token } });
    const runs = app.spikeloop.runs;
    try {
      // the dashboard's default run: the 1 kHz / 50 % square (1 mA = 5 V through 5 kOhm) at 5 kS/s; sine-like
      // variety is covered by test/daq-twin.test.ts, here the stream's events are what is tested
      const started = await runs.start({ protocol: { kind: 'square', durationS: 0.4 }, source: 'daq', sampleRate: 5000 });
      expect(await runs.waitForEnd(started.id)).toMatchObject({ status: 'completed' });
      const run = store.getRun(started.id)!;
      expect((run.bench as { daq: { spikes: unknown } }).daq.spikes).toMatchObject({ a0: { direction: 'reset', threshold: 1.5 }, a1: { direction: 'rising' } });
      const a0 = run.channels.find((c) => c.name === 'a0')!;
      const a1 = run.channels.find((c) => c.name === 'a1')!;
      // the stored traces at their indices (NaN where the board dropped ticks: a loaded machine can make the
      // real-time emulator miss some, recorded as dropped ranges)
      const read = (ch: typeof a0) => {
        const x = new Array<number>(ch.sampleCount).fill(NaN);
        for (const seg of store.readRaw(run.id, ch.index, 0, ch.sampleCount)) seg.samples.forEach((v, i) => (x[seg.start + i] = v));
        return x;
      };
      const v0 = read(a0);
      const v1 = read(a1);
      expect(v0.length).toBe(2000);
      const kept = v0.filter((x) => x === x).length;
      expect(kept).toBeGreaterThan(1500);
      const ev0 = store.listEvents(run.id, { kind: 'spike', channel: a0.index, limit: 100_000 });
      const ev1 = store.listEvents(run.id, { kind: 'spike', channel: a1.index, limit: 100_000 });

      // the live events are what the stored-run detection finds on the stored trace with the same settings
      // (missing samples are NaN: nothing inferred across them, live or stored)
      const stored = (x: number[], ch: typeof a0, cfg: SpikeDetectorConfig) => Array.from(detectSpikes(x, ch.sampleRate, spikeDetectOptions(cfg), ch.scale, ch.offset).indices);
      expect(ev0.map((e) => e.index)).toEqual(stored(v0, a0, { threshold: 1.5, direction: 'reset', dropFraction: 0.3, refractoryS: 0.0005 }));
      // one per membrane reset, at the first sample after it (more than 0.45 V below the one before), valued at the one before
      const drop = 0.45 / a0.scale;
      const resets = v0.flatMap((x, k) => (k > 0 && v0[k - 1] - x > drop ? [k] : []));
      expect(resets.length).toBeGreaterThan(50);
      expect(ev0.map((e) => e.index)).toEqual(resets);
      for (const e of ev0) expect(e.value).toBeCloseTo(v0[e.index - 1] * a0.scale + a0.offset, 9);
      // bench-configured a1: the stimulus pin's excursions above 2.5 V, one per high half-period of the square
      expect(ev1.map((e) => e.index)).toEqual(stored(v1, a1, { threshold: 2.5, direction: 'rising' }));
      const th = 2.5 / a1.scale;
      expect(ev1.length).toBe(v1.filter((x, k) => x > th && !(v1[k - 1] > th)).length);
      expect(ev1.length).toBeGreaterThan(200);

      // the paired twin run (as the Compare view pairs): the same spikes, each within 2 ticks. Where the board
      // dropped samples (it stops its output and the twin holds the last value over the gap) the two may differ
      // until the membranes reset again: events from 3 ticks before a gap to 12 after it are not compared.
      const pair = await pairWithTwin(store, runs, run.id, { circuit: loadExampleCircuit('lif-daq'), simulate: inlineSimulate(), analyses: [] });
      const twin = store.listEvents(pair.twinRunId, { kind: 'spike', limit: 100_000 }).map((e) => e.index);
      const near = (xs: number[], k: number) => xs.some((x) => Math.abs(x - k) <= 2);
      const nearGap = (k: number) => v0.slice(Math.max(0, k - 12), k + 4).some((x) => x !== x);
      const meas = ev0.map((e) => e.index);
      let compared = 0;
      for (const k of meas) if (!nearGap(k)) expect(near(twin, k), `measured spike at ${k}`).toBe(++compared > 0);
      for (const t of twin) if (!nearGap(t)) expect(near(meas, t), `twin spike at ${t}`).toBe(++compared > 0);
      expect(compared).toBeGreaterThan(100);
      if (kept === v0.length) expect(twin.length).toBe(ev0.length);

      // the compare analysis on the stored events of both runs
      const r = await app.inject({ headers: { authorization: `Bearer ${token}` }, method: 'POST', url: `/api/runs/${run.id}/analyses/compare`, payload: { events: true, with: pair.twinRunId } });
      expect(r.statusCode).toBe(200);
      const res = r.json().result;
      expect(res.measured).toMatchObject({ channel: 'a0', n_spikes: ev0.length });
      expect(res.simulated.n_spikes).toBe(twin.length);
      expect(res.spike_sync).toBeGreaterThan(0.95);
      expect(res.coincidence_factor).toBeGreaterThan(0.9);
    } finally {
      await app.close();
      await runs.shutdown();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
