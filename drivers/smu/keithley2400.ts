/**
 * Keithley 2400 series SourceMeter (2400, 2401, 2410, 2420, 2425, 2430, 2440), SCPI over RS-232/GPIB.
 * Command table after the 2400 Series User's Manual, section 18 ("SCPI command reference").
 * Ratings are the 2400's: ±210 V, ±1.05 A.
 */
import { parseNumbers, type Session } from '../transport/session.ts';
import { choice, num, numeric, onOff, type Setting } from './settings.ts';
import { ScpiSmu, sharedScpiSettings } from './scpi-smu.ts';
import type { Reading, SweepOptions } from './smu.ts';

const V = 210;
const I = 1.05;

/** The 2400's commands: its own headers and limits here (same names as every ScpiSmu table, other wire words), the shared ones from sharedScpiSettings. */
export const K2400 = {
  // SOURce subsystem
  sourceFunction: choice({
    name: 'source function', doc: 'Source voltage or current.',
    query: ':SOUR:FUNC?', template: ':SOUR:FUNC {}', wire: { voltage: 'VOLT', current: 'CURR' },
    aliases: { VOLTAGE: 'voltage', CURRENT: 'current' },
  }),
  voltageLevel: numeric({ name: 'source voltage', doc: 'Fixed-mode voltage level.', unit: 'V', query: ':SOUR:VOLT:LEV?', template: ':SOUR:VOLT:LEV {}', min: -V, max: V }),
  currentLevel: numeric({ name: 'source current', doc: 'Fixed-mode current level.', unit: 'A', query: ':SOUR:CURR:LEV?', template: ':SOUR:CURR:LEV {}', min: -I, max: I }),
  // :SOURce ranges and modes, :SENSe protection and ranges, :OUTPut: the headers the B2900 takes too
  ...sharedScpiSettings(V, I),
  voltageStart: numeric({ name: 'sweep start voltage', doc: 'First level of a SWEep.', unit: 'V', query: ':SOUR:VOLT:STAR?', template: ':SOUR:VOLT:STAR {}', min: -V, max: V }),
  voltageStop: numeric({ name: 'sweep stop voltage', doc: 'Last level of a SWEep.', unit: 'V', query: ':SOUR:VOLT:STOP?', template: ':SOUR:VOLT:STOP {}', min: -V, max: V }),
  currentStart: numeric({ name: 'sweep start current', doc: 'First level of a SWEep.', unit: 'A', query: ':SOUR:CURR:STAR?', template: ':SOUR:CURR:STAR {}', min: -I, max: I }),
  currentStop: numeric({ name: 'sweep stop current', doc: 'Last level of a SWEep.', unit: 'A', query: ':SOUR:CURR:STOP?', template: ':SOUR:CURR:STOP {}', min: -I, max: I }),
  sweepPoints: numeric({ name: 'sweep points', doc: 'Levels in a SWEep, start and stop included.', unit: '', query: ':SOUR:SWE:POIN?', template: ':SOUR:SWE:POIN {}', min: 1, max: 2500, integer: true }),
  sweepSpacing: choice({ name: 'sweep spacing', doc: 'LINear or LOGarithmic steps.', query: ':SOUR:SWE:SPAC?', template: ':SOUR:SWE:SPAC {}', wire: { linear: 'LIN', log: 'LOG' } }),
  sourceDelay: numeric({ name: 'source delay', doc: 'Settling delay after each source change.', unit: 's', query: ':SOUR:DEL?', template: ':SOUR:DEL {}', min: 0, max: 999.9999 }),
  // SENSe subsystem
  nplc: numeric({ name: 'NPLC', doc: 'Integration time in power-line cycles (global to all functions).', unit: 'PLC', query: ':SENS:CURR:NPLC?', template: ':SENS:CURR:NPLC {}', min: 0.01, max: 10 }),
  // SYSTem subsystem
  fourWire: onOff({ name: '4-wire sensing', doc: 'Remote sense (4-wire) on/off.', query: ':SYST:RSEN?', template: ':SYST:RSEN {}' }),
  // TRIGger subsystem
  triggerCount: numeric({ name: 'trigger count', doc: 'Readings per :READ? (sweep points).', unit: '', query: ':TRIG:COUN?', template: ':TRIG:COUN {}', min: 1, max: 2500, integer: true }),
} satisfies Record<string, Setting<any>>;

/** The 2400 list sweep holds at most 100 points; longer lists run as consecutive chunks. */
export const K2400_LIST_MAX = 100;
/** A built-in SWEep runs up to 2,500 points from three numbers. */
export const K2400_SWEEP_MAX = 2500;
/** Shortest linear run worth a SWEep of its own (shorter runs go into LIST chunks). */
const SWEEP_MIN = 8;

export type SweepSegment = { kind: 'sweep'; start: number; stop: number; points: number } | { kind: 'list'; levels: number[] };

/**
 * Splits levels into what the 2400 runs fastest: linear staircases (constant step, ≥ 8 points) as built-in
 * SWEeps of up to 2,500 points, set by start/stop/points instead of uploading every level, and everything
 * else as LIST chunks of up to 100. Each segment is one trigger-model run and one :READ?.
 */
export function sweepSegments(levels: number[]): SweepSegment[] {
  const out: SweepSegment[] = [];
  let list: number[] = [];
  const flush = () => {
    if (list.length) out.push({ kind: 'list', levels: list });
    list = [];
  };
  const scale = Math.max(1e-12, ...levels.map(Math.abs));
  let i = 0;
  while (i < levels.length) {
    let j = i + 1;
    const step = levels[i + 1] - levels[i];
    if (i + 1 < levels.length && step !== 0)
      while (j + 1 < levels.length && j + 1 - i < K2400_SWEEP_MAX && Math.abs(levels[j + 1] - levels[j] - step) <= 1e-9 * scale) j++;
    if (i + 1 < levels.length && step !== 0 && j - i + 1 >= SWEEP_MIN) {
      flush();
      out.push({ kind: 'sweep', start: levels[i], stop: levels[j], points: j - i + 1 });
      i = j + 1;
    } else {
      list.push(levels[i++]);
      if (list.length === K2400_LIST_MAX) flush();
    }
  }
  flush();
  return out;
}

export class Keithley2400 extends ScpiSmu {
  /** Source memory list: 2,500 points; about 0.5 ms per point at the fastest settings (NPLC 0.01, no delay). */
  readonly capabilities = { maxPoints: 2500, minDwellS: 5e-4 };
  constructor(session: Session, idn: string, model = 'Keithley 2400') {
    super(session, idn, model, { maxVoltage: V, maxCurrent: I }, K2400, { formatElements: ':FORM:ELEM VOLT,CURR,TIME', readQuery: ':READ?' });
  }

  async listSweep(levels: number[], opts: SweepOptions = {}): Promise<Reading[]> {
    if (!this.setup) throw new Error('configure() the source before a sweep');
    const volt = this.setup.func === 'voltage';
    const level = volt ? K2400.voltageLevel : K2400.currentLevel;
    for (const l of levels) level.validate(l);
    if (!levels.length) return [];
    await this.set(K2400.sourceDelay, opts.delayS ?? 0);
    const out: Reading[] = [];
    const unit = volt ? 'VOLT' : 'CURR';
    const mode = volt ? K2400.voltageMode : K2400.currentMode;
    let current: 'list' | 'sweep' | null = null;
    try {
      for (const seg of sweepSegments(levels)) {
        if (current !== seg.kind) await this.set(mode, (current = seg.kind));
        if (seg.kind === 'sweep') {
          await this.set(K2400.sweepSpacing, 'linear');
          await this.set(volt ? K2400.voltageStart : K2400.currentStart, seg.start);
          await this.set(volt ? K2400.voltageStop : K2400.currentStop, seg.stop);
          await this.set(K2400.sweepPoints, seg.points);
        } else await this.session.configure(`:SOUR:LIST:${unit} ${seg.levels.map(num).join(',')}`);
        const n = seg.kind === 'sweep' ? seg.points : seg.levels.length;
        await this.set(K2400.triggerCount, n);
        const perPoint = (opts.delayS ?? 0) + 0.05;
        const reply = await this.session.queryChecked(':READ?', this.session.timeoutMs + n * perPoint * 1000);
        const nums = parseNumbers(reply, ':READ?', n * 3);
        for (let p = 0; p < n; p++) out.push({ v: nums[3 * p], i: nums[3 * p + 1], t: nums[3 * p + 2] });
      }
    } finally {
      if (!this.session.transport.closed) {
        await this.set(volt ? K2400.voltageMode : K2400.currentMode, 'fixed').catch(() => undefined);
        await this.set(K2400.triggerCount, 1).catch(() => undefined);
      }
    }
    return out;
  }
}
