/**
 * Typed client for the spikeloop HTTP/WebSocket API (docs/api.md). The dashboard speaks to the server only
 * through this module, and every answer is typed by the schema the server's route answers with
 * (common/schemas, types derived with Static<>), so server and browser cannot drift apart. The
 * run-stream vocabulary (statuses, roles, dtypes, event kinds) comes from common/run-stream.ts.
 */
import type { ChannelRole, EventKind, RunStatus, FinalStatus } from '../../common/run-stream.ts';
import type {
  AnalysisFailure,
  AnalysisInfo as AnalysisInfoWire,
  AnalysisName,
  AnalysisResults,
  AnalysisRun,
  BenchConfig,
  CircuitInfo,
  Envelope,
  EnvelopeQuery,
  ErrorBody,
  EventsQuery,
  FitBody,
  FitJob,
  Health,
  ImportQuery,
  InstrumentState,
  LiveClientMessage,
  LiveMessage,
  PairResult,
  ProtocolCheck,
  ProtocolInfo as ProtocolInfoWire,
  RawSamples,
  RunDetail,
  RunListQuery,
  RunProgress,
  RunSummary,
  SourceInfo as SourceInfoWire,
  StartRunBody,
  StdpBody,
  StdpCurve,
  StoredAnalysis,
  StoredEvent,
  SweepStartBody,
  SweepStatus,
  Workers,
} from '../../common/schemas/index.ts';

export type { RunStatus, FinalStatus, EventKind, ChannelRole };
export type {
  AnalysisFailure,
  AnalysisName,
  AnalysisResults,
  AnalysisRun,
  AvalancheResult,
  BurstsResult,
  ChannelInfo,
  BenchConfig,
  CircuitInfo,
  CompareResult,
  DistanceResult,
  DroppedRange,
  Envelope,
  InstrumentState,
  LiveEvent,
  LiveMessage,
  PhaseResult,
  PointStats,
  PowerLawFitResult,
  PowerLawResult,
  PsdResult,
  ProtocolCheck,
  ProtocolDoc,
  RegimeResult,
  RegimeRunsResult,
  ResonanceResult,
  RunDetail,
  RunProgress,
  RunSummary,
  SpikeStatsResult,
  SpikeTrainResult,
  SpikesResult,
  StartRunBody,
  StdpCurve,
  StdpFit,
  StdpResult,
  StoredAnalysis,
  SweepPointStatus,
  SweepStatus,
  Workers,
} from '../../common/schemas/index.ts';
export type RunEvent = StoredEvent;

/** The subset of JSON Schema the protocol and analysis parameter schemas use (TypeBox output), as the forms read it. */
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  /** SI unit of the value (an extra keyword of the protocol, option and analysis parameter schemas). */
  unit?: string;
  /** A value in the protocol's quantity ('same': A for current, V for voltage) or the other one ('other': a compliance). */
  quantityUnit?: 'same' | 'other';
  /** A run option capped by this bench limit (`maxVoltage`, …; `compliance`: of the quantity not sourced). */
  benchLimit?: string;
  /** A fixed-length tuple (e.g. a band [low, high]): one schema per position. */
  items?: JsonSchema | JsonSchema[];
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

/** `GET /api/sources`: a source with its run options' schema, read by the forms. */
export type SourceInfo = Omit<SourceInfoWire, 'options'> & { options: JsonSchema };
/** `GET /api/protocols`: a kind with its parameter schema, read by the forms. */
export type ProtocolInfo = Omit<ProtocolInfoWire, 'schema'> & { schema: JsonSchema };
/** One analysis of the registry (`GET /api/analyses`); `params` read by the forms. */
export type AnalysisInfo = Omit<AnalysisInfoWire, 'params'> & { params: JsonSchema };

/** Every analysis name; the compiler checks the list against common/schemas/analysis-results.ts. */
const ANALYSIS_NAMES: Record<AnalysisName, true> = {
  powerlaw: true,
  distance: true,
  spikes: true,
  bursts: true,
  avalanches: true,
  psd: true,
  resonance: true,
  phase: true,
  stdp: true,
  regime: true,
  compare: true,
  'spike-stats': true,
  'spike-train': true,
};
const isAnalysisName = (name: string): name is AnalysisName => Object.hasOwn(ANALYSIS_NAMES, name);

/** A result with the analysis that made it, typed by that analysis's result schema. */
export type TypedResult = { [N in AnalysisName]: { name: N; result: AnalysisResults[N] } }[AnalysisName];

/**
 * A result as the server sends or stored it, typed by its analysis's schema (the server's tests check every
 * analysis against it: test/analysis-results.test.ts). A stored `{ error }` (an analysis that failed during
 * automatic pairing or a sweep) is returned as `{ error }`, an analysis this client does not know as undefined.
 */
export function typedResult<N extends AnalysisName>(name: N, result: unknown): { name: N; result: AnalysisResults[N] } | AnalysisFailure;
export function typedResult(name: string, result: unknown): TypedResult | AnalysisFailure | undefined;
export function typedResult(name: string, result: unknown): TypedResult | AnalysisFailure | undefined {
  const error = (result as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return { error };
  return isAnalysisName(name) ? ({ name, result } as TypedResult) : undefined;
}

/** The answer of a run analysis, its result typed when the name is a literal. */
export type AnalysisRunOf<N extends string> = Omit<AnalysisRun, 'result'> & { result: N extends AnalysisName ? AnalysisResults[N] : unknown };

/** The query of `GET /api/runs` (an empty status: any). */
export type RunQuery = Omit<RunListQuery, 'status'> & { status?: RunStatus | '' };

/** Any failure talking to the server: HTTP errors carry the server's code/field; network failures have status 0. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** JSON pointer of the offending field, e.g. "/protocol/frequencyHz". */
    readonly field?: string,
  ) {
    super(message);
  }
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

type Listener = (ok: boolean, err?: ApiError) => void;
const connectivityListeners = new Set<Listener>();

/** Subscribe to "server reachable / unreachable" transitions seen by any request. */
export function onConnectivity(fn: Listener): () => void {
  connectivityListeners.add(fn);
  return () => connectivityListeners.delete(fn);
}
function report(ok: boolean, err?: ApiError): void {
  for (const fn of connectivityListeners) fn(ok, err);
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    // a file goes as its bytes (POST /api/import), anything else as JSON
    const file = body instanceof Blob;
    res = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': file ? 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : file ? body : JSON.stringify(body),
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    const err = new ApiError(0, 'NETWORK', `cannot reach the spikeloop server (${e instanceof Error ? e.message : String(e)})`);
    report(false, err);
    throw err;
  }
  report(true);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: handled below */
  }
  if (!res.ok) {
    const e = (json as Partial<ErrorBody> | undefined)?.error;
    const fallback = (json as { message?: string } | undefined)?.message;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? fallback ?? (text.slice(0, 200) || res.statusText), e?.field);
  }
  if (json === undefined) throw new ApiError(res.status, 'BAD_RESPONSE', `${method} ${path}: the server sent no JSON`);
  return json as T;
}

/**
 * An analysis of data in the body or of several runs (`POST /api/analysis/:name`), its result typed by the
 * analysis's schema (a union where the analysis has several shapes: narrow it); the result is not stored.
 */
const analyze = <N extends AnalysisName>(name: N, body: Record<string, unknown>) =>
  request<AnalysisResults[N]>('POST', `/api/analysis/${encodeURIComponent(name)}`, body);

export const api = {
  health: () => request<Health>('GET', '/api/health'),
  protocols: async () => (await request<{ protocols: ProtocolInfo[] }>('GET', '/api/protocols')).protocols,
  /** Validates a protocol or sweep, states its duration and peaks against the bench limits, previews it. */
  /** Validates a protocol or sweep against the bench limits; a protocol's preview has `points` samples over its first `previewS` s (default: all of it). */
  /** `preview.periods`: preview only the first that many stimulus periods of a long periodic protocol. */
  checkProtocol: (protocol: unknown, points?: number, preview: { periods?: number } = {}) =>
    request<ProtocolCheck>('POST', '/api/protocols/check', { protocol, ...(points !== undefined ? { points } : {}), ...(preview.periods !== undefined ? { previewPeriods: preview.periods } : {}) }),
  sources: () => request<{ sources: SourceInfo[]; default: string }>('GET', '/api/sources'),
  bench: async () => (await request<{ bench: BenchConfig }>('GET', '/api/bench')).bench,
  instruments: async () => (await request<{ instruments: InstrumentState[] }>('GET', '/api/bench/instruments')).instruments,
  /** Connects or disconnects a bench instrument; resolves to its new state. */
  instrumentAction: async (id: string, action: 'connect' | 'disconnect') =>
    (await request<{ instrument: InstrumentState }>('POST', `/api/bench/instruments/${encodeURIComponent(id)}/${action}`)).instrument,
  listRuns: async (q: RunQuery = {}, signal?: AbortSignal) =>
    (await request<{ runs: RunSummary[] }>('GET', `/api/runs${query({ ...q })}`, undefined, signal)).runs,
  startRun: async (body: StartRunBody) => (await request<{ run: RunSummary }>('POST', '/api/runs', body)).run,
  getRun: async (id: number, signal?: AbortSignal) => (await request<{ run: RunDetail }>('GET', `/api/runs/${id}`, undefined, signal)).run,
  deleteRun: (id: number) => request<void>('DELETE', `/api/runs/${id}`),
  stopRun: async (id: number) => (await request<{ run: RunDetail }>('POST', `/api/runs/${id}/stop`, {})).run,
  setNotes: async (id: number, notes: string) => (await request<{ run: RunDetail }>('PUT', `/api/runs/${id}/notes`, { notes })).run,
  setTags: async (id: number, tags: string[]) => (await request<{ run: RunDetail }>('PUT', `/api/runs/${id}/tags`, { tags })).run,
  envelope: (id: number, channel: number, start: number, end: number, pixels: number, signal?: AbortSignal) =>
    request<Envelope>('GET', `/api/runs/${id}/channels/${channel}/envelope${query({ start, end, pixels } satisfies EnvelopeQuery)}`, undefined, signal),
  /** Raw samples [start, end) of one channel; physical value = sample × scale + offset. */
  raw: (id: number, channel: number, start: number, end: number, signal?: AbortSignal) =>
    request<RawSamples>('GET', `/api/runs/${id}/channels/${channel}/raw${query({ start, end })}`, undefined, signal),
  events: async (id: number, q: EventsQuery, signal?: AbortSignal) =>
    (await request<{ events: RunEvent[] }>('GET', `/api/runs/${id}/events${query(q)}`, undefined, signal)).events,
  analyses: async (id: number, signal?: AbortSignal) =>
    (await request<{ analyses: StoredAnalysis[] }>('GET', `/api/runs/${id}/analyses`, undefined, signal)).analyses,
  /** A run's progress (GET), or pauses or resumes it (POST) and resolves to its progress. */
  runProgress: async (id: number, action?: 'pause' | 'resume') =>
    (await request<{ progress: RunProgress }>(action ? 'POST' : 'GET', `/api/runs/${id}/${action ?? 'progress'}`)).progress,
  /** Starts a twin run of run `id` on its recorded stimulus. */
  pairRun: (id: number, circuit: string) => request<PairResult>('POST', `/api/runs/${id}/pair`, { circuit }),
  /** Twin calibration: start (POST /api/runs/:id/fit), follow, cancel. */
  startFit: async (id: number, body: FitBody) => (await request<{ fit: FitJob }>('POST', `/api/runs/${id}/fit`, body)).fit,
  getFit: async (fitId: string) => (await request<{ fit: FitJob }>('GET', `/api/fits/${encodeURIComponent(fitId)}`)).fit,
  cancelFit: async (fitId: string) => (await request<{ fit: FitJob }>('DELETE', `/api/fits/${encodeURIComponent(fitId)}`)).fit,
  /**
   * A fit's record pushed as it progresses (server-sent events of GET /api/fits/:fitId/events), the last one
   * when it has ended; `onLost` when the stream breaks before that. Returns the close.
   */
  watchFit(fitId: string, onFit: (fit: FitJob) => void, onLost: () => void): () => void {
    const es = new EventSource(`/api/fits/${encodeURIComponent(fitId)}/events`);
    let ended = false;
    es.addEventListener('fit', (e) => {
      const fit = JSON.parse((e as MessageEvent<string>).data) as FitJob;
      if (fit.state !== 'running') ((ended = true), es.close());
      onFit(fit);
    });
    es.onerror = () => {
      es.close();
      if (!ended) onLost();
    };
    return () => es.close();
  },
  twinCircuits: async () => (await request<{ circuits: CircuitInfo[] }>('GET', '/api/twin/circuits')).circuits,
  analysisList: async () => (await request<{ analyses: AnalysisInfo[] }>('GET', '/api/analyses')).analyses,
  runAnalysis: <N extends string>(id: number, name: N, params: Record<string, unknown>, recompute = false) =>
    request<AnalysisRunOf<N>>('POST', `/api/runs/${id}/analyses/${encodeURIComponent(name)}${query({ recompute: recompute ? 'true' : undefined })}`, params),
  analyze,
  /** The STDP curve of runs of the stdp protocol, fitted. */
  stdpCurve: (body: StdpBody) => request<StdpCurve>('POST', '/api/experiments/stdp', body),
  startSweep: async (body: SweepStartBody) => (await request<{ sweep: SweepStatus }>('POST', '/api/sweeps', body)).sweep,
  sweeps: async () => (await request<{ sweeps: SweepStatus[] }>('GET', '/api/sweeps')).sweeps,
  workers: () => request<Workers>('GET', '/api/workers'),
  exportUrl: (id: number, format: 'csv' | 'npy' | 'nwb' | 'events' | 'sidecar', channel?: number) => `/api/runs/${id}/export${query({ format, channel })}`,
  /** Uploads a recording (the file's bytes as the body) to be recorded as a run: POST /api/import. */
  /** The recording, and the run's events export after it in the same body (eventsBytes says where it starts). */
  importFile: async (file: File, q: Omit<ImportQuery, 'name' | 'events' | 'eventsBytes'>, events?: File) =>
    (
      await request<{ run: RunSummary }>(
        'POST',
        `/api/import${query({ name: file.name, ...q, ...(events ? { events: events.name, eventsBytes: events.size } : {}) })}`,
        events ? new Blob([file, events]) : file,
      )
    ).run,
};

export interface LiveHandlers {
  onMessage(msg: LiveMessage): void;
  /** The socket closed; `clean` when the server ended it after a stop message. */
  onClose(clean: boolean, detail: string): void;
}

/** A live feed of one run. Close it when the view goes away. */
export class LiveConnection {
  private ws: WebSocket;
  private stopped = false;
  constructor(runId: number, handlers: LiveHandlers) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = new WebSocket(`${proto}//${location.host}/api/runs/${runId}/live`);
    this.ws.onmessage = (ev) => {
      let msg: LiveMessage;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as LiveMessage;
      } catch {
        return;
      }
      if (msg.type === 'stop') this.stopped = true;
      handlers.onMessage(msg);
    };
    this.ws.onclose = (ev) => {
      handlers.onClose(this.stopped, ev.reason || (this.stopped ? 'run ended' : `connection closed (code ${ev.code})`));
    };
  }
  /** Ask the server for a decimation rate, in min/max pairs per second per channel. */
  requestRate(pairsPerSecond: number): void {
    const send = () => this.ws.send(JSON.stringify({ type: 'rate', pairsPerSecond } satisfies LiveClientMessage));
    if (this.ws.readyState === WebSocket.OPEN) send();
    else this.ws.addEventListener('open', send, { once: true });
  }
  close(): void {
    this.ws.onclose = null;
    this.ws.onmessage = null;
    this.ws.close();
  }
}
