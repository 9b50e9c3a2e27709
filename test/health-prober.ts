/**
 * GET /api/health probed on a fixed clock (every 20 ms, each probe on its own, not waiting for the one
 * before) from a thread of its own, so that the prober's work is not counted as the server's. Shared by
 * test/health-under-load.test.ts and bench/health.bench.ts.
 */
import { Worker } from 'node:worker_threads';

/** Starts probing `url`; the returned function stops it and gives each answer's time, ms (-1: failed). */
export async function startProber(url: string, headers: Record<string, string>): Promise<() => Promise<number[]>> {
  const prober = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const out = [];
     const t = setInterval(() => {
       const t0 = performance.now();
       fetch(workerData.url, { headers: workerData.headers }).then(async (r) => { await r.arrayBuffer(); out.push(r.status === 200 ? performance.now() - t0 : -1); }, () => out.push(-1));
     }, 20);
     parentPort.once('message', () => { clearInterval(t); setTimeout(() => parentPort.postMessage(out), 2000); });`,
    { eval: true, workerData: { url, headers } },
  );
  await new Promise((r) => prober.once('online', r));
  return async () => {
    const answers = new Promise<number[]>((res) => prober.once('message', res));
    prober.postMessage('stop');
    const probes = await answers;
    await prober.terminate();
    return probes;
  };
}
