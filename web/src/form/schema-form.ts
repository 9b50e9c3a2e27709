/**
 * Form fields generated from a JSON schema (the protocol schemas served by GET /api/protocols): one field
 * per property, filled with its default, labelled with its description, validated in the browser with the
 * schema's own bounds before anything is sent. Server-side errors naming a field (JSON pointer) are shown
 * next to that field too. A property with a `title` (the analysis parameters) is labelled with it and its
 * `unit`; a fixed-length tuple of numbers (a band [low, high]) is one text field of comma-separated numbers.
 */
import type { JsonSchema } from '../api.ts';
import { h } from '../dom.ts';

export interface Field {
  /** JSON pointer of the value in the request body, e.g. "/protocol/frequencyHz". */
  pointer: string;
  name: string;
  el: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement;
  /** Parsed value, or an error message. */
  read(): { value: unknown } | { error: string };
  showError(message: string | null): void;
}

/** The fixed choices of a schema (enum, or anyOf of consts), or null when it is free-form. */
export function choicesOf(s: JsonSchema): unknown[] | null {
  if (s.enum) return s.enum;
  if (s.anyOf && s.anyOf.every((a) => 'const' in a)) return s.anyOf.map((a) => a.const);
  return null;
}

/** Checks a number against the schema's bounds; returns the message or null. */
export function checkNumber(s: JsonSchema, v: number): string | null {
  if (!Number.isFinite(v)) return 'must be a number';
  if (s.type === 'integer' && !Number.isInteger(v)) return 'must be a whole number';
  if (s.minimum !== undefined && v < s.minimum) return `must be ≥ ${s.minimum}`;
  if (s.maximum !== undefined && v > s.maximum) return `must be ≤ ${s.maximum}`;
  if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
  if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return `must be < ${s.exclusiveMaximum}`;
  return null;
}

function bounds(s: JsonSchema): string {
  const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : '';
  const hi = s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : s.maximum !== undefined ? `≤ ${s.maximum}` : '';
  return [lo, hi].filter(Boolean).join(', ');
}

/** What a page adds to a generated field: a check after the schema's (e.g. a bench limit) and the hint shown under it. */
export interface FieldExtra {
  check?: (value: unknown) => string | null;
  hint?: string;
}

/** Builds one field for `schema` at `pointer`. `optional` fields may be left empty (value undefined). */
export function makeField(pointer: string, name: string, schema: JsonSchema, optional = false, label?: string, extra: FieldExtra = {}): Field {
  const id = 'f' + pointer.replace(/[^A-Za-z0-9]+/g, '-');
  const errorEl = h('div', { class: 'field-error', role: 'alert', 'data-error-for': pointer });
  const choices = choicesOf(schema);
  let input: HTMLInputElement | HTMLSelectElement;
  let read: Field['read'];

  if (choices) {
    const sel = h('select', { id, name, 'data-pointer': pointer });
    for (const c of choices) sel.append(h('option', { value: String(c) }, String(c)));
    if (schema.default !== undefined) sel.value = String(schema.default);
    input = sel;
    read = () => {
      const c = choices.find((x) => String(x) === sel.value);
      return c === undefined ? { error: `must be one of ${choices.join(', ')}` } : { value: c };
    };
  } else if (schema.type === 'array' && Array.isArray(schema.items)) {
    const items = schema.items;
    const inp = h('input', {
      id, name, type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-pointer': pointer, placeholder: items.map(() => 'number').join(', '),
      value: Array.isArray(schema.default) ? schema.default.join(', ') : '',
    });
    input = inp;
    read = () => {
      const t = inp.value.trim();
      if (t === '') return optional ? { value: undefined } : { error: 'required' };
      const parts = t.split(/[,;\s]+/).filter(Boolean).map(Number);
      if (parts.length !== items.length) return { error: `give ${items.length} numbers, comma separated` };
      for (let i = 0; i < parts.length; i++) {
        const err = checkNumber(items[i], parts[i]);
        if (err) return { error: `value ${i + 1} ${err}` };
      }
      return { value: parts };
    };
  } else if (schema.type === 'array' && schema.items && !Array.isArray(schema.items)) {
    // A list (channel names, frequencies): comma-separated values of the item schema.
    const item = schema.items;
    const inp = h('input', {
      id, name, type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-pointer': pointer, placeholder: `${item.type === 'string' ? 'name' : 'number'}, …`,
      value: Array.isArray(schema.default) ? schema.default.join(', ') : '',
    });
    input = inp;
    read = () => {
      const t = inp.value.trim();
      if (t === '') return optional ? { value: undefined } : { error: 'required' };
      const parts = t.split(/[,;\s]+/).filter(Boolean);
      if (schema.minItems !== undefined && parts.length < schema.minItems) return { error: `give at least ${schema.minItems}, comma separated` };
      if (schema.maxItems !== undefined && parts.length > schema.maxItems) return { error: `give at most ${schema.maxItems}` };
      if (item.type !== 'number' && item.type !== 'integer') return { value: parts };
      const values = parts.map(Number);
      for (let i = 0; i < values.length; i++) {
        const err = checkNumber(item, values[i]);
        if (err) return { error: `value ${i + 1} ${err}` };
      }
      return { value: values };
    };
  } else if (schema.type === 'boolean' && optional && schema.default === undefined) {
    // a yes/no the server decides when left alone (e.g. regime's stored events): three states
    const sel = h('select', { id, name, 'data-pointer': pointer }, h('option', { value: '' }, 'default'), h('option', { value: 'true' }, 'yes'), h('option', { value: 'false' }, 'no'));
    input = sel;
    read = () => ({ value: sel.value === '' ? undefined : sel.value === 'true' });
  } else if (schema.type === 'boolean') {
    const cb = h('input', { id, name, type: 'checkbox', 'data-pointer': pointer, checked: schema.default === true });
    input = cb;
    read = () => ({ value: cb.checked });
  } else if (schema.type === 'number' || schema.type === 'integer') {
    const inp = h('input', {
      id, name, type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', 'data-pointer': pointer,
      value: schema.default !== undefined ? String(schema.default) : '',
    });
    input = inp;
    read = () => {
      const t = inp.value.trim();
      if (t === '') return optional ? { value: undefined } : { error: 'required' };
      const v = Number(t);
      const err = checkNumber(schema, v);
      return err ? { error: err } : { value: v };
    };
  } else {
    const inp = h('input', { id, name, type: 'text', 'data-pointer': pointer, value: schema.default !== undefined ? String(schema.default) : '' });
    input = inp;
    read = () => {
      const t = inp.value;
      if (t === '' && optional) return { value: undefined };
      if (schema.minLength !== undefined && t.length < schema.minLength) return { error: `at least ${schema.minLength} characters` };
      if (schema.maxLength !== undefined && t.length > schema.maxLength) return { error: `at most ${schema.maxLength} characters` };
      return { value: t };
    };
  }

  if (extra.check) {
    const schemaRead = read;
    read = () => {
      const r = schemaRead();
      const err = 'value' in r && r.value !== undefined ? extra.check!(r.value) : null;
      return err ? { error: err } : r;
    };
  }
  const range = bounds(schema);
  const hint = extra.hint ?? [schema.description, range && `(${range})`].filter(Boolean).join(' ');
  const el = h('div', { class: 'field', 'data-field': pointer }, h('label', { for: id }, label ?? name), input, hint ? h('div', { class: 'hint' }, hint) : null, errorEl);
  const showError = (message: string | null) => {
    errorEl.textContent = message ?? '';
    el.classList.toggle('invalid', Boolean(message));
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
  };
  input.addEventListener('input', () => {
    const r = read();
    showError('error' in r ? r.error : null);
  });
  return { pointer, name, el, input, read, showError };
}

/** Fields for every property of an object schema except those in `skip` (e.g. the `kind` discriminator). */
export function objectFields(schema: JsonSchema, basePointer: string, skip: string[] = []): Field[] {
  const required = new Set(schema.required ?? Object.keys(schema.properties ?? {}));
  return Object.entries(schema.properties ?? {})
    .filter(([k]) => !skip.includes(k))
    .map(([k, s]) => makeField(`${basePointer}/${k}`, k, s, !required.has(k) && s.default === undefined, fieldLabel(k, s)));
}

/** "Dead time (s)" from a titled schema; without a title, from the key (keyTitle). */
export function fieldLabel(key: string, s: JsonSchema): string {
  if (!s.title) return keyTitle(key);
  return s.unit ? `${s.title} (${s.unit})` : s.title;
}

/** Unit suffixes of the protocol keys (`durationS`, `frequencyHz`, `phaseDeg`). */
const KEY_UNITS: [RegExp, string][] = [
  [/Hz$/, 'Hz'],
  [/Deg$/, '°'],
  [/S$/, 's'],
];

/**
 * A human title from a camelCase key with a unit suffix, the protocols' naming rule: `durationS` →
 * "Duration (s)", `startHz` → "Start frequency (Hz)", `pairsPerOffset` → "Pairs per offset",
 * `tailTauS` → "Tail τ (s)". `unit` overrides the suffix's (a level's A or V).
 */
export function keyTitle(key: string, unit?: string): string {
  let base = key;
  let suffix: string | undefined;
  for (const [re, u] of KEY_UNITS) {
    if (re.test(key) && key.replace(re, '').length > 0) {
      base = key.replace(re, '');
      suffix = u;
      break;
    }
  }
  const words = base.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[\s_-]+/).filter(Boolean).map((w) => (w === 'tau' ? 'τ' : w));
  if (suffix === 'Hz' && words.at(-1) !== 'frequency') words.push('frequency');
  const text = words.join(' ');
  const title = text.charAt(0).toUpperCase() + text.slice(1);
  const u = unit ?? suffix;
  return u ? `${title} (${u})` : title;
}

/** Reads fields into an object; returns it, or false after marking every invalid field. */
export function readFields(fields: Field[]): Record<string, unknown> | false {
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const f of fields) {
    const r = f.read();
    if ('error' in r) {
      f.showError(r.error);
      ok = false;
    } else {
      f.showError(null);
      if (r.value !== undefined) out[f.name] = r.value;
    }
  }
  return ok ? out : false;
}
