/**
 * Compare page (#/compare/:id): a measured run and its twin (the twin run linked to it, fed the recorded
 * stimulus) on one time axis: response traces overlaid (min/max envelopes, fetched again at each zoom so a
 * 40 ms window is drawn from its own samples), spike rasters (ticks, a density strip where they would merge),
 * the time charts linked on x (zoom one, the other follows; one cursor), ISI histograms on log bins and a
 * spike-train statistics table side by side; then the analysis library's results, stored with the runs
 * (`POST /api/runs/:id/analyses/compare|avalanches|regime`): the stored results are shown when they exist
 * (pairing stores them) and computed only when missing or on **Recompute**: the spike-train distance
 * metrics, the regime labels side by side, and the avalanche size and duration distributions (CCDF,
 * log-log) with their fitted power laws: size exponent τ, duration exponent α (Beggs and Plenz 2003;
 * Friedman et al. 2012), the same names in the table and the legends. Without a twin run yet, one click
 * pairs it.
 *
 * Several runs (`#/compare/:id?with=b,c,…`, the runs list's Compare with several ticked): run :id is compared
 * pairwise with each of the others, measured or twin. A table lists every pair (spikes, rate, its rate
 * difference from the first run) and **Show** picks the pair drawn below (`&show=c`; default the first).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, typedResult, type AnalysisName, type AnalysisResults, type AvalancheResult, type CompareResult, type PowerLawFitResult as PowerLawFit, type RegimeResult, type RunDetail, type StoredAnalysis } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime, si } from '../format.ts';
import { chartMaker, rasterChart } from '../plots/analysis-plots.ts';
import { Router, type Params, type ViewInstance } from '../router.ts';

const PIXELS = 1000;

type Outcome<T> = { result?: T; error?: string; stored?: StoredAnalysis };

/**
 * The stored result of `name` on the run with these parameters (every given parameter equal to the stored
 * one's), else computed now (`POST /api/runs/:id/analyses/:name`, which stores it); `recompute` always
 * computes. A stored `{ error }` (a pairing whose analysis failed) counts as that error.
 */
async function analysis<N extends AnalysisName>(runId: number, name: N, params: Record<string, unknown>, stored: StoredAnalysis[], recompute: boolean): Promise<Outcome<AnalysisResults[N]>> {
  const same = (a: StoredAnalysis) => a.runId === runId && a.name === name && Object.entries(params).every(([k, v]) => (a.params as Record<string, unknown> | null)?.[k] === v);
  const outcome = (result: unknown, hit?: StoredAnalysis): Outcome<AnalysisResults[N]> => {
    const t = typedResult(name, result);
    return 'error' in t ? { error: t.error, stored: hit } : { result: t.result, stored: hit };
  };
  const hit = recompute ? undefined : stored.find(same);
  if (hit) return outcome(hit.result, hit);
  // the server runs a bounded number of heavy analyses at once and answers BUSY beyond: retry later
  for (let attempt = 0; ; attempt++) {
    try {
      return outcome((await api.runAnalysis(runId, name, params, recompute)).result);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'BUSY' && attempt < 5) {
        await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
        continue;
      }
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** The regime of a run: one run's shape (several runs' comes only from POST /api/analysis/regime). */
const oneRun = ({ result, ...o }: Outcome<AnalysisResults['regime']>): Outcome<RegimeResult> =>
  result && 'runs' in result ? { ...o, error: 'a regime of several runs' } : { ...o, result };

/** Empirical CCDF P(X ≥ x) at each distinct value. */
function ccdf(values: number[]): Map<number, number> {
  const xs = values.filter((v) => v > 0).sort((a, b) => a - b);
  const out = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i] !== xs[i - 1]) out.set(xs[i], (xs.length - i) / xs.length);
  return out;
}
/** A number rounded to 3 significant digits, with its unit and SI prefix when it has one. */
const fmt = (x: number | null | undefined, unit = '', digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : unit ? si(x, unit, digits) : String(+x.toPrecision(digits)));

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

interface Trace {
  t: number[];
  max: (number | null)[];
  min: (number | null)[];
  unit: string;
  name: string;
}

/** The response channel's envelope over [t0, t1) s, at most PIXELS columns (fewer when there are fewer samples). */
async function responseTrace(run: RunDetail, t0: number, t1: number, signal?: AbortSignal): Promise<Trace | null> {
  const ch = run.channels.find((c) => c.role === 'response');
  if (!ch || ch.sampleCount === 0) return null;
  const start = Math.max(0, Math.floor(t0 * ch.sampleRate));
  const end = Math.min(ch.sampleCount, Math.max(start + 1, Math.ceil(t1 * ch.sampleRate)));
  const env = await api.envelope(run.id, ch.index, start, end, Math.min(PIXELS, end - start), signal);
  const t = env.min.map((_, i) => (start + (i + 0.5) * env.samplesPerPixel) / ch.sampleRate);
  return { t, max: env.max, min: env.min, unit: ch.unit, name: ch.name };
}

/** What the page calls the two runs of a pair: "measured" and "twin" for a run and its own twin, else by id. */
function pairNames(a: RunDetail, b: RunDetail): [string, string] {
  const own = b.source === 'twin' && b.linkedRunId === a.id;
  return [own || a.source !== 'twin' ? 'measured' : `run ${a.id}`, own ? 'twin' : `run ${b.id}`];
}

/** Signal time recorded (s): the longest channel. */
const recorded = (r: RunDetail) => Math.max(0, ...r.channels.map((c) => c.sampleCount / c.sampleRate));

/** Log-spaced bin edges from lo to hi (both > 0). */
function logEdges(lo: number, hi: number, bins: number): number[] {
  if (!(hi > lo)) return [lo / 1.5, lo * 1.5];
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return Array.from({ length: bins + 1 }, (_, i) => 10 ** (a + ((b - a) * i) / bins));
}

export function comparePage(root: HTMLElement, params: Params, query: URLSearchParams): ViewInstance {
  const plots: uPlot[] = [];
  const analysisPlots: uPlot[] = [];
  const id = Number(params.id);
  /** The runs compared pairwise with run `id` (none: its twin run). */
  const others = [...new Set((query.get('with') ?? '').split(',').map(Number))].filter((n) => Number.isInteger(n) && n > 0 && n !== id);
  const showId = others.includes(Number(query.get('show'))) ? Number(query.get('show')) : others[0];
  const status = h('div', { class: 'notice', id: 'compare-status' }, 'Loading…');
  const pairsEl = h('section', { id: 'compare-pairs' });
  const body = h('section', { id: 'compare-body' });
  root.append(h('h1', {}, others.length ? `Compare run ${params.id} pairwise with runs ${others.join(', ')}` : `Compare run ${params.id} with its twin`), status, pairsEl, body);
  const width = () => Math.min(1100, root.clientWidth || 1100);

  const pair = async (circuit: string) => {
    status.textContent = `Running the twin (${circuit}) on run ${id}'s recorded stimulus…`;
    await api.pairRun(id, circuit);
    await load();
  };

  /** Each run and its spike times asked once per load: the pairs table and the pair drawn below share them. */
  let runsAsked = new Map<number, Promise<RunDetail>>();
  let spikesAsked = new Map<number, Promise<number[]>>();
  const getRun = (n: number) => runsAsked.get(n) ?? runsAsked.set(n, api.getRun(n)).get(n)!;
  const spikesOf = (r: RunDetail) => spikesAsked.get(r.id) ?? spikesAsked.set(r.id, spikeTimes(r)).get(r.id)!;

  const load = async () => {
    runsAsked = new Map();
    spikesAsked = new Map();
    const measured = await getRun(id);
    const twinSummary = others.length ? { id: showId } : (await api.listRuns({ linkedTo: id, source: 'twin', limit: 1 }))[0];
    if (others.length) void listPairs(measured);
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
    const twin = await getRun(twinSummary.id);
    const [nameA, nameB] = pairNames(measured, twin);
    const whole = Math.max(recorded(measured), recorded(twin));
    const [mTrace, tTrace, mSpikes, tSpikes] = await Promise.all([responseTrace(measured, 0, whole), responseTrace(twin, 0, whole), spikesOf(measured), spikesOf(twin)]);
    const ms = trainStats(mSpikes, recorded(measured));
    const ts = trainStats(tSpikes, recorded(twin));
    status.textContent =
      nameB === 'twin' ? `Measured run ${measured.id} (${measured.source}) and twin run ${twin.id}, fed the same recorded stimulus.` : `Run ${measured.id} (${measured.source}) and run ${twin.id} (${twin.source}), compared on one time axis.`;

    const analysesEl = h('section', { id: 'compare-analyses' });
    const traceEl = h('div', { class: 'compare-traces' });
    const rasterEl = h('div', { class: 'compare-raster' });
    const isiEl = h('div', { class: 'compare-isi' });
    const wholeBtn = h('button', { type: 'button', class: 'small', 'data-action': 'whole-run', title: 'Show the whole run again' }, 'Whole run');
    const row = (label: string, a: string, b: string) => h('tr', {}, h('td', {}, label), h('td', {}, a), h('td', {}, b));
    body.replaceChildren(
      h('h2', {}, 'Responses on one time axis ', wholeBtn),
      h('p', { class: 'hint' }, 'Drag on a chart to zoom (the samples of the new window are fetched; the other time charts follow); Whole run to go back.'),
      traceEl,
      h('h2', {}, 'Spike rasters'),
      rasterEl,
      h('h2', {}, 'Inter-spike intervals'),
      isiEl,
      h('h2', {}, 'Spike trains'),
      h(
        'table',
        { class: 'runs compare-stats' },
        h('thead', {}, h('tr', {}, h('th', {}, ''), ...[measured, twin].map((r, i) => h('th', {}, h('a', { href: `#/runs/${r.id}` }, [nameA, nameB][i].startsWith('run ') ? [nameA, nameB][i] : `${[nameA, nameB][i]} (run ${r.id})`))))),
        h(
          'tbody',
          {},
          row('spikes', String(ms.count), String(ts.count)),
          row('rate', fmt(ms.rateHz, 'Hz'), fmt(ts.rateHz, 'Hz')),
          row('mean ISI', fmt(ms.meanIsiS, 's'), fmt(ts.meanIsiS, 's')),
          row('ISI CV', fmt(ms.cvIsi), fmt(ts.cvIsi)),
          row(`rate difference, ${nameB} − ${nameA}`, '', ms.rateHz > 0 ? `${fmt(((ts.rateHz - ms.rateHz) / ms.rateHz) * 100, '', 2)} %` : '–'),
        ),
      ),
      analysesEl,
    );
    void loadAnalyses(measured, twin, mSpikes.length > 0, analysesEl, false);

    // Time charts linked on x: a zoom on one sets the others' scale, and the traces are fetched again at the
    // new window (debounced), drawn without resetting the scale.
    const linked: uPlot[] = [];
    let syncing = false;
    let fetchTimer: ReturnType<typeof setTimeout> | undefined;
    let fetchAc: AbortController | undefined;
    let tracePlot: uPlot | undefined;
    const onScale = (u: uPlot, key: string) => {
      if (key !== 'x' || syncing) return;
      const { min, max } = u.scales.x;
      if (min === undefined || max === undefined) return;
      syncing = true;
      for (const o of linked) if (o !== u) o.setScale('x', { min, max });
      syncing = false;
      if (fetchTimer) clearTimeout(fetchTimer);
      fetchTimer = setTimeout(() => void refetch(min, max), 120);
    };
    const traceData = (m: Trace | null, t: Trace | null): uPlot.AlignedData => {
      const base = (m ?? t)!;
      // the twin's envelope resampled onto the measured run's pixel times (nearest column)
      const at = (tr: Trace | null, which: 'max' | 'min') =>
        base.t.map((x) => {
          if (!tr || tr.t.length === 0) return null;
          const step = tr.t.length > 1 ? tr.t[1] - tr.t[0] : 1;
          const i = Math.round((x - tr.t[0]) / step);
          return i >= 0 && i < tr.t.length ? tr[which][i] : null;
        });
      return [base.t, at(m, 'max'), at(m, 'min'), at(t, 'max'), at(t, 'min')];
    };
    const showWindow = (data: uPlot.AlignedData, t0: number, t1: number) => {
      traceEl.dataset.window = `${t0},${t1}`;
      traceEl.dataset.points = String((data[1] as (number | null)[]).filter((v) => v !== null).length);
    };
    const refetch = async (t0: number, t1: number) => {
      fetchAc?.abort();
      fetchAc = new AbortController();
      const signal = fetchAc.signal;
      try {
        const [m, t] = await Promise.all([responseTrace(measured, t0, t1, signal), responseTrace(twin, t0, t1, signal)]);
        if (signal.aborted || !tracePlot || (!m && !t)) return;
        const data = traceData(m, t);
        tracePlot.setData(data, false);
        showWindow(data, t0, t1);
      } catch (e) {
        if (!signal.aborted) status.textContent = `Could not fetch the window: ${e instanceof Error ? e.message : String(e)}`;
      }
    };
    const sync = { key: `compare-${id}` };
    if (mTrace || tTrace) {
      const unit = (mTrace ?? tTrace)!.unit;
      const data = traceData(mTrace, tTrace);
      tracePlot = new uPlot(
        {
          width: width(),
          height: 240,
          scales: { x: { time: false } },
          axes: [{ label: 'time (s)' }, { label: `${(mTrace ?? tTrace)!.name} (${unit})`, size: 70, values: (_u, v) => v.map((x) => fmt(x, unit)) }],
          series: [
            { label: 't (s)' },
            { label: `${nameA} ${mTrace?.name ?? ''} max`, stroke: '#2b6cb0', value: (_u, v) => fmt(v, unit, 4) },
            { label: `${nameA} min`, stroke: '#90cdf4', value: (_u, v) => fmt(v, unit, 4) },
            { label: `${nameB} ${tTrace?.name ?? ''} max`, stroke: '#c05621', value: (_u, v) => fmt(v, unit, 4) },
            { label: `${nameB} min`, stroke: '#fbd38d', value: (_u, v) => fmt(v, unit, 4) },
          ],
          cursor: { sync, drag: { x: true, y: false } },
          hooks: { setScale: [onScale] },
        },
        data,
        traceEl,
      );
      plots.push(tracePlot);
      linked.push(tracePlot);
      showWindow(data, 0, whole);
    }
    // Rasters: one row per run; ticks, or a density strip where they would merge (kHz trains).
    const raster = rasterChart(
      chartMaker(rasterEl, width(), plots, 150),
      'Spike rasters',
      [
        { label: nameA, times: mSpikes, color: '#2b6cb0' },
        { label: nameB, times: tSpikes, color: '#c05621' },
      ],
      { cursor: { sync }, hooks: { setScale: [onScale] } },
    );
    if (raster) {
      raster.setScale('x', { min: 0, max: whole });
      linked.push(raster);
    }
    wholeBtn.addEventListener('click', () => tracePlot?.setScale('x', { min: 0, max: whole }) ?? raster?.setScale('x', { min: 0, max: whole }));
    // ISI histograms on shared log-spaced bins (intervals span decades: bursts and pauses).
    const all = [...ms.isi, ...ts.isi].filter((x) => x > 0);
    if (all.length > 0) {
      const edges = logEdges(Math.min(...all), Math.max(...all), 40);
      const hist = (xs: number[]) => {
        const c = new Array<number>(edges.length).fill(0);
        const a = Math.log10(edges[0]);
        const w = (Math.log10(edges[edges.length - 1]) - a) / (edges.length - 1) || 1;
        for (const x of xs) if (x > 0) c[Math.min(edges.length - 2, Math.max(0, Math.floor((Math.log10(x) - a) / w)))]++;
        return c;
      };
      const decade = (v: number) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
      chartMaker(isiEl, width(), plots, 220)(
        'ISI histograms (log bins)',
        {
          scales: { x: { time: false, distr: 3 } },
          axes: [{ label: 'inter-spike interval (s)', values: (_u, v) => v.map((x) => (x != null && decade(x) ? fmt(x, 's', 2) : '')) }, { label: 'count' }],
          series: [
            { label: 'ISI (s)', value: (_u, v) => fmt(v, 's') },
            { label: nameA, stroke: '#2b6cb0', paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
            { label: nameB, stroke: '#c05621', paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
          ],
        },
        [edges, hist(ms.isi), hist(ts.isi)],
        { header: ['bin_low_s', 'bin_high_s', nameA, nameB], rows: edges.slice(0, -1).map((e, k) => [e, edges[k + 1], hist(ms.isi)[k], hist(ts.isi)[k]]) },
      );
    }
  };

  /** Every pair of run `id` with one of `others`: spikes, rate and rate difference, and Show for the pair drawn below. */
  const listPairs = async (first: RunDetail) => {
    const found = await Promise.all(others.map((o) => getRun(o).catch(() => null)));
    const runs = await Promise.all([first, ...found].map(async (r) => (r ? { run: r, stats: trainStats(await spikesOf(r), recorded(r)) } : null)));
    const [ref, ...rest] = runs;
    const cellRate = (x: { stats: TrainStats } | null) => (x ? fmt(x.stats.rateHz, 'Hz') : '–');
    pairsEl.replaceChildren(
      h('h2', {}, `Pairs: run ${id} with each`),
      h(
        'table',
        { class: 'runs compare-pairs' },
        h('thead', {}, h('tr', {}, ...['run', 'source', 'label', 'spikes', 'rate', `rate difference from run ${id}`, ''].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          h('tr', { 'data-pair': String(id), class: 'reference' }, h('td', {}, h('a', { href: `#/runs/${id}` }, `#${id}`)), h('td', {}, first.source), h('td', {}, first.label ?? ''), h('td', {}, String(ref?.stats.count ?? '–')), h('td', {}, cellRate(ref)), h('td', {}, 'first run'), h('td', {})),
          ...others.map((o, k) => {
            const x = rest[k];
            const diff = x && ref && ref.stats.rateHz > 0 ? `${fmt(((x.stats.rateHz - ref.stats.rateHz) / ref.stats.rateHz) * 100, '', 2)} %` : '–';
            const go = () => Router.go(`/compare/${id}?with=${others.join(',')}&show=${o}`);
            return h(
              'tr',
              { 'data-pair': String(o), class: o === showId ? 'selected' : null },
              h('td', {}, h('a', { href: `#/runs/${o}` }, `#${o}`)),
              h('td', {}, x?.run.source ?? 'not found'),
              h('td', {}, x?.run.label ?? ''),
              h('td', {}, x ? String(x.stats.count) : '–'),
              h('td', {}, cellRate(x)),
              h('td', {}, diff),
              h('td', {}, o === showId ? h('strong', {}, 'shown below') : h('button', { type: 'button', class: 'small', 'data-action': 'show-pair', disabled: !x, onclick: go }, 'Show')),
            );
          }),
        ),
      ),
    );
  };

  /** The analysis library's view of both runs: distances, regimes, avalanche distributions with power-law fits. */
  const loadAnalyses = async (measured: RunDetail, twin: RunDetail, useEvents: boolean, section: HTMLElement, recompute: boolean) => {
    const p = useEvents ? { events: true } : {};
    const [nameA, nameB] = pairNames(measured, twin);
    section.replaceChildren(h('p', { class: 'notice' }, recompute ? 'Computing the distance metrics, regimes and avalanche statistics again…' : 'Loading the distance metrics, regimes and avalanche statistics…'));
    const stored = recompute ? [] : (await Promise.all([api.analyses(measured.id), api.analyses(twin.id)])).flat();
    // one after another: each is a heavy request on the server's worker pool
    const cmp = await analysis(measured.id, 'compare', { ...p, with: twin.id }, stored, recompute);
    const mAv = await analysis(measured.id, 'avalanches', p, stored, recompute);
    const tAv = await analysis(twin.id, 'avalanches', p, stored, recompute);
    const mReg = oneRun(await analysis(measured.id, 'regime', p, stored, recompute));
    const tReg = oneRun(await analysis(twin.id, 'regime', p, stored, recompute));
    const reused = [cmp, mAv, tAv, mReg, tReg].filter((o) => o.stored);
    const newest = reused.map((o) => o.stored!.createdAt).sort().at(-1);
    const recomputeBtn = h('button', { type: 'button', class: 'small', 'data-action': 'recompute-analyses', title: 'Compute these analyses again and store the new results' }, 'Recompute');
    recomputeBtn.addEventListener('click', () => {
      recomputeBtn.disabled = true;
      for (const u of analysisPlots.splice(0)) u.destroy();
      void loadAnalyses(measured, twin, useEvents, section, true);
    });
    const source = h(
      'p',
      { class: 'hint', 'data-analyses-source': reused.length === 5 ? 'stored' : reused.length ? 'mixed' : 'computed' },
      reused.length === 5 ? `Stored results (newest ${dateTime(newest)}), not recomputed. ` : reused.length ? `${reused.length} of 5 results stored, the others computed now and stored. ` : 'Computed now and stored with the runs. ',
      recomputeBtn,
    );
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
            row('van Rossum (time constant 10 ms)', fmt(c.van_rossum), '0 = identical'),
            row('Victor-Purpura (q = 100 /s)', fmt(c.victor_purpura), 'edit cost'),
            row(`coincidence Γ (Δ = ${fmt(c.coincidence?.window_s, 's')})`, fmt(c.coincidence_factor), c.coincidence?.reason ?? '1 = all coincident, 0 = chance'),
            row('waveform NRMSE', fmt(c.waveform?.nrmse), 'RMS difference / measured range'),
            row('waveform correlation r', fmt(c.waveform?.correlation), ''),
            row('PSD distance', `${fmt(c.psd_distance_db)} dB`, 'RMS of 10·log10 ratio'),
          ),
        )
      : h('p', { class: 'notice error-box', 'data-error': 'compare' }, `distances: ${cmp.error}`);
    const regimeCell = (r: { result?: RegimeResult; error?: string }) =>
      r.result ? h('span', { class: `regime regime-${r.result.regime}`, title: r.result.reason }, r.result.regime) : h('span', { class: 'regime' }, `– (${r.error})`);
    const regimes = h(
      'table',
      { class: 'runs compare-regimes' },
      head('', nameA, nameB),
      h(
        'tbody',
        {},
        row('regime', regimeCell(mReg), regimeCell(tReg)),
        row('decided by', mReg.result?.reason ?? '–', tReg.result?.reason ?? '–'),
        row('burst fraction', fmt(mReg.result?.features.burst_fraction), fmt(tReg.result?.features.burst_fraction)),
      ),
    );
    const exp = (f: PowerLawFit | null | undefined) => (f ? `${fmt(f.alpha)} ± ${fmt(f.alpha_se, '', 2)} (x ≥ ${fmt(f.xmin)}, ${f.n_tail} of ${f.n_values})` : '–');
    const expDiff = (d: NonNullable<CompareResult['avalanche_exponents']>['size'] | undefined) => (d ? `${fmt(d.difference)} [${fmt(d.ci[0])}, ${fmt(d.ci[1])}]` : '–');
    const av = (r: { result?: AvalancheResult; error?: string }, f: (a: AvalancheResult) => string) => (r.result ? f(r.result) : `– (${r.error})`);
    const avalanches = h(
      'table',
      { class: 'runs compare-avalanches' },
      head('', nameA, nameB),
      h(
        'tbody',
        {},
        row('avalanches', av(mAv, (a) => String(a.n_avalanches)), av(tAv, (a) => String(a.n_avalanches))),
        row('bin width', av(mAv, (a) => fmt(a.bin_width_s, 's')), av(tAv, (a) => fmt(a.bin_width_s, 's'))),
        row('branching ratio σ', av(mAv, (a) => fmt(a.branching_ratio)), av(tAv, (a) => fmt(a.branching_ratio))),
        row('size exponent τ', av(mAv, (a) => exp(a.size)), av(tAv, (a) => exp(a.size))),
        row('duration exponent α', av(mAv, (a) => exp(a.duration)), av(tAv, (a) => exp(a.duration))),
        row('crackling γ (predicted)', av(mAv, (a) => `${fmt(a.crackling?.gamma)} (${fmt(a.crackling?.predicted)})`), av(tAv, (a) => `${fmt(a.crackling?.gamma)} (${fmt(a.crackling?.predicted)})`)),
        row(`exponent difference, ${nameA} − ${nameB} (95 % CI)`, `τ ${expDiff(c?.avalanche_exponents?.size)}`, `α ${expDiff(c?.avalanche_exponents?.duration)}`),
      ),
    );
    const sizeEl = h('div', { class: 'compare-avalanche-sizes' });
    const durEl = h('div', { class: 'compare-avalanche-durations' });
    section.replaceChildren(
      source,
      h('h2', {}, `Spike-train distances, ${nameA} vs ${nameB}`),
      distances,
      h('h2', {}, 'Dynamical regime'),
      regimes,
      h('h2', {}, 'Avalanches'),
      avalanches,
      ...(['measured', 'twin'] as const).flatMap((who, i) =>
        ([mAv, tAv][i].result?.warnings ?? []).map((w) => h('p', { class: 'notice warning', 'data-warning': `avalanches-${who}` }, `${[nameA, nameB][i]}: ${w}`)),
      ),
      h('div', { class: 'compare-avalanche-plots', style: 'display:flex;flex-wrap:wrap;gap:16px' }, sizeEl, durEl),
    );
    // CCDFs on log-log axes with the fitted discrete power laws: P(X ≥ x) ≈ (nTail/n)·(x/xmin)^(1−α) above xmin.
    const dist = (which: 'sizes' | 'durations', fitKey: 'size' | 'duration', el: HTMLElement, label: string, symbol: 'τ' | 'α') => {
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
        return xs.map((x) => (f && x >= f.xmin && x <= top ? (f.n_tail / f.n_values) * (x / f.xmin) ** (1 - f.alpha) : null));
      };
      analysisPlots.push(
        new uPlot(
          {
            width: Math.min(540, Math.floor(width() / 2) - 10),
            height: 260,
            title: `Avalanche ${which}: CCDF and power-law fit (exponent ${symbol})`,
            scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
            axes: [{ label }, { label: 'P(X ≥ x)', values: (_u, v) => v.map((x) => fmt(x, '', 2)) }],
            series: [
              { label },
              { label: nameA, stroke: '#2b6cb0', width: 0, points: { show: true, size: 5, fill: '#2b6cb0' } },
              { label: nameB, stroke: '#c05621', width: 0, points: { show: true, size: 5, fill: '#c05621' } },
              { label: `${nameA} fit ${mAv.result?.[fitKey] ? `${symbol} = ${fmt(mAv.result[fitKey]!.alpha)}` : ''}`, stroke: '#2b6cb0', dash: [6, 4], spanGaps: true },
              { label: `${nameB} fit ${tAv.result?.[fitKey] ? `${symbol} = ${fmt(tAv.result[fitKey]!.alpha)}` : ''}`, stroke: '#c05621', dash: [6, 4], spanGaps: true },
            ],
          },
          [xs, xs.map((x) => m.get(x) ?? null), xs.map((x) => t.get(x) ?? null), fitLine(mAv.result), fitLine(tAv.result)],
          el,
        ),
      );
    };
    dist('sizes', 'size', sizeEl, 'size (spikes)', 'τ');
    dist('durations', 'duration', durEl, 'duration (bins)', 'α');
  };

  void load().catch((e: unknown) => {
    status.className = 'notice error-box';
    status.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
  });

  return {
    unmount() {
      for (const p of [...plots, ...analysisPlots]) p.destroy();
    },
  };
}
