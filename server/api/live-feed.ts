/**
 * The live WebSocket feed of one run, per client: decimates each channel to min/max pairs at the client's
 * rate (default 2000 pairs/s per channel), sends them every `flushIntervalMs`, forwards events, and
 * protects the server from slow clients:
 *
 *  - before each send it looks at the socket's bufferedAmount (bytes queued in the process, not yet taken
 *    by the kernel); above `softLimitBytes` it halves that client's rate (a `rate` message says so);
 *  - above `hardLimitBytes` it drops blocks and events for that client instead of queueing them, and
 *    once the queue has drained below the soft limit tells the client which ranges it lost (`dropped`);
 *  - when the queue stays empty for `recoverAfterMs` it doubles the rate again, up to what the client asked.
 *
 * So the memory a client can hold on the server is bounded by hardLimitBytes plus one message, whatever
 * it does (a block message holds at most MAX_PAIRS_PER_BLOCK pairs). Events are batched: one `events` message per flush holding every event since the last one (at most
 * `maxEventsPerFlush`; beyond that, or above the hard limit, they are dropped and the next `events` message
 * counts them in `dropped`). Each block carries `wallTime`, the server's wall clock (ms since the epoch)
 * when the newest sample in it arrived, so a client on the same machine can measure sample-to-screen latency.
 * Message shapes: see docs/api.md ("Live feed").
 */
import type { WebSocket } from 'ws';
import type { ChannelDescriptor, FinalStatus, RunMessage } from '../../common/run-stream.ts';
import type { RunDetail } from '../store/run-store.ts';
import { Compile } from 'typebox/compile';
import { LiveClientMessageSchema, type LiveEvent, type LiveMessage } from '../../common/schemas/live.ts';

const clientMessage = Compile(LiveClientMessageSchema);

export interface LiveFeedOptions {
  defaultPairsPerSecond: number;
  maxPairsPerSecond: number;
  minPairsPerSecond: number;
  flushIntervalMs: number;
  softLimitBytes: number;
  hardLimitBytes: number;
  recoverAfterMs: number;
  /** Events held per client between flushes; more are dropped (and counted) rather than queued. */
  maxEventsPerFlush: number;
}

/** Pairs per block message (about 45 kB of JSON): what a client can hold beyond the hard limit. */
export const MAX_PAIRS_PER_BLOCK = 1024;

export const DEFAULT_LIVE_OPTIONS: LiveFeedOptions = {
  defaultPairsPerSecond: 2000,
  maxPairsPerSecond: 20_000,
  minPairsPerSecond: 10,
  flushIntervalMs: 20,
  softLimitBytes: 256 * 1024,
  hardLimitBytes: 1024 * 1024,
  recoverAfterMs: 2000,
  maxEventsPerFlush: 2000,
};

/** Counters over all clients of one app (the back-pressure test and the bench read them). */
export interface LiveStats {
  clients: number;
  messagesSent: number;
  bytesSent: number;
  /** Largest bufferedAmount seen on any client socket just before a send. */
  maxBufferedBytes: number;
  droppedBlocks: number;
  droppedEvents: number;
  rateDecreases: number;
}

export class LiveFeed {
  readonly options: LiveFeedOptions;
  readonly stats: LiveStats = { clients: 0, messagesSent: 0, bytesSent: 0, maxBufferedBytes: 0, droppedBlocks: 0, droppedEvents: 0, rateDecreases: 0 };

  constructor(opts: Partial<LiveFeedOptions> = {}) {
    this.options = { ...DEFAULT_LIVE_OPTIONS, ...opts };
  }

  /** Serves one client: hello, then the run's messages until stop (or the client leaves). */
  serve(
    socket: WebSocket,
    run: RunDetail,
    subscribe: (listener: (msg: RunMessage) => void) => (() => void) | undefined,
  ): void {
    new LiveClient(socket, run, subscribe, this.options, this.stats);
  }
}

interface ChannelDecimator {
  desc: ChannelDescriptor;
  stride: number;
  /** Next expected sample index (detects gaps). */
  next: number;
  /** Open bucket: first index, sample count, running min/max of raw values. */
  bucketFirst: number;
  bucketCount: number;
  bucketMin: number;
  bucketMax: number;
  /** Completed pairs not yet sent (physical units), first index of the first pair. */
  pendingFirst: number;
  pendingMin: number[];
  pendingMax: number[];
  /** Range dropped for back-pressure, not yet reported. */
  dropped?: { start: number; end: number };
  /** Wall time (ms) when the newest sample of the pending pairs / the open bucket arrived. */
  pendingWall: number;
  bucketWall: number;
}

class LiveClient {
  private channels: ChannelDecimator[] = [];
  private requested: number;
  private pairsPerSecond: number;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private lastDecrease = 0;
  private lastFlush = 0;
  private emptySince = Date.now();
  private closed = false;
  /** Events since the last flush, and events dropped since the last `events` message went out. */
  private pendingEvents: LiveEvent[] = [];
  private eventsDropped = 0;

  constructor(
    private readonly socket: WebSocket,
    run: RunDetail,
    subscribe: (listener: (msg: RunMessage) => void) => (() => void) | undefined,
    private readonly opts: LiveFeedOptions,
    private readonly stats: LiveStats,
  ) {
    this.requested = this.pairsPerSecond = opts.defaultPairsPerSecond;
    stats.clients++;
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    socket.on('message', (data) => this.onClientMessage(data.toString()));
    this.setChannels(run.channels);
    // Subscribing and sending hello happen in the same tick, so no message falls between them.
    this.unsubscribe = subscribe((msg) => this.onRunMessage(msg));
    // the API's RunDetail (common/schemas/runs.ts), as GET /api/runs/:id answers it: startedAt is the store's own
    const { startedAt: _started, ...detail } = run;
    this.send({ type: 'hello', run: detail });
    if (!this.unsubscribe) {
      // No live session: the run has ended (its stored status is final).
      this.send({ type: 'stop', status: run.status as FinalStatus, reason: run.reason });
      this.socket.close(1000, 'run finished');
      this.close();
      return;
    }
    this.timer = setInterval(() => this.flush(false), opts.flushIntervalMs);
  }

  private setChannels(channels: ChannelDescriptor[]): void {
    this.channels = channels.map((desc) => ({
      desc,
      stride: this.strideFor(desc.sampleRate),
      next: -1,
      bucketFirst: 0,
      bucketCount: 0,
      bucketMin: Infinity,
      bucketMax: -Infinity,
      pendingFirst: 0,
      pendingMin: [],
      pendingMax: [],
      pendingWall: 0,
      bucketWall: 0,
    }));
  }

  private strideFor(sampleRate: number): number {
    return Math.max(1, Math.ceil(sampleRate / this.pairsPerSecond));
  }

  private onClientMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.send({ type: 'error', error: { code: 'MALFORMED_JSON', message: 'message is not valid JSON' } });
      return;
    }
    if (clientMessage.Check(msg) && Number.isFinite(msg.pairsPerSecond)) {
      this.requested = Math.min(this.opts.maxPairsPerSecond, Math.floor(msg.pairsPerSecond));
      this.changeRate(this.requested);
    } else {
      this.send({
        type: 'error',
        error: { code: 'VALIDATION', message: `expected { type: 'rate', pairsPerSecond: 1..${this.opts.maxPairsPerSecond} }`, field: '/pairsPerSecond' },
      });
    }
  }

  private changeRate(pairsPerSecond: number): void {
    this.pairsPerSecond = pairsPerSecond;
    for (const ch of this.channels) {
      const stride = this.strideFor(ch.desc.sampleRate);
      if (stride !== ch.stride) {
        this.closeBucket(ch, true);
        this.sendPending(ch);
        ch.stride = stride;
      }
    }
    this.send({ type: 'rate', pairsPerSecond });
  }

  private onRunMessage(msg: RunMessage): void {
    if (this.closed) return;
    switch (msg.type) {
      case 'descriptor':
        this.setChannels(msg.channels);
        break;
      case 'block': {
        const ch = this.channels[msg.channel];
        if (!ch) return;
        if (ch.next !== -1 && msg.firstIndex !== ch.next) {
          // A gap in the source: what came before is sent as it is; buckets restart at the new index.
          this.closeBucket(ch, true);
          this.sendPending(ch);
        }
        this.accumulate(ch, msg.firstIndex, msg.samples, Date.now());
        ch.next = msg.firstIndex + msg.samples.length;
        // Flush on data too, so a busy event loop that delays the timer does not delay the feed.
        if (performance.now() - this.lastFlush >= this.opts.flushIntervalMs * 0.75) this.flush(false);
        break;
      }
      case 'event':
        if (this.pendingEvents.length >= this.opts.maxEventsPerFlush) {
          this.stats.droppedEvents++;
          this.eventsDropped++;
          return;
        }
        this.pendingEvents.push({ kind: msg.kind, channel: msg.channel ?? null, index: msg.index, label: msg.label ?? null, value: msg.value ?? null });
        break;
      case 'stop':
        this.flush(true);
        this.send({ type: 'stop', status: msg.status, reason: msg.reason ?? null });
        this.socket.close(1000, 'run ended');
        this.close();
        break;
      case 'start':
        break;
    }
  }

  private accumulate(ch: ChannelDecimator, firstIndex: number, samples: ArrayLike<number>, wall: number): void {
    const stride = ch.stride;
    ch.bucketWall = wall;
    let i = 0;
    const n = samples.length;
    if (ch.bucketCount === 0) ch.bucketFirst = firstIndex;
    let min = ch.bucketMin;
    let max = ch.bucketMax;
    let count = ch.bucketCount;
    while (i < n) {
      const take = Math.min(stride - count, n - i);
      for (let k = i; k < i + take; k++) {
        const v = samples[k];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      i += take;
      count += take;
      if (count === stride) {
        this.pushPair(ch, ch.bucketFirst, min, max);
        ch.pendingWall = wall;
        ch.bucketFirst += stride;
        count = 0;
        min = Infinity;
        max = -Infinity;
      }
    }
    ch.bucketMin = min;
    ch.bucketMax = max;
    ch.bucketCount = count;
  }

  private pushPair(ch: ChannelDecimator, first: number, rawMin: number, rawMax: number): void {
    if (ch.pendingMin.length === 0) ch.pendingFirst = first;
    const { scale, offset } = ch.desc;
    const a = rawMin * scale + offset;
    const b = rawMax * scale + offset;
    ch.pendingMin.push(Math.min(a, b));
    ch.pendingMax.push(Math.max(a, b));
  }

  /** Ends the open bucket early (before a stride change, gap or stop); it goes out as its own one-pair block. */
  private closeBucket(ch: ChannelDecimator, send: boolean): void {
    if (ch.bucketCount === 0) return;
    this.sendPending(ch);
    // a piece above the soft limit halves the rate, which has closed (and sent) the bucket already
    if (ch.bucketCount === 0) return;
    const first = ch.bucketFirst;
    const count = ch.bucketCount;
    const { scale, offset } = ch.desc;
    const a = ch.bucketMin * scale + offset;
    const b = ch.bucketMax * scale + offset;
    ch.bucketCount = 0;
    ch.bucketMin = Infinity;
    ch.bucketMax = -Infinity;
    ch.bucketFirst = first + count;
    if (send) this.sendBlock(ch, first, count, [Math.min(a, b)], [Math.max(a, b)], ch.bucketWall);
  }

  private sendPending(ch: ChannelDecimator): void {
    // In pieces, each checked against the limits: after a stall (a late flush, a source catching up) the
    // pairs pending can be thousands, and one message of them would overshoot the hard limit by as much.
    // Taken off the front one piece at a time: a piece dropped can change the rate, which sends the rest
    // (this, re-entered) and the open bucket in order before the stride changes.
    while (ch.pendingMin.length > 0) {
      const first = ch.pendingFirst;
      const min = ch.pendingMin.splice(0, MAX_PAIRS_PER_BLOCK);
      const max = ch.pendingMax.splice(0, MAX_PAIRS_PER_BLOCK);
      ch.pendingFirst = first + min.length * ch.stride;
      this.sendBlock(ch, first, ch.stride, min, max, ch.pendingWall);
    }
  }

  private sendBlock(ch: ChannelDecimator, firstIndex: number, stride: number, min: number[], max: number[], wallTime: number): void {
    const end = firstIndex + stride * min.length;
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = buffered;
    if (buffered > this.opts.hardLimitBytes) {
      this.stats.droppedBlocks++;
      if (ch.dropped && ch.dropped.end === firstIndex) ch.dropped.end = end;
      else {
        this.reportDropped(ch, true);
        ch.dropped = { start: firstIndex, end };
      }
      this.maybeDecrease();
      return;
    }
    if (buffered <= this.opts.softLimitBytes) this.reportDropped(ch, false);
    this.send({ type: 'block', channel: this.channels.indexOf(ch), firstIndex, stride, min, max, wallTime });
    // after the send: a rate change sends the pairs still pending and the open bucket, which come after it
    if (buffered > this.opts.softLimitBytes) this.maybeDecrease();
  }

  private reportDropped(ch: ChannelDecimator, force: boolean): void {
    if (!ch.dropped) return;
    if (!force && this.socket.bufferedAmount > this.opts.softLimitBytes) return;
    const { start, end } = ch.dropped;
    ch.dropped = undefined;
    this.send({ type: 'dropped', channel: this.channels.indexOf(ch), start, end });
  }

  private maybeDecrease(): void {
    const now = Date.now();
    this.emptySince = now;
    // One halving per drain opportunity: wait a few flush intervals before halving again.
    if (now - this.lastDecrease < this.opts.flushIntervalMs * 4) return;
    if (this.pairsPerSecond <= this.opts.minPairsPerSecond) return;
    this.lastDecrease = now;
    this.stats.rateDecreases++;
    this.changeRate(Math.max(this.opts.minPairsPerSecond, Math.floor(this.pairsPerSecond / 2)));
  }

  private overHardLimit(): boolean {
    return this.socket.bufferedAmount > this.opts.hardLimitBytes;
  }

  /** Sends the events gathered since the last flush as one message (or drops them above the hard limit). */
  private sendEvents(): void {
    const events = this.pendingEvents;
    if (events.length === 0 && this.eventsDropped === 0) return;
    this.pendingEvents = [];
    if (this.overHardLimit()) {
      this.stats.droppedEvents += events.length;
      this.eventsDropped += events.length;
      return;
    }
    // While the queue is above the soft limit, a batch holding only a drop count waits for a batch with events.
    if (events.length === 0 && this.socket.bufferedAmount > this.opts.softLimitBytes) return;
    const dropped = this.eventsDropped;
    this.eventsDropped = 0;
    this.send({ type: 'events', events, dropped });
  }

  private flush(final: boolean): void {
    if (this.closed) return;
    this.lastFlush = performance.now();
    for (const ch of this.channels) {
      if (final) this.closeBucket(ch, true);
      this.sendPending(ch);
      if (final) this.reportDropped(ch, true);
    }
    this.sendEvents();
    if (!final) {
      const now = Date.now();
      if (this.socket.bufferedAmount > 0) this.emptySince = now;
      else if (this.pairsPerSecond < this.requested && now - this.emptySince >= this.opts.recoverAfterMs) {
        this.emptySince = now;
        this.changeRate(Math.min(this.requested, this.pairsPerSecond * 2));
      }
    }
  }

  private send(msg: LiveMessage): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    const text = JSON.stringify(msg);
    this.stats.messagesSent++;
    this.stats.bytesSent += text.length;
    this.socket.send(text);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.clients--;
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
