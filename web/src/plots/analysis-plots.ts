/**
 * Plots and tables of one analysis result, as `POST /api/runs/:id/analyses/:name` returns it (snake_case
 * JSON, docs/analysis.md):
 *   spikes      spike raster (ticks, a density strip where ticks would merge), waveform snippets overlaid at
 *               their detection time with their mean (as Open Ephys's spike viewer; raw samples fetched
 *               for up to 40 spikes), ISI histogram on log bins, Gaussian-mixture components over the
 *               histograms of amplitude, width and log10 ISI (with `modes`)
 *   psd         log-log, its dominant peaks marked
 *   avalanches  size and duration CCDFs with the fitted power law (exponents τ and α)
 *   bursts      burst raster (each burst a bar on its channel's row) and burst table
 *   phase       phase histogram (0..1 cycles, mean phase marked) and phase against time (locking)
 *   regime      rate per ladder step coloured by regime, and the step table
 * and any result as a table of its values; the sweeps page draws its STDP curve with stdpPlot (Δw against
 * Δt with the two-exponential fit). Results are read by their types (web/src/api.ts typedResult, from the
 * result schemas in common/schemas/analysis-results.ts). Every plot is a uPlot chart with a title (main.ts gives each a
 * PNG button) and a CSV button for the data it draws.
 */
import uPlot from 'uplot';
import { api, typedResult, type AvalancheResult, type BurstsResult, type PhaseResult, type PsdResult, type RegimeResult, type RunDetail, type SpikesResult, type StdpFit } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';

type SpikeChannel = SpikesResult['channels'][number];
type Mixture = NonNullable<SpikeChannel['mixtures']>['amplitude'];
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
/** A result's array of quantities (null where undefined) as numbers, NaN for null. */
const orNaN = (x: readonly (number | null)[]): number[] => x.map((v) => v ?? NaN);
export const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b7791f', '#00838f', '#c53030', '#4a5568'];
export const REGIME_COLORS: Record<string, string> = {
  quiescent: '#a0aec0',
  oscillatory: '#2b6cb0',
  irregular: '#805ad5',
  bursting: '#c05621',
  saturated: '#822727',
};
/** Tick labels of a log axis: decades only (uPlot passes null for ticks it leaves unlabelled). */
const decades = (fmt: (v: number) => string) => (_u: uPlot, ticks: (number | null)[]) =>
  ticks.map((v) => (v != null && v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? fmt(v) : ''));
/** A number for a table cell: 4 significant digits, with its unit and SI prefix when it has one. */
export const val = (x: unknown, unit = ''): string => (num(x) === null ? '—' : unit ? si(x as number, unit, 4) : String(Number((x as number).toPrecision(4))));

/** Rendered result: its element and a destroy() for the charts in it. */
export interface ResultView {
  el: HTMLElement;
  /** Charts whose x is the run's time (s): rasters, phase against time; the page links them to its traces. */
  timeCharts: uPlot[];
  destroy(): void;
}

/** Every `warnings` string anywhere in the result (top level, per channel, per fit). */
export function collectWarnings(result: unknown, out: string[] = []): string[] {
  const list = jsonArray(result);
  if (list) for (const r of list) collectWarnings(r, out);
  else
    for (const [k, v] of jsonFields(result)) {
      const ws = k === 'warnings' ? jsonArray(v) : null;
      if (ws) {
        for (const w of ws) if (typeof w === 'string' && !out.includes(w)) out.push(w);
      } else if (typeof v === 'object') collectWarnings(v, out);
    }
  return out;
}

/** Any JSON value read generically (the warnings and the table of values, whatever the analysis): its items. */
const jsonArray = (x: unknown): unknown[] | null => (Array.isArray(x) ? (x as unknown[]) : null);
/** … its fields ([] for a non-object). */
const jsonFields = (x: unknown): [string, unknown][] => (x && typeof x === 'object' && !Array.isArray(x) ? Object.entries(x as Record<string, unknown>) : []);

type ChartOpts = Omit<uPlot.Options, 'width' | 'height' | 'title'>;
type Csv = { header: string[]; rows: (number | string)[][] };
/** `time`: x is the run's time in s (the chart is listed in `timeCharts`). */
type Chart = (title: string, opts: ChartOpts, data: uPlot.AlignedData, csv: Csv, time?: boolean) => uPlot;

/** Charts into `el`: one figure each with a title, the PNG button (png.ts) and a CSV button. */
export function chartMaker(el: HTMLElement, width: number, charts: uPlot[], height = 260, timeCharts: uPlot[] = []): Chart {
  return (title, opts, data, csv, time = false) => {
    const box = h('figure', { class: 'analysis-plot', 'data-plot': title, 'data-time': time ? '' : null });
    el.append(box);
    const u = new uPlot({ ...opts, title, width: Math.max(320, width), height }, data, box);
    charts.push(u);
    if (time) timeCharts.push(u);
    box.append(csvButton(title, csv.header, csv.rows));
    return u;
  };
}

export interface RenderContext {
  /** The analysed run: lets the spike view fetch waveform snippets of its raw samples. */
  run?: RunDetail;
}

export function renderResult(method: string, result: unknown, width: number, ctx: RenderContext = {}): ResultView {
  const charts: uPlot[] = [];
  const timeCharts: uPlot[] = [];
  const ac = new AbortController();
  const el = h('div', { class: 'analysis-plots' });
  const chart = chartMaker(el, Math.floor(width / 2) - 12, charts, 260, timeCharts);
  const t = typedResult(method, result);
  if (t && 'name' in t) {
    if (t.name === 'spikes' && t.result.channels.length) spikePlots(t.result.channels, chart, el, ctx, ac.signal);
    else if (t.name === 'psd' && t.result.channels.length) psdPlots(t.result.channels, chart);
    else if (t.name === 'avalanches') avalanchePlots(t.result, chart, el);
    else if (t.name === 'bursts' && t.result.channels.length) burstPlots(t.result.channels, chart, el);
    else if (t.name === 'phase') phasePlots(t.result, chart, el);
    // a run's regime (the regime of several runs is the sweeps page's)
    else if (t.name === 'regime' && !('runs' in t.result)) regimePlots(t.result, chart, el, ctx);
    else if (t.name === 'stdp') stdpPlot(t.result.pairs, t.result.fit, chart);
  }
  el.append(resultTable(result));
  return {
    el,
    timeCharts,
    destroy: () => {
      ac.abort();
      charts.forEach((c) => c.destroy());
    },
  };
}

/**
 * A raster: one row per train. Where ticks would merge (more than one spike per pixel column) the row is a
 * density strip instead (bar height ∝ spikes per column), so a 1 kHz train reads as a rate, not a solid bar;
 * zoom in (drag) and the ticks come back. `data-raster-mode` on the figure says which is drawn.
 */
export function rasterChart(chart: Chart, title: string, rows: { label: string; times: number[]; color?: string }[], extra: Partial<ChartOpts> = {}): uPlot | null {
  const all = rows.flatMap((r) => r.times);
  if (all.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of all) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
  if (hi <= lo) hi = lo + 1e-3;
  const sorted = rows.map((r) => Float64Array.from(r.times).sort());
  const n = rows.length;
  const draw = (u: uPlot) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const x0 = u.scales.x.min!;
    const x1 = u.scales.x.max!;
    const rowH = height / n;
    let mode = 'ticks';
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    sorted.forEach((times, i) => {
      const cols = new Uint32Array(Math.max(1, Math.ceil(width)));
      let peak = 0;
      for (const t of times) {
        if (t < x0 || t > x1) continue;
        const c = Math.min(cols.length - 1, Math.floor(((t - x0) / (x1 - x0)) * width));
        peak = Math.max(peak, ++cols[c]);
      }
      const y = top + i * rowH;
      ctx.fillStyle = ctx.strokeStyle = rows[i].color ?? COLORS[i % COLORS.length];
      if (peak > 1) {
        mode = 'density';
        for (let c = 0; c < cols.length; c++) if (cols[c]) {
          const bh = Math.max(1, (cols[c] / peak) * rowH * 0.8);
          ctx.fillRect(left + c, y + rowH * 0.9 - bh, 1, bh);
        }
      } else {
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.beginPath();
        for (let c = 0; c < cols.length; c++) if (cols[c]) {
          ctx.moveTo(left + c + 0.5, y + rowH * 0.15);
          ctx.lineTo(left + c + 0.5, y + rowH * 0.85);
        }
        ctx.stroke();
      }
    });
    ctx.restore();
    u.root.parentElement?.setAttribute('data-raster-mode', mode);
  };
  return chart(
    title,
    {
      ...extra,
      scales: { x: { time: false, range: (_u, a, b) => [a ?? lo, b ?? hi] }, y: { range: [0, n] } },
      axes: [
        { label: 'time (s)' },
        { size: 90, splits: () => rows.map((_, i) => n - i - 0.5), values: (_u, ticks) => ticks.map((t) => rows[Math.round(n - t - 0.5)]?.label ?? ''), grid: { show: false } },
      ],
      series: [{ label: 't' }, { label: 'spikes', show: false }],
      cursor: { drag: { x: true, y: false }, ...extra.cursor },
      legend: { show: false },
      hooks: { ...extra.hooks, draw: [...(extra.hooks?.draw ?? []), draw] },
    },
    [
      [lo, hi],
      [null, null],
    ],
    { header: ['channel', 'time_s'], rows: rows.flatMap((r) => r.times.map((t) => [r.label, t])) },
    true,
  );
}

function spikePlots(channels: SpikeChannel[], chart: Chart, el: HTMLElement, ctx: RenderContext, signal: AbortSignal): void {
  const total = channels.reduce((s, c) => s + c.times_s.length, 0);
  if (total === 0) {
    el.append(h('p', { class: 'notice', 'data-empty': 'spikes' }, 'No spikes detected with these parameters: try a lower threshold multiplier or an absolute threshold.'));
  } else {
    rasterChart(
      chart,
      'Spike raster',
      channels.map((c) => ({ label: c.channel, times: c.times_s })),
    );
  }
  channels.forEach((c, i) => {
    if (ctx.run && c.times_s.length) snippetPlot(c, ctx.run, chart, signal);
    const { edges_s: edges, counts } = c.stats.isi_hist;
    if (edges.length >= 2 && counts.length) {
      // Log-spaced edges from the server; the last bin is drawn up to the last edge.
      const ys = [...counts, 0].slice(0, edges.length);
      chart(
        `ISI histogram · ${c.channel} (log bins)`,
        {
          scales: { x: { time: false, distr: 3 }, y: { range: (_u, _lo, hi) => [0, hi * 1.05 || 1] } },
          axes: [{ label: 'inter-spike interval (s)', values: decades((v) => si(v, 's', 2)) }, { label: 'count' }],
          series: [{ label: 'ISI' }, { label: 'count', stroke: COLORS[i % COLORS.length], fill: COLORS[i % COLORS.length] + '33', paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } }],
        },
        [edges, ys],
        { header: ['bin_low_s', 'bin_high_s', 'count'], rows: counts.map((n, k) => [edges[k], edges[k + 1] ?? NaN, n]) },
      );
    }
    const mix = c.mixtures;
    if (mix) {
      const times = c.times_s;
      const logIsi = times.slice(1).map((t, k) => t - times[k]).filter((d) => d > 0).map(Math.log10);
      mixturePlot(`Amplitude modes · ${c.channel}`, `peak (${c.unit || 'unit'})`, orNaN(c.peaks), mix.amplitude, chart);
      mixturePlot(`Width modes · ${c.channel}`, 'width (s)', orNaN(c.widths_s), mix.width, chart);
      mixturePlot(`ISI modes · ${c.channel}`, 'log10 ISI (log10 s)', logIsi, mix.log10_isi, chart);
    }
  });
}

/**
 * Waveform snippets (Open Ephys spike viewer style): up to 40 spikes spread over the run, each window from
 * 1 ms before to 2 ms after its detection time (less on fast trains), overlaid, with their mean. The raw
 * samples come from `GET /api/runs/:id/channels/:ch/raw`.
 */
function snippetPlot(c: SpikeChannel, run: RunDetail, chart: Chart, signal: AbortSignal): void {
  const ch = run.channels.find((x) => x.name === c.channel);
  const times = c.times_s;
  if (!ch) return;
  const fs = ch.sampleRate;
  // 1 ms before to 2 ms after, shortened to a third of the median ISI before (and two thirds after) on fast
  // trains, so one window holds one spike.
  const isi = times.slice(1).map((t, k) => t - times[k]).sort((a, b) => a - b);
  const span = Math.min(1e-3, isi.length ? isi[Math.floor(isi.length / 2)] / 3 : 1e-3);
  const pre = Math.max(5, Math.round(span * fs));
  const post = Math.max(10, Math.round(2 * span * fs));
  const n = Math.min(40, times.length);
  const picks = Array.from({ length: n }, (_, k) => times[Math.floor((k * times.length) / n)]);
  void (async () => {
    const snippets: number[][] = [];
    for (const t of picks) {
      const at = Math.round(t * fs);
      const start = Math.max(0, at - pre);
      const end = Math.min(ch.sampleCount, at + post);
      if (end <= start) continue;
      const raw = await api.raw(run.id, ch.index, start, end, signal);
      const y = new Array<number>(pre + post).fill(NaN);
      for (const s of raw.segments) s.samples.forEach((v, k) => (y[s.start + k - (at - pre)] = v * raw.scale + raw.offset));
      snippets.push(y);
    }
    if (signal.aborted || snippets.length === 0) return;
    const x = Array.from({ length: pre + post }, (_, k) => ((k - pre) / fs) * 1e3);
    const mean = x.map((_, k) => {
      const v = snippets.map((s) => s[k]).filter(Number.isFinite);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    });
    chart(
      `Waveforms · ${c.channel} (${snippets.length} of ${times.length} spikes)`,
      {
        scales: { x: { time: false } },
        axes: [{ label: 'time from detection (ms)' }, { label: `${c.channel} (${ch.unit || 'unit'})`, size: 70 }],
        series: [{ label: 'ms' }, ...snippets.map((_, k) => ({ label: `spike ${k + 1}`, stroke: '#2b6cb055', width: 1, points: { show: false } })), { label: 'mean', stroke: '#c53030', width: 2.5, points: { show: false } }],
        legend: { show: false },
      },
      [x, ...snippets.map((s) => s.map((v) => (Number.isFinite(v) ? v : null))), mean],
      { header: ['time_s', ...snippets.map((_, k) => `spike_${k + 1}`), 'mean'], rows: x.map((t, k) => [t / 1e3, ...snippets.map((s) => s[k]), mean[k] ?? NaN]) },
    );
  })().catch(() => undefined);
}

/** A Gaussian mixture's components (weight·N(mean, sd)) as expected counts per bin, over the data's histogram. */
function mixturePlot(title: string, xLabel: string, data: number[], fit: Mixture, chart: Chart): void {
  const values = data.filter(Number.isFinite);
  const comps = fit.components;
  if (values.length < 2 || comps.length === 0) return;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi <= lo) (lo -= 0.5), (hi += 0.5);
  const bins = Math.min(60, Math.max(10, Math.round(Math.sqrt(values.length) * 2)));
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
  const grid = Array.from({ length: 200 }, (_, k) => lo + ((hi - lo) * k) / 199);
  const pdf = (x: number, m: number, s: number) => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
  // Histogram and curves on one x: the bin edges merged into the curve grid.
  const xs = [...new Set([...grid, ...counts.map((_, k) => lo + k * w), hi])].sort((a, b) => a - b);
  const histAt = (x: number) => (x >= hi ? 0 : counts[Math.min(bins - 1, Math.floor((x - lo) / w))]);
  const curveAt = (k: number, x: number) => values.length * w * (comps[k].weight ?? 0) * pdf(x, comps[k].mean ?? 0, Math.max(1e-300, comps[k].sd ?? 1));
  chart(
    `${title} · ${comps.length} component${comps.length === 1 ? '' : 's'} (BIC)`,
    {
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, { label: 'count per bin' }],
      series: [
        { label: 'x' },
        { label: 'data', stroke: '#718096', fill: '#71809633', paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
        ...comps.map((cp, k) => ({ label: `w ${val(cp.weight)} · μ ${val(cp.mean)} · σ ${val(cp.sd)}`, stroke: COLORS[(k + 1) % COLORS.length], width: 2 })),
      ],
    },
    [xs, xs.map(histAt), ...comps.map((_, k) => xs.map((x) => curveAt(k, x)))],
    { header: ['bin_low', 'bin_high', 'count', ...comps.map((_, k) => `component_${k + 1}_at_bin_centre`)], rows: counts.map((n, k) => [lo + k * w, lo + (k + 1) * w, n, ...comps.map((_, j) => curveAt(j, lo + (k + 0.5) * w))]) },
  );
}

function psdPlots(channels: PsdResult['channels'], chart: Chart): void {
  channels.forEach((c, i) => {
    const f = c.freqs_hz;
    const p = orNaN(c.psd);
    const keep = f.map((_, k) => k).filter((k) => f[k] > 0 && p[k] > 0);
    if (keep.length < 2) return;
    const x = keep.map((k) => f[k]);
    const y = keep.map((k) => p[k]);
    // Peaks: the dominant frequencies marked at their bins.
    const dominant = c.dominant.map((d) => d.frequency_hz).filter((v): v is number => v !== null);
    const peaks: (number | null)[] = x.map(() => null);
    for (const fd of dominant) {
      let best = 0;
      for (let k = 1; k < x.length; k++) if (Math.abs(x[k] - fd) < Math.abs(x[best] - fd)) best = k;
      peaks[best] = y[best];
    }
    const osc = c.oscillation;
    const title = `PSD · ${c.channel} (${c.unit})${osc.oscillating ? ` · oscillation at ${si(osc.frequency_hz, 'Hz')}` : ''}`;
    chart(
      title,
      {
        scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
        axes: [{ label: 'frequency (Hz)', values: decades((v) => si(v, 'Hz', 2)) }, { label: c.unit, size: 70, values: decades((v) => v.toExponential(0)) }],
        series: [
          { label: 'f' },
          { label: 'PSD', stroke: COLORS[i % COLORS.length], width: 1.5 },
          { label: `peaks ${dominant.map((v) => si(v, 'Hz')).join(', ')}`, stroke: '#c53030', width: 0, points: { show: true, size: 10, fill: '#c53030' } },
        ],
      },
      [x, y, peaks],
      { header: ['frequency_hz', 'psd', 'peak'], rows: x.map((v, k) => [v, y[k], peaks[k] ?? '']) },
    );
  });
}

function avalanchePlots(r: AvalancheResult, chart: Chart, el: HTMLElement): void {
  // size exponent τ, duration exponent α (Beggs and Plenz 2003; Friedman et al. 2012): one name each, as on Compare
  for (const [what, valuesKey, fitKey, unitLabel, symbol] of [
    ['Avalanche size', 'sizes', 'size', 'size (events)', 'τ'],
    ['Avalanche duration', 'durations', 'duration', 'duration (bins)', 'α'],
  ] as const) {
    const values = r[valuesKey].filter((v) => v > 0).sort((a, b) => a - b);
    if (values.length === 0) continue;
    const n = values.length;
    // Empirical CCDF P(X ≥ x) at each distinct value.
    const xs: number[] = [];
    const ccdf: number[] = [];
    for (let k = 0; k < n; k++) if (k === 0 || values[k] !== values[k - 1]) (xs.push(values[k]), ccdf.push((n - k) / n));
    const fit = r[fitKey];
    const alpha = fit?.alpha ?? null;
    const xmin = fit?.xmin ?? null;
    const nTail = fit?.n_tail ?? null;
    // The fitted law over its tail, scaled to the tail's share of the data: (n_tail/n)·(x/xmin)^(1−α).
    const model = xs.map((x) => (alpha !== null && xmin !== null && nTail !== null && x >= xmin ? (nTail / n) * (x / xmin) ** (1 - alpha) : null));
    const se = fit?.alpha_se ?? null;
    const label = alpha !== null ? `power law ${symbol} = ${alpha.toFixed(2)}${se !== null ? ` ± ${se.toFixed(2)}` : ''}, xmin = ${xmin}` : 'no power-law fit';
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

/** Bursts: a raster of burst spans (one bar per burst on its channel's row) and the table of bursts. */
function burstPlots(channels: BurstsResult['channels'], chart: Chart, el: HTMLElement): void {
  const rows = channels.map((c) => ({ label: c.channel, bursts: c.bursts.map((b) => ({ start: b.start_s, end: b.end_s, n: b.n_spikes })) }));
  const all = rows.flatMap((r) => r.bursts);
  if (all.length === 0) {
    el.append(h('p', { class: 'notice', 'data-empty': 'bursts' }, 'No bursts found with these parameters.'));
    return;
  }
  const lo = Math.min(...all.map((b) => b.start));
  const hi = Math.max(...all.map((b) => b.end));
  const n = rows.length;
  chart(
    `Burst raster · ${all.length} bursts`,
    {
      scales: { x: { time: false, range: (_u, a, b) => [a ?? lo, b ?? hi] }, y: { range: [0, n] } },
      axes: [{ label: 'time (s)' }, { size: 90, splits: () => rows.map((_, i) => n - i - 0.5), values: (_u, t) => t.map((v) => rows[Math.round(n - v - 0.5)]?.label ?? ''), grid: { show: false } }],
      series: [{ label: 't' }, { label: 'bursts', show: false }],
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [
          (u) => {
            const g = u.ctx;
            const { left, top, width, height } = u.bbox;
            const rowH = height / n;
            g.save();
            g.beginPath();
            g.rect(left, top, width, height);
            g.clip();
            rows.forEach((r, i) => {
              g.fillStyle = COLORS[i % COLORS.length];
              for (const b of r.bursts) {
                const x0 = u.valToPos(b.start, 'x', true);
                const x1 = u.valToPos(b.end, 'x', true);
                g.fillRect(x0, top + i * rowH + rowH * 0.2, Math.max(2, x1 - x0), rowH * 0.6);
              }
            });
            g.restore();
          },
        ],
      },
    },
    [
      [lo, hi],
      [null, null],
    ],
    { header: ['channel', 'start_s', 'end_s', 'n_spikes'], rows: rows.flatMap((r) => r.bursts.map((b) => [r.label, b.start, b.end, b.n])) },
    true,
  );
  const MAX_ROWS = 200;
  el.append(
    h(
      'details',
      { class: 'burst-table', open: true },
      h('summary', {}, `Bursts (${all.length}${all.length > MAX_ROWS ? `, first ${MAX_ROWS} shown; the CSV has all` : ''})`),
      h(
        'table',
        { class: 'runs' },
        h('thead', {}, h('tr', {}, ...['channel', 'start', 'end', 'duration', 'spikes', 'intra-burst rate'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          ...rows.flatMap((r) => r.bursts.map((b) => ({ r, b }))).slice(0, MAX_ROWS).map(({ r, b }) =>
            h('tr', {}, h('td', {}, r.label), h('td', {}, val(b.start, 's')), h('td', {}, val(b.end, 's')), h('td', {}, val(b.end - b.start, 's')), h('td', {}, String(b.n)), h('td', {}, b.end > b.start ? val((b.n - 1) / (b.end - b.start), 'Hz') : '—')),
          ),
        ),
      ),
      csvButton('bursts', ['channel', 'start_s', 'end_s', 'duration_s', 'n_spikes'], rows.flatMap((r) => r.bursts.map((b) => [r.label, b.start, b.end, b.end - b.start, b.n]))),
    ),
  );
}

/** Phase of B's spikes in A's cycle: histogram over [0, 1) with the mean phase marked, and phase against time. */
function phasePlots(r: PhaseResult, chart: Chart, el: HTMLElement): void {
  const phases = r.phases;
  const times = r.times_s;
  if (phases.length === 0) {
    el.append(h('p', { class: 'notice', 'data-empty': 'phase' }, 'No phases: unit B has no spike inside a cycle of unit A.'));
    return;
  }
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (const p of phases) if (Number.isFinite(p)) counts[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]++;
  const edges = Array.from({ length: bins + 1 }, (_, k) => k / bins);
  const mean = r.mean_phase;
  const peak = Math.max(...counts);
  const ref = r.reference.channel;
  const unit = r.unit.channel;
  const meanLine = (u: uPlot) => {
    if (mean === null) return;
    const x = u.valToPos(mean, 'x', true);
    u.ctx.save();
    u.ctx.strokeStyle = '#c53030';
    u.ctx.lineWidth = 2 * devicePixelRatio;
    u.ctx.beginPath();
    u.ctx.moveTo(x, u.bbox.top);
    u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
    u.ctx.stroke();
    u.ctx.restore();
  };
  chart(
    `Phase histogram · ${unit} in ${ref}'s cycle · mean ${val(mean)} cycles (red), R = ${val(r.vector_strength)}`,
    {
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, peak * 1.1 || 1] } },
      axes: [{ label: 'phase (cycles)' }, { label: 'spikes' }],
      series: [{ label: 'phase' }, { label: 'spikes', stroke: '#2b6cb0', fill: '#2b6cb033', paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } }],
      hooks: { draw: [meanLine] },
    },
    [edges, [...counts, 0]],
    { header: ['phase_low', 'phase_high', 'count'], rows: counts.map((n, k) => [edges[k], edges[k + 1], n]) },
  );
  const lock = r.locking_time_s;
  const order = times.map((_, k) => k).sort((a, b) => times[a] - times[b]);
  chart(
    `Phase against time${lock !== null ? ` · locked from ${si(lock, 's')}` : ' · never locked'}`,
    {
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [{ label: `time of ${unit} spike (s)` }, { label: 'phase (cycles)' }],
      series: [{ label: 't' }, { label: 'phase', stroke: '#2b6cb0', width: 0, points: { show: true, size: 5, fill: '#2b6cb0' } }],
    },
    [order.map((k) => times[k]), order.map((k) => phases[k])],
    { header: ['time_s', 'phase'], rows: order.map((k) => [times[k], phases[k]]) },
    true,
  );
}

/** Regime per ladder step: the step's spike rate against its level, each point in its regime's colour. */
function regimePlots(r: RegimeResult, chart: Chart, el: HTMLElement, ctx: RenderContext): void {
  const steps = r.steps ?? [];
  // The ladder's levels are in the protocol's quantity.
  const q = (ctx.run?.protocol as { quantity?: string } | undefined)?.quantity;
  const unit = q === 'current' ? 'A' : q === 'voltage' ? 'V' : '';
  el.append(
    h('p', { class: 'regime-summary' }, 'Whole run: ', h('strong', { class: `regime regime-${r.regime}` }, r.regime), r.reason ? ` — ${r.reason}` : ''),
  );
  if (steps.length === 0) return;
  const regimes = [...new Set(steps.map((s) => s.regime))];
  const xs = steps.map((_, k) => k + 1);
  chart(
    `Regime per ladder step · ${steps.length} steps`,
    {
      scales: { x: { time: false, range: [0.5, steps.length + 0.5] } },
      axes: [{ label: 'step (level)', splits: () => xs, values: (_u, t) => t.map((v) => (Number.isInteger(v) && steps[v - 1] ? `${v}: ${val(steps[v - 1].level, unit)}` : '')) }, { label: 'spike rate (Hz)' }],
      series: [
        { label: 'step' },
        ...regimes.map((g) => ({ label: g, stroke: REGIME_COLORS[g] ?? '#4a5568', width: 0, points: { show: true, size: 12, fill: REGIME_COLORS[g] ?? '#4a5568' } })),
      ],
    },
    [xs, ...regimes.map((g) => steps.map((s) => (s.regime === g ? (s.rate_hz ?? 0) : null)))],
    { header: ['step', `level_${unit || '1'}`, 'start_s', 'end_s', 'regime', 'rate_hz'], rows: steps.map((s, k) => [k + 1, s.level ?? NaN, s.start_s, s.end_s, s.regime, s.rate_hz ?? NaN]) },
  );
  el.append(
    h(
      'table',
      { class: 'runs regime-steps' },
      h('thead', {}, h('tr', {}, ...['step', 'level', 'window', 'regime', 'rate', 'decided by'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...steps.map((s, k) =>
          h(
            'tr',
            { 'data-step': k + 1 },
            h('td', {}, String(k + 1)),
            h('td', {}, val(s.level, unit)),
            h('td', {}, `${val(s.start_s, 's')} – ${val(s.end_s, 's')}`),
            h('td', { class: `regime regime-${s.regime}` }, s.regime),
            h('td', {}, val(s.rate_hz, 'Hz')),
            h('td', {}, s.reason),
          ),
        ),
      ),
    ),
  );
}

/**
 * STDP curve: Δw against Δt = t_post − t_pre with the two-exponential fit (Bi and Poo 1998; Song et al.
 * 2000): A+ exp(−Δt/τ+) for Δt > 0, −A− exp(Δt/τ−) for Δt < 0. `fit` holds Aplus, tau_plus_s, Aminus,
 * tau_minus_s (the stdp analysis, or /api/experiments/stdp's `fit`).
 */
export function stdpPlot(pairs: readonly { dt_s: number; dw: number }[], fit: StdpFit | null, chart: Chart): uPlot | null {
  const pts = pairs.filter((p) => Number.isFinite(p.dt_s) && Number.isFinite(p.dw)).sort((a, b) => a.dt_s - b.dt_s);
  if (pts.length === 0) return null;
  const Ap = fit?.Aplus ?? null;
  const Am = fit?.Aminus ?? null;
  const tp = fit?.tau_plus_s ?? null;
  const tm = fit?.tau_minus_s ?? null;
  const model = (dt: number) => (dt > 0 && Ap !== null && tp ? Ap * Math.exp(-dt / tp) : dt < 0 && Am !== null && tm ? -Am * Math.exp(dt / tm) : null);
  const lo = pts[0].dt_s;
  const hi = pts[pts.length - 1].dt_s;
  const grid = Array.from({ length: 201 }, (_, i) => lo + ((hi - lo) * i) / 200).filter((x) => x !== 0);
  const xs = [...new Set([...grid, ...pts.map((p) => p.dt_s)])].sort((a, b) => a - b);
  const measured = new Map(pts.map((p) => [p.dt_s, p.dw]));
  const label = `fit A+ = ${val(Ap)}, τ+ = ${tp !== null ? si(tp, 's') : '—'}; A− = ${val(Am)}, τ− = ${tm !== null ? si(tm, 's') : '—'}`;
  return chart(
    `STDP curve · ${pts.length} pairings`,
    {
      scales: { x: { time: false } },
      axes: [{ label: 'Δt = t_post − t_pre (ms)', values: (_u, v) => v.map((x) => String(Number((x * 1e3).toPrecision(3)))) }, { label: 'Δw (relative)' }],
      series: [
        { label: 'Δt' },
        { label: 'Δw', stroke: '#2b6cb0', width: 0, points: { show: true, size: 7, fill: '#2b6cb0' } },
        { label, stroke: '#c05621', width: 2, spanGaps: false },
      ],
    },
    [xs, xs.map((x) => measured.get(x) ?? null), xs.map((x) => model(x))],
    { header: ['dt_s', 'dw', 'fit'], rows: pts.map((p) => [p.dt_s, p.dw, model(p.dt_s) ?? NaN]) },
  );
}

/** Every scalar of the result as rows (nested keys dotted; arrays summarised by their length): any JSON, read generically. */
function resultTable(r: unknown): HTMLElement {
  const rows: [string, string][] = [];
  const walk = (o: unknown, key: string, depth: number) => {
    const list = jsonArray(o);
    if (list) {
      const records = list.every((x) => x && typeof x === 'object' && !Array.isArray(x));
      if (list.length && records && depth < 3 && list.length <= 20) list.forEach((x, i) => walk(x, `${key}[${String(jsonFields(x).find(([k]) => k === 'channel')?.[1] ?? i)}]`, depth + 1));
      else if (key.endsWith('warnings')) rows.push([key, list.join('; ') || '—']);
      else if (list.length <= 8 && list.every((x) => typeof x !== 'object' || x === null)) rows.push([key, list.map((x) => (typeof x === 'number' ? String(Number(x.toPrecision(6))) : String(x))).join(', ') || '—']);
      else rows.push([key, `${list.length} values`]);
    } else if (o && typeof o === 'object') {
      if (depth > 4) return;
      for (const [k, v] of jsonFields(o)) walk(v, key ? `${key}.${k}` : k, depth + 1);
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

export function csvButton(title: string, header: string[], rows: (number | string)[][]): HTMLElement {
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
