/**
 * What all virtual SMUs share: the source/measure channel (with compliance enforced against the device
 * under test), the error queue and IEEE-488.2 status registers, and the log of every command received.
 *
 * Instrument time: each command executes at a time (seconds since power-on) given by the port it came
 * through, which accounts for the serial line's byte time; measurements and sweeps add busy time, which
 * delays whatever the instrument does next. That is how the virtual instruments honour real timing.
 */
import type { DeviceUnderTest } from './dut.ts';

export interface ExecResult {
  /** Reply line (without terminator), or null when the command produces no output. */
  reply: string | null;
  /** Seconds the instrument is busy executing (measurement, sweep); delays later commands and the reply. */
  busyS: number;
}

/** One virtual instrument: feed it command lines, get replies. */
export interface VirtualInstrument {
  readonly model: string;
  readonly log: CommandLogEntry[];
  readonly channel: SmuChannel;
  execute(line: string, atS: number): ExecResult;
  /** Device clear / interface reset (connection closed). */
  onDisconnect?(): void;
}

export interface CommandLogEntry {
  /** Instrument time, s. */
  t: number;
  line: string;
}

export interface QueuedError {
  code: number;
  message: string;
}

/** Error queue with the SCPI overflow rule: when full, the newest entry becomes -350 "Queue overflow". */
export class ErrorQueue {
  private q: QueuedError[] = [];
  /** Errors queued since power-on (not reset by reading or *CLS): lets tests see an error a client drained. */
  pushed = 0;
  constructor(private readonly capacity: number) {}
  push(code: number, message: string): void {
    this.pushed++;
    if (this.q.length >= this.capacity) {
      this.q[this.capacity - 1] = { code: -350, message: 'Queue overflow' };
      return;
    }
    this.q.push({ code, message });
  }
  next(): QueuedError | undefined {
    return this.q.shift();
  }
  get count(): number {
    return this.q.length;
  }
  clear(): void {
    this.q = [];
  }
}

/** IEEE-488.2 status: standard event register bits from error classes, and the status byte. */
export class Status {
  esr = 0;
  ese = 0;
  sre = 0;
  /** Model-specific summary bits of the status byte (2400: bit 0 measurement, bit 3 questionable, bit 7 operation). */
  summary: () => number = () => 0;
  constructor(private readonly errors: ErrorQueue) {}
  /** Sets the ESR bit for an error number's class (SCPI: -1xx command, -2xx execution, -3xx device, -4xx query). */
  noteError(code: number): void {
    if (code <= -100 && code > -200) this.esr |= 32;
    else if (code <= -200 && code > -300) this.esr |= 16;
    else if (code <= -400 && code > -500) this.esr |= 4;
    else this.esr |= 8;
  }
  readEsr(): number {
    const v = this.esr;
    this.esr = 0;
    return v;
  }
  stb(): number {
    let s = this.summary() & ~(4 | 32 | 64);
    if (this.errors.count > 0) s |= 4; // EAV
    if (this.esr & this.ese) s |= 32; // ESB
    if (s & this.sre) s |= 64; // RQS/MSS
    return s;
  }
}

export type SourceFunc = 'voltage' | 'current';

export interface Measurement {
  v: number;
  i: number;
  t: number;
  /** The source hit its limit (the other quantity was held at compliance). */
  compliance: boolean;
}

/** One source-measure channel wired to a device under test. */
export class SmuChannel {
  func: SourceFunc = 'voltage';
  levelV = 0;
  levelI = 0;
  /** Compliance (limits). */
  limitI = 1.05e-4;
  limitV = 21;
  output = false;
  nplc = 1;
  /** Readings a repeating average filter takes per result (each one a full integration). */
  filterCount = 1;
  fourWire = false;
  sourceDelay = 0;
  sourceAutorange = true;
  measureAutorange = true;
  sourceRangeV = 21;
  sourceRangeI = 1.05e-4;
  measureRangeI = 1.05e-4;
  measureRangeV = 21;
  private lastT = 0;
  lastCompliance = false;
  /** Every change of output or applied level: [instrument time s, output on?, level]. */
  readonly outputHistory: { t: number; on: boolean; level: number; func: SourceFunc }[] = [];

  constructor(
    public dut: DeviceUnderTest,
    readonly lineFreq: number,
    readonly ratings: { maxV: number; maxI: number },
  ) {}

  resetState(): void {
    this.func = 'voltage';
    this.levelV = 0;
    this.levelI = 0;
    this.limitI = 1.05e-4;
    this.limitV = 21;
    this.setOutput(false, this.lastT);
    this.nplc = 1;
    this.filterCount = 1;
    this.fourWire = false;
    this.sourceDelay = 0;
    this.sourceAutorange = true;
    this.measureAutorange = true;
  }

  /** Seconds one measurement integrates. */
  measureTime(): number {
    return (this.nplc / this.lineFreq) * this.filterCount;
  }

  level(): number {
    return this.func === 'voltage' ? this.levelV : this.levelI;
  }

  /** Programs the `func` source level: applied now when that is the source function, else kept for when it is. */
  program(func: 'voltage' | 'current', x: number, atS: number): void {
    if (this.func === func) this.setLevel(x, atS);
    else if (func === 'voltage') this.levelV = x;
    else this.levelI = x;
  }

  setLevel(x: number, atS: number): void {
    this.advance(atS);
    const changed = x !== this.level();
    if (this.func === 'voltage') this.levelV = x;
    else this.levelI = x;
    if (this.output && changed) this.outputHistory.push({ t: atS, on: true, level: x, func: this.func });
  }

  setOutput(on: boolean, atS: number): void {
    this.advance(atS);
    if (on !== this.output) this.outputHistory.push({ t: atS, on, level: this.level(), func: this.func });
    this.output = on;
  }

  /** Brings the device state up to `atS` under the present source settings. */
  advance(atS: number): Measurement {
    const dt = Math.max(0, atS - this.lastT);
    this.lastT = Math.max(this.lastT, atS);
    if (!this.output) {
      this.lastCompliance = false;
      return { v: 0, i: 0, t: atS, compliance: false };
    }
    const d = this.dut;
    if (this.func === 'voltage') {
      const v = this.levelV;
      const iPeek = d.peekCurrent(v);
      if (Math.abs(iPeek) > this.limitI) {
        const i = Math.sign(iPeek) * this.limitI;
        const vOut = d.applyCurrent(i, dt);
        this.lastCompliance = true;
        return { v: vOut, i, t: atS, compliance: true };
      }
      this.lastCompliance = false;
      return { v, i: d.applyVoltage(v, dt), t: atS, compliance: false };
    }
    const i = this.levelI;
    const vPeek = d.peekVoltage(i);
    if (Math.abs(vPeek) > this.limitV) {
      const v = Math.sign(vPeek) * this.limitV;
      const iOut = d.applyVoltage(v, dt);
      this.lastCompliance = true;
      return { v, i: iOut, t: atS, compliance: true };
    }
    this.lastCompliance = false;
    return { v: d.applyCurrent(i, dt), i, t: atS, compliance: false };
  }

  /** A measurement started at `atS`: integrates for measureTime(); returns the value at its end. */
  measure(atS: number): Measurement {
    this.advance(atS);
    return this.advance(atS + this.measureTime());
  }

  /**
   * A list sweep executed by the trigger model from `atS`: for each level, set it, wait the source
   * delay, measure. Returns the readings (timestamps at the end of each measurement) and the end time.
   */
  sweep(levels: number[], atS: number, perPointOverheadS: number): { readings: Measurement[]; endS: number } {
    const out: Measurement[] = [];
    let t = atS;
    for (const l of levels) {
      this.setLevel(l, t);
      t += this.sourceDelay;
      const m = this.measure(t);
      t += this.measureTime() + perPointOverheadS;
      out.push(m);
    }
    return { readings: out, endS: t };
  }
}

/**
 * The levels of a built-in staircase sweep (2400 and B2900 `SWE` mode): `points` levels from start to stop,
 * linearly or logarithmically spaced, reversed for DOWN; throws `conflict()` for a log sweep through
 * or to zero.
 */
export function sweepLevels(
  o: { start: number; stop: number; points: number; spacing: 'LIN' | 'LOG'; down: boolean },
  conflict: () => Error,
): number[] {
  const n = o.points;
  let seq: number[];
  if (o.spacing === 'LOG') {
    if (o.start === 0 || o.stop === 0 || Math.sign(o.start) !== Math.sign(o.stop)) throw conflict();
    const r = Math.log10(o.stop / o.start);
    seq = Array.from({ length: n }, (_, k) => o.start * 10 ** ((r * k) / Math.max(1, n - 1)));
  } else seq = Array.from({ length: n }, (_, k) => (n === 1 ? o.start : o.start + ((o.stop - o.start) * k) / (n - 1)));
  seq = seq.map((x) => Number(x.toPrecision(12)));
  return o.down ? seq.reverse() : seq;
}

/** Splits on `sep` outside double/single quotes and parentheses/braces. */
export function splitOutside(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '{') depth++;
    else if (ch === ')' || ch === '}') depth--;
    else if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}
