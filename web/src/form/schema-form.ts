/**
 * Form fields generated from a JSON schema (protocols, run options, analysis parameters): one field per
 * property, labelled with its `title` and `unit` (fieldLabel), filled with its default, its description and
 * bounds as the hint, validated in the browser with the schema's own bounds before anything is sent.
 * Server-side errors naming a field (JSON pointer) are shown next to that field too. A fixed-length tuple of
 * numbers (a band [low, high]) is one text field of comma-separated numbers.
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
  const range = [lo, hi].filter(Boolean).join(', ');
  return range && s.unit ? `${range} ${s.unit}` : range;
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

/**
 * "Dead time (s)": the schema's title with its unit (`unit` overrides the schema's: a level's A or V). Every
 * protocol, run option and analysis parameter schema has a title; without one the key is shown as it is.
 */
export function fieldLabel(key: string, s: JsonSchema, unit = s.unit): string {
  const title = s.title ?? key;
  return unit ? `${title} (${unit})` : title;
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
