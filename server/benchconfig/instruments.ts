/**
 * The instruments of the bench and their connections: the ones the bench configuration names, the DAQ
 * boards found on the serial ports by USB VID/PID (drivers/daq/find.ts) and the virtual ones (a Keithley
 * 2400 served on a pseudo-terminal; the virtual Uno, the firmware in simavr, when it is built).
 *
 * Connecting opens the transport and identifies the instrument (`*IDN?` for an SMU, the HELLO reply with
 * the board's capabilities for a DAQ board) and makes sure its outputs are off. Disconnecting puts the
 * outputs to zero first (an SMU's level ramped down, output off; a board's STOP), then closes the port.
 *
 * Runs use the connected instrument, never a second open of its port. The run manager gives each source
 * `forRun(...)` (RunInstruments, server/sources/registry.ts) in its context:
 *  - an SMU run gets the connected driver itself (`leaseSmu`, used by server/sources/smu-source.ts) for
 *    the length of the run; it stays connected afterwards with its output off;
 *  - the DAQ source opens its port itself, so a connected board is handed over for the run (`leaseDaq`:
 *    its port closed, the run given that port) and re-opened and identified again by `release()`.
 * A run naming an instrument that is not connected is refused (INSTRUMENT_NOT_CONNECTED); an instrument
 * lent to a running run cannot be disconnected (INSTRUMENT_BUSY).
 */
import type { InstrumentState } from '../../common/schemas/bench.ts';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import type { SmuDriver } from '../../drivers/smu/smu.ts';
import type { DaqLease, InstrumentSelection, RunInstruments, SmuLease } from '../sources/registry.ts';
import { stimulusInstrument, type BenchConfig, type Instrument } from './index.ts';

/** An instrument with its connection state, as `GET /api/bench/instruments` sends it. */
export type InstrumentInfo = InstrumentState;
export type ConnectionState = InstrumentState['state'];

interface Connection {
  close(): Promise<string | undefined>;
  smu?: SmuDriver;
  /** DAQ: closes the port for a run and re-opens it afterwards. */
  handOver?(): Promise<string>;
  takeBack?(): Promise<void>;
}

interface Entry {
  info: InstrumentInfo;
  inst: Instrument;
  virtual: boolean;
  conn?: Connection;
  busy?: Promise<unknown>;
  lease?: { runId: () => number };
}

export interface InstrumentManagerOptions {
  /** List the virtual instruments (default true). */
  virtual?: boolean;
  /** Finds DAQ boards on the serial ports (default drivers/daq/find.ts findBoards). */
  findBoards?: () => Promise<{ path: string; name: string; serialNumber?: string }[]>;
  /** Reply time-out when identifying, ms (default 5000). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

const VIRTUAL_SMU_BAUD = 57_600;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class InstrumentManager {
  private readonly entries = new Map<string, Entry>();
  private readonly log: (line: string) => void;

  constructor(
    readonly bench: BenchConfig,
    private readonly opts: InstrumentManagerOptions = {},
  ) {
    this.log = opts.log ?? (() => {});
    for (const inst of bench.instruments) this.add(inst, 'configured', false);
    if (opts.virtual !== false) {
      const channels = [
        { name: 'stim', role: 'stimulus' as const },
        { name: 'resp', role: 'response' as const },
      ];
      if (!this.entries.has('virtual-smu')) this.add({ id: 'virtual-smu', kind: 'smu', model: 'keithley-2400', channels, baudRate: VIRTUAL_SMU_BAUD }, 'virtual', true);
      if (!this.entries.has('virtual-daq')) this.add({ id: 'virtual-daq', kind: 'daq', model: 'arduino-uno', channels }, 'virtual', true);
    }
  }

  private add(inst: Instrument, origin: InstrumentInfo['origin'], virtual: boolean): void {
    const simulated = inst.kind === 'simulated';
    this.entries.set(inst.id, {
      inst,
      virtual,
      info: {
        id: inst.id,
        kind: inst.kind,
        model: inst.model,
        ...(inst.port ? { port: inst.port } : {}),
        origin,
        channels: inst.channels,
        state: simulated ? 'connected' : 'disconnected',
        ...(simulated ? { identity: `built-in circuit model ${inst.model}`, outputs: 'off' as const } : {}),
        limits: this.bench.limits,
      },
    });
  }

  /** Every instrument with its state; DAQ boards plugged in since the last call are added. */
  async list(): Promise<InstrumentInfo[]> {
    await this.discover();
    return [...this.entries.values()].map((e) => this.snapshot(e));
  }

  async get(id: string): Promise<InstrumentInfo> {
    if (!this.entries.has(id)) await this.discover();
    return this.snapshot(this.entry(id, '/params/id'));
  }

  private snapshot(e: Entry): InstrumentInfo {
    const runId = e.lease?.runId();
    return structuredClone({ ...e.info, ...(runId ? { inUseBy: runId, outputs: 'on' as const } : {}) });
  }

  /** `field`: where the caller named the id (a route parameter, a run option). */
  private entry(id: string, field: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new AppError('INSTRUMENT_NOT_FOUND', `instrument "${id}" does not exist (instruments: ${[...this.entries.keys()].join(', ')})`, field);
    return e;
  }

  private async discover(): Promise<void> {
    const find = this.opts.findBoards ?? (async () => (await import('../../drivers/daq/find.ts')).findBoards());
    const boards = await find().catch(() => []);
    const ports = new Set([...this.entries.values()].map((e) => e.info.port));
    for (const b of boards) {
      if (ports.has(b.path)) continue;
      const id = `daq-${path.basename(b.path).replace(/[^A-Za-z0-9_-]/g, '_')}`;
      if (this.entries.has(id)) continue;
      this.add(
        { id, kind: 'daq', model: b.name, port: b.path, channels: [{ name: 'stim', role: 'stimulus' }, { name: 'a0', role: 'response', unit: 'V' }] },
        'found',
        false,
      );
    }
  }

  /** Opens, identifies, outputs off. Connecting a connected instrument returns it as it is. */
  async connect(id: string): Promise<InstrumentInfo> {
    const e = this.entry(id, '/params/id');
    if (e.inst.kind === 'simulated') return this.snapshot(e);
    if (e.info.state === 'connected') return this.snapshot(e);
    if (e.info.state !== 'disconnected') throw new AppError('INSTRUMENT_BUSY', `instrument "${id}" is ${e.info.state}; try again when that has finished`);
    e.info.state = 'connecting';
    delete e.info.error;
    const work = (async () => {
      try {
        const r = e.inst.kind === 'smu' ? await this.openSmu(e) : await this.openDaq(e);
        e.conn = r.conn;
        Object.assign(e.info, { state: 'connected', identity: r.identity, outputs: 'off', capabilities: r.capabilities, connectedAt: new Date().toISOString() });
        if (r.port) e.info.port = r.port;
        this.log(`instrument ${id} connected: ${r.identity}`);
      } catch (err) {
        e.info.state = 'disconnected';
        e.info.error = errText(err);
        // the driver's own code keeps its status (TIMEOUT 504, UNKNOWN_MODEL, INSTRUMENT_ERROR ... 502); a plain error (a port that will not open) is INSTRUMENT_FAILED
        const code = err instanceof AppError ? err.code : 'INSTRUMENT_FAILED';
        throw new AppError(code, `instrument "${id}" could not be connected: ${errText(err)}`, undefined, err instanceof AppError ? err.details : undefined);
      }
    })();
    e.busy = work.catch(() => undefined);
    await work;
    return this.snapshot(e);
  }

  /** Outputs to zero, then the port closed. Refused while a run uses the instrument. */
  async disconnect(id: string): Promise<InstrumentInfo> {
    const e = this.entry(id, '/params/id');
    if (e.inst.kind === 'simulated') throw new AppError('BAD_INSTRUMENT', `instrument "${id}" is the built-in simulated circuit; it has no connection to open or close`);
    const runId = e.lease?.runId();
    if (e.lease) throw new AppError('INSTRUMENT_BUSY', `instrument "${id}" is in use by run ${runId || '(starting)'}; stop the run first`);
    if (e.info.state === 'disconnected') return this.snapshot(e);
    if (e.info.state !== 'connected') throw new AppError('INSTRUMENT_BUSY', `instrument "${id}" is ${e.info.state}; try again when that has finished`);
    e.info.state = 'disconnecting';
    const problem = await e.conn!.close().catch((err) => errText(err));
    e.conn = undefined;
    Object.assign(e.info, { state: 'disconnected', outputs: undefined });
    delete e.info.connectedAt;
    if (e.virtual) delete e.info.port;
    if (problem) e.info.error = problem;
    else delete e.info.error;
    this.log(`instrument ${id} disconnected${problem ? `: ${problem}` : ''}`);
    return this.snapshot(e);
  }

  /** Disconnects everything (server shutdown); runs have been stopped before. */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        await e.busy;
        if (e.conn) {
          e.lease = undefined;
          await this.disconnect(e.info.id).catch(() => undefined);
        }
      }),
    );
  }

  // ------------------------------------------------------------------------------------------------
  // Runs

  /** The instrument a run selects: by id, by port, or the bench's stimulus instrument of that kind. */
  private select(kind: 'smu' | 'daq', sel: InstrumentSelection): Entry | undefined {
    if (sel.instrument !== undefined) {
      const field = '/options/instrument';
      if (typeof sel.instrument !== 'string') throw new AppError('BAD_SOURCE_OPTIONS', 'option instrument must be an instrument id (GET /api/bench/instruments)', field);
      const e = this.entry(sel.instrument, field);
      if (e.inst.kind !== kind) throw new AppError('BAD_SOURCE_OPTIONS', `instrument "${e.info.id}" is a ${e.inst.kind}, not a ${kind}`, field);
      return e;
    }
    if (typeof sel.address === 'string') return [...this.entries.values()].find((e) => e.inst.kind === kind && e.info.port === sel.address);
    const stim = stimulusInstrument(this.bench);
    return stim.kind === kind ? this.entries.get(stim.id) : undefined;
  }

  private claim(e: Entry, runId: () => number): NonNullable<Entry['lease']> {
    if (e.info.state !== 'connected' || !e.conn) {
      throw new AppError(
        'INSTRUMENT_NOT_CONNECTED',
        `instrument "${e.info.id}" is not connected: connect it first (Bench page, or POST /api/bench/instruments/${e.info.id}/connect)`,
        '/options',
      );
    }
    if (e.lease) throw new AppError('INSTRUMENT_BUSY', `instrument "${e.info.id}" is in use by run ${e.lease.runId() || '(starting)'}`, '/options');
    e.lease = { runId };
    return e.lease;
  }

  /**
   * What one run may do with the bench's instruments (the run manager puts it in the source's context).
   * `runId` is read when needed: the run row is created after the source.
   */
  forRun(runId: () => number): RunInstruments {
    return {
      configured: (kind) => this.bench.instruments.filter((i) => i.kind === kind),
      leaseSmu: (sel) => this.leaseSmu(runId, sel),
      leaseDaq: (sel) => this.leaseDaq(runId, sel),
    };
  }

  private leaseSmu(runId: () => number, sel: InstrumentSelection): SmuLease | undefined {
    const e = this.select('smu', sel);
    if (!e) return undefined;
    const mine = this.claim(e, runId);
    const smu = e.conn!.smu!;
    return {
      id: e.info.id,
      ...(e.info.port ? { port: e.info.port } : {}),
      smu,
      ...(e.inst.smu ? { capabilities: e.inst.smu } : {}),
      // Idempotent, and never frees a later run's lease.
      release: () => {
        if (e.lease === mine) e.lease = undefined;
      },
    };
  }

  /** The DAQ source opens its port itself: the connected board's port is closed for the run and re-opened by release(). */
  private async leaseDaq(runId: () => number, sel: InstrumentSelection): Promise<DaqLease | undefined> {
    const e = this.select('daq', sel);
    if (!e) return undefined;
    const mine = this.claim(e, runId);
    let port: string;
    try {
      port = await e.conn!.handOver!();
    } catch (err) {
      e.lease = undefined;
      throw err;
    }
    let takenBack: Promise<void> | undefined;
    return {
      id: e.info.id,
      port,
      // Once only (the run's end, or the source's dispose when the run failed to start).
      release: () =>
        (takenBack ??= (async () => {
          await e.conn?.takeBack?.().catch((err) => {
            e.info.error = `re-opening after the run failed: ${errText(err)}`;
          });
          if (e.lease === mine) e.lease = undefined;
        })()),
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Opening

  private async openSmu(e: Entry): Promise<{ conn: Connection; identity: string; port?: string; capabilities: Record<string, number | string> }> {
    const { connectSmu } = await import('../../drivers/smu/connect.ts');
    let server: { close(): Promise<void> } | undefined;
    let address = e.inst.port;
    if (e.virtual) {
      const [{ VirtualSmuServer }, { defaultSmuDut }] = await Promise.all([
        import('../../drivers/smu/virtual/server.ts'),
        import('../sources/smu-twin-dut.ts'),
      ]);
      address = path.join(os.tmpdir(), `spikeloop-${e.info.id}-${process.pid}-${Date.now().toString(36)}`);
      server = await VirtualSmuServer.start('smu-2400', { ptyPath: address, baud: VIRTUAL_SMU_BAUD, dut: defaultSmuDut() });
    }
    try {
      const smu = await connectSmu(address!, { baudRate: e.inst.baudRate, timeoutMs: this.opts.timeoutMs ?? 5000, connectTimeoutMs: this.opts.timeoutMs ?? 5000 });
      try {
        // Outputs off: an instrument left on by someone else is turned off before anything else.
        if (await smu.isOutputOn()) {
          this.log(`instrument ${e.info.id}: output was on at connect; turned off`);
          await smu.output(false);
        }
      } catch (err) {
        await smu.close().catch(() => undefined);
        throw err;
      }
      smu.session.transport.onClose((err) => {
        if (!err || e.conn?.smu !== smu) return;
        e.conn = undefined;
        Object.assign(e.info, { state: 'disconnected', outputs: undefined, error: `connection lost: ${err.message}` });
        void server?.close();
      });
      const conn: Connection = {
        smu,
        close: async () => {
          let problem: string | undefined;
          try {
            const setup = smu.setup;
            if (setup && setup.level !== 0) {
              for (let k = 9; k >= 0; k--) await smu.setLevel(Number(((setup.level * k) / 10).toPrecision(9)));
            }
            await smu.output(false);
            if (await smu.isOutputOn()) problem = 'the output still reads on after output off';
          } catch (err) {
            problem = `output off could not be confirmed: ${errText(err)}`;
          }
          await smu.close().catch(() => undefined);
          await server?.close();
          return problem;
        },
      };
      return {
        conn,
        identity: smu.idn,
        port: e.virtual ? address : undefined,
        capabilities: {
          driver: smu.model,
          maxVoltage: smu.ratings.maxVoltage,
          maxCurrent: smu.ratings.maxCurrent,
          maxPoints: Math.min(smu.capabilities.maxPoints, e.inst.smu?.maxPoints ?? Infinity),
          minDwellS: Math.max(smu.capabilities.minDwellS, e.inst.smu?.minDwellS ?? 0),
        },
      };
    } catch (err) {
      await server?.close();
      throw err;
    }
  }

  private async openDaq(e: Entry): Promise<{ conn: Connection; identity: string; port?: string; capabilities: Record<string, number | string> }> {
    const [{ DaqBoard }, virtual] = await Promise.all([import('../../drivers/daq/board.ts'), import('../../drivers/daq/virtual.ts')]);
    let vb: { path: string; close(): Promise<void> } | undefined;
    let port = e.inst.port;
    if (e.virtual) {
      if (!virtual.virtualBoardAvailable()) throw new Error('the virtual board is not built (npm run setup)');
      vb = await virtual.VirtualBoard.start({ circuit: { kind: 'lif' } });
      port = vb.path;
    }
    const open = async () => {
      const board = await DaqBoard.open({ path: port!, baudRate: e.inst.baudRate });
      try {
        const hello = await board.negotiate();
        await board.stop(); // outputs to zero, acquisition off
        // The port vanishing by itself (cable pulled) while connected and not lent to a run.
        board.on('closed', (err) => {
          if (!err || e.lease || e.info.state !== 'connected') return;
          e.conn = undefined;
          Object.assign(e.info, { state: 'disconnected', outputs: undefined, error: `connection lost: ${err.message}` });
          void vb?.close();
        });
        return { board, hello };
      } catch (err) {
        await board.close();
        throw err;
      }
    };
    try {
      let { board, hello } = await open();
      const conn: Connection = {
        close: async () => {
          let problem: string | undefined;
          if (board.isOpen) {
            await board.stop().catch((err) => (problem = `STOP could not be confirmed: ${errText(err)}`));
            await board.close();
          }
          await vb?.close();
          return problem;
        },
        handOver: async () => {
          await board.stop().catch(() => undefined);
          await board.close();
          return port!;
        },
        takeBack: async () => {
          ({ board, hello } = await open());
        },
      };
      return {
        conn,
        identity: `${hello.board}, firmware ${hello.firmwareVersion}, protocol v${hello.protocolVersion}`,
        port: e.virtual ? port : undefined,
        capabilities: {
          analogInputs: hello.analogInputs,
          adcBits: hello.adcBits,
          stimulusBits: hello.stimulusBits,
          maxConversionsPerSecond: hello.maxConversionsPerSecond,
          maxWaveform: hello.maxWaveform,
        },
      };
    } catch (err) {
      await vb?.close();
      throw err;
    }
  }
}
