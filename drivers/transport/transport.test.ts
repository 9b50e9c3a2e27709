import { describe, expect, it } from 'vitest';
import { InstrumentError } from './errors.ts';
import { ScriptedTransport } from './scripted.ts';
import { parseNumbers, Session } from './session.ts';
import { LineFramer } from './transport.ts';
import { formatResource, parseResource } from './visa.ts';

describe('LineFramer', () => {
  const frame = (chunks: string[], terminator = '\n', maxLineBytes = 64) => {
    const lines: string[] = [];
    const errors: InstrumentError[] = [];
    const f = new LineFramer({ terminator, maxLineBytes }, (l) => lines.push(l), (e) => errors.push(e));
    for (const c of chunks) f.push(Buffer.from(c, 'latin1'));
    return { lines, errors };
  };

  it('gives the same lines whatever the chunk boundaries', () => {
    const text = '+1.000000E-01,+2.000000E-05\r\n0,"No error"\nKEITHLEY\n';
    const whole = frame([text]).lines;
    expect(whole).toEqual(['+1.000000E-01,+2.000000E-05', '0,"No error"', 'KEITHLEY']);
    for (let seed = 1; seed < 40; seed++) {
      const chunks: string[] = [];
      let i = 0;
      let s = seed;
      while (i < text.length) {
        s = (s * 1103515245 + 12345) % 2147483648;
        const n = 1 + (s % 10); // serial reads deliver 1-10 bytes
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      expect(frame(chunks).lines).toEqual(whole);
    }
  });

  it('handles a two-byte terminator split across chunks', () => {
    expect(frame(['a\r', '\nb\r', '\n'], '\r\n').lines).toEqual(['a', 'b']);
  });

  it('reports an over-long line as a framing error and never emits part of it', () => {
    const { lines, errors } = frame(['x'.repeat(50), 'y'.repeat(50), 'z\nok\n'], '\n', 64);
    expect(errors.map((e) => e.code)).toEqual(['FRAMING']);
    expect(lines).toEqual(['ok']);
  });

  it('refuses an over-long line that arrives whole in one chunk', () => {
    const { lines, errors } = frame(['x'.repeat(100) + '\nok\n'], '\n', 64);
    expect(errors.map((e) => e.code)).toEqual(['FRAMING']);
    expect(lines).toEqual(['ok']);
  });
});

describe('VISA resource strings', () => {
  it('parses serial and TCP forms', () => {
    expect(parseResource('ASRL/dev/ttyUSB0::INSTR')).toEqual({ kind: 'serial', path: '/dev/ttyUSB0' });
    expect(parseResource('TCPIP0::192.168.1.20::5025::SOCKET')).toEqual({ kind: 'tcp', host: '192.168.1.20', port: 5025 });
    expect(parseResource('/dev/ttyACM0')).toEqual({ kind: 'serial', path: '/dev/ttyACM0' });
    expect(parseResource('COM3')).toEqual({ kind: 'serial', path: 'COM3' });
    expect(parseResource('lab-smu.local:5025')).toEqual({ kind: 'tcp', host: 'lab-smu.local', port: 5025 });
    expect(formatResource(parseResource('tcpip0::10.0.0.2::5025::socket'))).toBe('TCPIP0::10.0.0.2::5025::SOCKET');
  });
  it('refuses what it cannot open, with a coded error', () => {
    // GPIB and VXI-11 are supported now (test/smu-addresses.test.ts); out-of-range GPIB and HiSLIP are not
    for (const bad of ['GPIB0::31::INSTR', 'TCPIP0::10.0.0.2::hislip0::INSTR', 'smu', 'host:99999']) {
      expect(() => parseResource(bad)).toThrowError(expect.objectContaining({ code: 'BAD_ADDRESS' }));
    }
  });
});

describe('Session', () => {
  it('drains the SCPI error queue after a configuration and names the command', async () => {
    const t = new ScriptedTransport([
      [':SOUR:VOLT:LEV 300', null],
      [':SYST:ERR?', '-222,"Data out of range"'],
      [':SYST:ERR?', '0,"No error"'],
    ]);
    const s = new Session(t, { dialect: 'scpi' });
    const err = await s.configure(':SOUR:VOLT:LEV 300').catch((e: InstrumentError) => e);
    expect(err).toBeInstanceOf(InstrumentError);
    expect(err).toMatchObject({ code: 'INSTRUMENT_ERROR', command: ':SOUR:VOLT:LEV 300', instrumentCode: -222 });
    expect((err as Error).message).toContain('Data out of range');
    t.assertDone();
  });

  it('drains the TSP error queue with errorqueue.count/next', async () => {
    const t = new ScriptedTransport([
      ['smua.source.levelv = x', null],
      ['print(errorqueue.count)', '1.00000e+00'],
      ['print(errorqueue.next())', '-2.86000e+02\tTSP Runtime error at line 1: attempt to perform arithmetic\t2.00000e+01\t1.00000e+00'],
    ]);
    const s = new Session(t, { dialect: 'tsp' });
    await expect(s.configure('smua.source.levelv = x')).rejects.toMatchObject({ code: 'INSTRUMENT_ERROR', instrumentCode: -286 });
    t.assertDone();
  });

  it('serialises concurrent callers: one command in flight', async () => {
    const t = new ScriptedTransport([
      ['*IDN?', 'A'],
      [':READ?', '1,2,3'],
      ['*OPC?', '1'],
    ]);
    const s = new Session(t, { dialect: 'scpi' });
    const [a, b] = await Promise.all([s.idn(), s.query(':READ?'), s.operationComplete()]);
    expect([a, b]).toEqual(['A', '1,2,3']);
    t.assertDone();
  });

  it('turns a missing reply into a TIMEOUT naming the command', async () => {
    const t = new ScriptedTransport([[':READ?', null]]);
    const s = new Session(t, { dialect: 'scpi', timeoutMs: 10 });
    await expect(s.query(':READ?')).rejects.toMatchObject({ code: 'TIMEOUT', command: ':READ?' });
  });

  it('the scripted transport fails on unexpected writes and leftovers', async () => {
    const t = new ScriptedTransport([['*RST', null], ['*CLS', null]]);
    await t.write('*RST');
    expect(() => t.assertDone()).toThrow(/never sent/);
    await expect(t.write('*IDN?')).rejects.toMatchObject({ code: 'TRANSCRIPT' });
  });

  it('parseNumbers refuses garbage', () => {
    expect(parseNumbers('+1.0E-01,-2.5E-06', 'q')).toEqual([0.1, -2.5e-6]);
    expect(() => parseNumbers('+1.0E-01,#$%', ':READ?')).toThrowError(expect.objectContaining({ code: 'BAD_REPLY', command: ':READ?' }));
    expect(() => parseNumbers('1,2', ':READ?', 3)).toThrowError(expect.objectContaining({ code: 'BAD_REPLY' }));
  });
});
