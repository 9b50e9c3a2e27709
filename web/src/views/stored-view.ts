/**
 * A stored run: one plot per channel on a shared time axis. Zoom (drag-select, wheel, buttons), pan
 * (shift+wheel, arrow buttons), double-click for the whole run; every change of the visible window asks the
 * server for `/envelope?pixels=<plot width>` of that window per channel, so the detail grows as you zoom in
 * (at full zoom it is the raw samples). Every time plot of the page follows that window (`onWindow`).
 *
 * Events: spikes as a density strip when several share a pixel column, as exact ticks when zoomed in (all of
 * the window's, never silently capped); faults, dropped ranges and pauses as labelled shaded spans with a
 * tooltip, markers as labelled lines; below the plots the table of them with "jump" (components/run-events.ts).
 *
 * Per channel (components/channel-controls.ts): visibility, y zoom, fixed y range, log y. Measurement
 * cursors (plots/cursors.ts) and an X–Y view of any two channels (components/xy-panel.ts) over the window.
 * Channels are titled by their label and shown in the protocol's unit when the bench converts them.
 */
import { api, ApiError, type Envelope, type RunDetail, type RunEvent } from '../api.ts';
import { h } from '../dom.ts';
import { si, count } from '../format.ts';
import { metrics } from '../metrics.ts';
import { TracePlot, fitPlotHeight, type PlotEvent, type PlotSpan } from '../plots/trace-plot.ts';
import { CursorTool } from '../plots/cursors.ts';
import { channelControls } from '../components/channel-controls.ts';
import { eventTable, joinRunEvents, jumpWindow } from '../components/run-events.ts';
import { envelopeXY, xyPanel } from '../components/xy-panel.ts';
import { channelTitle, recordedSeconds, shownFactor, shownUnit } from './describe.ts';

export const ROLE_COLORS: Record<string, string> = { stimulus: '#c05621', response: '#2b6cb0' };
/** Spikes per window request: the server's maximum. More than this in view is said, never hidden. */
const SPIKE_LIMIT = 100_000;
/** Markers and faults of the whole run, loaded once (for the table and the plots). */
const MARK_LIMIT = 5000;
/** Wait this long after the last zoom/pan step before fetching (wheel bursts make one request). */
const FETCH_DELAY_MS = 60;

export interface StoredViewInstance {
  unmount(): void;
  /** Shows [a, b] (s) on every plot. */
  setWindow(a: number, b: number): void;
  /** Called with every new window, for other time plots of the page to follow. */
  onWindow(fn: (a: number, b: number) => void): void;
  /** The window shown now (s). */
  window(): [number, number];
}

export function mountStoredView(container: HTMLElement, run: RunDetail): StoredViewInstance {
  const total = recordedSeconds(run);
  const channels = run.channels.filter((c) => c.sampleRate > 0);
  const root = h('section', { class: 'stored-view', 'data-view': 'stored' });
  container.append(root);
  if (channels.length === 0 || total <= 0) {
    root.append(h('p', { class: 'empty' }, 'This run recorded no samples.'));
    return { unmount: () => root.remove(), setWindow: () => {}, onWindow: () => {}, window: () => [0, 0] };
  }
  const minSpan = Math.min(total, 20 / Math.max(...channels.map((c) => c.sampleRate)));
  const followers: ((a: number, b: number) => void)[] = [];

  const rangeEl = h('span', { class: 'stat', 'data-stat': 'window' });
  const evEl = h('span', { class: 'stat', 'data-stat': 'events' });
  const errEl = h('span', { class: 'stat error-text', role: 'alert' });
  const btn = (label: string, title: string, fn: () => void) => h('button', { class: 'small', type: 'button', title, onclick: fn }, label);
  const cursors = new CursorTool(
    () => lanes.filter((l) => !l.el.hidden).map((l) => ({ name: l.ch.label || l.ch.name, unit: shownUnit(l.ch), valueAt: (t: number) => l.plot.valueAt(t) })),
    () => lanes.forEach((l) => l.plot.redraw()),
  );
  const plotsEl = h('div', { class: 'plots' });
  const xy = xyPanel(run, channels, () => [x0, x1], envelopeXY(run));
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    btn('Whole run', 'Show the whole run (double-click a plot)', () => setWindow(0, total)),
    btn('Zoom in', 'Zoom in around the centre (wheel up)', () => zoomBy(1 / 2)),
    btn('Zoom out', 'Zoom out (wheel down)', () => zoomBy(2)),
    btn('◀', 'Pan left (shift+wheel)', () => panBy(-0.5)),
    btn('▶', 'Pan right (shift+wheel)', () => panBy(0.5)),
    rangeEl,
    evEl,
    errEl,
    h('span', { class: 'spacer' }),
    cursors.el,
    xy.toggle,
    h('span', { class: 'hint', title: 'Drag across a plot to zoom to that span; the wheel zooms around the cursor; shift+wheel (or a sideways scroll) pans; double-click shows the whole run. Keys: + and − zoom, ← and → pan, Home or 0 shows the whole run.' }, 'drag/wheel/+−: zoom · shift+wheel/←→: pan · double-click: all'),
  );
  const controlsEl = h('details', { class: 'channel-controls-box' }, h('summary', {}, 'Channels: visibility and y axes'));
  const exportsEl = h(
    'div',
    { class: 'exports' },
    'Export: ',
    h('a', { href: api.exportUrl(run.id, 'csv'), download: '' }, 'CSV (all channels)'),
    ...channels.map((c) => h('a', { href: api.exportUrl(run.id, 'npy', c.index), download: '' }, `${c.name}.npy`)),
    h('a', { href: api.exportUrl(run.id, 'nwb'), download: '' }, 'NWB'),
    h('a', { href: api.exportUrl(run.id, 'events'), download: '' }, 'events.csv'),
    h('a', { href: api.exportUrl(run.id, 'sidecar'), download: '' }, 'metadata (JSON)'),
  );
  const tableEl = h('div', { class: 'event-table-box' });
  root.append(toolbar, controlsEl, plotsEl, xy.el, exportsEl, tableEl);

  let x0 = 0;
  let x1 = total;
  const interact = {
    zoom: (a: number, b: number) => setWindow(a, b),
    reset: () => setWindow(0, total),
    click: (t: number) => void cursors.place(t),
  };
  const width = () => Math.max(400, plotsEl.clientWidth || container.clientWidth || 1000);
  const visibleCount = () => Math.max(1, lanes.filter((l) => !l.el.hidden).length);
  interface Lane {
    ch: (typeof channels)[number];
    plot: TracePlot;
    el: HTMLElement;
    controls: ReturnType<typeof channelControls>;
  }
  const lanes: Lane[] = channels.map((ch): Lane => {
    const el = h('div', { class: 'plot', 'data-channel': String(ch.index) });
    plotsEl.append(el);
    const plot = new TracePlot(el, {
      title: `${channelTitle(ch)} · ${ch.name}, ${si(ch.sampleRate, 'S/s')}, ${ch.sampleCount.toLocaleString()} samples${ch.convert ? ` · via ${ch.convert.via}` : ''}`,
      unit: shownUnit(ch),
      color: ROLE_COLORS[ch.role] ?? '#444',
      width: width(),
      height: fitPlotHeight(plotsEl, channels.length, 44),
      interact,
      cursors: cursors.state,
    });
    const controls = channelControls({ label: ch.label || ch.name, el, plot, key: String(ch.index) }, () => resize(true));
    controlsEl.append(controls.el);
    return { ch, plot, el, controls };
  });
  let lastWidth = 0;
  function resize(force = false): void {
    const w = width();
    if (w === lastWidth && !force) return;
    lastWidth = w;
    for (const l of lanes) l.plot.setSize(w, fitPlotHeight(plotsEl, visibleCount(), 44));
    schedule();
  }
  const ro = new ResizeObserver(() => resize());
  ro.observe(plotsEl);

  // Faults, markers, pauses and dropped ranges of the whole run: loaded once, for the plots and the table.
  let lines: PlotEvent[] = [];
  let spans: PlotSpan[] = [];
  const ac = new AbortController();
  void (async () => {
    try {
      const [markers, faults] = await Promise.all([
        api.events(run.id, { kind: 'marker', limit: MARK_LIMIT }, ac.signal),
        api.events(run.id, { kind: 'fault', limit: MARK_LIMIT }, ac.signal),
      ]);
      const joined = joinRunEvents(channels, [...markers, ...faults].sort((a, b) => a.index - b.index), run.dropped);
      lines = joined.lines;
      spans = joined.spans;
      const capped = markers.length >= MARK_LIMIT || faults.length >= MARK_LIMIT ? ` Only the first ${MARK_LIMIT.toLocaleString()} markers and faults are listed.` : '';
      tableEl.replaceChildren(eventTable(joined.rows, run.eventCounts.spike, (r) => setWindow(...jumpWindow(r, minSpan * 5)), capped));
      for (const l of lanes) l.plot.spans = spans;
      schedule();
    } catch (e) {
      if (!ac.signal.aborted) tableEl.replaceChildren(h('p', { class: 'error-text' }, `Could not load the events: ${e instanceof Error ? e.message : String(e)}`));
    }
  })();

  function setWindow(a: number, b: number): void {
    let span = Math.max(minSpan, Math.min(total, b - a));
    if (!Number.isFinite(span) || span <= 0) span = total;
    let lo = Number.isFinite(a) ? a : 0;
    if (b - a < span) lo -= (span - (b - a)) / 2;
    lo = Math.min(Math.max(0, lo), total - span);
    x0 = lo;
    x1 = lo + span;
    for (const l of lanes) l.plot.setWindow(x0, x1);
    rangeEl.textContent = `${si(x0, 's', 4)} – ${si(x1, 's', 4)} (${si(x1 - x0, 's')})`;
    metrics.stored.xRange = [x0, x1];
    for (const f of followers) f(x0, x1);
    schedule();
  }
  const zoomBy = (f: number) => {
    const c = (x0 + x1) / 2;
    const half = ((x1 - x0) * f) / 2;
    setWindow(c - half, c + half);
  };
  const panBy = (f: number) => setWindow(x0 + f * (x1 - x0), x1 + f * (x1 - x0));

  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | null = null;
  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), FETCH_DELAY_MS);
  }

  async function load(): Promise<void> {
    inflight?.abort();
    const req = new AbortController();
    inflight = req;
    const w0 = x0;
    const w1 = x1;
    try {
      const envs = await Promise.all(
        lanes.map(({ ch, plot }) => {
          const start = Math.max(0, Math.floor(w0 * ch.sampleRate));
          const end = Math.min(ch.sampleCount, Math.ceil(w1 * ch.sampleRate));
          if (end <= start) return Promise.resolve(null);
          // Never more columns than samples: a column holding no sample would draw as a gap.
          const pixels = Math.max(1, Math.min(10_000, plot.plotWidth, end - start));
          metrics.stored.envelopeRequests.push({ runId: run.id, channel: ch.index, start, end, pixels, at: performance.now() });
          return api.envelope(run.id, ch.index, start, end, pixels, req.signal);
        }),
      );
      const ch0 = lanes[0].ch;
      const range = { start: Math.floor(w0 * ch0.sampleRate), end: Math.ceil(w1 * ch0.sampleRate) };
      const spikes = await api.events(run.id, { ...range, kind: 'spike', limit: SPIKE_LIMIT }, req.signal);
      if (req.signal.aborted) return;
      lanes.forEach(({ ch, plot, controls }, i) => {
        plot.events = [...spikeEvents(spikes, ch.index), ...lines];
        draw(plot, envs[i], ch.sampleRate, shownFactor(ch), w0, w1);
        controls.refresh();
      });
      cursors.update();
      xy.refresh();
      metrics.stored.draws++;
      metrics.stored.plotXRange = lanes[0].plot.xRange;
      const spikesCapped = spikes.length >= SPIKE_LIMIT;
      metrics.stored.spikesInView = spikes.length;
      metrics.stored.spikesCapped = spikesCapped;
      const visible = (t: number) => t >= w0 && t <= w1;
      const markers = lines.filter((e) => e.kind === 'marker' && visible(e.t)).length + spans.filter((s) => s.kind === 'pause' && visible(s.t0)).length;
      const faults = lines.filter((e) => e.kind === 'fault' && visible(e.t)).length + spans.filter((s) => s.kind === 'fault' && s.t1 >= w0 && s.t0 <= w1).length;
      const parts = ([[spikes.length, 'spike', spikesCapped], [markers, 'marker', false], [faults, 'fault', false]] as const)
        .filter(([n]) => n > 0)
        .map(([n, kind, over]) => `${over ? 'over ' : ''}${count(n, kind)}`);
      const reach = spikesCapped ? ` — spikes marked up to ${si(spikes[spikes.length - 1].index / ch0.sampleRate, 's', 4)} only: zoom in for the rest` : '';
      evEl.textContent = parts.length === 0 ? 'no events in view' : `${parts.join(', ')} in view${reach}`;
      evEl.classList.toggle('warn', spikesCapped);
      errEl.textContent = '';
    } catch (e) {
      if (req.signal.aborted) return;
      errEl.textContent = `Could not load the traces: ${e instanceof ApiError ? e.message : String(e)}`;
    }
  }

  /** The spikes of one channel (events without a channel belong to every plot). */
  function spikeEvents(evs: RunEvent[], chIdx: number): PlotEvent[] {
    const out: PlotEvent[] = [];
    for (const e of evs) {
      if (e.channel !== null && e.channel !== chIdx) continue;
      const rate = channels.find((c) => c.index === (e.channel ?? channels[0].index))?.sampleRate ?? channels[0].sampleRate;
      out.push({ t: e.time_s ?? e.index / rate, kind: 'spike', label: e.label });
    }
    return out;
  }

  // Keyboard: ← → pan, + − zoom, Home (or 0) whole run; ignored while typing in a field.
  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const act: Record<string, () => void> = {
      ArrowLeft: () => panBy(-0.25),
      ArrowRight: () => panBy(0.25),
      '+': () => zoomBy(1 / 2),
      '=': () => zoomBy(1 / 2),
      '-': () => zoomBy(2),
      Home: () => setWindow(0, total),
      '0': () => setWindow(0, total),
    };
    const fn = act[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  };
  window.addEventListener('keydown', onKey);

  setWindow(0, total);
  return {
    setWindow,
    onWindow: (fn) => followers.push(fn),
    window: () => [x0, x1],
    unmount() {
      window.removeEventListener('keydown', onKey);
      clearTimeout(timer);
      inflight?.abort();
      ac.abort();
      ro.disconnect();
      xy.destroy();
      for (const l of lanes) l.plot.destroy();
      root.remove();
    },
  };
}

/**
 * Envelope columns → plot points: column k covers samplesPerPixel samples from start + k*samplesPerPixel;
 * values scaled by `factor` (a negative factor swaps min and max).
 */
function draw(plot: TracePlot, env: Envelope | null, rate: number, factor: number, w0: number, w1: number): void {
  if (!env) {
    plot.show([], [], [], 0, w0, w1);
    return;
  }
  const n = Math.min(env.min.length, env.max.length);
  const spp = env.samplesPerPixel > 0 ? env.samplesPerPixel : (env.end - env.start) / Math.max(1, n);
  const x = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = (env.start + k * spp + (spp - 1) / 2) / rate;
    const a = (env.min[k] ?? NaN) * factor;
    const b = (env.max[k] ?? NaN) * factor;
    lo[k] = factor < 0 ? b : a;
    hi[k] = factor < 0 ? a : b;
  }
  plot.show(x, lo, hi, n, w0, w1);
}
