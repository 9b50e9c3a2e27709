/**
 * `npm run bench -- browser`: the dashboard's live view in headless Chromium (Debian's, via playwright-core)
 * against the real server, recording a square-wave run at 1 MS/s per channel (2 channels).
 *
 *   live_latency_ms  sample to screen: the server stamps each live block with the wall time (ms) at which its
 *                newest sample arrived; the page records `Date.now()` in the animation frame that first draws
 *                that sample (same machine, same clock). Median over the 10 s; p95 and count in the note.
 *   live_latency_p95_ms  the 95th percentile of the same latencies (target <= 100).
 *   live_fps     frames per second the live view redraws from the WebSocket feed, measured in the page over
 *                10 s after a 3 s warm-up (target >= 30).
 *
 * All with the run page's analysis panel open (mounted with the live view, its method list and form loaded),
 * as a researcher has it while a run records.
 *
 * The run is the default square wave (1 kHz), so the feed also carries 2,000–4,000 spikes/s in batched
 * `events` messages.
 */
import type { Metric } from './run.ts';
import { launchChromium } from '../test/browser/chromium.ts';
import { ensureDashboardBuilt, startServer } from '../test/browser/server.ts';
import type { DashboardMetrics } from '../web/src/metrics.ts';

const SAMPLE_RATE = 1_000_000;
const WARMUP_MS = 3000;
const MEASURE_MS = 10_000;

export default async function* browserBench(): AsyncIterable<Metric> {
  ensureDashboardBuilt();
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const res = await server.fetch('/api/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: { kind: 'square', durationS: 30 }, sampleRate: SAMPLE_RATE, label: 'browser bench' }),
    });
    if (res.status !== 201) throw new Error(`POST /api/runs: ${res.status} ${await res.text()}`);
    const { run } = (await res.json()) as { run: { id: number } };
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.token)}#/runs/${run.id}`);
    await page.waitForFunction('window.spikeloop.live.pairs > 0', undefined, { timeout: 20_000 });
    await page.waitForSelector('.analysis-panel .analysis-fields .field', { timeout: 20_000 });
    await page.waitForTimeout(WARMUP_MS);
    const live = async () => (await page.evaluate('window.spikeloop.live')) as DashboardMetrics['live'];
    await page.evaluate('window.spikeloop.live.latencyMs.length = 0; window.spikeloop.live.arrivalMs.length = 0');
    const a = await live();
    const t0 = Date.now();
    await page.waitForTimeout(MEASURE_MS);
    const b = await live();
    const seconds = (Date.now() - t0) / 1000;
    await server.fetch(`/api/runs/${run.id}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const lat = [...b.latencyMs].sort((x, y) => x - y);
    const arr = [...b.arrivalMs].sort((x, y) => x - y);
    const quantile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);
    const q = (p: number) => quantile(lat, p);
    yield {
      metric: 'live_latency_ms',
      value: q(0.5),
      unit: 'ms',
      note:
        `server wall time of a block's newest sample to the Chromium animation frame first drawing it, ${lat.length} blocks over ${seconds.toFixed(1)} s, ` +
        `2 channels at ${SAMPLE_RATE / 1e6} MS/s with spikes, analysis panel open: median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${lat.at(-1)} ms`,
    };
    yield {
      metric: 'live_latency_p95_ms',
      value: q(0.95),
      unit: 'ms',
      note:
        `95th percentile of the live_latency_ms samples (${lat.length} blocks over ${seconds.toFixed(1)} s, analysis panel open); target <= 100. ` +
        `Of it, to the block's arrival in the page (server, socket, browser's message queue): median ${quantile(arr, 0.5)} ms, p95 ${quantile(arr, 0.95)} ms`,
    };
    yield {
      metric: 'live_fps',
      value: Number(((b.frames - a.frames) / seconds).toFixed(1)),
      unit: 'frames/s',
      note:
        `dashboard live view in headless Chromium with the analysis panel open, default 1 kHz square wave (spikes batched per flush), 2 channels at ${SAMPLE_RATE / 1e6} MS/s each, ${seconds.toFixed(1)} s; ` +
        `${((b.dataFrames - a.dataFrames) / seconds).toFixed(1)} frames/s with new data, ` +
        `${((b.pairs - a.pairs) / seconds).toFixed(0)} min/max pairs/s received (server rate ${b.pairsPerSecond ?? "default"} pairs/s/channel), ${b.drawMs.toFixed(1)} ms JS per frame; target >= 30`,
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}
