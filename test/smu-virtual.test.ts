/** The virtual instruments' dialects, error queues and physics, driven line by line (no ports). */
import { describe, expect, it } from 'vitest';
import { Resistor } from '../drivers/smu/virtual/dut.ts';
import { createVirtual2400 } from '../drivers/smu/virtual/k2400.ts';
import { createVirtual2600B } from '../drivers/smu/virtual/k2600b.ts';
import { createVirtualB2900 } from '../drivers/smu/virtual/b2900.ts';
import type { VirtualInstrument } from '../drivers/smu/virtual/core.ts';

function session(inst: VirtualInstrument) {
  let t = 0;
  return (line: string) => {
    const r = inst.execute(line, t);
    t += r.busyS + 1e-3;
    return r.reply;
  };
}

describe('virtual 2400 SCPI syntax', () => {
  it('accepts short and long forms, any case, optional nodes and numeric suffixes', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':SOURce:VOLTage:LEVel:IMMediate:AMPLitude 1.5');
    expect(q(':SOUR:VOLT?')).toBe('+1.500000E+00');
    q('sour1:volt 2.5');
    expect(q(':source:voltage:level?')).toBe('+2.500000E+00');
    q('VOLT 0.5'); // [:SOURce] is optional
    expect(q('SOUR:VOLT:LEV?')).toBe('+5.000000E-01');
    expect(q(':SYST:ERR?')).toBe('0,"No error"');
  });

  it('runs compound commands with the SCPI path rule and joins query replies', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    expect(q(':SOUR:VOLT 1;CURR 0.01;:SOUR:VOLT?;CURR?;*OPC?')).toBe('+1.000000E+00;+1.000000E-02;1');
  });

  it('puts the real error numbers in the queue and stops executing the message at an error', () => {
    const inst = createVirtual2400(new Resistor(1e3));
    const q = session(inst);
    q(':SOUR:VOLT 1;:BOGUS 3;:SOUR:VOLT 2');
    expect(q(':SOUR:VOLT?')).toBe('+1.000000E+00');
    q(':SOUR:VOLT 300');
    q(':SOUR:VOLT abc');
    q(':READ?'); // output off
    expect(q('*ESR?')).toBe(String(32 | 16 | 8));
    expect(q('*STB?')).toBe('4'); // error available
    expect(q(':SYST:ERR?')).toBe('-113,"Undefined header"');
    expect(q(':SYST:ERR?')).toBe('-222,"Data out of range"');
    expect(q(':SYST:ERR?')).toBe('-104,"Data type error"');
    expect(q(':SYST:ERR?')).toBe('803,"Output disabled"');
    expect(q(':SYST:ERR?')).toBe('0,"No error"');
    expect(inst.log.map((e) => e.line)).toContain(':SOUR:VOLT abc');
  });

  it('overflows the 10-entry queue into -350', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    for (let k = 0; k < 12; k++) q(':NOPE');
    const errs = Array.from({ length: 11 }, () => q(':SYST:ERR?'));
    expect(errs.slice(0, 9).every((e) => e === '-113,"Undefined header"')).toBe(true);
    expect(errs[9]).toBe('-350,"Queue overflow"');
    expect(errs[10]).toBe('0,"No error"');
    q('*CLS');
  });

  it('enforces compliance: sourcing 10 V into 1 kΩ with a 1 mA limit gives 1 mA at 1 V', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':SENS:CURR:PROT 1e-3;:SOUR:VOLT 10;:FORM:ELEM VOLT,CURR;:OUTP ON');
    const [v, i] = q(':READ?')!.split(',').map(Number);
    expect(i).toBeCloseTo(1e-3, 12);
    expect(v).toBeCloseTo(1, 9);
    expect(q(':SENS:CURR:PROT:TRIP?')).toBe('1');
    q(':SOUR:VOLT 0.5');
    const [v2, i2] = q(':READ?')!.split(',').map(Number);
    expect([v2, i2]).toEqual([0.5, 0.5e-3]);
  });
});

describe('virtual 2400 as the manual describes it', () => {
  const err = (q: (l: string) => string | null) => q(':SYST:ERR?');

  it('answers the raw commands labs send, each as the manual says', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    expect(q(':SYST:AZER:STAT?')).toBe('1');
    q(':SYST:AZER ONCE;:SYST:AZER OFF');
    expect(q(':SYST:AZER?')).toBe('0');
    expect(q(':DISP:ENAB?')).toBe('1');
    q(':ROUT:TERM REAR');
    expect(q(':ROUT:TERM?')).toBe('REAR');
    expect(q(':OUTP:SMOD?')).toBe('NORM');
    q(':OUTP:SMOD HIMP');
    expect(q(':OUTP:SMOD?')).toBe('HIMP');
    q(':ARM:SOUR TIM;:ARM:TIM 0.5;:TRIG:SOUR TLIN');
    expect(q(':ARM:SOUR?;:ARM:TIM?;:TRIG:SOUR?')).toBe('TIM;+5.000000E-01;TLIN');
    q(':SENS:RES:MODE MAN;:SENS:RES:RANG 2e4;:SENS:RES:NPLC 0.1');
    expect(q(':SENS:RES:MODE?;:SENS:RES:RANG?;:SENS:RES:RANG:AUTO?')).toBe('MAN;+2.000000E+04;0');
    q(':SENS:AVER:TCON MOV;:SENS:AVER:COUN 7;:SENS:AVER ON');
    expect(q(':SENS:AVER?;:SENS:AVER:TCON?;:SENS:AVER:COUN?')).toBe('1;MOV;7');
    expect(err(q)).toBe('0,"No error"');
    expect(q(':FETC?')).toBeNull(); // nothing measured yet
    expect(err(q)).toBe('-230,"Data corrupt or stale"');
    q(':SENS:AVER:COUN 101');
    expect(err(q)).toBe('-222,"Data out of range"');
    q(':ROUT:TERM SIDE');
    expect(err(q)).toBe('-224,"Illegal parameter value"');
    q(':TRAC:NOPE?');
    expect(err(q)).toBe('-113,"Undefined header"');
  });

  it(':INIT then :FETC? returns arm count × trigger count readings; :READ? does both', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':SOUR:VOLT 1;:SENS:CURR:PROT 0.01;:FORM:ELEM CURR;:OUTP ON;:ARM:COUN 2;:TRIG:COUN 3');
    q(':INIT');
    const vals = q(':FETC?')!.split(',').map(Number);
    expect(vals).toEqual(Array(6).fill(1e-3));
    expect(q(':READ?')!.split(',')).toHaveLength(6);
    q(':ARM:COUN 1000;:TRIG:COUN 3');
    q(':INIT');
    expect(err(q)).toBe('-221,"Settings conflict"'); // more than 2,500 readings
  });

  it('waits for *TRG with the arm source on the bus; :READ? then is a trigger deadlock', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':SOUR:VOLT 2;:SENS:CURR:PROT 0.01;:FORM:ELEM CURR;:OUTP ON;:ARM:SOUR BUS');
    q(':READ?');
    expect(err(q)).toBe('-214,"Trigger deadlock"');
    q(':INIT');
    q('*TRG');
    expect(Number(q(':FETC?'))).toBeCloseTo(2e-3, 12);
  });

  it('runs linear and log SWEeps from STARt/STOP/STEP and POINts, UP and DOWN', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':SENS:CURR:PROT 0.1;:FORM:ELEM VOLT;:OUTP ON');
    q(':SOUR:VOLT:MODE SWE;:SOUR:VOLT:STAR 0;:SOUR:VOLT:STOP 1;:SOUR:VOLT:STEP 0.25');
    expect(q(':SOUR:SWE:POIN?')).toBe('5');
    q(':TRIG:COUN 5');
    expect(q(':READ?')!.split(',').map(Number)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Number(q(':SOUR:VOLT?'))).toBe(0); // back to the bias level
    q(':SOUR:SWE:DIR DOWN');
    expect(q(':READ?')!.split(',').map(Number)).toEqual([1, 0.75, 0.5, 0.25, 0]);
    q(':SOUR:SWE:DIR UP;:SOUR:SWE:SPAC LOG;:SOUR:VOLT:STAR 0.01;:SOUR:VOLT:STOP 1;:SOUR:SWE:POIN 3;:TRIG:COUN 3');
    expect(q(':READ?')!.split(',').map(Number)).toEqual([0.01, 0.1, 1]);
    q(':SOUR:VOLT:MODE LIST;:SOUR:LIST:VOLT 0.3,0.1');
    expect(q(':SOUR:LIST:VOLT:POIN?')).toBe('2');
    expect(q(':READ?')!.split(',').map(Number)).toEqual([0.3, 0.1, 0.3]);
  });

  it('fills the trace buffer, raises buffer-full through *SRE/:STAT:MEAS:ENAB, and gives CALC3 statistics', () => {
    const inst = createVirtual2400(new Resistor(2e3));
    let t = 0;
    const at = (l: string, dt = 1e-3) => {
      const r = inst.execute(l, t);
      t += r.busyS + dt;
      return r.reply;
    };
    at(':STAT:PRES;*CLS;*SRE 1;:STAT:MEAS:ENAB 512;:TRAC:CLE;:TRAC:POIN 4;:TRIG:COUN 4;:TRAC:FEED SENS;:TRAC:FEED:CONT NEXT');
    at(':SOUR:VOLT 1;:SENS:CURR:PROT 0.01;:SENS:CURR:NPLC 1;:OUTP ON');
    at(':INIT');
    expect(at('*STB?')).toBe('0'); // 4 readings at 1 PLC take 67 ms: not full yet
    t += 0.1;
    expect(at('*STB?')).toBe('65'); // MSS + measurement summary
    expect(at(':TRAC:POIN:ACT?;:TRAC:FEED:CONT?')).toBe('4;NEV');
    expect(at(':CALC3:FORM MEAN;:CALC3:DATA?')!.split(',').map(Number)).toEqual([1, 5e-4]);
    expect(at(':CALC3:FORM PKPK;:CALC3:DATA?')!.split(',').map(Number)).toEqual([0, 0]);
    const trace = at(':FORM:ELEM VOLT,TIME;:TRAC:TST:FORM DELT;:TRAC:DATA?')!.split(',').map(Number);
    expect(trace).toHaveLength(8);
    expect(trace[3]).toBeCloseTo(1 / 60, 7); // one integration apart (fixed level: no sweep overhead)
    expect(Number(at(':STAT:MEAS?')) & 512).toBe(512);
    expect(at(':STAT:MEAS?')).toBe('0'); // reading the event register clears it
    at(':TRAC:CLE');
    at(':CALC3:DATA?');
    expect(at(':SYST:ERR?')).toBe('-230,"Data corrupt or stale"');
  });

  it('measures resistance when ohms are on, and a repeating filter multiplies the integration time', () => {
    const q = session(createVirtual2400(new Resistor(4.7e3)));
    q(':SENS:CURR:PROT 0.01;:SOUR:VOLT 1;:OUTP ON;:FORM:ELEM RES');
    expect(Number(q(':READ?'))).toBe(9.91e37); // ohms off: NAN reading
    q(":SENS:FUNC 'RES'");
    expect(q(':SENS:FUNC?')).toBe('"VOLT:DC","CURR:DC","RES"');
    expect(Number(q(':READ?'))).toBeCloseTo(4.7e3, 6);
    const inst = createVirtual2400(new Resistor(1e3));
    inst.execute(':OUTP ON;:SENS:CURR:NPLC 1', 0);
    const plain = inst.execute(':READ?', 1).busyS;
    inst.execute(':SENS:AVER:TCON REP;:SENS:AVER:COUN 10;:SENS:AVER ON', 2);
    expect(inst.execute(':READ?', 3).busyS).toBeCloseTo(10 * plain, 9);
  });

  it('PyMeasure-style reset (status:queue:clear;*RST;:stat:pres;:*CLS;) leaves no error', () => {
    const q = session(createVirtual2400(new Resistor(1e3)));
    q(':NOPE');
    q('status:queue:clear;*RST;:stat:pres;:*CLS;');
    expect(q('status:queue?;')).toBe('0,"No error"');
  });
});

describe('virtual B2900', () => {
  it('list sweep via :INIT, *OPC? waits for the sweep, :FETC:ARR? returns it', () => {
    const inst = createVirtualB2900(new Resistor(2e3));
    const q = session(inst);
    q(':SOUR:FUNC:MODE VOLT;:SENS:CURR:PROT 0.1;:SENS:CURR:NPLC 0.1;:FORM:ELEM:SENS VOLT,CURR,TIME');
    q(':SOUR:VOLT:MODE LIST;:SOUR:LIST:VOLT 1,2,3;:TRIG:COUN 3;:OUTP ON');
    const init = inst.execute(':INIT', 1);
    const opc = inst.execute('*OPC?', 1);
    expect(opc.reply).toBe('1');
    expect(opc.busyS).toBeCloseTo(3 * (0.1 / 50 + 1e-4), 9); // the instrument-side sweep time
    expect(init.busyS).toBe(0); // overlapped
    const vals = inst.execute(':FETC:ARR?', 2).reply!.split(',').map(Number);
    expect(vals.length).toBe(9);
    expect([vals[0], vals[3], vals[6]]).toEqual([1, 2, 3]);
    expect(vals[4]).toBeCloseTo(1e-3, 12);
    expect(inst.execute(':SYST:ERR?', 3).reply).toBe('+0,"No error"');
  });
});

describe('virtual B2900 subsystems', () => {
  it('answers :MEAS:CURR?, :SENS:FUNC, :FORM:DATA ASC and aperture as the manual says', () => {
    const q = session(createVirtualB2900(new Resistor(1e3)));
    q(':SOUR:FUNC:MODE VOLT;:SOUR:VOLT 0.5;:SENS:CURR:PROT 0.01;:OUTP ON');
    q(':SENS:FUNC "CURR"');
    expect(q(':SENS:FUNC?')).toBe('"VOLT","CURR"');
    q(':FORM:DATA ASC');
    expect(q(':FORM:DATA?')).toBe('ASC');
    q(':SENS:CURR:APER 2e-3');
    expect(q(':SENS:CURR:APER?;:SENS:CURR:NPLC?')).toBe('+2.000000E-03;+1.000000E-01');
    expect(Number(q(':MEAS:CURR?'))).toBeCloseTo(5e-4, 12);
    expect(Number(q(':MEAS:VOLT?'))).toBeCloseTo(0.5, 12);
    expect(q(':SYST:ERR?')).toBe('+0,"No error"');
    q(':FORM:DATA REAL,64');
    expect(q(':SYST:ERR?')).toBe('-224,"Illegal parameter value"'); // binary transfer not emulated
    q(':SENS:CURR:APER 5');
    expect(q(':SYST:ERR?')).toBe('-222,"Data out of range"');
  });

  it('runs a staircase SWEep from STARt/STOP/POINts through :INIT, paced by a TIMer trigger', () => {
    const inst = createVirtualB2900(new Resistor(1e3));
    const q = session(inst);
    q(':SOUR:FUNC:MODE VOLT;:SENS:CURR:PROT 0.1;:SENS:CURR:NPLC 0.01;:FORM:ELEM:SENS VOLT,TIME');
    q(':SOUR:VOLT:MODE SWE;:SOUR:VOLT:STAR 0;:SOUR:VOLT:STOP 1;:SOUR:VOLT:POIN 5;:TRIG:COUN 5');
    q(':TRIG:TRAN:SOUR TIM;:TRIG:TRAN:TIM 0.01;:TRIG:ACQ:SOUR TIM;:TRIG:ACQ:TIM 0.01');
    q(':INIT');
    expect(q('*OPC?')).toBe('1');
    const vals = q(':FETC:ARR?')!.split(',').map(Number);
    expect(vals.filter((_, k) => k % 2 === 0)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const times = vals.filter((_, k) => k % 2 === 1);
    for (let k = 1; k < 5; k++) expect(times[k] - times[k - 1]).toBeCloseTo(0.01, 9);
    expect(q(':SYST:ERR?')).toBe('+0,"No error"');
    q(':TRIG:TRAN:SOUR BUS;:INIT');
    expect(q(':SYST:ERR?')).toBe('-214,"Trigger deadlock"');
  });
});

describe('virtual 2600B TSP', () => {
  it('assigns attributes, prints numbers the way the 2600B does, handles multiple statements', () => {
    const q = session(createVirtual2600B(new Resistor(1e3)));
    q('smua.source.func = smua.OUTPUT_DCVOLTS smua.source.limiti = 1e-2 smua.source.levelv = 0.25');
    expect(q('print(smua.source.levelv)')).toBe('2.50000e-01');
    q('smua.source.output = smua.OUTPUT_ON');
    expect(q('i, v = smua.measure.iv() print(i, v)')).toBe('2.50000e-04\t2.50000e-01');
    expect(q('x = 2 * -3 + 1 print(x, "ok", nil, true)')).toBe('-5.00000e+00\tok\tnil\ttrue');
  });

  it('reports syntax errors as -285 and run-time errors as -286, out of range as -222', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    q('smua.source.levelv = = 1');
    q('smua.source.nosuchfunction()');
    q('smua.source.levelv = 500');
    expect(q('print(errorqueue.count)')).toBe('3.00000e+00');
    expect(q('print(errorqueue.next())')).toMatch(/^-2\.85000e\+02\tTSP Syntax error/);
    expect(q('print(errorqueue.next())')).toMatch(/^-2\.86000e\+02\tTSP Runtime error.*nil value/);
    expect(q('print(errorqueue.next())')).toMatch(/^-2\.22000e\+02\t/);
    expect(q('print(errorqueue.next())')).toBe('0.00000e+00\tQueue Is Empty\t0.00000e+00\t1.00000e+00');
    expect(q('*IDN?')).toMatch(/Model 2602B/);
  });

  it('runs a trigger-model list sweep into nvbuffers and prints them interleaved', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    q('smua.source.limiti = 0.1 smua.measure.nplc = 0.01 smua.source.output = smua.OUTPUT_ON');
    q('smua.nvbuffer1.clear() smua.nvbuffer1.collecttimestamps = 1');
    q('smua.trigger.source.listv({0.1, 0.2, 0.3}) smua.trigger.source.action = smua.ENABLE');
    q('smua.trigger.measure.iv(smua.nvbuffer1, smua.nvbuffer2) smua.trigger.measure.action = smua.ENABLE');
    q('smua.trigger.count = 3');
    const r = inst.execute('smua.trigger.initiate() waitcomplete()', 10);
    expect(r.busyS).toBeGreaterThan(0);
    const vals = q('printbuffer(1, 3, smua.nvbuffer1.readings, smua.nvbuffer2.readings)')!.split(', ').map(Number);
    expect(vals).toEqual([1e-4, 0.1, 2e-4, 0.2, 3e-4, 0.3]);
    expect(q('print(smua.nvbuffer1.n)')).toBe('3.00000e+00');
  });
});

describe('virtual 2602B runs real Lua', () => {
  it('runs a factory-style sweep script: SweepVLinMeasureI into nvbuffer1, read back with a for loop', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    q('reset() smua.source.limiti = 0.01 smua.measure.nplc = 0.1');
    q('SweepVLinMeasureI(smua, 0, 1, 0.001, 5)');
    expect(q('print(smua.nvbuffer1.n, smua.source.output)')).toBe('5.00000e+00\t0.00000e+00');
    const line = q('local s = "" for k = 1, smua.nvbuffer1.n do s = s .. string.format("%.4f:%.6f,", smua.nvbuffer1.sourcevalues[k], smua.nvbuffer1.readings[k]) end print(s)');
    expect(line).toBe('0.0000:0.000000,0.2500:0.000250,0.5000:0.000500,0.7500:0.000750,1.0000:0.001000,');
    expect(q('print(#smua.nvbuffer1.readings)')).toBe('5.00000e+00');
    expect(q('print(errorqueue.count)')).toBe('0.00000e+00');
  });

  it('uploads a script with loadscript … endscript and runs it by name', () => {
    const q = session(createVirtual2600B(new Resistor(2e3)));
    for (const l of ['loadscript IvLoop', 'smua.source.limiti = 0.01', 'smua.source.output = smua.OUTPUT_ON', 'local out = {}', 'for _, v in ipairs({0.2, -0.2}) do', '  smua.source.levelv = v', '  out[#out + 1] = smua.measure.i()', 'end', 'smua.source.output = smua.OUTPUT_OFF', 'print(table.concat(out, ","))', 'endscript'])
      expect(q(l)).toBeNull();
    expect(q('IvLoop.run()')).toBe('0.0001,-0.0001');
    expect(q('IvLoop()')).toBe('0.0001,-0.0001');
  });

  it('has smub, display, beeper, measure count, filter, delay, highc and trigger attributes', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    q('smub.source.limiti = 1e-3 smub.source.levelv = 1 smub.source.output = smub.OUTPUT_ON');
    expect(Number(q('print(smub.measure.i())'))).toBeCloseTo(1e-6, 12); // smub's own 1 MΩ load
    q('display.clear() display.setcursor(1, 1) display.settext("spikeloop") beeper.beep(0.1, 2400)');
    expect(q('print(display.gettext())')).toBe('spikeloop');
    q('smua.measure.count = 3 smua.measure.filter.type = smua.FILTER_REPEAT_AVG smua.measure.filter.count = 4 smua.measure.filter.enable = smua.ENABLE');
    q('smua.measure.delay = smua.DELAY_AUTO smua.source.highc = smua.ENABLE smua.trigger.endsweep.action = smua.SOURCE_HOLD');
    expect(q('print(smua.measure.count, smua.measure.filter.count, smua.measure.delay, smua.source.highc, smua.trigger.endsweep.action)')).toBe(
      '3.00000e+00\t4.00000e+00\t-1.00000e+00\t1.00000e+00\t1.00000e+00',
    );
    q('smua.source.limiti = 0.01 smua.source.levelv = 0.5 smua.source.output = 1 smua.nvbuffer1.clear()');
    const before = inst.pendingUntil;
    const r = inst.execute('smua.measure.i(smua.nvbuffer1)', 10);
    expect(r.busyS).toBeCloseTo(3 * 4 * (1 / 50), 9); // count 3 × repeat filter 4 × 1 PLC at 50 Hz
    expect(inst.pendingUntil).toBe(before);
    expect(q('print(smua.nvbuffer1.n)')).toBe('3.00000e+00');
    expect(q('print(errorqueue.count)')).toBe('0.00000e+00');
  });

  it('keeps the real error numbers: -285 syntax, -286 run time, -222 range; a runaway loop is stopped', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    q('for k = 1, 3 do');
    q('smua.nosuch.thing = 1');
    q('smua.measure.filter.count = 1000');
    q('while true do end');
    const errs = Array.from({ length: 4 }, () => q('print(errorqueue.next())')!.split('\t').slice(0, 2));
    expect(errs[0][0]).toBe('-2.85000e+02');
    expect(errs[0][1]).toMatch(/^TSP Syntax error at line 1: 'end' expected/);
    expect(errs[1][0]).toBe('-2.86000e+02');
    expect(errs[2]).toEqual(['-2.22000e+02', 'Parameter out of range']);
    expect(errs[3][0]).toBe('-2.86000e+02');
    expect(q('print(io, os)')).toBe('nil\tnil'); // no file or process access from the wire
    q('x = string.rep("a", 1e8)');
    expect(q('print(errorqueue.next())')!.split('\t').slice(0, 2)).toEqual(['-2.86000e+02', expect.stringMatching(/1 MB limit/)]);
  });

  it('a chunk that would exhaust memory fails with the run-time error "not enough memory"; the instrument goes on', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    const next = () => q('print(errorqueue.next())')!.split('\t').slice(0, 2);
    // a string doubled in a loop: gigabytes within a few instructions, too fast for the instruction budget's hook
    q('s = string.rep("a", 1000) for i = 1, 40 do s = s .. s end');
    expect(next()).toEqual(['-2.86000e+02', 'TSP Runtime error: not enough memory']);
    // many strings each within 1 MB: 2 GB in all
    q('t = {} for i = 1, 2000 do t[i] = string.rep("a", 1000000) .. i end');
    expect(next()).toEqual(['-2.86000e+02', expect.stringMatching(/not enough memory/)]);
    q('t = nil s = nil');
    // within the budget: a 2,500-point sweep list as a script builds it, and the instrument answers as before
    q('levels = {} for i = 1, 2500 do levels[i] = string.format("%.6e", i * 1e-3) end joined = table.concat(levels, ",")');
    expect(q('print(#levels, #joined > 20000, errorqueue.count)')).toBe('2.50000e+03\ttrue\t0.00000e+00');
    // a report built by appending, as scripts do: its intermediate strings (150 MB in all) are garbage, not kept
    expect(q('r = "" for i = 1, 5000 do r = r .. string.format("%.6e,", i) end print(#r, errorqueue.count)')).toBe('6.00000e+04\t0.00000e+00');
    expect(q('smua.source.levelv = 0.5 print(smua.source.levelv)')).toBe('5.00000e-01');
    expect(new Uint8Array(4)).toBeInstanceOf(Uint8Array);
    expect(Uint8Array.name).toBe('Uint8Array');
  });

  it('a refusal caught with pcall is Lua\'s "not enough memory" there, and a later failure of the chunk reports its own error', () => {
    const inst = createVirtual2600B(new Resistor(1e3));
    const q = session(inst);
    const next = () => q('print(errorqueue.next())')!.split('\t').slice(0, 2);
    const doubling = 'function() local s = string.rep("a", 1000) for i = 1, 40 do s = s .. s end end';
    // as Lua's pcall answers an allocation that fails: false and the message; the chunk goes on
    expect(q(`ok, e = pcall(${doubling}) print(ok, e, errorqueue.count)`)).toBe('false\tnot enough memory\t0.00000e+00');
    // it was reported as "not enough memory" (a flag set by the caught refusal outlived it)
    q(`pcall(${doubling}) error("the script's own failure")`);
    expect(next()).toEqual(['-2.86000e+02', "TSP Runtime error at line 1: the script's own failure"]);
    q(`pcall(${doubling}) smua.source.levelv = 0.25`);
    expect(q('print(errorqueue.count, smua.source.levelv)')).toBe('0.00000e+00\t2.50000e-01');
  });
});
