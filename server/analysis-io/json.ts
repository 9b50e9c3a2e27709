/**
 * An analysis's computed object turned into its stored and sent JSON (docs/analysis.md "Naming convention"):
 * snake_case keys, typed arrays as plain arrays, non-finite numbers as null, undefined fields dropped.
 * `Json<T>` says the same at the type level, so the registry (registry.ts) checks at compile time that an
 * analysis's output, so converted, is the result its schema in common/schemas/analysis-results.ts declares.
 */

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
/** [a-z0-9] of snakeKey's pattern (letters are ASCII in the keys). */
type LowerOrDigit<C extends string> = C extends Digit ? true : C extends Uppercase<C> ? false : true;
type Upper<C extends string> = C extends Lowercase<C> ? false : true;
/** `_` before each upper-case letter that follows a lower-case letter or a digit. */
type Stepped<S extends string, Prev extends string = ''> = S extends `${infer C}${infer Rest}`
  ? `${[LowerOrDigit<Prev>, Upper<C>] extends [true, true] ? '_' : ''}${C}${Stepped<Rest, C>}`
  : '';

/** snakeKey at the type level: `logLik` → `log_lik`, `log10Isi` → `log10_isi`; `R`, `Aplus`, `ks_d` kept. */
export type SnakeKey<K extends string> = Stepped<K> extends K ? K : Lowercase<Stepped<K>>;

/**
 * The JSON toJson makes of a T. A number stays `number`: whether it is finite (else null) is no type, and
 * test/analysis-results.test.ts checks the real results; a field that may be undefined is absent when it is.
 */
export type Json<T> = T extends number
  ? number
  : T extends string | boolean | null | undefined
    ? T
    : T extends ArrayBufferView
      ? number[]
      : T extends readonly (infer E)[]
        ? Json<E>[]
        : { [K in keyof T as K extends string ? SnakeKey<K> : never]: Json<T[K]> };

/** fooBarS → foo_bar_s; keys without a lower-to-upper step (R, Aplus, ks_d) are kept. */
export function snakeKey(k: string): string {
  return /[a-z0-9][A-Z]/.test(k) ? k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() : k;
}

/** The result as stored and sent: snake_case keys, typed arrays as plain arrays, non-finite numbers null. */
export function toJson<T>(result: T): Json<T> {
  const walk = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [snakeKey(k), walk(x)]));
    return v;
  };
  // the one place the type is asserted: walk does at run time what Json<T> spells (methods.test.ts checks both)
  return walk(result) as Json<T>;
}

type IsNever<X> = [X] extends [never] ? true : false;
type Item<B> = B extends readonly (infer F)[] ? F : never;
type Shapes<B> = Exclude<Extract<B, object>, readonly unknown[]>;
type Field<Path extends string, K extends string> = Path extends '' ? K : `${Path}.${K}`;
/** The fields of object A that object B lacks, deeper ones as `a.b`, `a[].b`. */
type OwnExtra<A, B, Path extends string> = {
  [K in keyof A & string]-?: K extends keyof B ? ExtraFields<A[K], B[K], Field<Path, K>> : Field<Path, K>;
}[keyof A & string];
/** true among the results when A fits one of the shapes S. */
type FitsOne<A, S, Path extends string> = S extends unknown ? IsNever<OwnExtra<A, S, Path>> : never;

/**
 * The fields of A that B has no place for (never when none), B a result type whose objects are closed
 * (`additionalProperties: false`). TypeScript lets an object with more fields pass for B; a closed schema
 * refuses it, so the registry asks for this to be never. Where B is a union (a result with several shapes,
 * a nullable object), A's object must fit one of its shapes.
 */
export type ExtraFields<A, B, Path extends string = ''> = A extends readonly (infer E)[]
  ? ExtraFields<E, Item<B>, `${Path}[]`>
  : A extends object
    ? IsNever<Shapes<B>> extends true
      ? never
      : true extends FitsOne<A, Shapes<B>, Path>
        ? never
        : OwnExtra<A, Shapes<B>, Path>
    : never;
