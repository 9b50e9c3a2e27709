/**
 * spikeloop DAQ wire protocol, host side: COBS framing, CRC-16/CCITT-FALSE, message layouts. The byte
 * layouts are specified in firmware/PROTOCOL.md and implemented for the board in firmware/src/sl_protocol.c;
 * test/daq-protocol.test.ts checks both against each other.
 *
 *   frame on the wire = COBS(body) 0x00,  body = type u8 | seq u8 | payload | crc16 u16 LE (over type..payload)
 */

export const PROTOCOL_VERSION = 1;
/** Minor version this host needs: 1.1 = stimulus programs (SEGMENTS), output select, timer pulses in µs. */
export const PROTOCOL_MINOR = 1;
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
  SEGMENTS: 0x08,
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
  10: 'dac-rate',
  11: 'cpu-rate',
};

/** Stimulus outputs (CONFIGURE output byte). */
export const OUTPUTS = { pwm: 0, mcp4725: 1 } as const;
export type StimulusOutput = keyof typeof OUTPUTS;

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

/** Two bytes per step: the CRC is linear, so crc(x0 x1) = CRC_TABLE2[x0] ^ CRC_TABLE[x1] for x = crc ^ (b0 b1). */
const CRC_TABLE2 = (() => {
  const t = new Uint16Array(256);
  for (let a = 0; a < 256; a++) t[a] = ((CRC_TABLE[a] << 8) & 0xffff) ^ CRC_TABLE[CRC_TABLE[a] >> 8];
  return t;
})();

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of bytes [start, end). */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const x = crc ^ ((buf[i] << 8) | buf[i + 1]);
    crc = CRC_TABLE2[x >> 8] ^ CRC_TABLE[x & 0xff];
  }
  if (i < end) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ buf[i]) & 0xff];
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
  /** Decoded body of the current frame. */
  private readonly buf = new Uint8Array(MAX_BODY + 2);
  /** Encoded bytes of a frame split across chunks (bounded: an encoded frame is at most MAX_BODY + 1). */
  private readonly pend = new Uint8Array(MAX_BODY + 2);
  private pendLen = 0;
  private pendOverflow = false;

  constructor(private readonly onFrame: (body: Uint8Array, length: number) => void) {}

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    this.stats.bytes += n;
    let i = 0;
    while (i < n) {
      const z = chunk.indexOf(0, i);
      const end = z < 0 ? n : z;
      if (z < 0 || this.pendLen > 0 || this.pendOverflow) {
        // part of a frame: keep the encoded bytes (capped) until its delimiter arrives
        const k = end - i;
        if (this.pendLen + k > this.pend.length) this.pendOverflow = true;
        else {
          this.pend.set(chunk.subarray(i, end), this.pendLen);
          this.pendLen += k;
        }
        if (z < 0) return;
        this.finish(this.pend, 0, this.pendLen, this.pendOverflow);
        this.pendLen = 0;
        this.pendOverflow = false;
      } else {
        this.finish(chunk, i, end, end - i > MAX_BODY + 1);
      }
      i = end + 1;
    }
  }

  /** One encoded frame src[start, end) (no zeros inside) has ended. */
  private finish(src: Uint8Array, start: number, end: number, oversize: boolean): void {
    if (end === start && !oversize) return; // empty frame: idle filler
    const len = oversize ? -1 : this.cobsDecode(src, start, end);
    if (len < 4) {
      this.stats.framingErrors++;
      return;
    }
    const buf = this.buf;
    if (crc16(buf, 0, len - 2) !== (buf[len - 2] | (buf[len - 1] << 8))) {
      this.stats.crcErrors++;
      return;
    }
    this.stats.frames++;
    this.onFrame(buf, len);
  }

  /** COBS-decodes src[start, end) into buf; -1 when malformed or too long. */
  private cobsDecode(src: Uint8Array, start: number, end: number): number {
    const buf = this.buf;
    const cap = MAX_BODY;
    let o = 0;
    let p = start;
    while (p < end) {
      const code = src[p++];
      const k = code - 1;
      if (p + k > end || o + k > cap) return -1;
      if (k > 16) buf.set(src.subarray(p, p + k), o);
      else for (let j = 0; j < k; j++) buf[o + j] = src[p + j];
      o += k;
      p += k;
      if (code !== 0xff && p < end) {
        if (o >= cap) return -1;
        buf[o++] = 0;
      }
    }
    return o;
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
  /** 0 for a protocol 1.0 board (no capability block). */
  protocolMinor: number;
  firmwareVersion: string;
  boardId: number;
  board: string;
  analogInputs: number;
  adcBits: number;
  /** PWM stimulus bits (8 on AVR, 12 on Teensy). */
  stimulusBits: number;
  clockHz: number;
  maxConversionsPerSecond: number;
  linkBytesPerSecond: number;
  /** Table entries at the PWM output's width. */
  maxWaveform: number;
  maxValuesPerBlock: number;
  /** Protocol 1.1 capability block. */
  outputs: StimulusOutput[];
  timerPulses: boolean;
  maxSegments: number;
  tableBytes: number;
  dacBits: number;
  /** Highest sample rate the I2C DAC keeps up with at one analog channel (lower with more channels). */
  dacMaxRate: number;
  /** Longest request payload the board accepts (WAVEFORM/SEGMENTS chunking). */
  maxRequestPayload: number;
  /** Shortest high or low phase of a pulse train, µs. */
  pulseMinUs: number;
}

export function parseHelloReply(p: Uint8Array): HelloReply {
  if (p.length < 24) throw new Error(`HELLO_REPLY too short (${p.length} bytes)`);
  // a 1.0 board puts its name (ASCII) at 24; a 1.1 board its minor version (a small number)
  const v11 = p.length >= 40 && p[24] >= 1 && p[24] < 0x20;
  const outputs = v11 ? (Object.keys(OUTPUTS) as StimulusOutput[]).filter((k) => p[25] & (1 << OUTPUTS[k])) : (['pwm'] as StimulusOutput[]);
  return {
    protocolVersion: p[0],
    protocolMinor: v11 ? p[24] : 0,
    firmwareVersion: `${p[1]}.${p[2]}.${p[3]}`,
    boardId: p[4],
    board: new TextDecoder().decode(p.subarray(v11 ? 40 : 24)) || BOARD_NAMES[p[4]] || `board-${p[4]}`,
    analogInputs: p[5],
    adcBits: p[6],
    stimulusBits: p[7],
    clockHz: u32(p, 8),
    maxConversionsPerSecond: u32(p, 12),
    linkBytesPerSecond: u32(p, 16),
    maxWaveform: u16(p, 20),
    maxValuesPerBlock: u16(p, 22),
    outputs,
    timerPulses: v11 && (p[25] & 0x80) !== 0,
    maxSegments: v11 ? u16(p, 26) : 1,
    tableBytes: v11 ? u16(p, 28) : u16(p, 20),
    dacBits: v11 ? p[30] : 0,
    dacMaxRate: v11 ? u32(p, 32) : 0,
    maxRequestPayload: v11 ? u16(p, 36) : 200,
    pulseMinUs: v11 ? u16(p, 38) : 0,
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
  /** Stimulus output (default PWM). */
  output?: StimulusOutput;
  /** 7-bit I2C address of the MCP4725 (default 0x60). */
  dacAddress?: number;
}

export function encodeConfigure(c: ConfigureRequest): Uint8Array {
  const p = new Uint8Array(9);
  p[0] = c.channels.reduce((m, ch) => m | (1 << ch), 0);
  p[1] = c.recordStimulus ? 1 : 0;
  putU32(p, 2, Math.round(c.rate));
  p[6] = c.ticksPerBlock ?? 0;
  p[7] = OUTPUTS[c.output ?? 'pwm'];
  p[8] = c.dacAddress ?? 0;
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
  output: StimulusOutput;
  /** Width of the selected output's codes (8 PWM on AVR, 12 MCP4725). */
  stimulusBits: number;
  /** Table memory in entries of that width. */
  tableEntries: number;
  maxSegments: number;
  /** Prescaler of the timer that makes the pulse edges: resolution = prescaler / clockHz. */
  pulsePrescaler: number;
}

export function parseConfigured(p: Uint8Array): Configured {
  if (p.length < 21) throw new Error(`CONFIGURED too short (${p.length} bytes; a protocol 1.1 board sends 21)`);
  const clockHz = u32(p, 0);
  const divider = u32(p, 4);
  return {
    output: p[13] === OUTPUTS.mcp4725 ? 'mcp4725' : 'pwm',
    stimulusBits: p[14],
    tableEntries: u16(p, 15),
    maxSegments: u16(p, 17),
    pulsePrescaler: u16(p, 19),
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

/** One segment in board terms: plays `samples` values cycling through table memory [start, start + length). */
export interface BoardSegment {
  start: number;
  length: number;
  samples: number;
}

export function encodeSegmentsChunk(offset: number, total: number, segs: BoardSegment[]): Uint8Array {
  const p = new Uint8Array(2 + 8 * segs.length);
  p[0] = offset;
  p[1] = total;
  segs.forEach((g, i) => {
    putU16(p, 2 + 8 * i, g.start);
    putU16(p, 4 + 8 * i, g.length);
    putU32(p, 6 + 8 * i, g.samples);
  });
  return p;
}

/** A digital pulse train on the board's timer pin (times in µs). */
export interface PulseTrain {
  /** First rising edge this long after sample 0. */
  delayUs: number;
  periodUs: number;
  /** High time; 0 = off. */
  widthUs: number;
  /** Pulses; 0 = until stopped. */
  count: number;
}

export function encodePulses(t: PulseTrain): Uint8Array {
  const p = new Uint8Array(16);
  putU32(p, 0, Math.round(t.delayUs));
  putU32(p, 4, Math.round(t.periodUs));
  putU32(p, 8, Math.round(t.widthUs));
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
  /** Pulse edges the board made late (its interrupts were held up past the edge time). */
  lateEdges: number;
  /** I2C DAC writes that failed or were skipped. */
  dacErrors: number;
}
export const parseStatus = (p: Uint8Array): Status => ({
  running: p[0] === 1,
  tickIndex: u32(p, 1),
  droppedTicks: u16(p, 5),
  rxErrors: u16(p, 7),
  overruns: u16(p, 9),
  lateEdges: p.length >= 15 ? u16(p, 11) : 0,
  dacErrors: p.length >= 15 ? u16(p, 13) : 0,
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
let flat = new Uint16Array(1024);

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
  const total = ticks * valuesPerTick;
  if (flat.length < total + 4) flat = new Uint16Array(total + 256);
  let p = payloadOffset + 4;
  let v = 0;
  if (bits === 10) {
    // 4 values in 5 bytes, LSB first
    for (; v + 4 <= total; v += 4, p += 5) {
      const b1 = payload[p + 1];
      const b2 = payload[p + 2];
      const b3 = payload[p + 3];
      flat[v] = payload[p] | ((b1 & 0x03) << 8);
      flat[v + 1] = (b1 >> 2) | ((b2 & 0x0f) << 6);
      flat[v + 2] = (b2 >> 4) | ((b3 & 0x3f) << 4);
      flat[v + 3] = (b3 >> 6) | (payload[p + 4] << 2);
    }
  } else if (bits === 12) {
    for (; v + 2 <= total; v += 2, p += 3) {
      const b1 = payload[p + 1];
      flat[v] = payload[p] | ((b1 & 0x0f) << 8);
      flat[v + 1] = (b1 >> 4) | (payload[p + 2] << 4);
    }
  }
  // the rest (and any other width) bit by bit
  const base = payloadOffset + 4;
  const mask = (1 << bits) - 1;
  for (; v < total; v++) {
    const bit = v * bits;
    const byte = base + (bit >> 3);
    flat[v] = ((payload[byte] | (payload[byte + 1] << 8) | ((payload[byte + 2] ?? 0) << 16)) >> (bit & 7)) & mask;
  }
  for (let k = 0; k < valuesPerTick; k++) {
    const o = out[k];
    for (let t = 0, i = k; t < ticks; t++, i += valuesPerTick) o[t] = flat[i];
  }
  return { firstIndex, ticks };
}
