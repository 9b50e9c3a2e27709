/**
 * `#/overlay?runs=3,5,9`: several runs on one time axis (ticked in the runs list). One plot per channel role
 * (response, then stimulus), each run's channel of that role as its own coloured envelope, in one unit (a run
 * whose channel is in another unit gets its own plot). Zoom and pan as on the stored view; every change of the
 * window fetches each run's envelope at the new range. Above the plots, a table of the runs side by side
 * (length in signal time, spikes, mean spike rate).
 */
import { api, ApiError, type ChannelInfo, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import type { Params, ViewInstance } from '../router.ts';
import { TracePlot } from '../plots/trace-plot.ts';
import { CursorTool } from '../plots/cursors.ts';
import { describeProtocol, recordedSeconds, shownFactor, shownUnit, statusBadge } from './describe.ts';

/** Distinct colours for up to 8 runs (Okabe & Ito 2008, colour-blind safe), then repeated. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const MAX_RUNS = 12;

interface Group {
  role: string;
  unit: string;
  members: { run: RunDetail; ch: ChannelInfo; color: string }[];
  plot?: TracePlot;
}

export function overlayPage(root: HTMLElement, _params: Params, query: URLSearchParams): ViewInstance {
  const ids = [...new Set((query.get('runs') ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0))].slice(0, MAX_RUNS);
  const page = h('div', { class: 'page overlay-page' });
  root.append(page);
  const ac = new AbortController();
  let cleanup = () => {};
  if (ids.length === 0) {
    page.append(h('div', { class: 'error-box' }, 'No runs to overlay: tick runs in the list, then "Overlay".'), h('p', {}, h('a', { href: '#/' }, '← All runs')));
    return { unmount: () => page.remove() };
  }
  page.append(h('p', { class: 'loading' }, `Loading runs ${ids.join(', ')}…`));
  void (async () => {
    try {
      const runs = await Promise.all(ids.map((id) => api.getRun(id, ac.signal)));
      cleanup = render(page, runs);
    } catch (e) {
      if (ac.signal.aborted) return;
      page.replaceChildren(h('div', { class: 'error-box', role: 'alert' }, `Could not load the runs: ${e instanceof ApiError ? e.message : String(e)}`), h('p', {}, h('a', { href: '#/' }, '← All runs')));
    }
  })();
  return {
    unmount() {
      ac.abort();
      cleanup();
      page.remove();
    },
  };
}

function render(page: HTMLElement, runs: RunDetail[]): () => void {
  const color = (i: number) => PALETTE[i % PALETTE.length];
  const total = Math.max(...runs.map(recordedSeconds), 1e-6);
  const table = h(
    'table',
    { class: 'runs overlay-runs' },
    h('thead', {}, h('tr', {}, ...['', 'Run', 'Status', 'Label', 'Protocol', 'Source', 'Length', 'Spikes', 'Mean rate'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      ...runs.map((r, i) => {
        const len = recordedSeconds(r);
        return h(
          'tr',
          { 'data-run-id': String(r.id) },
          h('td', {}, h('span', { class: 'swatch', style: `background:${color(i)}` })),
          h('td', { class: 'num' }, h('a', { href: `#/runs/${r.id}` }, `#${r.id}`)),
          h('td', {}, statusBadge(r.status)),
          h('td', {}, r.label ?? ''),
          h('td', {}, h('strong', {}, r.protocol.kind), h('div', { class: 'sub' }, describeProtocol(r.protocol))),
          h('td', {}, r.source),
          h('td', { class: 'nowrap' }, si(len, 's')),
          h('td', { class: 'num' }, r.eventCounts.spike.toLocaleString()),
          h('td', { class: 'num' }, len > 0 ? si(r.eventCounts.spike / len, 'Hz') : '—'),
        );
      }),
    ),
  );
  // Groups: one per (role, unit), response first; a run joins with its first channel of that role.
  const groups: Group[] = [];
  for (const role of ['response', 'stimulus']) {
    runs.forEach((run, i) => {
      const ch = run.channels.find((c) => c.role === role && c.sampleRate > 0 && c.sampleCount > 0);
      if (!ch) return;
      const unit = shownUnit(ch);
      let g = groups.find((x) => x.role === role && x.unit === unit);
      if (!g) groups.push((g = { role, unit, members: [] }));
      g.members.push({ run, ch, color: color(i) });
    });
  }
  let x0 = 0;
  let x1 = total;
  const rangeEl = h('span', { class: 'stat', 'data-stat': 'window' });
  const errEl = h('span', { class: 'stat error-text', role: 'alert' });
  const cursors = new CursorTool(
    () => groups.map((g) => ({ name: `${g.role} (#${g.members[0].run.id})`, unit: g.unit, valueAt: (t: number) => g.plot?.valueAt(t) ?? null })),
    () => groups.forEach((g) => g.plot?.redraw()),
  );
  const btn = (label: string, fn: () => void) => h('button', { type: 'button', class: 'small', onclick: fn }, label);
  const plotsEl = h('div', { class: 'plots' });
  page.replaceChildren(
    h('div', { class: 'page-head' }, h('h2', {}, `Overlay of runs ${runs.map((r) => `#${r.id}`).join(', ')}`), h('span', { class: 'spacer' }), h('a', { href: '#/' }, '← All runs')),
    table,
    h('div', { class: 'toolbar' }, btn('Whole length', () => setWindow(0, total)), btn('Zoom in', () => zoomBy(0.5)), btn('Zoom out', () => zoomBy(2)), rangeEl, errEl, h('span', { class: 'spacer' }), cursors.el),
    plotsEl,
  );
  const width = () => Math.max(400, plotsEl.clientWidth || 1000);
  for (const g of groups) {
    const el = h('div', { class: 'plot', 'data-group': `${g.role}-${g.unit}` });
    plotsEl.append(el);
    g.plot = new TracePlot(el, {
      title: `${g.role} [${g.unit}] · ${g.members.map((m) => `#${m.run.id} ${m.ch.label || m.ch.name}`).join(', ')}`,
      unit: g.unit,
      series: g.members.map((m) => ({ label: `#${m.run.id}`, color: m.color })),
      width: width(),
      height: 260,
      interact: { zoom: (a, b) => setWindow(a, b), reset: () => setWindow(0, total), click: (t) => void cursors.place(t) },
      cursors: cursors.state,
    });
  }
  const ro = new ResizeObserver(() => groups.forEach((g) => g.plot?.setSize(width(), 260)));
  ro.observe(plotsEl);

  let inflight: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function setWindow(a: number, b: number): void {
    const span = Math.min(total, Math.max(1e-5, b - a));
    const lo = Math.min(Math.max(0, a), total - span);
    x0 = lo;
    x1 = lo + span;
    rangeEl.textContent = `${si(x0, 's', 4)} – ${si(x1, 's', 4)}`;
    for (const g of groups) g.plot?.setWindow(x0, x1);
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 60);
  }
  const zoomBy = (f: number) => {
    const c = (x0 + x1) / 2;
    setWindow(c - ((x1 - x0) * f) / 2, c + ((x1 - x0) * f) / 2);
  };

  /** Each run's envelope over the window in the same columns (column k: t0 + (k + ½)·span/pixels). */
  async function load(): Promise<void> {
    inflight?.abort();
    const mine = (inflight = new AbortController());
    const w0 = x0;
    const w1 = x1;
    try {
      await Promise.all(
        groups.map(async (g) => {
          const pixels = Math.max(10, g.plot!.plotWidth);
          const envs = await Promise.all(
            g.members.map(({ run, ch }) => {
              const start = Math.max(0, Math.floor(w0 * ch.sampleRate));
              const end = Math.min(ch.sampleCount, Math.ceil(w1 * ch.sampleRate));
              return end > start ? api.envelope(run.id, ch.index, start, end, Math.min(pixels, end - start), mine.signal) : Promise.resolve(null);
            }),
          );
          if (mine.signal.aborted) return;
          const x = new Float64Array(pixels);
          for (let k = 0; k < pixels; k++) x[k] = w0 + ((k + 0.5) * (w1 - w0)) / pixels;
          const ys = envs.map((env, i) => {
            const lo = new Float64Array(pixels).fill(NaN);
            const hi = new Float64Array(pixels).fill(NaN);
            if (!env) return { lo, hi };
            const { ch } = g.members[i];
            const f = shownFactor(ch);
            for (let j = 0; j < env.min.length; j++) {
              const t = (env.start + (j + 0.5) * env.samplesPerPixel) / ch.sampleRate;
              const k = Math.floor(((t - w0) / (w1 - w0)) * pixels);
              if (k < 0 || k >= pixels || env.min[j] === null || env.max[j] === null) continue;
              const a = env.min[j]! * f;
              const b = env.max[j]! * f;
              lo[k] = Number.isNaN(lo[k]) ? Math.min(a, b) : Math.min(lo[k], a, b);
              hi[k] = Number.isNaN(hi[k]) ? Math.max(a, b) : Math.max(hi[k], a, b);
            }
            // Zoomed in past the run's samples: a column within one sample of the last one drawn holds that
            // sample (no false gaps between samples; a dropped range, longer, stays a gap).
            if (env.min.length < pixels) {
              let lastT = -Infinity;
              for (let k = 0; k < pixels; k++) {
                if (!Number.isNaN(lo[k])) lastT = x[k];
                else if (k > 0 && x[k] - lastT <= (env.samplesPerPixel || 1) / ch.sampleRate) {
                  lo[k] = lo[k - 1];
                  hi[k] = hi[k - 1];
                }
              }
            }
            return { lo, hi };
          });
          g.plot!.showSeries(x, ys, pixels, w0, w1);
        }),
      );
      if (mine.signal.aborted) return;
      page.dataset.loaded = String(Number(page.dataset.loaded ?? 0) + 1);
      cursors.update();
      errEl.textContent = '';
    } catch (e) {
      if (!mine.signal.aborted) errEl.textContent = `Could not load the traces: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  setWindow(0, total);
  return () => {
    inflight?.abort();
    clearTimeout(timer);
    ro.disconnect();
    for (const g of groups) g.plot?.destroy();
  };
}
