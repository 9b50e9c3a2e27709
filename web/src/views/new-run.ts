/**
 * `#/new`: start a run. The protocol kinds and their fields come from GET /api/protocols (JSON schemas with
 * defaults and descriptions); the sources from GET /api/sources. Values are checked against the schema in
 * the browser first; errors the server returns are shown next to the field they name.
 */
import { api, ApiError, type JsonSchema, type ProtocolInfo, type SourceInfo, type StartRunBody } from '../api.ts';
import { h } from '../dom.ts';
import { objectFields, makeField, readFields, type Field } from '../form/schema-form.ts';
import { Router, type ViewInstance } from '../router.ts';

/** The run-level settings (not part of a protocol), as the API contract defines them. */
const RUN_SCHEMA: Record<'sampleRate' | 'label', JsonSchema> = {
  sampleRate: { type: 'number', minimum: 1, maximum: 2_000_000, default: 100_000, description: 'Samples per second per channel' },
  label: { type: 'string', maxLength: 200, description: 'Free text shown in the runs list' },
};

export function newRun(root: HTMLElement, _params: unknown, query: URLSearchParams): ViewInstance {
  const page = h('div', { class: 'page new-run-page' }, h('h2', {}, 'New run'), h('p', { class: 'loading' }, 'Loading protocols…'));
  root.append(page);
  let gone = false;

  async function load(): Promise<void> {
    try {
      const [protocols, sources] = await Promise.all([api.protocols(), api.sources()]);
      if (!gone) build(protocols, sources.sources, sources.default);
    } catch (e) {
      if (gone) return;
      page.replaceChildren(
        h('h2', {}, 'New run'),
        h('div', { class: 'error-box', role: 'alert' }, `Could not load the protocols: ${e instanceof Error ? e.message : String(e)} `, h('button', { class: 'small', onclick: () => void load() }, 'Retry')),
      );
    }
  }

  function build(protocols: ProtocolInfo[], sources: SourceInfo[], defaultSource: string): void {
    const kindSel = h('select', { id: 'f-protocol-kind', name: 'kind', 'data-pointer': '/protocol/kind' });
    for (const p of protocols) kindSel.append(h('option', { value: p.kind }, p.title || p.kind));
    const wanted = query.get('kind');
    if (wanted && protocols.some((p) => p.kind === wanted)) kindSel.value = wanted;
    const protoBox = h('div', { class: 'fields' });
    let protoFields: Field[] = [];
    const showKind = () => {
      const p = protocols.find((x) => x.kind === kindSel.value);
      protoFields = p ? objectFields(p.schema, '/protocol', ['kind']) : [];
      protoBox.replaceChildren(...protoFields.map((f) => f.el));
    };
    kindSel.addEventListener('change', showKind);
    showKind();

    const sourceSel = h('select', { id: 'f-source', name: 'source', 'data-pointer': '/source' });
    for (const s of sources) {
      sourceSel.append(h('option', { value: s.kind, disabled: !s.available, title: s.detail ?? null }, `${s.title || s.kind}${s.available ? '' : ' (unavailable)'}`));
    }
    sourceSel.value = sources.find((s) => s.kind === defaultSource && s.available)?.kind ?? sources.find((s) => s.available)?.kind ?? '';
    const sourceDetail = h('div', { class: 'hint' });
    const showSource = () => (sourceDetail.textContent = sources.find((s) => s.kind === sourceSel.value)?.detail ?? '');
    sourceSel.addEventListener('change', showSource);
    showSource();
    const sourceErr = h('div', { class: 'field-error', 'data-error-for': '/source' });
    const sourceField = h('div', { class: 'field', 'data-field': '/source' }, h('label', { for: 'f-source' }, 'source'), sourceSel, sourceDetail, sourceErr);

    const runFields = [
      makeField('/sampleRate', 'sampleRate', RUN_SCHEMA.sampleRate),
      makeField('/label', 'label', RUN_SCHEMA.label, true),
    ];
    // Each source proposes the rate its hardware sustains (a DAQ board far less than the simulated bench).
    const rateInput = runFields[0].el.querySelector('input')!;
    const proposeRate = () => {
      rateInput.value = String(sources.find((s) => s.kind === sourceSel.value)?.defaultSampleRate ?? RUN_SCHEMA.sampleRate.default);
    };
    sourceSel.addEventListener('change', proposeRate);
    proposeRate();
    const formError = h('div', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'start' }, 'Start run');
    const form = h(
      'form',
      { class: 'run-form', novalidate: true },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Protocol'),
        h('div', { class: 'field', 'data-field': '/protocol/kind' }, h('label', { for: 'f-protocol-kind' }, 'kind'), kindSel, h('div', { class: 'field-error', 'data-error-for': '/protocol/kind' })),
        protoBox,
      ),
      h('fieldset', {}, h('legend', {}, 'Run'), sourceField, ...runFields.map((f) => f.el)),
      formError,
      h('div', { class: 'actions' }, submit, h('a', { href: '#/', class: 'button ghost' }, 'Cancel')),
    );

    // Once every field is valid again, the form-level "please correct" message goes away.
    form.addEventListener('input', () => {
      if (!form.querySelector('.invalid')) formError.textContent = '';
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      formError.textContent = '';
      sourceErr.textContent = '';
      const proto = readFields(protoFields);
      const runVals = readFields(runFields);
      if (!proto || !runVals) {
        formError.textContent = 'Please correct the highlighted fields.';
        form.querySelector<HTMLElement>('.invalid input, .invalid select')?.focus();
        return;
      }
      const body: StartRunBody = { protocol: { kind: kindSel.value, ...proto }, sampleRate: runVals.sampleRate as number };
      if (sourceSel.value) body.source = sourceSel.value;
      if (typeof runVals.label === 'string' && runVals.label.trim()) body.label = runVals.label.trim();
      submit.disabled = true;
      submit.textContent = 'Starting…';
      try {
        const run = await api.startRun(body);
        Router.go(`/runs/${run.id}`);
      } catch (e) {
        submit.disabled = false;
        submit.textContent = 'Start run';
        if (!(e instanceof ApiError)) {
          formError.textContent = String(e);
          return;
        }
        const target = e.field ? fieldFor(e.field) : null;
        if (target) {
          target.showError(e.message);
          target.input.focus();
          formError.textContent = 'The server refused the run; see the highlighted field.';
        } else if (e.field === '/source') {
          sourceErr.textContent = e.message;
        } else {
          formError.textContent = e.isNetwork ? e.message : `The server refused the run: ${e.message}`;
        }
      }
    });

    /** Server pointers may be body-relative ("/protocol/frequencyHz") or protocol-relative ("/frequencyHz"). */
    function fieldFor(pointer: string): Field | null {
      const all = [...protoFields, ...runFields];
      return all.find((f) => f.pointer === pointer) ?? all.find((f) => f.pointer === `/protocol${pointer}`) ?? null;
    }

    page.replaceChildren(h('h2', {}, 'New run'), form);
  }

  void load();
  return {
    unmount() {
      gone = true;
    },
  };
}
