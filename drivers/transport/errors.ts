/**
 * The errors a driver or transport throws: AppErrors (common/errors.ts) whose codes are this subset of the
 * one catalogue, so callers (CLI, API, tests) branch on the code, the API answers the catalogue's status,
 * and people read the message.
 */
import { AppError, type ErrorCode } from '../../common/errors.ts';

export type InstrumentErrorCode = Extract<
  ErrorCode,
  | 'BAD_ADDRESS' // a resource string that is neither VISA, a serial path nor host:port
  | 'TIMEOUT' // no reply within the time limit
  | 'BAD_REPLY' // a reply that does not parse as what the command returns
  | 'INSTRUMENT_ERROR' // the instrument put an error in its queue after a command
  | 'DISCONNECTED' // the port closed or vanished
  | 'FRAMING' // a line longer than the framer's cap
  | 'OUT_OF_RANGE' // a setting value outside the declared range or choices (refused, never clipped)
  | 'UNKNOWN_MODEL' // *IDN? named a model no driver handles
  | 'RPC_UNAVAILABLE' // a VXI-11 peer does not serve the RPC program, version or procedure called
  | 'LIMIT_EXCEEDED' // a bench safety limit would be exceeded
  | 'TRANSCRIPT' // scripted transport: a write that the transcript did not expect
>;

export class InstrumentError extends AppError {
  declare readonly code: InstrumentErrorCode;
  /** The command being executed when it happened, if any. */
  readonly command?: string;
  /** The instrument's own error number (SCPI/TSP error queue), for INSTRUMENT_ERROR. */
  readonly instrumentCode?: number;
  constructor(code: InstrumentErrorCode, message: string, extra: { command?: string; instrumentCode?: number } = {}) {
    super(code, message);
    this.name = 'InstrumentError';
    this.command = extra.command;
    this.instrumentCode = extra.instrumentCode;
  }
}

/**
 * The instrument's own refusal: its error-queue number (SCPI -222 "Data out of range", TSP -286 run-time
 * error ...) and text. The virtual instruments raise it and queue it; a session draining a real queue reports it.
 */
export const instrumentError = (instrumentCode: number, message: string, command?: string): InstrumentError =>
  new InstrumentError('INSTRUMENT_ERROR', message, { instrumentCode, ...(command !== undefined ? { command } : {}) });

/** The queue number of an instrument's own refusal (instrumentError), else undefined. */
export const queueCode = (err: unknown): number | undefined =>
  err instanceof InstrumentError && err.code === 'INSTRUMENT_ERROR' ? err.instrumentCode : undefined;
