/**
 * `#/`: the runs, newest first, with status / text / tag filters; columns sort on a click of their header
 * (again: the other way); tick several runs to overlay them on one axis (`#/overlay?runs=…`) or to compare
 * them: one run with its twin, several pairwise with the first (`#/compare/:first?with=…`). LENGTH is the recorded duration in signal time; a sweep's tag shows the sweep's name.
 * Refreshes every 2 s while shown (the sort and the ticks stay).
 */
import { api, type RunStatus, type RunSummary } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime } from '../format.ts';
import { Router, type ViewInstance } from '../router.ts';
import { describeProtocol, recordedSeconds, runDurationText, statusBadge } from './describe.ts';
import { importPanel } from './import-panel.ts';

const STATUSES: RunStatus[] = ['running', 'completed', 'aborted', 'failed', 'interrupted'];
const PAGE = 100;

/** The sortable columns: header text and sort key. */
const COLUMNS: { title: string; key?: (r: RunSummary) => number | string }[] = [
  { title: '' },
  { title: '#', key: (r) => r.id },
  { title: 'Status', key: (r) => r.status },
  { title: 'Label', key: (r) => (r.label ?? '').toLowerCase() },
  { title: 'Protocol', key: (r) => r.protocol.kind },
  { title: 'Source', key: (r) => r.source },
  { title: 'Started', key: (r) => r.createdAt },
  { title: 'Length', key: (r) => recordedSeconds(r) },
  { title: 'Tags', key: (r) => r.tags.join(',') },
];

export function runsList(root: HTMLElement): ViewInstance {
  const search = h('input', { type: 'search', placeholder: 'Search label, protocol, notes…', 'aria-label': 'Search runs' });
  const status = h('select', { 'aria-label': 'Status' }, h('option', { value: '' }, 'any status'), ...STATUSES.map((s) => h('option', { value: s }, s)));
  const tag = h('input', { type: 'text', placeholder: 'tag', 'aria-label': 'Tag', class: 'narrow' });
  const msg = h('div', { class: 'list-message', role: 'status' });
  const tbody = h('tbody');
  let sort: { col: number; dir: 1 | -1 } = { col: 1, dir: -1 };
  const selected = new Set<number>();
  let shown: RunSummary[] = [];
  /** Sweep id → name, for the sweep tags (`sweep:<id>`). */
  const sweepNames = new Map<string, string>();
  const heads = COLUMNS.map((c, i) =>
    h(
      'th',
      c.key
        ? { 'data-sort': c.title.toLowerCase(), class: 'sortable', tabindex: 0, title: `Sort by ${c.title}`, onclick: () => sortBy(i), onkeydown: ((e: KeyboardEvent) => e.key === 'Enter' && sortBy(i)) as EventListener }
        : {},
      c.title,
    ),
  );
  const table = h('table', { class: 'runs' }, h('thead', {}, h('tr', {}, ...heads)), tbody);
  const selInfo = h('span', { class: 'hint', 'data-stat': 'selected' });
  const overlayBtn = h('button', { type: 'button', class: 'small', 'data-action': 'overlay', title: 'Overlay the ticked runs on one axis' }, 'Overlay');
  const compareBtn = h(
    'button',
    { type: 'button', class: 'small', 'data-action': 'compare-selected', title: 'One run (or a run and its twin run): compare it with its twin. Several: each pairwise with the first (the earliest measured run)' },
    'Compare',
  );
  const clearBtn = h('button', { type: 'button', class: 'small ghost', onclick: () => (selected.clear(), render(shown)) }, 'Clear');
  overlayBtn.addEventListener('click', () => Router.go(`/overlay?runs=${[...selected].sort((a, b) => a - b).join(',')}`));
  compareBtn.addEventListener('click', () => {
    const to = compareTarget();
    if (to) Router.go(to);
  });
  /**
   * The Compare page for the ticks: one run with its twin (also for a measured run and its twin run ticked
   * together); otherwise the first — the earliest measured run, else the earliest — pairwise with each other.
   */
  function compareTarget(): string | null {
    const ids = [...selected].sort((a, b) => a - b);
    if (ids.length === 0) return null;
    if (ids.length === 1) return `/compare/${ids[0]}`;
    const runs = ids.map((id) => shown.find((r) => r.id === id));
    if (ids.length === 2) {
      const [a, b] = runs;
      if (a && b?.linkedRunId === a.id && b.source === 'twin') return `/compare/${a.id}`;
      if (b && a?.linkedRunId === b.id && a.source === 'twin') return `/compare/${b.id}`;
    }
    const first = runs.find((r) => r && r.source !== 'twin')?.id ?? ids[0];
    return `/compare/${first}?with=${ids.filter((i) => i !== first).join(',')}`;
  }
  const selectionBar = h('div', { class: 'filters selection-bar' }, selInfo, overlayBtn, compareBtn, clearBtn);
  function sortBy(col: number): void {
    sort = sort.col === col ? { col, dir: sort.dir === 1 ? -1 : 1 } : { col, dir: col === 1 || col === 6 || col === 7 ? -1 : 1 };
    render(shown);
  }
  const importer = importPanel((id) => Router.go(`/runs/${id}`));
  const page = h(
    'div',
    { class: 'page runs-page' },
    h(
      'div',
      { class: 'page-head' },
      h('h2', {}, 'Runs'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'button', 'data-action': 'import', onclick: () => (importer.hidden = !importer.hidden) }, 'Import…'),
      h('a', { class: 'button primary', href: '#/new' }, 'New run'),
    ),
    importer,
    h('div', { class: 'filters' }, search, status, tag),
    selectionBar,
    msg,
    table,
  );
  root.append(page);

  let ac: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gone = false;
  async function refresh(): Promise<void> {
    clearTimeout(timer);
    ac?.abort();
    const mine = (ac = new AbortController());
    try {
      const runs = await api.listRuns({ limit: PAGE, status: status.value as RunStatus | '', search: search.value.trim(), tag: tag.value.trim() }, mine.signal);
      if (gone || mine.signal.aborted) return;
      await loadSweepNames(runs);
      if (gone || mine.signal.aborted) return;
      render(runs);
      const filtered = Boolean(search.value.trim() || status.value || tag.value.trim());
      msg.className = 'list-message';
      msg.textContent = runs.length === 0 ? (filtered ? 'No runs match these filters.' : 'No runs yet. Start one with "New run".') : '';
    } catch (e) {
      if (gone || mine.signal.aborted) return;
      msg.className = 'list-message error-box';
      msg.textContent = `Could not load the runs: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (!gone) timer = setTimeout(() => void refresh(), 2000);
  }

  /** Names of sweeps whose tags appear and are not known yet (one request, only when a new one shows up). */
  async function loadSweepNames(runs: RunSummary[]): Promise<void> {
    const unknown = runs.some((r) => r.tags.some((t) => t.startsWith('sweep:') && !sweepNames.has(t.slice(6))));
    if (!unknown) return;
    try {
      for (const sw of await api.sweeps()) sweepNames.set(sw.id, sw.label);
    } catch {
      /* the tags stay as they are */
    }
  }

  function tagChip(t: string): HTMLElement {
    const id = t.startsWith('sweep:') ? t.slice(6) : null;
    const name = id ? sweepNames.get(id) : undefined;
    if (!id) return h('span', { class: 'tag' }, t);
    return h('a', { class: 'tag sweep-tag', href: `#/sweeps/${id}`, title: t, 'data-sweep-tag': id, onclick: (e: Event) => e.stopPropagation() }, `sweep: ${name ?? id}`);
  }

  function render(runs: RunSummary[]): void {
    shown = runs;
    const key = COLUMNS[sort.col].key!;
    const rows = [...runs].sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -1 : ka > kb ? 1 : b.id - a.id) * sort.dir;
    });
    heads.forEach((th, i) => (i === sort.col ? th.setAttribute('aria-sort', sort.dir === 1 ? 'ascending' : 'descending') : th.removeAttribute('aria-sort')));
    tbody.replaceChildren(
      ...rows.map((r) => {
        const tick = h('input', { type: 'checkbox', checked: selected.has(r.id), 'aria-label': `Select run ${r.id}`, 'data-select': String(r.id) });
        tick.addEventListener('click', (e) => e.stopPropagation());
        tick.addEventListener('change', () => {
          if (tick.checked) selected.add(r.id);
          else selected.delete(r.id);
          showSelection();
        });
        return h(
          'tr',
          { 'data-run-id': String(r.id), class: selected.has(r.id) ? 'selected' : null, tabindex: 0, onclick: () => Router.go(`/runs/${r.id}`), onkeydown: ((e: KeyboardEvent) => e.key === 'Enter' && Router.go(`/runs/${r.id}`)) as EventListener },
          h('td', { class: 'tick' }, tick),
          h('td', { class: 'num' }, h('a', { href: `#/runs/${r.id}` }, String(r.id))),
          h('td', {}, statusBadge(r.status), r.reason && r.status !== 'completed' ? h('div', { class: 'sub' }, r.reason) : null),
          h('td', {}, r.label ?? ''),
          h('td', {}, h('strong', {}, r.protocol.kind), h('div', { class: 'sub' }, describeProtocol(r.protocol))),
          h('td', {}, r.source),
          h('td', { class: 'nowrap' }, dateTime(r.createdAt)),
          h('td', { class: 'nowrap', 'data-length': '' }, runDurationText(r)),
          h('td', {}, ...r.tags.map(tagChip)),
        );
      }),
    );
    showSelection();
  }

  function showSelection(): void {
    for (const tr of tbody.querySelectorAll<HTMLElement>('tr')) tr.classList.toggle('selected', selected.has(Number(tr.dataset.runId)));
    selInfo.textContent = selected.size === 0 ? 'Tick runs to overlay or compare them' : `${selected.size} run${selected.size > 1 ? 's' : ''} ticked`;
    overlayBtn.disabled = selected.size < 1;
    compareBtn.disabled = compareTarget() === null;
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), 250);
  };
  search.addEventListener('input', later);
  tag.addEventListener('input', later);
  status.addEventListener('change', () => void refresh());
  void refresh();
  return {
    unmount() {
      gone = true;
      clearTimeout(timer);
      clearTimeout(debounce);
      ac?.abort();
    },
  };
}
