/**
 * Sweeps page (#/sweeps, #/sweeps/:id): write a sweep document, check it against the bench limits, start
 * it on the bench (paired with the twin) or on the twin alone, and follow it: the points with their runs,
 * and the sweep curve — spike rate against the first swept parameter (resonance / f–I curve, measured and
 * twin), its peak marked — with each point's regime label (the phase diagram along the swept axis).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError } from '../api.ts';
import { h } from '../dom.ts';
import { Router, type Params, type ViewInstance } from '../router.ts';

interface PointStats {
  count: number;
  rateHz: number;
  meanIsiS: number | null;
  cvIsi: number | null;
  regime: string;
}
interface SweepPoint {
  index: number;
  label: string;
  values: Record<string, number | string | boolean>;
  status: string;
  runId?: number;
  twinRunId?: number;
  twinStatus?: string;
  error?: string;
  stats?: PointStats;
  twinStats?: PointStats;
}
interface Sweep {
  id: string;
  label: string;
  mode: string;
  state: string;
  reason?: string;
  summary: { count?: number; durationS: number; unit: string; min: number; max: number };
  fraction: number;
  points: SweepPoint[];
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string; field?: string } } | undefined;
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? res.statusText, json?.error?.field);
  return json as T;
}

const EXAMPLE = {
  kind: 'sweep',
  label: 'LIF f-I curve',
  base: { kind: 'dc', quantity: 'current', durationS: 0.1 },
  parameters: [{ field: 'level', start: 12e-6, stop: 80e-6, steps: 6 }],
};

const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '–' : String(+x.toPrecision(digits)));

export function sweepsPage(root: HTMLElement, params: Params): ViewInstance {
  let timer: ReturnType<typeof setInterval> | undefined;
  let plot: uPlot | undefined;
  const doc = h('textarea', { id: 'sweep-doc', rows: 9, cols: 80, spellcheck: 'false' }) as HTMLTextAreaElement;
  doc.value = JSON.stringify(EXAMPLE, null, 2);
  const mode = h('select', { id: 'sweep-mode' }, h('option', { value: 'twin' }, 'twin only (all cores)'), h('option', { value: 'bench' }, 'bench, paired with the twin'));
  const circuit = h('select', { id: 'sweep-circuit' });
  const rate = h('input', { id: 'sweep-rate', type: 'number', value: 10000, min: 1, max: 2000000 }) as HTMLInputElement;
  const message = h('div', { id: 'sweep-message', class: 'notice', hidden: true });
  const list = h('tbody');
  const detail = h('section', { id: 'sweep-detail' });

  const show = (text: string, error: boolean) => {
    message.hidden = false;
    message.className = error ? 'notice error-box' : 'notice';
    message.textContent = text;
  };
  const parse = (): unknown => {
    try {
      return JSON.parse(doc.value);
    } catch (e) {
      throw new ApiError(400, 'BAD_JSON', `the sweep is not valid JSON: ${(e as Error).message}`);
    }
  };
  const body = () => ({ sweep: parse(), mode: mode.value, sampleRate: Number(rate.value), ...(circuit.value ? { circuit: circuit.value } : {}) });

  const check = async () => {
    try {
      const r = await call<{ summary: Sweep['summary'] }>('POST', '/api/protocols/check', { protocol: parse() });
      show(`${r.summary.count} runs, ${fmt(r.summary.durationS)} s of stimulus, ${fmt(r.summary.min)}..${fmt(r.summary.max)} ${r.summary.unit}: within the bench limits`, false);
    } catch (e) {
      show(e instanceof Error ? e.message : String(e), true);
    }
  };
  const start = async () => {
    try {
      const r = await call<{ sweep: Sweep }>('POST', '/api/sweeps', body());
      show(`sweep ${r.sweep.id} started: ${r.sweep.points.length} runs`, false);
      Router.go(`/sweeps/${r.sweep.id}`);
    } catch (e) {
      show(e instanceof Error ? e.message : String(e), true);
    }
  };

  root.append(
    h('h1', {}, 'Sweeps'),
    h(
      'form',
      { class: 'sweep-form', onsubmit: ((e: Event) => e.preventDefault()) as EventListener },
      h('label', { for: 'sweep-doc' }, 'Sweep (JSON: base protocol, parameters over a list or range, grid or zip)'),
      doc,
      h('div', { class: 'row' }, h('label', {}, 'Mode ', mode), h('label', {}, ' Twin circuit ', circuit), h('label', {}, ' Sample rate, S/s ', rate)),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', 'data-action': 'check-sweep', onclick: (() => void check()) as EventListener }, 'Check limits'),
        ' ',
        h('button', { type: 'button', class: 'primary', 'data-action': 'start-sweep', onclick: (() => void start()) as EventListener }, 'Start sweep'),
      ),
      message,
    ),
    h('h2', {}, 'Sweeps since the server started'),
    h('table', { class: 'runs sweeps' }, h('thead', {}, h('tr', {}, h('th', {}, 'id'), h('th', {}, 'label'), h('th', {}, 'mode'), h('th', {}, 'state'), h('th', {}, 'done'))), list),
    detail,
  );

  void call<{ circuits: { name: string; description: string }[] }>('GET', '/api/twin/circuits').then((r) => {
    circuit.replaceChildren(h('option', { value: '' }, '(none)'), ...r.circuits.map((c) => h('option', { value: c.name, title: c.description }, c.name)));
    if (r.circuits.some((c) => c.name === 'lif')) circuit.value = 'lif';
  });

  const renderDetail = (s: Sweep) => {
    const field = Object.keys(s.points[0]?.values ?? {})[0] ?? '';
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
        h('td', {}, p.label),
        h('td', {}, p.status),
        h('td', {}, p.runId ? h('a', { href: `#/runs/${p.runId}` }, `run ${p.runId}`) : '–'),
        h('td', {}, p.twinRunId ? h('a', { href: `#/runs/${p.twinRunId}` }, `run ${p.twinRunId}`) : p.twinStatus ?? '–'),
        h('td', {}, fmt(p.stats?.rateHz)),
        h('td', {}, fmt(p.twinStats?.rateHz)),
        h('td', { class: `regime regime-${p.stats?.regime ?? 'none'}` }, p.stats?.regime ?? '–'),
        h('td', {}, p.error ?? ''),
      ),
    );
    const chart = h('div', { class: 'sweep-chart' });
    detail.replaceChildren(
      h('h2', {}, `${s.label} `, h('span', { class: 'sweep-state', 'data-state': s.state }, `${s.state} · ${Math.round(s.fraction * 100)} %`)),
      h('p', { class: 'notice', hidden: !s.reason }, s.reason ?? ''),
      h(
        'p',
        { class: 'sweep-peak' },
        peak >= 0 && numeric ? `Highest spike rate ${fmt(measured[peak])} Hz at ${field} = ${fmt(xs[peak])}` : 'No spike rates yet',
      ),
      chart,
      h(
        'table',
        { class: 'runs sweep-points' },
        h('thead', {}, h('tr', {}, ...['point', 'status', 'run', 'twin run', 'rate, Hz', 'twin rate, Hz', 'regime', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...rows),
      ),
    );
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
          axes: [{ label: field, values: (_u, vals) => vals.map((v) => fmt(v)) }, { label: 'spike rate, Hz' }],
          series: [
            { label: field },
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
    const { sweeps } = await call<{ sweeps: Sweep[] }>('GET', '/api/sweeps');
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
      plot?.destroy();
    },
  };
}
