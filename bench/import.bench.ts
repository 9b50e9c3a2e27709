/**
 * An imported run's events (server/import/events.ts → the import source → the recorder): reading an events
 * export of 10⁶ spikes with its recording, storing them, and how long the event loop waited meanwhile (the
 * server answers other requests while an import records).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metric } from './run.ts';
import { RunStore } from '../server/store/run-store.ts';
import { RunManager } from '../server/runs/run-manager.ts';
import { loadSources } from '../server/sources/registry.ts';
import { importRecording, readRecording } from '../server/import/index.ts';
import { EVENTS_HEADER } from '../server/export/index.ts';

const SAMPLES = 200_000;
const EVENTS = 1_000_000;

export default async function* importBench(): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(tmpdir(), 'spikeloop-bench-import-'));
  const store = RunStore.open(path.join(dir, 'runs.db'));
  try {
    const runs = new RunManager(store, loadSources());
    const note = `${EVENTS} spikes on a ${SAMPLES}-sample CSV at 100 kHz; load ${loadavg()[0].toFixed(1)}`;
    const csv = `time_s,v (V)\n${Array.from({ length: SAMPLES }, (_, i) => `${i / 1e5},${(i % 7) / 10}`).join('\n')}\n`;
    const events = `${EVENTS_HEADER}\n${Array.from({ length: EVENTS }, (_, k) => {
      const i = Math.floor((k * SAMPLES) / EVENTS);
      return `${i / 1e5},spike,v,0.5,,${i}`;
    }).join('\n')}\n`;
    let t = performance.now();
    const rec = await readRecording(Buffer.from(csv), 'bench.csv', { events: { text: events, name: 'bench-events.csv' } });
    yield { metric: 'import_events_read_ms', value: Math.round(performance.now() - t), unit: 'ms', note: `recording and events file read and checked; ${note}` };
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    t = performance.now();
    const run = await importRecording(runs, rec, 'bench.csv');
    delay.disable();
    if (store.getRun(run.id)!.eventCounts.spike !== EVENTS) throw new Error('not every spike was stored');
    yield { metric: 'import_events_store_ms', value: Math.round(performance.now() - t), unit: 'ms', note: `run recorded with its events; ${note}` };
    yield { metric: 'import_events_loop_delay_max_ms', value: Math.round(delay.max / 1e6), unit: 'ms', note: `event-loop delay while recording; ${note}` };
    yield { metric: 'import_events_loop_delay_p99_ms', value: Math.round(delay.percentile(99) / 1e6), unit: 'ms', note: `event-loop delay while recording; ${note}` };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
