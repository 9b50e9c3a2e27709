/**
 * An X–Y plot (one channel against another: an I–V loop, stimulus vs response) on a plain canvas: points
 * joined in time order, each segment coloured by its time or its stimulus cycle on a perceptual colour ramp
 * (viridis stops), a colour bar saying which, axes with SI-prefixed units, and a PNG button.
 *
 * By cycle, each cycle has one colour (the colour bar in bands, one per cycle) and is drawn wider than the
 * cycles after it, which are drawn over it: in a steady state, where every cycle retraces the one before,
 * the trace shows each cycle as a coloured band on either side of the next instead of only the last one
 * (clearly for a few cycles: the panel shows the last 3 by default).
 */
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { downloadCanvasPng } from './png.ts';

export interface XYData {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Colour value per point (time in s, or cycle number). */
  c: ArrayLike<number>;
  length: number;
  xLabel: string;
  xUnit: string;
  yLabel: string;
  yUnit: string;
  /** What the colour says: "time (s)" or "cycle" (c an integer per cycle). */
  cLabel: string;
}

/** Nested stroke widths of cycles: the last 1.5 px, each earlier one 3 px wider (a 1.5 px band each side), at most 12 px. */
export function cycleWidths(n: number): number[] {
  const step = n > 1 ? Math.min(3, 10.5 / (n - 1)) : 0;
  return Array.from({ length: n }, (_, k) => 1.5 + step * (n - 1 - k));
}

/** A cycle's colour: cycle k of n (k from 0) at its place on the ramp. */
export const cycleColour = (k: number, n: number): string => ramp(n > 1 ? k / (n - 1) : 1);

/** Viridis at five stops (van der Walt & Smith 2015, matplotlib's default colour map). */
const RAMP: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function ramp(f: number): string {
  const x = Math.min(1, Math.max(0, f)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const r = x - i;
  const c = RAMP[i].map((v, k) => Math.round(v + (RAMP[i + 1][k] - v) * r));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** About `n` round tick values covering [a, b]. */
export function niceTicks(a: number, b: number, n = 5): number[] {
  if (!(b > a)) return [a];
  const raw = (b - a) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export class XYPlot {
  readonly canvas: HTMLCanvasElement;
  readonly el: HTMLElement;
  private data: XYData | null = null;
  private readonly titleEl: HTMLElement;

  constructor(
    container: HTMLElement,
    private width: number,
    private height: number,
  ) {
    this.canvas = h('canvas', { class: 'xy-canvas' });
    this.titleEl = h('span', {}, '');
    const png = h('button', { type: 'button', class: 'small plot-png', 'data-action': 'png', title: 'Download this plot as a PNG image' }, 'PNG');
    png.addEventListener('click', () => void this.downloadPng());
    this.el = h('div', { class: 'plot xy-plot', 'data-plot': 'xy' }, h('div', { class: 'u-title' }, this.titleEl, png), this.canvas);
    container.append(this.el);
    this.setSize(width, height);
  }

  setSize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw();
  }

  show(d: XYData): void {
    this.data = d;
    this.titleEl.textContent = `${d.yLabel} vs ${d.xLabel}`;
    this.el.dataset.points = String(d.length);
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const d = this.data;
    if (!d || d.length === 0) return;
    const box = { left: 84, top: 10, right: this.width - 90, bottom: this.height - 40 };
    const ext = (a: ArrayLike<number>, padded = true) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < d.length; i++) {
        const v = a[i];
        if (Number.isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      if (!(lo <= hi)) return [0, 1];
      if (lo === hi) return [lo - (Math.abs(lo) * 0.1 || 1e-3), hi + (Math.abs(hi) * 0.1 || 1e-3)];
      const pad = padded ? (hi - lo) * 0.05 : 0;
      return [lo - pad, hi + pad];
    };
    const [x0, x1] = ext(d.x);
    const [y0, y1] = ext(d.y);
    // The colour bar spans exactly the data's first and last time (or cycle).
    const [c0, c1] = ext(d.c, false);
    const px = (v: number) => box.left + ((v - x0) / (x1 - x0)) * (box.right - box.left);
    const py = (v: number) => box.bottom - ((v - y0) / (y1 - y0)) * (box.bottom - box.top);
    // Axes and grid.
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeStyle = '#e2e8f0';
    ctx.fillStyle = '#4a5568';
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const v of niceTicks(x0, x1)) {
      const x = Math.round(px(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, box.top);
      ctx.lineTo(x, box.bottom);
      ctx.stroke();
      ctx.fillText(si(v, d.xUnit), x, box.bottom + 4);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of niceTicks(y0, y1)) {
      const y = Math.round(py(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(box.left, y);
      ctx.lineTo(box.right, y);
      ctx.stroke();
      ctx.fillText(si(v, d.yUnit), box.left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`${d.xLabel} [${d.xUnit}]`, (box.left + box.right) / 2, this.height - 2);
    ctx.save();
    ctx.translate(12, (box.top + box.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'top';
    ctx.fillText(`${d.yLabel} [${d.yUnit}]`, 0, 0);
    ctx.restore();
    const byCycle = d.cLabel === 'cycle';
    const cycles = byCycle ? Math.round(c1 - c0) + 1 : 0;
    this.el.dataset.cycles = String(cycles);
    const widths = cycleWidths(cycles);
    // The trajectory, segment by segment in its colour (a cycle's width: cycleWidths).
    ctx.lineWidth = 1.2;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (let i = 1; i < d.length; i++) {
      const xa = d.x[i - 1];
      const ya = d.y[i - 1];
      const xb = d.x[i];
      const yb = d.y[i];
      if (!Number.isFinite(xa) || !Number.isFinite(ya) || !Number.isFinite(xb) || !Number.isFinite(yb)) continue;
      if (byCycle) {
        const k = Math.round(d.c[i] - c0);
        ctx.strokeStyle = cycleColour(k, cycles);
        ctx.lineWidth = widths[k];
      } else ctx.strokeStyle = ramp((d.c[i] - c0) / (c1 - c0));
      ctx.beginPath();
      ctx.moveTo(px(xa), py(ya));
      ctx.lineTo(px(xb), py(yb));
      ctx.stroke();
    }
    // Colour bar: a ramp of time, or one band per cycle (numbered, when there is room).
    const bx = box.right + 24;
    const span = box.bottom - box.top;
    if (byCycle) {
      const band = span / cycles;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      for (let k = 0; k < cycles; k++) {
        const y = box.bottom - (k + 1) * band;
        ctx.fillStyle = cycleColour(k, cycles);
        ctx.fillRect(bx, y, 12, band);
        const every = Math.ceil(14 / band);
        if (k % every === 0 || k === cycles - 1) {
          ctx.fillStyle = '#4a5568';
          ctx.fillText(String(Math.round(c0 + k)), bx + 15, y + band / 2);
        }
      }
    } else {
      for (let y = box.top; y < box.bottom; y++) {
        ctx.fillStyle = ramp(1 - (y - box.top) / span);
        ctx.fillRect(bx, y, 12, 1);
      }
      ctx.fillStyle = '#4a5568';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(si(c1, 's'), bx + 15, box.top);
      ctx.textBaseline = 'bottom';
      ctx.fillText(si(c0, 's'), bx + 15, box.bottom);
    }
    ctx.fillStyle = '#4a5568';
    ctx.save();
    ctx.translate(bx + 6, box.bottom + 6);
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    ctx.fillText(d.cLabel, 0, 0);
    ctx.restore();
  }

  downloadPng(): Promise<void> {
    return downloadCanvasPng(this.canvas, this.titleEl.textContent || 'x-y');
  }

  destroy(): void {
    this.el.remove();
  }
}
