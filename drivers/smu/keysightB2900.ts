/**
 * Keysight B2900 series Precision Source/Measure Unit (B2901A/B2902A/B2911A/B2912A, B2901B …), SCPI over
 * LAN (raw socket 5025) or USB. Channel 1. Command table after the B2900 SCPI Command Reference
 * (:SOURce, :SENSe, :OUTPut, :TRIGger, :FETCh subsystems). Ratings: ±210 V, ±3.03 A (DC, pulsed higher).
 */
import { parseNumbers, type Session } from '../transport/session.ts';
import { choice, num, numeric, onOff, type Setting } from './settings.ts';
import { ScpiSmu, sharedScpiSettings } from './scpi-smu.ts';
import type { Reading, SweepOptions } from './smu.ts';

const V = 210;
const I = 3.03;

/** The B2900's commands: its own headers and limits here (same names as every ScpiSmu table, other wire words), the shared ones from sharedScpiSettings. */
export const B2900 = {
  // :SOURce
  sourceFunction: choice({
    name: 'source function', doc: 'Source voltage or current.',
    query: ':SOUR:FUNC:MODE?', template: ':SOUR:FUNC:MODE {}', wire: { voltage: 'VOLT', current: 'CURR' },
    aliases: { VOLTAGE: 'voltage', CURRENT: 'current' },
  }),
  voltageLevel: numeric({ name: 'source voltage', doc: 'Immediate voltage level.', unit: 'V', query: ':SOUR:VOLT?', template: ':SOUR:VOLT {}', min: -V, max: V }),
  currentLevel: numeric({ name: 'source current', doc: 'Immediate current level.', unit: 'A', query: ':SOUR:CURR?', template: ':SOUR:CURR {}', min: -I, max: I }),
  // :SOURce ranges and modes, :SENSe protection and ranges, :OUTPut: the headers the 2400 takes too
  ...sharedScpiSettings(V, I),
  nplc: numeric({ name: 'NPLC', doc: 'Integration time in power-line cycles.', unit: 'PLC', query: ':SENS:CURR:NPLC?', template: ':SENS:CURR:NPLC {}', min: 4e-4, max: 100 }),
  fourWire: onOff({ name: '4-wire sensing', doc: 'Remote sensing on/off.', query: ':SENS:REM?', template: ':SENS:REM {}' }),
  // :TRIGger
  triggerCount: numeric({ name: 'trigger count', doc: 'Trigger count (sweep points).', unit: '', query: ':TRIG:COUN?', template: ':TRIG:COUN {}', min: 1, max: 100000, integer: true }),
  transientDelay: numeric({ name: 'transient delay', doc: 'Delay before each source step (:TRIG:TRAN:DEL).', unit: 's', query: ':TRIG:TRAN:DEL?', template: ':TRIG:TRAN:DEL {}', min: 0, max: 100 }),
} satisfies Record<string, Setting<any>>;

export class KeysightB2900 extends ScpiSmu {
  /** List sweep: up to 100,000 trigger points (:TRIG:COUN); 20 µs shortest trigger interval. */
  readonly capabilities = { maxPoints: 100_000, minDwellS: 2e-5 };
  constructor(session: Session, idn: string, model = 'Keysight B2900') {
    super(session, idn, model, { maxVoltage: V, maxCurrent: I }, B2900, { formatElements: ':FORM:ELEM:SENS VOLT,CURR,TIME', readQuery: ':MEAS?' });
  }

  /** LIST mode, automatic internal trigger, `:INIT`, `*OPC?` to wait, then `:FETC:ARR?` for all points. */
  async listSweep(levels: number[], opts: SweepOptions = {}): Promise<Reading[]> {
    if (!this.setup) throw new Error('configure() the source before a sweep');
    const volt = this.setup.func === 'voltage';
    const level = volt ? B2900.voltageLevel : B2900.currentLevel;
    for (const l of levels) level.validate(l);
    if (!levels.length) return [];
    const n = levels.length;
    B2900.triggerCount.validate(n);
    const unit = volt ? 'VOLT' : 'CURR';
    await this.set(volt ? B2900.voltageMode : B2900.currentMode, 'list');
    try {
      await this.session.configure(`:SOUR:LIST:${unit} ${levels.map(num).join(',')}`);
      await this.set(B2900.transientDelay, opts.delayS ?? 0);
      await this.set(B2900.triggerCount, n);
      await this.session.configure(':INIT');
      const nplc = this.setup.nplc ?? 1;
      const expectS = n * ((opts.delayS ?? 0) + nplc / 50 + 0.001);
      await this.session.operationComplete(this.session.timeoutMs + expectS * 1500);
      const reply = await this.session.queryChecked(':FETC:ARR?');
      const nums = parseNumbers(reply, ':FETC:ARR?', 3 * n);
      const out: Reading[] = new Array(n);
      for (let p = 0; p < n; p++) out[p] = { v: nums[3 * p], i: nums[3 * p + 1], t: nums[3 * p + 2] };
      return out;
    } finally {
      if (!this.session.transport.closed) {
        await this.set(volt ? B2900.voltageMode : B2900.currentMode, 'fixed').catch(() => undefined);
        await this.set(B2900.triggerCount, 1).catch(() => undefined);
      }
    }
  }
}
