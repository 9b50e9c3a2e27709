/**
 * Virtual Keithley 2400 SourceMeter: the SCPI subset a measurement script uses (source, sense, output,
 * list sweeps through the trigger model, :READ?), real error numbers (+803 "Output disabled" when
 * reading with the output off), 60 Hz line, 10-entry error queue.
 */
import { SmuChannel } from './core.ts';
import type { DeviceUnderTest } from './dut.ts';
import { b01, boolArg, choiceArg, numArg, ScpiError, ScpiInstrument, sci, type ScpiCall, type ScpiNode } from './scpi.ts';

const MAXV = 210;
const MAXI = 1.05;
/** Trigger-model overhead per point on top of source delay and integration (s). */
const POINT_OVERHEAD_S = 2e-4;

export function createVirtual2400(dut: DeviceUnderTest): ScpiInstrument {
  const ch = new SmuChannel(dut, 60, { maxV: MAXV, maxI: MAXI });
  const st = {
    modeV: 'FIX' as 'FIX' | 'LIST' | 'SWE',
    modeI: 'FIX' as 'FIX' | 'LIST' | 'SWE',
    listV: [] as number[],
    listI: [] as number[],
    triggerCount: 1,
    elements: ['VOLT', 'CURR', 'RES', 'TIME', 'STAT'],
    timeZero: 0,
  };
  const reset = () => {
    st.modeV = st.modeI = 'FIX';
    st.listV = [];
    st.listI = [];
    st.triggerCount = 1;
    st.elements = ['VOLT', 'CURR', 'RES', 'TIME', 'STAT'];
  };
  const mode = (c: ScpiCall) => (['FIX', 'LIST', 'SWE'] as const)[choiceArg(c, ['FIXed', 'LIST', 'SWEep'])];
  const list = (c: ScpiCall, max: number) => {
    if (!c.args.length) throw new ScpiError(-109, 'Missing parameter');
    if (c.args.length > 100) throw new ScpiError(-223, 'Too much data');
    return c.args.map((_, k) => numArg(c, k, { min: -max, max }));
  };
  const format = (m: { v: number; i: number; t: number; compliance: boolean }) =>
    st.elements
      .map((e) =>
        e === 'VOLT' ? sci(m.v) : e === 'CURR' ? sci(m.i) : e === 'RES' ? sci(9.91e37) : e === 'TIME' ? sci(m.t - st.timeZero) : sci(m.compliance ? 8 : 0),
      )
      .join(',');
  const read = (c: ScpiCall): string => {
    if (!ch.output) throw new ScpiError(803, 'Output disabled');
    const fixed = (ch.func === 'voltage' ? st.modeV : st.modeI) === 'FIX';
    const lst = ch.func === 'voltage' ? st.listV : st.listI;
    if (!fixed && !lst.length) throw new ScpiError(-221, 'Settings conflict');
    const levels = Array.from({ length: st.triggerCount }, (_, k) => (fixed ? ch.level() : lst[k % lst.length]));
    const before = ch.level();
    const { readings, endS } = ch.sweep(levels, c.at, fixed ? 0 : POINT_OVERHEAD_S);
    if (!fixed) ch.setLevel(before, endS); // back to the bias level after the sweep
    c.busy = endS - c.at;
    return readings.map(format).join(',');
  };
  const table: ScpiNode[] = [
    // SOURce
    {
      pattern: '[:SOURce]:FUNCtion[:MODE]',
      set: (c) => {
        ch.advance(c.at);
        ch.func = choiceArg(c, ['VOLTage', 'CURRent']) === 0 ? 'voltage' : 'current';
      },
      query: () => (ch.func === 'voltage' ? 'VOLT' : 'CURR'),
    },
    { pattern: '[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setLevel(c, 'voltage'), query: () => sci(ch.levelV) },
    { pattern: '[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]', set: (c) => setLevel(c, 'current'), query: () => sci(ch.levelI) },
    { pattern: '[:SOURce]:VOLTage:RANGe', set: (c) => ((ch.sourceRangeV = Math.abs(numArg(c, 0, { min: -MAXV, max: MAXV, def: 21 }))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeV) },
    { pattern: '[:SOURce]:CURRent:RANGe', set: (c) => ((ch.sourceRangeI = Math.abs(numArg(c, 0, { min: -MAXI, max: MAXI, def: 1.05e-4 }))), (ch.sourceAutorange = false)), query: () => sci(ch.sourceRangeI) },
    { pattern: '[:SOURce]:VOLTage:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
    { pattern: '[:SOURce]:CURRent:RANGe:AUTO', set: (c) => (ch.sourceAutorange = boolArg(c)), query: () => b01(ch.sourceAutorange) },
    { pattern: '[:SOURce]:VOLTage:MODE', set: (c) => (st.modeV = mode(c)), query: () => st.modeV },
    { pattern: '[:SOURce]:CURRent:MODE', set: (c) => (st.modeI = mode(c)), query: () => st.modeI },
    { pattern: '[:SOURce]:LIST:VOLTage', set: (c) => (st.listV = list(c, MAXV)), query: () => st.listV.map(sci).join(',') },
    { pattern: '[:SOURce]:LIST:CURRent', set: (c) => (st.listI = list(c, MAXI)), query: () => st.listI.map(sci).join(',') },
    { pattern: '[:SOURce]:DELay', set: (c) => (ch.sourceDelay = numArg(c, 0, { min: 0, max: 999.9999 })), query: () => sci(ch.sourceDelay) },
    { pattern: '[:SOURce]:CLEar[:IMMediate]', set: (c) => ch.setOutput(false, c.at) },
    // SENSe
    { pattern: '[:SENSe]:FUNCtion[:ON]', set: () => undefined, query: () => '"VOLT:DC","CURR:DC"' },
    { pattern: '[:SENSe]:FUNCtion:CONCurrent', set: (c) => void boolArg(c), query: () => '1' },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitI = numArg(c, 0, { min: 1e-9, max: MAXI, def: 1.05e-4 })), query: () => sci(ch.limitI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:PROTection[:LEVel]', set: (c) => (ch.limitV = numArg(c, 0, { min: 2e-4, max: MAXV, def: 21 })), query: () => sci(ch.limitV) },
    { pattern: '[:SENSe]:CURRent[:DC]:PROTection:TRIPped', query: () => b01(ch.lastCompliance && ch.func === 'voltage') },
    { pattern: '[:SENSe]:VOLTage[:DC]:PROTection:TRIPped', query: () => b01(ch.lastCompliance && ch.func === 'current') },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeI = numArg(c, 0, { min: 0, max: MAXI })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeI) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe[:UPPer]', set: (c) => ((ch.measureRangeV = numArg(c, 0, { min: 0, max: MAXV })), (ch.measureAutorange = false)), query: () => sci(ch.measureRangeV) },
    { pattern: '[:SENSe]:CURRent[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    { pattern: '[:SENSe]:VOLTage[:DC]:RANGe:AUTO', set: (c) => (ch.measureAutorange = boolArg(c)), query: () => b01(ch.measureAutorange) },
    { pattern: '[:SENSe]:CURRent[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 0.01, max: 10, def: 1 })), query: () => sci(ch.nplc) },
    { pattern: '[:SENSe]:VOLTage[:DC]:NPLCycles', set: (c) => (ch.nplc = numArg(c, 0, { min: 0.01, max: 10, def: 1 })), query: () => sci(ch.nplc) },
    // SYSTem
    { pattern: ':SYSTem:RSENse', set: (c) => (ch.fourWire = boolArg(c)), query: () => b01(ch.fourWire) },
    { pattern: ':SYSTem:TIME:RESet', set: (c) => (st.timeZero = c.at) },
    { pattern: ':SYSTem:TIME', query: (c) => sci(c.at - st.timeZero) },
    { pattern: ':SYSTem:PRESet', set: (c) => (ch.resetState(), reset(), void c) },
    // OUTPut
    { pattern: ':OUTPut[:STATe]', set: (c) => ch.setOutput(boolArg(c), c.at), query: () => b01(ch.output) },
    // TRIGger / ARM / INITiate
    { pattern: ':TRIGger:COUNt', set: (c) => (st.triggerCount = numArg(c, 0, { min: 1, max: 2500, def: 1 })), query: () => String(st.triggerCount) },
    { pattern: ':TRIGger:DELay', set: (c) => void numArg(c, 0, { min: 0, max: 999.9999 }), query: () => sci(0) },
    { pattern: ':ARM:COUNt', set: (c) => void numArg(c, 0, { min: 1, max: 2500 }), query: () => '1' },
    { pattern: ':ABORt', set: () => undefined },
    // FORMat
    {
      pattern: ':FORMat:ELEMents[:SENSe]',
      set: (c) => {
        const names = ['VOLTage', 'CURRent', 'RESistance', 'TIME', 'STATus'];
        const el = c.args.map((_, k) => ['VOLT', 'CURR', 'RES', 'TIME', 'STAT'][choiceArg(c, names, k)]);
        if (!el.length) throw new ScpiError(-109, 'Missing parameter');
        st.elements = el;
      },
      query: () => st.elements.join(','),
    },
    // Measurement
    { pattern: ':READ', query: read },
    { pattern: ':MEASure[:CURRent][:DC]', query: read },
    { pattern: ':MEASure:VOLTage[:DC]', query: read },
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
  return new ScpiInstrument(
    {
      model: 'Keithley 2400',
      idn: 'KEITHLEY INSTRUMENTS INC.,MODEL 2400,4099999,C32   Oct  4 2010 14:20:11/A02  /S/K',
      channel: ch,
      errorQueueSize: 10,
      formatError: (code, msg) => `${code},"${msg}"`,
      onReset: reset,
    },
    table,
  );
}
