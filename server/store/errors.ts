/**
 * The store's error catalogue. Every failure the store reports on purpose is a StoreError with a code;
 * the HTTP API maps codes to statuses (see STORE_ERROR_STATUS).
 */
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
  | 'EXPORT_RATES_DIFFER'; // a CSV export (one time column) asked for channels of different sample rates

export const STORE_ERROR_STATUS: Record<StoreErrorCode, number> = {
  RUN_NOT_FOUND: 404,
  CHANNEL_NOT_FOUND: 404,
  BAD_RANGE: 400,
  RUN_ACTIVE: 409,
  RUN_FINISHED: 409,
  BAD_STREAM: 400,
  BAD_BLOCK: 400,
  STORE_LOCKED: 503,
  STORE_TOO_NEW: 500,
  STORE_CLOSED: 503,
  EXPORT_RATES_DIFFER: 400,
};

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}
