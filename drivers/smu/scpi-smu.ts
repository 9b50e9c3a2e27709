/**
 * What the SCPI SourceMeters (Keithley 2400, Keysight B2900) share: the same setting names, each model
 * declaring its own commands and limits in its command table, and the same configure / level / read logic.
 * A model adds its table, its read query and its buffered sweep.
 */
import { parseNumbers, type Session } from '../transport/session.ts';
import { choice, getSetting, numeric, onOff, setSetting, type Setting } from './settings.ts';
import type { Reading, SmuCapabilities, SmuDriver, SmuRatings, SourceSetup, SweepOptions } from './smu.ts';

export interface ScpiSmuSettings {
  sourceFunction: Setting<string>;
  voltageLevel: Setting<number>;
  currentLevel: Setting<number>;
  voltageSourceRange: Setting<number>;
  voltageSourceAutorange: Setting<boolean>;
  currentSourceRange: Setting<number>;
  currentSourceAutorange: Setting<boolean>;
  voltageMode: Setting<'fixed' | 'list' | 'sweep'>;
  currentMode: Setting<'fixed' | 'list' | 'sweep'>;
  currentCompliance: Setting<number>;
  voltageCompliance: Setting<number>;
  currentMeasureRange: Setting<number>;
  currentMeasureAutorange: Setting<boolean>;
  voltageMeasureRange: Setting<number>;
  voltageMeasureAutorange: Setting<boolean>;
  nplc: Setting<number>;
  fourWire: Setting<boolean>;
  output: Setting<boolean>;
  triggerCount: Setting<number>;
}

/**
 * The commands whose headers the 2400 and the B2900 both take (SCPI :SOURce ranges and modes, :SENSe
 * protection and ranges, :OUTPut), within the model's ratings `V` and `I`; each model's table adds the rest.
 */
export function sharedScpiSettings(V: number, I: number) {
  return {
    voltageSourceRange: numeric({ name: 'voltage source range', doc: 'Fixed voltage source range (0.2/2/20/200 V).', unit: 'V', query: ':SOUR:VOLT:RANG?', template: ':SOUR:VOLT:RANG {}', min: -V, max: V }),
    voltageSourceAutorange: onOff({ name: 'voltage source autorange', doc: 'Voltage source autorange.', query: ':SOUR:VOLT:RANG:AUTO?', template: ':SOUR:VOLT:RANG:AUTO {}' }),
    currentSourceRange: numeric({ name: 'current source range', doc: 'Fixed current source range.', unit: 'A', query: ':SOUR:CURR:RANG?', template: ':SOUR:CURR:RANG {}', min: -I, max: I }),
    currentSourceAutorange: onOff({ name: 'current source autorange', doc: 'Current source autorange.', query: ':SOUR:CURR:RANG:AUTO?', template: ':SOUR:CURR:RANG:AUTO {}' }),
    voltageMode: choice({ name: 'voltage sourcing mode', doc: 'FIXed level, LIST sweep or linear SWEep.', query: ':SOUR:VOLT:MODE?', template: ':SOUR:VOLT:MODE {}', wire: { fixed: 'FIX', list: 'LIST', sweep: 'SWE' } }),
    currentMode: choice({ name: 'current sourcing mode', doc: 'FIXed level, LIST sweep or linear SWEep.', query: ':SOUR:CURR:MODE?', template: ':SOUR:CURR:MODE {}', wire: { fixed: 'FIX', list: 'LIST', sweep: 'SWE' } }),
    currentCompliance: numeric({ name: 'current compliance', doc: 'Current limit while sourcing voltage.', unit: 'A', query: ':SENS:CURR:PROT?', template: ':SENS:CURR:PROT {}', min: 1e-9, max: I }),
    voltageCompliance: numeric({ name: 'voltage compliance', doc: 'Voltage limit while sourcing current.', unit: 'V', query: ':SENS:VOLT:PROT?', template: ':SENS:VOLT:PROT {}', min: 2e-4, max: V }),
    currentMeasureRange: numeric({ name: 'current measure range', doc: 'Current measurement range.', unit: 'A', query: ':SENS:CURR:RANG?', template: ':SENS:CURR:RANG {}', min: 0, max: I }),
    currentMeasureAutorange: onOff({ name: 'current measure autorange', doc: 'Current measurement autorange.', query: ':SENS:CURR:RANG:AUTO?', template: ':SENS:CURR:RANG:AUTO {}' }),
    voltageMeasureRange: numeric({ name: 'voltage measure range', doc: 'Voltage measurement range.', unit: 'V', query: ':SENS:VOLT:RANG?', template: ':SENS:VOLT:RANG {}', min: 0, max: V }),
    voltageMeasureAutorange: onOff({ name: 'voltage measure autorange', doc: 'Voltage measurement autorange.', query: ':SENS:VOLT:RANG:AUTO?', template: ':SENS:VOLT:RANG:AUTO {}' }),
    output: onOff({ name: 'output', doc: 'Output on/off.', query: ':OUTP?', template: ':OUTP {}' }),
  };
}

export interface ScpiDialect {
  /** Command that makes each reading "voltage, current, time". */
  formatElements: string;
  /** Query that triggers one reading. */
  readQuery: string;
}

export abstract class ScpiSmu implements SmuDriver {
  setup: SourceSetup | null = null;
  constructor(
    readonly session: Session,
    readonly idn: string,
    readonly model: string,
    readonly ratings: SmuRatings,
    protected readonly settings: ScpiSmuSettings,
    private readonly dialect: ScpiDialect,
  ) {}

  abstract readonly capabilities: SmuCapabilities;
  abstract listSweep(levels: number[], opts?: SweepOptions): Promise<Reading[]>;

  get<T>(s: Setting<T>): Promise<T> {
    return getSetting(this.session, s);
  }
  set<T>(s: Setting<T>, v: T): Promise<void> {
    return setSetting(this.session, s, v);
  }

  async reset(): Promise<void> {
    await this.session.reset();
    await this.session.clearStatus();
    this.setup = null;
  }

  async configure(setup: SourceSetup): Promise<void> {
    const s = this.settings;
    const volt = setup.func === 'voltage';
    // Validate everything before the first write.
    const level = volt ? s.voltageLevel : s.currentLevel;
    level.validate(setup.level);
    (volt ? s.currentCompliance : s.voltageCompliance).validate(setup.compliance);
    if (setup.nplc !== undefined) s.nplc.validate(setup.nplc);
    // Compliance first, so the output is never unprotected.
    await this.set(volt ? s.currentCompliance : s.voltageCompliance, setup.compliance);
    await this.set(s.sourceFunction, setup.func);
    await this.set(volt ? s.voltageMode : s.currentMode, 'fixed');
    if (setup.sourceRange === undefined || setup.sourceRange === 'auto')
      await this.set(volt ? s.voltageSourceAutorange : s.currentSourceAutorange, true);
    else await this.set(volt ? s.voltageSourceRange : s.currentSourceRange, setup.sourceRange);
    if (setup.measureRange === undefined || setup.measureRange === 'auto')
      await this.set(volt ? s.currentMeasureAutorange : s.voltageMeasureAutorange, true);
    else await this.set(volt ? s.currentMeasureRange : s.voltageMeasureRange, setup.measureRange);
    await this.set(s.nplc, setup.nplc ?? 1);
    await this.set(s.fourWire, setup.fourWire ?? false);
    await this.session.configure(this.dialect.formatElements);
    await this.set(level, setup.level);
    this.setup = { ...setup };
  }

  /** The level setting of the configured function, after checking `value` against it. */
  protected checkedLevel(value: number): Setting<number> {
    if (!this.setup) throw new Error('configure() the source before setting a level');
    const s = this.setup.func === 'voltage' ? this.settings.voltageLevel : this.settings.currentLevel;
    s.validate(value);
    return s;
  }

  async setLevel(levelValue: number): Promise<void> {
    const s = this.checkedLevel(levelValue);
    await this.session.write(s.set(levelValue));
    this.setup!.level = levelValue;
  }

  output(on: boolean): Promise<void> {
    return this.set(this.settings.output, on);
  }
  isOutputOn(): Promise<boolean> {
    return this.get(this.settings.output);
  }

  async read(): Promise<Reading> {
    const q = this.dialect.readQuery;
    const [v, i, t] = parseNumbers(await this.session.queryOrError(q), q, 3);
    return { v, i, t };
  }

  async levelAndRead(levelValue: number): Promise<Reading> {
    const s = this.checkedLevel(levelValue);
    const cmd = `${s.set(levelValue)};${this.dialect.readQuery}`;
    this.setup!.level = levelValue;
    const [v, i, t] = parseNumbers(await this.session.queryOrError(cmd), cmd, 3);
    return { v, i, t };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
