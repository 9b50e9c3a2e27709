/**
 * A DAQ-shaped run with a watchdog fault, written through the real store's recorder (the path every source's
 * messages take) into a browser test server's database while that server is down: 1 s at 10 kS/s of a 100 Hz
 * square, channels `stim` (V, the board's output) and `a0` (V), the board stopped by its watchdog at sample
 * 4000 and 1 700 samples per channel lost, recorded as DAQ runs record it (a `fault` event at the first lost
 * index, then blocks resuming after the gap), a marker with text, and spikes on a0.
 *
 *   await dash.server.kill(); const f = writeFaultRun(path.join(dash.server.dir, 'runs.db')); await dash.restartServer();
 */
import { RunStore, startMessage } from '../../server/store/run-store.ts';

export const FAULT_RUN = {
  rate: 10_000,
  total: 10_000,
  faultIndex: 4000,
  lost: 1700,
  faultLabel: 'board on /dev/ttyACM0 stopped by its watchdog (no host heartbeat for 240 ms)',
  markerIndex: 2000,
  markerLabel: 'drug applied',
  spikes: [500, 1500, 2500, 3500, 6000, 7000, 8000, 9000],
} as const;

export function writeFaultRun(dbFile: string): number {
  const f = FAULT_RUN;
  const store = RunStore.open(dbFile);
  try {
    const init = {
      protocol: { kind: 'square', quantity: 'current', amplitude: 1e-3, frequencyHz: 100, duty: 0.5, durationS: 1 },
      source: 'daq' as const,
      bench: { daq: { port: '/dev/ttyACM0', virtual: false, channels: [0], seriesOhms: 5000 } },
      softwareVersion: 'test',
      label: 'watchdog fault',
    };
    const id = store.createRun(init);
    const rec = store.recorder(id);
    rec.write(startMessage(id, init));
    rec.write({
      type: 'descriptor',
      channels: [
        { name: 'stim', unit: 'V', sampleRate: f.rate, dtype: 'int16', scale: 1e-3, offset: 0, role: 'stimulus' },
        { name: 'a0', unit: 'V', sampleRate: f.rate, dtype: 'int16', scale: 1e-3, offset: 0, role: 'response' },
      ],
    });
    const block = (channel: number, first: number, n: number) => {
      const s = new Int16Array(n);
      for (let i = 0; i < n; i++) {
        const k = first + i;
        s[i] = channel === 0 ? (Math.floor(k / 50) % 2 === 0 ? 5000 : 0) : Math.round(1500 * (1 - Math.exp(-(k % 100) / 20)));
      }
      return { type: 'block' as const, channel, firstIndex: first, samples: s };
    };
    for (const ch of [0, 1]) rec.write(block(ch, 0, f.faultIndex));
    rec.write({ type: 'event', kind: 'marker', index: f.markerIndex, label: f.markerLabel });
    for (const s of f.spikes.filter((s) => s < f.faultIndex)) rec.write({ type: 'event', kind: 'spike', channel: 1, index: s, value: 1.5 });
    rec.write({ type: 'event', kind: 'fault', index: f.faultIndex, label: f.faultLabel });
    const resume = f.faultIndex + f.lost;
    for (const ch of [0, 1]) rec.write(block(ch, resume, f.total - resume));
    for (const s of f.spikes.filter((s) => s >= resume)) rec.write({ type: 'event', kind: 'spike', channel: 1, index: s, value: 1.5 });
    rec.write({ type: 'stop', status: 'completed' });
    return id;
  } finally {
    store.close();
  }
}
