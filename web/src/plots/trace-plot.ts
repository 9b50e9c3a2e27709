/**
 * One channel's trace as a uPlot chart: the min/max envelope drawn as two lines with the band between them
 * filled (when min = max it is a plain line), time in seconds on x, the channel's unit on y, and event
 * markers (spikes as ticks along the top, markers and faults as vertical lines). Live and stored views both
 * draw with it; the stored view adds zoom/pan interactions through `interact`.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { si, timeTick } from '../format.ts';
import { downloadPlotPng } from './png.ts';

export interface PlotEvent {
  /** Seconds. */
  t: number;
  kind: 'spike' | 'marker' | 'fault';
  label?: string | null;
}

export interface Interactions {
  /** Drag-select or wheel asked for a new x window (s). */
  zoom(x0: number, x1: number): void;
  /** Double-click: back to the whole run. */
  reset(): void;
}

export interface TracePlotOptions {
  title: string;
  unit: string;
  color: string;
  width: number;
  height: number;
  interact?: Interactions;
  /** Update the legend's values under the cursor. Off for the live view: a live legend re-lays out the page every frame. */
  liveLegend?: boolean;
}

const AXIS_SIZE = 78;
/** Title and legend around each uPlot canvas, CSS px. */
const CHROME_PX = 58;

/** Height for each of `count` stacked plots so that they fill the viewport below `container` (within limits). */
export function fitPlotHeight(container: HTMLElement, count: number, below = 12): number {
  const top = container.getBoundingClientRect().top + window.scrollY;
  const free = window.innerHeight - top - below;
  return Math.round(Math.min(360, Math.max(150, free / Math.max(1, count) - CHROME_PX)));
}

export class TracePlot {
  readonly u: uPlot;
  events: PlotEvent[] = [];
  /** How the last draw showed spikes: exact ticks, a density strip (several per pixel column), or none. */
  spikeMode: 'ticks' | 'density' | 'none' = 'none';
  /** Points drawn by the last update. */
  points = 0;

  constructor(
    readonly el: HTMLElement,
    readonly opts: TracePlotOptions,
  ) {
    const unit = opts.unit;
    const fill = opts.color + '40';
    const plugins: uPlot.Plugin[] = [eventsPlugin(this)];
    if (opts.interact) plugins.push(zoomPlugin(opts.interact));
    this.u = new uPlot(
      {
        title: opts.title,
        width: opts.width,
        height: opts.height,
        pxAlign: 0,
        scales: {
          x: { time: false },
          // A flat trace gets a small band around its value (uPlot's default for a flat 0 is 0..100).
          y: {
            range: (_u, min, max) => {
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
          drag: { x: Boolean(opts.interact), y: false, setScale: false },
          // uPlot's own double-click resets to the data extent; the stored view resets to the whole run instead.
          bind: opts.interact ? { dblclick: () => () => null } : {},
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
        series: [
          { label: 't', value: (u, v) => (v === null || v === undefined ? '—' : timeTick(v, (u.scales.x.max ?? 1) - (u.scales.x.min ?? 0))) },
          { label: 'max', stroke: opts.color, width: 1, value: (_u, v) => si(v, unit, 4), spanGaps: false },
          { label: 'min', stroke: opts.color, width: 1, value: (_u, v) => si(v, unit, 4), spanGaps: false },
        ],
        bands: [{ series: [1, 2], fill }],
        plugins,
      },
      [[], [], []],
      el,
    );
    // A "PNG" button in the title: the chart as an image (plots/png.ts).
    const png = document.createElement('button');
    Object.assign(png, { type: 'button', className: 'small plot-png', textContent: 'PNG', title: 'Download this plot as a PNG image' });
    png.dataset.action = 'png';
    png.addEventListener('click', () => void downloadPlotPng(this.u, opts.title));
    this.u.root.querySelector('.u-title')?.append(png);
  }

  /** Shows `length` columns (NaN = gap) and sets the x window. */
  show(x: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>, length: number, x0: number, x1: number): void {
    const xs = new Array<number>(length);
    const los = new Array<number | null>(length);
    const his = new Array<number | null>(length);
    for (let i = 0; i < length; i++) {
      xs[i] = x[i];
      los[i] = Number.isNaN(lo[i]) ? null : lo[i];
      his[i] = Number.isNaN(hi[i]) ? null : hi[i];
    }
    this.points = length;
    this.u.batch(() => {
      this.u.setData([xs, his, los], false);
      this.u.setScale('x', { min: x0, max: x1 });
    });
  }

  /** Re-applies the x window without new data (e.g. a pan before the envelope arrives). */
  setWindow(x0: number, x1: number): void {
    this.u.setScale('x', { min: x0, max: x1 });
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
  }
}

const EVENT_COLORS = { spike: '#c53030', marker: '#2f855a', fault: '#9b2c2c' } as const;

function eventsPlugin(plot: TracePlot): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        if (plot.events.length === 0) {
          plot.spikeMode = 'none';
          plot.el.dataset.spikeMode = 'none';
          return;
        }
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        const x0 = u.scales.x.min ?? 0;
        const x1 = u.scales.x.max ?? 0;
        const dpr = window.devicePixelRatio || 1;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        // Spikes counted per 2-px column. Zoomed in (no column holds two) they are exact ticks; zoomed out
        // a density strip: each column shaded by its count relative to the fullest, so none is lost.
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
        if (maxCount <= 1) {
          ctx.beginPath();
          for (const ev of plot.events) {
            if (ev.kind !== 'spike' || ev.t < x0 || ev.t > x1) continue;
            const x = Math.round(u.valToPos(ev.t, 'x', true));
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + 8 * dpr);
          }
          ctx.stroke();
        } else {
          for (let c = 0; c < cols.length; c++) {
            if (cols[c] === 0) continue;
            ctx.globalAlpha = 0.2 + (0.8 * cols[c]) / maxCount;
            ctx.fillRect(left + c * colPx, top, colPx, 8 * dpr);
          }
          ctx.globalAlpha = 1;
        }
        plot.spikeMode = maxCount > 1 ? 'density' : maxCount === 1 ? 'ticks' : 'none';
        plot.el.dataset.spikeMode = plot.spikeMode;
        // Markers and faults: dashed lines across the plot.
        ctx.lineWidth = 1 * dpr;
        ctx.setLineDash([4 * dpr, 3 * dpr]);
        for (const kind of ['marker', 'fault'] as const) {
          ctx.strokeStyle = EVENT_COLORS[kind];
          ctx.beginPath();
          for (const ev of plot.events) {
            if (ev.kind !== kind || ev.t < x0 || ev.t > x1) continue;
            const x = Math.round(u.valToPos(ev.t, 'x', true));
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
          }
          ctx.stroke();
        }
        ctx.setLineDash([]);
        ctx.restore();
      },
    },
  };
}

/**
 * Stored-view interactions: drag to select a window, wheel to zoom around the cursor, shift+wheel or a
 * horizontal wheel to pan, double-click for the whole run.
 */
function zoomPlugin(ix: Interactions): uPlot.Plugin {
  return {
    hooks: {
      setSelect: (u) => {
        const { left, width } = u.select;
        if (width < 3) return;
        const a = u.posToVal(left, 'x');
        const b = u.posToVal(left + width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        ix.zoom(a, b);
      },
      ready: (u) => {
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
              ix.zoom(x0 + d * span, x1 + d * span);
              return;
            }
            const rect = u.over.getBoundingClientRect();
            const at = u.posToVal(e.clientX - rect.left, 'x');
            const f = e.deltaY < 0 ? 1 / 1.5 : 1.5;
            ix.zoom(at - (at - x0) * f, at + (x1 - at) * f);
          },
          { passive: false },
        );
        u.over.addEventListener('dblclick', () => ix.reset());
      },
    },
  };
}
