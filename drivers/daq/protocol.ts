/**
 * spikeloop DAQ wire protocol, host side: COBS framing, CRC-16/CCITT-FALSE, message layouts. The byte
 * layouts are specified in firmware/PROTOCOL.md and implemented for the board in firmware/src/sl_protocol.c;
 * test/daq-protocol.test.ts checks both against each other.
 *
 *   frame on the wire = COBS(body) 0x00,  body = type u8 | seq u8 | payload | crc16 u16 LE (over type..payload)
 */

export const PROTOCOL_VERSION = 1;
export const MAX_BODY = 254;
export const MAX_PAYLOAD = MAX_BODY - 4;

export const T = {
  HELLO: 0x01,
  CONFIGURE: 0x02,
  WAVEFORM: 0x03,
  PULSES: 0x04,
  START: 0x05,
  STOP: 0x06,
  HEARTBEAT: 0x07,
  ACK: 0x80,
  HELLO_REPLY: 0x81,
  CONFIGURED: 0x82,
  DATA: 0x83,
  ERROR: 0x84,
  BOOT: 0x85,
  STATUS: 0x87,
} as const;

export const ERROR_NAMES: Record<number, string> = {
  0: 'ok',
  1: 'crc',
  2: 'frame',
  3: 'unknown-type',
  4: 'bad-argument',
  5: 'bad-state',
  6: 'watchdog',
  7: 'overrun',
  8: 'protocol-version',
  9: 'budget',
};

export const BOARD_NAMES: Record<number, string> = { 1: 'uno', 2: 'mega2560', 3: 'teensy4' };

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of bytes [start, end). */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** COBS-encodes a body and appends the 0x00 delimiter. */
export function cobsEncode(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 2 + Math.floor(body.length / 254));
  let o = 0;
  let pos = 0;
  for (;;) {
    let r = 0;
    const left = Math.min(254, body.length - pos);
    while (r < left && body[pos + r] !== 0) r++;
    out[o++] = r + 1;
    out.set(body.subarray(pos, pos + r), o);
    o += r;
    pos += r;
    if (pos >= body.length) break;
    if (r < 254) pos++;
  }
  out[o++] = 0;
  return out.subarray(0, o);
}

/** Builds a whole frame (COBS, delimiter included) from type, seq and payload. */
export function encodeFrame(type: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const body = new Uint8Array(payload.length + 4);
  body[0] = type;
  body[1] = seq & 0xff;
  body.set(payload, 2);
  const c = crc16(body, 0, payload.length + 2);
  body[payload.length + 2] = c & 0xff;
  body[payload.length + 3] = c >> 8;
  return cobsEncode(body);
}

export interface DecoderStats {
  /** Frames delivered with a good CRC. */
  frames: number;
  /** Frames dropped for a CRC mismatch. */
  crcErrors: number;
  /** Frames dropped as malformed: bad COBS, too long, shorter than a body. */
  framingErrors: number;
  /** Bytes consumed. */
  bytes: number;
}

/**
 * Streaming frame decoder. Feed it chunks as they arrive (any split); it calls `onFrame(body, length)` for
 * every frame whose CRC checks, with a view valid only during the call. Bad frames are counted, never
 * delivered in part, never thrown. Memory is bounded: a frame longer than MAX_BODY is dropped whole.
 */
export class FrameDecoder {
  readonly stats: DecoderStats = { frames: 0, crcErrors: 0, framingErrors: 0, bytes: 0 };
  private readonly buf = new Uint8Array(MAX_BODY + 2);
  private len = 0;
  private left = 0;
  private code = 0;
  private overflow = false;

  constructor(private readonly onFrame: (body: Uint8Array, length: number) => void) {}

  push(chunk: Uint8Array): void {
    const buf = this.buf;
    const cap = MAX_BODY;
    let len = this.len;
    let left = this.left;
    let code = this.code;
    let overflow = this.overflow;
    const n = chunk.length;
    this.stats.bytes += n;
    let i = 0;
    while (i < n) {
      const b = chunk[i++];
      if (b === 0) {
        if (code !== 0 || overflow) {
          if (overflow || left !== 0 || len < 4) this.stats.framingErrors++;
          else if (crc16(buf, 0, len - 2) !== (buf[len - 2] | (buf[len - 1] << 8))) this.stats.crcErrors++;
          else {
            this.stats.frames++;
            this.len = 0;
            this.onFrame(buf, len);
          }
        }
        len = 0;
        left = 0;
        code = 0;
        overflow = false;
        continue;
      }
      if (overflow) continue;
      if (left === 0) {
        if (code !== 0 && code !== 0xff) {
          if (len >= cap) {
            overflow = true;
            continue;
          }
          buf[len++] = 0;
        }
        code = b;
        left = b - 1;
        // fast path: copy the group's data bytes up to the next zero in one go
        if (left > 0) {
          const end = Math.min(i + left, n);
          let j = i;
          while (j < end && chunk[j] !== 0) j++;
          const k = j - i;
          if (len + k > cap) {
            overflow = true;
            continue;
          }
          buf.set(chunk.subarray(i, j), len);
          len += k;
          left -= k;
          i = j;
        }
      } else {
        if (len >= cap) {
          overflow = true;
          continue;
        }
        buf[len++] = b;
        left--;
      }
    }
    this.len = len;
    this.left = left;
    this.code = code;
    this.overflow = overflow;
  }
}

// ---- payload layouts ----

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const putU16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
};
const putU32 = (b: Uint8Array, o: number, v: number) => {
  putU16(b, o, v & 0xffff);
  putU16(b, o + 2, (v >>> 16) & 0xffff);
};

export interface HelloReply {
  protocolVersion: number;
  firmwareVersion: string;
  boardId: number;
  board: string;
  analogInputs: number;
  adcBits: number;
  stimulusBits: number;
  clockHz: number;
  maxConversionsPerSecond: number;
  linkBytesPerSecond: number;
  maxWaveform: number;
  maxValuesPerBlock: number;
}

export function parseHelloReply(p: Uint8Array): HelloReply {
  if (p.length < 24) throw new Error(`HELLO_REPLY too short (${p.length} bytes)`);
  return {
    protocolVersion: p[0],
    firmwareVersion: `${p[1]}.${p[2]}.${p[3]}`,
    boardId: p[4],
    board: new TextDecoder().decode(p.subarray(24)) || BOARD_NAMES[p[4]] || `board-${p[4]}`,
    analogInputs: p[5],
    adcBits: p[6],
    stimulusBits: p[7],
    clockHz: u32(p, 8),
    maxConversionsPerSecond: u32(p, 12),
    linkBytesPerSecond: u32(p, 16),
    maxWaveform: u16(p, 20),
    maxValuesPerBlock: u16(p, 22),
  };
}

export interface ConfigureRequest {
  /** Analog inputs to sample, e.g. [0, 1]. */
  channels: number[];
  /** Requested samples per second per channel. */
  rate: number;
  /** Board echoes the applied stimulus as the first value of every tick. */
  recordStimulus: boolean;
  /** Sample ticks per DATA frame, 0 = as many as fit. */
  ticksPerBlock?: number;
}

export function encodeConfigure(c: ConfigureRequest): Uint8Array {
  const p = new Uint8Array(7);
  p[0] = c.channels.reduce((m, ch) => m | (1 << ch), 0);
  p[1] = c.recordStimulus ? 1 : 0;
  putU32(p, 2, Math.round(c.rate));
  p[6] = c.ticksPerBlock ?? 0;
  return p;
}

export interface Configured {
  clockHz: number;
  /** Clock ticks per sample: the exact rate is clockHz / divider. */
  divider: number;
  rate: number;
  valuesPerTick: number;
  ticksPerBlock: number;
  sampleBits: number;
  channelMask: number;
  recordStimulus: boolean;
}

export function parseConfigured(p: Uint8Array): Configured {
  if (p.length < 13) throw new Error(`CONFIGURED too short (${p.length} bytes)`);
  const clockHz = u32(p, 0);
  const divider = u32(p, 4);
  return {
    clockHz,
    divider,
    rate: clockHz / divider,
    valuesPerTick: p[8],
    ticksPerBlock: p[9],
    sampleBits: p[10],
    channelMask: p[11],
    recordStimulus: (p[12] & 1) === 1,
  };
}

export function encodeWaveformChunk(offset: number, total: number, codes: ArrayLike<number>, stimBits: number): Uint8Array {
  const width = stimBits > 8 ? 2 : 1;
  const p = new Uint8Array(4 + codes.length * width);
  putU16(p, 0, offset);
  putU16(p, 2, total);
  for (let i = 0; i < codes.length; i++) {
    if (width === 1) p[4 + i] = codes[i];
    else putU16(p, 4 + 2 * i, codes[i]);
  }
  return p;
}

export interface PulseTrain {
  /** All in sample ticks. */
  delay: number;
  period: number;
  width: number;
  /** 0 = until stopped. */
  count: number;
}

export function encodePulses(t: PulseTrain): Uint8Array {
  const p = new Uint8Array(16);
  putU32(p, 0, t.delay);
  putU32(p, 4, t.period);
  putU32(p, 8, t.width);
  putU32(p, 12, t.count);
  return p;
}

export interface Ack {
  type: number;
  seq: number;
  status: number;
  info: number;
}
export const parseAck = (p: Uint8Array): Ack => ({ type: p[0], seq: p[1], status: p[2], info: u16(p, 3) });

export interface BoardError {
  code: number;
  name: string;
  type: number;
  seq: number;
  info: number;
}
export const parseError = (p: Uint8Array): BoardError => ({
  code: p[0],
  name: ERROR_NAMES[p[0]] ?? `error-${p[0]}`,
  type: p[1],
  seq: p[2],
  info: u32(p, 3),
});

export interface Status {
  running: boolean;
  tickIndex: number;
  droppedTicks: number;
  rxErrors: number;
  overruns: number;
}
export const parseStatus = (p: Uint8Array): Status => ({
  running: p[0] === 1,
  tickIndex: u32(p, 1),
  droppedTicks: u16(p, 5),
  rxErrors: u16(p, 7),
  overruns: u16(p, 9),
});

export interface Boot {
  resetCause: number;
  protocolVersion: number;
}
export const parseBoot = (p: Uint8Array): Boot => ({ resetCause: p[0], protocolVersion: p[1] });

/**
 * Unpacks a DATA payload (first index u32, then LSB-first packed samples) into per-value-slot arrays.
 * Returns the first tick index and the number of whole ticks; out[k][t] = value slot k of tick t.
 * Throws nothing: a payload whose sample count is not a whole number of ticks yields only the whole ticks.
 */
export function unpackData(
  payload: Uint8Array,
  payloadOffset: number,
  payloadLength: number,
  bits: number,
  valuesPerTick: number,
  out: Uint16Array[],
): { firstIndex: number; ticks: number } {
  const firstIndex = u32(payload, payloadOffset);
  const bytes = payloadLength - 4;
  const n = Math.floor((bytes * 8) / bits);
  const ticks = Math.floor(n / valuesPerTick);
  const base = payloadOffset + 4;
  const mask = (1 << bits) - 1;
  let bit = 0;
  for (let t = 0; t < ticks; t++) {
    for (let k = 0; k < valuesPerTick; k++) {
      const byte = base + (bit >> 3);
      const v = ((payload[byte] | (payload[byte + 1] << 8) | (payload[byte + 2] << 16)) >> (bit & 7)) & mask;
      out[k][t] = v;
      bit += bits;
    }
  }
  return { firstIndex, ticks };
}
