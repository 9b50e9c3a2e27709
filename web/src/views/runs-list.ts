/** `#/`: the runs, newest first, with status / text / tag filters. Refreshes every 2 s while shown. */
import { api, type RunStatus, type RunSummary } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime } from '../format.ts';
import { Router, type ViewInstance } from '../router.ts';
import { describeProtocol, runDurationText, statusBadge } from './describe.ts';

const STATUSES: RunStatus[] = ['running', 'completed', 'aborted', 'failed', 'interrupted'];
const PAGE = 100;

export function runsList(root: HTMLElement): ViewInstance {
  const search = h('input', { type: 'search', placeholder: 'Search label, protocol, notes…', 'aria-label': 'Search runs' });
  const status = h('select', { 'aria-label': 'Status' }, h('option', { value: '' }, 'any status'), ...STATUSES.map((s) => h('option', { value: s }, s)));
  const tag = h('input', { type: 'text', placeholder: 'tag', 'aria-label': 'Tag', class: 'narrow' });
  const msg = h('div', { class: 'list-message', role: 'status' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'runs' },
    h('thead', {}, h('tr', {}, ...['#', 'Status', 'Label', 'Protocol', 'Source', 'Started', 'Length', 'Tags'].map((t) => h('th', {}, t)))),
    tbody,
  );
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

  function render(runs: RunSummary[]): void {
    tbody.replaceChildren(
      ...runs.map((r) =>
        h(
          'tr',
          { 'data-run-id': String(r.id), tabindex: 0, onclick: () => Router.go(`/runs/${r.id}`), onkeydown: ((e: KeyboardEvent) => e.key === 'Enter' && Router.go(`/runs/${r.id}`)) as EventListener },
          h('td', { class: 'num' }, h('a', { href: `#/runs/${r.id}` }, String(r.id))),
          h('td', {}, statusBadge(r.status), r.reason && r.status !== 'completed' ? h('div', { class: 'sub' }, r.reason) : null),
          h('td', {}, r.label ?? ''),
          h('td', {}, h('strong', {}, r.protocol.kind), h('div', { class: 'sub' }, describeProtocol(r.protocol))),
          h('td', {}, r.source),
          h('td', { class: 'nowrap' }, dateTime(r.createdAt)),
          h('td', { class: 'nowrap' }, runDurationText(r)),
          h('td', {}, ...r.tags.map((t) => h('span', { class: 'tag' }, t))),
        ),
      ),
    );
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

/**
 * The import form: a recording (oscilloscope CSV, plain CSV/NPY, WAV, spikeloop NWB) becomes a run through
 * POST /api/import; the server's refusal (no rate, non-uniform time, ragged rows ...) is shown as it is.
 */
function importPanel(opened: (runId: number) => void): HTMLElement {
  const file = h('input', { type: 'file', 'aria-label': 'Recording file', accept: '.csv,.txt,.npy,.wav,.nwb,.h5' });
  const rate = h('input', { type: 'text', class: 'narrow', placeholder: 'rate, Hz (if no time column)', 'aria-label': 'Sample rate' });
  const unit = h('input', { type: 'text', class: 'narrow', placeholder: 'unit (if none)', 'aria-label': 'Unit' });
  const stimulus = h('input', { type: 'text', class: 'narrow', placeholder: 'stimulus channel', 'aria-label': 'Stimulus channel' });
  const note = h('div', { class: 'list-message', role: 'status' });
  const go = h('button', { type: 'submit', class: 'button primary' }, 'Import');
  const form = h('form', { class: 'filters import-panel', hidden: true }, file, rate, unit, stimulus, go, note) as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f) {
      note.className = 'list-message error-box';
      note.textContent = 'Choose a file first.';
      return;
    }
    go.disabled = true;
    note.className = 'list-message';
    note.textContent = `Importing ${f.name}…`;
    api
      .importFile(f, { rate: rate.value.trim(), unit: unit.value.trim(), stimulus: stimulus.value.trim() })
      .then((run) => opened(run.id))
      .catch((err: unknown) => {
        note.className = 'list-message error-box';
        note.textContent = err instanceof Error ? err.message : String(err);
      })
      .finally(() => (go.disabled = false));
  });
  return form;
}
