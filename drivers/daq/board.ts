/**
 * DaqBoard: one spikeloop DAQ board (real or virtual) on a serial port. Requests are sent one at a time,
 * each waits for its reply (matched by seq) and is retried on timeout, so a corrupted frame costs a retry,
 * never a hang. DATA, BOOT, ERROR and STATUS frames arrive as events.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { AppError, type ErrorCode } from '../../common/errors.ts';
import { emulatedClock } from './virtual.ts';
import {
  FrameDecoder,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  T,
  encodeConfigure,
  encodeFrame,
  encodePulses,
  encodeSegmentsChunk,
  encodeWaveformChunk,
  parseAck,
  parseBoot,
  parseConfigured,
  parseError,
  parseHelloReply,
  parseStatus,
  unpackData,
  type Boot,
  type BoardError,
  type BoardSegment,
  type ConfigureRequest,
  type Configured,
  type HelloReply,
  type PulseTrain,
  type Status,
} from './protocol.ts';

/**
 * An error of the DAQ board or its port: an AppError (common/errors.ts) with the catalogue code the API
 * answers with, and `reason`, the board-level cause the host branches on (`timeout`, `board-cpu-rate`,
 * `port-closed` ...; board refusals are `board-<name>` of the firmware's error table).
 */
export class DaqError extends AppError {
  constructor(
    code: ErrorCode,
    readonly reason: string,
    message: string,
    /** The board's ERROR info field, for board-* reasons. */
    readonly info?: number,
  ) {
    super(code, message);
    this.name = 'DaqError';
  }
}

export interface DaqBoardOptions {
  path: string;
  baudRate?: number;
  /** Heartbeat period; the firmware stops and zeroes outputs after 240 ms without host frames. */
  heartbeatMs?: number;
  requestTimeoutMs?: number;
  /** Attempts per request (first try included). */
  attempts?: number;
  /** The board's own time in ms, when it is not the wall clock: reply timeouts wait that much of it. Default: the
   * emulated clock of a virtual board on `path` (a starved emulator is slow, not silent), else the wall clock. */
  clock?: () => Promise<number>;
}

export interface DataBlock {
  /** Board sample index of the first tick. */
  firstIndex: number;
  ticks: number;
  /** One array per value slot: [stimulus echo,] then the analog inputs in ascending order. */
  slots: Uint16Array[];
}

export interface DaqBoardEvents {
  data: [DataBlock];
  boot: [Boot];
  boardError: [BoardError];
  status: [Status];
  closed: [Error | null];
}

export class DaqBoard extends EventEmitter<DaqBoardEvents> {
  hello?: HelloReply;
  config?: Configured;
  readonly decoder: FrameDecoder;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private waiter?: { seq: number; types: number[]; resolve: (b: Uint8Array) => void; reject: (e: Error) => void };
  private heartbeat?: NodeJS.Timeout;
  private slotBuf: Uint16Array[] = [];
  private closed = false;
  private readonly clock?: () => Promise<number>;
  heartbeatPaused = false;

  private constructor(
    private readonly port: SerialPort,
    readonly options: DaqBoardOptions,
  ) {
    super();
    this.clock = options.clock ?? emulatedClock(options.path);
    this.decoder = new FrameDecoder((body, len) => this.onFrame(body, len));
    port.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    port.on('close', (err: Error | null) => this.onClose(err));
    port.on('error', () => {
      /* reported through 'close' */
    });
  }

  /** Opens the port; no traffic yet (call negotiate()). */
  static async open(options: DaqBoardOptions): Promise<DaqBoard> {
    const port = new SerialPort({ path: options.path, baudRate: options.baudRate ?? 1_000_000, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new DaqError('INSTRUMENT_FAILED', 'port-open', `cannot open ${options.path}: ${err.message}`)) : resolve())),
    );
    return new DaqBoard(port, options);
  }

  get path(): string {
    return this.options.path;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private onClose(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    const reason = err ? new DaqError('DISCONNECTED', 'port-vanished', `serial port ${this.path} disappeared: ${err.message}`) : null;
    this.waiter?.reject(reason ?? new DaqError('DISCONNECTED', 'port-closed', `serial port ${this.path} closed`));
    this.waiter = undefined;
    this.emit('closed', reason);
  }

  private onFrame(body: Uint8Array, len: number): void {
    const type = body[0];
    const seq = body[1];
    const payload = body.subarray(2, len - 2);
    if (type === T.DATA) {
      const cfg = this.config;
      if (!cfg) return;
      const nslots = cfg.valuesPerTick;
      const maxTicks = Math.ceil(((len - 8) * 8) / cfg.sampleBits / nslots) + 1;
      if (this.slotBuf.length !== nslots || this.slotBuf[0].length < maxTicks) {
        this.slotBuf = Array.from({ length: nslots }, () => new Uint16Array(Math.max(256, maxTicks)));
      }
      const { firstIndex, ticks } = unpackData(body, 2, len - 4, cfg.sampleBits, nslots, this.slotBuf);
      if (ticks === 0) return;
      this.emit('data', { firstIndex, ticks, slots: this.slotBuf.map((s) => s.slice(0, ticks)) });
      return;
    }
    if (type === T.STATUS) {
      this.emit('status', parseStatus(payload));
      return;
    }
    if (type === T.BOOT) {
      this.emit('boot', parseBoot(payload));
      return;
    }
    const w = this.waiter;
    if (type === T.ERROR) {
      const e = parseError(payload);
      if (w && e.seq === w.seq && e.seq !== 0) {
        this.waiter = undefined;
        w.reject(new DaqError('BOARD_REFUSED', `board-${e.name}`, `board refused request 0x${e.type.toString(16)}: ${e.name} (info ${e.info})`, e.info));
      } else this.emit('boardError', e);
      return;
    }
    if (w && seq === w.seq && w.types.includes(type)) {
      this.waiter = undefined;
      w.resolve(payload.slice());
    }
  }

  private write(frame: Uint8Array): void {
    if (this.closed) return;
    this.port.write(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  /** One request at a time; retried on timeout with the same seq (replies to a stale try still match). */
  request(type: number, payload: Uint8Array, replyTypes: number[]): Promise<Uint8Array> {
    const run = async () => {
      if (this.closed) throw new DaqError('DISCONNECTED', 'port-closed', `serial port ${this.path} is closed`);
      this.seq = (this.seq % 255) + 1;
      const seq = this.seq;
      const frame = encodeFrame(type, seq, payload);
      const attempts = this.options.attempts ?? 4;
      const timeout = this.options.requestTimeoutMs ?? 400;
      let lastErr: Error | undefined;
      for (let a = 0; a < attempts; a++) {
        try {
          return await new Promise<Uint8Array>((resolve, reject) => {
            const cancel = this.afterBoardTime(timeout, () => {
              this.waiter = undefined;
              reject(new DaqError('TIMEOUT', 'timeout', `no reply to request 0x${type.toString(16)} within ${timeout} ms`));
            });
            this.waiter = {
              seq,
              types: replyTypes,
              resolve: (b) => {
                cancel();
                resolve(b);
              },
              reject: (e) => {
                cancel();
                reject(e);
              },
            };
            this.write(frame);
          });
        } catch (err) {
          lastErr = err as Error;
          if (!(err instanceof DaqError) || err.reason !== 'timeout') throw err;
        }
      }
      throw lastErr!;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Calls `expire` once `ms` of the board's time has passed (wall time without a clock); returns a cancel function.
   * With a clock, the wall timer only prompts a look at it; 30 × `ms` of wall time expire it whatever it says (a
   * hung emulator).
   */
  private afterBoardTime(ms: number, expire: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const clock = this.clock;
    if (!clock) {
      timer = setTimeout(expire, ms);
      return () => clearTimeout(timer);
    }
    const wallLimit = Date.now() + 30 * ms;
    const fire = () => {
      if (!cancelled) expire();
    };
    const start = clock();
    start.catch(() => undefined); // looked at only if the reply is late
    const check = () => {
      if (cancelled) return;
      Promise.all([start, clock()]).then(([t0, t]) => {
        if (cancelled) return;
        if (t - t0 >= ms || Date.now() >= wallLimit) fire();
        else timer = setTimeout(check, Math.max(20, ms - (t - t0)));
      }, fire);
    };
    timer = setTimeout(check, ms);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }

  /** HELLO: learns the board and checks the protocol version. */
  async negotiate(): Promise<HelloReply> {
    const reply = await this.request(T.HELLO, Uint8Array.of(PROTOCOL_VERSION), [T.HELLO_REPLY]);
    const hello = parseHelloReply(reply);
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      throw new DaqError(
        'INSTRUMENT_FAILED',
        'protocol-version',
        `board on ${this.path} speaks protocol v${hello.protocolVersion}, this host v${PROTOCOL_VERSION}: update the firmware or spikeloop`,
      );
    }
    if (hello.protocolMinor < PROTOCOL_MINOR) {
      throw new DaqError(
        'INSTRUMENT_FAILED',
        'protocol-version',
        `board on ${this.path} speaks protocol v${hello.protocolVersion}.${hello.protocolMinor}, this host needs v${PROTOCOL_VERSION}.${PROTOCOL_MINOR} (stimulus programs): reflash the firmware`,
      );
    }
    this.hello = hello;
    return hello;
  }

  async configure(req: ConfigureRequest): Promise<Configured> {
    let reply: Uint8Array;
    try {
      reply = await this.request(T.CONFIGURE, encodeConfigure(req), [T.CONFIGURED]);
    } catch (err) {
      if (err instanceof DaqError && err.reason === 'board-dac-rate') {
        throw new DaqError(
          'PROGRAM_LIMIT',
          'dac-rate',
          `the MCP4725 DAC on the I2C bus (400 kHz, one write per sample) cannot follow ${req.rate} S/s with ${req.channels.length} analog input(s): at most ${err.info} S/s on ${this.hello?.board ?? 'this board'}`,
          err.info,
        );
      }
      if (err instanceof DaqError && err.reason === 'board-cpu-rate') {
        const mode = `${req.channels.length} analog input(s)${req.recordStimulus ? ' + the stimulus echo' : ''}, ${req.output === 'mcp4725' ? 'MCP4725' : 'PWM'} output`;
        throw new DaqError('PROGRAM_LIMIT', 'cpu-rate', `${this.hello?.board ?? 'the board'} cannot sustain ${req.rate} S/s without losing samples with ${mode}: at most ${err.info} S/s`, err.info);
      }
      if (err instanceof DaqError && err.reason === 'board-bad-argument' && req.output === 'mcp4725' && req.recordStimulus && err.info === 3) {
        throw new DaqError('PROGRAM_LIMIT', 'dac-echo', `the board cannot echo 12-bit DAC codes in its ${this.hello?.adcBits}-bit samples; record without recordStimulus (the host records the program's codes)`, 3);
      }
      throw err;
    }
    this.config = parseConfigured(reply);
    return this.config;
  }

  /** Uploads the table memory (all tables, concatenated) in acknowledged chunks. Call after configure(). */
  async uploadWaveform(codes: ArrayLike<number>): Promise<void> {
    const cfg = this.config;
    if (!cfg) throw new DaqError('INSTRUMENT_FAILED', 'bad-state', 'configure the board before uploading a stimulus table');
    const stimBits = cfg.stimulusBits;
    const max = cfg.tableEntries;
    if (codes.length > max) throw new DaqError('PROGRAM_LIMIT', 'waveform-too-long', `stimulus tables of ${codes.length} entries exceed the board's ${max} (${cfg.output} output)`);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (!Number.isInteger(c) || c < 0 || c >= 1 << stimBits) throw new DaqError('OUT_OF_RANGE', 'waveform-code', `stimulus code ${c} at ${i} is outside 0..${(1 << stimBits) - 1}`);
    }
    const width = stimBits > 8 ? 2 : 1;
    const chunk = Math.floor(((this.hello?.maxRequestPayload ?? 100) - 4) / width);
    for (let off = 0; off < codes.length || off === 0; off += chunk) {
      const part = Array.from({ length: Math.min(chunk, codes.length - off) }, (_, i) => codes[off + i]);
      const ack = parseAck(await this.request(T.WAVEFORM, encodeWaveformChunk(off, codes.length, part, stimBits), [T.ACK]));
      if (ack.info !== off + part.length) throw new DaqError('BAD_REPLY', 'waveform', `board holds ${ack.info} table entries, expected ${off + part.length}`);
      if (codes.length === 0) break;
    }
  }

  /** Uploads the segment list in acknowledged chunks (after the tables: a table upload clears it). */
  async uploadSegments(segs: BoardSegment[]): Promise<void> {
    const max = this.config?.maxSegments ?? this.hello?.maxSegments ?? 0;
    if (segs.length > max) throw new DaqError('PROGRAM_LIMIT', 'segments', `${segs.length} segments exceed the board's ${max}`);
    const chunk = Math.floor(((this.hello?.maxRequestPayload ?? 100) - 2) / 8);
    for (let off = 0; off < segs.length; off += chunk) {
      const part = segs.slice(off, off + chunk);
      const ack = parseAck(await this.request(T.SEGMENTS, encodeSegmentsChunk(off, segs.length, part), [T.ACK]));
      if (ack.info !== off + part.length) throw new DaqError('BAD_REPLY', 'segments', `board holds ${ack.info} segments, expected ${off + part.length}`);
    }
  }

  /** Programs the pulse train; returns the prescaler of the timer that makes it (resolution = prescaler / clock). */
  async setPulses(t: PulseTrain): Promise<number> {
    try {
      return parseAck(await this.request(T.PULSES, encodePulses(t), [T.ACK])).info;
    } catch (err) {
      if (err instanceof DaqError && err.reason === 'board-cpu-rate') {
        const cfg = this.config;
        const rate = cfg ? `${+(cfg.clockHz / cfg.divider).toFixed(1)} S/s` : 'this rate';
        throw new DaqError('PROGRAM_LIMIT', 'cpu-rate', `${this.hello?.board ?? 'the board'} cannot sustain ${rate} without losing samples with a pulse train every ${t.periodUs} us (pulse mode): at most ${err.info} S/s`, err.info);
      }
      if (err instanceof DaqError && err.reason === 'board-bad-argument' && err.info && t.widthUs > 0) {
        throw new DaqError('PROGRAM_LIMIT', 'pulses', `pulse train refused: high and low phases must each last at least ${err.info} us on ${this.hello?.board ?? 'this board'}`, err.info);
      }
      throw err;
    }
  }

  async start(loop: boolean): Promise<void> {
    await this.request(T.START, Uint8Array.of(loop ? 1 : 0), [T.ACK]);
  }

  async stop(): Promise<void> {
    await this.request(T.STOP, new Uint8Array(0), [T.ACK]);
  }

  /** Sends a heartbeat now (the STATUS reply arrives as a 'status' event). */
  beat(): void {
    if (!this.heartbeatPaused) this.write(encodeFrame(T.HEARTBEAT, 0));
  }

  startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs ?? 50);
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  async close(): Promise<void> {
    this.stopHeartbeat();
    if (this.closed) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
    this.onClose(null);
  }
}
