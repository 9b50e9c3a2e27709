/**
 * A run's events as a researcher reads them: faults, markers (pauses among them) and dropped ranges joined
 * into one time-ordered list, each with its span on the plots and its samples lost, and the table of them
 * with a "jump to" per row.
 *
 * A fault that lost samples is recorded as a `fault` event at the first lost index and a dropped range
 * starting there (drivers/daq/source.ts); the two become one labelled span "fault: <reason>" with the samples
 * lost per channel. A dropped range no fault explains is its own span. Pauses are the markers the run
 * manager writes at pause and resume (server/runs/run-manager.ts).
 */
import type { ChannelInfo, DroppedRange, RunEvent } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import type { PlotEvent, PlotSpan } from '../plots/trace-plot.ts';

export interface RunEventRow {
  t0: number;
  t1: number;
  kind: 'fault' | 'marker' | 'dropped' | 'pause';
  label: string;
  /** Samples lost per channel (faults with a dropped range, dropped ranges). */
  lost?: string;
}

/** Pause markers' labels (server/runs/run-manager.ts writes these). */
export const PAUSE_LABEL = /^(paused|resumed)\b/;

/** Joins faults, markers and dropped ranges (sample indices) into rows, spans and line events (seconds). */
export function joinRunEvents(channels: ChannelInfo[], events: RunEvent[], dropped: DroppedRange[]): { rows: RunEventRow[]; spans: PlotSpan[]; lines: PlotEvent[] } {
  const rateOf = (ch: number | null) => (channels.find((c) => c.index === (ch ?? channels[0]?.index)) ?? channels[0])?.sampleRate ?? 1;
  const used = new Set<DroppedRange>();
  const rows: RunEventRow[] = [];
  const spans: PlotSpan[] = [];
  const lines: PlotEvent[] = [];
  const lostText = (ranges: DroppedRange[]) => {
    const counts = [...new Set(ranges.map((d) => d.end - d.start))];
    return counts.length === 1 ? `${counts[0].toLocaleString()} samples lost${ranges.length > 1 ? ' per channel' : ''}` : ranges.map((d) => `${channels.find((c) => c.index === d.channel)?.name ?? d.channel}: ${(d.end - d.start).toLocaleString()}`).join(', ') + ' samples lost';
  };
  for (const e of events) {
    if (e.kind === 'spike') continue;
    const rate = rateOf(e.channel);
    const t = e.time_s ?? e.index / rate;
    const label = e.label ?? '';
    if (e.kind === 'fault') {
      const mine = dropped.filter((d) => !used.has(d) && Math.abs(d.start / rateOf(d.channel) - t) <= 1.5 / rate);
      mine.forEach((d) => used.add(d));
      if (mine.length > 0) {
        const t1 = Math.max(...mine.map((d) => d.end / rateOf(d.channel)));
        const lost = lostText(mine);
        rows.push({ t0: t, t1, kind: 'fault', label, lost });
        spans.push({ t0: t, t1, kind: 'fault', label: label || 'fault', detail: lost });
        continue;
      }
      rows.push({ t0: t, t1: t, kind: 'fault', label });
      lines.push({ t, kind: 'fault', label });
    } else {
      const pause = PAUSE_LABEL.test(label);
      rows.push({ t0: t, t1: t, kind: pause ? 'pause' : 'marker', label });
      if (pause) spans.push({ t0: t, t1: t, kind: 'pause', label });
      else lines.push({ t, kind: 'marker', label });
    }
  }
  // Dropped ranges no fault explains, one row per time span (all channels of one gap together).
  const rest = dropped.filter((d) => !used.has(d)).sort((a, b) => a.start / rateOf(a.channel) - b.start / rateOf(b.channel));
  for (let i = 0; i < rest.length; ) {
    const t0 = rest[i].start / rateOf(rest[i].channel);
    const group = rest.slice(i).filter((d) => Math.abs(d.start / rateOf(d.channel) - t0) <= 1.5 / rateOf(d.channel));
    i += group.length;
    const t1 = Math.max(...group.map((d) => d.end / rateOf(d.channel)));
    const lost = lostText(group);
    rows.push({ t0, t1, kind: 'dropped', label: 'samples not recorded', lost });
    spans.push({ t0, t1, kind: 'dropped', label: 'dropped', detail: lost });
  }
  rows.sort((a, b) => a.t0 - b.t0);
  return { rows, spans, lines };
}

/**
 * The event table: time, kind, what, samples lost, and a "jump" that asks the page to show the event (the
 * stored view zooms all plots to it). `spikes` is the run's spike count, said above the table.
 */
export function eventTable(rows: RunEventRow[], spikes: number, jump: (row: RunEventRow) => void, note = ''): HTMLElement {
  const body = rows.map((r, i) =>
    h(
      'tr',
      { 'data-event-row': String(i), 'data-kind': r.kind },
      h('td', { class: 'num nowrap' }, si(r.t0, 's', 5)),
      h('td', {}, h('span', { class: `event-kind kind-${r.kind}` }, r.kind)),
      h('td', {}, r.label || '—'),
      h('td', { class: 'nowrap' }, r.t1 > r.t0 ? si(r.t1 - r.t0, 's', 4) : ''),
      h('td', {}, r.lost ?? ''),
      h('td', {}, h('button', { type: 'button', class: 'small', 'data-action': 'jump', onclick: () => jump(r) }, 'jump')),
    ),
  );
  return h(
    'section',
    { class: 'event-table' },
    h('h3', {}, 'Events'),
    h('p', { class: 'hint' }, `${spikes.toLocaleString()} spikes (marked on the plots)`, rows.length === 0 ? '; no faults, markers, pauses or dropped samples.' : '', note),
    rows.length === 0 ? null : h('table', { class: 'runs events' }, h('thead', {}, h('tr', {}, ...['time', 'kind', 'what', 'length', 'lost', ''].map((t) => h('th', {}, t)))), h('tbody', {}, ...body)),
  );
}

/** The window (s) a jump shows: the event with room around it (at least `minSpan`). */
export function jumpWindow(r: RunEventRow, minSpan: number): [number, number] {
  const span = Math.max(minSpan, 4 * (r.t1 - r.t0));
  const c = (r.t0 + r.t1) / 2;
  return [c - span / 2, c + span / 2];
}
