/**
 * Scripted transport for transcript tests: every write is checked against the next expected command;
 * a `[command, reply]` pair queues the reply for the following read. `assertDone()` fails on anything
 * left over. Nothing touches a port.
 */
import { InstrumentError } from './errors.ts';
import { TransportBase } from './transport.ts';

/** `[command, reply]`: reply `null` for a write that gets no answer. */
export type TranscriptStep = [command: string, reply: string | null];

export class ScriptedTransport extends TransportBase {
  readonly address = 'SCRIPTED::INSTR';
  private step = 0;
  private replies: string[] = [];
  /** Every line written, in order. */
  readonly written: string[] = [];

  constructor(private readonly transcript: TranscriptStep[]) {
    super();
  }

  async write(line: string): Promise<void> {
    if (this.closed) throw new InstrumentError('DISCONNECTED', 'scripted transport is closed');
    this.written.push(line);
    const expected = this.transcript[this.step];
    if (!expected)
      throw new InstrumentError('TRANSCRIPT', `unexpected write ${JSON.stringify(line)} after the end of the transcript`);
    if (expected[0] !== line)
      throw new InstrumentError(
        'TRANSCRIPT',
        `write #${this.step + 1}: expected ${JSON.stringify(expected[0])}, got ${JSON.stringify(line)}`,
      );
    this.step++;
    if (expected[1] !== null) this.replies.push(expected[1]);
  }

  async read(timeoutMs: number): Promise<string> {
    const r = this.replies.shift();
    if (r === undefined) throw new InstrumentError('TIMEOUT', `scripted transport: no reply queued (${timeoutMs} ms)`);
    return r;
  }

  discardInput(): void {
    this.replies = [];
  }

  async close(): Promise<void> {
    this.markClosed();
  }

  /** Throws if expected commands were not sent or replies were not read. */
  assertDone(): void {
    if (this.step < this.transcript.length)
      throw new InstrumentError(
        'TRANSCRIPT',
        `transcript not finished: ${this.transcript.length - this.step} command(s) never sent, next ${JSON.stringify(this.transcript[this.step][0])}`,
      );
    if (this.replies.length) throw new InstrumentError('TRANSCRIPT', `${this.replies.length} reply(ies) never read`);
  }
}
