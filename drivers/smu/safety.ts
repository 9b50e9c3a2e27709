/**
 * Safety around an SMU driver. The rules:
 *  - bench limits (voltage, current, power) are checked against the whole program before any output
 *    turns on, and refused with a LIMIT error naming the limit;
 *  - the output only turns on after `configure` (which sets compliance before anything else);
 *  - on stop, abort, error, SIGINT/SIGTERM, uncaught exceptions and a dropped connection the output is
 *    ramped to zero and turned off (after a dropped connection: by reconnecting, when a reconnect
 *    function is given and the instrument is reachable again).
 * A SIGKILLed host runs none of this: see docs/smu/safety.md for the hardware interlock that covers it.
 */
import { InstrumentError } from '../transport/errors.ts';
import type { Reading, SmuDriver, SourceSetup, SweepOptions } from './smu.ts';

export interface BenchLimits {
  /** |V| the device may see, V. */
  maxVoltage: number;
  /** |I| the device may carry, A. */
  maxCurrent: number;
  /** Worst-case power |V|·|I|, W. */
  maxPower: number;
}

export interface SafetyOptions {
  /** Steps of the ramp to zero (default 10). */
  rampSteps?: number;
  /** Pause between ramp steps, s (default 0.005). */
  rampStepS?: number;
  /** Opens a fresh driver to the same instrument, used to zero the output after a dropped connection. */
  reconnect?: () => Promise<SmuDriver>;
  /** Install SIGINT/SIGTERM/uncaughtException handlers while the output is on (default true). */
  processGuards?: boolean;
}

export type ShutdownReason = 'stop' | 'abort' | 'error' | 'signal' | 'uncaught' | 'disconnect' | 'close';

export interface ShutdownReport {
  reason: ShutdownReason;
  /** true when the instrument acknowledged output off. */
  ok: boolean;
  error?: string;
}

const active = new Set<SafeSmu>();
let guardsInstalled = false;
let uncaughtInstalled = false;

async function shutdownAll(reason: ShutdownReason): Promise<void> {
  await Promise.all([...active].map((s) => s.shutdown(reason).catch(() => undefined)));
}

function installProcessGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  const onSignal = (sig: NodeJS.Signals) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    guardsInstalled = false;
    // If the application has its own handler (the run manager stopping runs, a server closing), it owns
    // the exit: only ramp the outputs down. Otherwise ramp down and exit as the signal would have.
    const appHandles = process.listenerCount(sig) > 0;
    process.stderr.write(`spikeloop: ${sig}: ramping SMU outputs to zero\n`);
    void shutdownAll('signal').finally(() => {
      if (!appHandles) process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (uncaughtInstalled) return;
  uncaughtInstalled = true;
  process.on('uncaughtException', (err) => {
    process.stderr.write(`spikeloop: uncaught exception, ramping SMU outputs to zero: ${err.stack ?? err}\n`);
    void shutdownAll('uncaught').finally(() => process.exit(1));
  });
}

export function checkSetupAgainstLimits(setup: SourceSetup, limits: BenchLimits, levels: number[] = [setup.level]): void {
  const peak = Math.max(Math.abs(setup.level), ...levels.map(Math.abs));
  const volt = setup.func === 'voltage';
  const fail = (msg: string) => {
    throw new InstrumentError('LIMIT_EXCEEDED', msg);
  };
  if (volt) {
    if (peak > limits.maxVoltage) fail(`source voltage ${peak} V exceeds the bench limit maxVoltage = ${limits.maxVoltage} V`);
    if (setup.compliance > limits.maxCurrent) fail(`current compliance ${setup.compliance} A exceeds the bench limit maxCurrent = ${limits.maxCurrent} A`);
    if (peak * setup.compliance > limits.maxPower)
      fail(`worst-case power ${peak} V × ${setup.compliance} A = ${(peak * setup.compliance).toPrecision(3)} W exceeds the bench limit maxPower = ${limits.maxPower} W`);
  } else {
    if (peak > limits.maxCurrent) fail(`source current ${peak} A exceeds the bench limit maxCurrent = ${limits.maxCurrent} A`);
    if (setup.compliance > limits.maxVoltage) fail(`voltage compliance ${setup.compliance} V exceeds the bench limit maxVoltage = ${limits.maxVoltage} V`);
    if (peak * setup.compliance > limits.maxPower)
      fail(`worst-case power ${peak} A × ${setup.compliance} V = ${(peak * setup.compliance).toPrecision(3)} W exceeds the bench limit maxPower = ${limits.maxPower} W`);
  }
}

export class SafeSmu {
  private outputOn = false;
  private shuttingDown: Promise<ShutdownReport> | null = null;
  private readonly rampSteps: number;
  private readonly rampStepS: number;
  /** Reports of each shutdown, newest last. */
  readonly shutdowns: ShutdownReport[] = [];

  constructor(
    public smu: SmuDriver,
    readonly limits: BenchLimits,
    private readonly opts: SafetyOptions = {},
  ) {
    this.rampSteps = opts.rampSteps ?? 10;
    this.rampStepS = opts.rampStepS ?? 0.005;
    smu.session.transport.onClose((err) => {
      if (err && this.outputOn) void this.shutdown('disconnect');
    });
  }

  get isOutputOn(): boolean {
    return this.outputOn;
  }

  /** Checks the setup (and the levels it will later be driven through) against the bench limits, then configures. */
  async configure(setup: SourceSetup, plannedLevels: number[] = []): Promise<void> {
    checkSetupAgainstLimits(setup, this.limits, plannedLevels);
    await this.smu.configure(setup);
  }

  /** Turns the output on; refuses unless configured (compliance set) within the limits. */
  async on(): Promise<void> {
    const setup = this.smu.setup;
    if (!setup) throw new InstrumentError('LIMIT_EXCEEDED', 'output on refused: configure the source (compliance first) before turning the output on');
    checkSetupAgainstLimits(setup, this.limits);
    this.outputOn = true; // from here on every exit path ramps down
    active.add(this);
    if (this.opts.processGuards !== false) installProcessGuards();
    try {
      await this.smu.output(true);
    } catch (err) {
      await this.shutdown('error');
      throw err;
    }
  }

  async setLevel(level: number): Promise<void> {
    const setup = this.smu.setup;
    if (!setup) throw new Error('configure() first');
    checkSetupAgainstLimits(setup, this.limits, [level]);
    await this.guarded(() => this.smu.setLevel(level));
  }

  read(): Promise<Reading> {
    return this.guarded(async () => {
      const r = await this.smu.read();
      await this.smu.session.checkErrors();
      return r;
    });
  }

  /** Buffered list sweep, checked against the limits first; ramps down if it fails. */
  async listSweep(levels: number[], opts?: SweepOptions): Promise<Reading[]> {
    const setup = this.smu.setup;
    if (!setup) throw new Error('configure() first');
    checkSetupAgainstLimits(setup, this.limits, levels);
    if (!this.outputOn) await this.on();
    return this.guarded(() => this.smu.listSweep(levels, opts));
  }

  /**
   * Point-by-point sweep (set level, read) with abort: on abort the output is ramped down and the
   * readings so far are returned.
   */
  async stepSweep(levels: number[], signal?: AbortSignal, onReading?: (r: Reading, k: number) => void): Promise<Reading[]> {
    const setup = this.smu.setup;
    if (!setup) throw new Error('configure() first');
    checkSetupAgainstLimits(setup, this.limits, levels);
    if (!this.outputOn) await this.on();
    const out: Reading[] = [];
    try {
      for (let k = 0; k < levels.length; k++) {
        if (signal?.aborted) {
          await this.shutdown('abort');
          break;
        }
        const r = await this.smu.levelAndRead(levels[k]);
        out.push(r);
        // Level changes are not checked one by one (a round trip each): check every 25 points and at the end.
        if (k % 25 === 24 || k === levels.length - 1) await this.smu.session.checkErrors();
        onReading?.(r, k);
      }
    } catch (err) {
      // Instrument error, time-out, garbage, lost port, or the caller's own callback failing.
      if (this.outputOn) await this.shutdown(err instanceof InstrumentError && err.code === 'DISCONNECTED' ? 'disconnect' : 'error');
      throw err;
    }
    return out;
  }

  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (this.outputOn) await this.shutdown(err instanceof InstrumentError && err.code === 'DISCONNECTED' ? 'disconnect' : 'error');
      throw err;
    }
  }

  /** Ramps the output to zero and turns it off. Idempotent; never throws (the report says how it went). */
  shutdown(reason: ShutdownReason): Promise<ShutdownReport> {
    if (this.shuttingDown) return this.shuttingDown;
    if (!this.outputOn) return Promise.resolve({ reason, ok: true });
    this.shuttingDown = this.doShutdown(reason).then((rep) => {
      this.shutdowns.push(rep);
      this.shuttingDown = null;
      return rep;
    });
    return this.shuttingDown;
  }

  private async doShutdown(reason: ShutdownReason): Promise<ShutdownReport> {
    let smu = this.smu;
    try {
      if (smu.session.transport.closed) {
        if (!this.opts.reconnect) throw new InstrumentError('DISCONNECTED', 'connection lost and no way to reconnect');
        const setup = smu.setup;
        smu = await this.opts.reconnect();
        this.smu = smu;
        // The fresh driver knows nothing: zero the level of the function that was sourcing.
        if (setup) (smu as { setup: SourceSetup | null }).setup = { ...setup };
      }
      const setup = smu.setup;
      if (setup && setup.level !== 0) {
        const from = setup.level;
        for (let k = this.rampSteps - 1; k >= 0; k--) {
          await smu.setLevel(Number(((from * k) / this.rampSteps).toPrecision(9)));
          if (this.rampStepS > 0 && k > 0) await new Promise((r) => setTimeout(r, this.rampStepS * 1000));
        }
      }
      // Errors the ramp itself may have caused (e.g. a level outside a fixed range) must not stop the off.
      await smu.session.errors().catch(() => undefined);
      await smu.output(false);
      this.outputOn = false;
      active.delete(this);
      return { reason, ok: true };
    } catch (err) {
      return { reason, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Stops (ramp down, output off) and closes the connection. */
  async close(): Promise<ShutdownReport> {
    const rep = await this.shutdown('close');
    active.delete(this);
    await this.smu.close().catch(() => undefined);
    return rep;
  }
}
