/**
 * soak_rss_slope_mb_per_h: a real `spikeloop serve` records 4 x 1 MS/s (two simulated runs of 2 channels at
 * 1 MS/s) with a live WebSocket client on each, for SPIKELOOP_SOAK_MINUTES (default 10); the server's RSS
 * is sampled every 5 s and the slope of a least-squares line through the samples after the first minute is
 * the figure (target <= 5 MB/h). Samples lost (dropped ranges of the runs) are reported in the note and
 * must be zero. Not part of the default `npm run bench`: `npm run bench -- soak`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Metric } from './run.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MINUTES = Number(process.env.SPIKELOOP_SOAK_MINUTES ?? 10);
const RATE = 1_000_000;
const WARMUP_S = Math.min(60, (MINUTES * 60) / 4);

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/** Least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) (sxy += (x[i] - mx) * (y[i] - my)), (sxx += (x[i] - mx) ** 2);
  return sxy / sxx;
}

export default async function* soakBench(): AsyncIterable<Metric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-bench-soak-'));
  const token = 'soak-bench-token';
  const child = spawn(path.join(root, 'bin/spikeloop.js'), ['serve', '--port', '0', '--db', path.join(dir, 'soak.db'), '--token', token], {
    stdio: ['ignore', 'pipe', 'inherit'],
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
    while (Date.now() - t0 < MINUTES * 60_000) {
      await new Promise((r) => setTimeout(r, 5000));
      const s = (Date.now() - t0) / 1000;
      if (s >= WARMUP_S) (t.push(s / 3600), rss.push(rssMb(child.pid!)));
    }
    const runs = await Promise.all(
      ids.map(async (id) => ((await (await fetch(`${base}/api/runs/${id}`, { headers: auth })).json()) as { run: { dropped: { start: number; end: number }[]; channels: { sampleCount: number }[] } }).run),
    );
    const lost = runs.reduce((n, r) => n + r.dropped.reduce((k, d) => k + (d.end - d.start), 0), 0);
    const recorded = runs.reduce((n, r) => n + r.channels.reduce((k, c) => k + c.sampleCount, 0), 0);
    for (const id of ids) await fetch(`${base}/api/runs/${id}/stop`, { method: 'POST', headers: auth });
    yield {
      metric: 'soak_rss_slope_mb_per_h',
      value: Number(slope(t, rss).toFixed(2)),
      unit: 'MB/h',
      note: `RSS slope of the server recording 4 x 1 MS/s (2 runs x 2 channels) with a live client per run for ${MINUTES} min (fit after ${WARMUP_S} s, ${rss.length} samples, RSS ${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)} MB); ${recorded} samples recorded, ${lost} lost; ${messages} live messages received; target <= 5 MB/h and 0 lost`,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
