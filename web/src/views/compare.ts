/**
 * Compare page (#/compare/:id): a measured run and its twin (the twin run linked to it, fed the recorded
 * stimulus) on one time axis: response traces overlaid (min/max envelopes), spike rasters, ISI histograms
 * and a spike-train statistics table side by side. Without a twin run yet, one click pairs it.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';
import type { Params, ViewInstance } from '../router.ts';

const PIXELS = 1000;
const fmt = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(+x.toPrecision(4)));

interface TrainStats {
  count: number;
  rateHz: number;
  meanIsiS: number | null;
  cvIsi: number | null;
  isi: number[];
}

function trainStats(times: number[], durationS: number): TrainStats {
  const isi = times.slice(1).map((t, i) => t - times[i]);
  const mean = isi.length ? isi.reduce((a, b) => a + b, 0) / isi.length : null;
  const sd = mean !== null ? Math.sqrt(isi.reduce((a, b) => a + (b - mean) ** 2, 0) / isi.length) : null;
  return { count: times.length, rateHz: durationS > 0 ? times.length / durationS : 0, meanIsiS: mean, cvIsi: mean && sd !== null ? sd / mean : null, isi };
}

async function spikeTimes(run: RunDetail): Promise<number[]> {
  const ev = await api.events(run.id, { kind: 'spike', limit: 100_000 });
  const rate = (ch: number | null) => run.channels[ch ?? 0]?.sampleRate ?? run.channels[0]?.sampleRate ?? 1;
  return ev.map((e) => e.index / rate(e.channel)).sort((a, b) => a - b);
}

async function responseTrace(run: RunDetail): Promise<{ t: number[]; max: (number | null)[]; min: (number | null)[]; unit: string; name: string } | null> {
  const ch = run.channels.find((c) => c.role === 'response');
  if (!ch || ch.sampleCount === 0) return null;
  const env = await api.envelope(run.id, ch.index, 0, ch.sampleCount, Math.min(PIXELS, ch.sampleCount));
  const t = env.min.map((_, i) => ((i + 0.5) * env.samplesPerPixel) / ch.sampleRate);
  return { t, max: env.max, min: env.min, unit: ch.unit, name: ch.name };
}

export function comparePage(root: HTMLElement, params: Params): ViewInstance {
  const plots: uPlot[] = [];
  const id = Number(params.id);
  const status = h('div', { class: 'notice', id: 'compare-status' }, 'Loading…');
  const body = h('section', { id: 'compare-body' });
  root.append(h('h1', {}, `Compare run ${params.id} with its twin`), status, body);
  const width = () => Math.min(1100, root.clientWidth || 1100);

  const pair = async (circuit: string) => {
    status.textContent = `Running the twin (${circuit}) on run ${id}'s recorded stimulus…`;
    const res = await fetch(`/api/runs/${id}/pair`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ circuit }) });
    const json = (await res.json()) as { twinRunId?: number; error?: { message: string } };
    if (!res.ok) throw new Error(json.error?.message ?? res.statusText);
    await load();
  };

  const load = async () => {
    const measured = await api.getRun(id);
    const runs = await api.listRuns({ limit: 1000 });
    const twinSummary = runs.find((r) => r.linkedRunId === id && r.source === 'twin');
    if (!twinSummary) {
      const circuits = ((await (await fetch('/api/twin/circuits')).json()) as { circuits: { name: string }[] }).circuits;
      const select = h('select', { id: 'compare-circuit' }, ...circuits.map((c) => h('option', { value: c.name }, c.name)));
      if (circuits.some((c) => c.name === 'lif')) select.value = 'lif';
      status.textContent = `Run ${id} has no twin run yet.`;
      body.replaceChildren(
        h(
          'p',
          {},
          'Twin circuit ',
          select,
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'primary',
              'data-action': 'pair',
              onclick: (() => void pair(select.value).catch((e: Error) => (status.textContent = e.message))) as EventListener,
            },
            'Run the twin on this run’s stimulus',
          ),
        ),
      );
      return;
    }
    const twin = await api.getRun(twinSummary.id);
    const [mTrace, tTrace, mSpikes, tSpikes] = await Promise.all([responseTrace(measured), responseTrace(twin), spikeTimes(measured), spikeTimes(twin)]);
    const dur = (r: RunDetail) => Math.max(0, ...r.channels.map((c) => c.sampleCount / c.sampleRate));
    const ms = trainStats(mSpikes, dur(measured));
    const ts = trainStats(tSpikes, dur(twin));
    status.textContent = `Measured run ${measured.id} (${measured.source}) and twin run ${twin.id}, fed the same recorded stimulus.`;

    const traceEl = h('div', { class: 'compare-traces' });
    const rasterEl = h('div', { class: 'compare-raster' });
    const isiEl = h('div', { class: 'compare-isi' });
    const row = (label: string, a: string, b: string) => h('tr', {}, h('td', {}, label), h('td', {}, a), h('td', {}, b));
    body.replaceChildren(
      h('h2', {}, 'Responses on one time axis'),
      traceEl,
      h('h2', {}, 'Spike rasters'),
      rasterEl,
      h('h2', {}, 'Inter-spike intervals'),
      isiEl,
      h('h2', {}, 'Spike trains'),
      h(
        'table',
        { class: 'runs compare-stats' },
        h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, h('a', { href: `#/runs/${measured.id}` }, `measured (run ${measured.id})`)), h('th', {}, h('a', { href: `#/runs/${twin.id}` }, `twin (run ${twin.id})`)))),
        h(
          'tbody',
          {},
          row('spikes', String(ms.count), String(ts.count)),
          row('rate, Hz', fmt(ms.rateHz), fmt(ts.rateHz)),
          row('mean ISI, s', fmt(ms.meanIsiS), fmt(ts.meanIsiS)),
          row('ISI CV', fmt(ms.cvIsi), fmt(ts.cvIsi)),
          row('rate difference', '', ms.rateHz > 0 ? `${fmt(((ts.rateHz - ms.rateHz) / ms.rateHz) * 100)} %` : '–'),
        ),
      ),
    );

    // Traces: both envelopes resampled onto the measured run's pixel times.
    if (mTrace || tTrace) {
      const base = (mTrace ?? tTrace)!;
      const at = (tr: typeof mTrace, which: 'max' | 'min') =>
        base.t.map((t) => {
          if (!tr) return null;
          const i = Math.min(tr.t.length - 1, Math.max(0, Math.round((t / (tr.t[tr.t.length - 1] || 1)) * (tr.t.length - 1))));
          return tr[which][i];
        });
      plots.push(
        new uPlot(
          {
            width: width(),
            height: 240,
            scales: { x: { time: false } },
            axes: [{ label: 't, s' }, { label: base.unit }],
            series: [
              { label: 't' },
              { label: `measured ${mTrace?.name ?? ''} max`, stroke: '#2b6cb0' },
              { label: 'measured min', stroke: '#90cdf4' },
              { label: `twin ${tTrace?.name ?? ''} max`, stroke: '#c05621' },
              { label: 'twin min', stroke: '#fbd38d' },
            ],
          },
          [base.t, at(mTrace, 'max'), at(mTrace, 'min'), at(tTrace, 'max'), at(tTrace, 'min')],
          traceEl,
        ),
      );
    }
    // Raster: one row per run.
    const times = [...mSpikes.map((t) => [t, 1]), ...tSpikes.map((t) => [t, 2])].sort((a, b) => a[0] - b[0]);
    plots.push(
      new uPlot(
        {
          width: width(),
          height: 140,
          scales: { x: { time: false }, y: { range: [0.5, 2.5] } },
          axes: [{ label: 't, s' }, { values: (_u, v) => v.map((x) => (x === 1 ? 'measured' : x === 2 ? 'twin' : '')) }],
          series: [
            { label: 't' },
            { label: 'measured spikes', stroke: '#2b6cb0', width: 0, points: { show: true, size: 5 } },
            { label: 'twin spikes', stroke: '#c05621', width: 0, points: { show: true, size: 5 } },
          ],
        },
        [times.map((x) => x[0]), times.map((x) => (x[1] === 1 ? 1 : null)), times.map((x) => (x[1] === 2 ? 2 : null))],
        rasterEl,
      ),
    );
    // ISI histograms on shared bins.
    const all = [...ms.isi, ...ts.isi];
    if (all.length > 0) {
      const lo = Math.min(...all);
      const hi = Math.max(...all);
      const bins = 30;
      const w = hi > lo ? (hi - lo) / bins : 1;
      const hist = (xs: number[]) => {
        const c = new Array<number>(bins).fill(0);
        for (const x of xs) c[Math.min(bins - 1, Math.floor((x - lo) / w))]++;
        return c;
      };
      plots.push(
        new uPlot(
          {
            width: width(),
            height: 200,
            scales: { x: { time: false } },
            axes: [{ label: 'ISI, s', values: (_u, v) => v.map((x) => fmt(x)) }, { label: 'count' }],
            series: [{ label: 'ISI' }, { label: 'measured', stroke: '#2b6cb0', paths: uPlot.paths.stepped!({ align: 1 }) }, { label: 'twin', stroke: '#c05621', paths: uPlot.paths.stepped!({ align: 1 }) }],
          },
          [Array.from({ length: bins }, (_, i) => lo + i * w), hist(ms.isi), hist(ts.isi)],
          isiEl,
        ),
      );
    }
  };

  void load().catch((e: unknown) => {
    status.className = 'notice error-box';
    status.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
  });

  return {
    unmount() {
      for (const p of plots) p.destroy();
    },
  };
}
