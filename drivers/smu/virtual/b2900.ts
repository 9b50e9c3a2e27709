/**
 * Virtual Keysight B2901A: the SCPI subset for sourcing, sensing, list sweeps through the trigger
 * system (:INIT runs overlapped, *OPC? waits, :FETC:ARR? reads the whole buffer), 50 Hz line,
 * `+0,"No error"` style error queue.
 */
import { SmuChannel, type Measurement } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { b01, boolArg, choiceArg, numArg, ScpiError, ScpiInstrument, sci, type ScpiCall, type ScpiNode } from './scpi.ts';

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
  };
  const reset = () => {
    st.modeV = st.modeI = 'FIX';
    st.listV = [];
    st.listI = [];
    st.triggerCount = 1;
    st.elements = ['VOLT', 'CURR'];
    st.buffer = [];
  };
  const mode = (c: ScpiCall) => (['FIX', 'LIST', 'SWE'] as const)[choiceArg(c, ['FIXed', 'LIST', 'SWEep'])];
  const list = (c: ScpiCall, max: number) => {
    if (!c.args.length) throw new ScpiError(-109, 'Missing parameter');
    if (c.args.length > 100_000) throw new ScpiError(-223, 'Too much data');
    return c.args.map((_, k) => numArg(c, k, { min: -max, max }));
  };
  const fmt = (m: Measurement, els = st.elements) =>
    els
      .map((e) =>
        e === 'VOLT' ? sci(m.v) : e === 'CURR' ? sci(m.i) : e === 'TIME' ? sci(m.t) : e === 'STAT' ? sci(m.compliance ? 8 : 0) : e === 'SOUR' ? sci(ch.level()) : sci(m.i !== 0 ? m.v / m.i : 9.91e37),
      )
      .join(',');
  const fetch = (els?: string[]) => () => {
    if (!st.buffer.length) throw new ScpiError(-230, 'Data corrupt or stale');
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
    { pattern: '[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setLevel(c, 'voltage'), query: () => sci(ch.levelV) },
    { pattern: '[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setLevel(c, 'current'), query: () => sci(ch.levelI) },
    { pattern: '[:SOURce]:VOLTage:RANGe', set: (c) => ((ch.sourceRangeV = Math.abs(numArg(c, 0, { min: -MAXV, max: MAXV }))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeV) },
    { pattern: '[:SOURce]:CURRent:RANGe', set: (c) => ((ch.sourceRangeI = Math.abs(numArg(c, 0, { min: -MAXI, max: MAXI }))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeI) },
    { pattern: '[:SOURce]:VOLTage:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
    { pattern: '[:SOURce]:CURRent:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
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
    { pattern: ':TRIGger[:ALL]:SOURce', set: (c) => void choiceArg(c, ['AINT', 'BUS', 'TIMer', 'INT1', 'INT2']), query: () => 'AINT' },
    {
      pattern: ':FORMat:ELEMents:SENSe',
      set: (c) => {
        if (!c.args.length) throw new ScpiError(-109, 'Missing parameter');
        st.elements = c.args.map((_, k) => ['VOLT', 'CURR', 'RES', 'TIME', 'STAT', 'SOUR'][choiceArg(c, ['VOLTage', 'CURRent', 'RESistance', 'TIME', 'STATus', 'SOURce'], k)]);
      },
      query: () => st.elements.join(','),
    },
    {
      pattern: ':INITiate[:IMMediate][:ALL]',
      set: (c) => {
        if (!ch.output) ch.setOutput(true, c.at); // B2900 default :OUTP:ON:AUTO ON
        const fixed = (ch.func === 'voltage' ? st.modeV : st.modeI) === 'FIX';
        const lst = ch.func === 'voltage' ? st.listV : st.listI;
        if (!fixed && !lst.length) throw new ScpiError(-221, 'Settings conflict');
        const levels = Array.from({ length: st.triggerCount }, (_, k) => (fixed ? ch.level() : lst[k % lst.length]));
        const before = ch.level();
        const { readings, endS } = ch.sweep(levels, c.at, POINT_OVERHEAD_S);
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
  function setLevel(c: ScpiCall, func: 'voltage' | 'current'): void {
    const max = func === 'voltage' ? MAXV : MAXI;
    const v = numArg(c, 0, { min: -max, max, def: 0 });
    if (!ch.sourceAutorange) {
      const range = func === 'voltage' ? ch.sourceRangeV : ch.sourceRangeI;
      if (Math.abs(v) > range * 1.05) throw new ScpiError(-222, 'Data out of range');
    }
    if (ch.func === func) ch.setLevel(v, c.at);
    else if (func === 'voltage') ch.levelV = v;
    else ch.levelI = v;
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
