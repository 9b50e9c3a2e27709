/**
 * Virtual Keithley 2400 SourceMeter, after the 2400 Series User's Manual (2400S-900-01 Rev. K),
 * section 18 "SCPI command reference": source and sense subsystems with resistance and the averaging
 * filter, fixed / LIST / linear and log SWEep sourcing, the trigger model (ARM and TRIGger layers, :INIT,
 * :FETC?, :READ?, *TRG), the trace buffer and its CALC3 statistics, the status subsystem (measurement
 * event register, *SRE/*ESE/*STB?), and real error numbers (+803 "Output disabled" when reading with the
 * output off, -214 "Trigger deadlock" for a query that needs a trigger that cannot come). 60 Hz line,
 * 10-entry error queue. Every command emulated is listed in docs/smu/keithley-2400.md.
 */
import { SmuChannel, sweepLevels, type Measurement } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { b01, boolArg, choiceArg, numArg, ScpiInstrument, sci, sourceLevelNodes, type ScpiCall, type ScpiNode } from './scpi.ts';
import { instrumentError } from '../../transport/errors.ts';

const MAXV = 210;
const MAXI = 1.05;
/** Trigger-model overhead per point on top of delays and integration (s). */
const POINT_OVERHEAD_S = 2e-4;
/** The 2400's "not a number" reading (+9.91e37), e.g. resistance when the ohms function is off. */
const NAN_READING = 9.91e37;
/** Measurement event register bits (manual, figure 15-6). */
const MEAS = { readingAvailable: 64, bufferAvailable: 256, bufferFull: 512, compliance: 16384 } as const;
/** Most readings the trigger model takes per :INIT (arm count × trigger count). */
const MAX_READINGS = 2500;

type Mode = 'FIX' | 'LIST' | 'SWE';
type Element = 'VOLT' | 'CURR' | 'RES' | 'TIME' | 'STAT';
const ELEMENTS: Element[] = ['VOLT', 'CURR', 'RES', 'TIME', 'STAT'];

/** One reading as the instrument keeps it: the measurement plus whether ohms were on. */
interface Reading extends Measurement {
  res: number;
}

/** Per source function: the sourcing mode, its list and its sweep. */
interface SourceProgram {
  mode: Mode;
  list: number[];
  start: number;
  stop: number;
}

export function createVirtual2400(dut: DeviceUnderTest): ScpiInstrument {
  const ch = new SmuChannel(dut, 60, { maxV: MAXV, maxI: MAXI });
  const fresh = () => ({
    prog: { voltage: { mode: 'FIX', list: [], start: 0, stop: 0 }, current: { mode: 'FIX', list: [], start: 0, stop: 0 } } as Record<'voltage' | 'current', SourceProgram>,
    sweep: { points: 2500, spacing: 'LIN' as 'LIN' | 'LOG', direction: 'UP' as 'UP' | 'DOWN', ranging: 'BEST', abort: 'NEV' },
    arm: { source: 'IMM', count: 1, timer: 0.1, direction: 'ACC', inputLine: 1, outputLine: 2, output: 'NONE' },
    trig: { source: 'IMM', count: 1, delay: 0, direction: 'ACC', inputLine: 1, outputLine: 2, output: 'NONE', input: 'SOUR' },
    senseFuncs: new Set<string>(['VOLT', 'CURR']),
    concurrent: true,
    res: { mode: 'MAN', range: 2.1e5, auto: true, ocomp: false },
    filter: { on: false, type: 'REP', count: 10 },
    elements: ['VOLT', 'CURR', 'RES', 'TIME', 'STAT'] as Element[],
    autoZero: true,
    display: true,
    terminals: 'FRON',
    offState: 'NORM',
    autoClear: false,
    sourceDelayAuto: true,
    beeper: true,
    calc3: 'MEAN',
  });
  let st = fresh();
  /** Not reset by *RST (the manual: the buffer survives a reset; :TRAC:CLE empties it). */
  const trace = { points: 100, feed: 'SENS', control: 'NEV', data: [] as Reading[], tstamp: 'ABS' };
  const status = { measEvent: 0, measEnable: 0, operEnable: 0, quesEnable: 0, measCondition: 0 };
  /** Events the running sweep will raise, with their instrument times; latched as time passes them. */
  let timedEvents: { at: number; bits: number }[] = [];
  /** Readings of the last :INIT, for :FETC?. */
  let last: Reading[] = [];
  /** Armed and waiting for a trigger that only *TRG (BUS) or nothing in this bench (TLIN, MAN ...) gives. */
  let waiting: 'bus' | 'never' | null = null;
  let timeZero = 0;

  const reset = () => {
    st = fresh();
    ch.filterCount = 1;
    last = [];
    waiting = null;
    timedEvents = [];
  };

  const latch = (at: number) => {
    if (!timedEvents.length || timedEvents[0].at > at) return;
    const due = timedEvents.filter((e) => e.at <= at);
    timedEvents = timedEvents.filter((e) => e.at > at);
    for (const e of due) {
      status.measEvent |= e.bits;
      status.measCondition = e.bits & MEAS.bufferFull ? MEAS.bufferFull : status.measCondition;
    }
  };

  const applyFilter = () => (ch.filterCount = st.filter.on && st.filter.type === 'REP' ? st.filter.count : 1);

  /** The levels the source steps through for the configured function (one per trigger). */
  const levels = (count: number): number[] => {
    const p = st.prog[ch.func];
    if (p.mode === 'FIX') return Array.from({ length: count }, () => ch.level());
    let seq: number[];
    if (p.mode === 'LIST') {
      if (!p.list.length) throw instrumentError(-221, 'Settings conflict');
      seq = p.list;
    } else {
      seq = sweepLevels(
        { start: p.start, stop: p.stop, points: st.sweep.points, spacing: st.sweep.spacing, down: st.sweep.direction === 'DOWN' },
        () => instrumentError(-221, 'Settings conflict'),
      );
    }
    // More triggers than points repeat the sweep (manual 10-4, "Sweep and list program").
    return Array.from({ length: count }, (_, k) => seq[k % seq.length]);
  };

  /** Runs the trigger model from `at`: arm count × trigger count readings into `last` and the trace. */
  const runTriggerModel = (at: number): number => {
    const total = st.arm.count * st.trig.count;
    if (total > MAX_READINGS) throw instrumentError(-221, 'Settings conflict');
    const autoOn = !ch.output && st.autoClear;
    if (!ch.output && !autoOn) throw instrumentError(803, 'Output disabled');
    const lv = levels(total);
    const fixed = st.prog[ch.func].mode === 'FIX';
    const before = ch.level();
    if (autoOn) ch.setOutput(true, at);
    const out: Reading[] = [];
    let t = at;
    const measRes = st.senseFuncs.has('RES');
    for (let a = 0; a < st.arm.count; a++) {
      if (st.arm.source === 'TIM') t = Math.max(t, at + a * st.arm.timer);
      for (let k = 0; k < st.trig.count; k++) {
        t += st.trig.delay;
        ch.setLevel(lv[a * st.trig.count + k], t);
        t += ch.sourceDelay;
        const m = ch.measure(t);
        t += ch.measureTime() + (fixed ? 0 : POINT_OVERHEAD_S);
        out.push({ ...m, res: measRes && m.i !== 0 ? m.v / m.i : NAN_READING });
      }
    }
    if (!fixed) ch.setLevel(before, t); // back to the bias level after a sweep
    if (autoOn) ch.setOutput(false, t);
    last = out;
    timedEvents = [];
    out.forEach((r) => {
      let bits = MEAS.readingAvailable | (r.compliance ? MEAS.compliance : 0);
      if (trace.control === 'NEXT' && trace.feed === 'SENS') {
        trace.data.push(r);
        if (trace.data.length >= 2) bits |= MEAS.bufferAvailable;
        if (trace.data.length >= trace.points) {
          trace.control = 'NEV'; // a full buffer stops storing (manual 9-5)
          bits |= MEAS.bufferFull;
        }
      }
      timedEvents.push({ at: r.t, bits });
    });
    inst.pendingUntil = t;
    return t;
  };

  const initiate = (c: ScpiCall) => {
    if (c.at < inst.pendingUntil) throw instrumentError(-213, 'Init ignored');
    if (st.arm.source === 'BUS') return void (waiting = 'bus');
    if (st.trig.source !== 'IMM' || !['IMM', 'TIM'].includes(st.arm.source)) return void (waiting = 'never');
    waiting = null;
    runTriggerModel(c.at);
  };

  const elementValue = (r: Reading, e: Element, t0: number, prev: number): number =>
    e === 'VOLT' ? r.v : e === 'CURR' ? r.i : e === 'RES' ? r.res : e === 'TIME' ? r.t - t0 - prev : r.compliance ? 8 : 0;
  const format = (rs: Reading[], t0: number, delta = false) =>
    rs
      .map((r, k) => st.elements.map((e) => sci(elementValue(r, e, t0, delta && k > 0 ? rs[k - 1].t - t0 : 0))).join(','))
      .join(',');

  /** Waits (busy time) for a running sweep, then returns its readings; -214 if it can never finish. */
  const fetch = (c: ScpiCall): string => {
    if (waiting) throw instrumentError(-214, 'Trigger deadlock');
    if (!last.length) throw instrumentError(-230, 'Data corrupt or stale');
    c.busy = Math.max(0, inst.pendingUntil - c.at);
    return format(last, timeZero);
  };
  const read = (c: ScpiCall): string => {
    if (waiting || st.arm.source === 'BUS' || st.trig.source !== 'IMM' || !['IMM', 'TIM'].includes(st.arm.source))
      throw instrumentError(-214, 'Trigger deadlock');
    const start = Math.max(c.at, inst.pendingUntil);
    const end = runTriggerModel(start);
    c.busy = end - c.at;
    return format(last, timeZero);
  };
  const measure = (func: string) => (c: ScpiCall) => {
    if (func === 'RES') st.senseFuncs.add('RES');
    return read(c);
  };

  const stats = (): string => {
    if (!trace.data.length) throw instrumentError(-230, 'Data corrupt or stale');
    // On every measured function, in the order V, I, R, whatever :FORM:ELEM says (manual 18-45).
    const cols = (['VOLT', 'CURR', 'RES'] as const).filter((f) => st.senseFuncs.has(f));
    return cols
      .map((e) => {
        const xs = trace.data.map((r) => elementValue(r, e, 0, 0));
        const n = xs.length;
        const mean = xs.reduce((a, b) => a + b, 0) / n;
        if (st.calc3 === 'MEAN') return sci(mean);
        if (st.calc3 === 'MAX') return sci(Math.max(...xs));
        if (st.calc3 === 'MIN') return sci(Math.min(...xs));
        if (st.calc3 === 'PKPK') return sci(Math.max(...xs) - Math.min(...xs));
        return sci(n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0);
      })
      .join(',');
  };

  const mode = (c: ScpiCall) => (['FIX', 'LIST', 'SWE'] as const)[choiceArg(c, ['FIXed', 'LIST', 'SWEep'])];
  const list = (c: ScpiCall, max: number) => {
    if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
    if (c.args.length > 100) throw instrumentError(-223, 'Too much data');
    return c.args.map((_, k) => numArg(c, k, { min: -max, max }));
  };
  const word = (c: ScpiCall, words: string[]) => words[choiceArg(c, words)].replace(/[a-z]/g, '');
  const int = (c: ScpiCall, min: number, max: number, def = min) => Math.round(numArg(c, 0, { min, max, def }));
  /** Sense function names as :SENS:FUNC takes them: 'VOLT', "CURR:DC", 'RES'. */
  const senseFunc = (a: string): string => {
    const f = a.trim().replace(/^["']|["']$/g, '').toUpperCase();
    if (/^VOLT(AGE)?(:DC)?$/.test(f)) return 'VOLT';
    if (/^CURR(ENT)?(:DC)?$/.test(f)) return 'CURR';
    if (/^RES(ISTANCE)?$/.test(f)) return 'RES';
    throw instrumentError(-224, 'Illegal parameter value');
  };
  const funcName = (f: string) => (f === 'RES' ? '"RES"' : `"${f}:DC"`);
  const register = (get: () => number, set: (v: number) => void) => ({
    set: (c: ScpiCall) => set(int(c, 0, 65535)),
    query: () => String(get()),
  });

  const sweepNodes = (func: 'voltage' | 'current', name: string, max: number): ScpiNode[] => {
    const p = () => st.prog[func];
    const lim = { min: -max, max };
    return [
      { pattern: `[:SOURce]:${name}:MODE`, set: (c) => (p().mode = mode(c)), query: () => p().mode },
      { pattern: `[:SOURce]:${name}:STARt`, set: (c) => (p().start = numArg(c, 0, lim)), query: () => sci(p().start) },
      { pattern: `[:SOURce]:${name}:STOP`, set: (c) => (p().stop = numArg(c, 0, lim)), query: () => sci(p().stop) },
      {
        pattern: `[:SOURce]:${name}:STEP`,
        // Step and points are coupled: setting the step sets the points (manual 18-73).
        set: (c) => {
          const step = Math.abs(numArg(c, 0, { min: -2 * max, max: 2 * max }));
          if (step === 0) throw instrumentError(-222, 'Data out of range');
          const n = Math.floor(Math.abs(p().stop - p().start) / step + 1e-6) + 1;
          if (n > MAX_READINGS) throw instrumentError(-222, 'Data out of range');
          st.sweep.points = n;
        },
        query: () => sci(st.sweep.points > 1 ? (p().stop - p().start) / (st.sweep.points - 1) : 0),
      },
      {
        pattern: `[:SOURce]:${name}:CENTer`,
        set: (c) => {
          const span = p().stop - p().start;
          const ctr = numArg(c, 0, lim);
          [p().start, p().stop] = [ctr - span / 2, ctr + span / 2];
        },
        query: () => sci((p().start + p().stop) / 2),
      },
      {
        pattern: `[:SOURce]:${name}:SPAN`,
        set: (c) => {
          const ctr = (p().start + p().stop) / 2;
          const span = numArg(c, 0, { min: -2 * max, max: 2 * max });
          [p().start, p().stop] = [ctr - span / 2, ctr + span / 2];
        },
        query: () => sci(p().stop - p().start),
      },
      { pattern: `[:SOURce]:LIST:${name}`, set: (c) => (p().list = list(c, max)), query: () => p().list.map(sci).join(',') },
      { pattern: `[:SOURce]:LIST:${name}:POINts`, query: () => String(p().list.length) },
    ];
  };

  const table: ScpiNode[] = [
    // SOURce subsystem
    {
      pattern: '[:SOURce]:FUNCtion[:MODE]',
      set: (c) => {
        ch.advance(c.at);
        ch.func = choiceArg(c, ['VOLTage', 'CURRent']) === 0 ? 'voltage' : 'current';
      },
      query: () => (ch.func === 'voltage' ? 'VOLT' : 'CURR'),
    },
    ...sourceLevelNodes(ch, MAXV, MAXI, { rangeV: 21, rangeI: 1.05e-4 }),
    ...sweepNodes('voltage', 'VOLTage', MAXV),
    ...sweepNodes('current', 'CURRent', MAXI),
    {
      pattern: '[:SOURce]:SWEep:POINts',
      set: (c) => (st.sweep.points = int(c, 1, MAX_READINGS, 2500)),
      query: () => String(st.sweep.points),
    },
    { pattern: '[:SOURce]:SWEep:SPACing', set: (c) => (st.sweep.spacing = word(c, ['LINear', 'LOGarithmic']) as 'LIN' | 'LOG'), query: () => st.sweep.spacing },
    { pattern: '[:SOURce]:SWEep:DIRection', set: (c) => (st.sweep.direction = word(c, ['UP', 'DOWN']) as 'UP' | 'DOWN'), query: () => st.sweep.direction },
    { pattern: '[:SOURce]:SWEep:RANGing', set: (c) => (st.sweep.ranging = word(c, ['BEST', 'AUTO', 'FIXed'])), query: () => st.sweep.ranging },
    { pattern: '[:SOURce]:SWEep:CABort', set: (c) => (st.sweep.abort = word(c, ['NEVer', 'EARLy', 'LATE'])), query: () => st.sweep.abort },
    { pattern: '[:SOURce]:DELay', set: (c) => ((ch.sourceDelay = numArg(c, 0, { min: 0, max: 999.9999 })), (st.sourceDelayAuto = false)), query: () => sci(ch.sourceDelay) },
    { pattern: '[:SOURce]:DELay:AUTO', set: (c) => (st.sourceDelayAuto = boolArg(c)), query: () => b01(st.sourceDelayAuto) },
    { pattern: '[:SOURce]:CLEar[:IMMediate]', set: (c) => ch.setOutput(false, c.at) },
    { pattern: '[:SOURce]:CLEar:AUTO', set: (c) => (st.autoClear = boolArg(c)), query: () => b01(st.autoClear) },
    // SENSe subsystem
    {
      pattern: '[:SENSe]:FUNCtion[:ON]',
      set: (c) => {
        if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
        const fs = c.args.map(senseFunc);
        if (!st.concurrent) st.senseFuncs.clear();
        for (const f of st.concurrent ? fs : fs.slice(-1)) st.senseFuncs.add(f);
      },
      query: () => [...st.senseFuncs].map(funcName).join(',') || '""',
    },
    { pattern: '[:SENSe]:FUNCtion:OFF', set: (c) => c.args.map(senseFunc).forEach((f) => st.senseFuncs.delete(f)), query: () => ['VOLT', 'CURR', 'RES'].filter((f) => !st.senseFuncs.has(f)).map(funcName).join(',') || '""' },
    { pattern: '[:SENSe]:FUNCtion[:ON]:ALL', set: () => ['VOLT', 'CURR', 'RES'].forEach((f) => st.senseFuncs.add(f)) },
    { pattern: '[:SENSe]:FUNCtion:OFF:ALL', set: () => st.senseFuncs.clear() },
    { pattern: '[:SENSe]:FUNCtion:STATe', query: (c) => b01(st.senseFuncs.has(senseFunc(c.args[0] ?? ''))) },
    { pattern: '[:SENSe]:FUNCtion:CONCurrent', set: (c) => (st.concurrent = boolArg(c)), query: () => b01(st.concurrent) },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitI = numArg(c, 0, { min: 1e-9, max: MAXI, def: 1.05e-4 })), query: () => sci(ch.limitI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitV = numArg(c, 0, { min: 2e-4, max: MAXV, def: 21 })), query: () => sci(ch.limitV) },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection:TRIPped', query: () => b01(ch.lastCompliance && ch.func === 'voltage') },
    { pattern: '[:SENSe]:VOLTage[:DC]:PROTection:TRIPped', query: () => b01(ch.lastCompliance && ch.func === 'current') },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeI = numArg(c, 0, { min: 0, max: MAXI })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeV = numArg(c, 0, { min: 0, max: MAXV })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeV) },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    // NPLC is global to all functions on the 2400 (manual 18-79).
    { pattern: '[:SENSe]:CURRent[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 0.01, max: 10, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:VOLTage[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 0.01, max: 10, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:RESistance:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 0.01, max: 10, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:RESistance:MODE', set: (c) => (st.res.mode = word(c, ['MANual', 'AUTO'])), query: () => st.res.mode },
    { pattern: '[:SENSe]:RESistance:RANGe[:UPPer]', set: (c) => ((st.res.range = numArg(c, 0, { min: 0, max: 2.1e8, def: 2.1e5 })), (st.res.auto = false)), query: () => sci(st.res.range) },
    { pattern: '[:SENSe]:RESistance:RANGe:AUTO', set: (c) => (st.res.auto = boolArg(c)), query: () => b01(st.res.auto) },
    { pattern: '[:SENSe]:RESistance:OCOMpensated', set: (c) => (st.res.ocomp = boolArg(c)), query: () => b01(st.res.ocomp) },
    { pattern: '[:SENSe]:AVERage[:STATe]', set: (c) => ((st.filter.on = boolArg(c)), applyFilter()), query: () => b01(st.filter.on) },
    { pattern: '[:SENSe]:AVERage:TCONtrol', set: (c) => ((st.filter.type = word(c, ['REPeat', 'MOVing'])), applyFilter()), query: () => st.filter.type },
    { pattern: '[:SENSe]:AVERage:COUNt', set: (c) => ((st.filter.count = int(c, 1, 100, 10)), applyFilter()), query: () => String(st.filter.count) },
    // SYSTem subsystem
    { pattern: ':SYSTem:RSENse', set: (c) => (ch.fourWire = boolArg(c)), query: () => b01(ch.fourWire) },
    { pattern: ':SYSTem:TIME:RESet', set: (c) => (timeZero = c.at) },
    { pattern: ':SYSTem:TIME', query: (c) => sci(c.at - timeZero) },
    { pattern: ':SYSTem:PRESet', set: () => (ch.resetState(), reset()) },
    {
      pattern: ':SYSTem:AZERo[:STATe]',
      set: (c) => (isOnce(c) ? undefined : (st.autoZero = boolArg(c))),
      query: () => b01(st.autoZero),
    },
    { pattern: ':SYSTem:LFRequency', query: () => String(ch.lineFreq) },
    { pattern: ':SYSTem:BEEPer[:IMMediate]', set: (c) => void (numArg(c, 0, { min: 65, max: 2e6 }), numArg(c, 1, { min: 0, max: 7.9 })) },
    { pattern: ':SYSTem:BEEPer:STATe', set: (c) => (st.beeper = boolArg(c)), query: () => b01(st.beeper) },
    { pattern: ':SYSTem:VERSion', query: () => '1996.0' },
    // RS-232 remote/local (the 2400 accepts these on its serial port)
    { pattern: ':SYSTem:LOCal', set: () => undefined },
    { pattern: ':SYSTem:REMote', set: () => undefined },
    { pattern: ':SYSTem:RWLock', set: () => undefined },
    // DISPlay, ROUTe, OUTPut
    { pattern: ':DISPlay:ENABle', set: (c) => (st.display = boolArg(c)), query: () => b01(st.display) },
    { pattern: ':ROUTe:TERMinals', set: (c) => (st.terminals = word(c, ['FRONt', 'REAR'])), query: () => st.terminals },
    { pattern: ':OUTPut[:STATe]', set: (c) => ch.setOutput(boolArg(c), c.at), query: () => b01(ch.output) },
    { pattern: ':OUTPut:SMODe', set: (c) => (st.offState = word(c, ['HIMPedance', 'NORMal', 'ZERO', 'GUARd'])), query: () => st.offState },
    // Trigger model: ARM and TRIGger layers (manual section 10)
    { pattern: ':ARM[:SEQuence][:LAYer]:SOURce', set: (c) => (st.arm.source = word(c, ['IMMediate', 'TLINk', 'TIMer', 'MANual', 'BUS', 'NSTest', 'PSTest', 'BSTest'])), query: () => st.arm.source },
    { pattern: ':ARM[:SEQuence][:LAYer]:COUNt', set: (c) => (st.arm.count = int(c, 1, MAX_READINGS, 1)), query: () => String(st.arm.count) },
    { pattern: ':ARM[:SEQuence][:LAYer]:TIMer', set: (c) => (st.arm.timer = numArg(c, 0, { min: 0.001, max: 99999.99, def: 0.1 })), query: () => sci(st.arm.timer) },
    { pattern: ':ARM[:SEQuence][:LAYer][:TCONfigure]:DIRection', set: (c) => (st.arm.direction = word(c, ['SOURce', 'ACCeptor'])), query: () => st.arm.direction },
    { pattern: ':ARM[:SEQuence][:LAYer][:TCONfigure]:ILINe', set: (c) => (st.arm.inputLine = int(c, 1, 4)), query: () => String(st.arm.inputLine) },
    { pattern: ':ARM[:SEQuence][:LAYer][:TCONfigure]:OLINe', set: (c) => (st.arm.outputLine = int(c, 1, 4)), query: () => String(st.arm.outputLine) },
    { pattern: ':ARM[:SEQuence][:LAYer][:TCONfigure]:OUTPut', set: (c) => (st.arm.output = word(c, ['TENTer', 'TEXit', 'NONE'])), query: () => st.arm.output },
    { pattern: ':TRIGger[:SEQuence]:SOURce', set: (c) => (st.trig.source = word(c, ['IMMediate', 'TLINk'])), query: () => st.trig.source },
    { pattern: ':TRIGger[:SEQuence]:COUNt', set: (c) => (st.trig.count = int(c, 1, MAX_READINGS, 1)), query: () => String(st.trig.count) },
    { pattern: ':TRIGger[:SEQuence]:DELay', set: (c) => (st.trig.delay = numArg(c, 0, { min: 0, max: 999.9999 })), query: () => sci(st.trig.delay) },
    { pattern: ':TRIGger[:SEQuence][:TCONfigure]:DIRection', set: (c) => (st.trig.direction = word(c, ['SOURce', 'ACCeptor'])), query: () => st.trig.direction },
    { pattern: ':TRIGger[:SEQuence][:TCONfigure]:ILINe', set: (c) => (st.trig.inputLine = int(c, 1, 4)), query: () => String(st.trig.inputLine) },
    { pattern: ':TRIGger[:SEQuence][:TCONfigure]:OLINe', set: (c) => (st.trig.outputLine = int(c, 1, 4)), query: () => String(st.trig.outputLine) },
    { pattern: ':TRIGger[:SEQuence][:TCONfigure]:OUTPut', set: (c) => (st.trig.output = c.args.map((_, k) => ['SOUR', 'DEL', 'SENS', 'NONE'][choiceArg(c, ['SOURce', 'DELay', 'SENSe', 'NONE'], k)]).join(',')), query: () => st.trig.output },
    { pattern: ':TRIGger[:SEQuence][:TCONfigure]:INPut', set: (c) => (st.trig.input = c.args.map((_, k) => ['SOUR', 'DEL', 'SENS', 'NONE'][choiceArg(c, ['SOURce', 'DELay', 'SENSe', 'NONE'], k)]).join(',')), query: () => st.trig.input },
    { pattern: ':TRIGger:CLEar', set: () => undefined },
    { pattern: ':INITiate[:IMMediate]', set: initiate },
    {
      pattern: ':ABORt',
      set: (c) => {
        waiting = null;
        if (c.at < inst.pendingUntil) {
          last = last.filter((r) => r.t <= c.at);
          timedEvents = timedEvents.filter((e) => e.at <= c.at);
          trace.data = trace.data.filter((r) => r.t <= c.at);
          inst.pendingUntil = c.at;
        }
      },
    },
    // FORMat
    {
      pattern: ':FORMat:ELEMents[:SENSe]',
      set: (c) => {
        if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
        st.elements = c.args.map((_, k) => ELEMENTS[choiceArg(c, ['VOLTage', 'CURRent', 'RESistance', 'TIME', 'STATus'], k)]);
      },
      query: () => st.elements.join(','),
    },
    // ASCII only: binary (REAL,32 / SREal) transfers are not emulated and are refused as an illegal value.
    { pattern: ':FORMat[:DATA]', set: (c) => void choiceArg(c, ['ASCii']), query: () => 'ASC' },
    // Measurement: :INIT / :FETC? / :READ? / :MEAS? (manual 18-2)
    { pattern: ':FETCh', query: fetch },
    { pattern: ':READ', query: read },
    { pattern: ':MEASure[:CURRent][:DC]', query: measure('CURR') },
    { pattern: ':MEASure:VOLTage[:DC]', query: measure('VOLT') },
    { pattern: ':MEASure:RESistance', query: measure('RES') },
    { pattern: ':CONFigure:CURRent[:DC]', set: () => void st.senseFuncs.add('CURR') },
    { pattern: ':CONFigure:VOLTage[:DC]', set: () => void st.senseFuncs.add('VOLT') },
    { pattern: ':CONFigure:RESistance', set: () => void st.senseFuncs.add('RES') },
    // TRACe: the reading buffer (manual section 9)
    { pattern: ':TRACe:DATA', query: (c) => ((c.busy = Math.max(0, inst.pendingUntil - c.at)), trace.data.length ? traceData() : '') },
    { pattern: ':TRACe:CLEar', set: () => void (trace.data = []) },
    { pattern: ':TRACe:POINts', set: (c) => (trace.points = int(c, 1, MAX_READINGS, 100)), query: () => String(trace.points) },
    { pattern: ':TRACe:POINts:ACTual', query: () => String(trace.data.length) },
    { pattern: ':TRACe:FREE', query: () => `${(MAX_READINGS - trace.data.length) * 24},${trace.data.length * 24}` },
    { pattern: ':TRACe:FEED', set: (c) => (trace.feed = word(c, ['SENSe', 'CALCulate1', 'CALCulate2'])), query: () => trace.feed },
    {
      pattern: ':TRACe:FEED:CONTrol',
      set: (c) => {
        trace.control = word(c, ['NEVer', 'NEXT']);
        if (trace.control === 'NEXT' && trace.data.length >= trace.points) trace.data = [];
      },
      query: () => trace.control,
    },
    { pattern: ':TRACe:TSTamp:FORMat', set: (c) => (trace.tstamp = word(c, ['ABSolute', 'DELTa'])), query: () => trace.tstamp },
    // CALCulate3: statistics of the buffer (manual 18-36)
    { pattern: ':CALCulate3:FORMat', set: (c) => (st.calc3 = word(c, ['MEAN', 'SDEViation', 'MAXimum', 'MINimum', 'PKPK'])), query: () => st.calc3 },
    { pattern: ':CALCulate3:DATA', query: (c) => ((c.busy = Math.max(0, inst.pendingUntil - c.at)), stats()) },
    // STATus subsystem (manual section 15)
    { pattern: ':STATus:MEASurement[:EVENt]', query: () => String(((v) => ((status.measEvent = 0), v))(status.measEvent)) },
    { pattern: ':STATus:MEASurement:ENABle', ...register(() => status.measEnable, (v) => (status.measEnable = v)) },
    { pattern: ':STATus:MEASurement:CONDition', query: () => String(status.measCondition) },
    { pattern: ':STATus:OPERation[:EVENt]', query: () => '0' },
    { pattern: ':STATus:OPERation:ENABle', ...register(() => status.operEnable, (v) => (status.operEnable = v)) },
    { pattern: ':STATus:OPERation:CONDition', query: () => '0' },
    { pattern: ':STATus:QUEStionable[:EVENt]', query: () => '0' },
    { pattern: ':STATus:QUEStionable:ENABle', ...register(() => status.quesEnable, (v) => (status.quesEnable = v)) },
    { pattern: ':STATus:QUEStionable:CONDition', query: () => '0' },
    { pattern: ':STATus:PRESet', set: () => void ((status.measEnable = 0), (status.operEnable = 0), (status.quesEnable = 0)) },
    { pattern: ':STATus:QUEue[:NEXT]', query: () => nextError() },
    { pattern: ':STATus:QUEue:CLEar', set: () => inst.errors.clear() },
    { pattern: ':STATus:QUEue:ENABle', set: () => undefined },
    { pattern: ':STATus:QUEue:DISable', set: () => undefined },
  ];

  function isOnce(c: ScpiCall): boolean {
    return (c.args[0] ?? '').trim().toUpperCase() === 'ONCE';
  }
  function traceData(): string {
    const t0 = trace.data[0].t;
    return format(trace.data, t0, trace.tstamp === 'DELT');
  }
  function nextError(): string {
    const e = inst.errors.next();
    return e ? `${e.code},"${e.message}"` : '0,"No error"';
  }

  const inst = new ScpiInstrument(
    {
      model: 'Keithley 2400',
      idn: 'KEITHLEY INSTRUMENTS INC.,MODEL 2400,4099999,C32   Oct  4 2010 14:20:11/A02  /S/K',
      channel: ch,
      errorQueueSize: 10,
      formatError: (code, msg) => `${code},"${msg}"`,
      onReset: reset,
      onClear: () => void (status.measEvent = 0),
      onTime: latch,
      onBusTrigger: (c) => {
        if (waiting !== 'bus') return; // a trigger with nothing armed is ignored
        waiting = null;
        runTriggerModel(c.at);
      },
    },
    table,
  );
  // Bit 0 (MSB) summarises the measurement events; no operation or questionable event is emulated.
  inst.status.summary = () => (status.measEvent & status.measEnable ? 1 : 0);
  return inst;
}
