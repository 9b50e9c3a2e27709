/**
 * Virtual Keithley 2602B (channel smua) speaking TSP: the attributes and functions of smua.source,
 * smua.measure, smua.trigger (list sweeps), smua.nvbufferN, errorqueue, timer, print/printbuffer,
 * waitcomplete, plus the IEEE-488.2 common commands the 2600B also accepts. Errors go to the queue
 * with the instrument's numbers (-285 syntax, -286 run-time) and -222 for values out of range.
 */
import { ErrorQueue, Status, type CommandLogEntry, type ExecResult, SmuChannel, type VirtualInstrument } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { TspError, TspInterpreter, tspFormat, type TspHost, type TspValue } from './tsp.ts';

const MAXV = 202;
const MAXI = 3.03;
const POINT_OVERHEAD_S = 5e-5;

interface NvBuffer {
  readings: number[];
  timestamps: number[];
  sourcevalues: number[];
  collecttimestamps: number;
  collectsourcevalues: number;
}

const newBuffer = (): NvBuffer => ({ readings: [], timestamps: [], sourcevalues: [], collecttimestamps: 0, collectsourcevalues: 0 });

export class Virtual2600B implements VirtualInstrument {
  readonly model = 'Keithley 2602B';
  readonly idn = 'Keithley Instruments Inc., Model 2602B, 4000001, 3.3.5';
  readonly log: CommandLogEntry[] = [];
  readonly channel: SmuChannel;
  readonly errors = new ErrorQueue(100);
  readonly status = new Status(this.errors);
  pendingUntil = 0;
  /** The last trigger-model sweep, as the instrument timed it. */
  lastSweep: { startS: number; endS: number; points: number } | null = null;
  private timerZero = 0;
  private buffers: Record<string, NvBuffer> = { nvbuffer1: newBuffer(), nvbuffer2: newBuffer() };
  private trig = { count: 1, sourceAction: 0, measureAction: 0, list: [] as number[], listFunc: 'v' as 'v' | 'i', measure: { kind: 'iv', bufs: [] as string[] } };
  private globals = new Map<string, TspValue>();
  private attrs = new Map<string, { get: () => TspValue; set?: (v: number) => void }>();
  private consts = new Map<string, number>();
  private fns = new Map<string, (args: TspValue[]) => TspValue[]>();
  private interp: TspInterpreter;
  private now = 0;
  /** Instrument time within the line being executed: its start plus the busy time so far. */
  private t(): number {
    return this.now + this.busy;
  }
  private busy = 0;
  private out: string[] = [];

  constructor(dut: DeviceUnderTest) {
    const ch = (this.channel = new SmuChannel(dut, 50, { maxV: MAXV, maxI: MAXI }));
    const num = (v: TspValue, what: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TspError(-286, `TSP Runtime error at line 1: ${what}: number expected`);
      return v;
    };
    const ranged = (min: number, max: number) => (v: number) => {
      if (v < min || v > max) throw new TspError(-222, 'Parameter out of range');
      return v;
    };
    const attr = (path: string, get: () => TspValue, set?: (v: number) => void) => this.attrs.set(path, { get, set });
    for (const [k, v] of Object.entries({
      OUTPUT_DCVOLTS: 1, OUTPUT_DCAMPS: 0, OUTPUT_ON: 1, OUTPUT_OFF: 0, OUTPUT_HIGH_Z: 2, AUTORANGE_ON: 1, AUTORANGE_OFF: 0,
      SENSE_LOCAL: 0, SENSE_REMOTE: 1, ENABLE: 1, DISABLE: 0,
    }))
      this.consts.set(`smua.${k}`, v);
    this.consts.set('format.ASCII', 1);
    this.consts.set('format.REAL64', 2);
    // smua.source
    attr('smua.source.func', () => (ch.func === 'voltage' ? 1 : 0), (v) => (ch.advance(this.t()), (ch.func = ranged(0, 1)(v) === 1 ? 'voltage' : 'current')));
    attr('smua.source.levelv', () => ch.levelV, (v) => this.setLevel('voltage', ranged(-MAXV, MAXV)(v)));
    attr('smua.source.leveli', () => ch.levelI, (v) => this.setLevel('current', ranged(-MAXI, MAXI)(v)));
    attr('smua.source.limiti', () => ch.limitI, (v) => (ch.limitI = ranged(1e-11, MAXI)(v)));
    attr('smua.source.limitv', () => ch.limitV, (v) => (ch.limitV = ranged(0.02, MAXV)(v)));
    attr('smua.source.rangev', () => ch.sourceRangeV, (v) => ((ch.sourceRangeV = Math.abs(ranged(-MAXV, MAXV)(v))), (ch.sourceAutorange = false)));
    attr('smua.source.rangei', () => ch.sourceRangeI, (v) => ((ch.sourceRangeI = Math.abs(ranged(-MAXI, MAXI)(v))), (ch.sourceAutorange = false)));
    attr('smua.source.autorangev', () => (ch.sourceAutorange ? 1 : 0), (v) => (ch.sourceAutorange = ranged(0, 1)(v) === 1));
    attr('smua.source.autorangei', () => (ch.sourceAutorange ? 1 : 0), (v) => (ch.sourceAutorange = ranged(0, 1)(v) === 1));
    attr('smua.source.output', () => (ch.output ? 1 : 0), (v) => ch.setOutput(ranged(0, 2)(v) === 1, this.t()));
    attr('smua.source.delay', () => ch.sourceDelay, (v) => (ch.sourceDelay = v === -1 ? 0 : ranged(0, 1e4)(v)));
    attr('smua.source.compliance', () => ch.lastCompliance);
    // smua.measure
    attr('smua.measure.nplc', () => ch.nplc, (v) => (ch.nplc = ranged(0.001, 25)(v)));
    attr('smua.measure.rangei', () => ch.measureRangeI, (v) => ((ch.measureRangeI = ranged(0, MAXI)(v)), (ch.measureAutorange = false)));
    attr('smua.measure.rangev', () => ch.measureRangeV, (v) => ((ch.measureRangeV = ranged(0, MAXV)(v)), (ch.measureAutorange = false)));
    attr('smua.measure.autorangei', () => (ch.measureAutorange ? 1 : 0), (v) => (ch.measureAutorange = ranged(0, 2)(v) >= 1));
    attr('smua.measure.autorangev', () => (ch.measureAutorange ? 1 : 0), (v) => (ch.measureAutorange = ranged(0, 2)(v) >= 1));
    attr('smua.measure.delay', () => 0, (v) => void ranged(-1, 1e4)(v));
    attr('smua.sense', () => (ch.fourWire ? 1 : 0), (v) => (ch.fourWire = ranged(0, 3)(v) === 1));
    // smua.trigger
    attr('smua.trigger.count', () => this.trig.count, (v) => (this.trig.count = Math.round(ranged(0, 60000)(v))));
    attr('smua.trigger.source.action', () => this.trig.sourceAction, (v) => (this.trig.sourceAction = ranged(0, 2)(v)));
    attr('smua.trigger.measure.action', () => this.trig.measureAction, (v) => (this.trig.measureAction = ranged(0, 2)(v)));
    for (const b of Object.keys(this.buffers)) {
      const buf = () => this.buffers[b];
      attr(`smua.${b}`, () => ({ ref: `smua.${b}` }));
      attr(`smua.${b}.n`, () => buf().readings.length);
      attr(`smua.${b}.readings`, () => ({ ref: `smua.${b}.readings` }));
      attr(`smua.${b}.timestamps`, () => ({ ref: `smua.${b}.timestamps` }));
      attr(`smua.${b}.sourcevalues`, () => ({ ref: `smua.${b}.sourcevalues` }));
      attr(`smua.${b}.collecttimestamps`, () => buf().collecttimestamps, (v) => (buf().collecttimestamps = ranged(0, 1)(v)));
      attr(`smua.${b}.collectsourcevalues`, () => buf().collectsourcevalues, (v) => (buf().collectsourcevalues = ranged(0, 1)(v)));
      this.fns.set(`smua.${b}.clear`, () => ((this.buffers[b] = { ...newBuffer(), collecttimestamps: buf().collecttimestamps, collectsourcevalues: buf().collectsourcevalues }), []));
    }
    attr('errorqueue.count', () => this.errors.count);
    attr('format.data', () => 1, (v) => void ranged(1, 2)(v));
    attr('localnode.linefreq', () => ch.lineFreq);
    // functions
    const bufArg = (v: TspValue): string | null => {
      if (v === null || v === undefined) return null;
      if (typeof v === 'object' && !Array.isArray(v) && /^smua\.nvbuffer[12]$/.test(v.ref)) return v.ref.slice(5);
      throw new TspError(-286, 'TSP Runtime error at line 1: bad argument (reading buffer expected)');
    };
    const store = (b: string | null, value: number, t: number, src: number) => {
      if (!b) return;
      const buf = this.buffers[b];
      buf.readings.push(value);
      buf.timestamps.push(t - this.timerZero);
      buf.sourcevalues.push(src);
    };
    const measure = (kind: 'iv' | 'i' | 'v' | 'r' | 'p') => (args: TspValue[]) => {
      const m = ch.measure(this.t());
      this.busy += ch.measureTime();
      const src = ch.level();
      if (kind === 'iv') {
        store(bufArg(args[0] ?? null), m.i, m.t, src);
        store(bufArg(args[1] ?? null), m.v, m.t, src);
        return [m.i, m.v];
      }
      const value = kind === 'i' ? m.i : kind === 'v' ? m.v : kind === 'r' ? m.v / m.i : m.v * m.i;
      store(bufArg(args[0] ?? null), value, m.t, src);
      return [value];
    };
    for (const k of ['iv', 'i', 'v', 'r', 'p'] as const) this.fns.set(`smua.measure.${k}`, measure(k));
    const reset = () => {
      ch.resetState();
      this.trig = { count: 1, sourceAction: 0, measureAction: 0, list: [], listFunc: 'v', measure: { kind: 'iv', bufs: [] } };
      this.buffers = { nvbuffer1: newBuffer(), nvbuffer2: newBuffer() };
      this.pendingUntil = 0;
      return [];
    };
    this.fns.set('smua.reset', reset);
    this.fns.set('reset', reset);
    this.fns.set('errorqueue.clear', () => (this.errors.clear(), []));
    this.fns.set('errorqueue.next', () => {
      const e = this.errors.next();
      return e ? [e.code, e.message, 20, 1] : [0, 'Queue Is Empty', 0, 1];
    });
    this.fns.set('timer.reset', () => ((this.timerZero = this.t()), []));
    this.fns.set('timer.measure.t', () => [this.t() - this.timerZero]);
    this.fns.set('delay', (a) => ((this.busy += Math.max(0, num(a[0] ?? null, 'delay'))), []));
    this.fns.set('waitcomplete', () => ((this.busy += Math.max(0, this.pendingUntil - this.t())), []));
    this.fns.set('smua.abort', () => ((this.pendingUntil = this.t()), []));
    this.fns.set('print', (a) => (this.out.push(a.map(tspFormat).join('\t')), []));
    this.fns.set('printbuffer', (a) => {
      const start = num(a[0] ?? null, 'printbuffer start');
      const end = num(a[1] ?? null, 'printbuffer end');
      const cols = a.slice(2).map((r) => {
        const m = r && typeof r === 'object' && !Array.isArray(r) ? /^smua\.(nvbuffer[12])\.(readings|timestamps|sourcevalues)$/.exec(r.ref) : null;
        if (!m) throw new TspError(-286, 'TSP Runtime error at line 1: bad argument to printbuffer (buffer field expected)');
        return this.buffers[m[1]][m[2] as 'readings'];
      });
      const vals: string[] = [];
      for (let k = Math.max(1, start); k <= end; k++) for (const c of cols) if (k <= c.length) vals.push(tspFormat(c[k - 1]));
      this.out.push(vals.join(', '));
      return [];
    });
    const list = (f: 'v' | 'i') => (a: TspValue[]) => {
      const t = a[0];
      if (!Array.isArray(t) || !t.length) throw new TspError(-286, 'TSP Runtime error at line 1: bad argument (table expected)');
      const max = f === 'v' ? MAXV : MAXI;
      this.trig.list = t.map((x) => ranged(-max, max)(num(x, 'source list')));
      this.trig.listFunc = f;
      return [];
    };
    this.fns.set('smua.trigger.source.listv', list('v'));
    this.fns.set('smua.trigger.source.listi', list('i'));
    const linear = (f: 'v' | 'i') => (a: TspValue[]) => {
      const [s, e, n] = [num(a[0] ?? null, 'start'), num(a[1] ?? null, 'stop'), Math.round(num(a[2] ?? null, 'points'))];
      if (n < 2) throw new TspError(-222, 'Parameter out of range');
      return list(f)([Array.from({ length: n }, (_, k) => s + ((e - s) * k) / (n - 1))]);
    };
    this.fns.set('smua.trigger.source.linearv', linear('v'));
    this.fns.set('smua.trigger.source.lineari', linear('i'));
    for (const k of ['iv', 'i', 'v'] as const)
      this.fns.set(`smua.trigger.measure.${k}`, (a) => {
        this.trig.measure = { kind: k, bufs: a.map((b) => bufArg(b)).filter((b): b is string => b !== null) };
        return [];
      });
    this.fns.set('smua.trigger.initiate', () => {
      if (!ch.output) throw new TspError(-221, 'Settings conflict: output is off');
      const n = this.trig.count;
      const lst = this.trig.list;
      const useList = this.trig.sourceAction === 1 && lst.length > 0;
      if (useList && (this.trig.listFunc === 'v') !== (ch.func === 'voltage'))
        throw new TspError(-221, 'Settings conflict: source list does not match the source function');
      const levels = Array.from({ length: n }, (_, k) => (useList ? lst[k % lst.length] : ch.level()));
      const before = ch.level();
      const { readings, endS } = ch.sweep(levels, this.t(), POINT_OVERHEAD_S);
      if (useList) ch.setLevel(before, endS);
      if (this.trig.measureAction === 1) {
        const [b1, b2] = this.trig.measure.bufs;
        readings.forEach((m, k) => {
          const kind = this.trig.measure.kind;
          store(b1 ?? null, kind === 'v' ? m.v : m.i, m.t, levels[k]);
          if (kind === 'iv') store(b2 ?? null, m.v, m.t, levels[k]);
        });
      }
      this.lastSweep = { startS: this.t(), endS, points: n };
      this.pendingUntil = endS;
      return [];
    });
    const host: TspHost = {
      get: (path) => {
        const a = this.attrs.get(path);
        if (a) return a.get();
        const c = this.consts.get(path);
        if (c !== undefined) return c;
        const idx = /^smua\.(nvbuffer[12])\.(readings|timestamps|sourcevalues)\[(\d+)\]$/.exec(path);
        if (idx) return this.buffers[idx[1]][idx[2] as 'readings'][Number(idx[3]) - 1] ?? null;
        return this.globals.get(path);
      },
      set: (path, value) => {
        const a = this.attrs.get(path);
        if (a) {
          if (!a.set) throw new TspError(-286, `TSP Runtime error at line 1: attribute ${path} is read-only`);
          if (typeof value === 'boolean') value = value ? 1 : 0;
          a.set(num(value, path));
          return;
        }
        if (path.includes('.') || this.consts.has(path))
          throw new TspError(-286, `TSP Runtime error at line 1: attempt to set unknown attribute ${path}`);
        this.globals.set(path, value);
      },
      call: (path, args) => this.fns.get(path)?.(args),
    };
    this.interp = new TspInterpreter(host);
  }

  private setLevel(func: 'voltage' | 'current', v: number): void {
    if (this.channel.func === func) this.channel.setLevel(v, this.t());
    else if (func === 'voltage') this.channel.levelV = v;
    else this.channel.levelI = v;
  }

  execute(line: string, atS: number): ExecResult {
    if (this.log.length < 100_000) this.log.push({ t: atS, line });
    this.now = atS;
    this.busy = 0;
    this.out = [];
    const text = line.trim();
    if (text.startsWith('*')) return this.common(text.toUpperCase(), atS);
    try {
      this.interp.run(text);
    } catch (err) {
      const e = err instanceof TspError ? err : new TspError(-286, `TSP Runtime error at line 1: ${(err as Error).message}`);
      this.errors.push(e.code, e.message);
      this.status.noteError(e.code);
    }
    return { reply: this.out.length ? this.out.join('\n') : null, busyS: this.busy };
  }

  private common(h: string, atS: number): ExecResult {
    const r = (reply: string | null, busyS = 0): ExecResult => ({ reply, busyS });
    switch (h.split(/\s+/)[0]) {
      case '*IDN?':
        return r(this.idn);
      case '*RST':
        this.fns.get('reset')!([]);
        return r(null);
      case '*CLS':
        this.errors.clear();
        this.status.esr = 0;
        return r(null);
      case '*OPC?':
        return r('1', Math.max(0, this.pendingUntil - atS));
      case '*WAI':
        return r(null, Math.max(0, this.pendingUntil - atS));
      case '*ESR?':
        return r(String(this.status.readEsr()));
      case '*STB?':
        return r(String(this.status.stb()));
      case '*OPC':
        this.status.esr |= 1;
        return r(null);
      default:
        this.errors.push(-285, 'TSP Syntax error at line 1: unexpected symbol near \'*\'');
        this.status.noteError(-285);
        return r(null);
    }
  }
}

export function createVirtual2600B(dut: DeviceUnderTest): Virtual2600B {
  return new Virtual2600B(dut);
}
