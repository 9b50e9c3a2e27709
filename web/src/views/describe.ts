/** Short human descriptions of runs and protocols, shared by the runs list and the run page. */
import type { ProtocolDoc, RunStatus, RunSummary } from '../api.ts';
import { h } from '../dom.ts';
import { duration, si } from '../format.ts';

const UNIT_OF: Record<string, (p: ProtocolDoc) => string> = {
  amplitude: (p) => (p.quantity === 'voltage' ? 'V' : 'A'),
  offset: (p) => (p.quantity === 'voltage' ? 'V' : 'A'),
  level: (p) => (p.quantity === 'voltage' ? 'V' : 'A'),
  baseline: (p) => (p.quantity === 'voltage' ? 'V' : 'A'),
  frequencyHz: () => 'Hz',
  widthS: () => 's',
  periodS: () => 's',
  delayS: () => 's',
};

/** "square · 1 ms · amplitude 1 mA, frequencyHz 1 kHz, duty 0.5" */
export function describeProtocol(p: ProtocolDoc): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === 'kind' || k === 'durationS' || k === 'quantity') continue;
    const unit = UNIT_OF[k]?.(p);
    if (typeof v === 'number') parts.push(`${k.replace(/(Hz|S)$/, '')} ${unit ? si(v, unit) : String(Number(v.toPrecision(4)))}`);
    else if (typeof v === 'string' || typeof v === 'boolean') parts.push(`${k} ${v}`);
  }
  return parts.join(', ');
}

export function protocolDuration(p: ProtocolDoc): number | null {
  return typeof p.durationS === 'number' ? p.durationS : null;
}

/** Recorded length in seconds (longest channel). */
export function recordedSeconds(run: RunSummary): number {
  let t = 0;
  for (const c of run.channels) if (c.sampleRate > 0) t = Math.max(t, c.sampleCount / c.sampleRate);
  return t;
}

export function statusBadge(status: RunStatus): HTMLElement {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, status);
}

export function runDurationText(run: RunSummary): string {
  if (run.endedAt) {
    const s = (Date.parse(run.endedAt) - Date.parse(run.createdAt)) / 1000;
    if (Number.isFinite(s) && s >= 0) return duration(s);
  }
  const planned = protocolDuration(run.protocol);
  return run.status === 'running' && planned !== null ? `${duration(planned)} planned` : '—';
}
