/**
 * The one error type and its catalogue. Every failure spikeloop reports on purpose is an `AppError` with a
 * code from `ERRORS`, a message written for the person who caused it, and, where one input is to blame,
 * `field`: a JSON pointer into the request (`/protocol/frequencyHz`, `/query/end`, `/params/id`).
 * The HTTP API answers `ERRORS[code].status` with `{ error: { code, message, field? } }`
 * (server/api/errors.ts); the CLI prints the message. Anything thrown that is not an AppError is a bug:
 * a 500 `INTERNAL`, logged with its stack.
 *
 * Lives in common/ so the pure rooms (server/twin, server/analysis) and drivers/ can throw it too.
 */
import type { ErrorBody } from './schemas/shared.ts';

/** Code → HTTP status, and when it is used (docs/api.md lists the same table). */
export const ERRORS = {
  // 400: the request is wrong
  VALIDATION: { status: 400, when: 'a body field, query or path parameter fails its schema' },
  MALFORMED_JSON: { status: 400, when: 'the body is not JSON (or holds prototype-poisoning keys)' },
  BAD_PROTOCOL: { status: 400, when: 'the protocol document is invalid (field names the parameter)' },
  BAD_SAMPLE_RATE: { status: 400, when: "sample rate outside 1 .. 2 000 000 S/s (the source's own maximum where it has one)" },
  BAD_RANGE: { status: 400, when: '`end <= start`, or more samples than one request may read' },
  SOURCE_UNKNOWN: { status: 400, when: 'no source of that kind is registered' },
  BAD_PATH: { status: 400, when: 'a URL path with a `..` segment (plain or percent-encoded): it would leave the dashboard, nothing is read' },
  BAD_SOURCE_OPTIONS: { status: 400, when: "the source refused the run's `options` (field names the option)" },
  BAD_STREAM: { status: 400, when: 'the store refused a message out of order (sources only)' },
  BAD_BLOCK: { status: 400, when: 'the store refused a block (unknown channel, wrong type, going backwards)' },
  EXPORT_RATES_DIFFER: { status: 400, when: 'a CSV export (one time column) asked for channels of different sample rates' },
  BAD_IMPORT: { status: 400, when: 'an imported file was refused (message names the line or setting at fault)' },
  LIMIT_EXCEEDED: { status: 400, when: 'the protocol would exceed a bench limit (message names the limit, field the parameter or option that causes it)' },
  PROGRAM_LIMIT: { status: 400, when: "the protocol does not fit the instrument's program capabilities" },
  BAD_SWEEP: { status: 400, when: 'the sweep document or one of its points is invalid' },
  BAD_CIRCUIT: { status: 400, when: 'the twin circuit is unknown or invalid, or the run has no stimulus to feed it' },
  BAD_INSTRUMENT: { status: 400, when: 'connect/disconnect of the built-in simulated instrument' },
  BAD_BENCH_CONFIG: { status: 400, when: 'the bench configuration is invalid (field names the setting)' },
  TWIN_BAD_CIRCUIT: { status: 400, when: 'the twin refused the circuit document' },
  TWIN_BAD_OPTION: { status: 400, when: 'the twin refused a simulation option' },
  TWIN_BAD_PARAM: { status: 400, when: 'a device model parameter is invalid, or a fit names a parameter the circuit lacks or bad bounds' },
  TWIN_BAD_PROBE: { status: 400, when: 'a circuit probe names nothing in the circuit' },
  TWIN_BAD_STIMULUS: { status: 400, when: 'the stimulus cannot drive the circuit' },
  TWIN_TOO_COSTLY: { status: 400, when: 'the twin refused a simulation that would hold a worker thread too long (the message names the limit: factor fill or work)' },
  TWIN_UNKNOWN_MODEL: { status: 400, when: 'the circuit names an unknown device model' },
  BAD_ADDRESS: { status: 400, when: 'an instrument address that is neither VISA, a serial path nor host:port (drivers/transport)' },
  OUT_OF_RANGE: { status: 400, when: "an instrument setting outside the instrument's range or choices (refused, never clipped)" },
  // 404: it does not exist
  RUN_NOT_FOUND: { status: 404, when: 'no run with that id' },
  CHANNEL_NOT_FOUND: { status: 404, when: 'the run has no such channel' },
  ROUTE_NOT_FOUND: { status: 404, when: 'no such route' },
  SWEEP_NOT_FOUND: { status: 404, when: 'no sweep with that id' },
  FIT_NOT_FOUND: { status: 404, when: 'no twin fit with that id (a running or failed fit is kept in memory while the server runs; a completed one is found by its stored circuit, also after a restart)' },
  INSTRUMENT_NOT_FOUND: { status: 404, when: 'no bench instrument with that id (run option `instrument`, or the instrument routes)' },
  // 409: the state does not allow it now
  RUN_ACTIVE: { status: 409, when: 'the run is still running (delete, pair, analyse)' },
  RUN_FINISHED: { status: 409, when: 'the run has ended (a recorder for it refused)' },
  RUN_NOT_ACTIVE: { status: 409, when: 'the run is in the wrong state for the request (pause, resume)' },
  NO_TWIN: { status: 409, when: 'the digital twin is not available on this server' },
  SOURCE_UNAVAILABLE: { status: 409, when: 'the source exists but cannot run now (message says why)' },
  SOURCE_FAILED: { status: 409, when: 'the source could not start the run (device missing, port busy ...)' },
  INSTRUMENT_NOT_CONNECTED: { status: 409, when: 'a run on a bench instrument that is not connected' },
  INSTRUMENT_BUSY: { status: 409, when: 'the instrument is lent to a run, or a connect/disconnect is under way' },
  CIRCUIT_EXISTS: { status: 409, when: 'a stored circuit of that name exists already (a fit never overwrites one)' },
  CANCELLED: { status: 409, when: 'a worker task was cancelled (its sweep or request stopped)' },
  // 401, 403: who may ask (server/api/security.ts)
  UNAUTHORIZED: { status: 401, when: 'no token, or the wrong one (Bearer, ?token= or the cookie the dashboard gets)' },
  FORBIDDEN_HOST: { status: 403, when: 'the Host header names another host (DNS rebinding)' },
  FORBIDDEN_ORIGIN: { status: 403, when: 'a browser request from a page of another origin' },
  // 413, 415
  BODY_TOO_LARGE: { status: 413, when: 'the body is larger than the limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, when: 'a body that is not `application/json`' },
  // 5xx: not the caller's fault
  INTERNAL: { status: 500, when: 'a bug (logged with its stack)' },
  STORE_TOO_NEW: { status: 500, when: 'the database was written by a newer spikeloop' },
  TASK_FAILED: { status: 500, when: 'a task on the worker pool failed (message says why)' },
  INSTRUMENT_FAILED: { status: 502, when: 'the instrument could not be opened or identified (message says why)' },
  TIMEOUT: { status: 504, when: 'an instrument did not reply within the time limit' },
  BAD_REPLY: { status: 502, when: 'an instrument reply does not parse as what the command returns' },
  RPC_UNAVAILABLE: { status: 502, when: 'a VXI-11 instrument does not serve the RPC program, version or procedure called' },
  INSTRUMENT_ERROR: { status: 502, when: 'the instrument put an error in its queue after a command' },
  DISCONNECTED: { status: 502, when: "an instrument's port closed or vanished" },
  FRAMING: { status: 502, when: "an instrument line longer than the framer's cap" },
  UNKNOWN_MODEL: { status: 502, when: '*IDN? named a model no driver handles' },
  BOARD_REFUSED: { status: 502, when: 'the DAQ board refused a request (message names what; drivers/daq)' },
  TRANSCRIPT: { status: 500, when: 'a scripted test transport saw a write its transcript did not expect (tests only)' },
  SHUTTING_DOWN: { status: 503, when: 'the server is shutting down' },
  BUSY: { status: 503, when: 'as many heavy requests (analyses on the worker pool) as allowed are running; retry later' },
  DISK_FULL: { status: 507, when: "the run's (or an export's temporary file's) estimated bytes do not fit the free disk space, or the disk filled during a run (refused until space returns)" },
  POOL_CLOSED: { status: 503, when: 'the worker pool is closed (the server is shutting down)' },
  STORE_LOCKED: { status: 503, when: 'another process has the database open for writing' },
  STORE_CLOSED: { status: 503, when: 'the store was closed' },
} as const satisfies Record<string, { status: number; when: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The body of every error response (its schema: common/schemas/shared.ts). */
export type { ErrorBody };

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** JSON pointer of the offending input, when one is to blame. */
    readonly field?: string,
    /** Machine-readable facts about the failure (e.g. the limit and the value that exceeded it). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The same error naming `field` instead (a refusal placed at the input that causes it); its class is kept. */
  at(field: string): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    // every own property, the non-enumerable message and stack too
    Object.defineProperties(copy, Object.getOwnPropertyDescriptors(this));
    return Object.assign(copy, { field });
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

/** The usual "run N does not exist". */
export const runNotFound = (id: number | string, field?: string) => new AppError('RUN_NOT_FOUND', `run ${id} does not exist`, field);

/** The usual "run N is running; stop it first". */
export const runActive = (id: number | string) => new AppError('RUN_ACTIVE', `run ${id} is running; stop it first`);
