/**
 * Transcript tests: every setting's getter and setter, and each driver function, checked against the
 * exact command/reply sequence (scripted transport, fails on leftovers).
 */
import { describe, expect, it } from 'vitest';
import { ScriptedTransport, type TranscriptStep } from '../transport/scripted.ts';
import { Session } from '../transport/session.ts';
import { familyFromIdn, identifySmu } from './connect.ts';
import { K2400, Keithley2400, sweepSegments } from './keithley2400.ts';
import { ivLoop } from './smu.ts';
import { K2600B, Keithley2600B } from './keithley2600b.ts';
import { B2900, KeysightB2900 } from './keysightB2900.ts';
import type { Setting } from './settings.ts';

const OK_SCPI: TranscriptStep = [':SYST:ERR?', '0,"No error"'];
const OK_TSP: TranscriptStep = ['print(errorqueue.count)', '0.00000e+00'];

type AnySetting = Setting<any> & { validate: (v: any) => void };

/** A valid sample value and the instrument's reply for it. */
function sample(s: AnySetting, dialect: 'scpi' | 'tsp'): { value: unknown; reply: string } {
  for (const v of [true]) {
    try {
      s.validate(v);
      return { value: v, reply: dialect === 'tsp' ? '1.00000e+00' : '1' };
    } catch {
      /* not boolean */
    }
  }
  for (const v of [0.5, 1, 2, 1e-3]) {
    try {
      s.validate(v);
      return { value: v, reply: dialect === 'tsp' ? v.toExponential(5) : `+${v.toExponential(6).toUpperCase()}` };
    } catch {
      /* try next */
    }
  }
  // a choice: the set template tells the wire token of the first choice
  const probe = ['voltage', 'fixed', 'linear'].find((c) => {
    try {
      s.validate(c);
      return true;
    } catch {
      return false;
    }
  })!;
  const token = s.set(probe).split(/[ =]+/).pop()!;
  return { value: probe, reply: dialect === 'tsp' ? '1.00000e+00' : token };
}

const tables = [
  { name: 'Keithley 2400', table: K2400, dialect: 'scpi' as const, make: (s: Session) => new Keithley2400(s, 'idn') },
  { name: 'Keithley 2600B', table: K2600B, dialect: 'tsp' as const, make: (s: Session) => new Keithley2600B(s, 'idn') },
  { name: 'Keysight B2900', table: B2900, dialect: 'scpi' as const, make: (s: Session) => new KeysightB2900(s, 'idn') },
];

for (const { name, table, dialect, make } of tables) {
  describe(`${name} settings (getter and setter per row of the command table)`, () => {
    for (const [key, setting] of Object.entries(table) as [string, AnySetting][]) {
      const { value, reply } = sample(setting, dialect);
      it(`${key}: set then get`, async () => {
        const t = new ScriptedTransport([[setting.set(value), null], dialect === 'tsp' ? OK_TSP : OK_SCPI, [setting.query!, reply]]);
        const drv = make(new Session(t, { dialect })) as unknown as { set: (s: AnySetting, v: unknown) => Promise<void>; get: (s: AnySetting) => Promise<unknown> };
        await drv.set(setting, value);
        expect(await drv.get(setting)).toEqual(value);
        t.assertDone();
      });
    }
    it('refuses an out-of-range value before writing anything', async () => {
      const t = new ScriptedTransport([]);
      const drv = make(new Session(t, { dialect })) as unknown as { set: (s: AnySetting, v: unknown) => Promise<void> };
      await expect(drv.set(table.voltageLevel, 1e6)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(drv.set(table.nplc, -1)).rejects.toThrow(/NPLC = -1 refused: allowed range/);
      await expect(drv.set(table.sourceFunction, 'power')).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      expect(t.written).toEqual([]);
    });
  });
}

describe('Keithley 2400 functions', () => {
  const ok = OK_SCPI;
  const configure: TranscriptStep[] = [
    [':SENS:CURR:PROT 0.001', null], ok,
    [':SOUR:FUNC VOLT', null], ok,
    [':SOUR:VOLT:MODE FIX', null], ok,
    [':SOUR:VOLT:RANG:AUTO ON', null], ok,
    [':SENS:CURR:RANG:AUTO ON', null], ok,
    [':SENS:CURR:NPLC 0.1', null], ok,
    [':SYST:RSEN OFF', null], ok,
    [':FORM:ELEM VOLT,CURR,TIME', null], ok,
    [':SOUR:VOLT:LEV 0', null], ok,
  ];
  it('configure sets compliance first, then function, ranges, NPLC, sensing, format, level', async () => {
    const t = new ScriptedTransport(configure);
    await new Keithley2400(new Session(t, { dialect: 'scpi' }), 'idn').configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.1 });
    t.assertDone();
  });
  it('output, single reading, level', async () => {
    const t = new ScriptedTransport([
      ...configure,
      [':OUTP ON', null], ok,
      [':SOUR:VOLT:LEV 0.25', null],
      [':READ?', '+2.500000E-01,+2.500000E-05,+1.234000E+00'],
      [':OUTP?', '1'],
    ]);
    const k = new Keithley2400(new Session(t, { dialect: 'scpi' }), 'idn');
    await k.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.1 });
    await k.output(true);
    await k.setLevel(0.25);
    expect(await k.read()).toEqual({ v: 0.25, i: 2.5e-5, t: 1.234 });
    expect(await k.isOutputOn()).toBe(true);
    t.assertDone();
  });
  it('list sweep: LIST mode, trigger count, one :READ? with all points, back to FIXed', async () => {
    const t = new ScriptedTransport([
      ...configure,
      [':SOUR:DEL 0.001', null], ok,
      [':SOUR:VOLT:MODE LIST', null], ok,
      [':SOUR:LIST:VOLT 0,0.5,1', null], ok,
      [':TRIG:COUN 3', null], ok,
      [':READ?', '+0.0E+00,+0.0E+00,+1.0E-02,+5.0E-01,+5.0E-05,+2.0E-02,+1.0E+00,+1.0E-04,+3.0E-02'], ok,
      [':SOUR:VOLT:MODE FIX', null], ok,
      [':TRIG:COUN 1', null], ok,
    ]);
    const k = new Keithley2400(new Session(t, { dialect: 'scpi' }), 'idn');
    await k.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.1 });
    const r = await k.listSweep([0, 0.5, 1], { delayS: 0.001 });
    expect(r).toEqual([
      { v: 0, i: 0, t: 0.01 },
      { v: 0.5, i: 5e-5, t: 0.02 },
      { v: 1, i: 1e-4, t: 0.03 },
    ]);
    t.assertDone();
  });
  it('list sweep: linear runs go to the built-in SWEep (start/stop/points), the rest to LIST chunks', async () => {
    const ramp = Array.from({ length: 10 }, (_, k) => k / 10); // 0 … 0.9: one SWEep
    const levels = [...ramp, 0.5, 0.2];
    const reading = (v: number) => `${v},${v * 1e-3},0.1`;
    const t = new ScriptedTransport([
      ...configure,
      [':SOUR:DEL 0', null], ok,
      [':SOUR:VOLT:MODE SWE', null], ok,
      [':SOUR:SWE:SPAC LIN', null], ok,
      [':SOUR:VOLT:STAR 0', null], ok,
      [':SOUR:VOLT:STOP 0.9', null], ok,
      [':SOUR:SWE:POIN 10', null], ok,
      [':TRIG:COUN 10', null], ok,
      [':READ?', ramp.map(reading).join(',')], ok,
      [':SOUR:VOLT:MODE LIST', null], ok,
      [':SOUR:LIST:VOLT 0.5,0.2', null], ok,
      [':TRIG:COUN 2', null], ok,
      [':READ?', [0.5, 0.2].map(reading).join(',')], ok,
      [':SOUR:VOLT:MODE FIX', null], ok,
      [':TRIG:COUN 1', null], ok,
    ]);
    const k = new Keithley2400(new Session(t, { dialect: 'scpi' }), 'idn');
    await k.configure({ func: 'voltage', level: 0, compliance: 1e-3, nplc: 0.1 });
    const r = await k.listSweep(levels);
    expect(r.map((x) => x.v)).toEqual(levels);
    t.assertDone();
  });
  it('sweepSegments: staircases of ≥ 8 points become SWEeps (≤ 2,500), the rest LIST chunks (≤ 100)', () => {
    expect(sweepSegments([0, 1, 2, 3, 4, 5, 6, 7, 5, 5])).toEqual([
      { kind: 'sweep', start: 0, stop: 7, points: 8 },
      { kind: 'list', levels: [5, 5] },
    ]);
    expect(sweepSegments([0, 1, 2, 0, 1, 2])).toEqual([{ kind: 'list', levels: [0, 1, 2, 0, 1, 2] }]);
    const loop = ivLoop(1, 25); // up, down, up: three staircases
    const segs = sweepSegments(loop);
    expect(segs.every((s) => s.kind === 'sweep')).toBe(true);
    expect(segs.reduce((n, s) => n + (s.kind === 'sweep' ? s.points : s.levels.length), 0)).toBe(loop.length);
    const long = Array.from({ length: 3000 }, (_, k) => k * 1e-3);
    expect(sweepSegments(long).map((s) => (s.kind === 'sweep' ? s.points : -1))).toEqual([2500, 500]);
    const jagged = Array.from({ length: 250 }, (_, k) => (k % 2 ? 0.1 : 0));
    expect(sweepSegments(jagged).map((s) => (s.kind === 'list' ? s.levels.length : -1))).toEqual([100, 100, 50]);
  });
  it('reset sends *RST (checked) and *CLS', async () => {
    const t = new ScriptedTransport([['*RST', null], ok, ['*CLS', null]]);
    await new Keithley2400(new Session(t, { dialect: 'scpi' }), 'idn').reset();
    t.assertDone();
  });
});

describe('Keithley 2600B functions', () => {
  const ok = OK_TSP;
  const configure: TranscriptStep[] = [
    ['smua.source.limitv = 2', null], ok,
    ['smua.source.func = smua.OUTPUT_DCAMPS', null], ok,
    ['smua.source.rangei = 0.001', null], ok,
    ['smua.measure.autorangev = smua.AUTORANGE_ON', null], ok,
    ['smua.measure.nplc = 1', null], ok,
    ['smua.sense = smua.SENSE_REMOTE', null], ok,
    ['smua.source.leveli = 1e-4', null], ok,
  ];
  it('configure (current source, fixed range, 4-wire)', async () => {
    const t = new ScriptedTransport(configure);
    await new Keithley2600B(new Session(t, { dialect: 'tsp' }), 'idn').configure({ func: 'current', level: 1e-4, compliance: 2, sourceRange: 1e-3, fourWire: true });
    t.assertDone();
  });
  it('single reading prints i, v and the timer', async () => {
    const cmd = 'reading_i, reading_v = smua.measure.iv() print(reading_i, reading_v, timer.measure.t())';
    const t = new ScriptedTransport([...configure, [cmd, '1.00000e-04\t2.00000e-01\t3.50000e+00']]);
    const k = new Keithley2600B(new Session(t, { dialect: 'tsp' }), 'idn');
    await k.configure({ func: 'current', level: 1e-4, compliance: 2, sourceRange: 1e-3, fourWire: true });
    expect(await k.read()).toEqual({ i: 1e-4, v: 0.2, t: 3.5 });
    t.assertDone();
  });
  it('buffered sweep through the trigger model with one printbuffer read-out', async () => {
    const t = new ScriptedTransport([
      ...configure,
      ['smua.nvbuffer1.clear()', null], ok,
      ['smua.nvbuffer2.clear()', null], ok,
      ['smua.nvbuffer1.collecttimestamps = 1', null], ok,
      ['smua.nvbuffer2.collecttimestamps = 1', null], ok,
      ['smua.source.delay = 0', null], ok,
      ['smua.trigger.source.listi({1e-4, 2e-4})', null], ok,
      ['smua.trigger.source.action = smua.ENABLE', null], ok,
      ['smua.trigger.measure.iv(smua.nvbuffer1, smua.nvbuffer2)', null], ok,
      ['smua.trigger.measure.action = smua.ENABLE', null], ok,
      ['smua.trigger.count = 2', null], ok,
      ['smua.trigger.initiate() waitcomplete()', null], ok,
      ['printbuffer(1, 2, smua.nvbuffer1.readings, smua.nvbuffer2.readings, smua.nvbuffer1.timestamps)', '1.00000e-04, 1.00000e-01, 2.00000e-02, 2.00000e-04, 2.00000e-01, 4.00000e-02'], ok,
      ['smua.trigger.source.action = smua.DISABLE', null], ok,
    ]);
    const k = new Keithley2600B(new Session(t, { dialect: 'tsp' }), 'idn');
    await k.configure({ func: 'current', level: 1e-4, compliance: 2, sourceRange: 1e-3, fourWire: true });
    expect(await k.listSweep([1e-4, 2e-4])).toEqual([
      { i: 1e-4, v: 0.1, t: 0.02 },
      { i: 2e-4, v: 0.2, t: 0.04 },
    ]);
    t.assertDone();
  });
  it('source function reply printed as a number parses', () => {
    expect(K2600B.sourceFunction.parse('1.00000e+00')).toBe('voltage');
    expect(K2600B.sourceFunction.parse('0.00000e+00')).toBe('current');
  });
});

describe('Keysight B2900 functions', () => {
  const ok = OK_SCPI;
  const configure: TranscriptStep[] = [
    [':SENS:CURR:PROT 0.01', null], ok,
    [':SOUR:FUNC:MODE VOLT', null], ok,
    [':SOUR:VOLT:MODE FIX', null], ok,
    [':SOUR:VOLT:RANG 2', null], ok,
    [':SENS:CURR:RANG 0.001', null], ok,
    [':SENS:CURR:NPLC 1', null], ok,
    [':SENS:REM OFF', null], ok,
    [':FORM:ELEM:SENS VOLT,CURR,TIME', null], ok,
    [':SOUR:VOLT 0', null], ok,
  ];
  it('list sweep: :INIT, *OPC? wait, :FETC:ARR? bulk read', async () => {
    const t = new ScriptedTransport([
      ...configure,
      [':SOUR:VOLT:MODE LIST', null], ok,
      [':SOUR:LIST:VOLT -1,1', null], ok,
      [':TRIG:TRAN:DEL 0', null], ok,
      [':TRIG:COUN 2', null], ok,
      [':INIT', null], ok,
      ['*OPC?', '1'],
      [':FETC:ARR?', '-1.0E+00,-1.0E-03,+5.0E-01,+1.0E+00,+1.0E-03,+5.2E-01'], ok,
      [':SOUR:VOLT:MODE FIX', null], ok,
      [':TRIG:COUN 1', null], ok,
      [':MEAS?', '+0.0E+00,+1.0E-12,+6.0E-01'],
    ]);
    const k = new KeysightB2900(new Session(t, { dialect: 'scpi' }), 'idn');
    await k.configure({ func: 'voltage', level: 0, compliance: 0.01, sourceRange: 2, measureRange: 1e-3 });
    expect(await k.listSweep([-1, 1])).toEqual([
      { v: -1, i: -1e-3, t: 0.5 },
      { v: 1, i: 1e-3, t: 0.52 },
    ]);
    expect(await k.read()).toEqual({ v: 0, i: 1e-12, t: 0.6 });
    t.assertDone();
  });
});

describe('identification', () => {
  it('picks the driver from *IDN?', async () => {
    expect(familyFromIdn('KEITHLEY INSTRUMENTS INC.,MODEL 2400,1234,C30')?.family).toBe('keithley2400');
    expect(familyFromIdn('KEITHLEY INSTRUMENTS INC.,MODEL 2410,1234,C30')?.model).toBe('Keithley 2410');
    expect(familyFromIdn('Keithley Instruments Inc., Model 2636B, 1, 3.0')?.family).toBe('keithley2600b');
    expect(familyFromIdn('Keysight Technologies,B2912A,MY1,3.4')?.family).toBe('keysightB2900');
    expect(familyFromIdn('Agilent Technologies,B2901A,MY1,3.4')?.family).toBe('keysightB2900');
    const t = new ScriptedTransport([['*IDN?', 'Rohde&Schwarz,NGU401,1,2']]);
    await expect(identifySmu(t)).rejects.toThrow(/identifies as "Rohde&Schwarz,NGU401,1,2", which no SMU driver handles \(supported: Keithley 2400/);
    const t2 = new ScriptedTransport([['*IDN?', 'Keithley Instruments Inc., Model 2602B, 1, 3.0']]);
    const drv = await identifySmu(t2);
    expect(drv).toBeInstanceOf(Keithley2600B);
    expect(drv.session.dialect).toBe('tsp');
  });
});
