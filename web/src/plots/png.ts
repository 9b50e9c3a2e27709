/**
 * PNG export of uPlot charts. uPlot draws series, axes and grid on one canvas; the title and legend are
 * HTML around it. The export copies that canvas onto a white background (the chart canvas is transparent),
 * with the title drawn above it, at the canvas's own resolution (device pixels), and downloads it.
 *
 * `TracePlot` puts a PNG button in its title. `installPngButtons()` (run by main.ts) gives every other uPlot
 * chart on any page one too, in its top-right corner, now and whenever one is added.
 */
import type uPlot from 'uplot';

/** The chart as a PNG: title band on top, then the plot canvas, on white. */
export function plotToPng(u: uPlot, title = ''): Promise<Blob> {
  return canvasToPng(u.ctx.canvas, title);
}

/** A canvas as a PNG on white, with `title` (if any) in a band above it. */
export function canvasToPng(src: HTMLCanvasElement, title = ''): Promise<Blob> {
  const dpr = window.devicePixelRatio || 1;
  const band = title ? Math.round(24 * dpr) : 0;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + band;
  const ctx = out.getContext('2d');
  if (!ctx) return Promise.reject(new Error('no 2D canvas context for the PNG export'));
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  if (title) {
    ctx.fillStyle = '#222';
    ctx.font = `600 ${Math.round(13 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'center';
    ctx.fillText(title, out.width / 2, band / 2, out.width - 20 * dpr);
  }
  ctx.drawImage(src, 0, band);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
}

/** A file name from a plot title: `run 12 · v_mem (response)` → `run-12-v_mem-response.png`. */
export function pngFileName(title: string): string {
  const base = title
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${base || 'plot'}.png`;
}

/** Saves the chart as `<file>` through a temporary download link. */
export async function downloadPlotPng(u: uPlot, title: string, file = pngFileName(title)): Promise<void> {
  await downloadCanvasPng(u.ctx.canvas, title, file);
}

export async function downloadCanvasPng(canvas: HTMLCanvasElement, title: string, file = pngFileName(title)): Promise<void> {
  const url = URL.createObjectURL(await canvasToPng(canvas, title));
  const a = document.createElement('a');
  a.href = url;
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A name for an untitled chart: the nearest heading or legend before it on the page, else the page title. */
function chartName(root: Element): string {
  const own = root.querySelector('.u-title')?.firstChild?.textContent?.trim();
  if (own) return own;
  for (let el: Element | null = root; el && el !== document.body; el = el.parentElement) {
    const label = el.getAttribute('aria-label') ?? el.getAttribute('data-plot-title');
    if (label) return label;
    for (let sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) {
      if (/^(H[1-6]|LEGEND|FIGCAPTION)$/.test(sib.tagName) && sib.textContent?.trim()) return sib.textContent.trim();
    }
  }
  return document.title.replace(/ · spikeloop$/, '') || 'plot';
}

function addButton(root: HTMLElement): void {
  if (root.querySelector('.plot-png')) return;
  const wrap = root.querySelector<HTMLElement>('.u-wrap');
  const canvas = root.querySelector<HTMLCanvasElement>('canvas');
  if (!wrap || !canvas) return;
  const btn = document.createElement('button');
  Object.assign(btn, { type: 'button', className: 'small plot-png plot-png-corner', textContent: 'PNG', title: 'Download this plot as a PNG image' });
  btn.dataset.action = 'png';
  btn.addEventListener('click', () => {
    const name = chartName(root);
    void downloadCanvasPng(canvas, root.querySelector('.u-title') ? name : '', pngFileName(name));
  });
  wrap.append(btn);
}

let observer: MutationObserver | null = null;

/** Gives every uPlot chart in the document a PNG button (idempotent; charts added later get one too). */
export function installPngButtons(): void {
  if (observer || typeof document === 'undefined') return;
  const scan = () => document.querySelectorAll<HTMLElement>('.uplot').forEach(addButton);
  let queued = false;
  observer = new MutationObserver((records) => {
    if (queued) return;
    // Only element insertions can bring a chart (text updates of live stats are skipped cheaply).
    if (!records.some((r) => Array.from(r.addedNodes).some((n) => n.nodeType === Node.ELEMENT_NODE))) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      scan();
    });
  });
  observer.observe(document.body, { childList: true, subtree: true });
  scan();
}
