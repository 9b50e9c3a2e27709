/**
 * The fields of one stimulus protocol, as New run and the sweep editor show them: a kind select and one
 * field per property of that kind's schema (GET /api/protocols), labelled with its title and unit, a
 * level's unit following the protocol's quantity (`quantityUnit`: A or V), and a level bounded by the bench
 * limits (GET /api/bench): the hint gives the bench's bound instead of the schema's ±1000 and a value beyond
 * it is refused at the field. A refusal of the server is shown at the field it names (a limit refusal names
 * the parameter that causes it, `/protocol/amplitude`, `/protocol/levels/3`).
 */
import type { ApiError, BenchConfig, JsonSchema, ProtocolInfo } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { fieldLabel, makeField, readFields, type Field } from './schema-form.ts';

export type BenchLimits = Partial<BenchConfig['limits']>;

/** A field whose value is in the protocol's quantity (A or V). */
export const isLevel = (s: JsonSchema): boolean => s.quantityUnit === 'same';
export const unitOfQuantity = (quantity: unknown): string => (quantity === 'voltage' ? 'V' : 'A');

/** The unit of a property: its own, or the protocol quantity's (a level) or the other quantity's (a compliance). */
export function unitOf(s: JsonSchema | undefined, quantity: unknown): string | undefined {
  if (s?.quantityUnit === 'same') return unitOfQuantity(quantity);
  if (s?.quantityUnit === 'other') return unitOfQuantity(quantity === 'voltage' ? 'current' : 'voltage');
  return s?.unit;
}

/** The title of a protocol property with its unit ("Amplitude (A)"). */
export function protocolFieldTitle(key: string, s: JsonSchema | undefined, quantity: unknown): string {
  return s ? fieldLabel(key, s, unitOf(s, quantity)) : key;
}

/** The field a refusal names: `<prefix>/<name>`, or an element of it (`/levels/3`). */
export function fieldAt<F extends Pick<Field, 'name'>>(fields: F[], pointer: string | undefined, prefix: string): F | undefined {
  return pointer === undefined ? undefined : fields.find((f) => pointer === `${prefix}/${f.name}` || pointer.startsWith(`${prefix}/${f.name}/`));
}

export interface ProtocolForm {
  el: HTMLElement;
  kindSelect: HTMLSelectElement;
  kind(): string;
  info(): ProtocolInfo | undefined;
  quantity(): string;
  fields(): Field[];
  /** The protocol, every field checked and marked; false when one is invalid. */
  read(): Record<string, unknown> | false;
  /** The protocol without marking fields, or null (with the first invalid field's name). */
  peek(): { value: Record<string, unknown> } | { invalid: string };
  /** Fills the form from a protocol document (unknown keys ignored). */
  set(doc: Record<string, unknown>): void;
  /** Shows a server refusal at the field it names; true when shown. */
  showRefusal(e: ApiError, prefix: string): boolean;
}

export function protocolForm(protocols: ProtocolInfo[], limits: BenchLimits, opts: { id: string; onChange(): void; kind?: string }): ProtocolForm {
  const kindSel = h('select', { id: `f-${opts.id}-kind`, name: 'kind', 'data-pointer': `/${opts.id}/kind` });
  for (const p of protocols) kindSel.append(h('option', { value: p.kind }, p.title || p.kind));
  if (opts.kind && protocols.some((p) => p.kind === opts.kind)) kindSel.value = opts.kind;
  const box = h('div', { class: 'fields' });
  const el = h('div', { class: 'protocol-form' }, h('div', { class: 'field', 'data-field': `/${opts.id}/kind` }, h('label', { for: `f-${opts.id}-kind` }, 'Kind'), kindSel, h('div', { class: 'field-error' })), box);
  let fields: Field[] = [];

  const limitOf = (quantity: unknown): { max: number; name: string } | null => {
    const max = quantity === 'voltage' ? limits.maxVoltage : limits.maxCurrent;
    return max !== undefined ? { max, name: quantity === 'voltage' ? 'maxVoltage' : 'maxCurrent' } : null;
  };
  const info = () => protocols.find((x) => x.kind === kindSel.value);
  const quantity = () => box.querySelector<HTMLSelectElement>('select[name=quantity]')?.value ?? 'current';
  const values = () => Object.fromEntries(fields.map((f) => [f.name, f.input instanceof HTMLInputElement && f.input.type === 'checkbox' ? String(f.input.checked) : f.input.value]));

  /** Builds the fields; `keep` (raw input texts) survive a change of quantity. */
  function build(keep?: Record<string, string>): void {
    const p = info();
    const props = Object.entries(p?.schema.properties ?? {}).filter(([k]) => k !== 'kind');
    const required = new Set(p?.schema.required ?? []);
    const q = keep?.quantity ?? (p?.schema.properties?.quantity?.default as string | undefined) ?? 'current';
    const unit = unitOfQuantity(q);
    const lim = limitOf(q);
    fields = props.map(([k, s]) => {
      const level = isLevel(s);
      const desc = s.description ?? '';
      return makeField(
        `/${opts.id}/${k}`,
        k,
        s,
        !required.has(k) && s.default === undefined,
        protocolFieldTitle(k, s, q),
        level && lim
          ? {
              hint: `${desc}${desc ? ' ' : ''}(this bench: |value| ≤ ${si(lim.max, unit)})`,
              check: (v) => {
                const bad = (Array.isArray(v) ? v : [v]).find((x) => typeof x === 'number' && Math.abs(x) > lim.max);
                return bad !== undefined ? `${si(bad as number, unit)} exceeds the bench limit ${lim.name} = ${si(lim.max, unit)}` : null;
              },
            }
          : {},
      );
    });
    if (keep) for (const f of fields) if (keep[f.name] !== undefined) setInput(f, keep[f.name]);
    box.replaceChildren(...fields.map((f) => f.el));
    box.querySelector('select[name=quantity]')?.addEventListener('change', () => {
      build(values());
      opts.onChange();
    });
  }
  const setInput = (f: Field, text: string) => {
    if (f.input instanceof HTMLInputElement && f.input.type === 'checkbox') f.input.checked = text === 'true';
    else f.input.value = text;
  };
  kindSel.addEventListener('change', () => {
    build();
    opts.onChange();
  });
  build();

  return {
    el,
    kindSelect: kindSel,
    kind: () => kindSel.value,
    info,
    quantity,
    fields: () => fields,
    read: () => readFields(fields),
    peek: () => {
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const r = f.read();
        if ('error' in r) return { invalid: f.name };
        if (r.value !== undefined) out[f.name] = r.value;
      }
      return { value: out };
    },
    set: (doc) => {
      if (typeof doc.kind === 'string' && protocols.some((p) => p.kind === doc.kind)) kindSel.value = doc.kind;
      const text = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));
      build(Object.fromEntries(Object.entries(doc).filter(([k, v]) => k !== 'kind' && v !== undefined).map(([k, v]) => [k, text(v)])));
      // values absent from the document stay at their defaults
    },
    showRefusal: (e, prefix) => {
      const target = fieldAt(fields, e.field, prefix);
      target?.showError(e.message);
      return target !== undefined;
    },
  };
}
