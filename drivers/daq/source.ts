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
 *
 * The stimulus is a program (tables + segments, PROTOCOL.md "Stimulus programs") built for the board's real
 * capabilities, which the board reports once configured (`program` option), or a plain table (`stimulus`).
 * The `stim` channel records the code applied at each sample index: the board's echo (`recordStimulus`) or
 * the program's code at that index, which is the same by construction. A pulse train (`pulses`) is recorded
 * as `marker` events, one per edge, at the sample index of the tick at or before the edge, with the edge's
 * exact time (as the board's timer makes it) in the label and the new level as the value.
 */
import type { ChannelDescriptor, SourceMessage } from '../../common/run-stream.ts';
import { DaqBoard, DaqError, type DataBlock } from './board.ts';
import type { BoardSegment, Configured, HelloReply, PulseTrain, StimulusOutput } from './protocol.ts';

/** What the board can play once configured (for compiling a protocol to a BoardProgram). */
export interface OutputCaps {
  /** Exact sample rate, S/s. */
  sampleRate: number;
  output: StimulusOutput;
  stimulusBits: number;
  /** Largest code; the output's full scale. */
  maxCode: number;
  /** Table memory, entries. */
  maxTableLength: number;
  maxSegments: number;
  board: string;
}

/** A stimulus program in output codes: segment i plays `samples` values cycling through tables[table]. */
export interface BoardProgram {
  tables: number[][];
  segments: { table: number; samples: number }[];
  /** Start over after the last segment (else the output is 0 from there on). */
  loop: boolean;
}

export function outputCaps(hello: HelloReply, cfg: Configured): OutputCaps {
  return {
    sampleRate: cfg.rate,
    output: cfg.output,
    stimulusBits: cfg.stimulusBits,
    maxCode: (1 << cfg.stimulusBits) - 1,
    maxTableLength: cfg.tableEntries,
    maxSegments: cfg.maxSegments,
    board: hello.board,
  };
}

/** Board layout of a program: tables back to back in table memory. */
export function layoutProgram(p: BoardProgram): { codes: number[]; segments: BoardSegment[] } {
  const starts: number[] = [];
  const codes: number[] = [];
  for (const t of p.tables) {
    starts.push(codes.length);
    for (const c of t) codes.push(c);
  }
  return { codes, segments: p.segments.map((g) => ({ start: starts[g.table], length: p.tables[g.table].length, samples: g.samples })) };
}

/** The code a program applies at each sample index (the board's playback, replayed on the host). */
export class ProgramPlayer {
  private readonly ends: number[] = [];
  readonly total: number;
  constructor(private readonly program: BoardProgram) {
    let n = 0;
    for (const g of program.segments) this.ends.push((n += g.samples));
    this.total = n;
  }
  codeAt(index: number): number {
    if (this.total === 0) return 0;
    let i = index;
    if (i >= this.total) {
      if (!this.program.loop) return 0;
      i %= this.total;
    }
    let lo = 0;
    let hi = this.ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] > i) hi = mid;
      else lo = mid + 1;
    }
    const g = this.program.segments[lo];
    const start = lo === 0 ? 0 : this.ends[lo - 1];
    const table = this.program.tables[g.table];
    return table[(i - start) % table.length];
  }
}

/** Pulse edges as the board's timer makes them: times rounded to whole timer counts (µs in, counts out). */
export class PulseTimeline {
  private readonly d: number;
  private readonly w: number;
  private readonly p: number;
  private k = 0;
  constructor(
    private readonly train: PulseTrain,
    private readonly clockHz: number,
    private readonly prescaler: number,
    private readonly divider: number,
  ) {
    const cpu = clockHz / 1e6;
    const counts = (us: number) => Math.floor((Math.round(us) * cpu + Math.floor(prescaler / 2)) / prescaler);
    this.d = counts(train.delayUs);
    this.w = counts(train.widthUs);
    this.p = counts(train.periodUs);
  }
  /** Edge k (0 = first rise): time after sample 0 in timer counts, or undefined past the last. */
  edgeCounts(k: number): number | undefined {
    if (this.train.count > 0 && k >= 2 * this.train.count) return undefined;
    const j = Math.floor(k / 2);
    return this.d + j * this.p + (k % 2 ? this.w : 0);
  }
  /** Resolution of the edge times, seconds. */
  get resolutionS(): number {
    return this.prescaler / this.clockHz;
  }
  /** Marker events for every edge before sample index `end` not yet emitted. */
  *eventsBefore(end: number, offset: number): Generator<SourceMessage> {
    for (;;) {
      const c = this.edgeCounts(this.k);
      if (c === undefined) return;
      const index = Math.floor((c * this.prescaler) / this.divider);
      if (index >= end) return;
      const us = (c * this.prescaler * 1e6) / this.clockHz;
      const rise = this.k % 2 === 0;
      yield { type: 'event', kind: 'marker', index: offset + index, value: rise ? 1 : 0, label: `pulse ${Math.floor(this.k / 2) + 1} ${rise ? 'rise' : 'fall'} at ${us.toFixed(4)} us` };
      this.k++;
    }
  }
}

export interface DaqRunOptions {
  /** Port to open; a function is re-evaluated on every reconnect. */
  path: string | (() => string);
  /** Analog inputs, e.g. [0, 1]. */
  channels: number[];
  /** Samples per second per channel (the board picks the nearest exact rate). */
  rate: number;
  /** Stimulus table in DAC/PWM codes, played on the sample clock from index 0. */
  stimulus?: { codes: number[]; loop: boolean };
  /** Stimulus program built for the configured board; may throw (e.g. a CompileError naming the capability
   * the board lacks), which ends the run `failed` with that message before anything is played. */
  program?: (caps: OutputCaps) => BoardProgram;
  /** Stimulus output; default PWM. */
  output?: StimulusOutput;
  /** MCP4725 7-bit address (default 0x60). */
  dacAddress?: number;
  /** Digital pulse train on the board's timer pin, times in µs. */
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
  /** The program the board plays (after connecting). */
  program?: BoardProgram;
  caps?: OutputCaps;
  pulsePrescaler = 0;
  /** Pulse edges the board made late and DAC writes it could not make, from its STATUS replies. */
  outputFaults = { lateEdges: 0, dacErrors: 0 };
  private outputBase = { lateEdges: 0, dacErrors: 0 };
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
      // A BOOT frame read before START is acknowledged is the board's own start-up (often still buffered in
      // the port when we open it), not a reset during the run.
      let started = false;
      board.on('boot', () => started && queue.push({ kind: 'boot' }));
      board.on('boardError', (e) => {
        if (e.name === 'watchdog') queue.push({ kind: 'watchdog' });
      });
      board.on('closed', (err) => queue.push({ kind: 'closed', err }));
      board.on('status', (st) => {
        this.outputFaults = { lateEdges: this.outputBase.lateEdges + st.lateEdges, dacErrors: this.outputBase.dacErrors + st.dacErrors };
      });
      this.outputBase = { ...this.outputFaults };
      board.startHeartbeat();
      await board.negotiate();
      await board.stop(); // a board left running by an earlier host: a clean state first
      const cfg = await board.configure({
        channels: o.channels,
        rate: o.rate,
        recordStimulus: !!o.recordStimulus,
        output: o.output,
        dacAddress: o.dacAddress,
      });
      this.rate = cfg.rate;
      this.caps = outputCaps(board.hello!, cfg);
      const program: BoardProgram = o.program
        ? o.program(this.caps)
        : o.stimulus && o.stimulus.codes.length
          ? { tables: [o.stimulus.codes], segments: [{ table: 0, samples: o.stimulus.codes.length }], loop: o.stimulus.loop }
          : { tables: [], segments: [], loop: false };
      this.program = program;
      const { codes, segments } = layoutProgram(program);
      await board.uploadWaveform(codes);
      await board.uploadSegments(segments);
      if (o.pulses) this.pulsePrescaler = await board.setPulses(o.pulses);
      o.onBoard?.(board);
      await board.start(program.loop);
      started = true;
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
    // PWM: code 255 = 100 % duty = full scale; MCP4725: Vout = VDD * code / 4096
    const stimScale = this.caps!.output === 'mcp4725' ? stimFs / (1 << this.caps!.stimulusBits) : stimFs / this.caps!.maxCode;
    const channels: ChannelDescriptor[] = [
      { name: 'stim', unit: 'V', sampleRate: this.rate, dtype: 'uint16', scale: stimScale, offset: 0, role: 'stimulus' },
      ...o.channels.map(
        (c): ChannelDescriptor => ({ name: `a${c}`, unit: 'V', sampleRate: this.rate, dtype: 'uint16', scale: vref / (1 << hello.adcBits), offset: 0, role: 'response' }),
      ),
    ];
    yield { type: 'descriptor', channels };

    let offset = 0; // run index = offset + board index
    let expected = 0; // next run index
    let lastDataWall = Date.now();
    let player = new ProgramPlayer(this.program!);
    const newPulses = () => (o.pulses && o.pulses.widthUs > 0 ? new PulseTimeline(o.pulses, board.config!.clockHz, this.pulsePrescaler, board.config!.divider) : undefined);
    let pulses = newPulses();
    let pulseOffset = 0;
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
          player = new ProgramPlayer(this.program!);
          pulses = newPulses();
          this.seenCrc = 0;
          this.seenFraming = 0;
          this.stats.reconnects++;
          const lost = Math.max(0, Math.round(((Date.now() - lastDataWall) / 1000) * this.rate));
          offset = expected + lost;
          pulseOffset = offset;
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
            for (let i = 0; i < n; i++) stim[i] = player.codeAt(boardFirst + i);
          }
          yield { type: 'block', channel: 0, firstIndex: first, samples: stim };
          for (let c = 0; c < o.channels.length; c++) {
            yield { type: 'block', channel: c + 1, firstIndex: first, samples: block.slots[slot++].subarray(skip, skip + n) };
          }
        }
        expected = first + n;
        if (pulses) yield* pulses.eventsBefore(expected - pulseOffset, pulseOffset);
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
    const of = this.outputFaults;
    if (of.lateEdges + of.dacErrors > 0) {
      yield { type: 'event', kind: 'fault', index: expected, label: `board outputs: ${of.lateEdges} pulse edges made late, ${of.dacErrors} DAC writes failed or skipped` };
    }
    yield {
      type: 'event',
      kind: 'marker',
      index: expected,
      label: `link summary: ${s.frames} frames, ${s.crcErrors} CRC errors, ${s.framingErrors} framing errors, ${s.droppedTicks} samples dropped, ${s.duplicateTicks} duplicates ignored, ${s.reconnects} reconnects`,
    };
    if (status !== 'aborted' || reason) yield { type: 'stop', status, reason };
  }
}
