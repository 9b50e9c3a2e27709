/**
 * The X–Y view of a run: any channel against any other over the visible window (default the stimulus on x
 * and the first response on y: an I–V loop, stimulus vs response), coloured by time or by stimulus cycle.
 * One panel for every time view: the stored view reads both channels as envelopes of the same columns from
 * the server (`envelopeXY`: raw samples when the window holds at most MAX_POINTS, otherwise each point the
 * middle of a column's min and max), the live view from its ring buffers (`views/live-view.ts`); the note
 * says which. The cycle is the server's stimulus period of the run's protocol (`periodS` of
 * POST /api/protocols/check, the one New run, Sweeps and the channel notes use), asked when the panel first opens.
 */
import { api, type ChannelInfo, type RunDetail, type RunSummary } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { XYPlot } from '../plots/xy-plot.ts';
import type { Columns } from '../plots/minmax-buffer.ts';
import { shownFactor, shownUnit } from '../views/describe.ts';

export const MAX_POINTS = 4000;

/** Points of two channels over a window: x and y in the plotted units, t the time (s) of each. */
export interface XYPoints {
  x: Float64Array;
  y: Float64Array;
  t: Float64Array;
  length: number;
  /** Samples each point stands for (1: raw samples). */
  samplesPerPoint: number;
}

/** Reads channels `cx` and `cy` over [w0, w1] s (null: nothing there). */
export type XYSource = (cx: ChannelInfo, cy: ChannelInfo, w0: number, w1: number, signal: AbortSignal) => Promise<XYPoints | null>;

/** The stored run's points: both channels over the same sample range on the slower clock, folded into the same columns. */
export function envelopeXY(run: RunDetail): XYSource {
  return async (cx, cy, w0, w1, signal) => {
    const rate = Math.min(cx.sampleRate, cy.sampleRate);
    const read = (c: ChannelInfo) => {
      const r = c.sampleRate / rate;
      const start = Math.max(0, Math.floor(w0 * rate));
      const end = Math.min(Math.floor(c.sampleCount / r), Math.ceil(w1 * rate));
      const pixels = Math.max(1, Math.min(MAX_POINTS, end - start));
      return end > start ? api.envelope(run.id, c.index, Math.floor(start * r), Math.floor(end * r), pixels, signal) : Promise.resolve(null);
    };
    const [ex, ey] = await Promise.all([read(cx), read(cy)]);
    if (!ex || !ey) return null;
    const n = Math.min(ex.min.length, ey.min.length);
    const out: XYPoints = { x: new Float64Array(n), y: new Float64Array(n), t: new Float64Array(n), length: n, samplesPerPoint: Math.max(1, ex.samplesPerPixel) };
    const mid = (lo: number | null, hi: number | null) => (lo === null || hi === null ? NaN : (lo + hi) / 2);
    for (let k = 0; k < n; k++) {
      out.x[k] = mid(ex.min[k], ex.max[k]) * shownFactor(cx);
      out.y[k] = mid(ey.min[k], ey.max[k]) * shownFactor(cy);
      out.t[k] = (ex.start + (k + 0.5) * ex.samplesPerPixel) / cx.sampleRate;
    }
    return out;
  };
}

export function xyPanel(run: RunSummary, channels: ChannelInfo[], window: () => [number, number], source: XYSource) {
  let period: number | null = null;
  let periodAsked: Promise<void> | null = null;
  // 'cycle' is offered once the server has named a period (none: dc, ladder, a protocol it no longer accepts)
  // an imported recording has no protocol to play: no period to ask for (the check would refuse it)
  const askPeriod = () =>
    (periodAsked ??= (run.protocol.kind === 'recording' ? Promise.reject(new Error('no protocol')) : api.checkProtocol(run.protocol, 2)).then(
      (r) => {
        period = r.periodS ?? null;
        if (period) colour.append(h('option', { value: 'cycle' }, 'cycle'));
        lastCycles.hidden = colour.value !== 'cycle';
      },
      () => undefined,
    ));
  const pick = (label: string, control: string, def: ChannelInfo | undefined) => {
    const s = h('select', { class: 'compact', 'aria-label': label, 'data-control': control });
    for (const c of channels) s.append(h('option', { value: String(c.index) }, c.label || c.name));
    if (def) s.value = String(def.index);
    return s;
  };
  const stim = channels.find((c) => c.role === 'stimulus');
  const resp = channels.find((c) => c.role === 'response');
  const xSel = pick('X channel', 'xy-x', stim ?? channels[0]);
  const ySel = pick('Y channel', 'xy-y', resp ?? channels[1] ?? channels[0]);
  const colour = h('select', { class: 'compact', 'aria-label': 'Colour by', 'data-control': 'xy-colour' }, h('option', { value: 'time' }, 'time'));
  // by cycle: all the window's cycles, or only the last few (a steady state, or the transient before it)
  const lastCycles = h(
    'select',
    { class: 'compact', 'aria-label': 'Cycles shown', 'data-control': 'xy-cycles', hidden: true },
    ...[['1', 'last cycle'], ['3', 'last 3 cycles'], ['10', 'last 10 cycles'], ['all', 'all cycles']].map(([v, t]) => h('option', { value: v }, t)),
  );
  // a few cycles by default: each one a band of its colour around the later ones (xy-plot.ts)
  lastCycles.value = '3';
  const note = h('span', { class: 'hint', 'data-stat': 'xy-note' });
  const body = h('div', { class: 'xy-body' });
  const el = h('section', { class: 'xy-panel', hidden: true }, h('div', { class: 'toolbar' }, h('strong', {}, 'X–Y'), 'x', xSel, 'y', ySel, 'colour by', colour, lastCycles, note), body);
  let plot: XYPlot | null = null;
  let ac: AbortController | null = null;
  const toggle = h('button', { type: 'button', class: 'small', 'data-action': 'xy', title: 'Plot one channel against another (I–V loop, stimulus vs response)' }, 'X–Y');
  toggle.addEventListener('click', () => {
    el.hidden = !el.hidden;
    toggle.classList.toggle('active', !el.hidden);
    if (!el.hidden) void refresh();
  });
  for (const s of [xSel, ySel, colour, lastCycles]) s.addEventListener('change', () => void refresh());

  async function refresh(): Promise<void> {
    if (el.hidden) return;
    ac?.abort();
    const mine = (ac = new AbortController());
    const cx = channels.find((c) => String(c.index) === xSel.value)!;
    const cy = channels.find((c) => String(c.index) === ySel.value)!;
    const [w0, w1] = window();
    try {
      await askPeriod();
      const p = await source(cx, cy, w0, w1, mine.signal);
      if (mine.signal.aborted || !p) return;
      const byCycle = colour.value === 'cycle' && period !== null;
      lastCycles.hidden = !byCycle;
      const c = new Float64Array(p.length);
      for (let k = 0; k < p.length; k++) c[k] = byCycle ? Math.floor(p.t[k] / period!) : p.t[k];
      // only the last N cycles: the points from the first of them on
      const keep = byCycle && lastCycles.value !== 'all' ? c[p.length - 1] - Number(lastCycles.value) + 1 : -Infinity;
      let from = 0;
      while (from < p.length && c[from] < keep) from++;
      const part = <T extends Float64Array>(a: T) => a.subarray(from);
      plot ??= new XYPlot(body, Math.min(760, Math.max(420, el.clientWidth - 20)), 420);
      plot.show({ x: part(p.x), y: part(p.y), c: part(c), length: p.length - from, xLabel: cx.label || cx.name, xUnit: shownUnit(cx), yLabel: cy.label || cy.name, yUnit: shownUnit(cy), cLabel: byCycle ? 'cycle' : 'time (s)' });
      const each = p.samplesPerPoint > 1 ? ` (each the middle of ${Math.round(p.samplesPerPoint).toLocaleString()} samples: zoom in for raw samples)` : ' (raw samples)';
      const shown = from > 0 ? `; drawn: the ${lastCycles.selectedOptions[0]?.text ?? ''} from ${si(c[from] * period!, 's', 4)}` : '';
      note.textContent = `${p.length.toLocaleString()} points over ${si(w0, 's', 4)} – ${si(w1, 's', 4)}${each}${shown}`;
    } catch (e) {
      if (!mine.signal.aborted) note.textContent = `Could not load the X–Y data: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  return { el, toggle, refresh: () => void refresh(), destroy: () => (ac?.abort(), plot?.destroy()) };
}

/**
 * Points from two channels' min/max columns (the live view's ring buffers): each column of `a` with the
 * column of `b` nearest in time (within half a column), at the middle of each column's min and max.
 */
export function pairColumns(a: Columns, b: Columns, samplesPerPoint: number): XYPoints {
  const out: XYPoints = { x: new Float64Array(a.length), y: new Float64Array(a.length), t: new Float64Array(a.length), length: 0, samplesPerPoint };
  const half = a.length > 1 ? (a.x[a.length - 1] - a.x[0]) / (a.length - 1) / 2 : Infinity;
  let j = 0;
  for (let k = 0; k < a.length; k++) {
    const t = a.x[k];
    while (j + 1 < b.length && Math.abs(b.x[j + 1] - t) <= Math.abs(b.x[j] - t)) j++;
    if (b.length === 0 || Math.abs(b.x[j] - t) > half) continue;
    const n = out.length++;
    out.x[n] = (a.lo[k] + a.hi[k]) / 2;
    out.y[n] = (b.lo[j] + b.hi[j]) / 2;
    out.t[n] = t;
  }
  return out;
}
