/**
 * Bench page (#/bench): the bench configuration (instruments, ports, channel roles), the run sources and
 * whether they are available now, the limits every protocol is checked against, and a protocol checker
 * that states a protocol's duration and peaks against those limits and previews its stimulus.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, api } from '../api.ts';
import { h } from '../dom.ts';
import type { ViewInstance } from '../router.ts';

interface BenchConfig {
  name: string;
  instruments: { id: string; kind: string; model: string; port?: string; channels: { name: string; role: string; unit?: string }[] }[];
  limits: { maxVoltage: number; maxCurrent: number; maxPower: number; compliance: { current: number; voltage: number }; maxDurationS?: number };
}
interface CheckResult {
  summary: { kind?: string; unit: string; durationS: number; min: number; max: number };
  limits?: { peak: number; worstPowerW: number };
  preview?: { dt: number; values: number[] };
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

const fmt = (x: number | undefined) => (x === undefined ? '–' : String(+x.toPrecision(4)));

export function benchPage(root: HTMLElement): ViewInstance {
  let plot: uPlot | undefined;
  const instruments = h('tbody');
  const sources = h('tbody');
  const limits = h('dl', { class: 'limits' });
  const doc = h('textarea', { id: 'bench-protocol', rows: 5, cols: 70, spellcheck: 'false' }) as HTMLTextAreaElement;
  doc.value = JSON.stringify({ kind: 'iv-sweep', peak: 2, periodS: 1, cycles: 2 });
  const result = h('div', { id: 'bench-check', class: 'notice', hidden: true });
  const chart = h('div', { class: 'bench-preview' });

  const check = async () => {
    let protocol: unknown;
    try {
      protocol = JSON.parse(doc.value);
    } catch (e) {
      result.hidden = false;
      result.className = 'notice error-box';
      result.textContent = `not valid JSON: ${(e as Error).message}`;
      return;
    }
    try {
      const r = await call<CheckResult>('POST', '/api/protocols/check', { protocol, points: 1000 });
      const s = r.summary;
      result.hidden = false;
      result.className = 'notice';
      result.textContent = `${s.kind ?? 'sweep'}: ${fmt(s.durationS)} s, ${fmt(s.min)}..${fmt(s.max)} ${s.unit}${r.limits ? `, worst-case power ${fmt(r.limits.worstPowerW)} W` : ''}: within the limits`;
      plot?.destroy();
      plot = undefined;
      if (r.preview) {
        const xs = r.preview.values.map((_, i) => i * r.preview!.dt);
        plot = new uPlot(
          {
            width: Math.min(900, root.clientWidth || 900),
            height: 220,
            scales: { x: { time: false } },
            axes: [{ label: 't, s' }, { label: s.unit }],
            series: [{ label: 't' }, { label: 'stimulus', stroke: '#2b6cb0' }],
          },
          [xs, r.preview.values],
          chart,
        );
      }
    } catch (e) {
      result.hidden = false;
      result.className = 'notice error-box';
      result.textContent = e instanceof Error ? e.message : String(e);
    }
  };

  root.append(
    h('h1', {}, 'Bench'),
    h('h2', {}, 'Instruments'),
    h('table', { class: 'runs bench-instruments' }, h('thead', {}, h('tr', {}, ...['id', 'kind', 'model', 'port', 'channels'].map((t) => h('th', {}, t)))), instruments),
    h('h2', {}, 'Run sources'),
    h('table', { class: 'runs bench-sources' }, h('thead', {}, h('tr', {}, ...['kind', 'source', 'available'].map((t) => h('th', {}, t)))), sources),
    h('h2', {}, 'Limits'),
    limits,
    h('h2', {}, 'Check a protocol against the limits'),
    h(
      'form',
      { class: 'sweep-form', onsubmit: ((e: Event) => e.preventDefault()) as EventListener },
      doc,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', 'data-action': 'check-protocol', onclick: (() => void check()) as EventListener }, 'Check and preview')),
      result,
    ),
    chart,
  );

  void call<{ bench: BenchConfig }>('GET', '/api/bench').then(({ bench }) => {
    instruments.replaceChildren(
      ...bench.instruments.map((i) =>
        h(
          'tr',
          { 'data-instrument': i.id },
          h('td', {}, i.id),
          h('td', {}, i.kind),
          h('td', {}, i.model),
          h('td', {}, i.port ?? '–'),
          h('td', {}, i.channels.map((c) => `${c.name} (${c.role}${c.unit ? `, ${c.unit}` : ''})`).join(', ')),
        ),
      ),
    );
    const l = bench.limits;
    const items: [string, string][] = [
      ['maxVoltage', `${fmt(l.maxVoltage)} V`],
      ['maxCurrent', `${fmt(l.maxCurrent)} A`],
      ['maxPower', `${fmt(l.maxPower)} W`],
      ['compliance', `${fmt(l.compliance.current)} A when sourcing voltage, ${fmt(l.compliance.voltage)} V when sourcing current`],
      ...(l.maxDurationS !== undefined ? [['maxDurationS', `${fmt(l.maxDurationS)} s`] as [string, string]] : []),
    ];
    limits.replaceChildren(...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-limit': k }, v)]));
  });
  void api.sources().then((r) =>
    sources.replaceChildren(
      ...r.sources.map((s) =>
        h('tr', { 'data-source': s.kind }, h('td', {}, s.kind), h('td', {}, s.title), h('td', {}, s.available ? 'yes' : `no${s.detail ? `: ${s.detail}` : ''}`)),
      ),
    ),
  );

  return {
    unmount() {
      plot?.destroy();
    },
  };
}
