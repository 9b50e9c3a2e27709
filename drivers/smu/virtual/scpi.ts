/**
 * A SCPI command interpreter for the virtual instruments: headers matched in short or long form, any
 * case, optional nodes (`[:SOURce]:VOLTage[:LEVel]`), numeric suffixes (`OUTP1`), compound messages
 * (`;`, with the SCPI rule that a header without a leading colon continues the previous command's path),
 * IEEE-488.2 common commands, and errors through the queue with the standard numbers:
 *   -102 Syntax error, -104 Data type error, -108 Parameter not allowed, -109 Missing parameter,
 *   -113 Undefined header, -222 Data out of range, -224 Illegal parameter value, -350 Queue overflow.
 */
import { ErrorQueue, Status, splitOutside, type CommandLogEntry, type ExecResult, type SmuChannel, type VirtualInstrument } from './core.ts';
import { instrumentError, queueCode } from '../../transport/errors.ts';

export interface ScpiCall {
  args: string[];
  /** Instrument time the command starts, s. */
  at: number;
  /** Add busy time here (measurement, sweep). */
  busy: number;
}

export interface ScpiNode {
  /** e.g. `[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]` */
  pattern: string;
  set?: (c: ScpiCall) => void;
  query?: (c: ScpiCall) => string;
}

interface Mnemonic {
  short: string;
  long: string;
  optional: boolean;
}

function compile(pattern: string): Mnemonic[] {
  const out: Mnemonic[] = [];
  const re = /(\[)?:?([A-Za-z*]+[A-Za-z0-9*?]*)\]?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(pattern))) {
    const word = m[2];
    out.push({ short: word.replace(/[a-z]/g, '').toUpperCase(), long: word.toUpperCase(), optional: !!m[1] });
  }
  return out;
}

function matches(input: string[], nodes: Mnemonic[], i = 0, j = 0): boolean {
  if (j === nodes.length) return i === input.length;
  const n = nodes[j];
  // A numeric suffix the pattern does not name (`OUTP1`, `SENS1`) is the default instance; `CALC3` is named.
  const word = input[i];
  const hit = word !== undefined && [word, word.replace(/\d+$/, '')].some((w) => w === n.short || w === n.long);
  if (hit && matches(input, nodes, i + 1, j + 1)) return true;
  return n.optional && matches(input, nodes, i, j + 1);
}

/** Does a parameter match a keyword given as `VOLTage` (short VOLT or long VOLTAGE, any case)? */
export function isKeyword(arg: string, word: string): boolean {
  const a = arg.trim().replace(/^"|"$/g, '').toUpperCase();
  return a === word.toUpperCase() || a === word.replace(/[a-z]/g, '');
}

export function numArg(c: ScpiCall, k: number, o: { min: number; max: number; def?: number }): number {
  const a = c.args[k];
  if (a === undefined) throw instrumentError(-109, 'Missing parameter');
  if (isKeyword(a, 'MINimum')) return o.min;
  if (isKeyword(a, 'MAXimum')) return o.max;
  if (isKeyword(a, 'DEFault')) return o.def ?? 0;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a.trim())) throw instrumentError(-104, 'Data type error');
  const v = Number(a);
  if (v < o.min || v > o.max) throw instrumentError(-222, 'Data out of range');
  return v;
}

/**
 * The SCPI source level and range nodes both SCPI SMUs share: `[:SOURce]:VOLTage|CURRent[:LEVel]…`,
 * `…:RANGe` (a fixed range ends autoranging; `def`: the range a bare RANGe sets) and `…:RANGe:AUTO`.
 */
export function sourceLevelNodes(ch: SmuChannel, maxV: number, maxI: number, def: { rangeV?: number; rangeI?: number } = {}): ScpiNode[] {
  const rangeV = { min: -maxV, max: maxV, ...(def.rangeV !== undefined ? { def: def.rangeV } : {}) };
  const rangeI = { min: -maxI, max: maxI, ...(def.rangeI !== undefined ? { def: def.rangeI } : {}) };
  return [
    { pattern: '[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setSourceLevel(ch, c, 'voltage', maxV), query: () => sci(ch.levelV) },
    { pattern: '[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setSourceLevel(ch, c, 'current', maxI), query: () => sci(ch.levelI) },
    { pattern: '[:SOURce]:VOLTage:RANGe', set: (c) => ((ch.sourceRangeV = Math.abs(numArg(c, 0, rangeV))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeV) },
    { pattern: '[:SOURce]:CURRent:RANGe', set: (c) => ((ch.sourceRangeI = Math.abs(numArg(c, 0, rangeI))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeI) },
    { pattern: '[:SOURce]:VOLTage:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
    { pattern: '[:SOURce]:CURRent:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
  ];
}

/**
 * `:SOURce:VOLTage` / `:SOURce:CURRent` level: within ±max, and within the fixed source range (5 %
 * over-range) unless the source autoranges.
 */
function setSourceLevel(ch: SmuChannel, c: ScpiCall, func: 'voltage' | 'current', max: number): void {
  const v = numArg(c, 0, { min: -max, max, def: 0 });
  if (!ch.sourceAutorange) {
    const range = func === 'voltage' ? ch.sourceRangeV : ch.sourceRangeI;
    if (Math.abs(v) > range * 1.05) throw instrumentError(-222, 'Data out of range');
  }
  ch.program(func, v, c.at);
}

export function boolArg(c: ScpiCall, k = 0): boolean {
  const a = c.args[k];
  if (a === undefined) throw instrumentError(-109, 'Missing parameter');
  const t = a.trim().toUpperCase();
  if (t === 'ON' || t === '1') return true;
  if (t === 'OFF' || t === '0') return false;
  throw instrumentError(-224, 'Illegal parameter value');
}

/** Returns the index of the keyword choice that matches, e.g. choiceArg(c, ['VOLTage', 'CURRent']). */
export function choiceArg(c: ScpiCall, words: string[], k = 0): number {
  const a = c.args[k];
  if (a === undefined) throw instrumentError(-109, 'Missing parameter');
  const idx = words.findIndex((w) => isKeyword(a, w));
  if (idx < 0) throw instrumentError(-224, 'Illegal parameter value');
  return idx;
}

/** `+1.234560E-03`, as SCPI instruments print ASCII reals. */
export function sci(x: number): string {
  const [mant, exp] = x.toExponential(6).toUpperCase().split('E');
  const e = Number(exp);
  return `${x >= 0 ? '+' : ''}${mant}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

export const b01 = (v: boolean) => (v ? '1' : '0');

export interface ScpiInstrumentOptions {
  model: string;
  idn: string;
  channel: SmuChannel;
  errorQueueSize: number;
  /** How `:SYST:ERR?` prints an error: 2400 `-113,"Undefined header"`, B2900 `-113,"Undefined header"`, no-error `0,"No error"` vs `+0,"No error"`. */
  formatError: (code: number, message: string) => string;
  /** *RST: reset the model's own state (the channel is reset by the base). */
  onReset?: () => void;
  /** *CLS: clear the model's own event registers (the error queue and ESR are cleared by the base). */
  onClear?: () => void;
  /** *TRG (bus trigger). Without it *TRG is an undefined header. */
  onBusTrigger?: (c: ScpiCall) => void;
  /** Called with each command's start time before it runs (latches events such as "buffer full"). */
  onTime?: (atS: number) => void;
}

export class ScpiInstrument implements VirtualInstrument {
  readonly model: string;
  readonly log: CommandLogEntry[] = [];
  readonly errors: ErrorQueue;
  readonly status: Status;
  readonly channel: SmuChannel;
  /** Instrument time until which overlapped operations (a sweep started by :INIT) run. */
  pendingUntil = 0;
  /** Nodes by each word a header can start with (optional leading nodes may be left out), in table order. */
  private byFirstWord = new Map<string, { m: Mnemonic[]; node: ScpiNode }[]>();
  private static readonly LOG_MAX = 100_000;

  constructor(
    private readonly opts: ScpiInstrumentOptions,
    table: ScpiNode[],
  ) {
    this.model = opts.model;
    this.channel = opts.channel;
    this.errors = new ErrorQueue(opts.errorQueueSize);
    this.status = new Status(this.errors);
    const common: ScpiNode[] = [
      { pattern: ':SYSTem:ERRor[:NEXT]', query: () => this.nextError() },
      { pattern: ':SYSTem:ERRor:COUNt', query: () => String(this.errors.count) },
      {
        pattern: ':SYSTem:ERRor:ALL',
        query: () => {
          const all: string[] = [];
          do all.push(this.nextError());
          while (this.errors.count > 0);
          return all.join(',');
        },
      },
    ];
    for (const node of [...common, ...table]) {
      const entry = { m: compile(node.pattern), node };
      for (const mn of entry.m) {
        for (const w of new Set([mn.short, mn.long])) {
          const list = this.byFirstWord.get(w) ?? [];
          if (!list.includes(entry)) list.push(entry);
          this.byFirstWord.set(w, list);
        }
        if (!mn.optional) break;
      }
    }
  }

  private nextError(): string {
    const e = this.errors.next();
    return e ? this.opts.formatError(e.code, e.message) : this.opts.formatError(0, 'No error');
  }

  pushError(code: number, message: string): void {
    this.errors.push(code, message);
    this.status.noteError(code);
  }

  execute(line: string, atS: number): ExecResult {
    if (this.log.length < ScpiInstrument.LOG_MAX) this.log.push({ t: atS, line });
    const replies: string[] = [];
    let busy = 0;
    let path: string[] = [];
    for (const raw of splitOutside(line, ';')) {
      const text = raw.trim();
      if (!text) continue;
      const at = atS + busy;
      this.opts.onTime?.(at);
      try {
        const sp = text.search(/\s/);
        // `:*CLS`: a colon before a common command is accepted (PyMeasure's Keithley2400.reset sends it)
        const header = (sp < 0 ? text : text.slice(0, sp)).toUpperCase().replace(/^:\*/, '*');
        const argText = sp < 0 ? '' : text.slice(sp + 1).trim();
        const args = argText
          ? splitOutside(argText, ',').map((a) => a.trim()).filter((a) => !/^\(@[\d,:\s]+\)$/.test(a))
          : [];
        if (argText && args.some((a) => a === '')) throw instrumentError(-102, 'Syntax error');
        const call: ScpiCall = { args, at, busy: 0 };
        if (header.startsWith('*')) {
          const r = this.common(header, call);
          if (r !== null) replies.push(r);
        } else {
          const isQuery = header.endsWith('?');
          const h = isQuery ? header.slice(0, -1) : header;
          const absolute = h.startsWith(':');
          const parts = h.replace(/^:/, '').split(':');
          if (parts.some((p) => !/^[A-Z][A-Z0-9]*$/.test(p))) throw instrumentError(-102, 'Syntax error');
          const input = absolute ? parts : [...path, ...parts];
          path = input.slice(0, -1);
          const first = input[0];
          const candidates = [...(this.byFirstWord.get(first) ?? []), ...(this.byFirstWord.get(first.replace(/\d+$/, '')) ?? [])];
          const found = candidates.find((n) => matches(input, n.m));
          if (!found) throw instrumentError(-113, 'Undefined header');
          if (isQuery) {
            if (!found.node.query) throw instrumentError(-113, 'Undefined header');
            replies.push(found.node.query(call));
          } else {
            if (!found.node.set) throw instrumentError(-113, 'Undefined header');
            found.node.set(call);
          }
        }
        busy += call.busy;
      } catch (err) {
        const code = queueCode(err);
        if (code !== undefined) this.pushError(code, (err as Error).message);
        else this.pushError(-300, `Device-specific error: ${(err as Error).message}`);
        break; // the rest of the message is not executed
      }
    }
    return { reply: replies.length ? replies.join(';') : null, busyS: busy };
  }

  private common(header: string, c: ScpiCall): string | null {
    switch (header) {
      case '*IDN?':
        return this.opts.idn;
      case '*RST':
        this.channel.resetState();
        this.pendingUntil = 0;
        this.opts.onReset?.();
        return null;
      case '*CLS':
        this.errors.clear();
        this.status.esr = 0;
        this.opts.onClear?.();
        return null;
      case '*TRG':
        if (!this.opts.onBusTrigger) throw instrumentError(-113, 'Undefined header');
        this.opts.onBusTrigger(c);
        return null;
      case '*OPC?':
        c.busy = Math.max(0, this.pendingUntil - c.at);
        return '1';
      case '*OPC':
        this.status.esr |= 1;
        return null;
      case '*WAI':
        c.busy = Math.max(0, this.pendingUntil - c.at);
        return null;
      case '*ESR?':
        return String(this.status.readEsr());
      case '*ESE':
        this.status.ese = numArg(c, 0, { min: 0, max: 255 });
        return null;
      case '*ESE?':
        return String(this.status.ese);
      case '*SRE':
        this.status.sre = numArg(c, 0, { min: 0, max: 255 });
        return null;
      case '*SRE?':
        return String(this.status.sre);
      case '*STB?':
        return String(this.status.stb());
      case '*TST?':
        return '0';
      default:
        throw instrumentError(-113, 'Undefined header');
    }
  }
}
