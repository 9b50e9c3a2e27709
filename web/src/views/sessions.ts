/**
 * `#/sessions`: find stored runs and work with one. Filters (text, notes, tag, protocol kind, source,
 * status, created date range) go to `GET /api/runs` and into the page address (`#/sessions?kind=square&…`,
 * so a search can be bookmarked). Picking a run shows its details below the list: facts, notes and tags
 * (editable), the linked runs (the measured run a twin run belongs to, the twin runs paired with it, with
 * Compare links), the stored analyses, and the stored traces (the run page's stored view) with the CSV/NPY
 * export links and a PNG button on every plot.
 */
import { api, ApiError, type RunDetail, type RunQuery, type RunStatus, type RunSummary, type StoredAnalysis } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime, si, count } from '../format.ts';
import type { Params, ViewInstance } from '../router.ts';
import { describeProtocol, runDurationText, statusBadge } from './describe.ts';
import { mountStoredView } from './stored-view.ts';

const STATUSES: RunStatus[] = ['running', 'completed', 'aborted', 'failed', 'interrupted'];
const SOURCES = ['simulated', 'daq', 'smu', 'twin', 'replay', 'import'];
const PAGE = 200;
/** Filter keys, as they appear in the page address. */
const KEYS = ['search', 'notes', 'tag', 'kind', 'source', 'status', 'from', 'to', 'run'] as const;
type Key = (typeof KEYS)[number];

/** Local calendar day `YYYY-MM-DD` (plus `days`) → its local midnight as ISO 8601 UTC. */
export function localDayStart(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function sessionsPage(root: HTMLElement, _params: Params, query: URLSearchParams): ViewInstance {
  const input = (key: Key, attrs: Record<string, string>) => h('input', { 'data-filter': key, value: query.get(key) ?? '', ...attrs });
  const select = (key: Key, label: string, any: string, values: string[]) => {
    const s = h('select', { 'data-filter': key, 'aria-label': label }, h('option', { value: '' }, any), ...values.map((v) => h('option', { value: v }, v)));
    s.value = query.get(key) ?? '';
    return s;
  };
  const f = {
    search: input('search', { type: 'search', placeholder: 'Search label, protocol, notes, tags…', 'aria-label': 'Search runs' }),
    notes: input('notes', { type: 'text', placeholder: 'notes contain…', 'aria-label': 'Notes contain', class: 'narrow' }),
    tag: input('tag', { type: 'text', placeholder: 'tag', 'aria-label': 'Tag', class: 'narrow' }),
    kind: select('kind', 'Protocol kind', 'any protocol', []),
    source: select('source', 'Source', 'any source', SOURCES),
    status: select('status', 'Status', 'any status', STATUSES),
    from: input('from', { type: 'date', 'aria-label': 'Created from (date)', title: 'Created on or after this day' }),
    to: input('to', { type: 'date', 'aria-label': 'Created until (date)', title: 'Created on or before this day' }),
  };
  const wanted = query.get('kind') ?? '';
  const msg = h('div', { class: 'list-message', role: 'status', 'data-sessions-message': '' });
  const count = h('span', { class: 'hint', 'data-count': '' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'runs sessions-runs' },
    h('thead', {}, h('tr', {}, ...['#', 'Status', 'Label', 'Protocol', 'Source', 'Created', 'Length', 'Tags', 'Notes'].map((t) => h('th', {}, t)))),
    tbody,
  );
  const detail = h('section', { class: 'session-detail', 'aria-live': 'polite' });
  const clearBtn = h('button', { class: 'small ghost', type: 'button', 'data-action': 'clear-filters' }, 'Clear filters');
  const refreshBtn = h('button', { class: 'small', type: 'button', 'data-action': 'refresh' }, 'Refresh');
  const moreBtn = h('button', { class: 'small', type: 'button', 'data-action': 'more', hidden: true }, 'Show more');
  const asked = Math.floor(Number(query.get('limit') ?? ''));
  const pageSize = asked >= 1 ? Math.min(1000, asked) : PAGE;
  const listCsvBtn = h('button', { class: 'small', type: 'button', 'data-action': 'list-csv', title: 'The listed runs (not their samples) as a CSV table' }, 'List as CSV');
  root.append(
    h(
      'div',
      { class: 'page sessions-page' },
      h('div', { class: 'page-head' }, h('h2', {}, 'Sessions'), h('span', { class: 'spacer' }), count),
      h('div', { class: 'filters sessions-filters' }, f.search, f.notes, f.tag, f.kind, f.source, f.status, h('label', { class: 'hint' }, 'from ', f.from), h('label', { class: 'hint' }, 'to ', f.to), clearBtn, refreshBtn, listCsvBtn),
      msg,
      h('div', { class: 'sessions-list' }, table, moreBtn),
      detail,
    ),
  );

  let gone = false;
  let ac: AbortController | null = null;
  let selected = Number(query.get('run')) || 0;
  let shown: { unmount(): void } | null = null;
  let current: RunSummary[] = [];

  // Protocol kinds for the select: the library's kinds (a kind from the address is kept even if unknown).
  void api
    .protocols()
    .then((ps) => {
      if (gone) return;
      const kinds = [...new Set([...ps.map((p) => p.kind), ...(wanted ? [wanted] : [])])];
      f.kind.append(...kinds.map((k) => h('option', { value: k }, k)));
      f.kind.value = wanted;
    })
    .catch(() => {
      if (wanted) f.kind.append(h('option', { value: wanted }, wanted));
      f.kind.value = wanted;
    });

  function values(): Record<Key, string> {
    const v = {} as Record<Key, string>;
    for (const k of Object.keys(f) as (keyof typeof f)[]) v[k] = f[k].value.trim();
    v.run = selected ? String(selected) : '';
    return v;
  }

  /** Keeps the filters and the picked run in the address without re-rendering the page. */
  function syncAddress(): void {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(values())) if (v) q.set(k, v);
    if (pageSize !== PAGE) q.set('limit', String(pageSize));
    const s = q.toString();
    history.replaceState(null, '', `#/sessions${s ? '?' + s : ''}`);
  }

  /** `more`: the next page after the runs shown, appended. */
  async function refresh(more = false): Promise<void> {
    ac?.abort();
    const mine = (ac = new AbortController());
    const v = values();
    if (v.from && v.to && v.from > v.to) {
      msg.className = 'list-message error-box';
      msg.textContent = `The date range is empty: "from" (${v.from}) is after "to" (${v.to}).`;
      tbody.replaceChildren();
      count.textContent = '';
      moreBtn.hidden = true;
      return;
    }
    const q: RunQuery = {
      limit: pageSize,
      offset: more ? current.length : 0,
      search: v.search,
      notes: v.notes,
      tag: v.tag,
      kind: v.kind,
      source: v.source,
      status: v.status as RunStatus | '',
      after: v.from ? localDayStart(v.from) : undefined,
      before: v.to ? localDayStart(v.to, 1) : undefined,
    };
    syncAddress();
    try {
      const page = await api.listRuns(q, mine.signal);
      if (gone || mine.signal.aborted) return;
      // A run started between pages shifts the offsets: drop what is already listed.
      const have = new Set(more ? current.map((r) => r.id) : []);
      const runs = more ? [...current, ...page.filter((r) => !have.has(r.id))] : page;
      render(runs);
      moreBtn.hidden = page.length < pageSize;
      const filtered = Object.entries(v).some(([k, x]) => k !== 'run' && x);
      msg.className = 'list-message';
      msg.textContent = runs.length === 0 ? (filtered ? 'No runs match these filters.' : 'No runs stored yet.') : '';
      count.textContent = `${runs.length}${page.length === pageSize ? '+' : ''} run${runs.length === 1 ? '' : 's'}${filtered ? ' match' + (runs.length === 1 ? 'es' : '') : ''}`;
    } catch (e) {
      if (gone || mine.signal.aborted) return;
      msg.className = 'list-message error-box';
      msg.textContent = `Could not load the runs: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  function render(runs: RunSummary[]): void {
    current = runs;
    tbody.replaceChildren(
      ...runs.map((r) => {
        const pick = () => void select_(r.id);
        return h(
          'tr',
          {
            'data-run-id': String(r.id),
            class: r.id === selected ? 'selected' : null,
            tabindex: 0,
            onclick: pick,
            onkeydown: ((e: KeyboardEvent) => e.key === 'Enter' && pick()) as EventListener,
          },
          h('td', { class: 'num' }, String(r.id)),
          h('td', {}, statusBadge(r.status)),
          h('td', {}, r.label ?? ''),
          h('td', {}, h('strong', {}, r.protocol.kind), h('div', { class: 'sub' }, describeProtocol(r.protocol))),
          h('td', {}, r.source, r.linkedRunId ? h('div', { class: 'sub' }, `linked to #${r.linkedRunId}`) : null),
          h('td', { class: 'nowrap' }, dateTime(r.createdAt)),
          h('td', { class: 'nowrap' }, runDurationText(r)),
          h('td', {}, ...r.tags.map((t) => h('span', { class: 'tag' }, t))),
          h('td', { class: 'sub notes-cell', title: r.notes ?? '' }, (r.notes ?? '').slice(0, 80)),
        );
      }),
    );
  }

  async function select_(id: number): Promise<void> {
    selected = id;
    for (const tr of tbody.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.runId === String(id));
    syncAddress();
    shown?.unmount();
    shown = null;
    detail.replaceChildren(h('p', { class: 'loading' }, `Loading run ${id}…`));
    try {
      const [run, twins, analyses] = await Promise.all([api.getRun(id), api.listRuns({ linkedTo: id, limit: 50 }), api.analyses(id)]);
      if (gone || selected !== id) return;
      shown = showDetail(detail, run, twins, analyses, () => void refresh());
    } catch (e) {
      if (gone || selected !== id) return;
      detail.replaceChildren(
        h('div', { class: 'error-box', role: 'alert' }, e instanceof ApiError && e.status === 404 ? `Run ${id} does not exist (it may have been deleted).` : `Could not load run ${id}: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), 250);
  };
  for (const el of [f.search, f.notes, f.tag]) el.addEventListener('input', later);
  for (const el of [f.kind, f.source, f.status, f.from, f.to]) el.addEventListener('change', () => void refresh());
  clearBtn.addEventListener('click', () => {
    for (const el of Object.values(f)) el.value = '';
    void refresh();
  });
  refreshBtn.addEventListener('click', () => void refresh());
  moreBtn.addEventListener('click', () => void refresh(true));
  listCsvBtn.addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([runsCsv(current)], { type: 'text/csv' }));
    const a = h('a', { href: url, download: 'spikeloop-runs.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  void refresh();
  if (selected) void select_(selected);
  else detail.append(h('p', { class: 'hint' }, 'Pick a run to see its details, notes, linked twin run, analyses and exports.'));

  return {
    unmount() {
      gone = true;
      clearTimeout(debounce);
      ac?.abort();
      shown?.unmount();
    },
  };
}

function showDetail(container: HTMLElement, run: RunDetail, twins: RunSummary[], analyses: StoredAnalysis[], changed: () => void): { unmount(): void } {
  const runLink = (id: number, text = `#${id}`) => h('a', { href: `#/runs/${id}` }, text);
  const linked: (Node | string)[] = [];
  if (run.linkedRunId) linked.push(h('div', { 'data-linked': 'parent' }, run.source === 'twin' ? 'Twin of measured run ' : 'Linked to run ', runLink(run.linkedRunId), ' · ', h('a', { href: `#/compare/${run.linkedRunId}` }, 'compare')));
  for (const t of twins)
    linked.push(h('div', { 'data-linked': 'child', 'data-run-id': String(t.id) }, `${t.source === 'twin' ? 'Twin run' : 'Linked run'} `, runLink(t.id), ` (${t.label ?? t.protocol.kind}, ${t.status}) · `, h('a', { href: `#/compare/${run.id}` }, 'compare')));

  const tags = h('input', { type: 'text', value: run.tags.join(', '), placeholder: 'tags, comma separated', 'aria-label': 'Tags', 'data-edit': 'tags' });
  const notes = h('textarea', { rows: 3, placeholder: 'notes', 'aria-label': 'Notes', 'data-edit': 'notes' });
  notes.value = run.notes ?? '';
  const saved = h('span', { class: 'hint', 'data-saved': '' });
  const save = h('button', { class: 'small', type: 'button', 'data-action': 'save-annotations' }, 'Save notes and tags');
  save.addEventListener('click', async () => {
    save.disabled = true;
    saved.textContent = 'saving…';
    try {
      await api.setTags(run.id, tags.value.split(',').map((t) => t.trim()).filter(Boolean));
      const after = await api.setNotes(run.id, notes.value);
      tags.value = after.tags.join(', ');
      saved.textContent = 'saved';
      changed();
    } catch (e) {
      saved.textContent = `not saved: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      save.disabled = false;
    }
  });

  const traces = h('div', { class: 'session-traces' });
  container.replaceChildren(
    h(
      'div',
      { class: 'session-card', 'data-run-id': String(run.id) },
      h('div', { class: 'run-title' }, h('h3', {}, `Run ${run.id}`, run.label ? ` — ${run.label}` : ''), statusBadge(run.status), h('span', { class: 'spacer' }), h('a', { class: 'button small', href: `#/runs/${run.id}`, 'data-action': 'open-run' }, 'Open run page')),
      run.reason && run.status !== 'completed' ? h('div', { class: 'sub' }, run.reason) : null,
      h(
        'dl',
        { class: 'facts' },
        fact('Protocol', run.protocol.kind, describeProtocol(run.protocol)),
        fact('Source', run.source),
        fact('Created', dateTime(run.createdAt)),
        fact('Length', runDurationText(run)),
        fact('Channels', run.channels.map((c) => `${c.name} [${c.unit}] ${si(c.sampleRate, 'S/s')}`).join(', ') || '—'),
        fact('Events', `${count(run.eventCounts.spike, 'spike')}, ${count(run.eventCounts.marker, 'marker')}, ${count(run.eventCounts.fault, 'fault')}`),
        fact('Software', run.softwareVersion),
      ),
      h('div', { class: 'session-block' }, h('h4', {}, 'Notes and tags'), h('div', { class: 'annotations' }, tags, notes, save, saved)),
      h('div', { class: 'session-block', 'data-section': 'linked' }, h('h4', {}, 'Linked runs'), ...(linked.length ? linked : [h('p', { class: 'hint' }, 'No linked twin run. Pair it with the twin from the Compare page.')])),
      h('div', { class: 'session-block', 'data-section': 'analyses' }, h('h4', {}, `Stored analyses (${analyses.length})`), analysesTable(analyses)),
      h('details', { class: 'session-block' }, h('summary', {}, 'Protocol document'), h('pre', { class: 'json' }, JSON.stringify(run.protocol, null, 2))),
      h('div', { class: 'session-block' }, h('h4', {}, 'Traces and export'), h('p', { class: 'hint' }, 'CSV and NPY below the plots; each plot has a PNG button.'), traces),
    ),
  );
  if (run.status === 'running') {
    traces.append(h('p', { class: 'hint' }, 'The run is still recording: ', h('a', { href: `#/runs/${run.id}` }, 'watch it live'), '.'));
    return { unmount() {} };
  }
  return mountStoredView(traces, run);
}

function fact(name: string, value: string | Node, sub?: string): HTMLElement {
  return h('div', { class: 'fact' }, h('dt', {}, name), h('dd', {}, value, sub ? h('div', { class: 'sub' }, sub) : null));
}

/** Top-level scalars of an analysis result ("n_spikes 12, rate_hz 12.3, isi_cv 0.41, …"), the whole result behind a toggle. */
function analysesTable(analyses: StoredAnalysis[]): HTMLElement {
  if (analyses.length === 0) return h('p', { class: 'hint' }, 'No analyses stored with this run.');
  return h(
    'table',
    { class: 'runs analyses' },
    h('thead', {}, h('tr', {}, ...['Analysis', 'Stored', 'Summary'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      ...analyses.map((a) =>
        h(
          'tr',
          { 'data-analysis': a.name },
          h('td', {}, h('strong', {}, a.name)),
          h('td', { class: 'nowrap' }, dateTime(a.createdAt)),
          h('td', {}, summarise(a.result), h('details', {}, h('summary', {}, 'result'), h('pre', { class: 'json' }, clip(JSON.stringify(a.result, null, 1))))),
        ),
      ),
    ),
  );
}

function summarise(result: unknown): string {
  if (!result || typeof result !== 'object') return String(result ?? '');
  const parts: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (parts.length >= 8) return;
      if (typeof v === 'number') parts.push(`${prefix}${k} ${Number.isInteger(v) ? v : Number(v.toPrecision(4))}`);
      else if (typeof v === 'string' && v.length < 40) parts.push(`${prefix}${k} ${v}`);
      else if (v && typeof v === 'object' && !Array.isArray(v) && !prefix) walk(v as Record<string, unknown>, `${k}.`);
    }
  };
  walk(result as Record<string, unknown>, '');
  return parts.join(', ');
}

const clip = (s: string) => (s.length > 6000 ? s.slice(0, 6000) + '\n…' : s);

const CSV_COLUMNS = ['id', 'status', 'reason', 'label', 'protocol_kind', 'protocol', 'source', 'created_at', 'ended_at', 'linked_run_id', 'tags', 'notes'] as const;

/** The runs as CSV (RFC 4180 quoting): one row per run, the protocol as JSON, tags joined with `;`. */
export function runsCsv(runs: RunSummary[]): string {
  const field = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = runs.map((r) =>
    [r.id, r.status, r.reason, r.label, r.protocol.kind, JSON.stringify(r.protocol), r.source, r.createdAt, r.endedAt, r.linkedRunId, r.tags.join(';'), r.notes].map(field).join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
