/**
 * Plots and tables of one analysis result, as `POST /api/runs/:id/analyses/:name` returns it
 * (snake_case JSON, docs/analysis.md): spike raster and ISI histogram on log bins (spikes), PSD log-log
 * with its dominant peaks marked (psd), size and duration CCDFs with the fitted power law (avalanches);
 * any other result as a table. Every plot is a uPlot chart with a title (main.ts gives each a PNG button)
 * and a CSV button for the data it draws.
 */
import uPlot from 'uplot';
import { h } from '../dom.ts';
import { si } from '../format.ts';

type Json = Record<string, unknown>;
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const arr = (x: unknown): number[] => (Array.isArray(x) ? x.map((v) => (typeof v === 'number' ? v : NaN)) : []);
const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1'];
/** Tick labels of a log axis: decades only (uPlot passes null for ticks it leaves unlabelled). */
const decades = (fmt: (v: number) => string) => (_u: uPlot, ticks: (number | null)[]) =>
  ticks.map((v) => (v != null && v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? fmt(v) : ''));

/** Rendered result: its element and a destroy() for the charts in it. */
export interface ResultView {
  el: HTMLElement;
  destroy(): void;
}

/** Every `warnings` string anywhere in the result (top level, per channel, per fit). */
export function collectWarnings(result: unknown, out: string[] = []): string[] {
  if (Array.isArray(result)) for (const r of result) collectWarnings(r, out);
  else if (result && typeof result === 'object') {
    for (const [k, v] of Object.entries(result)) {
      if (k === 'warnings' && Array.isArray(v)) {
        for (const w of v) if (typeof w === 'string' && !out.includes(w)) out.push(w);
      } else if (typeof v === 'object') collectWarnings(v, out);
    }
  }
  return out;
}

export function renderResult(method: string, result: unknown, width: number): ResultView {
  const charts: uPlot[] = [];
  const el = h('div', { class: 'analysis-plots' });
  const r = (result ?? {}) as Json;
  const chart = (title: string, opts: Omit<uPlot.Options, 'width' | 'height' | 'title'>, data: uPlot.AlignedData, csv: { header: string[]; rows: number[][] }) => {
    const box = h('figure', { class: 'analysis-plot', 'data-plot': title });
    el.append(box);
    charts.push(new uPlot({ ...opts, title, width: Math.max(320, Math.floor(width / 2) - 12), height: 260 }, data, box));
    box.append(csvButton(title, csv.header, csv.rows));
  };

  const channels = Array.isArray(r.channels) ? (r.channels as Json[]).filter((c) => c && typeof c === 'object' && !Array.isArray(c)) : [];
  if (method === 'spikes' && channels.length) spikePlots(channels, chart, el);
  else if (method === 'psd' && channels.length) psdPlots(channels, chart);
  else if (method === 'avalanches') avalanchePlots(r, chart, el);
  el.append(resultTable(r));
  return { el, destroy: () => charts.forEach((c) => c.destroy()) };
}

type Chart = (title: string, opts: Omit<uPlot.Options, 'width' | 'height' | 'title'>, data: uPlot.AlignedData, csv: { header: string[]; rows: number[][] }) => void;

function spikePlots(channels: Json[], chart: Chart, el: HTMLElement): void {
  // Raster: one row per channel. uPlot needs one x array, so the rows share the merged spike times.
  const pts = channels.flatMap((c, i) => arr(c.times).map((t) => [t, i] as const)).sort((a, b) => a[0] - b[0]);
  if (pts.length === 0) {
    el.append(h('p', { class: 'notice', 'data-empty': 'spikes' }, 'No spikes detected with these parameters: try a lower threshold multiplier or an absolute threshold.'));
  } else {
    const x = pts.map((p) => p[0]);
    const ys = channels.map((_, i) => pts.map((p) => (p[1] === i ? channels.length - i : null)));
    chart(
      'Spike raster',
      {
        scales: { x: { time: false }, y: { range: [0.5, channels.length + 0.5] } },
        axes: [{ label: 'time (s)' }, { size: 80, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(channels[channels.length - t]?.channel ?? '') : '')), splits: () => channels.map((_, i) => i + 1) }],
        series: [{ label: 't' }, ...channels.map((c, i) => ({ label: String(c.channel), stroke: COLORS[i % COLORS.length], width: 0, points: { show: true, size: 7, width: 1.5, fill: COLORS[i % COLORS.length] } }))],
        cursor: { drag: { x: true, y: false } },
      },
      [x, ...ys],
      { header: ['channel', 'time_s'], rows: pts.map((p) => [p[1], p[0]]) },
    );
  }
  channels.forEach((c, i) => {
    const hist = ((c.stats as Json | undefined)?.isi_hist ?? {}) as Json;
    const edges = arr(hist.edges);
    const counts = arr(hist.counts);
    if (edges.length < 2 || counts.length === 0) return;
    // Log-spaced edges from the server; the last bin is drawn up to the last edge.
    const ys = [...counts, 0].slice(0, edges.length);
    chart(
      `ISI histogram · ${c.channel} (log bins)`,
      {
        scales: { x: { time: false, distr: 3 }, y: { range: (_u, _lo, hi) => [0, hi * 1.05 || 1] } },
        axes: [{ label: 'inter-spike interval (s)', values: decades((v) => si(v, 's', 2)) }, { label: 'count' }],
        series: [{ label: 'ISI' }, { label: 'count', stroke: COLORS[i % COLORS.length], fill: COLORS[i % COLORS.length] + '33', paths: uPlot.paths.stepped!({ align: 1 }) }],
      },
      [edges, ys],
      { header: ['bin_low_s', 'bin_high_s', 'count'], rows: counts.map((n, k) => [edges[k], edges[k + 1] ?? NaN, n]) },
    );
  });
}

function psdPlots(channels: Json[], chart: Chart): void {
  channels.forEach((c, i) => {
    const f = arr(c.freqs);
    const p = arr(c.psd);
    const keep = f.map((_, k) => k).filter((k) => f[k] > 0 && p[k] > 0);
    if (keep.length < 2) return;
    const x = keep.map((k) => f[k]);
    const y = keep.map((k) => p[k]);
    // Peaks: the dominant frequencies marked at their bins.
    const dominant = Array.isArray(c.dominant) ? (c.dominant as Json[]).map((d) => num(d.frequency)).filter((v): v is number => v !== null) : [];
    const peaks: (number | null)[] = x.map(() => null);
    for (const fd of dominant) {
      let best = 0;
      for (let k = 1; k < x.length; k++) if (Math.abs(x[k] - fd) < Math.abs(x[best] - fd)) best = k;
      peaks[best] = y[best];
    }
    const osc = (c.oscillation ?? {}) as Json;
    const title = `PSD · ${c.channel} (${c.unit ?? ''})${osc.oscillating ? ` · oscillation at ${si(num(osc.frequency), 'Hz')}` : ''}`;
    chart(
      title,
      {
        scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
        axes: [{ label: 'frequency (Hz)', values: decades((v) => si(v, 'Hz', 2)) }, { label: String(c.unit ?? 'power/Hz'), size: 70, values: decades((v) => v.toExponential(0)) }],
        series: [
          { label: 'f' },
          { label: 'PSD', stroke: COLORS[i % COLORS.length], width: 1.5 },
          { label: 'peaks', stroke: '#c53030', width: 0, points: { show: true, size: 10, fill: '#c53030' } },
        ],
      },
      [x, y, peaks],
      { header: ['frequency_hz', 'psd'], rows: x.map((v, k) => [v, y[k]]) },
    );
  });
}

function avalanchePlots(r: Json, chart: Chart, el: HTMLElement): void {
  for (const [what, valuesKey, fitKey, unitLabel] of [
    ['Avalanche size', 'sizes', 'size', 'size (events)'],
    ['Avalanche duration', 'durations', 'duration', 'duration (bins)'],
  ] as const) {
    const values = arr(r[valuesKey]).filter((v) => v > 0).sort((a, b) => a - b);
    if (values.length === 0) continue;
    const n = values.length;
    // Empirical CCDF P(X ≥ x) at each distinct value.
    const xs: number[] = [];
    const ccdf: number[] = [];
    for (let k = 0; k < n; k++) if (k === 0 || values[k] !== values[k - 1]) (xs.push(values[k]), ccdf.push((n - k) / n));
    const fit = (r[fitKey] ?? null) as Json | null;
    const alpha = num(fit?.alpha);
    const xmin = num(fit?.xmin);
    const nTail = num(fit?.n_tail);
    // The fitted law over its tail, scaled to the tail's share of the data: (n_tail/n)·(x/xmin)^(1−α).
    const model = xs.map((x) => (alpha !== null && xmin !== null && nTail !== null && x >= xmin ? (nTail / n) * (x / xmin) ** (1 - alpha) : null));
    const label = alpha !== null ? `power law α = ${alpha.toFixed(2)}${num(fit?.alpha_se) !== null ? ` ± ${(fit!.alpha_se as number).toFixed(2)}` : ''}, xmin = ${xmin}` : 'no power-law fit';
    if (xs.length < 2) {
      el.append(h('p', { class: 'notice' }, `${what}: every avalanche has the same value (${xs[0]}); no distribution to plot.`));
      continue;
    }
    chart(
      `${what} CCDF · ${label}`,
      {
        scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
        axes: [{ label: unitLabel, values: decades(String) }, { label: 'P(X ≥ x)', values: decades(String) }],
        series: [
          { label: 'x' },
          { label: 'data', stroke: '#2b6cb0', width: 0, points: { show: true, size: 5, fill: '#2b6cb0' } },
          { label, stroke: '#c53030', width: 2, dash: [6, 4] },
        ],
      },
      [xs, ccdf, model],
      { header: ['x', 'ccdf', 'fit'], rows: xs.map((x, k) => [x, ccdf[k], model[k] ?? NaN]) },
    );
  }
}

/** Every scalar of the result as rows (nested keys dotted; arrays summarised by their length). */
function resultTable(r: Json): HTMLElement {
  const rows: [string, string][] = [];
  const walk = (o: unknown, key: string, depth: number) => {
    if (Array.isArray(o)) {
      if (o.length && o.every((x) => x && typeof x === 'object' && !Array.isArray(x)) && depth < 3 && o.length <= 20) o.forEach((x, i) => walk(x, `${key}[${(x as Json).channel ?? i}]`, depth + 1));
      else if (key.endsWith('warnings')) rows.push([key, o.join('; ') || '—']);
      else if (o.length <= 8 && o.every((x) => typeof x !== 'object' || x === null)) rows.push([key, o.map((x) => (typeof x === 'number' ? String(Number(x.toPrecision(6))) : String(x))).join(', ') || '—']);
      else rows.push([key, `${o.length} values`]);
    } else if (o && typeof o === 'object') {
      if (depth > 4) return;
      for (const [k, v] of Object.entries(o)) walk(v, key ? `${key}.${k}` : k, depth + 1);
    } else rows.push([key, o === null ? '—' : typeof o === 'number' ? String(Number(o.toPrecision(6))) : String(o)]);
  };
  walk(r, '', 0);
  return h(
    'details',
    { class: 'analysis-table', open: rows.length <= 40 },
    h('summary', {}, `Result values (${rows.length})`),
    h('table', { class: 'kv' }, h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))))),
    csvButton('result', ['key', 'value'], rows),
  );
}

function csvButton(title: string, header: string[], rows: (number | string)[][]): HTMLElement {
  const cell = (v: number | string) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return h('button', {
    class: 'small plot-csv', type: 'button', 'data-action': 'csv', title: 'Download the plotted data as CSV',
    onclick: () => {
      const text = [header.join(','), ...rows.map((row) => row.map(cell).join(','))].join('\n') + '\n';
      const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      const a = h('a', { href: url, download: `${title.normalize('NFKD').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'data'}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  }, 'CSV');
}
