/**
 * The live feed's memory bound over a real loopback WebSocket whose client stops reading: whatever the size
 * of the blocks a run delivers between two flushes (a source catching up after a stall delivers 65,536
 * samples at once), the server never queues more than the hard limit plus one block message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { RunMessage } from '../../common/run-stream.ts';
import type { RunDetail } from '../store/run-store.ts';
import { LiveFeed, MAX_PAIRS_PER_BLOCK } from './live-feed.ts';

const HARD = 128 * 1024;
const RATE = 1_000_000;
const BLOCK = 65_536;
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

type Msg = { type: string; pairsPerSecond?: number; firstIndex?: number; stride?: number; min?: (number | null)[]; max?: (number | null)[]; start?: number; end?: number };

/**
 * A one-channel run served by `feed` on a loopback socket to a client that asks for `pairsPerSecond` and, once
 * the server has confirmed it, stops reading (its TCP socket paused; `tcp.resume()` reads again).
 */
async function pausedClient(feed: LiveFeed, pairsPerSecond: number) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  closers.push(() => wss.close());
  await new Promise((r) => wss.once('listening', r));
  let listener: ((msg: RunMessage) => void) | undefined;
  const run = { id: 1, channels: [{ name: 'v', unit: 'V', sampleRate: RATE, dtype: 'int16', scale: 1.2 / 32768, offset: 0, role: 'response' }] } as unknown as RunDetail;
  wss.on('connection', (socket) => feed.serve(socket, run, (l) => ((listener = l), () => (listener = undefined))));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  closers.push(() => client.terminate());
  const received: Msg[] = [];
  let rateSeen!: () => void;
  const rated = new Promise<void>((r) => (rateSeen = r));
  let stopped!: () => void;
  const ended = new Promise<void>((r) => (stopped = r));
  client.on('message', (data) => {
    const m = JSON.parse(data.toString()) as Msg;
    received.push(m);
    if (m.type === 'rate' && m.pairsPerSecond === pairsPerSecond) rateSeen();
    if (m.type === 'stop') stopped();
  });
  await new Promise((r) => client.once('open', r));
  client.send(JSON.stringify({ type: 'rate', pairsPerSecond }));
  await rated;
  const tcp = (client as unknown as { _socket: Socket })._socket;
  tcp.pause();
  return { received, ended, tcp, deliver: (msg: RunMessage) => listener!(msg) };
}

describe('live feed back-pressure bound', () => {
  it('a catch-up of large blocks is sent in pieces, so the queue stays within the hard limit plus one piece', async () => {
    const feed = new LiveFeed({ softLimitBytes: 32 * 1024, hardLimitBytes: HARD, maxPairsPerSecond: 100_000, recoverAfterMs: 60_000 });
    const { received, deliver, tcp } = await pausedClient(feed, 100_000); // stride 10: 6,554 pairs per block

    // Blocks of a sine, one per 20 ms (each flush finds a whole block pending), until the client's queue
    // has gone over the hard limit and blocks are dropped.
    let first = 0;
    const block = async () => {
      const samples = new Int16Array(BLOCK);
      for (let i = 0; i < BLOCK; i++) samples[i] = Math.round(30_000 * Math.sin((first + i) / 997));
      deliver({ type: 'block', channel: 0, firstIndex: first, samples });
      first += BLOCK;
      await new Promise((r) => setTimeout(r, 20));
    };
    while (feed.stats.droppedBlocks < 20) {
      expect(first, 'blocks are dropped once the kernel buffers are full').toBeLessThan(500 * BLOCK);
      await block();
    }
    // One piece of MAX_PAIRS_PER_BLOCK pairs is at most ~45 kB; a whole block's 6,554 pairs were ~290 kB.
    expect(feed.stats.maxBufferedBytes).toBeGreaterThan(HARD);
    expect(feed.stats.maxBufferedBytes).toBeLessThan(HARD + MAX_PAIRS_PER_BLOCK * 48);

    // Reading again, the client gets blocks and dropped ranges that tile the channel in order (a block
    // sent above the soft limit halves the rate, which sends the open bucket: after that piece and the rest).
    tcp.resume();
    while (!received.some((m) => m.type === 'dropped')) {
      expect(first, 'the dropped range is reported').toBeLessThan(1000 * BLOCK);
      await block();
    }
    let next = 0;
    for (const m of received) {
      if (m.type === 'block') {
        expect(m.firstIndex).toBe(next);
        expect(m.min!.length).toBeLessThanOrEqual(MAX_PAIRS_PER_BLOCK);
        next = m.firstIndex! + m.stride! * m.min!.length;
      } else if (m.type === 'dropped') {
        expect(m.start).toBe(next);
        next = m.end!;
      }
    }
    expect(next).toBeGreaterThan(0);
  });
});

describe('live feed rate change inside a final flush', () => {
  it('a halving while the last pairs go out sends the open bucket once: no block of stride 0', async () => {
    const feed = new LiveFeed({ softLimitBytes: 32 * 1024, hardLimitBytes: 1 << 30, maxPairsPerSecond: 500_000, flushIntervalMs: 1000, recoverAfterMs: 60_000 });
    const { received, deliver, tcp, ended } = await pausedClient(feed, 500_000); // stride 2
    // In one turn: a small block (its flush), then ~30 MB of pairs and an open bucket, then the stop, whose
    // flush sends them in pieces; the kernel's buffers fill, and a piece above the soft limit halves the rate.
    deliver({ type: 'block', channel: 0, firstIndex: 0, samples: new Int16Array(2) });
    const n = 1_400_001;
    const samples = new Int16Array(n);
    for (let i = 0; i < n; i++) samples[i] = Math.round(30_000 * Math.sin(i / 997));
    deliver({ type: 'block', channel: 0, firstIndex: 2, samples });
    deliver({ type: 'stop', status: 'completed' });
    expect(feed.stats.rateDecreases).toBeGreaterThan(0);
    tcp.resume();
    await ended;
    const blocks = received.filter((m) => m.type === 'block');
    expect(blocks.filter((b) => !(b.stride! > 0) || [...b.min!, ...b.max!].some((v) => typeof v !== 'number'))).toEqual([]);
    expect(blocks.reduce((k, b) => k + b.stride! * b.min!.length, 0)).toBe(n + 2);
  });
});
