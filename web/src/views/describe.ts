/** Short human descriptions of runs and protocols, shared by the runs list and the run page. */
import type { ChannelInfo, ProtocolDoc, RunStatus, RunSummary } from '../api.ts';
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

/** Parameters in this order whatever the order of the stored document (a run posted with frequencyHz first read differently); others after, as stored. */
const ORDER = [...Object.keys(UNIT_OF), 'duty'];
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);

/** "amplitude 1 mA, offset 0 A, frequency 1 kHz, duty 0.5" */
export function describeProtocol(p: ProtocolDoc): string {
  const parts: string[] = [];
  const entries = Object.entries(p).sort(([a], [b]) => rank(a) - rank(b));
  for (const [k, v] of entries) {
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

/**
 * A run's length as recorded, in signal time (samples / rate of the longest channel): a twin run of 1 s
 * computed in 19 ms is "1 s", a paused 15 s run is "15 s". While it runs: recorded so far of planned.
 */
export function runDurationText(run: RunSummary): string {
  const recorded = recordedSeconds(run);
  const planned = protocolDuration(run.protocol);
  if (run.status === 'running') return planned !== null ? `${duration(recorded)} of ${duration(planned)}` : duration(recorded);
  return run.channels.length > 0 ? duration(recorded) : '—';
}

/** A channel's name on plots: its label from the server ("membrane v (A0)") with the unit it is shown in. */
export function channelTitle(ch: ChannelInfo): string {
  return `${ch.label || ch.name} [${shownUnit(ch)}]`;
}

/** The unit a channel is plotted in: the protocol's own when the bench configuration converts it. */
export function shownUnit(ch: ChannelInfo): string {
  return ch.convert?.unit ?? ch.unit;
}

/** Physical value → plotted value (the bench configuration's conversion, else unchanged). */
export function shownFactor(ch: ChannelInfo): number {
  return ch.convert?.factor ?? 1;
}
