/**
 * Keithley 2600B series System SourceMeter (2601B, 2602B, 2604B, 2611B … 2636B), TSP over LAN (raw
 * socket 5025), USB or RS-232. Channel A (`smua`). Command table after the Series 2600B Reference Manual,
 * section "TSP command reference" (smuX.source.*, smuX.measure.*, smuX.trigger.*, smuX.nvbufferY.*).
 * Ratings are the series' maxima (±202 V on the 2635B/2636B, ±3.03 A DC on the 2601B/2602B); a bench
 * configuration narrows them to the model in use.
 */
import { parseNumbers, type Session } from '../transport/session.ts';
import { choice, getSetting, num, numeric, onOff, setSetting, type Setting } from './settings.ts';
import type { Reading, SmuDriver, SourceSetup, SweepOptions } from './smu.ts';

const V = 202;
const I = 3.03;

export const K2600B = {
  // smua.source
  sourceFunction: choice({
    name: 'source function', doc: 'smua.OUTPUT_DCVOLTS or smua.OUTPUT_DCAMPS.',
    query: 'print(smua.source.func)', template: 'smua.source.func = {}',
    wire: { voltage: 'smua.OUTPUT_DCVOLTS', current: 'smua.OUTPUT_DCAMPS' }, aliases: { '1': 'voltage', '0': 'current' },
  }),
  voltageLevel: numeric({ name: 'source voltage', doc: 'smua.source.levelv', unit: 'V', query: 'print(smua.source.levelv)', template: 'smua.source.levelv = {}', min: -V, max: V }),
  currentLevel: numeric({ name: 'source current', doc: 'smua.source.leveli', unit: 'A', query: 'print(smua.source.leveli)', template: 'smua.source.leveli = {}', min: -I, max: I }),
  currentLimit: numeric({ name: 'current limit', doc: 'Compliance while sourcing voltage (smua.source.limiti).', unit: 'A', query: 'print(smua.source.limiti)', template: 'smua.source.limiti = {}', min: 1e-11, max: I }),
  voltageLimit: numeric({ name: 'voltage limit', doc: 'Compliance while sourcing current (smua.source.limitv).', unit: 'V', query: 'print(smua.source.limitv)', template: 'smua.source.limitv = {}', min: 0.02, max: V }),
  voltageSourceRange: numeric({ name: 'voltage source range', doc: 'smua.source.rangev', unit: 'V', query: 'print(smua.source.rangev)', template: 'smua.source.rangev = {}', min: -V, max: V }),
  voltageSourceAutorange: onOff({ name: 'voltage source autorange', doc: 'smua.source.autorangev', query: 'print(smua.source.autorangev)', template: 'smua.source.autorangev = {}', on: 'smua.AUTORANGE_ON', off: 'smua.AUTORANGE_OFF' }),
  currentSourceRange: numeric({ name: 'current source range', doc: 'smua.source.rangei', unit: 'A', query: 'print(smua.source.rangei)', template: 'smua.source.rangei = {}', min: -I, max: I }),
  currentSourceAutorange: onOff({ name: 'current source autorange', doc: 'smua.source.autorangei', query: 'print(smua.source.autorangei)', template: 'smua.source.autorangei = {}', on: 'smua.AUTORANGE_ON', off: 'smua.AUTORANGE_OFF' }),
  sourceDelay: numeric({ name: 'source delay', doc: 'smua.source.delay (s) after each source change in a sweep.', unit: 's', query: 'print(smua.source.delay)', template: 'smua.source.delay = {}', min: 0, max: 1e4 }),
  output: onOff({ name: 'output', doc: 'smua.source.output', query: 'print(smua.source.output)', template: 'smua.source.output = {}', on: 'smua.OUTPUT_ON', off: 'smua.OUTPUT_OFF' }),
  // smua.measure
  currentMeasureRange: numeric({ name: 'current measure range', doc: 'smua.measure.rangei', unit: 'A', query: 'print(smua.measure.rangei)', template: 'smua.measure.rangei = {}', min: 0, max: I }),
  currentMeasureAutorange: onOff({ name: 'current measure autorange', doc: 'smua.measure.autorangei', query: 'print(smua.measure.autorangei)', template: 'smua.measure.autorangei = {}', on: 'smua.AUTORANGE_ON', off: 'smua.AUTORANGE_OFF' }),
  voltageMeasureRange: numeric({ name: 'voltage measure range', doc: 'smua.measure.rangev', unit: 'V', query: 'print(smua.measure.rangev)', template: 'smua.measure.rangev = {}', min: 0, max: V }),
  voltageMeasureAutorange: onOff({ name: 'voltage measure autorange', doc: 'smua.measure.autorangev', query: 'print(smua.measure.autorangev)', template: 'smua.measure.autorangev = {}', on: 'smua.AUTORANGE_ON', off: 'smua.AUTORANGE_OFF' }),
  nplc: numeric({ name: 'NPLC', doc: 'smua.measure.nplc, integration time in power-line cycles.', unit: 'PLC', query: 'print(smua.measure.nplc)', template: 'smua.measure.nplc = {}', min: 0.001, max: 25 }),
  // smua.sense
  fourWire: onOff({ name: '4-wire sensing', doc: 'smua.sense: SENSE_LOCAL (2-wire) or SENSE_REMOTE (4-wire).', query: 'print(smua.sense)', template: 'smua.sense = {}', on: 'smua.SENSE_REMOTE', off: 'smua.SENSE_LOCAL' }),
  // smua.trigger
  triggerCount: numeric({ name: 'trigger count', doc: 'smua.trigger.count, sweep points.', unit: '', query: 'print(smua.trigger.count)', template: 'smua.trigger.count = {}', min: 1, max: 60000, integer: true }),
} satisfies Record<string, Setting<any>>;

export class Keithley2600B implements SmuDriver {
  readonly ratings = { maxVoltage: V, maxCurrent: I };
  /** Trigger-model sweep: up to 60,000 points (smua.trigger.count, one nvbuffer); about 0.1 ms per point at the fastest. */
  readonly capabilities = { maxPoints: 60_000, minDwellS: 1e-4 };
  setup: SourceSetup | null = null;
  constructor(
    readonly session: Session,
    readonly idn: string,
    readonly model = 'Keithley 2600B',
  ) {}

  get<T>(s: Setting<T>): Promise<T> {
    return getSetting(this.session, s);
  }
  set<T>(s: Setting<T>, v: T): Promise<void> {
    return setSetting(this.session, s, v);
  }

  async reset(): Promise<void> {
    await this.session.configure('smua.reset()');
    await this.session.configure('errorqueue.clear()');
    this.setup = null;
  }

  async configure(setup: SourceSetup): Promise<void> {
    const volt = setup.func === 'voltage';
    const level = volt ? K2600B.voltageLevel : K2600B.currentLevel;
    level.validate(setup.level);
    (volt ? K2600B.currentLimit : K2600B.voltageLimit).validate(setup.compliance);
    if (setup.nplc !== undefined) K2600B.nplc.validate(setup.nplc);
    await this.set(volt ? K2600B.currentLimit : K2600B.voltageLimit, setup.compliance);
    await this.set(K2600B.sourceFunction, setup.func);
    if (setup.sourceRange === undefined || setup.sourceRange === 'auto')
      await this.set(volt ? K2600B.voltageSourceAutorange : K2600B.currentSourceAutorange, true);
    else await this.set(volt ? K2600B.voltageSourceRange : K2600B.currentSourceRange, setup.sourceRange);
    if (setup.measureRange === undefined || setup.measureRange === 'auto')
      await this.set(volt ? K2600B.currentMeasureAutorange : K2600B.voltageMeasureAutorange, true);
    else await this.set(volt ? K2600B.currentMeasureRange : K2600B.voltageMeasureRange, setup.measureRange);
    await this.set(K2600B.nplc, setup.nplc ?? 1);
    await this.set(K2600B.fourWire, setup.fourWire ?? false);
    await this.set(level, setup.level);
    this.setup = { ...setup };
  }

  async setLevel(levelValue: number): Promise<void> {
    if (!this.setup) throw new Error('configure() the source before setting a level');
    const s = this.setup.func === 'voltage' ? K2600B.voltageLevel : K2600B.currentLevel;
    s.validate(levelValue);
    await this.session.write(s.set(levelValue));
    this.setup.level = levelValue;
  }

  output(on: boolean): Promise<void> {
    return this.set(K2600B.output, on);
  }
  isOutputOn(): Promise<boolean> {
    return this.get(K2600B.output);
  }

  async read(): Promise<Reading> {
    const cmd = 'reading_i, reading_v = smua.measure.iv() print(reading_i, reading_v, timer.measure.t())';
    const [i, v, t] = parseNumbers(await this.session.queryOrError(cmd), cmd, 3);
    return { v, i, t };
  }

  async levelAndRead(levelValue: number): Promise<Reading> {
    if (!this.setup) throw new Error('configure() the source before setting a level');
    const s = this.setup.func === 'voltage' ? K2600B.voltageLevel : K2600B.currentLevel;
    s.validate(levelValue);
    const cmd = `${s.set(levelValue)} reading_i, reading_v = smua.measure.iv() print(reading_i, reading_v, timer.measure.t())`;
    this.setup.level = levelValue;
    const [i, v, t] = parseNumbers(await this.session.queryOrError(cmd), cmd, 3);
    return { v, i, t };
  }

  /**
   * Trigger-model sweep: source list → measure iv into nvbuffer1 (I) / nvbuffer2 (V) with timestamps,
   * `waitcomplete()`, then one `printbuffer` of all points (interleaved I, V, t per point).
   */
  async listSweep(levels: number[], opts: SweepOptions = {}): Promise<Reading[]> {
    if (!this.setup) throw new Error('configure() the source before a sweep');
    const volt = this.setup.func === 'voltage';
    const level = volt ? K2600B.voltageLevel : K2600B.currentLevel;
    for (const l of levels) level.validate(l);
    if (!levels.length) return [];
    const n = levels.length;
    K2600B.triggerCount.validate(n);
    const c = (cmd: string) => this.session.configure(cmd);
    await c('smua.nvbuffer1.clear()');
    await c('smua.nvbuffer2.clear()');
    await c('smua.nvbuffer1.collecttimestamps = 1');
    await c('smua.nvbuffer2.collecttimestamps = 1');
    await this.set(K2600B.sourceDelay, opts.delayS ?? 0);
    await c(`smua.trigger.source.list${volt ? 'v' : 'i'}({${levels.map(num).join(', ')}})`);
    await c('smua.trigger.source.action = smua.ENABLE');
    await c('smua.trigger.measure.iv(smua.nvbuffer1, smua.nvbuffer2)');
    await c('smua.trigger.measure.action = smua.ENABLE');
    await this.set(K2600B.triggerCount, n);
    const nplc = this.setup.nplc ?? 1;
    const expectS = n * ((opts.delayS ?? 0) + nplc / 50 + 0.001);
    // The error check after initiate answers once waitcomplete() returns, i.e. when the sweep is done.
    await this.session.configure('smua.trigger.initiate() waitcomplete()', this.session.timeoutMs + expectS * 1500);
    const cmd = `printbuffer(1, ${n}, smua.nvbuffer1.readings, smua.nvbuffer2.readings, smua.nvbuffer1.timestamps)`;
    const reply = await this.session.queryChecked(cmd);
    const nums = parseNumbers(reply, cmd, 3 * n);
    const out: Reading[] = new Array(n);
    for (let p = 0; p < n; p++) out[p] = { i: nums[3 * p], v: nums[3 * p + 1], t: nums[3 * p + 2] };
    await c('smua.trigger.source.action = smua.DISABLE');
    return out;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
