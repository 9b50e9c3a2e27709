/**
 * Run options: each source declares its options as a TypeBox schema (SourceDefinition.options), and the
 * registry checks a run's options against it before the source sees them (SourceRegistry.checkOptions):
 * an unknown option (a typo) or a wrong type is refused, never defaulted. Options that name a file, a
 * serial port or a host (`localOptions`) are taken only from the CLI on this machine, never from the network.
 */
import { Type, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import { AppError } from '../../common/errors.ts';
import type { Instrument } from '../benchconfig/index.ts';

/** Where a run request came from: the API ('network', the default) or the CLI on this machine ('local'). */
export type RequestOrigin = 'network' | 'local';

export const NO_OPTIONS = Type.Object({}, { additionalProperties: false });

/** A circuit in run options: a built-in name or an inline document, never a file path from the network. */
export const CircuitOption = Type.Optional(
  Type.Union([Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.Object({}, { additionalProperties: true })], {
    title: 'Circuit',
    description: 'a built-in circuit name (GET /api/twin/circuits) or an inline circuit document; file paths are not accepted',
  }),
);

/** A bench instrument named by its id. */
export const InstrumentOption = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', title: 'Instrument', description: 'A bench instrument id (GET /api/bench/instruments)' }));

/**
 * The labels the bench configuration gives a run's channels (`channels[].label` of the run's instrument),
 * keyed by the name the source records them under: the stimulus channel is `stim` whatever the
 * configuration calls it; a response keeps its configured name (a DAQ's `a0`) unless `recorded` lists the
 * source's own names and it is not one of them (an SMU's `i_dev`): then it is the source's first response
 * (`resp`). For the run's bench snapshot (server/store/channel-meta.ts).
 */
export function benchLabels(inst: Instrument | undefined, recorded?: { names: readonly string[]; response: string }): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (const ch of inst?.channels ?? []) {
    if (!ch.label) continue;
    const name = ch.role === 'stimulus' ? 'stim' : !recorded || recorded.names.includes(ch.name) ? ch.name : recorded.response;
    labels[name] ??= ch.label;
  }
  return Object.keys(labels).length ? labels : undefined;
}

type Item = { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> };

/** A checker of one source's options; throws AppError BAD_SOURCE_OPTIONS naming the option. */
export function optionsChecker(kind: string, schema: TObject = NO_OPTIONS, localOptions: readonly string[] = []) {
  const checker = Compile(schema);
  const props = schema.properties as Record<string, { description?: string }>;
  return (options: Record<string, unknown> | undefined, from: RequestOrigin): void => {
    if (options === undefined) return;
    if (from === 'network') {
      const local = localOptions.find((k) => k in options);
      if (local !== undefined) {
        throw new AppError(
          'BAD_SOURCE_OPTIONS',
          `options.${local}: source "${kind}" takes no file, port or host from the network; name a bench instrument by its id (options.instrument, GET /api/bench/instruments) or configure it in the bench configuration`,
          `/options/${local}`,
        );
      }
    }
    if (checker.Check(options)) return;
    const errors = checker.Errors(options) as Item[];
    // an unknown option (a typo) explains the rest, so it is named first
    const isExtra = (x: Item) => x.keyword === 'additionalProperties' || x.message === 'schema is false';
    const e = errors.find(isExtra) ?? errors[0];
    let pointer = e?.instancePath ?? '';
    const extra = e?.params?.additionalProperties ?? e?.params?.additionalProperty;
    if (e?.keyword === 'additionalProperties' && extra !== undefined) pointer += `/${Array.isArray(extra) ? extra[0] : String(extra)}`;
    const missing = e?.params?.requiredProperties ?? e?.params?.missingProperty;
    if (e?.keyword === 'required' && missing !== undefined) pointer += `/${Array.isArray(missing) ? missing[0] : String(missing)}`;
    const top = pointer.split('/')[1];
    const known = Object.keys(props);
    const message =
      e && isExtra(e)
        ? `is not an option of source "${kind}" (${known.length ? `options: ${known.join(', ')}` : 'it takes none'})`
        : `${e?.keyword === 'required' ? 'is required' : (e?.message ?? 'is invalid')}${top && props[top]?.description ? ` (${props[top].description})` : ''}`;
    throw new AppError('BAD_SOURCE_OPTIONS', `options${pointer.replaceAll('/', '.')}: ${message}`, `/options${pointer}`);
  };
}
