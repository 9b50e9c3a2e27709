/**
 * A command session on a transport: one command in flight at a time (a promise chain), time-outs, the
 * IEEE-488.2 common commands, and the error queue drained after each configuration command so an
 * instrument error surfaces as an InstrumentError naming the command that caused it.
 */
import { InstrumentError, instrumentError } from './errors.ts';
import type { Transport } from './transport.ts';

/** SCPI: errors read with `:SYST:ERR?`; TSP (Keithley 2600B): `errorqueue.count` / `errorqueue.next()`. */
export type Dialect = 'scpi' | 'tsp';

export interface SessionOptions {
  dialect: Dialect;
  /** Reply time-out per query, ms. */
  timeoutMs?: number;
  /** Keep the last N lines written/read in `log` (0: none). */
  logLines?: number;
}

export interface LogEntry {
  dir: 'write' | 'read';
  text: string;
}

export interface QueuedError {
  code: number;
  message: string;
}

export class Session {
  readonly dialect: Dialect;
  timeoutMs: number;
  readonly log: LogEntry[] = [];
  private readonly logLines: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** Commands written since the error queue was last read (their errors surface at the next check). */
  private unchecked: string[] = [];
  private lastChecked: string[] = [];

  constructor(
    readonly transport: Transport,
    opts: SessionOptions,
  ) {
    this.dialect = opts.dialect;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.logLines = opts.logLines ?? 200;
  }

  /** Runs `fn` with the session to itself (no other command interleaves). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private record(dir: LogEntry['dir'], text: string): void {
    if (!this.logLines) return;
    this.log.push({ dir, text: text.length > 200 ? text.slice(0, 200) + '…' : text });
    if (this.log.length > this.logLines) this.log.shift();
  }

  private async rawWrite(cmd: string): Promise<void> {
    this.record('write', cmd);
    if (this.unchecked.length < 16) this.unchecked.push(cmd);
    await this.transport.write(cmd);
  }

  /** Set after a time-out: a late reply may still be on its way and must not be taken for the next one. */
  private needsResync = false;

  /**
   * After a time-out: `*OPC?` is answered after everything sent before it, so reading up to its "1"
   * swallows any late reply; then the next query's reply is its own.
   */
  private async resync(): Promise<void> {
    this.needsResync = false;
    this.transport.discardInput();
    await this.rawWrite('*OPC?');
    for (let k = 0; k < 8; k++) {
      const line = await this.transport.read(this.timeoutMs);
      this.record('read', line);
      if (line.trim() === '1') return;
    }
  }

  private async rawQuery(cmd: string, timeoutMs = this.timeoutMs): Promise<string> {
    if (this.needsResync) await this.resync().catch(() => undefined);
    this.transport.discardInput();
    await this.rawWrite(cmd);
    try {
      const reply = await this.transport.read(timeoutMs);
      this.record('read', reply);
      return reply;
    } catch (err) {
      if (err instanceof InstrumentError && err.code === 'TIMEOUT') {
        this.needsResync = true;
        throw new InstrumentError('TIMEOUT', `${this.transport.address}: no reply to ${JSON.stringify(cmd)} within ${timeoutMs} ms`, {
          command: cmd,
        });
      }
      if (err instanceof InstrumentError) throw new InstrumentError(err.code, `${err.message} (during ${JSON.stringify(cmd)})`, { command: cmd });
      throw err;
    }
  }

  /** Sends a command that has no reply; does not read the error queue. */
  write(cmd: string): Promise<void> {
    return this.exclusive(() => this.rawWrite(cmd));
  }

  /** Sends a query and returns its reply line. */
  query(cmd: string, timeoutMs?: number): Promise<string> {
    return this.exclusive(() => this.rawQuery(cmd, timeoutMs));
  }

  /**
   * Sends a query; if it gets no reply, reads the error queue so the instrument's own error (naming the
   * command) is reported rather than a bare time-out. On success the queue is not read (hot paths such
   * as point-by-point sweeps check it every so often with `errors()` / `checkErrors()`).
   */
  queryOrError(cmd: string, timeoutMs?: number): Promise<string> {
    return this.exclusive(async () => {
      try {
        return await this.rawQuery(cmd, timeoutMs);
      } catch (err) {
        if (err instanceof InstrumentError && err.code === 'TIMEOUT' && !this.transport.closed) {
          const errors = await this.drainErrors().catch(() => []);
          if (errors.length) throw this.errorFor(cmd, errors, this.lastChecked);
        }
        throw err;
      }
    });
  }

  /** Reads the error queue and throws INSTRUMENT_ERROR naming the commands sent since the last check. */
  checkErrors(): Promise<void> {
    return this.exclusive(async () => {
      const errors = await this.drainErrors();
      if (errors.length) throw this.errorFor(this.lastChecked.at(-1) ?? '', errors, this.lastChecked);
    });
  }

  /** Sends a query, then drains the error queue (throws INSTRUMENT_ERROR naming the query if it failed). */
  queryChecked(cmd: string, timeoutMs?: number): Promise<string> {
    return this.exclusive(async () => {
      let reply: string;
      try {
        reply = await this.rawQuery(cmd, timeoutMs);
      } catch (err) {
        // A query the instrument rejected gives no reply: prefer its own error over our time-out.
        if (err instanceof InstrumentError && err.code === 'TIMEOUT' && !this.transport.closed) {
          const errors = await this.drainErrors().catch(() => []);
          if (errors.length) throw this.errorFor(cmd, errors, this.lastChecked);
        }
        throw err;
      }
      const errors = await this.drainErrors();
      if (errors.length) throw this.errorFor(cmd, errors, this.lastChecked);
      return reply;
    });
  }

  /** Sends a configuration command, then drains the error queue; throws INSTRUMENT_ERROR naming the command. */
  configure(cmd: string, timeoutMs?: number): Promise<void> {
    return this.exclusive(async () => {
      await this.rawWrite(cmd);
      const errors = await this.drainErrors(timeoutMs);
      if (errors.length) throw this.errorFor(cmd, errors, this.lastChecked);
    });
  }

  private errorFor(cmd: string, errors: QueuedError[], earlier: string[]): InstrumentError {
    const list = errors.map((e) => `${e.code} "${e.message}"`).join('; ');
    const what = earlier.length > 1 ? `one of ${earlier.map((c) => JSON.stringify(c)).join(', ')}` : JSON.stringify(cmd);
    return instrumentError(errors[0].code, `instrument rejected ${what}: ${list}`, cmd);
  }

  /** Reads and empties the instrument's error queue (call inside `exclusive`, or through `errors()`). */
  private async drainErrors(firstTimeoutMs?: number): Promise<QueuedError[]> {
    const out: QueuedError[] = [];
    this.lastChecked = this.unchecked.filter((c) => c !== ':SYST:ERR?' && c !== '*OPC?' && !c.startsWith('print(errorqueue.'));
    this.unchecked = [];
    if (this.dialect === 'scpi') {
      for (let i = 0; i < 32; i++) {
        const reply = await this.rawQuery(':SYST:ERR?', i === 0 ? firstTimeoutMs : undefined);
        const m = /^\s*([+-]?\d+)\s*,\s*"?(.*?)"?\s*$/.exec(reply);
        if (!m) throw new InstrumentError('BAD_REPLY', `unexpected reply to :SYST:ERR?: ${JSON.stringify(reply)}`, { command: ':SYST:ERR?' });
        const code = Number(m[1]);
        if (code === 0) break;
        out.push({ code, message: m[2] });
      }
    } else {
      const countReply = await this.rawQuery('print(errorqueue.count)', firstTimeoutMs);
      const count = Number(countReply);
      if (!Number.isFinite(count))
        throw new InstrumentError('BAD_REPLY', `unexpected reply to print(errorqueue.count): ${JSON.stringify(countReply)}`, {
          command: 'print(errorqueue.count)',
        });
      for (let i = 0; i < Math.min(count, 32); i++) {
        const reply = await this.rawQuery('print(errorqueue.next())');
        const [code, message] = reply.split('\t');
        out.push({ code: Math.round(Number(code)), message: (message ?? '').trim() });
      }
    }
    return out;
  }

  /** Drains the error queue and returns what was in it. */
  errors(): Promise<QueuedError[]> {
    return this.exclusive(() => this.drainErrors());
  }

  idn(): Promise<string> {
    return this.query('*IDN?');
  }
  reset(): Promise<void> {
    return this.configure('*RST');
  }
  clearStatus(): Promise<void> {
    return this.write('*CLS');
  }
  /** Waits for all pending operations (`*OPC?` answers 1 when done). */
  async operationComplete(timeoutMs?: number): Promise<void> {
    const r = await this.query('*OPC?', timeoutMs);
    if (r.trim() !== '1') throw new InstrumentError('BAD_REPLY', `unexpected reply to *OPC?: ${JSON.stringify(r)}`, { command: '*OPC?' });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** Parses a reply of comma-separated numbers; throws BAD_REPLY naming the command on anything else. */
export function parseNumbers(reply: string, command: string, expected?: number): number[] {
  const parts = reply.split(/\s*,\s*|\t/).filter((p) => p.length > 0);
  const nums = parts.map(Number);
  if (!parts.length || nums.some((n) => !Number.isFinite(n)) || (expected !== undefined && nums.length !== expected))
    throw new InstrumentError(
      'BAD_REPLY',
      `reply to ${JSON.stringify(command)} is not ${expected ?? 'a list of'} number(s): ${JSON.stringify(reply.length > 80 ? reply.slice(0, 80) + '…' : reply)}`,
      { command },
    );
  return nums;
}
