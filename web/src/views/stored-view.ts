/**
 * A stored run: one plot per channel on a shared time axis. Zoom (drag-select, wheel, buttons), pan
 * (shift+wheel, arrow buttons), double-click for the whole run; every change of the visible window asks the
 * server for `/envelope?pixels=<plot width>` of that window per channel, so the detail grows as you zoom in
 * (at full zoom it is the raw samples). Events in the window are marked: spikes as a density strip when
 * several share a pixel column, as exact ticks when zoomed in; a window holding more spikes than one request
 * returns says how far the marks reach.
 */
import { api, ApiError, type Envelope, type RunDetail, type RunEvent } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { metrics } from '../metrics.ts';
import { TracePlot, fitPlotHeight, type PlotEvent } from '../plots/trace-plot.ts';
import { recordedSeconds } from './describe.ts';

const COLORS = { stimulus: '#c05621', response: '#2b6cb0' } as const;
/** Spikes per window request: the server's maximum. More than this in view is said, never hidden. */
const SPIKE_LIMIT = 100_000;
/** Markers and faults per window request (fetched apart from spikes, so spikes never crowd them out). */
const MARK_LIMIT = 5000;
/** Wait this long after the last zoom/pan step before fetching (wheel bursts make one request). */
const FETCH_DELAY_MS = 60;

export function mountStoredView(container: HTMLElement, run: RunDetail): { unmount(): void } {
  const total = recordedSeconds(run);
  const channels = run.channels.filter((c) => c.sampleRate > 0);
  const root = h('section', { class: 'stored-view', 'data-view': 'stored' });
  container.append(root);
  if (channels.length === 0 || total <= 0) {
    root.append(h('p', { class: 'empty' }, 'This run recorded no samples.'));
    return { unmount: () => root.remove() };
  }
  const minSpan = Math.min(total, 20 / Math.max(...channels.map((c) => c.sampleRate)));

  const rangeEl = h('span', { class: 'stat', 'data-stat': 'window' });
  const evEl = h('span', { class: 'stat', 'data-stat': 'events' });
  const errEl = h('span', { class: 'stat error-text', role: 'alert' });
  const btn = (label: string, title: string, fn: () => void) => h('button', { class: 'small', type: 'button', title, onclick: fn }, label);
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
    h('span', { class: 'hint', title: 'Drag across a plot to zoom to that span; the wheel zooms around the cursor; shift+wheel (or a sideways scroll) pans; double-click shows the whole run. Keys: + and − zoom, ← and → pan, Home or 0 shows the whole run.' }, 'drag/wheel/+−: zoom · shift+wheel/←→: pan · double-click: all'),
  );
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
  const plotsEl = h('div', { class: 'plots' });
  root.append(toolbar, plotsEl, exportsEl);

  let x0 = 0;
  let x1 = total;
  const interact = {
    zoom: (a: number, b: number) => setWindow(a, b),
    reset: () => setWindow(0, total),
  };
  const width = () => Math.max(400, plotsEl.clientWidth || container.clientWidth || 1000);
  const lanes = channels.map((ch) => {
    const el = h('div', { class: 'plot', 'data-channel': String(ch.index) });
    plotsEl.append(el);
    const plot = new TracePlot(el, {
      title: `${ch.name} (${ch.role}, ${si(ch.sampleRate, 'S/s')}, ${ch.sampleCount.toLocaleString()} samples)`,
      unit: ch.unit,
      color: COLORS[ch.role] ?? '#444',
      width: width(),
      height: fitPlotHeight(plotsEl, channels.length, 44),
      interact,
    });
    return { ch, plot };
  });
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = width();
    if (w === lastWidth) return;
    lastWidth = w;
    for (const l of lanes) l.plot.setSize(w, fitPlotHeight(plotsEl, channels.length, 44));
    schedule();
  });
  ro.observe(plotsEl);

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
    const ac = new AbortController();
    inflight = ac;
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
          return api.envelope(run.id, ch.index, start, end, pixels, ac.signal);
        }),
      );
      const ch0 = lanes[0].ch;
      const range = { start: Math.floor(w0 * ch0.sampleRate), end: Math.ceil(w1 * ch0.sampleRate) };
      const [spikes, markers, faults] = await Promise.all([
        api.events(run.id, { ...range, kind: 'spike', limit: SPIKE_LIMIT }, ac.signal),
        api.events(run.id, { ...range, kind: 'marker', limit: MARK_LIMIT }, ac.signal),
        api.events(run.id, { ...range, kind: 'fault', limit: MARK_LIMIT }, ac.signal),
      ]);
      const evs = [...spikes, ...markers, ...faults];
      if (ac.signal.aborted) return;
      lanes.forEach(({ ch, plot }, i) => {
        plot.events = plotEvents(evs, ch.index);
        draw(plot, envs[i], ch.sampleRate, w0, w1);
      });
      metrics.stored.draws++;
      metrics.stored.plotXRange = lanes[0].plot.xRange;
      const spikesCapped = spikes.length >= SPIKE_LIMIT;
      metrics.stored.spikesInView = spikes.length;
      metrics.stored.spikesCapped = spikesCapped;
      const parts = ([[spikes, 'spike', SPIKE_LIMIT], [markers, 'marker', MARK_LIMIT], [faults, 'fault', MARK_LIMIT]] as const)
        .filter(([list]) => list.length > 0)
        .map(([list, kind, limit]) => `${list.length >= limit ? 'over ' : ''}${list.length.toLocaleString()} ${kind}s`);
      const reach = spikesCapped ? ` — spikes marked up to ${si(spikes[spikes.length - 1].index / ch0.sampleRate, 's', 4)} only: zoom in for the rest` : '';
      evEl.textContent = evs.length === 0 ? 'no events in view' : `${parts.join(', ')} in view${reach}`;
      evEl.classList.toggle('warn', spikesCapped);
      errEl.textContent = '';
    } catch (e) {
      if (ac.signal.aborted) return;
      errEl.textContent = `Could not load the traces: ${e instanceof ApiError ? e.message : String(e)}`;
    }
  }

  function plotEvents(evs: RunEvent[], chIdx: number): PlotEvent[] {
    const out: PlotEvent[] = [];
    for (const e of evs) {
      if (e.kind === 'spike' && e.channel !== null && e.channel !== chIdx) continue;
      const rate = channels.find((c) => c.index === (e.channel ?? channels[0].index))?.sampleRate ?? channels[0].sampleRate;
      out.push({ t: e.index / rate, kind: e.kind, label: e.label });
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
    unmount() {
      window.removeEventListener('keydown', onKey);
      clearTimeout(timer);
      inflight?.abort();
      ro.disconnect();
      for (const l of lanes) l.plot.destroy();
      root.remove();
    },
  };
}

/** Envelope columns → plot points: column k covers samplesPerPixel samples from start + k*samplesPerPixel. */
function draw(plot: TracePlot, env: Envelope | null, rate: number, w0: number, w1: number): void {
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
    lo[k] = env.min[k] ?? NaN;
    hi[k] = env.max[k] ?? NaN;
  }
  plot.show(x, lo, hi, n, w0, w1);
}
