/**
 * A source's run options as form fields (New run): one field per option of the source's schema
 * (GET /api/sources `options`; options only the CLI may give are not in it) that a form can hold (numbers,
 * text, choices, yes/no, lists; nested objects such as DAQ pulses only through the API), labelled with its
 * title and unit (a compliance in the unit of the quantity not sourced). An option capped by a bench limit
 * (`benchLimit`) has that bound in its hint, and a value above it is refused at the field. Every option is
 * optional: an empty field is not sent.
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
  /** Shows a refusal naming `/options/<name>` at that field; true when shown. */
  showRefusal(message: string, field: string | undefined): boolean;
}

export function optionsForm(limits: BenchLimits): OptionsForm {
  const box = h('div', { class: 'fields' });
  const el = h('details', { class: 'source-options', 'data-options': '' }, h('summary', {}, 'Source options'), box);
  let fields: Field[] = [];
  return {
    el,
    build(source, quantity) {
      const typed = Object.fromEntries(fields.map((f) => [f.name, f.input.value]));
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
        if (typed[k] !== undefined && f.input instanceof HTMLInputElement && f.input.type !== 'checkbox') f.input.value = typed[k];
        return [f];
      });
      box.replaceChildren(...(fields.length ? fields.map((f) => f.el) : [h('p', { class: 'hint' }, 'This source takes no options from the page.')]));
    },
    read: () => readFields(fields),
    showRefusal(message, field) {
      const f = fieldAt(fields, field, '/options');
      if (!f) return false;
      (el as HTMLDetailsElement).open = true;
      f.showError(message);
      return true;
    },
  };
}
