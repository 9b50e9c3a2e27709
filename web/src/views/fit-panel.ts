/**
 * "Calibrate the twin" on a stored run's page (docs/twin/calibration.md): choose a circuit, its free
 * parameters (`element.parameter`) with bounds and the objective; start the fit (POST /api/runs/:id/fit),
 * follow its progress as the server pushes it (GET /api/fits/:fitId/events), cancel it (DELETE); then the fitted values with their
 * 95 % intervals and the identifiability warnings, and "Pair with fitted twin" (POST /api/runs/:id/pair with
 * the stored circuit's name), after which Compare uses the calibrated twin.
 */
import type { FitBody, FitJob } from '../../../common/schemas/index.ts';
import { api, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';

/** After a broken progress stream, the wait before asking again. */
const RETRY_MS = 1000;

/** The circuit the run names (a twin run's, the DAQ bench's), else the LIF. */
function defaultCircuit(run: RunDetail): string {
  const twin = (run.twin ?? null) as { circuit?: { name?: string } | string } | null;
  const bench = (run.bench ?? null) as { circuit?: string } | null;
  const fromTwin = typeof twin?.circuit === 'string' ? twin.circuit : twin?.circuit?.name;
  return fromTwin ?? bench?.circuit ?? 'lif';
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));

export function mountFitPanel(parent: HTMLElement, run: RunDetail): { unmount(): void } {
  let gone = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fitId: string | null = null;
  let unwatch = () => {};

  const circuit = h('input', { type: 'text', value: defaultCircuit(run), 'aria-label': 'Circuit', 'data-fit': 'circuit', size: 18 });
  const objective = h(
    'select',
    { 'aria-label': 'Objective', 'data-fit': 'objective' },
    h('option', { value: 'waveform' }, 'waveform (NRMSE)'),
    h('option', { value: 'spikes' }, 'spikes (van Rossum + count)'),
    h('option', { value: 'iv' }, 'I–V loop (per cycle)'),
  );
  const rows = h('tbody', {});
  const addRow = (name = '', min = '', max = '') => {
    const row = h(
      'tr',
      { 'data-fit-param': '' },
      h('td', {}, h('input', { type: 'text', value: name, placeholder: 'element.parameter', 'aria-label': 'Parameter', size: 14 })),
      h('td', {}, h('input', { type: 'text', value: min, placeholder: 'default: value / 4', 'aria-label': 'Minimum', size: 10 })),
      h('td', {}, h('input', { type: 'text', value: max, placeholder: 'default: value × 4', 'aria-label': 'Maximum', size: 10 })),
      h('td', {}, h('button', { class: 'small ghost', type: 'button', onclick: () => row.remove(), title: 'Remove' }, '×')),
    );
    rows.append(row);
  };
  addRow();
  const start = h('button', { class: 'primary small', type: 'button', 'data-action': 'fit-start' }, 'Fit');
  const cancel = h('button', { class: 'small danger', type: 'button', 'data-action': 'fit-cancel' }, 'Cancel');
  // data-updates: how many progress records the stream delivered (the browser test reads it)
  const bar = h('progress', { max: 1, value: 0, 'data-fit': 'progress', 'data-updates': '0' });
  const status = h('span', { class: 'hint', role: 'status', 'data-fit': 'status' });
  const out = h('div', { 'data-fit': 'result' });

  /** The request from the form; a message when the form cannot make one. */
  function body(): FitBody | string {
    const params: string[] = [];
    const bounds: Record<string, [number, number]> = {};
    for (const row of rows.querySelectorAll('tr')) {
      const [name, min, max] = [...row.querySelectorAll('input')].map((i) => i.value.trim());
      if (!name) continue;
      params.push(name);
      if (min || max) {
        const lo = Number(min);
        const hi = Number(max);
        if (!min || !max || !Number.isFinite(lo) || !Number.isFinite(hi)) return `${name}: give both bounds as numbers, or neither`;
        bounds[name] = [lo, hi];
      }
    }
    return {
      circuit: circuit.value.trim(),
      objective: objective.value as FitBody['objective'],
      pair: false,
      ...(params.length ? { params } : {}),
      ...(Object.keys(bounds).length ? { bounds } : {}),
    };
  }

  // style.display, not `hidden`: the stylesheet's display of buttons would override the attribute
  function busy(on: boolean): void {
    start.disabled = on;
    cancel.style.display = on ? '' : 'none';
    bar.style.display = on ? '' : 'none';
  }
  busy(false);

  function showResult(job: FitJob): void {
    const r = job.result!;
    const pairBtn = h('button', { class: 'small primary', type: 'button', 'data-action': 'fit-pair' }, 'Pair with fitted twin');
    const pairStatus = h('span', { class: 'hint', 'data-fit': 'pair-status' });
    pairBtn.addEventListener('click', async () => {
      pairBtn.disabled = true;
      pairStatus.textContent = 'pairing…';
      try {
        const p = await api.pairRun(run.id, r.circuit);
        pairStatus.replaceChildren(`twin run #${p.twinRunId} — `, h('a', { href: `#/compare/${run.id}` }, 'Compare'));
      } catch (e) {
        pairBtn.disabled = false;
        pairStatus.textContent = `pairing failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    });
    out.replaceChildren();
    out.append(
      h('p', {}, `Residual ${fmt(r.startResidual)} → `, h('strong', { 'data-fit': 'residual' }, fmt(r.residual)), ` (${r.evals} evaluations, ${r.seconds.toFixed(1)} s). Stored as circuit `, h('code', { 'data-fit': 'circuit-name' }, r.circuit), '.'),
      h(
        'table',
        { class: 'analyses', 'data-fit': 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'parameter'), h('th', {}, 'start'), h('th', {}, 'fitted'), h('th', {}, '95 % interval'))),
        h(
          'tbody',
          {},
          ...r.report.map((p) =>
            h(
              'tr',
              { 'data-param': p.name },
              h('td', {}, p.name),
              h('td', {}, fmt(r.start[p.name])),
              h('td', {}, h('strong', {}, fmt(p.value))),
              h('td', {}, p.ci ? `${fmt(p.ci[0])} … ${fmt(p.ci[1])}` : 'not determined'),
            ),
          ),
        ),
      ),
      h('p', {}, pairBtn, ' ', pairStatus),
    );
    if (r.warnings.length) out.insertBefore(h('ul', { class: 'warn-box', 'data-fit': 'warnings' }, ...r.warnings.map((w) => h('li', {}, w))), out.lastChild);
  }

  function update(job: FitJob): void {
    if (gone || job.id !== fitId) return;
    bar.max = job.progress.total;
    bar.value = job.progress.evals;
    bar.dataset.updates = String(Number(bar.dataset.updates) + 1);
    status.textContent = `${job.progress.phase}: ${job.progress.evals}/${job.progress.total} evaluations${job.progress.residual !== null ? `, residual ${fmt(job.progress.residual)}` : ''}`;
    if (job.state === 'running') return;
    busy(false);
    fitId = null;
    if (job.state === 'completed') {
      status.textContent = 'fitted';
      showResult(job);
    } else status.textContent = job.state === 'cancelled' ? 'cancelled' : `failed: ${job.error?.message ?? 'unknown error'}`;
  }

  /** Follows the fit's pushed progress; a broken stream is reopened (the record then tells whether it has ended). */
  function watch(id: string): void {
    unwatch = api.watchFit(id, update, () => {
      timer = setTimeout(async () => {
        if (gone || fitId !== id) return;
        try {
          const job = await api.getFit(id);
          update(job);
          if (job.state === 'running') watch(id);
        } catch (e) {
          busy(false);
          status.textContent = `lost the fit: ${e instanceof Error ? e.message : String(e)}`;
        }
      }, RETRY_MS);
    });
  }

  start.addEventListener('click', async () => {
    const b = body();
    if (typeof b === 'string') {
      status.textContent = b;
      return;
    }
    out.replaceChildren();
    busy(true);
    status.textContent = 'starting…';
    try {
      fitId = (await api.startFit(run.id, b)).id;
      bar.dataset.updates = '0';
      watch(fitId);
    } catch (e) {
      busy(false);
      status.textContent = e instanceof Error ? e.message : String(e);
    }
  });
  cancel.addEventListener('click', async () => {
    if (!fitId) return;
    cancel.disabled = true;
    try {
      await api.cancelFit(fitId);
    } finally {
      cancel.disabled = false;
    }
  });

  const panel = h(
    'details',
    { class: 'analysis-panel fit-panel', 'data-view': 'fit' },
    h('summary', {}, h('h3', { style: 'display:inline' }, 'Calibrate the twin')),
    h('p', { class: 'hint' }, "Fit the circuit's free parameters so the twin fed this run's recorded stimulus reproduces its response."),
    h('div', { class: 'fit-form' }, h('label', {}, 'Circuit ', circuit), ' ', h('label', {}, 'Objective ', objective)),
    h(
      'table',
      { class: 'analyses' },
      h('thead', {}, h('tr', {}, h('th', {}, 'free parameter'), h('th', {}, 'min'), h('th', {}, 'max'), h('th', {}))),
      rows,
    ),
    h('p', {}, h('button', { class: 'small ghost', type: 'button', onclick: () => addRow(), 'data-action': 'fit-add' }, '+ parameter'), ' ', start, ' ', cancel, ' ', bar, ' ', status),
    out,
  );
  parent.append(panel);
  return {
    unmount() {
      gone = true;
      clearTimeout(timer);
      unwatch();
      panel.remove();
    },
  };
}
