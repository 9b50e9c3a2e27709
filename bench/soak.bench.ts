/**
 * soak_rss_slope_mb_per_h: a real `spikeloop serve` records 4 x 1 MS/s (two simulated runs of 2 channels at
 * 1 MS/s) with a live WebSocket client on each, for SPIKELOOP_SOAK_MINUTES (default 10); the server's RSS
 * is sampled every 5 s and the figure is the Theil–Sen slope through the samples after the first minute
 * (target <= 5 MB/h). The note adds the least-squares slope, the slopes of the server's JavaScript heap and
 * external memory (bench/soak-memory.cjs) and the load average. Samples lost (dropped ranges of the runs)
 * are reported in the note and must be zero. Not part of the default `npm run bench`: `npm run bench -- soak`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { linearFit, median } from '../server/analysis/math.ts';
import type { Metric } from './run.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MINUTES = Number(process.env.SPIKELOOP_SOAK_MINUTES ?? 10);
const RATE = 1_000_000;
const WARMUP_S = Math.min(60, (MINUTES * 60) / 4);

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/**
 * Theil–Sen slope (Sen 1968, J. Am. Stat. Assoc. 63:1379): the median of the slopes between all pairs of
 * samples. Memory that stays moves every pair; a transient (on a loaded machine, sample blocks waiting for
 * the collector: 10–50 MB of buffers for up to a minute, then freed) cannot move it while it covers fewer
 * than 29 % of the samples, where one such burst late in a 10-minute window moves the least-squares slope
 * by tens of MB/h (77 vs 32 MB/h over the same samples, before the checkpointer's fix).
 */
function theilSen(x: number[], y: number[]): number {
  const s: number[] = [];
  for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) s.push((y[j] - y[i]) / (x[j] - x[i]));
  return median(s);
}

export default async function* soakBench(): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-soak-'));
  const token = 'soak-bench-token';
  const memoryFile = path.join(dir, 'memory.jsonl');
  const child = spawn(path.join(root, 'bin/spikeloop.js'), ['serve', '--port', '0', '--db', path.join(dir, 'soak.db'), '--token', token], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(root, 'bench/soak-memory.cjs')}`,
      SPIKELOOP_SOAK_MEMORY: memoryFile,
    },
  });
  const auth = { authorization: `Bearer ${token}` };
  const sockets: WebSocket[] = [];
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/[\d.]+:\d+)\//.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const ids: number[] = [];
    let messages = 0;
    for (let k = 0; k < 2; k++) {
      const res = await fetch(`${base}/api/runs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: { kind: 'square', durationS: MINUTES * 60 + 60 }, sampleRate: RATE, label: 'soak' }),
      });
      if (res.status !== 201) throw new Error(`POST /api/runs: ${res.status} ${await res.text()}`);
      const id = ((await res.json()) as { run: { id: number } }).run.id;
      ids.push(id);
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/runs/${id}/live`, { headers: auth });
      ws.on('message', () => messages++);
      sockets.push(ws);
    }
    const t0 = Date.now();
    const t: number[] = [];
    const rss: number[] = [];
    const load: number[] = [];
    while (Date.now() - t0 < MINUTES * 60_000) {
      await new Promise((r) => setTimeout(r, 5000));
      const s = (Date.now() - t0) / 1000;
      if (s >= WARMUP_S) (t.push(s / 3600), rss.push(rssMb(child.pid!)), load.push(os.loadavg()[0]));
    }
    const runs = await Promise.all(
      ids.map(async (id) => ((await (await fetch(`${base}/api/runs/${id}`, { headers: auth })).json()) as { run: { dropped: { start: number; end: number }[]; channels: { sampleCount: number }[] } }).run),
    );
    const lost = runs.reduce((n, r) => n + r.dropped.reduce((k, d) => k + (d.end - d.start), 0), 0);
    const recorded = runs.reduce((n, r) => n + r.channels.reduce((k, c) => k + c.sampleCount, 0), 0);
    for (const id of ids) await fetch(`${base}/api/runs/${id}/stop`, { method: 'POST', headers: auth });
    // the server's own heap and buffers (bench/soak-memory.cjs), over the same window
    const mem = readFileSync(memoryFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: number; heapUsed: number; external: number })
      .filter((m) => m.at - t0 >= WARMUP_S * 1000);
    const memT = mem.map((m) => (m.at - t0) / 3_600_000);
    const memSlope = (k: 'heapUsed' | 'external') => theilSen(memT, mem.map((m) => m[k] / 1024 / 1024)).toFixed(2);
    yield {
      metric: 'soak_rss_slope_mb_per_h',
      value: Number(theilSen(t, rss).toFixed(2)),
      unit: 'MB/h',
      note: `Theil-Sen slope of the RSS of the server recording 4 x 1 MS/s (2 runs x 2 channels) with a live client per run for ${MINUTES} min (fit after ${WARMUP_S} s, ${rss.length} samples, RSS ${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)} MB, least-squares slope ${linearFit(t, rss).slope.toFixed(2)} MB/h; JavaScript heap used ${memSlope('heapUsed')} MB/h, external memory (buffers) ${memSlope('external')} MB/h); ${recorded} samples recorded, ${lost} lost; ${messages} live messages received; load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}; target <= 5 MB/h and 0 lost`,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
