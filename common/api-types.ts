/**
 * The shapes of runs as the run store returns them and the HTTP API sends them (docs/api.md), shared by the
 * server (server/store) and the dashboard (web/src/api.ts) so the two cannot drift apart. The run, channel,
 * event and analysis shapes are derived from their schemas (common/api-schemas.ts); the rest are still
 * written here.
 */
import type { EventKind, FinalStatus } from './run-stream.ts';
import type { RunDetail } from './api-schemas.ts';

export type { ChannelInfo, DroppedRange, ProtocolDoc, RunDetail, RunSummary, StoredAnalysis, StoredEvent } from './api-schemas.ts';

/** The run-list filters the store and `GET /api/runs` share (status and date range differ in form). */
export interface RunFilters {
  limit?: number;
  offset?: number;
  /** Substring of label, protocol kind, notes or a tag. */
  search?: string;
  /** Exact tag. */
  tag?: string;
  /** Exact protocol kind (e.g. `square`). */
  kind?: string;
  /** Exact run source (e.g. `simulated`, `twin`). */
  source?: string;
  /** Substring of the notes only. */
  notes?: string;
  /** Runs whose `linkedRunId` is this run (e.g. the twin runs paired with a measured run). */
  linkedTo?: number;
}

/** What an envelope read covers: samples [start, end) folded into `pixels` columns. */
export interface EnvelopeWindow {
  start: number;
  end: number;
  pixels: number;
  samplesPerPixel: number;
  /** Pyramid level read (0 = raw samples). */
  level: number;
}

export type PowerLawKind = 'continuous' | 'discrete';

/** A power-law fit (server/analysis/powerlaw.ts). In stored and sent results its keys are snake_case (alpha_se, n_tail, ks_d, log_lik; docs/analysis.md). */
export interface PowerLawFit {
  kind: PowerLawKind;
  alpha: number;
  /** Standard error of alpha (CSN eq. 3.2 / 3.6). */
  alphaSe: number;
  xmin: number;
  /** Number of values >= xmin. */
  nTail: number;
  /** Number of values used (finite, > 0). */
  n: number;
  /** KS distance between the tail and the fitted model. */
  ksD: number;
  /** Log-likelihood of the tail under the fitted model. */
  logLik: number;
}

/** One event of a live `events` batch. */
export interface LiveEvent {
  kind: EventKind;
  channel: number | null;
  index: number;
  label?: string | null;
  value?: number | null;
}

/** Server → client messages on `/api/runs/:id/live` (server/api/live-feed.ts; docs/api.md). */
export type LiveMessage =
  | { type: 'hello'; run: RunDetail }
  | { type: 'block'; channel: number; firstIndex: number; stride: number; min: number[]; max: number[]; wallTime?: number }
  | { type: 'events'; events: LiveEvent[]; dropped: number }
  | { type: 'rate'; pairsPerSecond: number }
  | { type: 'dropped'; channel: number; start: number; end: number }
  | { type: 'stop'; status: FinalStatus; reason?: string | null }
  | { type: 'error'; error: { code: string; message: string; field?: string } };
