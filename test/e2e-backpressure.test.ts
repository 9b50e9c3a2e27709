/**
 * Back-pressure of the live feed: a client that stops reading (its TCP socket paused) while a 1 MS/s run
 * streams at the highest rate. The server must halve that client's rate, then drop blocks for it rather
 * than queue them (its bufferedAmount stays under the hard cap plus one message), tell it what it lost
 * once it reads again, and keep recording every sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { collect, json, startServer, type TestServer } from './helpers-live.ts';

const SOFT = 32 * 1024;
const HARD = 128 * 1024;
const FAST = 100_000;
let srv: TestServer;
beforeAll(async () => {
  // A high rate ceiling fills the kernel's socket buffers (several MB on loopback) in a second or two.
  srv = await startServer({ live: { softLimitBytes: SOFT, hardLimitBytes: HARD, recoverAfterMs: 60_000, maxPairsPerSecond: FAST } });
});
afterAll(async () => {
  await srv?.close();
});

const waitFor = async (pred: () => boolean, timeoutMs: number, what: string) => {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('live feed back-pressure', () => {
  it('a client that does not read gets a lower rate, then drops; server buffer stays bounded', async () => {
    const stats = srv.app.spikeloop.live.stats;
    const created = await json(
      await srv.fetch(`/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: { kind: 'square', durationS: 60 }, sampleRate: 1_000_000 }),
      }),
    );
    const id = created.body.run.id as number;
    const live = collect(srv.wsUrl(`/api/runs/${id}/live`));
    await live.opened;
    live.ws.send(JSON.stringify({ type: 'rate', pairsPerSecond: FAST }));
    await live.until((m) => m.some((x) => x.type === 'block'));

    // Stop reading: the kernel buffers fill, then the server's queue for this client grows.
    const tcp = (live.ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const received = live.messages.length;
    await waitFor(() => stats.droppedBlocks > 0 && stats.rateDecreases > 0, 40_000, 'drops and rate decreases');
    // Keep the client stalled a little longer while blocks keep being dropped.
    const dropsThen = stats.droppedBlocks;
    await waitFor(() => stats.droppedBlocks > dropsThen + 5, 20_000, 'more drops');
    // Bounded: never more queued than the hard cap plus one message (a block: at most 1024 pairs, ~45 kB;
    // an events batch: at most 2000 events, ~140 kB).
    expect(stats.maxBufferedBytes).toBeLessThan(HARD + 256 * 1024);
    expect(live.messages.length).toBe(received); // really not reading

    // Read again: the client learns the new rate and which ranges it lost.
    tcp.resume();
    await live.until((m) => m.some((x) => x.type === 'dropped'), 20_000);
    const rates = live.messages.filter((m) => m.type === 'rate').map((m) => m.pairsPerSecond as number);
    expect(rates[0]).toBe(FAST);
    expect(Math.min(...rates)).toBeLessThan(FAST);
    const dropped = live.messages.filter((m) => m.type === 'dropped') as unknown as { channel: number; start: number; end: number }[];
    for (const d of dropped) expect(d.end).toBeGreaterThan(d.start);
    // Spike events were dropped too (whole batches above the hard limit), and the client is told how many.
    await live.until((m) => m.some((x) => x.type === 'events' && (x.dropped as number) > 0), 20_000);
    const told = live.messages.filter((m) => m.type === 'events').reduce((n, m) => n + (m.dropped as number), 0);
    expect(told).toBeGreaterThan(0);
    expect(told).toBeLessThanOrEqual(stats.droppedEvents);

    // The recording itself lost nothing.
    const stopped = (await json(await srv.fetch(`/api/runs/${id}/stop`, { method: 'POST' }))).body.run;
    await live.closed;
    expect(stopped.status).toBe('aborted');
    expect(stopped.dropped).toEqual([]);
    expect(stopped.channels[1].sampleCount).toBeGreaterThan(100_000);
    // Blocks and dropped ranges of a channel never overlap and follow each other in index order.
    const spans = live.messages
      .filter((m) => (m.type === 'block' || m.type === 'dropped') && m.channel === 1)
      .map((m) =>
        m.type === 'block'
          ? [m.firstIndex as number, (m.firstIndex as number) + (m.stride as number) * (m.min as number[]).length]
          : [m.start as number, m.end as number],
      )
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });
});
