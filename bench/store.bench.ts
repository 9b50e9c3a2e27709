/**
 * Run store benchmarks (docs/storage.md):
 *  - ingest_msps: 4 int16 channels streamed through a recorder (raw rows + min/max pyramid, batched
 *    commits) for 60 s; total samples per second over all channels, stop and final commit included.
 *  - zoom_read_ms: envelope of the whole of a 1e8-sample int16 channel at 2000 px (median of 21 reads).
 *  - zoom_read_ms_window_1pct: envelope of random 1 % windows of that channel at 2000 px (median of 21).
 * SPIKELOOP_BENCH_SECONDS shortens the ingest run (default 60).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Metric } from './run.ts';
import { RunStore } from '../server/store/run-store.ts';
import { Rng } from '../common/random.ts';

const INGEST_SECONDS = Number(process.env.SPIKELOOP_BENCH_SECONDS ?? 60);
const CHANNELS = 4;
const BLOCK = 65536;
const ZOOM_SAMPLES = 100_000_000;

/** A pool of pre-generated random-walk blocks, so the bench measures the store, not the generator. */
function blockPool(count: number, seed: number): Int16Array[] {
  const r = new Rng(seed);
  let v = 0;
  return Array.from({ length: count }, () => {
    const b = new Int16Array(BLOCK);
    for (let i = 0; i < BLOCK; i++) {
      v += (r.u32() >>> 24) - 128;
      if (v > 30000 || v < -30000) v = 0;
      b[i] = v;
    }
    return b;
  });
}

const INIT = { protocol: { kind: 'bench' }, source: 'simulated' as const, bench: {}, softwareVersion: 'bench' };
const channel = (i: number, rate: number) => ({
  name: `a${i}`,
  unit: 'V',
  sampleRate: rate,
  dtype: 'int16' as const,
  scale: 1e-4,
  offset: 0,
  role: 'response' as const,
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export default async function* storeBench(): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(tmpdir(), 'spikeloop-bench-store-'));
  try {
    // --- ingest ---------------------------------------------------------------------------------
    {
      const file = path.join(dir, 'ingest.sqlite');
      const store = RunStore.open(file);
      const id = store.createRun(INIT);
      const rec = store.recorder(id);
      // Declared at 10 MS/s per channel: commits come from the 200 ms timer check, as in a live run.
      rec.write({ type: 'descriptor', channels: Array.from({ length: CHANNELS }, (_, i) => channel(i, 10e6)) });
      const pool = blockPool(32, 7);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const deadline = t0 + INGEST_SECONDS * 1000;
      let next = 0;
      let k = 0;
      while (performance.now() < deadline) {
        for (let c = 0; c < CHANNELS; c++) rec.write({ type: 'block', channel: c, firstIndex: next, samples: pool[k++ % pool.length]! });
        next += BLOCK;
      }
      rec.write({ type: 'stop', status: 'completed' });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const total = next * CHANNELS;
      const size = statSync(file).size;
      store.close();
      yield {
        metric: 'ingest_msps',
        value: +(total / seconds / 1e6).toFixed(2),
        unit: 'MS/s',
        note:
          `wall clock: ${CHANNELS} int16 channels, ${(total / 1e6).toFixed(0)} MS in ${seconds.toFixed(1)} s, blocks of ${BLOCK}, ` +
          `file ${(size / 2 ** 20).toFixed(0)} MiB; this process used ${cpuSeconds.toFixed(1)} CPU-s ` +
          `(${(total / cpuSeconds / 1e6).toFixed(1)} MS per CPU-second), 1-min load average at the end ${loadavg()[0]!.toFixed(1)}; target >= 30`,
      };
      rmSync(file, { force: true });
      rmSync(file + '-wal', { force: true });
      rmSync(file + '-shm', { force: true });
    }

    // --- zoom reads -----------------------------------------------------------------------------
    {
      const file = path.join(dir, 'zoom.sqlite');
      const store = RunStore.open(file);
      const id = store.createRun(INIT);
      const rec = store.recorder(id);
      rec.write({ type: 'descriptor', channels: [channel(0, 1e6)] });
      const pool = blockPool(64, 11);
      let k = 0;
      for (let i = 0; i < ZOOM_SAMPLES; i += BLOCK) {
        const b = pool[k++ % pool.length]!;
        rec.write({ type: 'block', channel: 0, firstIndex: i, samples: b.subarray(0, Math.min(BLOCK, ZOOM_SAMPLES - i)) });
      }
      rec.write({ type: 'stop', status: 'completed' });
      store.close();
      // A fresh process-level open, as the server would have after a restart.
      const reader = RunStore.open(file, { readonly: true });
      const whole: number[] = [];
      const window: number[] = [];
      let items = [0, 0];
      const rng = new Rng(12345);
      for (let r = 0; r < 21; r++) {
        let t = performance.now();
        const a = reader.readEnvelope(id, 0, 0, ZOOM_SAMPLES, 2000);
        whole.push(performance.now() - t);
        const start = Math.floor(rng.next() * ZOOM_SAMPLES * 0.99);
        t = performance.now();
        const b = reader.readEnvelope(id, 0, start, start + ZOOM_SAMPLES / 100, 2000);
        window.push(performance.now() - t);
        items = [a.itemsRead, Math.max(items[1]!, b.itemsRead)];
      }
      reader.close();
      yield {
        metric: 'zoom_read_ms',
        value: +median(whole).toFixed(3),
        unit: 'ms',
        note: `whole 1e8-sample int16 channel at 2000 px, median of 21 (max ${Math.max(...whole).toFixed(2)} ms); ${items[0]} buckets/samples folded; target <= 20`,
      };
      yield {
        metric: 'zoom_read_ms_window_1pct',
        value: +median(window).toFixed(3),
        unit: 'ms',
        note: `random 1 % windows (1e6 samples) of the 1e8-sample channel at 2000 px, median of 21 (max ${Math.max(...window).toFixed(2)} ms); at most ${items[1]} buckets/samples folded; target <= 20`,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
