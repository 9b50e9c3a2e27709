/**
 * Sweeps: one protocol with some of its fields varied over a list or a range, expanded into a group of
 * ordinary protocols (one run each). Pure: JSON in, validated protocols out.
 *
 *   { "kind": "sweep", "base": { "kind": "sine", "amplitude": 1 },
 *     "parameters": [ { "field": "frequencyHz", "start": 1, "stop": 1000, "steps": 7, "scale": "log" } ],
 *     "combine": "grid" }
 *
 * `field` is a property name of the base protocol or a JSON pointer into it ("/offsetsS/0"). With several
 * parameters, "grid" runs every combination (the first parameter varies slowest) and "zip" runs them
 * side by side (all lists the same length).
 */
import { Type, type Static } from 'typebox';
import { fillDefaults, firstProblem } from '../../common/schema-check.ts';
import type { SweepSummary } from '../../common/schemas/protocols.ts';
import { ProtocolError, protocolSummary, validateProtocol, type Protocol } from './index.ts';

export const MAX_SWEEP_POINTS = 10_000;

const field = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Protocol field to vary: a property name ("frequencyHz") or a JSON pointer ("/offsetsS/0")',
});

export const SweepListSchema = Type.Object(
  {
    field,
    values: Type.Array(Type.Union([Type.Number(), Type.String({ maxLength: 200 }), Type.Boolean()]), {
      minItems: 1,
      maxItems: MAX_SWEEP_POINTS,
      description: 'Values, in order',
    }),
  },
  { additionalProperties: false, title: 'List' },
);

export const SweepRangeSchema = Type.Object(
  {
    field,
    start: Type.Number({ description: 'First value' }),
    stop: Type.Number({ description: 'Last value (inclusive)' }),
    steps: Type.Integer({ minimum: 1, maximum: MAX_SWEEP_POINTS, description: 'Number of values' }),
    scale: Type.Union([Type.Literal('linear'), Type.Literal('log')], {
      default: 'linear',
      description: 'Even spacing (linear) or even ratios (log; start and stop > 0)',
    }),
  },
  { additionalProperties: false, title: 'Range' },
);

export const SweepSchema = Type.Object(
  {
    kind: Type.Literal('sweep'),
    label: Type.Optional(Type.String({ maxLength: 200, description: 'Name of the sweep' })),
    base: Type.Object({ kind: Type.String() }, { additionalProperties: true, description: 'The protocol varied' }),
    parameters: Type.Array(Type.Union([SweepListSchema, SweepRangeSchema]), {
      minItems: 1,
      maxItems: 8,
      description: 'Fields to vary',
    }),
    combine: Type.Union([Type.Literal('grid'), Type.Literal('zip')], {
      default: 'grid',
      description: 'grid: every combination; zip: the i-th values together',
    }),
  },
  { additionalProperties: false, title: 'Sweep' },
);

export type Sweep = Static<typeof SweepSchema>;
export type SweepValue = number | string | boolean;

export interface SweepPoint {
  index: number;
  /** The varied fields' values at this point, keyed by field as written in the sweep. */
  values: Record<string, SweepValue>;
  protocol: Protocol;
  /** e.g. "frequencyHz=10, amplitude=0.5" */
  label: string;
}

export interface ExpandedSweep {
  sweep: Sweep;
  points: SweepPoint[];
}

/** Values of one parameter. */
export function parameterValues(param: Sweep['parameters'][number]): SweepValue[] {
  if ('values' in param) return param.values;
  const { start, stop, steps } = param;
  if (steps === 1) return [start];
  if (param.scale === 'log') {
    const r = Math.log(stop / start);
    return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? stop : start * Math.exp((r * i) / (steps - 1))));
  }
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? stop : start + ((stop - start) * i) / (steps - 1)));
}

function pointerOf(f: string): string[] {
  const path = f.startsWith('/') ? f.slice(1).split('/') : [f];
  return path.map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Where in the sweep a point's protocol parameter (a pointer into the protocol: "/amplitude", "/levels/3")
 * is set: the parameter that varies it ("/parameters/0"), else the base protocol ("/base/amplitude").
 */
export function sweepPointer(sweep: Pick<Sweep, 'parameters'>, protocolField: string): string {
  const j = sweep.parameters.findIndex((param) => {
    const at = '/' + pointerOf(param.field).join('/');
    return protocolField === at || protocolField.startsWith(`${at}/`) || at.startsWith(`${protocolField}/`);
  });
  return j >= 0 ? `/parameters/${j}` : `/base${protocolField}`;
}

/**
 * A refusal of one point's run request placed in the sweep request at `prefix` (`/sweep`): a protocol
 * parameter (`/protocol/amplitude`) where the sweep sets it (sweepPointer); other inputs (`/sampleRate`,
 * `/options/…`) as they are.
 */
export function pointRefusalField(sweep: Pick<Sweep, 'parameters'>, field: string | undefined, prefix: string): string {
  if (field === undefined || field === '/protocol') return prefix;
  return field.startsWith('/protocol/') ? `${prefix}${sweepPointer(sweep, field.slice('/protocol'.length))}` : field;
}

/**
 * Sets the protocol field at `path`; false when the path does not point into the protocol. It walks own
 * properties only and never sets an inherited name: `/__proto__/x` set `Object.prototype.x` for the whole
 * server process (any option a source then read and a run left out was the request's), `/constructor/…` too.
 */
function setAt(doc: Record<string, unknown>, path: string[], value: SweepValue): boolean {
  let node: unknown = doc;
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, path[i])) return false;
    node = (node as Record<string, unknown>)[path[i]];
  }
  if (typeof node !== 'object' || node === null) return false;
  const key = path[path.length - 1];
  if (Array.isArray(node)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= node.length) return false;
    node[i] = value;
  } else {
    if (!Object.hasOwn(node, key) && key in node) return false;
    (node as Record<string, unknown>)[key] = value;
  }
  return true;
}

/** True for a document that is a sweep rather than a single protocol. */
export function isSweepDocument(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === 'sweep';
}

/**
 * Validates a sweep and expands it into validated protocols; throws ProtocolError naming the field
 * ("/parameters/0/field", "/base/frequencyHz", ...) and, for a bad point, which point.
 */
export function expandSweep(json: unknown): ExpandedSweep {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('', 'a sweep must be a JSON object with "kind": "sweep"');
  }
  const sweep = fillDefaults<Sweep>(SweepSchema, structuredClone(json));
  // Validate each parameter against its own shape so the error names the right field.
  const raw = sweep as { parameters?: unknown };
  if (Array.isArray(raw.parameters)) {
    raw.parameters.forEach((param, i) => {
      const schema = typeof param === 'object' && param !== null && 'values' in param ? SweepListSchema : SweepRangeSchema;
      const e = firstProblem(schema, fillDefaults(schema, param));
      if (e) throw new ProtocolError(`/parameters/${i}${e.path}`, e.message);
    });
  }
  const first = firstProblem(SweepSchema, sweep);
  if (first) throw new ProtocolError(first.path, first.message);

  try {
    validateProtocol(sweep.base);
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(`/base${err.field}`, err.message.replace(/^protocol( field \S+)?: /, ''));
    throw err;
  }

  const lists = sweep.parameters.map((param, i) => {
    const path = pointerOf(param.field);
    if (path[0] === 'kind' || (path[0] === 'quantity' && path.length === 1)) {
      throw new ProtocolError(`/parameters/${i}/field`, `"${param.field}" cannot be swept (one kind and quantity per sweep)`);
    }
    if ('scale' in param && param.scale === 'log' && !(param.start > 0 && param.stop > 0)) {
      throw new ProtocolError(`/parameters/${i}/start`, 'a log range needs start and stop > 0');
    }
    return { path, values: parameterValues(param), field: param.field };
  });

  let combos: number[][];
  if (sweep.combine === 'zip') {
    const n = lists[0].values.length;
    lists.forEach((l, i) => {
      if (l.values.length !== n) {
        throw new ProtocolError(`/parameters/${i}`, `zip needs equal lengths: ${l.values.length} values here, ${n} in the first`);
      }
    });
    combos = Array.from({ length: n }, (_, k) => lists.map(() => k));
  } else {
    const total = lists.reduce((n, l) => n * l.values.length, 1);
    if (total > MAX_SWEEP_POINTS) {
      throw new ProtocolError('/parameters', `the grid has ${total} points, more than ${MAX_SWEEP_POINTS}`);
    }
    combos = [];
    const idx = lists.map(() => 0);
    for (let k = 0; k < total; k++) {
      combos.push([...idx]);
      for (let j = lists.length - 1; j >= 0; j--) {
        if (++idx[j] < lists[j].values.length) break;
        idx[j] = 0;
      }
    }
  }

  const points = combos.map((combo, index): SweepPoint => {
    const doc = structuredClone(sweep.base) as Record<string, unknown>;
    const values: Record<string, SweepValue> = {};
    combo.forEach((k, j) => {
      const { path, field: f } = lists[j];
      const v = lists[j].values[k];
      values[f] = v;
      if (!setAt(doc, path, v)) {
        throw new ProtocolError(`/parameters/${j}/field`, `"${f}" does not point into the base protocol`);
      }
    });
    const label = Object.entries(values)
      .map(([f, v]) => `${f}=${typeof v === 'number' ? +v.toPrecision(6) : v}`)
      .join(', ');
    try {
      return { index, values, protocol: validateProtocol(doc), label };
    } catch (err) {
      if (err instanceof ProtocolError) throw new ProtocolError(sweepPointer(sweep, err.field), `sweep point ${index} (${label}): ${err.message}`);
      throw err;
    }
  });
  return { sweep, points };
}

export type { SweepSummary };

/** Number of runs, total duration and the extremes over all points: stated before a sweep starts. */
export function sweepSummary(expanded: ExpandedSweep): SweepSummary {
  const sums = expanded.points.map((pt) => protocolSummary(pt.protocol));
  return {
    count: sums.length,
    // to 12 significant digits: eight points of 0.2 s are 1.6 s, not the float sum 1.5999999999999999
    durationS: Number(sums.reduce((s, x) => s + x.durationS, 0).toPrecision(12)),
    quantity: sums[0].quantity,
    unit: sums[0].unit,
    min: Math.min(...sums.map((s) => s.min)),
    max: Math.max(...sums.map((s) => s.max)),
  };
}
