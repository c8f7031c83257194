/**
 * fast-check arbitraries shared by the fuzz tests (test/fuzz/*.test.ts): hostile JSON values (wrong
 * types, huge and unicode strings, prototype keys, deep nesting), raw frames (binary, invalid UTF-8,
 * not-JSON text, deeply nested JSON text) and mutations of a valid message (a field deleted,
 * retyped, renamed or replaced, a key added) so the generated inputs reach the parser's shape
 * checks and not only `JSON.parse`.
 */
import fc from 'fast-check';

/**
 * The seed of every property: `FUZZ_SEED` when set (to replay a failure or explore), a fixed one under
 * CI=true (a landing must not depend on the inputs a random seed happens to draw), else a fresh one
 * per run, so local runs keep trying new inputs. fast-check prints the seed of any failure.
 */
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.CI === 'true' ? 20_261_204 : undefined;
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });

/** Keys that reach `Object.prototype` when a parser copies or indexes carelessly. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** A string of `n` copies of `unit`, built once per size (huge strings without generating them char by char). */
const huge = (unit: string, n: number) => unit.repeat(n);

/** Strings a parser meets on a hostile wire: empty, unicode (lone surrogates too), control characters, huge, base64-ish, numeric-looking. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u2028', '\ud800', '\udfff', '\ufeff', '"', '\\', '\n', '%', '&', '='), maxLength: 20 }),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'undefined', 'NaN', '-1', '1e309', '0x10', '8000', '16000Hz', 'inbound', 'outbound', 'media') },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('A', '=', '-', '_', '*', ' ', '\u00e9'), maxLength: 64 }) }, // invalid base64
  { weight: 1, arbitrary: fc.constantFrom(huge('A', 70_000), huge('\u00e9', 20_000), huge('=', 10_000), huge('\ud83d\ude00', 10_000)) },
);

/** Any JSON-able value, with hostile strings and prototype keys, a few levels deep. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 2 ** 53, -(2 ** 31), 1e308)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_KEYS)), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** JSON text nested `depth` levels deep (arrays or objects): stack-depth hazards for recursive code after `JSON.parse`. */
export function deepJson(depth: number, kind: 'array' | 'object', leaf = '1'): string {
  return kind === 'array' ? '['.repeat(depth) + leaf + ']'.repeat(depth) : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

/**
 * Deep JSON text, arrays or objects: 12,000 and 20,000 levels are past Node's default stack for a
 * naive recursive walk (about 10,000 frames); deeper only costs time (JSON.parse of 100,000 levels takes ~10 ms).
 */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(2, 100, 5_000, 12_000, 20_000), fc.constantFrom<'array' | 'object'>('array', 'object'))
  .map(([d, k]) => deepJson(d, k));

type Json = Record<string, unknown>;

/** Every path (array of keys) to a value inside `v`, the root excluded. */
function pathsOf(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      const p = [...prefix, k];
      out.push(p);
      pathsOf((v as Json)[k], p, out);
    }
  }
  return out;
}

/** One change to a message. `at` indexes the message's paths (modulo their count). */
export type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'retype'; at: number }
  | { op: 'rename'; at: number; key: string }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'case'; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...PROTO_KEYS)) }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...PROTO_KEYS)),
    value: hostileValue,
  }),
  fc.record({ op: fc.constant('case' as const), at: fc.nat() }),
);

/** The same value in another JSON type (string ⇄ number, object → array, …). */
function retype(v: unknown): unknown {
  if (typeof v === 'string') return v === '' ? 0 : Number.isFinite(Number(v)) ? Number(v) : [v];
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (v === null) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return Object.values(v as Json);
}

/** A deep copy of `msg` with `muts` applied in order; the copy defines keys as own properties (as `JSON.parse` does), `__proto__` included. */
export function applyMutations(msg: Json, muts: Mutation[]): Json {
  const root = JSON.parse(JSON.stringify(msg)) as Json;
  const set = (o: Json, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const m of muts) {
    const paths = pathsOf(root);
    if (!paths.length) {
      if (m.op === 'add') set(root, m.key, m.value);
      continue;
    }
    const path = paths[m.at % paths.length]!;
    const key = path.at(-1)!;
    const parent = path.slice(0, -1).reduce<Json>((o, k) => o[k] as Json, root);
    switch (m.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 'replace':
        set(parent, key, m.value);
        break;
      case 'retype':
        set(parent, key, retype(parent[key]));
        break;
      case 'rename':
        if (!Array.isArray(parent)) {
          const v = parent[key];
          delete parent[key];
          set(parent, m.key, v);
        }
        break;
      case 'add': {
        const target = parent[key];
        // Arrays get no named keys: an own `constructor` on an array breaks this helper's own splice.
        if (target && typeof target === 'object' && !Array.isArray(target)) set(target as Json, m.key, m.value);
        else if (!Array.isArray(parent)) set(parent, m.key, m.value);
        break;
      }
      case 'case': {
        const v = parent[key];
        if (typeof v === 'string') set(parent, key, v.toUpperCase());
        else if (!Array.isArray(parent)) {
          delete parent[key];
          set(parent, key.toUpperCase(), v);
        }
        break;
      }
    }
  }
  return root;
}

/** Mutations (1 to 4) of one of `valid`, as the mutated object. */
export function mutated(valid: readonly Json[]): fc.Arbitrary<Json> {
  return fc.tuple(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([m, muts]) => applyMutations(m, muts));
}

/**
 * JSON text that `JSON.stringify` cannot make: `__proto__` as an own key, written by hand so the
 * parser's `JSON.parse` sees it (`JSON.stringify` of an object literal drops it).
 */
export function withProtoKey(msg: Json, payload: unknown): string {
  const text = JSON.stringify(msg);
  return text.slice(0, -1) + (text.length > 2 ? ',' : '') + `"__proto__":${JSON.stringify(payload) ?? 'null'}}`;
}

/** A raw WebSocket frame as a carrier or provider could send it: `[data, isBinary]`. */
export type RawFrame = [Buffer | string, boolean];

/** Frames that are not valid JSON text messages (binary, invalid UTF-8, JSON of the wrong kind, truncated, deep), plus hostile JSON objects. */
export function rawFrames(valid: readonly Json[]): fc.Arbitrary<RawFrame> {
  const text = (a: fc.Arbitrary<string>) => a.map((s): RawFrame => [s, false]);
  return fc.oneof(
    { weight: 3, arbitrary: mutated(valid).map((m): RawFrame => [JSON.stringify(m), false]) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...valid), hostileValue).map(([m, v]): RawFrame => [withProtoKey(m, v), false]) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((u): RawFrame => [Buffer.from(u), true]) },
    { weight: 1, arbitrary: fc.constantFrom(...valid).map((m): RawFrame => [Buffer.from(JSON.stringify(m)), true]) }, // valid JSON, binary frame
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((u): RawFrame => [Buffer.from(u), false]) }, // invalid UTF-8 text
    { weight: 1, arbitrary: text(hostileValue.map((v) => JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: text(hostileString) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([m, n]): RawFrame => [JSON.stringify(m).slice(0, n % JSON.stringify(m).length), false]),
    },
    { weight: 1, arbitrary: text(deepText) },
  );
}
