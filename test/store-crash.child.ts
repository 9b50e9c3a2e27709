/**
 * Child process of store-crash.test.ts: records one int16 channel at 1 MS/s (paced by the wall clock) of
 * deterministic data into the store given as argv[2], until it is killed. After each block it prints
 * the highest sample index handed to the recorder.
 */
import { RunStore } from '../server/store/run-store.ts';
import { crashSample } from './store-crash.data.ts';

const file = process.argv[2]!;
const RATE = 1_000_000;
const BLOCK = 1000;

const store = RunStore.open(file);
const runId = store.createRun({ protocol: { kind: 'crash_test' }, source: 'simulated', bench: {}, softwareVersion: 'test' });
const rec = store.recorder(runId);
rec.write({ type: 'start', runId, protocol: { kind: 'crash_test' }, source: 'simulated', bench: {}, softwareVersion: 'test', wallTime: new Date().toISOString() });
rec.write({
  type: 'descriptor',
  channels: [{ name: 'v', unit: 'V', sampleRate: RATE, dtype: 'int16', scale: 1e-4, offset: 0, role: 'response' }],
});
process.stdout.write(`run ${runId}\n`);

const t0 = performance.now();
let next = 0;
function pump(): void {
  const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
  while (next + BLOCK <= due) {
    const samples = new Int16Array(BLOCK);
    for (let k = 0; k < BLOCK; k++) samples[k] = crashSample(next + k);
    rec.write({ type: 'block', channel: 0, firstIndex: next, samples });
    next += BLOCK;
    process.stdout.write(`handed ${next - 1}\n`);
  }
  setTimeout(pump, 2);
}
pump();
