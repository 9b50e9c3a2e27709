/**
 * The store's errors: AppError (common/errors.ts) with one of the store's codes; the HTTP status of each
 * is in the one catalogue there.
 */
import { AppError } from '../../common/errors.ts';

export type StoreErrorCode =
  | 'RUN_NOT_FOUND' // no run with that id
  | 'CHANNEL_NOT_FOUND' // the run has no channel with that index
  | 'BAD_RANGE' // start/end/pixels not integers, start >= end, pixels outside 1..10000
  | 'RUN_ACTIVE' // the run has an open recorder (delete refused, second recorder refused)
  | 'RUN_FINISHED' // a recorder was asked for a run that is no longer 'running'
  | 'BAD_STREAM' // a message out of order: block before descriptor, second descriptor, write after stop
  | 'BAD_BLOCK' // block for an unknown channel, wrong sample type, or going backwards in sample index
  | 'STORE_LOCKED' // another live process has the database open for writing
  | 'STORE_TOO_NEW' // the file was written by a newer spikeloop (user_version above ours)
  | 'STORE_CLOSED' // the store was closed
  | 'DISK_FULL' // not enough free space for a run, or the disk filled up during one (refused until space returns)
  | 'EXPORT_RATES_DIFFER' // a CSV export (one time column) asked for channels of different sample rates
  | 'CIRCUIT_EXISTS'; // a circuit of that name is stored already

// SQLITE_IOERR_SHMSIZE: the WAL index (-shm) could not be extended, which on a full tmpfs or disk is how a
// write that crosses an index page fails before SQLite ever reports SQLITE_FULL.
const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);
/** SQLite could not grow the database, its WAL or the WAL index: the disk (or the file size limit) is full. */
export const isDiskFull = (err: unknown): boolean => DISK_FULL_CODES.has((err as { code?: unknown } | null)?.code as string);

/** An AppError whose code is one of the store's (the constructor only narrows the code). */
export class StoreError extends AppError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(code, message);
  }
}
