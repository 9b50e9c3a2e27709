/** Helpers for the DAQ tests: a byte-level fault proxy between two ptys, expected codes of the `direct` circuit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SerialPort } from 'serialport';
import { expect } from 'vitest';
import type { BlockMessage, SourceMessage } from '../common/run-stream.ts';
import type { DaqRun } from '../drivers/daq/source.ts';

/** What the harness's `direct` circuit puts on the pins, and what simavr's ADC makes of it (AVcc 5 V). */
export const stimMv = (code: number) => Math.floor((code * 5000 + 127) / 255);
export const adcCode = (mv: number) => Math.floor((mv * 1023) / 5000);

export async function collect(run: DaqRun, signal = new AbortController().signal) {
  const msgs: SourceMessage[] = [];
  for await (const m of run.messages(signal)) msgs.push(m);
  return msgs;
}

/** A run the board refused before any sample: its reason matches `pattern`, whose group 1 is the rate limit. */
export function refusedLimit(msgs: SourceMessage[], pattern: RegExp): number {
  const stop = msgs.at(-1);
  expect(stop).toMatchObject({ type: 'stop', status: 'failed' });
  expect(msgs.some((m) => m.type === 'block')).toBe(false);
  const m = pattern.exec(stop?.type === 'stop' ? (stop.reason ?? '') : '');
  expect(m, stop?.type === 'stop' ? stop.reason : '').not.toBeNull();
  return Number(m![1]);
}

/** All samples of a channel by run index (Map), checking blocks never overlap. */
export function samplesByIndex(msgs: SourceMessage[], channel: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of msgs) {
    if (m.type !== 'block' || m.channel !== channel) continue;
    const b = m as BlockMessage;
    for (let i = 0; i < b.samples.length; i++) {
      if (out.has(b.firstIndex + i)) throw new Error(`sample ${b.firstIndex + i} delivered twice`);
      out.set(b.firstIndex + i, b.samples[i]);
    }
  }
  return out;
}

const rnd = (() => {
  let x = 0x2545f491;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
})();

export interface FaultRates {
  /** Per-byte probabilities. */
  corrupt: number;
  drop: number;
  duplicate: number;
}

/**
 * A byte-level proxy: socat makes a pty pair (host side `hostPath`, proxy side internal), this process
 * opens the board's port and the proxy side and forwards bytes both ways, corrupting, dropping and
 * duplicating bytes at the given rates.
 */
export class FaultProxy {
  counts = { corrupted: 0, dropped: 0, duplicated: 0, bytes: 0 };
  enabled = true;
  private constructor(
    private readonly socat: ChildProcess,
    private readonly a: SerialPort,
    private readonly b: SerialPort,
    readonly hostPath: string,
  ) {}

  static async start(boardPath: string, dir: string, rates: FaultRates): Promise<FaultProxy> {
    const hostPath = `${dir}/host-side`;
    const inner = `${dir}/proxy-side`;
    const socat = spawn('socat', [`pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${inner}`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(existsSync(hostPath) && existsSync(inner)); i++) await new Promise((r) => setTimeout(r, 50));
    const open = (path: string) =>
      new Promise<SerialPort>((resolve, reject) => {
        const p = new SerialPort({ path, baudRate: 1_000_000 }, (err) => (err ? reject(err) : resolve(p)));
      });
    const a = await open(boardPath);
    const b = await open(inner);
    const proxy = new FaultProxy(socat, a, b, hostPath);
    const forward = (to: SerialPort, scale: number) => (chunk: Buffer) => {
      const out: number[] = [];
      for (const byte of chunk) {
        proxy.counts.bytes++;
        if (proxy.enabled) {
          const x = rnd();
          if (x < rates.drop * scale) {
            proxy.counts.dropped++;
            continue;
          }
          if (x < (rates.drop + rates.corrupt) * scale) {
            proxy.counts.corrupted++;
            out.push(byte ^ (1 << Math.floor(rnd() * 8)));
            continue;
          }
          if (x < (rates.drop + rates.corrupt + rates.duplicate) * scale) {
            proxy.counts.duplicated++;
            out.push(byte, byte);
            continue;
          }
        }
        out.push(byte);
      }
      to.write(Buffer.from(out));
    };
    // board -> host at the full rates; host -> board at a tenth (requests are retried anyway)
    a.on('data', forward(b, 1));
    b.on('data', forward(a, 0.1));
    return proxy;
  }

  async close(): Promise<void> {
    await Promise.all([this.a, this.b].map((p) => new Promise<void>((r) => (p.isOpen ? p.close(() => r()) : r()))));
    this.socat.kill();
  }
}

/**
 * Runs `spikeloop virtual daq-uno --pty <link in a temp dir> ...args` around `body`: hands it the link asked for,
 * the first line the command printed, and `interrupt()` (SIGINT, resolves with the exit code). Killed and cleaned
 * up afterwards whatever happens.
 */
export async function withVirtualDaqCli(
  args: string[],
  body: (cli: { link: string; first: string; interrupt: () => Promise<number | null> }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-daq-cli-'));
  const link = path.join(dir, 'ttyACM0');
  const proc = spawn(process.execPath, ['bin/spikeloop.js', 'virtual', 'daq-uno', '--pty', link, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const interrupt = () => {
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.kill('SIGINT');
      return exited;
    };
    await body({ link, first, interrupt });
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
