/**
 * JustClick request and response signing, byte-identical to the vendor's PHP:
 *   request:  hash = md5( http_build_query(params) . "::" . login . "::" . secret )
 *   response: hash = md5( error_code . "::" . error_text . "::" . secret )
 * `phpHttpBuildQuery` follows php-src ext/standard/http.c (php_url_encode_hash_ex), default arguments.
 */
import { createHash } from 'node:crypto';

/** A PHP value as http_build_query sees it. */
export type PhpValue = string | number | boolean | null | undefined | PhpValue[] | PhpArray | PhpOrderedArray;

/** A PHP array with string keys. JS puts integer-like keys first: use pairs or a Map when order matters. */
export interface PhpArray {
  [key: string]: PhpValue;
}

/** A PHP array whose keys keep insertion order, integer-like ones included. */
export type PhpOrderedArray = ReadonlyMap<string | number, PhpValue>;

/** Top-level parameters: an object, or ordered pairs (a repeated key keeps its first place, takes the last value). */
export type PhpParams = PhpArray | ReadonlyArray<readonly [string, PhpValue]>;

/**
 * PHP `urlencode` over the UTF-8 bytes (a lone surrogate becomes U+FFFD, `%EF%BF%BD`): encodeURIComponent,
 * which also leaves `!'()*~` alone, and a space as `+`.
 */
export function phpUrlencode(value: string): string {
  return encodeURIComponent(value.toWellFormed())
    .replace(/[!'()*~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}

export const phpIntMin = -(2n ** 63n);
export const phpIntMax = 2n ** 63n - 1n;
/** PHP's default `precision` ini setting, used when a float becomes a string. */
const phpPrecision = 14;

/**
 * zend_dtoa(value, mode 2, 14): `value` rounded to 14 significant digits, trailing zeros removed. toExponential
 * rounds the exact value too, but breaks an exact tie upwards where dtoa rounds it to even. A tie has 15
 * significant digits, so it lies in [1e-7, 1e17), where toExponential(100) prints every double exactly.
 */
function roundedDigits(value: number): { digits: string; decpt: number } {
  const exact = value >= 1e-7 && value < 1e17 ? value.toExponential(100) : '';
  const tieToEven = /^\d\.\d{12}[02468]50*e/.test(exact);
  const rounded = tieToEven ? exact.replace(/(?<=^\d\.\d{13})\d+/, '') : value.toExponential(phpPrecision - 1);
  const [mantissa = '', exponent = ''] = rounded.split('e');
  return { digits: mantissa.replace('.', '').replace(/0+$/, ''), decpt: Number(exponent) + 1 };
}

/** zend_gcvt(value, precision, '.', 'E'): PHP's float-to-string conversion. */
function phpFloatToString(value: number): string {
  if (Number.isNaN(value)) return 'NAN';
  if (value === Infinity) return 'INF';
  if (value === -Infinity) return '-INF';
  const negative = value < 0 || Object.is(value, -0);
  if (value === 0) return negative ? '-0' : '0';
  const { digits, decpt } = roundedDigits(Math.abs(value));
  const sign = negative ? '-' : '';
  if (decpt < 0 ? decpt < -3 : decpt > phpPrecision) {
    // exponential format, e.g. 1.0E+25 or 1.5E-7
    const exponent = decpt - 1;
    const mantissa = `${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}`;
    return `${sign}${mantissa}E${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/**
 * A JS number as PHP would print it, mapped as json_decode would: a whole value in PHP's 64-bit
 * range is an int (`9007199254740992`), anything else a float with precision 14 (`0.1`, `1.0E+25`).
 */
export function phpNumberToString(value: number): string {
  if (Number.isInteger(value)) {
    const whole = BigInt(value);
    if (whole >= phpIntMin && whole <= phpIntMax) return whole.toString();
  }
  return phpFloatToString(value);
}

function isPlainObject(value: object): value is PhpArray {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ? `a ${name}` : 'an object';
}

/** The entries of a nested PHP array, in PHP's order. */
function entriesOfArray(value: object, path: string): Array<[string, PhpValue]> {
  if (Array.isArray(value)) {
    const entries: Array<[string, PhpValue]> = [];
    for (let index = 0; index < value.length; index++) {
      if (index in value) entries.push([String(index), value[index] as PhpValue]);
    }
    return entries;
  }
  if (value instanceof Map) {
    return [...(value as Map<unknown, PhpValue>)].map(([key, item]) => {
      if (typeof key === 'string') return [key, item];
      if (typeof key === 'number' && Number.isSafeInteger(key)) return [String(key), item];
      throw new TypeError(`http_build_query: ${path} has a Map key ${String(key)} that is neither a string nor a whole number`);
    });
  }
  if (isPlainObject(value)) return Object.entries(value);
  throw new TypeError(`http_build_query: ${path} is ${describeType(value)}; only strings, numbers, booleans, null, arrays, Maps and plain objects can be encoded`);
}

/** Top-level pairs as PHP builds the array: `$a[$key] = $value`, in order. */
function entriesOfParams(params: PhpParams): Array<[string, PhpValue]> {
  if (!Array.isArray(params)) return entriesOfArray(params, 'the parameters');
  const merged = new Map<string, PhpValue>();
  for (const pair of params as ReadonlyArray<readonly [string, PhpValue]>) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw new TypeError('http_build_query: parameters given as an array must be [name, value] pairs with string names');
    }
    merged.set(pair[0], pair[1]);
  }
  return [...merged];
}

function encodeScalar(value: string | number | boolean): string {
  if (typeof value === 'string') return phpUrlencode(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return phpUrlencode(phpNumberToString(value));
}

/** One field of an encoded query: its keys from the top level down, and its `name=value` text. */
export interface PhpQueryField {
  readonly path: readonly string[];
  readonly text: string;
}

function encodeEntries(entries: Array<[string, PhpValue]>, parents: readonly string[], out: PhpQueryField[]): void {
  for (const [key, value] of entries) {
    const path = [...parents, key];
    const here = parents.length === 0 ? key : `${parents[0]}${path.slice(1).map((part) => `[${part}]`).join('')}`;
    if (value === null || value === undefined) continue; // PHP skips null
    if (typeof value === 'object') {
      encodeEntries(entriesOfArray(value, here), path, out);
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TypeError(`http_build_query: ${here} is ${describeType(value)}, which PHP parameters cannot hold`);
    }
    const [top, ...nested] = path.map(phpUrlencode);
    out.push({ path, text: `${top}${nested.map((part) => `%5B${part}%5D`).join('')}=${encodeScalar(value)}` });
  }
}

/** The fields of `phpHttpBuildQuery(params)`, in order, for a caller that checks the names before joining them. */
export function phpQueryFields(params: PhpParams): PhpQueryField[] {
  const out: PhpQueryField[] = [];
  encodeEntries(entriesOfParams(params), [], out);
  return out;
}

/** PHP `http_build_query($params)` with default arguments. */
export function phpHttpBuildQuery(params: PhpParams): string {
  return phpQueryFields(params)
    .map((field) => field.text)
    .join('&');
}

function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** `md5(http_build_query($params) . "::" . $login . "::" . $secret)`, lower-case hex. */
export function justClickRequestHash(params: PhpParams, login: string, secret: string): string {
  return justClickQueryHash(phpHttpBuildQuery(params), login, secret);
}

/** The same hash over a query already built by {@link phpHttpBuildQuery}. */
export function justClickQueryHash(query: string, login: string, secret: string): string {
  return md5Hex(`${query}::${login}::${secret}`);
}

/** `md5("$code::$text::$secret")` over the code and text exactly as received. */
export function justClickResponseHash(code: number | string, text: string, secret: string): string {
  const codeText = typeof code === 'number' ? phpNumberToString(code) : code;
  return md5Hex(`${codeText}::${text}::${secret}`);
}
