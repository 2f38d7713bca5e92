/**
 * Generated PHP values for the PHP cross-checks, and the transfer encoding that lets PHP
 * build exactly the same value (test/fixtures/php/signing-crosscheck.php reads it).
 *
 * JSON loses what matters here: PHP's float 5.0 versus int 5, 64-bit ints, integer keys in
 * a chosen order. So every value is generated once as a {@link GenValue}, and turned both
 * into what our TypeScript takes ({@link toTs}) and into tagged nodes for PHP ({@link toPhpNode}):
 * strings as they are, ints from their decimal digits, floats from their IEEE-754 bits,
 * arrays as ordered [key, value] pairs.
 */
import type { PhpParams, PhpValue } from '../src/apis/justclick/signing.ts';

// ---- seeded PRNG ----------------------------------------------------------------------

/** mulberry32: small, fast, good enough for test data; the same seed gives the same cases. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }
}

/** The seed: CROSSCHECK_SEED if set (to reproduce a failure), else a fixed one. */
export function crosscheckSeed(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.CROSSCHECK_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`CROSSCHECK_SEED must be a whole number, got ${JSON.stringify(fromEnv)}`);
    return seed;
  }
  return 20_241_122;
}

// ---- the value model ------------------------------------------------------------------

export type GenValue =
  | { kind: 'string'; value: string }
  /** A whole number inside PHP's int range; JS holds it exactly. PHP: int. */
  | { kind: 'int'; value: number }
  /** PHP: float with exactly these bits. TS: the same JS number. */
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  /** TS: undefined (skipped like null). PHP: null. */
  | { kind: 'undefined' }
  /** TS: a JS array. PHP: a list. */
  | { kind: 'list'; items: GenValue[] }
  /** TS: a plain object (JS orders integer-like keys first). PHP: an array in the object's own key order. */
  | { kind: 'object'; entries: Array<[string, GenValue]> }
  /** TS: a Map, keys in this order (strings, or whole numbers). PHP: an array in the same order. */
  | { kind: 'map'; entries: Array<[string | number, GenValue]> };

/** Top-level parameters: a plain object, or [name, value] pairs (repeats allowed, as `$a[$k] = $v`). */
export type GenParams = { kind: 'object'; entries: Array<[string, GenValue]> } | { kind: 'pairs'; pairs: Array<[string, GenValue]> };

export type PhpNode =
  | { t: 's'; v: string }
  | { t: 'i'; v: string }
  | { t: 'f'; v: string }
  | { t: 'b'; v: boolean }
  | { t: 'n' }
  | { t: 'a'; v: Array<[string, PhpNode]> };

function objectOf(entries: ReadonlyArray<[string, GenValue]>): Record<string, PhpValue> {
  const object: Record<string, PhpValue> = {};
  for (const [key, value] of entries) object[key] = toTs(value);
  return object;
}

export function toTs(value: GenValue): PhpValue {
  switch (value.kind) {
    case 'string':
    case 'int':
    case 'float':
    case 'bool':
      return value.value;
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'list':
      return value.items.map(toTs);
    case 'object':
      return objectOf(value.entries);
    case 'map':
      return new Map(value.entries.map(([key, item]) => [key, toTs(item)]));
  }
}

export function paramsToTs(params: GenParams): PhpParams {
  if (params.kind === 'object') return objectOf(params.entries);
  return params.pairs.map(([key, value]) => [key, toTs(value)] as const);
}

/** A double's IEEE-754 bits, big-endian hex, for PHP's unpack('E', hex2bin(...)). */
export function floatBits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

export function toPhpNode(value: GenValue): PhpNode {
  switch (value.kind) {
    case 'string':
      return { t: 's', v: value.value };
    case 'int':
      return { t: 'i', v: BigInt(value.value).toString() };
    case 'float':
      return { t: 'f', v: floatBits(value.value) };
    case 'bool':
      return { t: 'b', v: value.value };
    case 'null':
    case 'undefined':
      return { t: 'n' };
    case 'list':
      return { t: 'a', v: value.items.map((item, index) => [String(index), toPhpNode(item)]) };
    case 'object': {
      // PHP gets the keys in the order the JS object holds them (integer-like ones first).
      const byKey = new Map(value.entries);
      return { t: 'a', v: Object.keys(objectOf(value.entries)).map((key) => [key, toPhpNode(byKey.get(key) as GenValue)]) };
    }
    case 'map':
      return { t: 'a', v: value.entries.map(([key, item]) => [String(key), toPhpNode(item)]) };
  }
}

export function paramsToPhpNode(params: GenParams): PhpNode {
  if (params.kind === 'object') return toPhpNode(params);
  return { t: 'a', v: params.pairs.map(([key, value]) => [key, toPhpNode(value)]) };
}

// ---- generators -----------------------------------------------------------------------

const textPieces = [
  'a', 'Z', '0', '9', 'bill_id', 'good_name', '-', '_', '.', ' ', '  ', '~', '*', "'", '(', ')', '!',
  '+', '&', '=', '%', '%20', '%2B', '?', '#', '/', ':', ';', ',', '@', '$', '[', ']', '[]', '{', '}',
  '"', '\\', '<', '>', '^', '`', '|', '\t', '\n', '\r\n', '\0',
  'Привет', 'заказ №5', 'Ёё', 'ваш счёт', '注文', 'キャンセル', 'ｶﾀｶﾅ', '日本語のテキスト',
  '😀', '🎉', '👍🏽', '👨‍👩‍👧', '🇯🇵', 'é', 'e\u0301', 'ß', '€', '£', '\u00a0', '\u200b', 'ℌ', '𝔘', '\uffff',
];

/** A string from ASCII, punctuation, URL syntax, Cyrillic, Japanese, emoji and combining marks. */
export function genText(prng: Prng, maxPieces = 6): string {
  if (prng.chance(0.08)) return '';
  let text = '';
  const pieces = prng.int(1, maxPieces);
  for (let i = 0; i < pieces; i++) text += prng.pick(textPieces);
  return text;
}

const integerLikeKeys = ['0', '1', '2', '7', '10', '42', '-1', '-3', '05', '00', '-0', '1.5', '1e3', ' 1', '9223372036854775807', '9223372036854775808', '-9223372036854775808'];

/** A key: mostly text, sometimes integer-like (which PHP turns into int keys). */
export function genKey(prng: Prng): string {
  if (prng.chance(0.3)) return prng.pick(integerLikeKeys);
  const key = genText(prng, 3);
  return key;
}

const wholeIntegers = [
  0, 1, -1, 2, 5, 10, 42, 100, 1111, 302, 1_700_000_000, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 2 ** 60, 2 ** 62 + 2 ** 40, -(2 ** 63),
  1e14, 1e15, 1e18, 123_456_789_012_345,
];

/** A whole number that JS and PHP both hold exactly as an int. */
export function genInt(prng: Prng): number {
  if (prng.chance(0.4)) return prng.pick(wholeIntegers);
  const magnitude = 10 ** prng.int(0, 15);
  return Math.round((prng.next() * 2 - 1) * magnitude);
}

const specialFloats = [
  5.5, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, 19.99, 0.01, 0.05, 1.005, 2.675, 100.5, -5.5, -0.1,
  0.0001, 0.00001, 0.000123456789, 1e-7, 1.5e-300, 5e-324, Number.MIN_VALUE, Number.EPSILON,
  1e19, 9.3e18, 2 ** 63, 2 ** 64, -(2 ** 64), 1e20, 1e21, 1e25, 1.5e300, Number.MAX_VALUE,
  123456789012.345, 12345678901234.5, 0.5, 1.5, 2.5, 0.125, 1e-4 * 3,
  // the doubles nearest to these decimals, which have more digits than a double holds
  Number('99999999999999.99'), Number('9999999999999.995'),
  Infinity, -Infinity, NaN,
];

/**
 * A PHP float. Whole floats stay below 1e14 in magnitude and are never -0: there PHP prints
 * float and int alike (5.0 → "5"), which a JS number cannot tell apart; larger whole floats
 * inside the 64-bit range print in E notation, and our side (like json_decode) takes every
 * whole number in that range for an int.
 */
export function genFloat(prng: Prng): number {
  const roll = prng.next();
  if (roll < 0.25) return prng.pick(specialFloats);
  if (roll < 0.45) return prng.int(-99_999, 99_999) / 100; // money-like: 5.5, 19.99
  if (roll < 0.55) return prng.int(-1000, 1000); // whole: PHP float 5.0
  if (roll < 0.6) return prng.pick([5, 1, 100, 2, 99_999_999_999_999, -99_999_999_999_999]);
  const value = (prng.next() * 2 - 1) * 10 ** prng.int(-12, 30);
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return value / 3; // keep it fractional
  return value;
}

/** A whole float inside PHP's int range that PHP would print unlike the int our side takes it for. */
export function isPhpWholeFloatAmbiguous(value: number): boolean {
  const insideIntRange = value >= -(2 ** 63) && value < 2 ** 63;
  return Number.isInteger(value) && insideIntRange && (Math.abs(value) >= 1e14 || Object.is(value, -0));
}

export function genScalar(prng: Prng): GenValue {
  const roll = prng.next();
  if (roll < 0.5) return { kind: 'string', value: genText(prng) };
  if (roll < 0.65) return { kind: 'int', value: genInt(prng) };
  if (roll < 0.8) {
    const value = genFloat(prng);
    return isPhpWholeFloatAmbiguous(value) ? { kind: 'int', value: Math.trunc(value) || 0 } : { kind: 'float', value };
  }
  if (roll < 0.9) return { kind: 'bool', value: prng.chance(0.5) };
  if (roll < 0.95) return { kind: 'null' };
  return { kind: 'undefined' };
}

/** Distinct keys (distinct as PHP sees them too: "5" and 5 would be one key). */
function distinctKeys(prng: Prng, count: number, make: () => string | number): Array<string | number> {
  const seen = new Set<string>();
  const keys: Array<string | number> = [];
  for (let tries = 0; keys.length < count && tries < count * 10; tries++) {
    const key = make();
    const asPhp = String(key);
    if (seen.has(asPhp)) continue;
    seen.add(asPhp);
    keys.push(key);
  }
  return keys;
}

/** A value nested up to `depth` levels: lists, objects, Maps (with out-of-order int keys), empty arrays. */
export function genValue(prng: Prng, depth: number): GenValue {
  if (depth <= 0 || prng.chance(0.55)) return genScalar(prng);
  const size = prng.chance(0.1) ? 0 : prng.int(1, 4);
  const roll = prng.next();
  if (roll < 0.35) {
    return { kind: 'list', items: Array.from({ length: size }, () => genValue(prng, depth - 1)) };
  }
  if (roll < 0.65) {
    const keys = distinctKeys(prng, size, () => genKey(prng)) as string[];
    return { kind: 'object', entries: keys.map((key) => [key, genValue(prng, depth - 1)]) };
  }
  const keys = distinctKeys(prng, size, () => (prng.chance(0.5) ? prng.int(-5, 20) : genKey(prng)));
  return { kind: 'map', entries: keys.map((key) => [key, genValue(prng, depth - 1)]) };
}

/** Top-level parameters, nested 2–3 levels deep at most. */
export function genParams(prng: Prng): GenParams {
  const size = prng.chance(0.05) ? 0 : prng.int(1, 6);
  const depth = prng.int(1, 3);
  if (prng.chance(0.5)) {
    const keys = distinctKeys(prng, size, () => genKey(prng)) as string[];
    return { kind: 'object', entries: keys.map((key) => [key, genValue(prng, depth)]) };
  }
  // Pairs, with a repeated name now and then.
  const pairs: Array<[string, GenValue]> = [];
  for (let i = 0; i < size; i++) {
    const key = pairs.length > 0 && prng.chance(0.15) ? prng.pick(pairs)[0] : genKey(prng);
    pairs.push([key, genValue(prng, depth)]);
  }
  return { kind: 'pairs', pairs };
}

// ---- bodies with bracketed field names ------------------------------------------------

const topNames = [
  'a', 'b', 'goods', 'utm', 'bill_id', 'x.y', 'a b', ' lead', '  ', 'заказ', '注文', '😀', 'a\0b', '', '.',
  '__Host-id', '..Host-id', '__Secure-id', '_.Secure-id', 'ok[', '[x]', 'a]b', 'hash',
];
const bracketKeys = [
  '', '', '0', '1', '2', '5', '-3', '05', 'good_name', 'good_sum', ' x', 'x y', 'x.y', 'x[y', '\tz',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', 'Ключ', 'キー', '🎉', '__Host-k', 'a]',
];

/** A field name like PHP forms produce (and some they should not): `goods[0][good_name]`, `list[]`, `a.b[x`. */
export function genFieldName(prng: Prng): string {
  let name = prng.pick(topNames);
  const levels = prng.pick([0, 0, 1, 1, 2, 2, 3]);
  for (let i = 0; i < levels; i++) name += `[${prng.pick(bracketKeys)}]`;
  const tail = prng.next();
  if (tail < 0.06) name += `[${prng.pick(bracketKeys)}`; // unclosed
  else if (tail < 0.1) name += prng.pick(['x', ']', '[', '.z', ' ']); // junk after the last ]
  return name;
}

/** Decoded [name, value] fields for one body; names repeat so that later fields override and append. */
export function genFields(prng: Prng): Array<[string, string]> {
  const names = Array.from({ length: prng.int(1, 5) }, () => genFieldName(prng));
  const count = prng.int(1, 12);
  return Array.from({ length: count }, (): [string, string] => [
    prng.chance(0.7) ? prng.pick(names) : genFieldName(prng),
    genText(prng, 3),
  ]);
}

/** A urlencoded body for fields (encodeURIComponent: independent of the code under test). */
export function urlencodedBody(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
}

/** Our nested value in the tagged form PHP reports for parse_str's result (keys as strings). */
export function nestedToPhpNode(value: PhpValue): PhpNode {
  if (typeof value === 'string') return { t: 's', v: value };
  if (value instanceof Map) {
    return { t: 'a', v: [...(value as ReadonlyMap<string | number, PhpValue>)].map(([key, item]) => [String(key), nestedToPhpNode(item)]) };
  }
  throw new Error(`nestPhpFields returned ${typeof value}, where only strings and Maps were expected`);
}
