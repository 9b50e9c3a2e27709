/**
 * The virtual DAQ board: the real firmware image (firmware/build/uno/spikeloop_daq.elf) running in simavr
 * under firmware/harness/virtual_board.c, its UART behind a real pseudo-terminal, a circuit model on its
 * pins (docs/daq/overview.md, "Virtual bench"). This module starts and controls that process.
 *
 * The circuit is one of the harness's built-in C models (`circuit`), or any DUT stepper (`dut`): a module
 * exporting `createDutStepper(config): DutStepper`, run on a worker thread (dut-worker.mjs) that the
 * harness calls in lockstep over two FIFOs, in emulated time. The server provides the digital twin as one
 * (server/sources/daq-twin-dut.ts); this folder knows only the interface.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

// The package root is two folders up from the sources (drivers/daq/), three from the compiled build (dist/drivers/daq/).
export const FIRMWARE_BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.endsWith('.ts') ? '../..' : '../../..', 'firmware/build');
export const HARNESS = path.join(FIRMWARE_BUILD, 'virtual_board');
export const UNO_ELF = path.join(FIRMWARE_BUILD, 'uno/spikeloop_daq.elf');

export type CircuitKind = 'direct' | 'rc' | 'lif';
export interface CircuitSpec {
  kind: CircuitKind;
  /** SI values: tau, r_in, r_leak, c, v_th, v_reset, t_ref (see the harness header). */
  params?: Record<string, number>;
}

/** A circuit on the board's pins, stepped in emulated time (times in s since the board's power-on). */
export interface DutStepper {
  /** The stimulus output is `volts` (0..5 V) from time t on (held until the next call). */
  setStimulus(t: number, volts: number): void;
  /** Writes the voltages of pins A0..A5 at time t into out (V; the harness clamps them to 0..5 V). */
  pins(t: number, out: Float64Array): void;
}

/** Where the worker finds the stepper: `module` exports `createDutStepper(config): DutStepper`. */
export interface DutSpec {
  module: string | URL;
  /** Structured-cloneable; passed to createDutStepper in the worker. */
  config: unknown;
  /** Shown in the harness's log line. */
  name?: string;
}

const DUT_WORKER = new URL('./dut-worker.mjs', import.meta.url);

export interface VirtualBoardOptions {
  /** Symlink to create for the pty (like /dev/ttyACM0); default: the pty's own path. */
  link?: string;
  /** Emulated seconds per wall second at most; 1 = real time (default), 0 = unthrottled. */
  speed?: number;
  circuit?: CircuitSpec;
  /** A circuit stepped on the host instead of a built-in model (takes precedence over `circuit`). */
  dut?: DutSpec;
  elf?: string;
  /** While a run is active and the host has sent nothing for 100 ms of emulated time, emulated time waits for the
   * host this long (wall ms; default 2000, 0 = never): a host starved of CPU cannot trip the firmware's watchdog. */
  hostWaitMs?: number;
}

/** Debian packages that build the firmware image and the harness (a checkout's `npm run setup` installs them). */
const BUILD_PACKAGES = 'gcc-avr avr-libc arduino-core-avr simavr libsimavr-dev libelf-dev';

let problem: string | null | undefined;

/**
 * Why the virtual board cannot run on this machine, or undefined when it can: the image or the harness is
 * missing (a checkout not set up, or a package built without them), or the harness's shared libraries
 * (simavr's) are not installed. Asked once per process: the harness is run once without arguments.
 */
export function virtualBoardProblem(): string | undefined {
  if (problem !== undefined) return problem ?? undefined;
  if (!existsSync(HARNESS) || !existsSync(UNO_ELF)) {
    const checkout = existsSync(path.join(FIRMWARE_BUILD, '..', 'Makefile'));
    problem = checkout
      ? `the virtual board is not built (${HARNESS}): run \`npm run setup\` (Debian packages ${BUILD_PACKAGES})`
      : `this spikeloop installation has no virtual board (${HARNESS} is missing)`;
  } else {
    const r = spawnSync(HARNESS, [], { encoding: 'utf8', timeout: 10_000 });
    problem = r.error ? `the virtual board harness cannot run: ${r.error.message}` : (harnessLoadProblem(r.stderr) ?? null);
  }
  return problem ?? undefined;
}

/** The dynamic loader's complaint about a missing library, as advice naming the Debian package to install. */
export function harnessLoadProblem(stderr: string): string | undefined {
  const lib = /error while loading shared libraries: ([^:\s]+)/.exec(stderr);
  if (!lib) return undefined;
  return `the virtual board needs ${lib[1]}: install the Debian package simavr (apt-get install simavr; it brings libsimavr2 and libelf1)`;
}

export function virtualBoardAvailable(): boolean {
  return virtualBoardProblem() === undefined;
}

/** Emulated time (ms) of each running virtual board, by the paths a host opens (pty, link). */
const clocks = new Map<string, () => Promise<number>>();

/** The emulated clock of the virtual board on `path`, if one runs there: its reply timeouts wait for emulated time. */
export function emulatedClock(path: string): (() => Promise<number>) | undefined {
  return clocks.get(path);
}

export interface HarnessEvent {
  kind: string;
  fields: Record<string, string>;
  line: string;
}

export class VirtualBoard {
  /** Current pty device path (changes after unplug). */
  ptyPath = '';
  readonly events: HarnessEvent[] = [];
  private listeners: ((e: HarnessEvent) => void)[] = [];
  private exited = false;
  /** Set when the host-side circuit failed (the harness then stops too). */
  dutError: string | undefined;

  private constructor(
    private readonly proc: ChildProcess,
    readonly link: string | undefined,
  ) {
    // The harness can end first (a terminal's signal reaches it too); writing a last command to it then
    // fails with EPIPE, which only means there is nobody left to tell.
    proc.stdin?.on('error', () => undefined);
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      const [kind, ...rest] = line.trim().split(/\s+/);
      const fields: Record<string, string> = {};
      for (const r of rest) {
        const eq = r.indexOf('=');
        if (eq > 0) fields[r.slice(0, eq)] = r.slice(eq + 1);
        else fields._ = r;
      }
      if (kind === 'pty') {
        clocks.delete(this.ptyPath);
        this.ptyPath = fields._;
        for (const p of [this.ptyPath, this.link]) if (p) clocks.set(p, this.clock);
      }
      const e = { kind, fields, line };
      this.events.push(e);
      if (this.events.length > 1000) this.events.shift();
      for (const l of this.listeners.slice()) l(e);
    });
    proc.on('exit', () => {
      for (const p of [this.ptyPath, this.link]) if (p && clocks.get(p) === this.clock) clocks.delete(p);
      this.exited = true;
    });
  }

  /** Path the host should open: the link if one was asked for, else the pty. */
  get path(): string {
    return this.link ?? this.ptyPath;
  }

  static async start(options: VirtualBoardOptions = {}): Promise<VirtualBoard> {
    const elf = options.elf ?? UNO_ELF;
    const why = virtualBoardProblem() ?? (existsSync(elf) ? undefined : `firmware image ${elf} not found`);
    if (why) throw new Error(why);
    const args = ['--elf', elf, '--speed', String(options.speed ?? 1), '--host-wait', String(options.hostWaitMs ?? 2000)];
    if (options.link) args.push('--link', options.link);
    let link: DutLink | undefined;
    if (options.dut) {
      link = await DutLink.start(options.dut);
      args.push('--circuit', 'extern', '--fifo', link.dir);
    } else if (options.circuit) {
      args.push('--circuit', options.circuit.kind);
      for (const [k, v] of Object.entries(options.circuit.params ?? {})) args.push('--param', `${k}=${v}`);
    }
    let proc: ChildProcess;
    try {
      proc = spawn(HARNESS, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    } catch (err) {
      link?.release();
      throw err;
    }
    const vb = new VirtualBoard(proc, options.link);
    if (link) {
      const l = link;
      l.onError = (msg) => {
        vb.dutError = msg;
        process.stderr.write(`virtual board: circuit ${options.dut?.name ?? ''} failed: ${msg}\n`);
      };
      proc.once('exit', () => l.release());
    }
    try {
      await vb.waitFor((e) => e.kind === 'pty', 10_000);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(vb.dutError ? `virtual board did not start: ${vb.dutError}` : (err as Error).message);
    }
    return vb;
  }

  /** Resolves with the first event (already seen after `since`, or future) matching pred. */
  waitFor(pred: (e: HarnessEvent) => boolean, timeoutMs = 10_000, since = 0): Promise<HarnessEvent> {
    const seen = this.events.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`virtual board: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (e: HarnessEvent) => {
        if (!pred(e)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(e);
      };
      this.listeners.push(listener);
    });
  }

  private command(cmd: string): void {
    if (!this.exited) this.proc.stdin!.write(cmd + '\n');
  }

  /** Board reset (as the reset button). */
  reset(): void {
    this.command('reset');
  }

  /** USB cable pulled: the pty disappears, the board loses power for `ms`, then comes back on a new pty. */
  unplug(ms: number): void {
    this.command(`unplug ${ms}`);
  }

  /** Starves the emulator for `ms` of wall time (its process stopped), as a heavily loaded machine can. */
  freeze(ms: number): Promise<void> {
    this.proc.kill('SIGSTOP');
    return new Promise((resolve) =>
      setTimeout(() => {
        this.proc.kill('SIGCONT');
        resolve();
      }, ms),
    );
  }

  /** Emulated time in ms (asks the harness). */
  readonly clock = async (): Promise<number> => {
    const n = this.events.length;
    this.command('clock');
    const e = await this.waitFor((x) => x.kind === 'clock', 5000, n);
    return Number(e.fields.t_ns) / 1e6;
  };

  async stats(): Promise<Record<string, number>> {
    const n = this.events.length;
    this.command('stats');
    const e = await this.waitFor((x) => x.kind === 'stats', 5000, n);
    return Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, Number(v)]));
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.command('quit');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }
}

/**
 * The host end of the harness's `extern` circuit link: two FIFOs in a temp directory and the worker thread
 * that answers on them (dut-worker.mjs). The stepper is built in the worker before the harness starts, so a
 * bad circuit fails here and nothing starts.
 */
class DutLink {
  onError: (msg: string) => void = () => undefined;
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly worker: Worker,
  ) {}

  static async start(dut: DutSpec): Promise<DutLink> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-dut-'));
    const req = path.join(dir, 'req');
    const resp = path.join(dir, 'resp');
    try {
      execFileSync('mkfifo', ['-m', '600', req, resp]);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`virtual board: cannot create the circuit FIFOs (mkfifo): ${(err as Error).message}`);
    }
    const worker = new Worker(DUT_WORKER, { workerData: { module: String(dut.module), config: dut.config, req, resp } });
    const link = new DutLink(dir, worker);
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error ?? 'circuit worker failed'))));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`circuit worker exited (${code}) before it was ready`)));
      });
    } catch (err) {
      link.release();
      throw err;
    }
    worker.removeAllListeners();
    worker.on('message', (m: { error?: string }) => m.error && link.onError(m.error));
    worker.on('error', (err) => link.onError(err.message));
    worker.unref(); // it ends by itself when the harness closes its FIFO ends
    return link;
  }

  /** After the harness exited: wakes the worker if it still waits to open a FIFO, removes the directory. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      // a worker still blocked opening req for reading gets a writer and then end of file
      closeSync(openSync(path.join(this.dir, 'req'), fsc.O_WRONLY | fsc.O_NONBLOCK));
    } catch {
      // no reader waiting (ENXIO): the worker already finished or has the FIFO open and sees end of file
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
