/**
 * The analyses of a stored run, under its traces: pick a method of the analysis registry
 * (`GET /api/analyses`), fill the form generated from its parameter schema, run it
 * (`POST /api/runs/:id/analyses/:name`; the server stores the result, and the same parameters again return
 * the stored one), see its warnings, plots and values. Results stored earlier (`GET /api/runs/:id/analyses`)
 * are listed and shown without recomputing; **Recompute** asks for a fresh one.
 *
 * Plots whose x is the run's time (rasters, phase against time) follow the stored view's x window, and a zoom
 * on one (drag; double-click for its data) moves the stored view's traces with it (`link`).
 */
import type uPlot from 'uplot';
import { api, ApiError, type AnalysisInfo, type RunDetail, type StoredAnalysis } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime } from '../format.ts';
import { objectFields, readFields, type Field } from '../form/schema-form.ts';
import { collectWarnings, renderResult, type ResultView } from '../plots/analysis-plots.ts';
import type { StoredViewInstance } from './stored-view.ts';

/** Analyses of one stored run: those whose route takes a run id, and that take runs of its protocol (stdp: stdp runs). */
const runAnalyses = (list: AnalysisInfo[], run: RunDetail) => list.filter((a) => a.route.includes('/runs/:id/analyses/') && (!a.protocols || a.protocols.includes(run.protocol.kind)));

/** The page's time window that the panel's time plots follow and set (the stored view). */
export type TimeLink = Pick<StoredViewInstance, 'setWindow' | 'onWindow' | 'window'>;

export function mountAnalysisPanel(container: HTMLElement, run: RunDetail, link?: TimeLink): { unmount(): void } {
  const ac = new AbortController();
  const select = h('select', { name: 'analysis', 'aria-label': 'Analysis' });
  const about = h('p', { class: 'hint analysis-about' });
  const fieldsEl = h('div', { class: 'analysis-fields' });
  const runBtn = h('button', { class: 'primary small', type: 'submit', 'data-action': 'run-analysis' }, 'Run');
  const recomputeBtn = h('button', { class: 'small', type: 'button', 'data-action': 'recompute', title: 'Compute again even if a result with these parameters is stored' }, 'Recompute');
  const status = h('div', { class: 'analysis-status', role: 'status' });
  const storedEl = h('div', { class: 'analysis-stored' });
  const resultEl = h('div', { class: 'analysis-result' });
  const form = h('form', { class: 'analysis-form', novalidate: true }, fieldsEl, h('div', { class: 'buttons' }, runBtn, recomputeBtn));
  const root = h(
    'section',
    { class: 'analysis-panel', 'data-view': 'analyses' },
    h('h3', {}, 'Analyses'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Method ', select), about),
    form,
    status,
    storedEl,
    resultEl,
  );
  container.append(root);

  let registry: AnalysisInfo[] = [];
  let fields: Field[] = [];
  let shown: ResultView | null = null;
  let stored: StoredAnalysis[] = [];

  const current = () => registry.find((a) => a.name === select.value);

  function buildForm(params?: Record<string, unknown>): void {
    const a = current();
    if (!a) return;
    about.textContent = `${a.description} — ${a.source}`;
    fields = objectFields(a.params, '', []);
    for (const f of fields) {
      const v = params?.[f.name];
      if (v === undefined) continue;
      if (f.input instanceof HTMLInputElement && f.input.type === 'checkbox') f.input.checked = v === true;
      else f.input.value = Array.isArray(v) ? v.join(', ') : String(v);
    }
    fieldsEl.replaceChildren(...fields.map((f) => f.el));
  }

  function show(name: string, result: unknown, note: string): void {
    shown?.destroy();
    const warnings = collectWarnings(result);
    const view = renderResult(name, result, resultEl.clientWidth || container.clientWidth || 900, { run });
    shown = view;
    resultEl.replaceChildren(h('p', { class: 'hint', 'data-result-note': '' }, note));
    if (warnings.length) {
      resultEl.append(
        h('div', { class: 'analysis-warnings', role: 'alert' }, h('strong', {}, `⚠ ${warnings.length === 1 ? 'Warning' : `${warnings.length} warnings`}`), h('ul', {}, ...warnings.map((w) => h('li', {}, w)))),
      );
    }
    resultEl.append(view.el);
    resultEl.dataset.analysis = name;
    if (link) {
      const [a, b] = link.window();
      for (const u of view.timeCharts) {
        u.hooks.setScale = [...(u.hooks.setScale ?? []), onChartScale];
        followX(u, a, b);
      }
    }
  }

  /** Set while the panel moves its charts to the page's window, so that the move is not sent back. */
  let following = false;
  function followX(u: uPlot, a: number, b: number): void {
    following = true;
    u.setScale('x', { min: a, max: b });
    following = false;
  }
  /** A zoom on a time chart (drag, double-click) moves the page's window; the window's followers move the rest. */
  function onChartScale(u: uPlot, key: string): void {
    if (key !== 'x') return;
    const { min, max } = u.scales.x;
    // what the chart shows, for tests and the curious (as the trace plots' data-x-range)
    u.root.parentElement?.setAttribute('data-x-range', `${min},${max}`);
    if (!following && min !== undefined && max !== undefined && max > min) link?.setWindow(min, max);
  }
  link?.onWindow((a, b) => {
    for (const u of shown?.timeCharts ?? []) followX(u, a, b);
  });

  function listStored(): void {
    if (stored.length === 0) {
      storedEl.replaceChildren(h('p', { class: 'hint' }, 'No analysis stored with this run yet.'));
      return;
    }
    storedEl.replaceChildren(
      h('span', { class: 'hint' }, 'Stored: '),
      ...stored.map((s) =>
        h(
          'button',
          { class: 'small ghost', type: 'button', 'data-stored': String(s.id), title: JSON.stringify(s.params), onclick: () => showStored(s) },
          `${s.name} · ${dateTime(s.createdAt)}`,
        ),
      ),
    );
  }

  function showStored(s: StoredAnalysis): void {
    if (registry.some((a) => a.name === s.name)) {
      select.value = s.name;
      buildForm(s.params as Record<string, unknown>);
    }
    show(s.name, s.result, `Stored result #${s.id} of ${dateTime(s.createdAt)}, not recomputed.`);
  }

  async function refreshStored(): Promise<void> {
    stored = await api.analyses(run.id, ac.signal);
    listStored();
  }

  async function runIt(recompute: boolean): Promise<void> {
    const a = current();
    const params = readFields(fields);
    if (!a || !params) return;
    runBtn.disabled = recomputeBtn.disabled = true;
    status.className = 'analysis-status';
    status.textContent = `Running ${a.title}…`;
    const t0 = performance.now();
    try {
      const res = await api.runAnalysis(run.id, a.name, params, recompute);
      if (ac.signal.aborted) return;
      status.textContent = '';
      show(a.name, res.result, res.cached ? `Stored result #${res.analysisId} reused (same parameters); Recompute to compute it again.` : `Computed in ${Math.round(performance.now() - t0)} ms and stored as #${res.analysisId}.`);
      await refreshStored();
    } catch (e) {
      if (ac.signal.aborted) return;
      const field = e instanceof ApiError && e.field ? fields.find((f) => f.pointer === e.field || e.field?.endsWith(`/${f.name}`)) : undefined;
      field?.showError(e instanceof Error ? e.message : String(e));
      status.className = 'analysis-status error-box';
      status.textContent = `${a.title} failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      runBtn.disabled = recomputeBtn.disabled = live;
    }
  }

  // A running run cannot be analysed yet (the server answers RUN_ACTIVE): the form is there to prepare.
  const live = run.status === 'running';
  if (live) {
    runBtn.disabled = recomputeBtn.disabled = true;
    status.textContent = 'The run is recording: its analyses can be run when it has ended.';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void runIt(false);
  });
  recomputeBtn.addEventListener('click', () => void runIt(true));
  select.addEventListener('change', () => buildForm());

  void (async () => {
    try {
      const [list] = await Promise.all([api.analysisList(), live ? undefined : refreshStored()]);
      registry = runAnalyses(list, run);
      select.replaceChildren(...registry.map((a) => h('option', { value: a.name }, a.title)));
      if (stored.length) showStored(stored[0]);
      else buildForm();
    } catch (e) {
      if (ac.signal.aborted) return;
      status.className = 'analysis-status error-box';
      status.textContent = `Could not load the analyses: ${e instanceof Error ? e.message : String(e)}`;
    }
  })();

  return {
    unmount() {
      ac.abort();
      shown?.destroy();
      root.remove();
    },
  };
}
