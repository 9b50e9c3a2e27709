/**
 * The virtual DAQ board: the real firmware image (firmware/build/uno/spikeloop_daq.elf) running in simavr
 * under firmware/harness/virtual_board.c, its UART behind a real pseudo-terminal, a circuit model on its
 * pins (docs/daq/virtual-board.md). This module starts and controls that process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FIRMWARE_BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../firmware/build');
export const HARNESS = path.join(FIRMWARE_BUILD, 'virtual_board');
export const UNO_ELF = path.join(FIRMWARE_BUILD, 'uno/spikeloop_daq.elf');

export type CircuitKind = 'direct' | 'rc' | 'lif';
export interface CircuitSpec {
  kind: CircuitKind;
  /** SI values: tau, r_in, r_leak, c, v_th, v_reset, t_ref (see the harness header). */
  params?: Record<string, number>;
}

export interface VirtualBoardOptions {
  /** Symlink to create for the pty (like /dev/ttyACM0); default: the pty's own path. */
  link?: string;
  /** Emulated seconds per wall second at most; 1 = real time (default), 0 = unthrottled. */
  speed?: number;
  circuit?: CircuitSpec;
  elf?: string;
}

export function virtualBoardAvailable(): boolean {
  return existsSync(HARNESS) && existsSync(UNO_ELF);
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

  private constructor(
    private readonly proc: ChildProcess,
    readonly link: string | undefined,
  ) {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      const [kind, ...rest] = line.trim().split(/\s+/);
      const fields: Record<string, string> = {};
      for (const r of rest) {
        const eq = r.indexOf('=');
        if (eq > 0) fields[r.slice(0, eq)] = r.slice(eq + 1);
        else fields._ = r;
      }
      if (kind === 'pty') this.ptyPath = fields._;
      const e = { kind, fields, line };
      this.events.push(e);
      if (this.events.length > 1000) this.events.shift();
      for (const l of this.listeners.slice()) l(e);
    });
    proc.on('exit', () => {
      this.exited = true;
    });
  }

  /** Path the host should open: the link if one was asked for, else the pty. */
  get path(): string {
    return this.link ?? this.ptyPath;
  }

  static async start(options: VirtualBoardOptions = {}): Promise<VirtualBoard> {
    const elf = options.elf ?? UNO_ELF;
    if (!existsSync(HARNESS) || !existsSync(elf)) {
      throw new Error(`virtual board not built (${HARNESS}); run: npm run setup`);
    }
    const args = ['--elf', elf, '--speed', String(options.speed ?? 1)];
    if (options.link) args.push('--link', options.link);
    if (options.circuit) {
      args.push('--circuit', options.circuit.kind);
      for (const [k, v] of Object.entries(options.circuit.params ?? {})) args.push('--param', `${k}=${v}`);
    }
    const proc = spawn(HARNESS, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const vb = new VirtualBoard(proc, options.link);
    await vb.waitFor((e) => e.kind === 'pty', 10_000);
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
