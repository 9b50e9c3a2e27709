/**
 * Crash safety of the run store: a child process records at 1 MS/s and is killed with SIGKILL at a random
 * moment. The database must open, the run must read as 'interrupted', every committed sample must be
 * bit-exact, and no more than the last 250 ms of samples may be lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../server/store/run-store.ts';
import { pixelEdges } from '../server/store/pyramid.ts';
import { crashSample } from './store-crash.data.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 1_000_000;
const MAX_LOSS = 0.25 * RATE;
const TRIALS = 5;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'spikeloop-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the recorder child, kills it `afterMs` after its first block; returns the run id and the last index it reported. */
function recordAndKill(
  file: string,
  afterMs: number,
  whileRunning?: () => void,
): Promise<{ runId: number; handed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/run-ts.js'), path.join(root, 'test/store-crash.child.ts'), file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let runId = -1;
    let handed = -1;
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'run') runId = Number(value);
        if (word === 'handed') handed = Number(value);
      }
      if (handed >= 0 && !timer) {
        timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
        try {
          whileRunning?.();
        } catch (err) {
          child.kill('SIGKILL');
          reject(err);
        }
      }
    });
    // 'close' comes after the pipes are drained: lines written before the kill are all counted.
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`recorder child exited with ${code ?? signal}: ${stderr}`));
      else resolve({ runId, handed });
    });
  });
}

describe('run store crash safety', () => {
  it(`keeps every committed sample bit-exact and loses at most 250 ms when the recorder is SIGKILLed (${TRIALS} trials)`, async () => {
    const file = path.join(dir, 'crash.sqlite');
    for (let trial = 0; trial < TRIALS; trial++) {
      const afterMs = 250 + Math.floor(Math.random() * 1000);
      const { runId, handed } = await recordAndKill(file, afterMs, () => {
        // While the child records: a second writer is refused, a reader sees the run as running.
        expect(() => RunStore.open(file)).toThrow(/open for writing by process/);
        const ro = RunStore.open(file, { readonly: true });
        expect(ro.listRuns({ limit: 1 })[0]!.status).toBe('running');
        ro.close();
      });
      expect(runId).toBeGreaterThan(0);

      const store = RunStore.open(file);
      const run = store.getRun(runId)!;
      expect(run.status).toBe('interrupted');
      const committed = run.channels[0]!.sampleCount;
      // At most the last 250 ms (of the 1 MS/s sample clock) lost.
      expect(handed + 1 - committed, `trial ${trial} (killed ${afterMs} ms after the first block): handed ${handed + 1}, committed ${committed}`).toBeLessThanOrEqual(MAX_LOSS);
      expect(committed).toBeLessThanOrEqual(handed + 1);
      expect(run.dropped).toEqual([]);

      const segs = store.readRaw(runId, 0, 0, committed + 1_000_000);
      if (committed === 0) {
        // Killed before its first commit (a heavily loaded machine): nothing stored, nothing invented.
        expect(segs).toEqual([]);
        store.close();
        continue;
      }
      expect(segs).toHaveLength(1);
      expect(segs[0]!.start).toBe(0);
      const got = segs[0]!.samples;
      expect(got.length).toBe(committed);
      let bad = -1;
      for (let i = 0; i < committed; i++) {
        if (got[i] !== crashSample(i)) {
          bad = i;
          break;
        }
      }
      expect(bad, `first corrupt sample of trial ${trial}`).toBe(-1);

      // The pyramid of the crashed run (its unfinished buckets never written) still gives exact envelopes.
      for (const [a, b, px] of [
        [0, committed, 1000],
        [0, committed + 5000, 333],
        [Math.floor(committed / 3), committed, 2000],
      ] as const) {
        const env = store.readEnvelope(runId, 0, a, b, px);
        const edges = pixelEdges(a, b, px);
        const want = { min: new Float64Array(px).fill(NaN), max: new Float64Array(px).fill(NaN) };
        for (let p = 0; p < px; p++) {
          let mn = Infinity;
          let mx = -Infinity;
          for (let i = edges[p]!; i < Math.min(edges[p + 1]!, committed); i++) {
            const v = crashSample(i);
            if (v < mn) mn = v;
            if (v > mx) mx = v;
          }
          if (mn <= mx) {
            want.min[p] = mn * 1e-4;
            want.max[p] = mx * 1e-4;
          }
        }
        for (let p = 0; p < px; p++) {
          if (!Object.is(env.min[p], want.min[p]) || !Object.is(env.max[p], want.max[p])) {
            expect([p, env.min[p], env.max[p]], `envelope of [${a}, ${b}) at ${px} px`).toEqual([p, want.min[p], want.max[p]]);
          }
        }
      }
      store.close();
    }
  });
});
