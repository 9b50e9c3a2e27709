/**
 * Sweeps page (#/sweeps, #/sweeps/:id): edit a sweep in a form generated from the protocol schemas or as
 * JSON (form/sweep-editor.ts; the editor, mode, source and rate are kept across visits in
 * localStorage), check it against the bench limits, start it on the bench (paired with the twin: by default
 * the circuit of the device the source measures, so it accepts the quantity the source records) or on the
 * twin alone, and follow it: the points with their runs (a point whose pairing failed keeps its measured
 * rate, and the failure is named),
 * and the sweep curve — spike rate against the first swept parameter (resonance / f–I curve, measured and
 * twin), its peak marked — with each point's regime label. In bench mode the chosen source's run options are
 * the New run page's own component (form/options-form.ts) and go with the sweep to every point's run. Once the sweep has ended, the analysis
 * library's views of it (server-side): the resonance and optimal operating frequencies marked when the
 * swept parameter is a frequency (`POST /api/analysis/resonance`), the regime phase diagram as a heatmap
 * over one or two swept parameters (`POST /api/analysis/regime`), and for runs of the stdp protocol the
 * STDP curve with its two-exponential fit (`POST /api/experiments/stdp`).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, type ProtocolInfo, type SourceInfo, type SweepPointStatus, type SweepStatus, type Workers } from '../api.ts';
import type { SweepStartBody } from '../../../common/schemas/sweeps.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { optionsForm, type OptionsForm } from '../form/options-form.ts';
import { protocolFieldTitle, unitOf, type BenchLimits } from '../form/protocol-form.ts';
import { samplesPerPeriodNote } from '../form/samples-per-period.ts';
import { sweepEditor, type EditorView, type SweepEditor } from '../form/sweep-editor.ts';
import { REGIME_COLORS, chartMaker, stdpPlot } from '../plots/analysis-plots.ts';
import { Router, type Params, type ViewInstance } from '../router.ts';

const EXAMPLE = {
  kind: 'sweep',
  label: 'LIF f-I curve',
  base: { kind: 'dc', quantity: 'current', durationS: 0.1 },
  parameters: [{ field: 'level', start: 12e-6, stop: 80e-6, steps: 6 }],
};

const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(+x.toPrecision(digits)));

/** What the page keeps across visits (localStorage). */
interface Kept {
  view: EditorView;
  text: string;
  mode: string;
  source: string;
  rate: string;
}
const KEPT_KEY = 'spikeloop.sweeps.editor';
function loadKept(): Partial<Kept> {
  try {
    return (JSON.parse(localStorage.getItem(KEPT_KEY) ?? '{}') as Partial<Kept>) ?? {};
  } catch {
    return {};
  }
}

/** A swept field's title and unit: the protocol property of that name (a level in the sweep's quantity). */
function axisOf(field: string, protocols: ProtocolInfo[], quantity: string): { title: string; unit: string } {
  const key = field.replace(/^\//, '').split('/')[0];
  const schema = protocols.map((p) => p.schema.properties?.[key]).find((s) => s !== undefined);
  const unit = unitOf(schema, quantity) ?? '';
  return { title: protocolFieldTitle(key, schema, quantity), unit: unit === '°' ? '' : unit };
}

/** Regime heatmap: one cell per point, x = first swept parameter, y = second (one row when there is none). */
function phaseHeatmap(xs: number[], ys: number[] | null, regimes: string[], xAxis: { title: string; unit: string }, yAxis: { title: string; unit: string } | null): HTMLElement {
  const xv = [...new Set(xs)].sort((a, b) => a - b);
  const yv = ys ? [...new Set(ys)].sort((a, b) => a - b) : [0];
  const cw = Math.max(24, Math.min(80, Math.floor(760 / xv.length)));
  const ch = ys ? Math.max(18, Math.min(40, Math.floor(320 / yv.length))) : 40;
  const left = 90;
  const bottom = 40;
  const canvas = h('canvas', { class: 'phase-heatmap', width: left + cw * xv.length + 10, height: ch * yv.length + bottom + 10 }) as HTMLCanvasElement;
  const g = canvas.getContext('2d');
  if (g) {
    g.font = '11px sans-serif';
    g.fillStyle = '#2d3748';
    regimes.forEach((r, i) => {
      const cx = xv.indexOf(xs[i]);
      const cy = ys ? yv.length - 1 - yv.indexOf(ys[i]) : 0;
      g.fillStyle = REGIME_COLORS[r] ?? '#e2e8f0';
      g.fillRect(left + cx * cw + 1, 5 + cy * ch + 1, cw - 2, ch - 2);
    });
    g.fillStyle = '#2d3748';
    g.textAlign = 'center';
    xv.forEach((x, i) => {
      if (xv.length <= 12 || i % Math.ceil(xv.length / 12) === 0) g.fillText(si(x, xAxis.unit, 3), left + (i + 0.5) * cw, 5 + ch * yv.length + 14);
    });
    g.fillText(xAxis.title, left + (cw * xv.length) / 2, 5 + ch * yv.length + 32);
    g.textAlign = 'right';
    if (ys) yv.forEach((y, i) => g.fillText(si(y, yAxis?.unit ?? '', 3), left - 4, 5 + (yv.length - 1 - i + 0.5) * ch + 4));
    g.textAlign = 'left';
    g.fillText(yAxis?.title ?? 'regime', 2, 14);
  }
  return canvas;
}

export function sweepsPage(root: HTMLElement, params: Params): ViewInstance {
  let timer: ReturnType<typeof setInterval> | undefined;
  let plot: uPlot | undefined;
  const kept = loadKept();
  let editor: SweepEditor | undefined;
  let protocols: ProtocolInfo[] = [];
  let sources: SourceInfo[] = [];
  const editorBox = h('div', { class: 'sweep-editor-box' }, h('p', { class: 'loading' }, 'Loading the protocols…'));
  const mode = h('select', { id: 'sweep-mode' }, h('option', { value: 'twin' }, 'twin only (all cores)'), h('option', { value: 'bench' }, 'bench, paired with the twin'));
  const source = h('select', { id: 'sweep-source' });
  const circuit = h('select', { id: 'sweep-circuit' });
  const rate = h('input', { id: 'sweep-rate', type: 'number', value: 10000, min: 1, max: 2000000 }) as HTMLInputElement;
  const message = h('div', { id: 'sweep-message', class: 'notice', hidden: true });
  // fewer than ~20 samples per stimulus period at the sweep's fastest point: the server's period (check)
  const rateNote = samplesPerPeriodNote();
  let periodS: number | null = null;
  let periodTimer: ReturnType<typeof setTimeout> | undefined;
  let periodSeq = 0;
  /** The sweep whose period was last asked (a mode, source, circuit or rate change leaves it as it is). */
  let periodFor: string | undefined;
  const checkPeriod = () => {
    if (periodTimer) clearTimeout(periodTimer);
    periodTimer = setTimeout(async () => {
      let sweep: unknown;
      try {
        sweep = parse();
      } catch {
        sweep = undefined;
      }
      const key = JSON.stringify(sweep);
      if (key !== undefined && key === periodFor) return;
      periodFor = key;
      const seq = ++periodSeq;
      let p: number | null = null;
      // an unfinished or refused sweep: no period to warn about
      if (sweep !== undefined) {
        try {
          p = (await api.checkProtocol(sweep)).periodS ?? null;
        } catch {
          periodFor = undefined;
        }
      }
      if (seq !== periodSeq) return;
      periodS = p;
      rateNote.update(Number(rate.value), periodS);
    }, 300);
  };
  rate.addEventListener('input', () => rateNote.update(Number(rate.value), periodS));
  const list = h('tbody');
  const detail = h('section', { id: 'sweep-detail' });
  const workersBox = h('section', { id: 'sweep-workers' });
  if (kept.mode === 'bench' || kept.mode === 'twin') mode.value = kept.mode;
  if (kept.rate) rate.value = kept.rate;
  const sourceRow = h('label', {}, ' Source ', source);
  // the source's run options (bench mode), built once the bench limits are known
  let options: OptionsForm | undefined;
  const optionsBox = h('div', { class: 'sweep-options' });
  let optionsFor = '';

  const show = (text: string, error: boolean) => {
    message.hidden = false;
    message.className = error ? 'notice error-box' : 'notice';
    message.textContent = text;
  };
  const parse = (): unknown => {
    if (!editor) throw new ApiError(0, 'LOADING', 'the editor is still loading');
    return editor.doc();
  };
  const body = (opts: Record<string, unknown>): SweepStartBody => ({
    sweep: parse() as SweepStartBody['sweep'],
    mode: mode.value as SweepStartBody['mode'],
    sampleRate: Number(rate.value),
    ...(mode.value === 'bench' && source.value ? { source: source.value } : {}),
    ...(circuit.value ? { circuit: circuit.value } : {}),
    ...(mode.value === 'bench' && Object.keys(opts).length ? { options: opts } : {}),
  });
  const refused = (e: unknown) => {
    show(e instanceof Error ? e.message : String(e), true);
    if (e instanceof ApiError && !editor?.showRefusal(e)) options?.showRefusal(e.message, e.field);
  };

  const check = async () => {
    try {
      const r = await api.checkProtocol(parse());
      show(`${r.summary.count} runs, ${fmt(r.summary.durationS)} s of stimulus, ${si(r.summary.min, r.summary.unit)} … ${si(r.summary.max, r.summary.unit)}: within the bench limits`, false);
    } catch (e) {
      refused(e);
    }
  };
  const start = async () => {
    const opts = mode.value === 'bench' && options ? options.read() : {};
    if (opts === false) {
      (options!.el as HTMLDetailsElement).open = true;
      return;
    }
    try {
      const sweep = await api.startSweep(body(opts));
      options?.keep();
      show(`sweep ${sweep.id} started: ${sweep.points.length} runs`, false);
      Router.go(`/sweeps/${sweep.id}`);
    } catch (e) {
      refused(e);
    }
  };

  root.append(
    h('h1', {}, 'Sweeps'),
    h(
      'form',
      { class: 'sweep-form', onsubmit: ((e: Event) => e.preventDefault()) as EventListener },
      editorBox,
      h('div', { class: 'row' }, h('label', {}, 'Mode ', mode), sourceRow, h('label', {}, ' Twin circuit ', circuit), h('label', {}, ' Sample rate, S/s ', rate)),
      rateNote.el,
      optionsBox,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', 'data-action': 'check-sweep', onclick: (() => void check()) as EventListener }, 'Check limits'),
        ' ',
        h('button', { type: 'button', class: 'primary', 'data-action': 'start-sweep', onclick: (() => void start()) as EventListener }, 'Start sweep'),
      ),
      message,
    ),
    h('h2', {}, 'Sweeps'),
    h('table', { class: 'runs sweeps' }, h('thead', {}, h('tr', {}, h('th', {}, 'id'), h('th', {}, 'label'), h('th', {}, 'mode'), h('th', {}, 'state'), h('th', {}, 'done'))), list),
    workersBox,
    detail,
  );

  /** Where twin runs go (GET /api/workers): this server's threads, or the workers of a Redis queue and their jobs. */
  const renderWorkers = (w: Workers) => {
    if (w.mode === 'local') {
      workersBox.replaceChildren(h('p', { class: 'workers-local' }, `Twin runs and heavy analyses run on this server's ${w.threads} worker threads.`));
      return;
    }
    const c = w.counts!;
    workersBox.replaceChildren(
      h('h2', {}, 'Workers'),
      h('p', { class: 'workers-queue' }, `Queue on ${w.redis}: ${c.waiting} waiting, ${c.active} running, ${c.completed} done, ${c.failed} failed.`),
      w.workers!.length === 0
        ? h('p', { class: 'notice error-box' }, 'No worker is connected: start `spikeloop worker --redis … --server …` on a machine.')
        : h(
            'table',
            { class: 'runs workers' },
            h('thead', {}, h('tr', {}, h('th', {}, 'worker'), h('th', {}, 'address'), h('th', {}, 'connected'), h('th', {}, 'running jobs'))),
            h(
              'tbody',
              {},
              ...w.workers!.map((x) => {
                const jobs = w.active!.filter((j) => j.worker === x.name);
                return h('tr', { 'data-worker': x.name }, h('td', {}, x.name), h('td', {}, x.addr), h('td', {}, `${Math.round(x.ageS)} s`), h('td', {}, jobs.map((j) => `${j.task} #${j.id}${j.attempts ? ` (attempt ${j.attempts + 1})` : ''}`).join(', ') || '—'));
              }),
            ),
          ),
    );
  };

  // Default circuit: the plastic synapse for an stdp sweep (the LIF twins have no plasticity); in bench mode
  // the circuit of the device the source measures (it accepts the quantity the source records: the
  // virtual DAQ board records its stimulus in volts), else the LIF. Follows the sweep until the user picks one.
  let circuitPicked = false;
  circuit.addEventListener('change', () => (circuitPicked = true));
  const defaultCircuit = () => {
    sourceRow.hidden = mode.value !== 'bench';
    optionsBox.hidden = mode.value !== 'bench';
    let base: { kind?: unknown; quantity?: unknown } | undefined;
    try {
      base = (parse() as { base?: { kind?: unknown; quantity?: unknown } }).base;
    } catch {
      return;
    }
    // rebuilt only when the source or the quantity (an option's unit) changes, so typed options stay
    const quantity = base?.quantity === 'voltage' ? 'voltage' : 'current';
    if (options && optionsFor !== `${source.value} ${quantity}`) {
      optionsFor = `${source.value} ${quantity}`;
      options.build(sources.find((x) => x.kind === source.value), quantity);
    }
    if (circuitPicked) return;
    const kind = base?.kind;
    const own = mode.value === 'bench' ? sources.find((x) => x.kind === source.value)?.twinCircuit : undefined;
    const want = kind === 'stdp' ? 'stdp-synapse' : (own ?? 'lif');
    if ([...circuit.querySelectorAll('option')].some((o) => o.value === want)) circuit.value = want;
  };
  const save = () => {
    defaultCircuit();
    if (!editor) return;
    checkPeriod();
    const k: Kept = { view: editor.view(), text: editor.text(), mode: mode.value, source: source.value, rate: rate.value };
    try {
      localStorage.setItem(KEPT_KEY, JSON.stringify(k));
    } catch {
      // storage full or disabled: the editor still works, it is just not kept
    }
  };
  for (const c of [mode, source, circuit, rate]) c.addEventListener('change', save);
  void Promise.all([api.protocols(), api.bench().catch(() => ({ limits: {} as BenchLimits })), api.sources(), api.twinCircuits()]).then(([ps, bench, srcs, circuits]) => {
    protocols = ps;
    sources = srcs.sources.filter((x) => x.available && x.kind !== 'twin' && x.kind !== 'import');
    source.replaceChildren(...sources.map((x) => h('option', { value: x.kind, title: x.detail ?? null }, x.title)));
    source.value = kept.source && sources.some((x) => x.kind === kept.source) ? kept.source : (sources.find((x) => x.kind === srcs.default)?.kind ?? sources[0]?.kind ?? '');
    circuit.replaceChildren(h('option', { value: '' }, '(none)'), ...circuits.map((c) => h('option', { value: c.name, title: c.description }, c.name)));
    options = optionsForm(bench.limits);
    optionsBox.replaceChildren(options.el);
    editor = sweepEditor(ps, bench.limits, { text: kept.text ?? JSON.stringify(EXAMPLE, null, 2), view: kept.view ?? 'form', onChange: save });
    editorBox.replaceChildren(editor.el);
    editorBox.dataset.ready = 'true';
    save();
    if (params.id) void refresh();
  });

  let analysed: { id: string; el: HTMLElement } | undefined;
  const extraPlots: uPlot[] = [];

  /** The analysis library's views of an ended sweep, computed once per sweep (stored in `analysed.el`). */
  const analyseSweep = async (s: SweepStatus, el: HTMLElement) => {
    const fields = Object.keys(s.points[0]?.values ?? {});
    const done = s.points.filter((p) => p.runId !== undefined && p.status === 'completed');
    if (done.length === 0) return;
    const runIds = done.map((p) => p.runId!);
    const xOf = (p: SweepPointStatus, f: string) => Number(p.values[f]);
    const numeric = (f: string) => done.every((p) => Number.isFinite(xOf(p, f)));
    const parts: Node[] = [];
    const x0 = fields[0];
    const ax = (f: string) => axisOf(f, protocols, s.summary.quantity);
    const bare = (f: string) => ax(f).title.replace(/ \([^)]*\)$/, '');
    // Resonance: response (spike rate) against a swept stimulus frequency.
    if (x0 && /freq|hz/i.test(x0) && numeric(x0) && done.length >= 2) {
      try {
        const points = done.map((p) => ({ frequency: xOf(p, x0), response: p.stats?.rateHz ?? 0 }));
        const r = await api.analyze('resonance', { points });
        const chart = h('div', { class: 'sweep-resonance-chart' });
        parts.push(
          h('h2', {}, 'Resonance'),
          h(
            'p',
            { class: 'sweep-resonance' },
            `Resonance at ${fmt(r.resonance_frequency_hz)} Hz (peak ${fmt(r.peak_response)} Hz spike rate); onset ${fmt(r.onset_frequency_hz)} Hz; optimal operating frequency ${fmt(r.optimal_frequency_hz)} Hz`,
          ),
          chart,
        );
        const order = points.map((_, i) => i).sort((a, b) => points[a].frequency - points[b].frequency);
        const xs = order.map((i) => points[i].frequency);
        const mark = (f: number | null) => xs.map((x, i) => (f !== null && x === f ? points[order[i]].response : null));
        queueMicrotask(() =>
          extraPlots.push(
            new uPlot(
              {
                width: Math.min(900, root.clientWidth || 900),
                height: 240,
                scales: { x: { time: false, distr: xs[0] > 0 ? 3 : 1 } },
                axes: [{ label: ax(x0).title, values: (_u, v) => v.map((x) => si(x, ax(x0).unit, 3)) }, { label: 'spike rate (Hz)' }],
                series: [
                  { label: ax(x0).title },
                  { label: 'response', stroke: '#2b6cb0', points: { show: true, size: 5 } },
                  { label: `resonance ${fmt(r.resonance_frequency_hz)} Hz`, stroke: '#c53030', width: 0, points: { show: true, size: 12, fill: '#c53030' } },
                  { label: `optimal ${fmt(r.optimal_frequency_hz)} Hz`, stroke: '#2f855a', width: 0, points: { show: true, size: 12, fill: '#2f855a' } },
                ],
              },
              [xs, order.map((i) => points[i].response), mark(r.resonance_frequency_hz), mark(r.optimal_frequency_hz)],
              chart,
            ),
          ),
        );
      } catch (e) {
        parts.push(h('p', { class: 'notice error-box' }, `resonance: ${(e as Error).message}`));
      }
    }
    // Phase diagram: regime of each run over one or two swept parameters.
    if (x0 && numeric(x0)) {
      try {
        const r = await api.analyze('regime', { runIds, param: x0, values: done.map((p) => xOf(p, x0)), events: true });
        if (!('runs' in r)) throw new Error('the server answered with the regime of one run, not the phase diagram of the sweep');
        const y0 = fields[1] && numeric(fields[1]) ? fields[1] : null;
        const regimes = r.runs.map((x) => x.regime);
        parts.push(
          h('h2', {}, `Phase diagram${y0 ? ` over ${bare(x0)} and ${bare(y0)}` : ` along ${bare(x0)}`}`),
          phaseHeatmap(
            done.map((p) => xOf(p, x0)),
            y0 ? done.map((p) => xOf(p, y0)) : null,
            regimes,
            ax(x0),
            y0 ? ax(y0) : null,
          ),
          h('p', { class: 'phase-legend' }, ...Object.entries(REGIME_COLORS).map(([k, c]) => h('span', { class: 'legend-item', style: `margin-right:12px` }, h('span', { style: `display:inline-block;width:12px;height:12px;background:${c};margin-right:4px` }), k))),
          h(
            'p',
            { class: 'phase-transitions' },
            r.phase_diagram.transitions.length && !y0
              ? `Transitions: ${r.phase_diagram.transitions.map((t) => `${t.from} → ${t.to} at ${bare(x0)} ≈ ${si(t.at, ax(x0).unit)}`).join('; ')}`
              : y0
                ? `${new Set(regimes).size} regime(s) over ${done.length} points`
                : `One regime along ${bare(x0)}: ${regimes[0]}`,
          ),
        );
        el.dataset.regimes = regimes.join(',');
      } catch (e) {
        parts.push(h('p', { class: 'notice error-box' }, `phase diagram: ${(e as Error).message}`));
      }
    }
    // STDP: runs of the stdp protocol.
    const first = await api.getRun(runIds[0]);
    if (first.protocol.kind === 'stdp') {
      try {
        const r = await api.stdpCurve({ runIds });
        const chart = h('div', { class: 'sweep-stdp-chart' });
        const f = r.fit;
        parts.push(
          h('h2', {}, 'STDP curve'),
          h(
            'p',
            { class: 'sweep-stdp' },
            `${r.pairs.length} pairing blocks; fit A+ = ${fmt(f?.Aplus)}, τ+ = ${fmt(f?.tau_plus_s ? f.tau_plus_s * 1e3 : null)} ms, A− = ${fmt(f?.Aminus)}, τ− = ${fmt(f?.tau_minus_s ? f.tau_minus_s * 1e3 : null)} ms`,
          ),
          ...(r.warnings ?? []).map((w) => h('p', { class: 'notice error-box sweep-stdp-warning' }, w)),
          chart,
        );
        // drawn once the section is in the page (uPlot measures its container)
        queueMicrotask(() => stdpPlot(r.pairs, f, chartMaker(chart, Math.min(900, root.clientWidth || 900), extraPlots, 240)));
      } catch (e) {
        parts.push(h('p', { class: 'notice error-box' }, `STDP: ${(e as Error).message}`));
      }
    }
    el.replaceChildren(...parts);
    el.dataset.analysed = 'true';
  };

  /** A point's values with titles and units: "Level 15 µA". */
  const pointLabel = (s: SweepStatus, p: SweepPointStatus) =>
    Object.entries(p.values)
      .map(([k, v]) => {
        const a = axisOf(k, protocols, s.summary.quantity);
        return `${a.title.replace(/ \([^)]*\)$/, '')} ${typeof v === 'number' ? si(v, a.unit, 4) : String(v)}`;
      })
      .join(', ');

  const renderDetail = (s: SweepStatus) => {
    const field = Object.keys(s.points[0]?.values ?? {})[0] ?? '';
    const axis = axisOf(field, protocols, s.summary.quantity);
    const xs = s.points.map((p) => Number(p.values[field]));
    const numeric = xs.every(Number.isFinite);
    const measured = s.points.map((p) => p.stats?.rateHz ?? null);
    const twin = s.points.map((p) => p.twinStats?.rateHz ?? null);
    let peak = -1;
    measured.forEach((y, i) => {
      if (y !== null && (peak < 0 || y > (measured[peak] ?? -Infinity))) peak = i;
    });
    const rows = s.points.map((p) =>
      h(
        'tr',
        { 'data-point': p.index },
        h('td', { title: p.label }, pointLabel(s, p)),
        h('td', {}, p.status),
        h('td', {}, p.runId ? h('a', { href: `#/runs/${p.runId}` }, `run ${p.runId}`) : '–'),
        h('td', { 'data-twin-status': p.twinStatus ?? '' }, p.twinRunId ? h('a', { href: `#/runs/${p.twinRunId}` }, `run ${p.twinRunId}`) : p.twinStatus === 'failed' ? h('span', { class: 'error' }, 'pairing failed') : (p.twinStatus ?? '–')),
        h('td', {}, fmt(p.stats?.rateHz)),
        h('td', {}, fmt(p.twinStats?.rateHz)),
        h('td', { class: `regime regime-${p.stats?.regime ?? 'none'}` }, p.stats?.regime ?? '–'),
        h('td', { class: p.error ? 'point-error' : '' }, p.error ?? ''),
      ),
    );
    const chart = h('div', { class: 'sweep-chart', 'data-x-axis': axis.title });
    detail.replaceChildren(
      h('h2', {}, `${s.label} `, h('span', { class: 'sweep-state', 'data-state': s.state }, `${s.state} · ${Math.round(s.fraction * 100)} %`)),
      h('p', { class: 'notice', hidden: !s.reason }, s.reason ?? ''),
      h(
        'p',
        { class: 'sweep-peak' },
        peak >= 0 && numeric ? `Highest spike rate ${fmt(measured[peak])} Hz at ${axis.title.replace(/ \([^)]*\)$/, '')} = ${si(xs[peak], axis.unit, 4)}` : 'No spike rates yet',
      ),
      chart,
      h(
        'table',
        { class: 'runs sweep-points' },
        h('thead', {}, h('tr', {}, ...['point', 'status', 'run', 'twin run', 'rate, Hz', 'twin rate, Hz', 'regime', 'note'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...rows),
      ),
    );
    if (s.state !== 'running') {
      if (analysed?.id !== s.id) {
        for (const p of extraPlots.splice(0)) p.destroy();
        const el = h('section', { class: 'sweep-analyses' }, h('p', { class: 'notice' }, 'Analysing the sweep…'));
        analysed = { id: s.id, el };
        void analyseSweep(s, el).catch((e: unknown) => el.replaceChildren(h('p', { class: 'notice error-box' }, e instanceof Error ? e.message : String(e))));
      }
      detail.append(analysed.el);
    }
    plot?.destroy();
    plot = undefined;
    if (numeric && xs.length > 0) {
      const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
      const data: uPlot.AlignedData = [order.map((i) => xs[i]), order.map((i) => measured[i]), order.map((i) => twin[i])];
      plot = new uPlot(
        {
          width: Math.min(900, root.clientWidth || 900),
          height: 260,
          scales: { x: { time: false } },
          axes: [{ label: axis.title, values: (_u, vals) => vals.map((v) => si(v, axis.unit, 3)) }, { label: 'spike rate (Hz)' }],
          series: [
            { label: axis.title, value: (_u, v) => si(v, axis.unit, 4) },
            { label: s.mode === 'twin' ? 'twin' : 'measured', stroke: '#2b6cb0', points: { show: true, size: 6 } },
            { label: 'twin (paired)', stroke: '#c05621', points: { show: true, size: 6 } },
          ],
        },
        data,
        chart,
      );
    }
  };

  const refresh = async () => {
    const [sweeps, workers] = await Promise.all([api.sweeps(), api.workers()]);
    renderWorkers(workers);
    list.replaceChildren(
      ...sweeps.map((s) =>
        h(
          'tr',
          { 'data-sweep': s.id, onclick: (() => Router.go(`/sweeps/${s.id}`)) as EventListener },
          h('td', {}, s.id),
          h('td', {}, s.label),
          h('td', {}, s.mode),
          h('td', {}, s.state),
          h('td', {}, `${Math.round(s.fraction * 100)} %`),
        ),
      ),
    );
    const selected = params.id ? sweeps.find((s) => s.id === params.id) : undefined;
    if (params.id && !selected) detail.replaceChildren(h('p', { class: 'error-box' }, `sweep ${params.id} does not exist`));
    if (selected) renderDetail(selected);
    if (!sweeps.some((s) => s.state === 'running') && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  void refresh();
  timer = setInterval(() => void refresh().catch(() => undefined), 500);

  return {
    unmount() {
      if (timer) clearInterval(timer);
      if (periodTimer) clearTimeout(periodTimer);
      plot?.destroy();
      for (const p of extraPlots) p.destroy();
    },
  };
}
