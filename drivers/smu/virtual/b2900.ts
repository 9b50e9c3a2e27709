/**
 * Virtual Keysight B2901A, after the B2900 SCPI Command Reference: sourcing and sensing (functions,
 * aperture and NPLC), LIST and staircase SWEep sourcing (STARt/STOP/POINts/STEP, LIN/LOG, UP/DOWN), the
 * trigger system (:INIT runs overlapped, *OPC? waits; AINT, BUS and TIMer sources for the transient and
 * acquire layers with their own counts and delays), :MEAS/:READ/:FETC scalar and :FETC:ARR array data,
 * ASCII data format, 50 Hz line, `+0,"No error"` style error queue. Coverage: docs/smu/keysight-b2900.md.
 */
import { SmuChannel, sweepLevels, type Measurement } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { b01, boolArg, choiceArg, numArg, ScpiInstrument, sci, sourceLevelNodes, type ScpiCall, type ScpiNode } from './scpi.ts';
import { instrumentError } from '../../transport/errors.ts';

const MAXV = 210;
const MAXI = 3.03;
const POINT_OVERHEAD_S = 1e-4;

export function createVirtualB2900(dut: DeviceUnderTest): ScpiInstrument {
  const ch = new SmuChannel(dut, 50, { maxV: MAXV, maxI: MAXI });
  const st = {
    modeV: 'FIX' as 'FIX' | 'LIST' | 'SWE',
    modeI: 'FIX' as 'FIX' | 'LIST' | 'SWE',
    listV: [] as number[],
    listI: [] as number[],
    triggerCount: 1,
    elements: ['VOLT', 'CURR'],
    buffer: [] as Measurement[],
    sweep: { startV: 0, stopV: 0, startI: 0, stopI: 0, points: 1, spacing: 'LIN' as 'LIN' | 'LOG', down: false },
    senseFuncs: new Set(['VOLT', 'CURR']),
    /** Trigger sources and timer periods per layer (transient = source, acquire = measure). */
    tran: { source: 'AINT', timer: 1e-3 },
    acq: { source: 'AINT', timer: 1e-3, delay: 0 },
  };
  const reset = () => {
    st.modeV = st.modeI = 'FIX';
    st.listV = [];
    st.listI = [];
    st.triggerCount = 1;
    st.elements = ['VOLT', 'CURR'];
    st.buffer = [];
    st.sweep = { startV: 0, stopV: 0, startI: 0, stopI: 0, points: 1, spacing: 'LIN', down: false };
    st.senseFuncs = new Set(['VOLT', 'CURR']);
    st.tran = { source: 'AINT', timer: 1e-3 };
    st.acq = { source: 'AINT', timer: 1e-3, delay: 0 };
  };
  /** Source levels for one :INIT: the fixed level, the list, or the staircase sweep, one per trigger. */
  const levelsFor = (count: number): number[] => {
    const volt = ch.func === 'voltage';
    const m = volt ? st.modeV : st.modeI;
    if (m === 'FIX') return Array.from({ length: count }, () => ch.level());
    const seq =
      m === 'LIST'
        ? volt ? st.listV : st.listI
        : sweepLevels(
            { start: volt ? st.sweep.startV : st.sweep.startI, stop: volt ? st.sweep.stopV : st.sweep.stopI, points: st.sweep.points, spacing: st.sweep.spacing, down: st.sweep.down },
            () => instrumentError(-221, 'Settings conflict'),
          );
    if (!seq.length) throw instrumentError(-221, 'Settings conflict');
    return Array.from({ length: count }, (_, k) => seq[k % seq.length]);
  };
  const trigSource = (c: ScpiCall) => ['AINT', 'BUS', 'TIM', 'INT1', 'INT2', 'LAN', 'EXT'][choiceArg(c, ['AINT', 'BUS', 'TIMer', 'INT1', 'INT2', 'LAN', 'EXTernal'])];
  const senseFunc = (a: string) => {
    const f = a.trim().replace(/^["']|["']$/g, '').toUpperCase();
    if (/^VOLT(AGE)?(:DC)?$/.test(f)) return 'VOLT';
    if (/^CURR(ENT)?(:DC)?$/.test(f)) return 'CURR';
    if (/^RES(ISTANCE)?$/.test(f)) return 'RES';
    throw instrumentError(-224, 'Illegal parameter value');
  };
  const aperture = { min: 8e-6, max: 2 };
  const one = (func: 'VOLT' | 'CURR' | 'RES') => (c: ScpiCall) => {
    const m = ch.measure(c.at);
    c.busy = ch.measureTime();
    return sci(func === 'VOLT' ? m.v : func === 'CURR' ? m.i : m.i !== 0 ? m.v / m.i : 9.91e37);
  };
  const sweepNodes = (name: 'VOLTage' | 'CURRent', max: number): ScpiNode[] => {
    const v = name === 'VOLTage';
    const lim = { min: -max, max };
    const get = (k: 'start' | 'stop') => (v ? st.sweep[`${k}V`] : st.sweep[`${k}I`]);
    const put = (k: 'start' | 'stop', x: number) => (v ? (st.sweep[`${k}V`] = x) : (st.sweep[`${k}I`] = x));
    return [
      { pattern: `[:SOURce]:${name}:STARt`, set: (c) => put('start', numArg(c, 0, lim)), query: () => sci(get('start')) },
      { pattern: `[:SOURce]:${name}:STOP`, set: (c) => put('stop', numArg(c, 0, lim)), query: () => sci(get('stop')) },
      { pattern: `[:SOURce]:${name}:POINts`, set: (c) => (st.sweep.points = Math.round(numArg(c, 0, { min: 1, max: 100_000, def: 1 }))), query: () => String(st.sweep.points) },
      {
        pattern: `[:SOURce]:${name}:STEP`,
        set: (c) => {
          const step = Math.abs(numArg(c, 0, { min: -2 * max, max: 2 * max }));
          if (step === 0) throw instrumentError(-222, 'Data out of range');
          st.sweep.points = Math.floor(Math.abs(get('stop') - get('start')) / step + 1e-6) + 1;
        },
        query: () => sci(st.sweep.points > 1 ? (get('stop') - get('start')) / (st.sweep.points - 1) : 0),
      },
    ];
  };
  const mode = (c: ScpiCall) => (['FIX', 'LIST', 'SWE'] as const)[choiceArg(c, ['FIXed', 'LIST', 'SWEep'])];
  const list = (c: ScpiCall, max: number) => {
    if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
    if (c.args.length > 100_000) throw instrumentError(-223, 'Too much data');
    return c.args.map((_, k) => numArg(c, k, { min: -max, max }));
  };
  const fmt = (m: Measurement, els = st.elements) =>
    els
      .map((e) =>
        e === 'VOLT' ? sci(m.v) : e === 'CURR' ? sci(m.i) : e === 'TIME' ? sci(m.t) : e === 'STAT' ? sci(m.compliance ? 8 : 0) : e === 'SOUR' ? sci(ch.level()) : sci(m.i !== 0 ? m.v / m.i : 9.91e37),
      )
      .join(',');
  const fetch = (els?: string[]) => () => {
    if (!st.buffer.length) throw instrumentError(-230, 'Data corrupt or stale');
    return st.buffer.map((m) => fmt(m, els)).join(',');
  };
  const table: ScpiNode[] = [
    {
      pattern: '[:SOURce]:FUNCtion:MODE',
      set: (c) => {
        ch.advance(c.at);
        ch.func = choiceArg(c, ['VOLTage', 'CURRent']) === 0 ? 'voltage' : 'current';
      },
      query: () => (ch.func === 'voltage' ? 'VOLT' : 'CURR'),
    },
    ...sourceLevelNodes(ch, MAXV, MAXI),
    { pattern: '[:SOURce]:VOLTage:MODE', set: (c) => (st.modeV = mode(c)), query: () => st.modeV },
    { pattern: '[:SOURce]:CURRent:MODE', set: (c) => (st.modeI = mode(c)), query: () => st.modeI },
    { pattern: '[:SOURce]:LIST:VOLTage', set: (c) => (st.listV = list(c, MAXV)), query: () => st.listV.map(sci).join(',') },
    { pattern: '[:SOURce]:LIST:CURRent', set: (c) => (st.listI = list(c, MAXI)), query: () => st.listI.map(sci).join(',') },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitI = numArg(c, 0, { min: 1e-9, max: MAXI, def: 1e-4 })), query: () => sci(ch.limitI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitV = numArg(c, 0, { min: 2e-4, max: MAXV, def: 2 })), query: () => sci(ch.limitV) },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection:TRIPped', query: () => b01(ch.lastCompliance && ch.func === 'voltage') },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeI = numArg(c, 0, { min: 0, max: MAXI })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeV = numArg(c, 0, { min: 0, max: MAXV })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeV) },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    { pattern: '[:SENSe]:CURRent[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 4e-4, max: 100, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:VOLTage[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 4e-4, max: 100, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:REMote', set: (c) => (ch.fourWire = boolArg(c)), query: () => b01(ch.fourWire) },
    { pattern: ':OUTPut[:STATe]', set: (c) => ch.setOutput(boolArg(c), c.at), query: () => b01(ch.output) },
    { pattern: ':TRIGger[:ALL]:COUNt', set: (c) => (st.triggerCount = numArg(c, 0, { min: 1, max: 100_000, def: 1 })), query: () => String(st.triggerCount) },
    { pattern: ':TRIGger:TRANsient:DELay', set: (c) => (ch.sourceDelay = numArg(c, 0, { min: 0, max: 100 })), query: () => sci(ch.sourceDelay) },
    { pattern: ':TRIGger[:ALL]:SOURce', set: (c) => (st.tran.source = st.acq.source = trigSource(c)), query: () => st.acq.source },
    ...sweepNodes('VOLTage', MAXV),
    ...sweepNodes('CURRent', MAXI),
    { pattern: '[:SOURce]:SWEep:POINts', set: (c) => (st.sweep.points = Math.round(numArg(c, 0, { min: 1, max: 100_000, def: 1 }))), query: () => String(st.sweep.points) },
    { pattern: '[:SOURce]:SWEep:SPACing', set: (c) => (st.sweep.spacing = choiceArg(c, ['LINear', 'LOGarithmic']) ? 'LOG' : 'LIN'), query: () => st.sweep.spacing },
    { pattern: '[:SOURce]:SWEep:DIRection', set: (c) => (st.sweep.down = choiceArg(c, ['UP', 'DOWN']) === 1), query: () => (st.sweep.down ? 'DOWN' : 'UP') },
    { pattern: '[:SOURce]:SWEep:STAir', set: (c) => void choiceArg(c, ['SINGle']), query: () => 'SING' },
    // SENSe functions and integration time (aperture in seconds or NPLC; one integration time for all)
    {
      pattern: '[:SENSe]:FUNCtion[:ON]',
      set: (c) => {
        if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
        for (const a of c.args) st.senseFuncs.add(senseFunc(a));
      },
      query: () => [...st.senseFuncs].map((f) => `"${f}"`).join(','),
    },
    { pattern: '[:SENSe]:FUNCtion:OFF', set: (c) => c.args.forEach((a) => st.senseFuncs.delete(senseFunc(a))) },
    { pattern: '[:SENSe]:FUNCtion[:ON]:ALL', set: () => ['VOLT', 'CURR', 'RES'].forEach((f) => st.senseFuncs.add(f)) },
    { pattern: '[:SENSe]:FUNCtion:OFF:ALL', set: () => st.senseFuncs.clear() },
    { pattern: '[:SENSe]:FUNCtion:STATe', query: (c) => b01(st.senseFuncs.has(senseFunc(c.args[0] ?? ''))) },
    { pattern: '[:SENSe]:CURRent[:DC]:APERture', set: (c) => (ch.nplc = numArg(c, 0, { ...aperture, def: 0.1 }) * ch.lineFreq), query: () => sci(ch.nplc / ch.lineFreq) },
    { pattern: '[:SENSe]:VOLTage[:DC]:APERture', set: (c) => (ch.nplc = numArg(c, 0, { ...aperture, def: 0.1 }) * ch.lineFreq), query: () => sci(ch.nplc / ch.lineFreq) },
    { pattern: '[:SENSe]:CURRent[:DC]:APERture:AUTO', set: (c) => void boolArg(c), query: () => '0' },
    { pattern: '[:SENSe]:VOLTage[:DC]:APERture:AUTO', set: (c) => void boolArg(c), query: () => '0' },
    // FORMat: ASCII only; binary REAL,32/64 transfers are not emulated and are refused as an illegal value.
    { pattern: ':FORMat[:DATA]', set: (c) => void choiceArg(c, ['ASCii']), query: () => 'ASC' },
    // TRIGger layers: transient (source) and acquire (measure)
    { pattern: ':TRIGger:TRANsient:SOURce', set: (c) => (st.tran.source = trigSource(c)), query: () => st.tran.source },
    { pattern: ':TRIGger:ACQuire:SOURce', set: (c) => (st.acq.source = trigSource(c)), query: () => st.acq.source },
    { pattern: ':TRIGger:TRANsient:TIMer', set: (c) => (st.tran.timer = numArg(c, 0, { min: 1e-5, max: 1e5, def: 1e-3 })), query: () => sci(st.tran.timer) },
    { pattern: ':TRIGger:ACQuire:TIMer', set: (c) => (st.acq.timer = numArg(c, 0, { min: 1e-5, max: 1e5, def: 1e-3 })), query: () => sci(st.acq.timer) },
    { pattern: ':TRIGger[:ALL]:TIMer', set: (c) => (st.tran.timer = st.acq.timer = numArg(c, 0, { min: 1e-5, max: 1e5, def: 1e-3 })) },
    { pattern: ':TRIGger:ACQuire:DELay', set: (c) => (st.acq.delay = numArg(c, 0, { min: 0, max: 100 })), query: () => sci(st.acq.delay) },
    { pattern: ':TRIGger:TRANsient:COUNt', set: (c) => (st.triggerCount = numArg(c, 0, { min: 1, max: 100_000, def: 1 })), query: () => String(st.triggerCount) },
    { pattern: ':TRIGger:ACQuire:COUNt', set: (c) => (st.triggerCount = numArg(c, 0, { min: 1, max: 100_000, def: 1 })), query: () => String(st.triggerCount) },
    { pattern: ':MEASure:CURRent[:DC]', query: one('CURR') },
    { pattern: ':MEASure:VOLTage[:DC]', query: one('VOLT') },
    { pattern: ':MEASure:RESistance', query: one('RES') },
    { pattern: ':FETCh[:SCALar]:CURRent', query: () => lastOf('CURR') },
    { pattern: ':FETCh[:SCALar]:VOLTage', query: () => lastOf('VOLT') },
    { pattern: ':FETCh:ARRay:RESistance', query: fetch(['RES']) },
    { pattern: ':READ[:SCALar]:CURRent', query: (c) => ((c.busy = Math.max(0, inst.pendingUntil - c.at)), lastOf('CURR')) },
    {
      pattern: ':FORMat:ELEMents:SENSe',
      set: (c) => {
        if (!c.args.length) throw instrumentError(-109, 'Missing parameter');
        st.elements = c.args.map((_, k) => ['VOLT', 'CURR', 'RES', 'TIME', 'STAT', 'SOUR'][choiceArg(c, ['VOLTage', 'CURRent', 'RESistance', 'TIME', 'STATus', 'SOURce'], k)]);
      },
      query: () => st.elements.join(','),
    },
    {
      pattern: ':INITiate[:IMMediate][:ALL]',
      set: (c) => {
        if (st.tran.source === 'BUS' || st.acq.source === 'BUS' || /^(INT|LAN|EXT)/.test(st.tran.source + st.acq.source))
          throw instrumentError(-214, 'Trigger deadlock'); // no bus or external trigger ever comes to a virtual bench
        if (!ch.output) ch.setOutput(true, c.at); // B2900 default :OUTP:ON:AUTO ON
        const fixed = (ch.func === 'voltage' ? st.modeV : st.modeI) === 'FIX';
        const levels = levelsFor(st.triggerCount);
        const before = ch.level();
        // A TIMer source paces the points at its period (or the natural point time, if longer).
        const period = st.tran.source === 'TIM' ? st.tran.timer : st.acq.source === 'TIM' ? st.acq.timer : 0;
        const readings: Measurement[] = [];
        let t = c.at;
        for (let k = 0; k < levels.length; k++) {
          const t0 = Math.max(t, c.at + k * period);
          ch.setLevel(levels[k], t0);
          const tm = t0 + ch.sourceDelay + st.acq.delay;
          readings.push(ch.measure(tm));
          t = tm + ch.measureTime() + POINT_OVERHEAD_S;
        }
        const endS = t;
        if (!fixed) ch.setLevel(before, endS);
        st.buffer = readings;
        inst.pendingUntil = endS; // overlapped: *OPC? / *WAI wait for it
      },
    },
    { pattern: ':ABORt[:ALL]', set: (c) => (inst.pendingUntil = c.at) },
    { pattern: ':FETCh:ARRay', query: fetch() },
    { pattern: ':FETCh:ARRay:VOLTage', query: fetch(['VOLT']) },
    { pattern: ':FETCh:ARRay:CURRent', query: fetch(['CURR']) },
    { pattern: ':FETCh:ARRay:TIME', query: fetch(['TIME']) },
    {
      pattern: ':MEASure',
      query: (c) => {
        const m = ch.measure(c.at);
        c.busy = ch.measureTime();
        return fmt(m);
      },
    },
  ];
  function lastOf(e: 'VOLT' | 'CURR'): string {
    const m = st.buffer.at(-1);
    if (!m) throw instrumentError(-230, 'Data corrupt or stale');
    return fmt(m, [e]);
  }
  const inst = new ScpiInstrument(
    {
      model: 'Keysight B2901A',
      idn: 'Keysight Technologies,B2901A,MY51140001,3.4.2011.5100',
      channel: ch,
      errorQueueSize: 30,
      formatError: (code, msg) => `${code >= 0 ? '+' : ''}${code},"${msg}"`,
      onReset: reset,
    },
    table,
  );
  return inst;
}
