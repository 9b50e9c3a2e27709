/**
 * The sweep editor of the sweeps page: a form generated from the protocol schemas (the base protocol as
 * New run shows it, protocol-form.ts; each swept parameter a field of that protocol with a range — start,
 * stop, steps, linear or log — or a list of values; grid or zip), and the same document as JSON (the JSON
 * view is the document; switching views converts, a JSON that does not parse stays in the JSON view with
 * its error). Sweep documents: server/protocols/sweep.ts, docs/protocols.md.
 */
import { ApiError, type JsonSchema, type ProtocolInfo } from '../api.ts';
import { h } from '../dom.ts';
import { protocolForm, protocolFieldTitle, type BenchLimits } from './protocol-form.ts';

type Json = Record<string, unknown>;
export type EditorView = 'form' | 'json';

interface ParamRow {
  el: HTMLElement;
  field: HTMLSelectElement;
  mode: HTMLSelectElement;
  start: HTMLInputElement;
  stop: HTMLInputElement;
  steps: HTMLInputElement;
  scale: HTMLSelectElement;
  values: HTMLInputElement;
  error: HTMLElement;
}

export interface SweepEditor {
  el: HTMLElement;
  view(): EditorView;
  setView(v: EditorView): boolean;
  /** The sweep document (throws an ApiError BAD_JSON for JSON that does not parse). */
  doc(): unknown;
  /** The JSON text of the document, as stored across visits. */
  text(): string;
  /** Shows a refusal of the server at the field or parameter row it names; true when shown. */
  showRefusal(e: ApiError): boolean;
}

/** Numeric properties of a protocol kind: what a sweep can vary from the form. */
const sweepable = (info: ProtocolInfo | undefined): [string, JsonSchema][] =>
  Object.entries(info?.schema.properties ?? {}).filter(([, s]) => s.type === 'number' || s.type === 'integer');

export function sweepEditor(protocols: ProtocolInfo[], limits: BenchLimits, opts: { text: string; view: EditorView; onChange(): void }): SweepEditor {
  const textarea = h('textarea', { id: 'sweep-doc', rows: 12, cols: 80, spellcheck: 'false' });
  const jsonError = h('div', { class: 'field-error', role: 'alert', 'data-error-for': 'json' });
  const label = h('input', { id: 'sweep-label', type: 'text', name: 'label', maxlength: 200 });
  const combine = h('select', { id: 'sweep-combine', name: 'combine' }, h('option', { value: 'grid' }, 'grid: every combination'), h('option', { value: 'zip' }, 'zip: the i-th values together'));
  const rowsBox = h('div', { class: 'sweep-params' });
  let rows: ParamRow[] = [];
  const base = protocolForm(protocols, limits, {
    id: 'base',
    onChange: () => {
      refreshFieldChoices();
      opts.onChange();
    },
  });
  const addBtn = h('button', { type: 'button', class: 'small', 'data-action': 'add-parameter' }, '+ parameter');
  const formEl = h(
    'div',
    { class: 'sweep-form-view', 'data-editor': 'form' },
    h('div', { class: 'field' }, h('label', { for: 'sweep-label' }, 'Label'), label),
    h('fieldset', {}, h('legend', {}, 'Base protocol'), base.el),
    h('fieldset', {}, h('legend', {}, 'Swept parameters'), rowsBox, h('div', { class: 'row' }, addBtn, ' ', h('label', {}, 'Combine ', combine))),
  );
  const jsonEl = h('div', { class: 'sweep-json-view', 'data-editor': 'json' }, h('label', { for: 'sweep-doc' }, 'Sweep (JSON: base protocol, parameters over a list or range, grid or zip)'), textarea, jsonError);
  const tabForm = h('button', { type: 'button', class: 'small tab', 'data-view-mode': 'form' }, 'Form');
  const tabJson = h('button', { type: 'button', class: 'small tab', 'data-view-mode': 'json' }, 'JSON');
  const el = h('div', { class: 'sweep-editor' }, h('div', { class: 'tabs' }, tabForm, tabJson), formEl, jsonEl);
  let view: EditorView = 'form';

  const fieldOptions = () =>
    sweepable(base.info()).map(([k, s]) => h('option', { value: k }, protocolFieldTitle(k, s, base.quantity())));

  function addRow(p?: Json): void {
    const i = rows.length;
    const field = h('select', { id: `sweep-param-${i}-field`, name: 'field' }, ...fieldOptions());
    const mode = h('select', { id: `sweep-param-${i}-mode`, name: 'mode' }, h('option', { value: 'range' }, 'range'), h('option', { value: 'list' }, 'list'));
    const num = (name: string, value: string) => h('input', { id: `sweep-param-${i}-${name}`, name, type: 'text', inputmode: 'decimal', size: 9, value });
    const start = num('start', '');
    const stop = num('stop', '');
    const steps = num('steps', '5');
    const scale = h('select', { id: `sweep-param-${i}-scale`, name: 'scale' }, h('option', { value: 'linear' }, 'linear'), h('option', { value: 'log' }, 'log'));
    const values = h('input', { id: `sweep-param-${i}-values`, name: 'values', type: 'text', size: 30, placeholder: 'values, comma separated' });
    const error = h('div', { class: 'field-error', role: 'alert', 'data-error-for': `/parameters/${i}` });
    const rangeBox = h('span', { class: 'range' }, ' from ', start, ' to ', stop, ' in ', steps, ' steps, ', scale);
    const listBox = h('span', { class: 'list' }, ' ', values);
    const remove = h('button', { type: 'button', class: 'small ghost', title: 'Remove this parameter' }, '×');
    const rowEl = h('div', { class: 'sweep-param', 'data-parameter': i }, field, ' ', mode, rangeBox, listBox, ' ', remove, error);
    const row: ParamRow = { el: rowEl, field, mode, start, stop, steps, scale, values, error };
    const sync = () => {
      rangeBox.hidden = mode.value !== 'range';
      listBox.hidden = mode.value !== 'list';
    };
    mode.addEventListener('change', sync);
    remove.addEventListener('click', () => {
      if (rows.length <= 1) return;
      rows = rows.filter((r) => r !== row);
      rowEl.remove();
      opts.onChange();
    });
    if (p) {
      if (typeof p.field === 'string') {
        if (![...field.options].some((o) => o.value === p.field)) field.append(h('option', { value: String(p.field) }, String(p.field)));
        field.value = p.field;
      }
      if (Array.isArray(p.values)) {
        mode.value = 'list';
        values.value = p.values.join(', ');
      } else {
        mode.value = 'range';
        start.value = p.start === undefined ? '' : String(p.start);
        stop.value = p.stop === undefined ? '' : String(p.stop);
        steps.value = p.steps === undefined ? '' : String(p.steps);
        scale.value = p.scale === 'log' ? 'log' : 'linear';
      }
    }
    sync();
    rows.push(row);
    rowsBox.append(rowEl);
  }
  addBtn.addEventListener('click', () => {
    if (rows.length < 8) addRow();
    opts.onChange();
  });
  function refreshFieldChoices(): void {
    for (const r of rows) {
      const keep = r.field.value;
      r.field.replaceChildren(...fieldOptions());
      if ([...r.field.options].some((o) => o.value === keep)) r.field.value = keep;
    }
  }

  /** The document the form describes (values as typed; the server checks them and names what is wrong). */
  function fromForm(): Json {
    const p = base.peek();
    const baseDoc: Json = { kind: base.kind(), ...('value' in p ? p.value : {}) };
    const nums = (t: string) => t.split(/[,;\s]+/).filter(Boolean).map((x) => (Number.isFinite(Number(x)) ? Number(x) : x));
    const parameters = rows.map((r) => {
      delete baseDoc[r.field.value];
      if (r.mode.value === 'list') return { field: r.field.value, values: nums(r.values.value) };
      return { field: r.field.value, start: Number(r.start.value), stop: Number(r.stop.value), steps: Number(r.steps.value), scale: r.scale.value };
    });
    return { kind: 'sweep', ...(label.value.trim() ? { label: label.value.trim() } : {}), base: baseDoc, parameters, ...(rows.length > 1 ? { combine: combine.value } : {}) };
  }

  function toForm(doc: Json): void {
    label.value = typeof doc.label === 'string' ? doc.label : '';
    base.set(typeof doc.base === 'object' && doc.base ? (doc.base as Json) : {});
    rows = [];
    rowsBox.replaceChildren();
    const params = Array.isArray(doc.parameters) ? (doc.parameters as Json[]) : [];
    for (const p of params.length ? params : [{}]) addRow(p);
    combine.value = doc.combine === 'zip' ? 'zip' : 'grid';
  }

  const parse = (): Json => {
    try {
      return JSON.parse(textarea.value) as Json;
    } catch (e) {
      throw new ApiError(400, 'BAD_JSON', `the sweep is not valid JSON: ${(e as Error).message}`);
    }
  };

  function setView(v: EditorView): boolean {
    if (v === 'form' && view === 'json') {
      let doc: Json;
      try {
        doc = parse();
      } catch (e) {
        jsonError.textContent = `${(e as Error).message}: fix it to edit in the form`;
        return false;
      }
      toForm(doc);
    } else if (v === 'json' && view === 'form') textarea.value = JSON.stringify(fromForm(), null, 2);
    jsonError.textContent = '';
    view = v;
    formEl.hidden = v !== 'form';
    jsonEl.hidden = v !== 'json';
    tabForm.classList.toggle('active', v === 'form');
    tabJson.classList.toggle('active', v === 'json');
    return true;
  }
  tabForm.addEventListener('click', () => setView('form') && opts.onChange());
  tabJson.addEventListener('click', () => setView('json') && opts.onChange());
  el.addEventListener('input', () => opts.onChange());
  el.addEventListener('change', () => opts.onChange());

  // Start in JSON with the stored text, then go to the view last used (a text that no longer parses stays in JSON).
  textarea.value = opts.text;
  view = 'json';
  formEl.hidden = true;
  if (!setView(opts.view)) setView('json');

  return {
    el,
    view: () => view,
    setView,
    doc: () => (view === 'json' ? parse() : fromForm()),
    text: () => (view === 'json' ? textarea.value : JSON.stringify(fromForm(), null, 2)),
    showRefusal: (e) => {
      if (view !== 'form' || !e.field) return false;
      const m = /\/parameters\/(\d+)/.exec(e.field);
      if (m && rows[Number(m[1])]) {
        rows[Number(m[1])].error.textContent = e.message;
        return true;
      }
      const b = /\/base(\/.*)$/.exec(e.field);
      return b ? base.showRefusal(new ApiError(e.status, e.code, e.message, b[1]), '') : false;
    },
  };
}
