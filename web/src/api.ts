/**
 * Typed client for the spikeloop HTTP/WebSocket API (docs/api contract). The dashboard speaks to the
 * server only through this module. Run-stream vocabulary (statuses, roles, dtypes, event kinds) comes from
 * common/run-stream.ts, and the shapes of runs, events, analyses and live-feed messages from
 * common/api-types.ts, so server and browser cannot drift apart.
 */
import type { ChannelRole, EventKind, RunStatus, FinalStatus } from '../../common/run-stream.ts';
import type { EnvelopeWindow, LiveMessage, ProtocolDoc, RunDetail, RunFilters, RunSummary, StoredAnalysis, StoredEvent } from '../../common/api-types.ts';

export type { RunStatus, FinalStatus, EventKind, ChannelRole };
export type { ChannelInfo, DroppedRange, LiveEvent, LiveMessage, PowerLawFit, ProtocolDoc, RunDetail, RunSummary, StoredAnalysis } from '../../common/api-types.ts';
export type RunEvent = StoredEvent;

/** The subset of JSON Schema the protocol schemas use (TypeBox output). */
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
  /** SI unit of the value (analysis parameters; an extra keyword of server/analysis-io/params.ts). */
  unit?: string;
  /** A fixed-length tuple (e.g. a band [low, high]): one schema per position. */
  items?: JsonSchema | JsonSchema[];
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface ProtocolInfo {
  kind: string;
  title: string;
  schema: JsonSchema;
}

/** One analysis of the registry (`GET /api/analyses`). `route` has `:id` for analyses of one stored run. */
export interface AnalysisInfo {
  name: string;
  title: string;
  description: string;
  source: string;
  inputs: string;
  params: JsonSchema;
  route: string;
}

/** `POST /api/runs/:id/analyses/:name`: the result, stored with the run (`cached` when it was already stored). */
export interface AnalysisRun {
  runId: number;
  method: string;
  params: Record<string, unknown>;
  cached: boolean;
  stored: boolean;
  analysisId: number;
  result: unknown;
}

export interface SourceInfo {
  kind: string;
  title: string;
  available: boolean;
  detail?: string;
  /** S/s per channel the source uses when a run names none. */
  defaultSampleRate?: number;
}

/** `GET /api/runs/:id/channels/:ch/envelope`: physical values per pixel column, null where there is no sample. */
export interface Envelope extends EnvelopeWindow {
  unit: string;
  min: (number | null)[];
  max: (number | null)[];
}

export interface StartRunBody {
  protocol: ProtocolDoc;
  source?: string;
  sampleRate?: number;
  label?: string;
}

/** The query of `GET /api/runs`. */
export interface RunQuery extends RunFilters {
  status?: RunStatus | '';
  /** Created at/after, before: ISO 8601. */
  after?: string;
  before?: string;
}

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
    res = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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
    const e = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    const fallback = (json as { message?: string } | undefined)?.message;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? fallback ?? (text.slice(0, 200) || res.statusText), e?.field);
  }
  if (json === undefined) throw new ApiError(res.status, 'BAD_RESPONSE', `${method} ${path}: the server sent no JSON`);
  return json as T;
}

/**
 * A JSON request for the experiments pages (bench, sweeps): a non-2xx answer throws an ApiError with the
 * server's code, message and field; unlike `api.*`, network failures are not reported to onConnectivity.
 */
export async function callJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string; field?: string } } | undefined;
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? res.statusText, json?.error?.field);
  return json as T;
}

export const api = {
  health: () => request<{ ok: boolean; version: string }>('GET', '/api/health'),
  protocols: async () => (await request<{ protocols: ProtocolInfo[] }>('GET', '/api/protocols')).protocols,
  sources: () => request<{ sources: SourceInfo[]; default: string }>('GET', '/api/sources'),
  listRuns: async (q: RunQuery = {}, signal?: AbortSignal) =>
    (await request<{ runs: RunSummary[] }>('GET', `/api/runs${query({ ...q })}`, undefined, signal)).runs,
  startRun: async (body: StartRunBody) => (await request<{ run: RunSummary }>('POST', '/api/runs', body)).run,
  getRun: async (id: number, signal?: AbortSignal) => (await request<{ run: RunDetail }>('GET', `/api/runs/${id}`, undefined, signal)).run,
  deleteRun: (id: number) => request<void>('DELETE', `/api/runs/${id}`),
  stopRun: async (id: number) => (await request<{ run: RunDetail }>('POST', `/api/runs/${id}/stop`, {})).run,
  setNotes: async (id: number, notes: string) => (await request<{ run: RunDetail }>('PUT', `/api/runs/${id}/notes`, { notes })).run,
  setTags: async (id: number, tags: string[]) => (await request<{ run: RunDetail }>('PUT', `/api/runs/${id}/tags`, { tags })).run,
  envelope: (id: number, channel: number, start: number, end: number, pixels: number, signal?: AbortSignal) =>
    request<Envelope>('GET', `/api/runs/${id}/channels/${channel}/envelope${query({ start, end, pixels })}`, undefined, signal),
  events: async (id: number, q: { start?: number; end?: number; kind?: EventKind; limit?: number }, signal?: AbortSignal) =>
    (await request<{ events: RunEvent[] }>('GET', `/api/runs/${id}/events${query(q)}`, undefined, signal)).events,
  analyses: async (id: number, signal?: AbortSignal) =>
    (await request<{ analyses: StoredAnalysis[] }>('GET', `/api/runs/${id}/analyses`, undefined, signal)).analyses,
  /** A run's progress (GET), or pauses or resumes it (POST) and resolves to its progress. */
  runProgress: async <P>(id: number, action?: 'pause' | 'resume') =>
    (await request<{ progress: P }>(action ? 'POST' : 'GET', `/api/runs/${id}/${action ?? 'progress'}`)).progress,
  /** Starts a twin run of run `id` on its recorded stimulus. */
  pairRun: (id: number, circuit: string) => request<{ twinRunId: number }>('POST', `/api/runs/${id}/pair`, { circuit }),
  twinCircuits: async () => (await request<{ circuits: { name: string; kind: string; description: string }[] }>('GET', '/api/twin/circuits')).circuits,
  /** The sweeps in the store, newest first (id and name are what the runs list needs). */
  sweepList: async () => (await request<{ sweeps: { id: string; label: string }[] }>('GET', '/api/sweeps')).sweeps,
  analysisList: async () => (await request<{ analyses: AnalysisInfo[] }>('GET', '/api/analyses')).analyses,
  runAnalysis: (id: number, name: string, params: Record<string, unknown>, recompute = false) =>
    request<AnalysisRun>('POST', `/api/runs/${id}/analyses/${encodeURIComponent(name)}${query({ recompute: recompute ? 'true' : undefined })}`, params),
  exportUrl: (id: number, format: 'csv' | 'npy' | 'nwb' | 'events' | 'sidecar', channel?: number) => `/api/runs/${id}/export${query({ format, channel })}`,
  /** Uploads a recording (the file's bytes as the body) to be recorded as a run: POST /api/import. */
  importFile: async (file: File, q: { format?: string; rate?: string; unit?: string; stimulus?: string }) => {
    const res = await fetch(`/api/import${query({ name: file.name, ...q })}`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/octet-stream' }, body: file });
    const json = (await res.json().catch(() => undefined)) as { run?: RunSummary; error?: { code: string; message: string; field?: string } } | undefined;
    if (!res.ok || !json?.run) throw new ApiError(res.status, json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? res.statusText, json?.error?.field);
    return json.run;
  },
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
    const send = () => this.ws.send(JSON.stringify({ type: 'rate', pairsPerSecond }));
    if (this.ws.readyState === WebSocket.OPEN) send();
    else this.ws.addEventListener('open', send, { once: true });
  }
  close(): void {
    this.ws.onclose = null;
    this.ws.onmessage = null;
    this.ws.close();
  }
}
