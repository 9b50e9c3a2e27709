/**
 * Virtual Keithley 2602B speaking TSP, after the Series 2600B Reference Manual (2600BS-901-01): what a
 * client sends runs in a real Lua (lua.ts), with two channels `smua` and `smub` (source, measure with count,
 * filter and delay, trigger model with list/linear/log sweeps and end-of-sweep action, nvbuffer1/2),
 * `display`, `beeper`, `errorqueue`, `timer`, `format`, `localnode`, print/printbuffer, delay,
 * waitcomplete, scripts (`loadscript` … `endscript`), the factory sweep functions (SweepVLinMeasureI ...),
 * and the IEEE-488.2 common commands the 2600B also accepts. Errors go to the queue with the instrument's
 * numbers (-285 syntax, -286 run time, -222 value out of range, -221 settings conflict). smua drives the
 * device under test; smub drives its own load (1 MΩ unless given). Coverage: docs/smu/keithley-2600b.md.
 */
import { ErrorQueue, Status, type CommandLogEntry, type ExecResult, SmuChannel, type VirtualInstrument } from './core.ts';
import { Resistor, type DeviceUnderTest } from './dut.ts';
import { TspLua, type TspKind } from './lua.ts';
import { tspFormat, type TspValue } from './tsp.ts';
import { instrumentError, queueCode } from '../../transport/errors.ts';

const MAXV = 202;
const MAXI = 3.03;
const POINT_OVERHEAD_S = 5e-5;
const CHANNELS = ['smua', 'smub'] as const;
type ChannelName = (typeof CHANNELS)[number];

interface NvBuffer {
  readings: number[];
  timestamps: number[];
  sourcevalues: number[];
  collecttimestamps: number;
  collectsourcevalues: number;
  appendmode: number;
}
const newBuffer = (): NvBuffer => ({ readings: [], timestamps: [], sourcevalues: [], collecttimestamps: 0, collectsourcevalues: 0, appendmode: 0 });

/** Per-channel settings beyond the source/measure channel itself. */
interface ChannelState {
  trig: { count: number; sourceAction: number; measureAction: number; endSweep: number; list: number[]; listFunc: 'v' | 'i'; measure: { kind: 'iv' | 'i' | 'v'; bufs: string[] } };
  measureCount: number;
  measureDelay: number;
  filter: { enable: number; count: number; type: number };
  highC: number;
  offMode: number;
}
const newChannelState = (): ChannelState => ({
  trig: { count: 1, sourceAction: 0, measureAction: 0, endSweep: 0, list: [], listFunc: 'v', measure: { kind: 'iv', bufs: [] } },
  measureCount: 1,
  measureDelay: 0,
  filter: { enable: 0, count: 1, type: 1 },
  highC: 0,
  offMode: 0,
});

/** Constants on each channel object (manual, "smuX" attribute values). */
const CHANNEL_CONSTANTS: Record<string, number> = {
  OUTPUT_DCVOLTS: 1, OUTPUT_DCAMPS: 0, OUTPUT_ON: 1, OUTPUT_OFF: 0, OUTPUT_HIGH_Z: 2, AUTORANGE_ON: 1, AUTORANGE_OFF: 0,
  AUTORANGE_FOLLOW_LIMIT: 2, SENSE_LOCAL: 0, SENSE_REMOTE: 1, SENSE_CALA: 3, ENABLE: 1, DISABLE: 0, DELAY_OFF: 0, DELAY_AUTO: -1,
  FILTER_MOVING_AVG: 0, FILTER_REPEAT_AVG: 1, FILTER_MEDIAN: 2, SOURCE_IDLE: 0, SOURCE_HOLD: 1, AUTOZERO_OFF: 0, AUTOZERO_ONCE: 1,
  AUTOZERO_AUTO: 2, OUTPUT_NORMAL: 0, OUTPUT_ZERO: 2,
};

/**
 * The factory sweep scripts (manual, "KISweep factory script"): each sets up the trigger model for a
 * staircase or list sweep with `stime` settling per point, stores readings (and source values) in nvbuffer1,
 * and leaves the output off, as the instrument's own functions of the same names do.
 */
const FACTORY_SCRIPTS = `
local function sweep(smu, vsrc, stime, points, setlist)
  smu.source.func = vsrc and smu.OUTPUT_DCVOLTS or smu.OUTPUT_DCAMPS
  smu.measure.delay = stime
  smu.nvbuffer1.clear()
  smu.nvbuffer1.collectsourcevalues = 1
  smu.nvbuffer1.collecttimestamps = 1
  setlist()
  if vsrc then smu.trigger.measure.i(smu.nvbuffer1) else smu.trigger.measure.v(smu.nvbuffer1) end
  smu.trigger.source.action = smu.ENABLE
  smu.trigger.measure.action = smu.ENABLE
  smu.trigger.count = points
  smu.source.output = smu.OUTPUT_ON
  smu.trigger.initiate()
  waitcomplete()
  smu.source.output = smu.OUTPUT_OFF
end
function SweepVLinMeasureI(smu, startv, stopv, stime, points)
  sweep(smu, true, stime, points, function() smu.trigger.source.linearv(startv, stopv, points) end)
end
function SweepILinMeasureV(smu, starti, stopi, stime, points)
  sweep(smu, false, stime, points, function() smu.trigger.source.lineari(starti, stopi, points) end)
end
function SweepVLogMeasureI(smu, startv, stopv, stime, points)
  sweep(smu, true, stime, points, function() smu.trigger.source.logv(startv, stopv, points, 0) end)
end
function SweepILogMeasureV(smu, starti, stopi, stime, points)
  sweep(smu, false, stime, points, function() smu.trigger.source.logi(starti, stopi, points, 0) end)
end
function SweepVListMeasureI(smu, vlist, stime, points)
  sweep(smu, true, stime, points, function() smu.trigger.source.listv(vlist) end)
end
function SweepIListMeasureV(smu, ilist, stime, points)
  sweep(smu, false, stime, points, function() smu.trigger.source.listi(ilist) end)
end
`;

export class Virtual2600B implements VirtualInstrument {
  readonly model = 'Keithley 2602B';
  readonly idn = 'Keithley Instruments Inc., Model 2602B, 4000001, 3.3.5';
  readonly log: CommandLogEntry[] = [];
  /** smua: the channel wired to the device under test. */
  readonly channel: SmuChannel;
  readonly channels: Record<ChannelName, SmuChannel>;
  readonly errors = new ErrorQueue(100);
  readonly status = new Status(this.errors);
  pendingUntil = 0;
  /** The last trigger-model sweep, as the instrument timed it. */
  lastSweep: { startS: number; endS: number; points: number } | null = null;
  private timerZero = 0;
  private buffers: Record<string, NvBuffer> = {};
  private chState: Record<ChannelName, ChannelState> = { smua: newChannelState(), smub: newChannelState() };
  private display = { text: '', screen: 0 };
  private beeperEnable = 1;
  private attrs = new Map<string, { get: () => TspValue; set?: (v: number) => void }>();
  private fns = new Map<string, (args: TspValue[]) => TspValue[]>();
  /** Every dotted prefix of an attribute or function: the objects Lua code can index into. */
  private nodes = new Set<string>();
  private lua: TspLua;
  private now = 0;
  private busy = 0;
  private out: string[] = [];
  /** Lines of a script being received between `loadscript` and `endscript`. */
  private script: { name: string; run: boolean; lines: string[] } | null = null;

  /** Instrument time within the line being executed: its start plus the busy time so far. */
  private t(): number {
    return this.now + this.busy;
  }

  constructor(dut: DeviceUnderTest, dutB: DeviceUnderTest = new Resistor(1e6)) {
    this.channels = {
      smua: new SmuChannel(dut, 50, { maxV: MAXV, maxI: MAXI }),
      smub: new SmuChannel(dutB, 50, { maxV: MAXV, maxI: MAXI }),
    };
    this.channel = this.channels.smua;
    for (const name of CHANNELS) this.registerChannel(name);
    this.registerSystem();
    for (const path of [...this.attrs.keys(), ...this.fns.keys()]) {
      const parts = path.split('.');
      for (let k = 1; k < parts.length; k++) this.nodes.add(parts.slice(0, k).join('.'));
    }
    const tops = [...this.nodes].filter((n) => !n.includes('.'));
    const topFns = [...this.fns.keys()].filter((n) => !n.includes('.'));
    this.lua = new TspLua(
      {
        kind: (path) => this.kind(path),
        get: (path) => this.get(path),
        set: (path, value) => this.set(path, value),
        call: (path, args) => this.fns.get(path)?.(args),
      },
      tops,
      topFns,
      FACTORY_SCRIPTS,
    );
  }

  private attr(path: string, get: () => TspValue, set?: (v: number) => void): void {
    this.attrs.set(path, { get, set });
  }

  private kind(path: string): TspKind | undefined {
    if (this.attrs.has(path) || /^smu[ab]\.nvbuffer[12]\.(readings|timestamps|sourcevalues)\[\d+\]$/.test(path)) return 'attr';
    if (this.fns.has(path)) return 'func';
    if (this.nodes.has(path)) return 'node';
    const c = /^(smu[ab])\.([A-Z_0-9]+)$/.exec(path);
    if (c && c[2] in CHANNEL_CONSTANTS) return 'attr';
    return undefined;
  }

  private get(path: string): TspValue | undefined {
    const a = this.attrs.get(path);
    if (a) return a.get();
    const c = /^(smu[ab])\.([A-Z_0-9]+)$/.exec(path);
    if (c && c[2] in CHANNEL_CONSTANTS) return CHANNEL_CONSTANTS[c[2]];
    const idx = /^(smu[ab]\.nvbuffer[12])\.(readings|timestamps|sourcevalues)\[(\d+)\]$/.exec(path);
    if (idx) return this.buffers[idx[1]][idx[2] as 'readings'][Number(idx[3]) - 1] ?? null;
    // `#smua.nvbuffer1` and `#smua.nvbuffer1.readings`: the number of readings
    const len = /^(smu[ab]\.nvbuffer[12])(\.readings|\.timestamps|\.sourcevalues)?#$/.exec(path);
    if (len) return this.buffers[len[1]].readings.length;
    return undefined;
  }

  private set(path: string, value: TspValue): void {
    const a = this.attrs.get(path);
    if (!a) throw instrumentError(-286, `TSP Runtime error at line 1: attempt to set unknown attribute ${path}`);
    if (!a.set) throw instrumentError(-286, `TSP Runtime error at line 1: attribute ${path} is read-only`);
    if (typeof value === 'boolean') value = value ? 1 : 0;
    a.set(num(value, path));
  }

  private registerChannel(name: ChannelName): void {
    const ch = this.channels[name];
    const st = () => this.chState[name];
    const attr = (p: string, get: () => TspValue, set?: (v: number) => void) => this.attr(`${name}.${p}`, get, set);
    const fn = (p: string, f: (args: TspValue[]) => TspValue[]) => this.fns.set(`${name}.${p}`, f);
    const setLevel = (func: 'voltage' | 'current', v: number) => ch.program(func, v, this.t());
    // source
    attr('source.func', () => (ch.func === 'voltage' ? 1 : 0), (v) => (ch.advance(this.t()), (ch.func = ranged(0, 1)(v) === 1 ? 'voltage' : 'current')));
    attr('source.levelv', () => ch.levelV, (v) => setLevel('voltage', ranged(-MAXV, MAXV)(v)));
    attr('source.leveli', () => ch.levelI, (v) => setLevel('current', ranged(-MAXI, MAXI)(v)));
    attr('source.limiti', () => ch.limitI, (v) => (ch.limitI = ranged(1e-11, MAXI)(v)));
    attr('source.limitv', () => ch.limitV, (v) => (ch.limitV = ranged(0.02, MAXV)(v)));
    attr('source.rangev', () => ch.sourceRangeV, (v) => ((ch.sourceRangeV = Math.abs(ranged(-MAXV, MAXV)(v))), (ch.sourceAutorange = false)));
    attr('source.rangei', () => ch.sourceRangeI, (v) => ((ch.sourceRangeI = Math.abs(ranged(-MAXI, MAXI)(v))), (ch.sourceAutorange = false)));
    attr('source.autorangev', () => (ch.sourceAutorange ? 1 : 0), (v) => (ch.sourceAutorange = ranged(0, 1)(v) === 1));
    attr('source.autorangei', () => (ch.sourceAutorange ? 1 : 0), (v) => (ch.sourceAutorange = ranged(0, 1)(v) === 1));
    attr('source.output', () => (ch.output ? 1 : 0), (v) => ch.setOutput(ranged(0, 2)(v) === 1, this.t()));
    attr('source.delay', () => ch.sourceDelay, (v) => (ch.sourceDelay = v === -1 ? 0 : ranged(0, 1e4)(v)));
    attr('source.compliance', () => ch.lastCompliance);
    attr('source.highc', () => st().highC, (v) => (st().highC = ranged(0, 1)(v)));
    attr('source.offmode', () => st().offMode, (v) => (st().offMode = ranged(0, 2)(v)));
    // measure
    attr('measure.nplc', () => ch.nplc, (v) => (ch.nplc = ranged(0.001, 25)(v)));
    attr('measure.rangei', () => ch.measureRangeI, (v) => ((ch.measureRangeI = ranged(0, MAXI)(v)), (ch.measureAutorange = false)));
    attr('measure.rangev', () => ch.measureRangeV, (v) => ((ch.measureRangeV = ranged(0, MAXV)(v)), (ch.measureAutorange = false)));
    attr('measure.autorangei', () => (ch.measureAutorange ? 1 : 0), (v) => (ch.measureAutorange = ranged(0, 2)(v) >= 1));
    attr('measure.autorangev', () => (ch.measureAutorange ? 1 : 0), (v) => (ch.measureAutorange = ranged(0, 2)(v) >= 1));
    attr('measure.autozero', () => 2, (v) => void ranged(0, 2)(v));
    attr('measure.count', () => st().measureCount, (v) => (st().measureCount = Math.round(ranged(1, 60000)(v))));
    // DELAY_AUTO (-1) is modelled as no extra delay; a positive value waits before each measurement.
    attr('measure.delay', () => st().measureDelay, (v) => (st().measureDelay = v === -1 ? -1 : ranged(0, 1e4)(v)));
    const applyFilter = () => (ch.filterCount = st().filter.enable && st().filter.type === 1 ? st().filter.count : 1);
    attr('measure.filter.enable', () => st().filter.enable, (v) => ((st().filter.enable = ranged(0, 1)(v)), applyFilter()));
    attr('measure.filter.count', () => st().filter.count, (v) => ((st().filter.count = Math.round(ranged(1, 100)(v))), applyFilter()));
    attr('measure.filter.type', () => st().filter.type, (v) => ((st().filter.type = ranged(0, 2)(v)), applyFilter()));
    attr('sense', () => (ch.fourWire ? 1 : 0), (v) => (ch.fourWire = ranged(0, 3)(v) === 1));
    // trigger model
    attr('trigger.count', () => st().trig.count, (v) => (st().trig.count = Math.round(ranged(0, 60000)(v))));
    attr('trigger.source.action', () => st().trig.sourceAction, (v) => (st().trig.sourceAction = ranged(0, 2)(v)));
    attr('trigger.measure.action', () => st().trig.measureAction, (v) => (st().trig.measureAction = ranged(0, 2)(v)));
    attr('trigger.endsweep.action', () => st().trig.endSweep, (v) => (st().trig.endSweep = ranged(0, 1)(v)));
    attr('trigger.endpulse.action', () => 1, (v) => void ranged(0, 1)(v));
    attr('trigger.arm.count', () => 1, (v) => void ranged(0, 60000)(v));
    attr('trigger.source.limitv', () => ch.limitV, (v) => (ch.limitV = ranged(0.02, MAXV)(v)));
    attr('trigger.source.limiti', () => ch.limitI, (v) => (ch.limitI = ranged(1e-11, MAXI)(v)));
    // buffers
    for (const b of ['nvbuffer1', 'nvbuffer2']) {
      const key = `${name}.${b}`;
      this.buffers[key] = newBuffer();
      const buf = () => this.buffers[key];
      attr(`${b}.n`, () => buf().readings.length);
      attr(`${b}.collecttimestamps`, () => buf().collecttimestamps, (v) => (buf().collecttimestamps = ranged(0, 1)(v)));
      attr(`${b}.collectsourcevalues`, () => buf().collectsourcevalues, (v) => (buf().collectsourcevalues = ranged(0, 1)(v)));
      attr(`${b}.appendmode`, () => buf().appendmode, (v) => (buf().appendmode = ranged(0, 1)(v)));
      for (const f of ['readings', 'timestamps', 'sourcevalues']) this.nodes.add(`${key}.${f}`);
      fn(`${b}.clear`, () => ((this.buffers[key] = { ...newBuffer(), collecttimestamps: buf().collecttimestamps, collectsourcevalues: buf().collectsourcevalues, appendmode: buf().appendmode }), []));
    }
    const bufArg = (v: TspValue | undefined): string | null => {
      if (v === null || v === undefined) return null;
      if (typeof v === 'object' && !Array.isArray(v) && /^smu[ab]\.nvbuffer[12]$/.test(v.ref)) return v.ref;
      throw instrumentError(-286, 'TSP Runtime error at line 1: bad argument (reading buffer expected)');
    };
    const store = (b: string | null, value: number, t: number, src: number) => {
      if (!b) return;
      const buf = this.buffers[b];
      buf.readings.push(value);
      buf.timestamps.push(t - this.timerZero);
      buf.sourcevalues.push(src);
    };
    const delayBefore = () => Math.max(0, st().measureDelay);
    const measure = (kind: 'iv' | 'i' | 'v' | 'r' | 'p') => (args: TspValue[]) => {
      let last: number[] = [];
      for (let k = 0; k < st().measureCount; k++) {
        this.busy += delayBefore();
        const m = ch.measure(this.t());
        this.busy += ch.measureTime();
        const src = ch.level();
        if (kind === 'iv') {
          store(bufArg(args[0]), m.i, m.t, src);
          store(bufArg(args[1]), m.v, m.t, src);
          last = [m.i, m.v];
        } else {
          const value = kind === 'i' ? m.i : kind === 'v' ? m.v : kind === 'r' ? m.v / m.i : m.v * m.i;
          store(bufArg(args[0]), value, m.t, src);
          last = [value];
        }
      }
      return last;
    };
    for (const k of ['iv', 'i', 'v', 'r', 'p'] as const) fn(`measure.${k}`, measure(k));
    fn('reset', () => this.resetChannel(name));
    fn('abort', () => ((this.pendingUntil = this.t()), []));
    const list = (f: 'v' | 'i') => (a: TspValue[]) => {
      const t = a[0];
      if (!Array.isArray(t) || !t.length) throw instrumentError(-286, 'TSP Runtime error at line 1: bad argument (table expected)');
      const max = f === 'v' ? MAXV : MAXI;
      st().trig.list = t.map((x) => ranged(-max, max)(num(x, 'source list')));
      st().trig.listFunc = f;
      return [];
    };
    fn('trigger.source.listv', list('v'));
    fn('trigger.source.listi', list('i'));
    const staircase = (f: 'v' | 'i', log: boolean) => (a: TspValue[]) => {
      const [s, e, n] = [num(a[0] ?? null, 'start'), num(a[1] ?? null, 'stop'), Math.round(num(a[2] ?? null, 'points'))];
      if (n < 2) throw instrumentError(-222, 'Parameter out of range');
      if (log && (s <= 0 || e <= 0)) throw instrumentError(-222, 'Parameter out of range');
      const at = (k: number) => (log ? s * (e / s) ** (k / (n - 1)) : s + ((e - s) * k) / (n - 1));
      return list(f)([Array.from({ length: n }, (_, k) => Number(at(k).toPrecision(12)))]);
    };
    fn('trigger.source.linearv', staircase('v', false));
    fn('trigger.source.lineari', staircase('i', false));
    fn('trigger.source.logv', staircase('v', true));
    fn('trigger.source.logi', staircase('i', true));
    for (const k of ['iv', 'i', 'v'] as const)
      fn(`trigger.measure.${k}`, (a) => {
        st().trig.measure = { kind: k, bufs: a.map((b) => bufArg(b)).filter((b): b is string => b !== null) };
        return [];
      });
    fn('trigger.initiate', () => {
      const tr = st().trig;
      if (!ch.output) throw instrumentError(-221, 'Settings conflict: output is off');
      const useList = tr.sourceAction === 1 && tr.list.length > 0;
      if (useList && (tr.listFunc === 'v') !== (ch.func === 'voltage'))
        throw instrumentError(-221, 'Settings conflict: source list does not match the source function');
      const levels = Array.from({ length: tr.count }, (_, k) => (useList ? tr.list[k % tr.list.length] : ch.level()));
      const before = ch.level();
      const start = this.t();
      // per point: source, source delay, measure delay, integration (× repeat filter), trigger-model overhead
      const saved = ch.sourceDelay;
      ch.sourceDelay = saved + delayBefore();
      const { readings, endS } = ch.sweep(levels, start, POINT_OVERHEAD_S);
      ch.sourceDelay = saved;
      if (useList && tr.endSweep === 0) ch.setLevel(before, endS); // SOURCE_IDLE: back to the idle level
      if (tr.measureAction === 1) {
        const [b1, b2] = tr.measure.bufs;
        readings.forEach((m, k) => {
          store(b1 ?? null, tr.measure.kind === 'v' ? m.v : m.i, m.t, levels[k]);
          if (tr.measure.kind === 'iv') store(b2 ?? null, m.v, m.t, levels[k]);
        });
      }
      this.lastSweep = { startS: start, endS, points: tr.count };
      this.pendingUntil = Math.max(this.pendingUntil, endS);
      return [];
    });
  }

  private resetChannel(name: ChannelName): TspValue[] {
    const ch = this.channels[name];
    ch.setOutput(false, this.t());
    ch.resetState();
    this.chState[name] = newChannelState();
    for (const b of ['nvbuffer1', 'nvbuffer2']) this.buffers[`${name}.${b}`] = newBuffer();
    return [];
  }

  private registerSystem(): void {
    this.attr('errorqueue.count', () => this.errors.count);
    this.attr('format.data', () => 1, (v) => void ranged(1, 1)(v)); // ASCII only: REAL32/64 not emulated
    this.attr('format.asciiprecision', () => 6, (v) => void ranged(1, 16)(v));
    this.attr('format.ASCII', () => 1);
    this.attr('format.REAL64', () => 2);
    this.attr('format.REAL32', () => 4);
    this.attr('localnode.linefreq', () => this.channel.lineFreq);
    this.attr('localnode.model', () => '2602B');
    this.attr('localnode.prompts', () => 0, (v) => void ranged(0, 1)(v));
    this.attr('localnode.showerrors', () => 0, (v) => void ranged(0, 1)(v));
    this.attr('display.screen', () => this.display.screen, (v) => (this.display.screen = ranged(0, 3)(v)));
    for (const [k, v] of Object.entries({ SMUA: 0, SMUB: 1, SMUA_SMUB: 2, USER: 3, MEASURE_DCAMPS: 0, MEASURE_DCVOLTS: 1, MEASURE_OHMS: 2, MEASURE_WATTS: 3 }))
      this.attr(`display.${k}`, () => v);
    for (const n of CHANNELS) this.attr(`display.${n}.measure.func`, () => 0, (v) => void ranged(0, 3)(v));
    this.fns.set('display.clear', () => ((this.display.text = ''), []));
    this.fns.set('display.setcursor', (a) => (num(a[0] ?? null, 'row'), num(a[1] ?? null, 'column'), []));
    this.fns.set('display.settext', (a) => ((this.display.text = String(a[0] ?? '')), []));
    this.fns.set('display.gettext', () => [this.display.text]);
    this.attr('beeper.enable', () => this.beeperEnable, (v) => (this.beeperEnable = ranged(0, 1)(v)));
    this.attr('beeper.ON', () => 1);
    this.attr('beeper.OFF', () => 0);
    this.fns.set('beeper.beep', (a) => {
      const d = num(a[0] ?? null, 'duration');
      num(a[1] ?? null, 'frequency');
      if (d < 0 || d > 100) throw instrumentError(-222, 'Parameter out of range');
      return [];
    });
    this.fns.set('reset', () => {
      for (const n of CHANNELS) this.resetChannel(n);
      this.pendingUntil = 0;
      return [];
    });
    this.fns.set('errorqueue.clear', () => (this.errors.clear(), []));
    this.fns.set('errorqueue.next', () => {
      const e = this.errors.next();
      return e ? [e.code, e.message, 20, 1] : [0, 'Queue Is Empty', 0, 1];
    });
    this.fns.set('timer.reset', () => ((this.timerZero = this.t()), []));
    this.fns.set('timer.measure.t', () => [this.t() - this.timerZero]);
    this.fns.set('delay', (a) => ((this.busy += Math.max(0, num(a[0] ?? null, 'delay'))), []));
    this.fns.set('waitcomplete', () => ((this.busy += Math.max(0, this.pendingUntil - this.t())), []));
    this.fns.set('print', (a) => (this.out.push(a.map(tspFormat).join('\t')), []));
    this.fns.set('printbuffer', (a) => {
      const start = num(a[0] ?? null, 'printbuffer start');
      const end = num(a[1] ?? null, 'printbuffer end');
      const cols = a.slice(2).map((r) => {
        const m = r && typeof r === 'object' && !Array.isArray(r) ? /^(smu[ab]\.nvbuffer[12])(?:\.(readings|timestamps|sourcevalues))?$/.exec(r.ref) : null;
        if (!m) throw instrumentError(-286, 'TSP Runtime error at line 1: bad argument to printbuffer (buffer field expected)');
        return this.buffers[m[1]][(m[2] ?? 'readings') as 'readings'];
      });
      const vals: string[] = [];
      for (let k = Math.max(1, start); k <= end; k++) for (const c of cols) if (k <= c.length) vals.push(tspFormat(c[k - 1]));
      this.out.push(vals.join(', '));
      return [];
    });
  }

  execute(line: string, atS: number): ExecResult {
    if (this.log.length < 100_000) this.log.push({ t: atS, line });
    this.now = atS;
    this.busy = 0;
    this.out = [];
    const text = line.trim();
    if (this.script) return this.scriptLine(text);
    const ls = /^(loadscript|loadandrunscript)(?:\s+([A-Za-z_][A-Za-z0-9_]*))?\s*$/.exec(text);
    if (ls) {
      this.script = { name: ls[2] ?? '', run: ls[1] === 'loadandrunscript', lines: [] };
      return { reply: null, busyS: 0 };
    }
    if (text.startsWith('*')) return this.common(text.toUpperCase(), atS);
    this.runChunk(text);
    return { reply: this.out.length ? this.out.join('\n') : null, busyS: this.busy };
  }

  /** Inside `loadscript name` … `endscript`: collect; at the end define `name` (a function with .run) and/or run it. */
  private scriptLine(text: string): ExecResult {
    const s = this.script!;
    if (text !== 'endscript') {
      s.lines.push(text);
      return { reply: null, busyS: 0 };
    }
    this.script = null;
    const body = s.lines.join('\n');
    if (s.name) {
      // A named script is a global whose run() executes it, as on the instrument (name() also works).
      const fnBody = `local chunk = assert(load(${JSON.stringify(body)}, "=${s.name}"))\n${s.name} = setmetatable({ run = function() return chunk() end, source = ${JSON.stringify(body)} }, { __call = function() return chunk() end })`;
      this.runChunk(fnBody);
      if (s.run && this.errors.count === 0) this.runChunk(`${s.name}.run()`);
    } else if (s.run) this.runChunk(body);
    return { reply: this.out.length ? this.out.join('\n') : null, busyS: this.busy };
  }

  private runChunk(text: string): void {
    try {
      this.lua.run(text);
    } catch (err) {
      const code = queueCode(err) ?? -286;
      const message = queueCode(err) !== undefined ? (err as Error).message : `TSP Runtime error at line 1: ${(err as Error).message}`;
      this.errors.push(code, message);
      this.status.noteError(code);
    }
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
        this.errors.push(-285, "TSP Syntax error at line 1: unexpected symbol near '*'");
        this.status.noteError(-285);
        return r(null);
    }
  }
}

function num(v: TspValue, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw instrumentError(-286, `TSP Runtime error at line 1: ${what}: number expected`);
  return v;
}

function ranged(min: number, max: number) {
  return (v: number) => {
    if (v < min || v > max) throw instrumentError(-222, 'Parameter out of range');
    return v;
  };
}

export function createVirtual2600B(dut: DeviceUnderTest): Virtual2600B {
  return new Virtual2600B(dut);
}
