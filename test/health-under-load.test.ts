/**
 * Issue 14, bounded work: `GET /api/health` answers within 100 ms while the heaviest accepted request of
 * each heavy route runs (docs/security.md "Bounded work"). A timing test: vitest.config.ts runs this file
 * alone, after every other file has finished (project `timing`, group 1), so that the suite's own load does
 * not decide it. The server is this process's event loop; its probes and the big clients (an upload, the
 * downloads) run on threads of their own, so what is measured is the server's work, not the client's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { startServer, twinRun, type TestServer } from './helpers-live.ts';
import { startProber } from './health-prober.ts';
import type { WorkerPool } from '../server/workers/pool.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

const json = (url: string, body: unknown, signal?: AbortSignal) =>
  srv.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

/**
 * A request sent from a thread of its own: the status and the answer's size (and its start, for a failing
 * assertion). `csvRows`: the body is a CSV of that many rows (time_s, v_in, v_out), made on that thread.
 */
function offThread(path: string, init: { method?: string; headers?: Record<string, string>; csvRows?: number } = {}): Promise<{ status: number; bytes: number; head: string }> {
  const w = new Worker(
    `const { parentPort, workerData: d } = require('node:worker_threads');
     let body;
     if (d.csvRows) {
       const lines = ['time_s,v_in,v_out'];
       for (let i = 0; i < d.csvRows; i++) lines.push((i * 1e-5).toFixed(5) + ',' + Math.sin(i / 50).toFixed(6) + ',' + Math.cos(i / 70).toFixed(6));
       body = Buffer.from(lines.join('\\n'));
     }
     fetch(d.url, { method: d.method, headers: d.headers, body }).then(async (r) => {
       const b = Buffer.from(await r.arrayBuffer());
       parentPort.postMessage({ status: r.status, bytes: b.length, head: b.subarray(0, 300).toString() });
     }, (e) => parentPort.postMessage({ status: -1, bytes: 0, head: String(e) }));`,
    { eval: true, workerData: { url: `${srv.base}${path}`, method: init.method ?? 'GET', headers: { ...srv.auth, ...init.headers }, csvRows: init.csvRows } },
  );
  return new Promise((resolve) => w.once('message', (m) => void w.terminate().then(() => resolve(m))));
}

interface Window {
  /** Each probe's answer time, ms. */
  probes: number[];
  /** The largest delay of the server's event loop (this process's main thread) meanwhile, ms. */
  loopMax: number;
}

/**
 * GET /api/health probed on a fixed clock (every 20 ms, each probe on its own, not waiting for the one
 * before) from a thread of its own while `busy` is pending and for at least `ms`, and this process's
 * event-loop delay meanwhile (monitorEventLoopDelay, 10 ms timer). A blocked loop delays every probe
 * that falls into the block.
 */
async function healthWhile(busy: Promise<unknown>, ms: number): Promise<Window> {
  const stop = await startProber(`${srv.base}/api/health`, srv.auth);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await Promise.all([busy.catch(() => undefined), new Promise((res) => setTimeout(res, ms))]);
  loop.disable();
  const probes = await stop();
  expect(probes.filter((x) => x < 0), 'health probes that failed').toEqual([]);
  return { probes, loopMax: loop.max / 1e6 };
}

it('GET /api/health answers within 100 ms while the heaviest accepted request of each heavy route runs', { timeout: 900_000 }, async () => {
  const pool = srv.app.spikeloop.pool as WorkerPool;
  // stored runs to analyse: a twin run of 1.2e6 samples in all (3 channels), so 16 of it reach the run-ids cap
  const big = await twinRun(srv, { circuit: 'lif', protocol: { kind: 'sine', quantity: 'current', amplitude: 40e-6, offset: 20e-6, frequencyHz: 50, durationS: 4 }, sampleRate: 100_000 });
  const bigSamples = srv.store.getRun(big)!.channels.reduce((n, c) => n + c.sampleCount, 0);
  expect(bigSamples).toBe(1_200_000);
  const stdpRun = await twinRun(srv, { circuit: 'stdp-synapse', protocol: { kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [-4e-3, -2e-3, 2e-3, 4e-3], pairsPerOffset: 3, readWidthS: 2e-3, gapS: 2e-3 }, sampleRate: 100_000 });
  const stdpSamples = srv.store.getRun(stdpRun)!.channels.reduce((n, c) => n + c.sampleCount, 0);
  const busy: Record<string, Window[]> = {};
  const idleProbes: number[] = [];
  let idleLoopMax = 0;
  const during = async (route: string, work: Promise<unknown>, minMs: number) => {
    (busy[route] ??= []).push(await healthWhile(work, minMs));
  };
  /** The same probes for 1 s with the server idle, before each route's request: what the machine itself delays. */
  const baseline = async () => {
    expect(pool.pending).toBe(0);
    const w = await healthWhile(Promise.resolve(), 1000);
    idleProbes.push(...w.probes);
    idleLoopMax = Math.max(idleLoopMax, w.loopMax);
  };
  const idle = () => expect.poll(() => pool.pending, { timeout: 60_000 }).toBe(0);
  const all = (ws: Window[]) => ws.flatMap((w) => w.probes);
  const p = (v: number[], q: number) => [...v].sort((x, y) => x - y)[Math.min(v.length - 1, Math.floor(q * v.length))];
  const late = (v: number[]) => v.filter((x) => x > 100).length / v.length;
  const stats = (v: number[]) => ({ n: v.length, p50: Math.round(p(v, 0.5)), p95: Math.round(p(v, 0.95)), max: Math.round(Math.max(...v)), late: +late(v).toFixed(3) });
  const loopMax = (ws: Window[]) => Math.max(...ws.map((w) => w.loopMax));
  /**
   * What fails a route: a 95th percentile over 100 ms, late answers (over 100 ms) more than 5 % of the time
   * beyond the idle share, or a delay of the event loop of half a second (an NWB export held it 1.1 s). The
   * file runs alone (vitest.config.ts), so the suite's own load does not count; measured alone at load 2.5:
   * p95 3–45 ms, at most 1.7 % late, loop delays up to 157 ms (docs/security.md "Bounded work"). The idle
   * share and the tries below absorb a machine that stalls an idle server too (up to 798 ms at load 10–22).
   */
  const problem = (route: string): string | null => {
    const v = all(busy[route]);
    if (v.length < 25) return `${route}: ${v.length} probes`;
    if (p(v, 0.95) > 100) return `${route}: p95 ${Math.round(p(v, 0.95))} ms`;
    if (late(v) > late(idleProbes) + 0.05) return `${route}: ${(100 * late(v)).toFixed(1)} % late`;
    if (loopMax(busy[route]) >= 500) return `${route}: event loop delayed ${Math.round(loopMax(busy[route]))} ms`;
    return null;
  };
  const tries: Record<string, number> = {};
  /**
   * Measures a route (`attempt`: the idle baseline, then its request under the probes) up to three times,
   * until it passes: the machine's own stalls (a whole second, now and then, with the server idle) pass on
   * another try, a server that blocks fails each time.
   */
  const route = async (name: string, attempt: () => Promise<void>) => {
    for (let i = 1; i <= 3; i++) {
      busy[name] = [];
      tries[name] = i;
      await attempt();
      await idle();
      if (!problem(name)) return;
    }
  };

  // POST /api/analysis/distance at its pair-work cap
  await route('distance', async () => {
    const trains = Array.from({ length: 100 }, (_, k) => Array.from({ length: 100 }, (_, i) => i * 0.01 + k * 1e-5));
    await baseline();
    const distance = json('/api/analysis/distance', { trains, metric: 'victor-purpura', q: 10 });
    await during('distance', distance, 1500);
    expect((await distance).status).toBe(200);
  });

  // POST /api/analysis/regime over the most run ids and samples
  await route('regime', async () => {
    await baseline();
    const regime = json('/api/analysis/regime', { runIds: Array.from({ length: 16 }, () => big) });
    await during('regime', regime, 1000);
    expect((await regime).status).toBe(200);
  });

  // POST /api/analysis/powerlaw with the most bootstrap replicates: cancelled by leaving
  await route('powerlaw bootstrap', async () => {
    await baseline();
    const ac = new AbortController();
    const values = Array.from({ length: 2000 }, (_, i) => 1 / Math.pow((i + 0.5) / 2000, 1 / 1.5));
    const bootstrap = json('/api/analysis/powerlaw', { values, bootstrap: 2500 }, ac.signal).catch(() => 'left');
    await during('powerlaw bootstrap', new Promise((r) => setTimeout(r, 2000)), 2000);
    expect(srv.app.spikeloop.heavy.running).toBeGreaterThan(0);
    ac.abort();
    expect(await bootstrap).toBe('left');
    await expect.poll(() => srv.app.spikeloop.heavy.running, { timeout: 10_000 }).toBe(0);
    await idle();
  });

  // POST /api/runs/:id/analyses/:name on the large run (computed on the pool, stored here)
  await route('run analysis', async () => {
    await baseline();
    for (const name of ['psd', 'spikes']) {
      const r = json(`/api/runs/${big}/analyses/${name}`, {});
      await during('run analysis', r, 500);
      expect((await r).status).toBe(200);
    }
  });

  // POST /api/runs/:id/pair on the large run: the twin streamed from the pool, the analyses of both computed there
  await route('pairing', async () => {
    await baseline();
    const pair = json(`/api/runs/${big}/pair`, { circuit: 'lif' });
    await during('pairing', pair, 1000);
    expect((await pair).status).toBe(201);
  });

  // POST /api/experiments/stdp over as many runs as its samples cap allows
  await route('stdp curve', async () => {
    await baseline();
    const stdp = json('/api/experiments/stdp', { runIds: Array.from({ length: Math.min(256, Math.floor(20_000_000 / stdpSamples)) }, () => stdpRun) });
    await during('stdp curve', stdp, 1000);
    expect((await stdp).status).toBe(200);
  });

  // POST /api/twin/runs: a network at its caps (Erdős–Rényi 2,000 nodes, mean degree 4: a factor of
  // 106,000 nonzeros, 3 s to order; 8,000 steps: 8.5e8 of the 1e9 work cap, minutes on its thread),
  // stopped after a while ...
  const el = [{ node: 0, stimulus: true }, { node: -1, value: 0 }];
  const dense = { kind: 'erdos-renyi', n: 2000, p: 0.002, junction: { model: 'threshold' }, electrodes: el };
  await route('twin run', async () => {
    await baseline();
    const r = await json('/api/twin/runs', { circuit: dense, protocol: { kind: 'sine', quantity: 'voltage', amplitude: 2, frequencyHz: 10, durationS: 8 }, sampleRate: 1000 });
    expect(r.status, await r.clone().text()).toBe(201);
    const networkRun = ((await r.json()) as { run: { id: number } }).run.id;
    await during('twin run', new Promise((res) => setTimeout(res, 3000)), 3000);
    expect((await json(`/api/runs/${networkRun}/stop`, {})).status).toBe(200);
    await srv.app.spikeloop.runs.waitForEnd(networkRun);
    await idle();
    // ... and the fastest stream the store records: 10 MS/s
    await baseline();
    const fast = twinRun(srv, { circuit: 'lif', protocol: { kind: 'dc', quantity: 'current', level: 30e-6, durationS: 0.3 }, sampleRate: 10_000_000 });
    await during('twin run', fast, 1000);
    await fast;
  });

  // POST /api/sweeps, twin mode: four points of that network (each sampled, expanded and simulated on the
  // pool, then streamed from it to the store), stopped after a while: the stop cancels their tasks
  await route('sweep, twin mode', async () => {
    await baseline();
    const sweep = json('/api/sweeps', { mode: 'twin', circuit: dense, sampleRate: 1000, sweep: { kind: 'sweep', base: { kind: 'sine', quantity: 'voltage', frequencyHz: 10, durationS: 8 }, parameters: [{ field: 'amplitude', values: [0.5, 1, 1.5, 2] }] } });
    await during('sweep, twin mode', sweep, 500);
    const sweepRes = await sweep;
    expect(sweepRes.status, await sweepRes.clone().text()).toBe(201);
    const sweepId = ((await sweepRes.json()) as { sweep: { id: string } }).sweep.id;
    await during('sweep, twin mode', new Promise((res) => setTimeout(res, 3000)), 3000);
    expect((await json(`/api/sweeps/${sweepId}/stop`, {})).status).toBe(200);
    await idle();
  });

  // bench mode: measured runs each paired with the twin, the analyses of both on the pool
  await route('sweep, bench mode', async () => {
    await baseline();
    const benchSweep = json('/api/sweeps', {
      mode: 'bench',
      source: 'simulated',
      circuit: 'lif-bench',
      sampleRate: 100_000,
      sweep: { kind: 'sweep', base: { kind: 'square', durationS: 1 }, parameters: [{ field: 'frequencyHz', values: [500, 1000] }] },
    });
    const benchRes = await benchSweep;
    expect(benchRes.status, await benchRes.clone().text()).toBe(201);
    const benchId = ((await benchRes.json()) as { sweep: { id: string } }).sweep.id;
    await during('sweep, bench mode', srv.app.spikeloop.sweeps.wait(benchId), 1000);
    expect(srv.app.spikeloop.sweeps.get(benchId).state).toBe('completed');
    await idle();
  });

  // POST /api/runs with `twin`: paired when it ends (the automatic pairing's path), its analyses on the pool
  await route('run paired with the twin', async () => {
    await baseline();
    const measured = await json('/api/runs', { protocol: { kind: 'square', durationS: 2 }, sampleRate: 100_000, twin: { circuit: 'lif-bench' } });
    expect(measured.status).toBe(201);
    const measuredId = ((await measured.json()) as { run: { id: number } }).run.id;
    const paired = expect.poll(() => srv.store.listAnalyses(measuredId, 'compare').length, { timeout: 60_000, interval: 200 }).toBeGreaterThan(0);
    await during('run paired with the twin', paired, 3000);
    await idle();
  });

  // POST /api/runs/:id/fit on the large run (the circuit checked and its target read on threads, its evaluations on the
  // pool), cancelled after a while: 950 evaluations at most is the most MAX_FIT_WORK accepts for its 4e5 samples
  await route('twin fit', async () => {
    await baseline();
    const fit = await json(`/api/runs/${big}/fit`, { circuit: 'lif', params: ['Cm.value'], maxEvals: 950, pair: false });
    expect(fit.status, await fit.clone().text()).toBe(202);
    const fitId = ((await fit.json()) as { fit: { id: string } }).fit.id;
    await during('twin fit', new Promise((res) => setTimeout(res, 3000)), 3000);
    expect((await srv.fetch(`/api/fits/${fitId}`, { method: 'DELETE' })).status).toBe(200);
    await idle();
  });

  // POST /api/import: a 500,000-row CSV (15 MB), sent from a thread; parsed on a pool thread, recorded through the run manager
  await route('import', async () => {
    await baseline();
    const imported = offThread('/api/import?name=big.csv&unit=V&stimulus=v_in', { method: 'POST', headers: { 'content-type': 'text/csv' }, csvRows: 500_000 });
    await during('import', imported, 1000);
    expect((await imported).status, (await imported).head).toBe(201);
  });

  // GET /api/runs/:id/export of the large run: NWB (written on a pool thread), CSV (29 MB), NPY, events
  await route('export', async () => {
    for (const q of ['format=nwb', 'format=csv', 'format=npy&channel=1', 'format=events']) {
      await baseline();
      const exported = offThread(`/api/runs/${big}/export?${q}`);
      await during('export', exported, 500);
      const e = await exported;
      expect(e.status, `${q}: ${e.head}`).toBe(200);
      expect(e.bytes).toBeGreaterThan(q === 'format=events' ? 30 : 1e6);
    }
  });

  const report = {
    idle: { ...stats(idleProbes), loopMax: Math.round(idleLoopMax) },
    ...Object.fromEntries(Object.entries(busy).map(([k, ws]) => [k, { ...stats(all(ws)), loopMax: Math.round(loopMax(ws)), tries: tries[k] }])),
  };
  const detail = JSON.stringify(report);
  console.log(`health while heavy requests run (load average ${os.loadavg()[0].toFixed(1)}): ${detail}`);
  expect(Object.keys(busy).map(problem).filter((x) => x !== null), detail).toEqual([]);
});
