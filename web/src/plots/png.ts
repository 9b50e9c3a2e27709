/**
 * PNG export of a uPlot chart. uPlot draws series, axes and grid on one canvas; the title and legend are
 * HTML around it. The export copies that canvas onto a white background (the chart canvas is transparent),
 * with the title drawn above it, at the canvas's own resolution (device pixels), and downloads it.
 */
import type uPlot from 'uplot';

/** The chart as a PNG: title band on top, then the plot canvas, on white. */
export function plotToPng(u: uPlot, title = ''): Promise<Blob> {
  const src = u.ctx.canvas;
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
  const url = URL.createObjectURL(await plotToPng(u, title));
  const a = document.createElement('a');
  a.href = url;
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
