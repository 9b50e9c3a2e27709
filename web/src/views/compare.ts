/**
 * Compare page (#/compare/:id): a measured run and its twin (the twin run linked to it, fed the recorded
 * stimulus) on one time axis: response traces overlaid (min/max envelopes), spike rasters, ISI histograms
 * and a spike-train statistics table side by side; then the analysis library's results, computed by the
 * server and stored with the runs (`POST /api/runs/:id/analyses/compare|avalanches|regime`): the
 * spike-train distance metrics, the regime labels side by side, and the avalanche size and duration
 * distributions (CCDF, log-log) with their fitted power laws and exponents. Without a twin run yet, one
 * click pairs it.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, type AvalancheResult, type CompareResult, type PowerLawFitResult as PowerLawFit, type RegimeResult, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';
import type { Params, ViewInstance } from '../router.ts';

const PIXELS = 1000;

/** POST to the analysis API; resolves to the result, or to { error } with the server's message. */
async function analysis<T>(runId: number, name: string, params: Record<string, unknown>): Promise<{ result?: T; error?: string }> {
  try {
    return { result: (await api.runAnalysis(runId, name, params)).result as T };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Empirical CCDF P(X ≥ x) at each distinct value. */
function ccdf(values: number[]): Map<number, number> {
  const xs = values.filter((v) => v > 0).sort((a, b) => a - b);
  const out = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i] !== xs[i - 1]) out.set(xs[i], (xs.length - i) / xs.length);
  return out;
}
const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(+x.toPrecision(digits)));

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
    await api.pairRun(id, circuit);
    await load();
  };

  const load = async () => {
    const measured = await api.getRun(id);
    const runs = await api.listRuns({ limit: 1000 });
    const twinSummary = runs.find((r) => r.linkedRunId === id && r.source === 'twin');
    if (!twinSummary) {
      const circuits = await api.twinCircuits();
      const select = h('select', { id: 'compare-circuit' }, ...circuits.map((c) => h('option', { value: c.name }, c.name)));
      // default: the plastic synapse for an stdp run (the LIF twins have no plasticity), else the circuit
      // the run's source names as its own (the virtual DAQ board's pins, the simulated bench), else the LIF
      const own = (measured.bench as { circuit?: unknown } | null)?.circuit;
      const preferred = measured.protocol?.kind === 'stdp' ? 'stdp-synapse' : typeof own === 'string' && circuits.some((c) => c.name === own) ? own : 'lif';
      if (circuits.some((c) => c.name === preferred)) select.value = preferred;
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

    const analysesEl = h('section', { id: 'compare-analyses' });
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
      analysesEl,
    );
    void loadAnalyses(measured, twin, mSpikes.length > 0, analysesEl).catch((e: unknown) =>
      analysesEl.replaceChildren(h('p', { class: 'notice error-box' }, e instanceof Error ? e.message : String(e))),
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

  /** The analysis library's view of both runs: distances, regimes, avalanche distributions with power-law fits. */
  const loadAnalyses = async (measured: RunDetail, twin: RunDetail, useEvents: boolean, section: HTMLElement) => {
    const p = useEvents ? { events: true } : {};
    section.replaceChildren(h('p', { class: 'notice' }, 'Computing the distance metrics, regimes and avalanche statistics…'));
    const [cmp, mAv, tAv, mReg, tReg] = await Promise.all([
      analysis<CompareResult>(measured.id, 'compare', { ...p, with: twin.id }),
      analysis<AvalancheResult>(measured.id, 'avalanches', p),
      analysis<AvalancheResult>(twin.id, 'avalanches', p),
      analysis<RegimeResult>(measured.id, 'regime', p),
      analysis<RegimeResult>(twin.id, 'regime', p),
    ]);
    const row = (label: string, ...cells: (string | Node)[]) => h('tr', {}, h('td', {}, label), ...cells.map((c) => h('td', {}, c)));
    const head = (...t: string[]) => h('thead', {}, h('tr', {}, ...t.map((x) => h('th', {}, x))));
    const c = cmp.result;
    const distances = c
      ? h(
          'table',
          { class: 'runs compare-distances' },
          head('metric', 'value', 'meaning'),
          h(
            'tbody',
            {},
            row('ISI-distance', fmt(c.isi_distance), '0 = same firing-rate profile'),
            row('SPIKE-distance', fmt(c.spike_distance), '0 = identical spike timing'),
            row('SPIKE-synchronization', fmt(c.spike_sync), '1 = every spike coincident'),
            row('van Rossum (τ = 10 ms)', fmt(c.van_rossum), '0 = identical'),
            row('Victor-Purpura (q = 100 /s)', fmt(c.victor_purpura), 'edit cost'),
            row(`coincidence Γ (Δ = ${fmt((c.coincidence?.window_s ?? NaN) * 1e3, 3)} ms)`, fmt(c.coincidence_factor), c.coincidence?.reason ?? '1 = all coincident, 0 = chance'),
            row('waveform NRMSE', fmt(c.waveform?.nrmse), 'RMS difference / measured range'),
            row('waveform correlation r', fmt(c.waveform?.correlation), ''),
            row('PSD distance, dB', fmt(c.psd_distance_db), 'RMS of 10·log10 ratio'),
          ),
        )
      : h('p', { class: 'notice error-box', 'data-error': 'compare' }, `distances: ${cmp.error}`);
    const regimeCell = (r: { result?: RegimeResult; error?: string }) =>
      r.result ? h('span', { class: `regime regime-${r.result.regime}`, title: r.result.reason }, r.result.regime) : h('span', { class: 'regime' }, `– (${r.error})`);
    const regimes = h(
      'table',
      { class: 'runs compare-regimes' },
      head('', 'measured', 'twin'),
      h(
        'tbody',
        {},
        row('regime', regimeCell(mReg), regimeCell(tReg)),
        row('decided by', mReg.result?.reason ?? '–', tReg.result?.reason ?? '–'),
        row('burst fraction', fmt(mReg.result?.features.burst_fraction), fmt(tReg.result?.features.burst_fraction)),
      ),
    );
    const exp = (f: PowerLawFit | null | undefined) => (f ? `${fmt(f.alpha)} ± ${fmt(f.alpha_se, 2)} (x ≥ ${f.xmin}, ${f.n_tail} of ${f.n})` : '–');
    const expDiff = (d: NonNullable<CompareResult['avalanche_exponents']>['size'] | undefined) => (d ? `${fmt(d.difference, 3)} [${fmt(d.ci[0], 3)}, ${fmt(d.ci[1], 3)}]` : '–');
    const av = (r: { result?: AvalancheResult; error?: string }, f: (a: AvalancheResult) => string) => (r.result ? f(r.result) : `– (${r.error})`);
    const avalanches = h(
      'table',
      { class: 'runs compare-avalanches' },
      head('', 'measured', 'twin'),
      h(
        'tbody',
        {},
        row('avalanches', av(mAv, (a) => String(a.count)), av(tAv, (a) => String(a.count))),
        row('bin width, s', av(mAv, (a) => fmt(a.bin_width)), av(tAv, (a) => fmt(a.bin_width))),
        row('branching ratio σ', av(mAv, (a) => fmt(a.branching_ratio)), av(tAv, (a) => fmt(a.branching_ratio))),
        row('size exponent τ', av(mAv, (a) => exp(a.size)), av(tAv, (a) => exp(a.size))),
        row('duration exponent α', av(mAv, (a) => exp(a.duration)), av(tAv, (a) => exp(a.duration))),
        row('crackling γ (predicted)', av(mAv, (a) => `${fmt(a.crackling?.gamma)} (${fmt(a.crackling?.predicted)})`), av(tAv, (a) => `${fmt(a.crackling?.gamma)} (${fmt(a.crackling?.predicted)})`)),
        row('exponent difference, measured − twin (95 % CI)', `size ${expDiff(c?.avalanche_exponents?.size)}`, `duration ${expDiff(c?.avalanche_exponents?.duration)}`),
      ),
    );
    const sizeEl = h('div', { class: 'compare-avalanche-sizes' });
    const durEl = h('div', { class: 'compare-avalanche-durations' });
    section.replaceChildren(
      h('h2', {}, 'Spike-train distances, measured vs twin'),
      distances,
      h('h2', {}, 'Dynamical regime'),
      regimes,
      h('h2', {}, 'Avalanches'),
      avalanches,
      ...(['measured', 'twin'] as const).flatMap((who, i) =>
        ([mAv, tAv][i].result?.warnings ?? []).map((w) => h('p', { class: 'notice warning', 'data-warning': `avalanches-${who}` }, `${who}: ${w}`)),
      ),
      h('div', { class: 'compare-avalanche-plots', style: 'display:flex;flex-wrap:wrap;gap:16px' }, sizeEl, durEl),
    );
    // CCDFs on log-log axes with the fitted discrete power laws: P(X ≥ x) ≈ (nTail/n)·(x/xmin)^(1−α) above xmin.
    const dist = (which: 'sizes' | 'durations', fitKey: 'size' | 'duration', el: HTMLElement, label: string) => {
      const m = mAv.result ? ccdf(mAv.result[which]) : new Map<number, number>();
      const t = tAv.result ? ccdf(tAv.result[which]) : new Map<number, number>();
      const xs = [...new Set([...m.keys(), ...t.keys()])].sort((a, b) => a - b);
      if (xs.length < 2) {
        el.append(h('p', { class: 'notice' }, `No ${which} distribution (too few avalanches).`));
        return;
      }
      const fitLine = (r: AvalancheResult | undefined) => {
        const f = r?.[fitKey];
        const top = r ? Math.max(...r[which]) : 0;
        return xs.map((x) => (f && x >= f.xmin && x <= top ? (f.n_tail / f.n) * (x / f.xmin) ** (1 - f.alpha) : null));
      };
      plots.push(
        new uPlot(
          {
            width: Math.min(540, Math.floor(width() / 2) - 10),
            height: 260,
            title: `Avalanche ${which}: CCDF and power-law fit`,
            scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
            axes: [{ label }, { label: 'P(X ≥ x)', values: (_u, v) => v.map((x) => fmt(x, 2)) }],
            series: [
              { label },
              { label: 'measured', stroke: '#2b6cb0', width: 0, points: { show: true, size: 5, fill: '#2b6cb0' } },
              { label: 'twin', stroke: '#c05621', width: 0, points: { show: true, size: 5, fill: '#c05621' } },
              { label: `measured fit ${mAv.result?.[fitKey] ? `α=${fmt(mAv.result[fitKey]!.alpha)}` : ''}`, stroke: '#2b6cb0', dash: [6, 4], spanGaps: true },
              { label: `twin fit ${tAv.result?.[fitKey] ? `α=${fmt(tAv.result[fitKey]!.alpha)}` : ''}`, stroke: '#c05621', dash: [6, 4], spanGaps: true },
            ],
          },
          [xs, xs.map((x) => m.get(x) ?? null), xs.map((x) => t.get(x) ?? null), fitLine(mAv.result), fitLine(tAv.result)],
          el,
        ),
      );
    };
    dist('sizes', 'size', sizeEl, 'size, spikes');
    dist('durations', 'duration', durEl, 'duration, bins');
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
