/**
 * Building blocks of the analyses' parameter schemas (TypeBox). Every parameter carries a `title`, a
 * `unit` where it has one, its `default` and its bounds, so the CLI flags, the API body and the
 * dashboard's forms are all generated from the same declaration (registry.ts).
 *
 * Naming: parameters and results are snake_case JSON (`min_tail`, `rate_hz`, `time_s`); the CLI flag of
 * `min_tail` is `--min-tail` unless `cli.flag` names another (kept where an older flag exists).
 *
 * Extra keywords (ignored by validation, read by the CLI and the dashboard):
 *   unit   SI unit of the value ('s', 'Hz', '1/s'); absent for counts and ratios
 *   cli    { flag?: '--bin', short?: '-k', hidden?: true, asFlags?: true }  (hidden: API only, e.g. `with`;
 *          asFlags: a choice given as one flag per value)
 */
import { Type, type TInteger, type TLiteral, type TNumber, type TOptional, type TSchema, type TString, type TUnion } from 'typebox';

export interface CliMeta {
  flag?: string;
  short?: string;
  hidden?: boolean;
  /** A choice offered as one boolean flag per value (`--discrete`, `--continuous`). */
  asFlags?: boolean;
}

interface Meta {
  [keyword: PropertyKey]: unknown;
  title: string;
  description?: string;
  unit?: string;
  cli?: CliMeta;
}

type NumMeta = Meta & { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };

/** A number; required in the resolved parameters when it has a default, optional otherwise. */
export function num(m: NumMeta & { default: number }): TNumber;
export function num(m: NumMeta): TOptional<TNumber>;
export function num(m: NumMeta & { default?: number }) {
  return m.default === undefined ? Type.Optional(Type.Number(m)) : Type.Number(m);
}

export function int(m: NumMeta & { default: number }): TInteger;
export function int(m: NumMeta): TOptional<TInteger>;
export function int(m: NumMeta & { default?: number }) {
  return m.default === undefined ? Type.Optional(Type.Integer(m)) : Type.Integer(m);
}

export const flag = (m: Meta) => Type.Boolean({ ...m, default: false });
/** A yes/no with no default: absent means the analysis decides (the CLI offers `--x` and `--no-x`). */
export const optFlag = (m: Meta) => Type.Optional(Type.Boolean(m));

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** One of the given strings. */
export function choice<const T extends readonly [string, ...string[]]>(values: T, m: Meta & { default?: T[number] }): TUnion<Literals<T>> {
  return Type.Union(values.map((v) => Type.Literal(v)) as unknown as Literals<T>, m) as unknown as TUnion<Literals<T>>;
}

export function optChoice<const T extends readonly [string, ...string[]]>(values: T, m: Meta): TOptional<TUnion<Literals<T>>> {
  return Type.Optional(choice(values, m));
}

/** A [low, high] pair (CLI: "low,high"). */
export const band = (m: Meta) => Type.Optional(Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], m));

/** A list of numbers (CLI: comma-separated). */
export const numbers = (m: Meta) => Type.Optional(Type.Array(Type.Number(), m));

/** A list of names (CLI: comma-separated). */
export const names = (m: Meta & { minItems?: number; maxItems?: number }) => Type.Array(Type.String({ minLength: 1 }), m);

export function text(m: Meta & { default: string }): TString;
export function text(m: Meta): TOptional<TString>;
export function text(m: Meta & { default?: string }) {
  return m.default === undefined ? Type.Optional(Type.String({ minLength: 1, ...m })) : Type.String({ minLength: 1, ...m });
}

export const channel = text({ title: 'Channel', description: 'Channel name; default: every response channel (all channels when none is marked response)', cli: { short: '-c' } });

/** Spike detection on a trace (server/analysis/spikes.ts), shared by every spike-based analysis. */
export const SPIKE_PARAMS = {
  channel,
  threshold: choice(['robust', 'sd', 'absolute'], {
    title: 'Threshold mode',
    description: 'robust: k·median(|x − median|)/0.6745 (Quian Quiroga et al. 2004); sd: k·SD; absolute: the level `value`',
    default: 'robust',
  }),
  k: num({ title: 'Threshold multiplier', description: 'multiplier of the robust noise or the SD', default: 5, exclusiveMinimum: 0, cli: { short: '-k' } }),
  value: num({ title: 'Absolute threshold', description: 'absolute threshold level, physical unit of the channel' }),
  polarity: choice(['positive', 'negative', 'both'], { title: 'Spike polarity', default: 'positive' }),
  refractory: num({
    title: 'Dead time',
    unit: 's',
    description: 'dead time after each spike; default: derived from the signal (see docs/analysis.md)',
    minimum: 0,
  }),
  rearm: num({
    title: 'Re-arm level',
    description: 'fraction of the threshold distance above the baseline the signal must fall back to before the next spike (hysteresis)',
    default: 0.5,
    minimum: 0,
    maximum: 1,
  }),
  bandpass: band({ title: 'Band-pass', unit: 'Hz', description: 'zero-phase Butterworth band-pass before detection, [low, high]' }),
  switching: flag({ title: 'Switching events', description: 'detect memristive switching events on dG/dt (channel read as conductance, S)' }),
  events: flag({ title: 'Stored events', description: 'run input: use the spike events stored with the run instead of detecting spikes' }),
};

export const BURST_PARAMS = {
  method: choice(['log-isi', 'max-interval'], {
    title: 'Burst detector',
    description: 'log-isi: adaptive threshold from the train’s log-ISI histogram (Pasquale et al. 2010); max-interval: fixed intervals',
    default: 'log-isi',
  }),
  max_begin_isi: num({ title: 'Max begin ISI', unit: 's', description: 'max-interval: largest ISI that starts a burst; default: scaled to the train', minimum: 0 }),
  max_end_isi: num({ title: 'Max end ISI', unit: 's', description: 'max-interval: largest ISI inside a burst; default: scaled to the train', minimum: 0 }),
  min_ibi: num({ title: 'Min inter-burst interval', unit: 's', description: 'max-interval: bursts closer than this merge; default: scaled to the train', minimum: 0 }),
  min_duration: num({ title: 'Min burst duration', unit: 's', description: 'max-interval: shortest burst; default: scaled to the train', minimum: 0 }),
  min_spikes: int({ title: 'Min spikes per burst', default: 3, minimum: 2 }),
};

export type Schema = TSchema;
