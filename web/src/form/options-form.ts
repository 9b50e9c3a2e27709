/**
 * A source's run options as form fields (New run): one field per option of the source's schema
 * (GET /api/sources `options`; options only the CLI may give are not in it) that a form can hold (numbers,
 * text, choices, yes/no, lists; nested objects such as DAQ pulses only through the API), labelled with its
 * title and unit (a compliance in the unit of the quantity not sourced). An option capped by a bench limit
 * (`benchLimit`) has that bound in its hint, and a value above it is refused at the field. Every option is
 * optional: an empty field is not sent. The options last used with each source (at a start the server accepted, New run or
 * Sweeps) are kept in the browser (localStorage `spikeloop.options.<source>`; a compliance per quantity) and
 * filled in on the next visit; "Reset to defaults" forgets them.
 */
import type { JsonSchema, SourceInfo } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { choicesOf, makeField, readFields, type Field } from './schema-form.ts';
import { fieldAt, protocolFieldTitle, unitOf, type BenchLimits } from './protocol-form.ts';

const SIMPLE = new Set(['number', 'integer', 'string', 'boolean']);

/** The schema a form field can hold, or null: a name-or-document option (a circuit) as its name. */
function formable(s: JsonSchema): JsonSchema | null {
  if (choicesOf(s) || (s.type && SIMPLE.has(s.type))) return s;
  if (s.type === 'array' && s.items && !Array.isArray(s.items) && s.items.type && SIMPLE.has(s.items.type)) return s;
  const text = s.anyOf?.find((a) => a.type === 'string');
  return text ? { ...text, title: s.title, description: s.description } : null;
}

/** The bench's bound on an option (`benchLimit`), in the option's unit. */
function benchBound(s: JsonSchema, limits: BenchLimits, quantity: string): number | undefined {
  if (s.benchLimit === 'compliance') return quantity === 'voltage' ? limits.compliance?.current : limits.compliance?.voltage;
  const v = s.benchLimit ? (limits as Record<string, unknown>)[s.benchLimit] : undefined;
  return typeof v === 'number' ? v : undefined;
}

export interface OptionsForm {
  el: HTMLElement;
  /** Rebuilds the fields for a source and quantity; values typed into options of the same name are kept. */
  build(source: SourceInfo | undefined, quantity: string): void;
  /** The options given (empty ones left out), or false after marking the invalid fields. */
  read(): Record<string, unknown> | false;
  /** The start with what `read` gave was accepted: those options are kept for this source's next form (not a refused start's). */
  keep(): void;
  /** Shows a refusal naming `/options/<name>` at that field; true when shown. */
  showRefusal(message: string, field: string | undefined): boolean;
}

/** What a field shows, as text (a checkbox: 'true' or 'false'). */
const shown = (f: Field): string => (f.input instanceof HTMLInputElement && f.input.type === 'checkbox' ? String(f.input.checked) : f.input.value);

function show(f: Field, text: string): void {
  if (f.input instanceof HTMLInputElement && f.input.type === 'checkbox') f.input.checked = text === 'true';
  else f.input.value = text;
}

const keptKey = (kind: string) => `spikeloop.options.${kind}`;

/** The options last used with a source, as the fields showed them ({} when none or storage is unavailable). */
function loadKept(kind: string): Record<string, string> {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(keptKey(kind)) ?? '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) : {};
  } catch {
    return {};
  }
}

function storeKept(kind: string, values: Record<string, string> | null): void {
  try {
    if (values) localStorage.setItem(keptKey(kind), JSON.stringify(values));
    else localStorage.removeItem(keptKey(kind));
  } catch {
    // storage full or disabled: the form works, it is just not remembered
  }
}

export function optionsForm(limits: BenchLimits): OptionsForm {
  const box = h('div', { class: 'fields' });
  const note = h('p', { class: 'hint', 'data-options-note': '' });
  const reset = h('button', { type: 'button', class: 'secondary', 'data-action': 'reset-options', hidden: true }, 'Reset to defaults');
  const el = h('details', { class: 'source-options', 'data-options': '' }, h('summary', {}, 'Source options'), box, h('div', { class: 'options-kept' }, note, reset));
  let fields: Field[] = [];
  let current: { source: SourceInfo | undefined; quantity: string } | undefined;
  let fieldSchemas: Record<string, JsonSchema> = {};
  /** What the last `read` gave, kept by `keep` once its start is accepted. */
  let pending: { kind: string; values: Record<string, string> } | undefined;
  // an option whose unit follows the quantity (a compliance: A when sourcing voltage, V when sourcing current)
  // is remembered per quantity: 0.0005 A is not 0.0005 V
  const keyOf = (k: string, s: JsonSchema | undefined, quantity: string) => (s?.quantityUnit ? `${k}@${quantity}` : k);
  const build = (source: SourceInfo | undefined, quantity: string, opts: { defaults?: boolean } = {}) => {
    const same = current?.source?.kind === source?.kind;
    const requantified = same && current?.quantity !== quantity;
    // a rebuild for the same source keeps what is typed, but for another quantity an option in its unit takes
    // what was last used with that quantity (or nothing); another source starts from what was last used with
    // it, and same-named options typed here
    const typed = opts.defaults ? {} : Object.fromEntries(fields.map((f) => [f.name, shown(f)]));
    const kept = source && !opts.defaults ? loadKept(source.kind) : {};
    fieldSchemas = {};
    current = { source, quantity };
    fields = Object.entries(source?.options.properties ?? {}).flatMap(([k, raw]) => {
      const s = formable(raw);
      if (!s) return [];
      const unit = unitOf(s, quantity);
      const bound = benchBound(s, limits, quantity);
      const f = makeField(
        `/options/${k}`,
        k,
        s,
        true,
        protocolFieldTitle(k, s, quantity),
        bound === undefined
          ? {}
          : {
              hint: `${s.description ?? ''} (this bench: ≤ ${si(bound, unit ?? '')})`,
              check: (v) => (typeof v === 'number' && v > bound ? `${si(v, unit ?? '')} exceeds the bench limit ${si(bound, unit ?? '')}` : null),
            },
      );
      fieldSchemas[k] = s;
      const checkbox = f.input instanceof HTMLInputElement && f.input.type === 'checkbox';
      const value = s.quantityUnit && (requantified || !same) ? kept[keyOf(k, s, quantity)] : same ? typed[k] : (kept[k] ?? (checkbox ? undefined : typed[k]));
      if (value !== undefined) show(f, value);
      return [f];
    });
    box.replaceChildren(...(fields.length ? fields.map((f) => f.el) : [h('p', { class: 'hint' }, 'This source takes no options from the page.')]));
    const remembered = source !== undefined && Object.keys(loadKept(source.kind)).length > 0;
    note.textContent = remembered ? `Filled in with the options last used with ${source.kind}.` : '';
    reset.hidden = !remembered;
  };
  reset.addEventListener('click', () => {
    if (current?.source) storeKept(current.source.kind, null);
    if (current) build(current.source, current.quantity, { defaults: true });
  });
  return {
    el,
    build: (source, quantity) => build(source, quantity),
    read() {
      const values = readFields(fields);
      // used: remembered for this source's next form once the start is accepted (as the fields show them; defaults left out)
      pending = undefined;
      if (values && current?.source) {
        const q = current.quantity;
        const used = fields.filter((f) => values[f.name] !== undefined).map((f) => [keyOf(f.name, fieldSchemas[f.name], q), shown(f)]);
        // the other quantities' compliances stay: a start sourcing current keeps the one last used sourcing voltage
        const others = Object.entries(loadKept(current.source.kind)).filter(([k]) => k.includes('@') && !k.endsWith(`@${q}`));
        pending = { kind: current.source.kind, values: Object.fromEntries([...others, ...used]) };
      }
      return values;
    },
    keep() {
      if (pending) storeKept(pending.kind, pending.values);
      pending = undefined;
    },
    showRefusal(message, field) {
      const f = fieldAt(fields, field, '/options');
      if (!f) return false;
      (el as HTMLDetailsElement).open = true;
      f.showError(message);
      return true;
    },
  };
}
