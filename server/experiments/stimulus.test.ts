/**
 * The one stimulus reader's rule (gaps, held DAQ stimuli, units) and the one path of a pairing: a twin run
 * of the run manager (state machine, live feed) fed a stored run's recorded stimulus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunMessage, RunSourceKind } from '../../common/run-stream.ts';
import { RunManager } from '../runs/run-manager.ts';
import { SourceRegistry } from '../sources/registry.ts';
import { register as registerTwin } from '../sources/twin-source.ts';
import { RunStore, startMessage } from '../store/run-store.ts';
import { simulate } from '../twin/index.ts';
import { pairWithTwin, startTwinOfRun } from './pairing.ts';
import { filledSamples, readStimulus } from './stimulus.ts';
import { inlineSimulate } from './twin-task.ts';

const lif = JSON.parse(readFileSync(new URL('../twin/circuits/lif.json', import.meta.url), 'utf8'));

let dir: string;
let store: RunStore;
let runs: RunManager;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-stim-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  const sources = new SourceRegistry();
  registerTwin(sources);
  runs = new RunManager(store, sources);
});

afterAll(async () => {
  await runs.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stored run whose stimulus channel has the given blocks ([firstIndex, values]) and `n` samples in all. */
function recorded(source: RunSourceKind, unit: string, blocks: [number, number[]][], rate = 1000): number {
  const init = { protocol: { kind: 'dc', quantity: unit === 'A' ? 'current' : 'voltage', level: 1e-5, durationS: 1 }, source, bench: null, softwareVersion: 'test' };
  const id = store.createRun(init);
  const rec = store.recorder(id);
  rec.write(startMessage(id, init));
  rec.write({ type: 'descriptor', channels: [{ name: 'stim', unit, sampleRate: rate, dtype: 'float64', scale: 1, offset: 0, role: 'stimulus' }] });
  for (const [first, v] of blocks) rec.write({ type: 'block', channel: 0, firstIndex: first, samples: Float64Array.from(v) });
  rec.write({ type: 'stop', status: 'completed' });
  return id;
}

describe('the recorded stimulus (one reader, one rule)', () => {
  it('a gap holds the last value before it; samples before the first block are 0; the gaps are reported', () => {
    const id = recorded('simulated', 'A', [
      [2, [1, 2, 3]],
      [8, [4, 5]],
    ]);
    const s = readStimulus(store, id);
    expect(Array.from(s.samples)).toEqual([0, 0, 1, 2, 3, 3, 3, 3, 4, 5]);
    expect(s.gaps).toEqual([
      [0, 2],
      [5, 8],
    ]);
    expect(filledSamples(s)).toBe(5);
    expect([s.quantity, s.hold, s.sampleRate]).toEqual(['current', false, 1000]);
    expect(Array.from(readStimulus(store, id, { durationS: 0.004 }).samples)).toEqual([0, 0, 1, 2]);
  });

  it('a DAQ run is replayed held; the unit decides the quantity; a channel in another unit is refused', () => {
    const daq = recorded('daq', 'V', [[0, [0, 5, 5, 0]]]);
    expect(readStimulus(store, daq)).toMatchObject({ hold: true, quantity: 'voltage' });
    const odd = recorded('simulated', 'Ohm', [[0, [1, 2]]]);
    expect(() => readStimulus(store, odd, { field: '/stimulusRun' })).toThrow(expect.objectContaining({ code: 'CHANNEL_NOT_FOUND', field: '/stimulusRun' }));
    expect(() => readStimulus(store, 999)).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
  });
});

describe('a pairing is a twin run of the run manager', () => {
  it('streams on the live feed, ends completed, linked, and stores what simulate() gives on the recorded stimulus', async () => {
    const samples = Array.from({ length: 400 }, (_, k) => (k < 50 ? 0 : 2e-5));
    const measured = recorded('simulated', 'A', [
      [0, samples.slice(0, 100)],
      [150, samples.slice(150)],
    ]);
    const seen: RunMessage['type'][] = [];
    const unsubscribe = runs.subscribeAll((_, msg) => seen.push(msg.type));
    const pair = await pairWithTwin(store, runs, measured, { circuit: lif, analyses: [] });
    unsubscribe();
    expect(seen[0]).toBe('start');
    expect(seen).toContain('descriptor');
    expect(seen).toContain('block');
    expect(seen.at(-1)).toBe('stop');
    expect(pair.filledSamples).toBe(50);
    const twin = store.getRun(pair.twinRunId)!;
    expect(twin).toMatchObject({ source: 'twin', status: 'completed', linkedRunId: measured });
    expect(runs.isActive(twin.id)).toBe(false);
    // the same stimulus, gap held, and the same membrane as simulate() on it
    const stim = readStimulus(store, measured);
    expect(Array.from(readStimulus(store, twin.id).samples)).toEqual(Array.from(stim.samples));
    const ref = simulate(lif, { samples: stim.samples, sampleRate: 1000, quantity: 'current' });
    const v = twin.channels.find((c) => c.name === ref.channels[0].name)!;
    const stored = store.readRaw(twin.id, v.index, 0, v.sampleCount).flatMap((seg) => Array.from(seg.samples));
    expect(stored).toEqual(Array.from(Float32Array.from(ref.channels[0].data)));

    // computed first (as on the worker pool) or in the twin source: the same run
    const { run: other } = await startTwinOfRun(store, runs, measured, { circuit: lif, simulate: inlineSimulate() });
    await runs.waitForEnd(other.id);
    const again = store.readRaw(other.id, v.index, 0, v.sampleCount).flatMap((seg) => Array.from(seg.samples));
    expect(again).toEqual(stored);
    expect(store.listEvents(twin.id, { kind: 'spike', limit: 1000 }).length).toBeGreaterThan(2);
    expect(store.listEvents(other.id, { limit: 1000 }).map((e) => [e.index, e.channel])).toEqual(
      store.listEvents(twin.id, { limit: 1000 }).map((e) => [e.index, e.channel]),
    );
  });
});
