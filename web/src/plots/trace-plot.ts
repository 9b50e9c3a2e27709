/**
 * Time traces as a uPlot chart: one or more min/max envelopes (each drawn as two lines with the band between
 * them filled; when min = max a plain line), time in seconds on x, one unit on y. Several series share the
 * axis when runs are overlaid (views/overlay.ts). Drawn on top:
 *   - spikes: exact ticks zoomed in, a density strip when several share a pixel column (never capped);
 *   - markers and faults: labelled vertical lines; dropped ranges, faults that lost samples and pauses:
 *     labelled shaded spans; hovering one shows a tooltip (kind, label, samples lost);
 *   - measurement cursors A and B (plots/cursors.ts), shared by all plots of a page.
 * The y axis can be fixed, zoomed or logarithmic (setY). Live, stored, replay and overlay views draw with it;
 * the stored views add zoom/pan interactions through `interact`, the live view only the cursors' click.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { si, timeTick } from '../format.ts';
import { downloadPlotPng } from './png.ts';
import type { Cursors } from './cursors.ts';

export interface PlotEvent {
  /** Seconds. */
  t: number;
  kind: 'spike' | 'marker' | 'fault';
  label?: string | null;
}

/** A stretch of time drawn as a shaded, labelled band. */
export interface PlotSpan {
  t0: number;
  t1: number;
  kind: 'dropped' | 'fault' | 'pause';
  label: string;
  /** Tooltip text after the label, e.g. "1,700 samples lost per channel". */
  detail?: string;
}

export interface Interactions {
  /** Drag-select or wheel asked for a new x window (s). Without it (the live view) the plot does not zoom. */
  zoom?(x0: number, x1: number): void;
  /** Double-click: back to the whole run. */
  reset?(): void;
  /** A click (no drag) at time t, e.g. to place a measurement cursor. */
  click?(t: number): void;
}

export interface TraceSeries {
  label: string;
  color: string;
}

/** The y axis: `range` null = fit the data; `log` = base-10 axis (values <= 0 are not drawn). */
export interface YMode {
  range: [number, number] | null;
  log: boolean;
}

export interface TracePlotOptions {
  title: string;
  unit: string;
  /** One envelope per series (default: one, in `color`). */
  series?: TraceSeries[];
  color?: string;
  width: number;
  height: number;
  interact?: Interactions;
  /** Update the legend's values under the cursor. Off for the live view: a live legend re-lays out the page every frame. */
  liveLegend?: boolean;
  cursors?: Cursors;
}

export interface Envelope2 {
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
}

const AXIS_SIZE = 78;
/** Title and legend around each uPlot canvas, CSS px. */
const CHROME_PX = 58;
const EVENT_COLORS = { spike: '#c53030', marker: '#2f855a', fault: '#9b2c2c' } as const;
const SPAN_COLORS = { dropped: 'rgba(113,128,150,0.28)', fault: 'rgba(197,48,48,0.22)', pause: 'rgba(183,121,31,0.22)' } as const;
/** Hover distance (CSS px) within which a line event or a thin span shows its tooltip. */
const HOVER_PX = 5;

/** Height for each of `count` stacked plots so that they fill the viewport below `container` (within limits). */
export function fitPlotHeight(container: HTMLElement, count: number, below = 12): number {
  const top = container.getBoundingClientRect().top + window.scrollY;
  const free = window.innerHeight - top - below;
  return Math.round(Math.min(360, Math.max(150, free / Math.max(1, count) - CHROME_PX)));
}

export class TracePlot {
  u: uPlot;
  events: PlotEvent[] = [];
  spans: PlotSpan[] = [];
  /** How the last draw showed spikes: exact ticks, a density strip (several per pixel column), or none. */
  spikeMode: 'ticks' | 'density' | 'none' = 'none';
  /** Points drawn by the last update. */
  points = 0;
  private y: YMode = { range: null, log: false };
  private readonly series: TraceSeries[];
  private readonly tip: HTMLElement;
  /** The last data shown, kept to redraw after a change of the y mode and to read values at the cursors. */
  private data: uPlot.AlignedData = [[]];

  constructor(
    readonly el: HTMLElement,
    readonly opts: TracePlotOptions,
  ) {
    this.series = opts.series ?? [{ label: '', color: opts.color ?? '#444' }];
    this.data = [[], ...this.series.flatMap(() => [[], []])];
    this.tip = document.createElement('div');
    this.tip.className = 'plot-tip';
    this.tip.hidden = true;
    this.u = this.build();
    el.style.position = 'relative';
    el.append(this.tip);
  }

  private build(): uPlot {
    const { opts } = this;
    const unit = opts.unit;
    const plugins: uPlot.Plugin[] = [eventsPlugin(this), hoverPlugin(this)];
    if (opts.interact) plugins.push(zoomPlugin(opts.interact));
    const log = this.y.log;
    const series: uPlot.Series[] = [
      { label: 't', value: (u, v) => (v === null || v === undefined ? '—' : timeTick(v, (u.scales.x.max ?? 1) - (u.scales.x.min ?? 0))) },
    ];
    const bands: uPlot.Band[] = [];
    this.series.forEach((s, i) => {
      const name = s.label ? `${s.label} ` : '';
      series.push(
        { label: `${name}max`, stroke: s.color, width: 1, value: (_u, v) => si(v, unit, 4), spanGaps: false },
        { label: `${name}min`, stroke: s.color, width: 1, value: (_u, v) => si(v, unit, 4), spanGaps: false },
      );
      bands.push({ series: [1 + 2 * i, 2 + 2 * i], fill: s.color + '40' });
    });
    const u = new uPlot(
      {
        title: opts.title,
        width: opts.width,
        height: opts.height,
        pxAlign: 0,
        scales: {
          x: { time: false },
          y: log
            ? { distr: 3, log: 10, range: (_u, min, max) => this.y.range ?? uPlot.rangeLog(min || 1e-12, max || 1, 10, true) }
            : {
                range: (_u, min, max) => {
                  if (this.y.range) return this.y.range;
                  // A flat trace gets a small band around its value (uPlot's default for a flat 0 is 0..100).
                  if (min === null || max === null) return [-1e-3, 1e-3];
                  if (min === max) {
                    const d = Math.abs(min) * 0.1 || 1e-3;
                    return [min - d, max + d];
                  }
                  const pad = (max - min) * 0.08;
                  return [min - pad, max + pad];
                },
              },
        },
        legend: { show: true, live: opts.liveLegend ?? true },
        cursor: {
          drag: { x: Boolean(opts.interact?.zoom), y: false, setScale: false },
          // uPlot's own double-click resets to the data extent; the stored view resets to the whole run instead.
          bind: opts.interact?.reset ? { dblclick: () => () => null } : {},
          points: { show: false },
          sync: { key: 'spikeloop-x', setSeries: false },
        },
        axes: [
          {
            size: 36,
            space: 90,
            values: (u, splits) => {
              const span = (u.scales.x.max ?? 1) - (u.scales.x.min ?? 0);
              return splits.map((v) => timeTick(v, span));
            },
          },
          { size: AXIS_SIZE, space: 36, values: (_u, splits) => splits.map((v) => si(v, unit)) },
        ],
        series,
        bands,
        plugins,
      },
      this.data,
      this.el,
    );
    // A "PNG" button in the title: the chart as an image (plots/png.ts).
    const png = document.createElement('button');
    Object.assign(png, { type: 'button', className: 'small plot-png', textContent: 'PNG', title: 'Download this plot as a PNG image' });
    png.dataset.action = 'png';
    png.addEventListener('click', () => void downloadPlotPng(this.u, opts.title));
    u.root.querySelector('.u-title')?.append(png);
    return u;
  }

  /** Shows one series' `length` columns (NaN = gap) and sets the x window. */
  show(x: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>, length: number, x0: number, x1: number): void {
    this.showSeries(x, [{ lo, hi }], length, x0, x1);
  }

  /** Shows every series' columns on a shared x (NaN = gap) and sets the x window. */
  showSeries(x: ArrayLike<number>, ys: Envelope2[], length: number, x0: number, x1: number): void {
    const xs = new Array<number>(length);
    for (let i = 0; i < length; i++) xs[i] = x[i];
    const cols: (number | null)[][] = [];
    const keep = this.y.log ? (v: number) => (Number.isNaN(v) || v <= 0 ? null : v) : (v: number) => (Number.isNaN(v) ? null : v);
    for (let s = 0; s < this.series.length; s++) {
      const los = new Array<number | null>(length);
      const his = new Array<number | null>(length);
      const y = ys[s];
      for (let i = 0; i < length; i++) {
        los[i] = y ? keep(y.lo[i]) : null;
        his[i] = y ? keep(y.hi[i]) : null;
      }
      cols.push(his, los);
    }
    this.points = length;
    this.data = [xs, ...cols] as uPlot.AlignedData;
    this.u.batch(() => {
      this.u.setData(this.data, false);
      this.u.setScale('x', { min: x0, max: x1 });
    });
  }

  /** Re-applies the x window without new data (e.g. a pan before the envelope arrives). */
  setWindow(x0: number, x1: number): void {
    this.u.setScale('x', { min: x0, max: x1 });
  }

  /** Fixes, zooms or frees the y axis; switching to or from log rebuilds the chart. */
  setY(mode: Partial<YMode>): void {
    const next = { ...this.y, ...mode };
    const rebuild = next.log !== this.y.log;
    this.y = next;
    if (rebuild) {
      const [x0, x1] = this.xRange;
      const { width, height } = this.u;
      this.u.destroy();
      this.u = this.build();
      this.u.setSize({ width, height });
      this.u.setScale('x', { min: x0, max: x1 });
      return;
    }
    // Re-set the data so that the y range function runs again (fixed range, or fitted to the data); x stays.
    const [x0, x1] = this.xRange;
    this.u.batch(() => {
      this.u.setData(this.data, true);
      this.u.setScale('x', { min: x0, max: x1 });
    });
  }

  get yMode(): YMode {
    return { ...this.y };
  }

  /** The y axis's current extent. */
  get yScaleRange(): [number, number] {
    if (this.y.range) return this.y.range;
    return [this.u.scales.y.min ?? 0, this.u.scales.y.max ?? 0];
  }

  /** Smallest and largest value of the data shown (null when none). */
  dataExtent(): [number, number] | null {
    let lo = Infinity;
    let hi = -Infinity;
    for (let s = 1; s < this.data.length; s++) {
      for (const v of this.data[s] as (number | null)[]) {
        if (v === null || v === undefined) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    return lo <= hi ? [lo, hi] : null;
  }

  /** The first series' value at time t (middle of the min/max column nearest t), or null. */
  valueAt(t: number): number | null {
    const xs = this.data[0] as number[];
    if (xs.length === 0 || this.data.length < 3) return null;
    // Outside the data shown (a live cursor the window has scrolled past) there is no value.
    const step = xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) : 0;
    if (t < xs[0] - step || t > xs[xs.length - 1] + step) return null;
    let a = 0;
    let b = xs.length - 1;
    while (a < b) {
      const m = (a + b) >> 1;
      if (xs[m] < t) a = m + 1;
      else b = m;
    }
    const k = a > 0 && Math.abs(xs[a - 1] - t) < Math.abs(xs[a] - t) ? a - 1 : a;
    const hi = (this.data[1] as (number | null)[])[k];
    const lo = (this.data[2] as (number | null)[])[k];
    return hi === null || lo === null || hi === undefined || lo === undefined ? null : (hi + lo) / 2;
  }

  /** Redraws the overlays (events, spans, cursors) without new data. */
  redraw(): void {
    this.u.redraw(false, false);
  }

  get xRange(): [number, number] {
    return [this.u.scales.x.min ?? 0, this.u.scales.x.max ?? 0];
  }

  /** Plot-area width in CSS pixels: the `pixels` to ask the server for. */
  get plotWidth(): number {
    return Math.max(1, Math.round(this.u.bbox.width / (window.devicePixelRatio || 1)));
  }

  setSize(width: number, height: number): void {
    this.u.setSize({ width, height });
  }

  destroy(): void {
    this.u.destroy();
    this.tip.remove();
  }

  /** The span or line event under the pointer at plot-area x `px` (CSS px), for the tooltip. */
  hit(px: number): string | null {
    const u = this.u;
    const t = u.posToVal(px, 'x');
    const near = (tv: number) => Math.abs(u.valToPos(tv, 'x') - px) <= HOVER_PX;
    for (const s of this.spans) {
      if ((t >= s.t0 && t <= s.t1) || near(s.t0) || near(s.t1)) return `${SPAN_TITLES[s.kind]}: ${s.label}${s.detail ? ` — ${s.detail}` : ''}`;
    }
    for (const e of this.events) {
      if (e.kind !== 'spike' && near(e.t)) return `${e.kind} at ${si(e.t, 's', 5)}${e.label ? `: ${e.label}` : ''}`;
    }
    return null;
  }

  showTip(text: string | null, px: number): void {
    this.tip.hidden = text === null;
    if (text === null) return;
    this.tip.textContent = text;
    this.tip.dataset.tip = text;
    const left = this.u.over.offsetLeft + px + 12;
    this.tip.style.left = `${Math.min(left, this.el.clientWidth - 260)}px`;
    this.tip.style.top = `${this.u.over.offsetTop + 14}px`;
  }
}

const SPAN_TITLES = { dropped: 'dropped', fault: 'fault', pause: 'pause' } as const;

function eventsPlugin(plot: TracePlot): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        const x0 = u.scales.x.min ?? 0;
        const x1 = u.scales.x.max ?? 0;
        const dpr = window.devicePixelRatio || 1;
        const xOf = (t: number) => Math.round(u.valToPos(t, 'x', true));
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
        ctx.textBaseline = 'top';
        ctx.textAlign = 'left'; // uPlot leaves its axes' alignment on the context
        // Spans: shaded, at least 2 px wide so that a short one stays visible, label at the top.
        for (const s of plot.spans) {
          if (s.t1 < x0 || s.t0 > x1) continue;
          const a = xOf(Math.max(s.t0, x0));
          const b = Math.max(a + 2 * dpr, xOf(Math.min(s.t1, x1)));
          ctx.fillStyle = SPAN_COLORS[s.kind];
          ctx.fillRect(a, top, b - a, height);
          ctx.fillStyle = s.kind === 'fault' ? EVENT_COLORS.fault : '#4a5568';
          ctx.fillText(fitText(ctx, s.label, Math.max(90 * dpr, b - a - 6 * dpr)), a + 3 * dpr, top + 11 * dpr);
        }
        // What the plot shows, for tests and the curious (the x window is linked across a page's plots).
        plot.el.dataset.spans = String(plot.spans.length);
        plot.el.dataset.xRange = `${x0},${x1}`;
        plot.el.dataset.yRange = `${u.scales.y.min},${u.scales.y.max}`;
        plot.el.dataset.ylog = String(plot.yMode.log);
        drawSpikes(plot, u, x0, x1, dpr);
        // Markers and faults: dashed lines across the plot with their label.
        ctx.lineWidth = 1 * dpr;
        for (const kind of ['marker', 'fault'] as const) {
          ctx.strokeStyle = EVENT_COLORS[kind];
          ctx.fillStyle = EVENT_COLORS[kind];
          ctx.setLineDash([4 * dpr, 3 * dpr]);
          ctx.beginPath();
          let lastLabelX = -Infinity;
          for (const ev of plot.events) {
            if (ev.kind !== kind || ev.t < x0 || ev.t > x1) continue;
            const x = xOf(ev.t);
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            // Labels only where they do not overlap the previous one.
            if (ev.label && x - lastLabelX > 90 * dpr) {
              ctx.fillText(fitText(ctx, ev.label, 140 * dpr), x + 3 * dpr, top + (kind === 'fault' ? 24 : 36) * dpr);
              lastLabelX = x;
            }
          }
          ctx.stroke();
        }
        ctx.setLineDash([]);
        const c = plot.opts.cursors;
        if (c) {
          ctx.strokeStyle = '#553c9a';
          ctx.fillStyle = '#553c9a';
          ctx.lineWidth = 1.5 * dpr;
          for (const [name, t] of [['A', c.a], ['B', c.b]] as const) {
            if (t === null || t < x0 || t > x1) continue;
            const x = xOf(t);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(name, x + 3 * dpr, top + height - 14 * dpr);
          }
        }
        ctx.restore();
      },
    },
  };
}

/** `text` cut (with …) to at most `width` device pixels in the context's font; the tooltip has it whole. */
function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let n = text.length;
  while (n > 1 && ctx.measureText(text.slice(0, n) + '…').width > width) n = Math.floor(n * 0.85);
  return text.slice(0, n) + '…';
}

/**
 * Spikes counted per 2-px column. Zoomed in (no column holds two) they are exact ticks; zoomed out a density
 * strip: each column shaded by its count relative to the fullest, so none is lost.
 */
function drawSpikes(plot: TracePlot, u: uPlot, x0: number, x1: number, dpr: number): void {
  const { ctx } = u;
  const { left, top, width } = u.bbox;
  const colPx = 2 * dpr;
  const cols = new Uint32Array(Math.max(1, Math.ceil(width / colPx)));
  let maxCount = 0;
  for (const ev of plot.events) {
    if (ev.kind !== 'spike' || ev.t < x0 || ev.t > x1) continue;
    const c = Math.min(cols.length - 1, Math.max(0, Math.floor((u.valToPos(ev.t, 'x', true) - left) / colPx)));
    maxCount = Math.max(maxCount, ++cols[c]);
  }
  ctx.strokeStyle = EVENT_COLORS.spike;
  ctx.fillStyle = EVENT_COLORS.spike;
  ctx.lineWidth = 1.5 * dpr;
  if (maxCount === 1) {
    ctx.beginPath();
    for (const ev of plot.events) {
      if (ev.kind !== 'spike' || ev.t < x0 || ev.t > x1) continue;
      const x = Math.round(u.valToPos(ev.t, 'x', true));
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + 8 * dpr);
    }
    ctx.stroke();
  } else if (maxCount > 1) {
    for (let c = 0; c < cols.length; c++) {
      if (cols[c] === 0) continue;
      ctx.globalAlpha = 0.2 + (0.8 * cols[c]) / maxCount;
      ctx.fillRect(left + c * colPx, top, colPx, 8 * dpr);
    }
    ctx.globalAlpha = 1;
  }
  plot.spikeMode = maxCount > 1 ? 'density' : maxCount === 1 ? 'ticks' : 'none';
  plot.el.dataset.spikeMode = plot.spikeMode;
}

/** The tooltip of spans, faults and markers under the pointer. */
function hoverPlugin(plot: TracePlot): uPlot.Plugin {
  return {
    hooks: {
      ready: (u) => {
        u.over.addEventListener('mousemove', (e) => {
          const px = e.clientX - u.over.getBoundingClientRect().left;
          plot.showTip(plot.hit(px), px);
        });
        u.over.addEventListener('mouseleave', () => plot.showTip(null, 0));
      },
    },
  };
}

/**
 * Stored-view interactions: drag to select a window, wheel to zoom around the cursor, shift+wheel or a
 * horizontal wheel to pan, double-click for the whole run, a click (no drag) for `click`. Each only when
 * `ix` has its handler (the live view has only `click`).
 */
function zoomPlugin(ix: Interactions): uPlot.Plugin {
  return {
    hooks: {
      setSelect: (u) => {
        const { left, width } = u.select;
        if (width < 3 || !ix.zoom) return;
        const a = u.posToVal(left, 'x');
        const b = u.posToVal(left + width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        ix.zoom(a, b);
      },
      ready: (u) => {
        let downX = NaN;
        u.over.addEventListener('mousedown', (e) => (downX = e.clientX));
        u.over.addEventListener('mouseup', (e) => {
          if (!ix.click || Math.abs(e.clientX - downX) > 2) return;
          ix.click(u.posToVal(e.clientX - u.over.getBoundingClientRect().left, 'x'));
        });
        if (ix.reset) u.over.addEventListener('dblclick', () => ix.reset?.());
        const zoom = ix.zoom;
        if (!zoom) return;
        u.over.addEventListener(
          'wheel',
          (e) => {
            e.preventDefault();
            const x0 = u.scales.x.min ?? 0;
            const x1 = u.scales.x.max ?? 0;
            const span = x1 - x0;
            if (!(span > 0)) return;
            const horizontal = Math.abs(e.deltaX) > Math.abs(e.deltaY);
            if (e.shiftKey || horizontal) {
              const d = (horizontal ? e.deltaX : e.deltaY) > 0 ? 0.15 : -0.15;
              zoom(x0 + d * span, x1 + d * span);
              return;
            }
            const rect = u.over.getBoundingClientRect();
            const at = u.posToVal(e.clientX - rect.left, 'x');
            const f = e.deltaY < 0 ? 1 / 1.5 : 1.5;
            zoom(at - (at - x0) * f, at + (x1 - at) * f);
          },
          { passive: false },
        );
      },
    },
  };
}
