/**
 * `#/runs/:id`: one run's header (status, reason, protocol, tags, notes, stop/delete) above either the
 * live view (while it runs) or the stored view (once it has ended) with its analyses panel below. When a live run stops, the page
 * switches to the stored view by itself.
 */
import { runControls } from './run-controls.ts';
import { api, ApiError, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';
import { dateTime, duration, si, count } from '../format.ts';
import { Router, type Params, type ViewInstance } from '../router.ts';
import { channelTitle, describeProtocol, protocolDuration, runDurationText, statusBadge } from './describe.ts';
import { mountLiveView } from './live-view.ts';
import { mountStoredView } from './stored-view.ts';
import { mountAnalysisPanel } from './analysis-panel.ts';
import { mountFitPanel } from './fit-panel.ts';

export function runPage(root: HTMLElement, params: Params): ViewInstance {
  const id = Number(params.id);
  const page = h('div', { class: 'page run-page' });
  root.append(page);
  let body: { unmount(): void } | null = null;
  /** Which view `body` is: a late live-feed stop must not replace a stored view already shown. */
  let mode: 'live' | 'stored' | null = null;
  let gone = false;
  const ac = new AbortController();

  const fail = (msg: string, retry?: () => void) =>
    page.replaceChildren(
      h('div', { class: 'error-box', role: 'alert' }, msg, retry ? h('button', { class: 'small', onclick: retry }, 'Retry') : null),
      h('p', {}, h('a', { href: '#/' }, '← All runs')),
    );

  async function load(): Promise<void> {
    if (!Number.isInteger(id) || id < 1) return fail(`"${params.id}" is not a run id.`);
    page.replaceChildren(h('p', { class: 'loading' }, `Loading run ${id}…`));
    try {
      render(await api.getRun(id, ac.signal));
    } catch (e) {
      if (gone) return;
      if (e instanceof ApiError && e.status === 404) fail(`Run ${id} does not exist (it may have been deleted).`);
      else fail(`Could not load run ${id}: ${e instanceof Error ? e.message : String(e)}`, () => void load());
    }
  }

  function render(run: RunDetail): void {
    body?.unmount();
    body = null;
    const header = runHeader(run, {
      stop: async (button) => {
        button.disabled = true;
        button.textContent = 'Stopping…';
        try {
          const stopped = await api.stopRun(run.id);
          // The stop reply already holds the final status: show the stored run without waiting for the
          // live feed's own stop message (which may sit behind a backlog of blocks on a slow connection).
          if (stopped.status !== 'running' && !gone) render(stopped);
        } catch (e) {
          button.disabled = false;
          button.textContent = 'Stop';
          notice.textContent = `Stop failed: ${e instanceof Error ? e.message : String(e)}`;
        }
      },
      remove: async () => {
        if (!confirm(`Delete run ${run.id} and all its data?`)) return;
        try {
          await api.deleteRun(run.id);
          Router.go('/');
        } catch (e) {
          notice.textContent = `Delete failed: ${e instanceof Error ? e.message : String(e)}`;
        }
      },
    });
    const notice = h('div', { class: 'notice', role: 'status' });
    const main = h('div', { class: 'run-body' });
    page.replaceChildren(header, notice, main);
    mode = run.status === 'running' ? 'live' : 'stored';
    if (run.status === 'running') {
      const liveView = mountLiveView(main, run, {
        // One count on the page: the header shows the live view's totals.
        onCounts: (c) => (header.querySelector('[data-fact=events] dd')!.firstChild!.textContent = eventsText(c)),
        onStop: (status, reason) => {
          notice.textContent = `Run ${status}${reason ? `: ${reason}` : ''}. Loading the stored run…`;
          // Give the store a moment to commit its last batch, then show the stored run.
          setTimeout(() => !gone && mode === 'live' && void load(), 400);
        },
        onLost: (detail) => {
          notice.className = 'notice error-box';
          notice.textContent = `Lost the live feed: ${detail}. The run may still be recording on the server.`;
          notice.append(h('button', { class: 'small', onclick: () => void load() }, 'Reconnect'));
        },
      });
      const analyses = mountAnalysisPanel(main, run);
      body = { unmount: () => (analyses.unmount(), liveView.unmount()) };
    } else {
      const stored = mountStoredView(main, run);
      const analyses = mountAnalysisPanel(main, run, stored);
      const fit = mountFitPanel(main, run);
      body = { unmount: () => (fit.unmount(), analyses.unmount(), stored.unmount()) };
    }
  }

  void load();
  return {
    unmount() {
      gone = true;
      ac.abort();
      body?.unmount();
    },
  };
}

function runHeader(run: RunDetail, actions: { stop(b: HTMLButtonElement): void; remove(): void }): HTMLElement {
  const reason =
    run.status !== 'running' && run.status !== 'completed'
      ? h(
          'div',
          { class: `reason reason-${run.status}`, role: 'alert', 'data-reason': '' },
          h('strong', {}, run.status === 'aborted' ? 'Aborted' : run.status === 'failed' ? 'Failed' : 'Interrupted'),
          `: ${run.reason ?? 'no reason recorded'}`,
        )
      : null;
  const stopBtn = h('button', { class: 'danger', type: 'button', 'data-action': 'stop' }, 'Stop');
  stopBtn.addEventListener('click', () => actions.stop(stopBtn));
  const dropped = run.dropped.reduce((n, d) => n + (d.end - d.start), 0);
  return h(
    'header',
    { class: 'run-header' },
    h(
      'div',
      { class: 'run-title' },
      h('h2', {}, `Run ${run.id}`, run.label ? h('span', { class: 'label' }, ` — ${run.label}`) : null),
      statusBadge(run.status),
      h('span', { class: 'spacer' }),
      run.status === 'running' ? runControls(run.id) : compareLink(run),
      run.status === 'running' ? null : h('a', { class: 'button small', href: `#/replay/${run.id}`, 'data-action': 'replay' }, 'Replay'),
      run.status === 'running' ? stopBtn : h('button', { class: 'small ghost', type: 'button', onclick: actions.remove }, 'Delete'),
    ),
    reason,
    h(
      'dl',
      { class: 'facts' },
      fact('Protocol', `${run.protocol.kind} ${run.protocol.quantity ?? ''}`.trim(), describeProtocol(run.protocol)),
      fact('Source', run.source),
      fact('Started', dateTime(run.createdAt)),
      // While running, the header's progress says how far it is; a recorded length from the page load would go stale.
      fact('Length', run.status === 'running' && protocolDuration(run.protocol) !== null ? `${duration(protocolDuration(run.protocol))} planned` : runDurationText(run)),
      fact('Channels', run.channels.map((c) => `${channelTitle(c)} ${si(c.sampleRate, 'S/s')}`).join(', ') || '—'),
      fact('Events', eventsText(run.eventCounts)),
      dropped > 0 ? fact('Dropped', `${dropped.toLocaleString()} samples in ${run.dropped.length} ranges`) : null,
      run.linkedRunId ? fact('Linked run', h('a', { href: `#/runs/${run.linkedRunId}` }, `#${run.linkedRunId}`)) : null,
    ),
    channelNotes(run),
    tagsAndNotes(run),
  );
}

/**
 * Compare: a measured (or imported) run with its twin; a twin run paired with a measured run opens that
 * pair. A twin run of its own (twin run, sweep point) has no measured run to compare with: no link.
 */
function compareLink(run: RunDetail): HTMLElement | null {
  if (run.source !== 'twin') return h('a', { class: 'button small', href: `#/compare/${run.id}`, 'data-action': 'compare' }, 'Compare with twin');
  if (run.linkedRunId === null) return null;
  return h('a', { class: 'button small', href: `#/compare/${run.linkedRunId}`, 'data-action': 'compare' }, `Compare with run #${run.linkedRunId}`);
}

function eventsText(c: RunDetail['eventCounts']): string {
  return `${count(c.spike, 'spike')}, ${count(c.marker, 'marker')}, ${count(c.fault, 'fault')}`;
}

/** What the server says a reader of the channels should know (no unit conversion, too few samples per period). */
function channelNotes(run: RunDetail): HTMLElement | null {
  // The same note on several channels (a rate too low for the stimulus) is said once, naming them all.
  const byNote = new Map<string, string[]>();
  for (const c of run.channels) for (const n of c.notes ?? []) byNote.set(n, [...(byNote.get(n) ?? []), c.label || c.name]);
  const items = [...byNote].map(([n, names]) => h('li', { 'data-channel-note': '' }, h('strong', {}, `${names.join(', ')}: `), n));
  const converted = run.channels.filter((c) => c.convert).map((c) => h('li', { 'data-channel-convert': c.name }, `${c.label || c.name}: shown in ${c.convert!.unit} via ${c.convert!.via}`));
  if (items.length + converted.length === 0) return null;
  return h('ul', { class: `channel-notes${items.length ? ' warn-box' : ''}`, 'data-channel-notes': '' }, ...items, ...converted);
}

function fact(name: string, value: string | Node, title?: string): HTMLElement {
  return h('div', { class: 'fact', 'data-fact': name.toLowerCase() }, h('dt', {}, name), h('dd', { title: title ?? null }, value, title ? h('div', { class: 'sub' }, title) : null));
}

function tagsAndNotes(run: RunDetail): HTMLElement {
  const tags = h('input', { type: 'text', value: run.tags.join(', '), placeholder: 'tags, comma separated', 'aria-label': 'Tags' });
  const notes = h('textarea', { rows: 1, placeholder: 'notes', 'aria-label': 'Notes' });
  notes.value = run.notes ?? '';
  const status = h('span', { class: 'hint' });
  const save = async () => {
    status.textContent = 'saving…';
    try {
      const list = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      await api.setTags(run.id, list);
      await api.setNotes(run.id, notes.value);
      status.textContent = 'saved';
    } catch (e) {
      status.textContent = `not saved: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  return h('div', { class: 'annotations' }, tags, notes, h('button', { class: 'small', type: 'button', onclick: () => void save() }, 'Save'), status);
}
