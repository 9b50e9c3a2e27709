/**
 * A DAQ board as a run-stream source (common/run-stream.ts): negotiates, configures, uploads the stimulus
 * table, starts, and turns DATA frames into descriptor/block/event messages with sample indices as the
 * clock. Faults never throw out of the stream:
 *   - a jump in the board's indices (frames lost or corrupted on the link, board-side overrun) is a jump in
 *     the block indices plus a `fault` event naming the dropped range;
 *   - CRC/framing failures are counted and reported as `fault` events;
 *   - a board reset (BOOT frame mid-run) or a vanished port (policy `gap`) re-establishes the run after a
 *     back-off, continuing the index after a gap estimated from wall time; with policy `fail` the stream
 *     ends with stop{status:'failed', reason}.
 */
import type { ChannelDescriptor, SourceMessage } from '../../common/run-stream.ts';
import { DaqBoard, DaqError, type DataBlock } from './board.ts';
import type { PulseTrain } from './protocol.ts';

export interface DaqRunOptions {
  /** Port to open; a function is re-evaluated on every reconnect. */
  path: string | (() => string);
  /** Analog inputs, e.g. [0, 1]. */
  channels: number[];
  /** Samples per second per channel (the board picks the nearest exact rate). */
  rate: number;
  /** Stimulus table in DAC/PWM codes, played on the sample clock from index 0. */
  stimulus?: { codes: number[]; loop: boolean };
  pulses?: PulseTrain;
  /** The board echoes the applied stimulus in every tick (costs link bandwidth); otherwise the host
   * records the table value the firmware applied at each index. */
  recordStimulus?: boolean;
  /** Stop after this many samples per channel; default: until aborted. */
  durationSamples?: number;
  /** What a vanished port or a board reset does to the run. */
  onDisconnect?: 'gap' | 'fail';
  reconnect?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /** Full-scale voltages for the channel scales (default 5 V both). */
  vref?: number;
  stimulusFullScale?: number;
  log?: (msg: string) => void;
  /** Called with each (re)opened board, e.g. to inject a fault in a test. */
  onBoard?: (board: DaqBoard) => void;
}

export interface DaqRunStats {
  frames: number;
  crcErrors: number;
  framingErrors: number;
  duplicateTicks: number;
  droppedTicks: number;
  reconnects: number;
  bytes: number;
}

class Queue<X> {
  private items: X[] = [];
  private wake?: () => void;
  push(x: X) {
    this.items.push(x);
    this.wake?.();
  }
  async next(signal: AbortSignal): Promise<X | undefined> {
    while (this.items.length === 0) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      this.wake = undefined;
    }
    return this.items.shift();
  }
}

type Internal = { kind: 'data'; block: DataBlock } | { kind: 'boot' } | { kind: 'watchdog' } | { kind: 'closed'; err: Error | null };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class DaqRun {
  readonly stats: DaqRunStats = { frames: 0, crcErrors: 0, framingErrors: 0, duplicateTicks: 0, droppedTicks: 0, reconnects: 0, bytes: 0 };
  board?: DaqBoard;
  rate = 0;
  constructor(readonly options: DaqRunOptions) {}

  private log(msg: string) {
    this.options.log?.(msg);
  }

  private async connect(queue: Queue<Internal>): Promise<DaqBoard> {
    const o = this.options;
    const path = typeof o.path === 'function' ? o.path() : o.path;
    const board = await DaqBoard.open({ path });
    try {
      board.on('data', (block) => queue.push({ kind: 'data', block }));
      board.on('boot', () => queue.push({ kind: 'boot' }));
      board.on('boardError', (e) => {
        if (e.name === 'watchdog') queue.push({ kind: 'watchdog' });
      });
      board.on('closed', (err) => queue.push({ kind: 'closed', err }));
      board.startHeartbeat();
      await board.negotiate();
      await board.stop(); // a board left running by an earlier host: a clean state first
      const cfg = await board.configure({ channels: o.channels, rate: o.rate, recordStimulus: !!o.recordStimulus });
      this.rate = cfg.rate;
      await board.uploadWaveform(o.stimulus?.codes ?? []);
      if (o.pulses) await board.setPulses(o.pulses);
      o.onBoard?.(board);
      await board.start(o.stimulus?.loop ?? false);
      return board;
    } catch (err) {
      await board.close();
      throw err;
    }
  }

  private absorbDecoderStats(board: DaqBoard | undefined) {
    if (!board) return { crc: 0, framing: 0 };
    const s = board.decoder.stats;
    const crc = s.crcErrors - this.seenCrc;
    const framing = s.framingErrors - this.seenFraming;
    this.seenCrc = s.crcErrors;
    this.seenFraming = s.framingErrors;
    this.stats.crcErrors += crc;
    this.stats.framingErrors += framing;
    return { crc, framing };
  }
  private seenCrc = 0;
  private seenFraming = 0;

  async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
    const o = this.options;
    const queue = new Queue<Internal>();
    const vref = o.vref ?? 5;
    let board: DaqBoard;
    try {
      board = await this.connect(queue);
    } catch (err) {
      yield { type: 'stop', status: 'failed', reason: (err as Error).message };
      return;
    }
    this.board = board;
    const hello = board.hello!;
    const stimFs = o.stimulusFullScale ?? 5;
    const channels: ChannelDescriptor[] = [
      { name: 'stim', unit: 'V', sampleRate: this.rate, dtype: 'uint16', scale: stimFs / ((1 << hello.stimulusBits) - 1), offset: 0, role: 'stimulus' },
      ...o.channels.map(
        (c): ChannelDescriptor => ({ name: `a${c}`, unit: 'V', sampleRate: this.rate, dtype: 'uint16', scale: vref / (1 << hello.adcBits), offset: 0, role: 'response' }),
      ),
    ];
    yield { type: 'descriptor', channels };

    let offset = 0; // run index = offset + board index
    let expected = 0; // next run index
    let lastDataWall = Date.now();
    const codes = o.stimulus?.codes ?? [];
    const loop = o.stimulus?.loop ?? false;
    const stimAt = (b: number) => (codes.length === 0 ? 0 : loop ? codes[b % codes.length] : b < codes.length ? codes[b] : 0);
    const limit = o.durationSamples ?? Infinity;
    let status: 'completed' | 'aborted' | 'failed' = 'aborted';
    let reason: string | undefined;

    const recover = async function* (this: DaqRun, why: string): AsyncGenerator<SourceMessage, boolean> {
      if ((o.onDisconnect ?? 'gap') === 'fail') {
        status = 'failed';
        reason = why;
        return false;
      }
      const attempts = o.reconnect?.attempts ?? 8;
      let delay = o.reconnect?.initialDelayMs ?? 200;
      for (let a = 1; a <= attempts && !signal.aborted; a++) {
        this.log(`${why}; reconnecting in ${delay} ms (attempt ${a}/${attempts})`);
        await sleep(delay, signal);
        if (signal.aborted) break;
        try {
          this.absorbDecoderStats(board);
          board.removeAllListeners();
          await board.close().catch(() => undefined);
          board = await this.connect(queue);
          this.board = board;
          this.seenCrc = 0;
          this.seenFraming = 0;
          this.stats.reconnects++;
          const lost = Math.max(0, Math.round(((Date.now() - lastDataWall) / 1000) * this.rate));
          offset = expected + lost;
          yield {
            type: 'event',
            kind: 'fault',
            index: expected,
            label: `${why}: samples ${expected}..${offset} lost (gap length estimated from wall time); recording resumed`,
          };
          this.stats.droppedTicks += lost;
          expected = offset;
          return true;
        } catch (err) {
          this.log(`reconnect failed: ${(err as Error).message}`);
          delay = Math.min(delay * 2, o.reconnect?.maxDelayMs ?? 3000);
        }
      }
      status = signal.aborted ? 'aborted' : 'failed';
      reason = signal.aborted ? undefined : `${why}; gave up after ${attempts} reconnect attempts`;
      return false;
    };

    try {
      for (;;) {
        const m = await queue.next(signal);
        if (!m) break; // aborted
        if (m.kind === 'closed') {
          if (!m.err && !board.isOpen && signal.aborted) break;
          const why = m.err ? m.err.message : `serial port ${board.path} closed`;
          yield { type: 'event', kind: 'fault', index: expected, label: why };
          const ok = yield* recover.call(this, why);
          if (!ok) break;
          continue;
        }
        if (m.kind === 'boot' || m.kind === 'watchdog') {
          const why =
            m.kind === 'boot'
              ? `board on ${board.path} reset during the run`
              : `board on ${board.path} stopped by its watchdog (no host heartbeat for 240 ms)`;
          yield { type: 'event', kind: 'fault', index: expected, label: why };
          const ok = yield* recover.call(this, why);
          if (!ok) break;
          continue;
        }
        const { block } = m;
        lastDataWall = Date.now();
        const { crc, framing } = this.absorbDecoderStats(board);
        if (crc + framing > 0) {
          yield { type: 'event', kind: 'fault', index: expected, label: `link: ${crc} CRC errors, ${framing} framing errors` };
        }
        this.stats.frames++;
        let first = offset + block.firstIndex;
        let skip = 0;
        if (first + block.ticks <= expected) {
          this.stats.duplicateTicks += block.ticks;
          continue;
        }
        if (first < expected) {
          skip = expected - first;
          this.stats.duplicateTicks += skip;
          first = expected;
        }
        if (first > expected) {
          const end = Math.min(first, limit);
          yield { type: 'event', kind: 'fault', index: expected, label: `dropped samples ${expected}..${end}` };
          this.stats.droppedTicks += end - expected;
        }
        let n = block.ticks - skip;
        if (first + n > limit) n = Math.max(0, limit - first);
        if (n > 0) {
          const boardFirst = block.firstIndex + skip;
          let slot = 0;
          let stim: Uint16Array;
          if (o.recordStimulus) stim = block.slots[slot++].subarray(skip, skip + n);
          else {
            stim = new Uint16Array(n);
            for (let i = 0; i < n; i++) stim[i] = stimAt(boardFirst + i);
          }
          yield { type: 'block', channel: 0, firstIndex: first, samples: stim };
          for (let c = 0; c < o.channels.length; c++) {
            yield { type: 'block', channel: c + 1, firstIndex: first, samples: block.slots[slot++].subarray(skip, skip + n) };
          }
        }
        expected = first + n;
        if (expected >= limit) {
          status = 'completed';
          break;
        }
      }
    } finally {
      this.absorbDecoderStats(board);
      this.stats.bytes += board.decoder.stats.bytes;
      try {
        if (board.isOpen) await board.stop();
      } catch (err) {
        if (!(err instanceof DaqError)) throw err;
      }
      board.removeAllListeners();
      await board.close().catch(() => undefined);
    }
    const s = this.stats;
    yield {
      type: 'event',
      kind: 'marker',
      index: expected,
      label: `link summary: ${s.frames} frames, ${s.crcErrors} CRC errors, ${s.framingErrors} framing errors, ${s.droppedTicks} samples dropped, ${s.duplicateTicks} duplicates ignored, ${s.reconnects} reconnects`,
    };
    if (status !== 'aborted' || reason) yield { type: 'stop', status, reason };
  }
}
