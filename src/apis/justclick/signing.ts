/**
 * JustClick request and response signing, byte-identical to the vendor's PHP.
 *
 *   request:  hash = md5( http_build_query(params) . "::" . login . "::" . secret )
 *   response: hash = md5( error_code . "::" . error_text . "::" . secret )
 *
 * Known vectors (computed with PHP; login `username`, secret = 40 × `X`):
 *   bill_id=1111                       → 47d890b61dcad113dee75f57f69be233
 *   response 0 / "OK"                  → cf2b10a8fd707c6d14f496e19503b0a1
 *   response 200 / "Nonexistent order" → e95a8dcc9368519482412470b53d392f
 *
 * `phpHttpBuildQuery` follows php-src ext/standard/http.c (php_url_encode_hash_ex) with
 * the default arguments: `&` between pairs, PHP_QUERY_RFC1738 (php_url_encode: space → `+`,
 * everything but `A-Z a-z 0-9 - _ .` → `%XX` in upper case, over the UTF-8 bytes).
 * `nestPhpFields` follows main/php_variables.c (php_register_variable_ex), which turns the
 * names of a received body (`goods[0][good_name]`) into $_POST's nested arrays.
 */
import { createHash } from 'node:crypto';

/** A PHP value as http_build_query sees it. */
export type PhpValue = string | number | boolean | null | undefined | PhpValue[] | PhpArray | PhpOrderedArray;

/** A PHP array with string keys. JS puts integer-like keys first: use pairs or a Map when order matters. */
export interface PhpArray {
  [key: string]: PhpValue;
}

/** A PHP array whose keys keep insertion order, integer-like ones included (what nestPhpFields returns for nested levels). */
export type PhpOrderedArray = ReadonlyMap<string | number, PhpValue>;

/**
 * Top-level parameters: an object, or ordered pairs (PHP arrays keep insertion order even
 * for integer keys, JS objects do not). Pairs behave like `$a[$key] = $value` in order:
 * a repeated key keeps its first position and takes the last value.
 */
export type PhpParams = PhpArray | ReadonlyArray<readonly [string, PhpValue]>;

// ---------------------------------------------------------------------------------------
// php_url_encode

const hexDigits = '0123456789ABCDEF';
const utf8 = new TextEncoder();

function isUnreservedByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f // _
  );
}

/**
 * PHP `urlencode`: space → `+`; everything but `A-Z a-z 0-9 - _ .` percent-encoded from the
 * UTF-8 bytes with upper-case hex (`~` → `%7E`, `*` → `%2A`). A lone UTF-16 surrogate,
 * which has no UTF-8 form, is encoded as U+FFFD (`%EF%BF%BD`).
 */
export function phpUrlencode(value: string): string {
  let out = '';
  for (const byte of utf8.encode(value)) {
    if (isUnreservedByte(byte)) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${hexDigits[byte >> 4]}${hexDigits[byte & 0x0f]}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Numbers as PHP prints them

const phpIntMin = -(2n ** 63n);
const phpIntMax = 2n ** 63n - 1n;
/** PHP's default `precision` ini setting, used when a float becomes a string. */
const phpPrecision = 14;

/** The exact decimal digits of a finite, positive double, with dtoa's decimal-point position. */
function exactDigits(value: number): { digits: string; decpt: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent: number;
  if (biasedExponent === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // value = mantissa × 2^exponent exactly
  if (exponent >= 0) {
    const digits = (mantissa << BigInt(exponent)).toString();
    return { digits, decpt: digits.length };
  }
  // mantissa / 2^n = mantissa × 5^n / 10^n
  const scale = -exponent;
  const digits = (mantissa * 5n ** BigInt(scale)).toString();
  return { digits, decpt: digits.length - scale };
}

/**
 * zend_dtoa(value, mode 2, ndigits): the shortest digit string equal to `value` correctly
 * rounded to `ndigits` significant digits (ties to even, as dtoa does), trailing zeros removed.
 */
function roundedDigits(value: number, ndigits: number): { digits: string; decpt: number } {
  const exact = exactDigits(value);
  let { digits, decpt } = exact;
  if (digits.length > ndigits) {
    const head = digits.slice(0, ndigits);
    const rest = digits.slice(ndigits);
    const first = rest.charCodeAt(0) - 48;
    let roundUp: boolean;
    if (first > 5) roundUp = true;
    else if (first < 5) roundUp = false;
    else if (/[1-9]/.test(rest.slice(1))) roundUp = true;
    else roundUp = (head.charCodeAt(head.length - 1) - 48) % 2 === 1;
    if (roundUp) {
      const bumped = (BigInt(head) + 1n).toString();
      if (bumped.length > head.length) {
        decpt += 1;
        digits = bumped.slice(0, ndigits);
      } else {
        digits = bumped;
      }
    } else {
      digits = head;
    }
  }
  digits = digits.replace(/0+$/, '');
  if (digits === '') digits = '0';
  return { digits, decpt };
}

/** zend_gcvt(value, precision, '.', 'E'): PHP's float-to-string conversion. */
function phpFloatToString(value: number): string {
  if (Number.isNaN(value)) return 'NAN';
  if (value === Infinity) return 'INF';
  if (value === -Infinity) return '-INF';
  const negative = value < 0 || Object.is(value, -0);
  if (value === 0) return negative ? '-0' : '0';
  const { digits, decpt } = roundedDigits(Math.abs(value), phpPrecision);
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
 * A JS number as PHP would print it. A number holding a whole value inside PHP's 64-bit
 * integer range is taken to be a PHP int (printed exactly, `5`, `9007199254740992`);
 * anything else is a PHP float printed with precision 14 like PHP 8's string conversion
 * (`5.5`, `0.1`, `1.0E+25`, `INF`). This is the mapping json_decode makes of the same
 * number written by JSON.stringify.
 */
export function phpNumberToString(value: number): string {
  if (Number.isInteger(value)) {
    const whole = BigInt(value);
    if (whole >= phpIntMin && whole <= phpIntMax) return whole.toString();
  }
  return phpFloatToString(value);
}

// ---------------------------------------------------------------------------------------
// http_build_query

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

/** One field of an encoded query: where PHP is meant to store it, and its `name=value` text. */
export interface PhpQueryField {
  /** The keys from the top level down, e.g. `['goods', '0', 'good_name']`. */
  readonly path: readonly string[];
  /** `goods%5B0%5D%5Bgood_name%5D=course`. */
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

/**
 * The fields of `phpHttpBuildQuery(params)`, in order, each with the path it encodes: for
 * a caller that checks the names before joining them (`fields.map((f) => f.text).join('&')`).
 */
export function phpQueryFields(params: PhpParams): PhpQueryField[] {
  const out: PhpQueryField[] = [];
  encodeEntries(entriesOfParams(params), [], out);
  return out;
}

/**
 * PHP `http_build_query($params)` with default arguments: `a=1&b=x+y`, nested arrays as
 * `goods%5B0%5D%5Bgood_name%5D=...` (nested keys encoded too), `true` → `1`, `false` → `0`,
 * null/undefined omitted, numbers as {@link phpNumberToString}, empty strings kept (`a=`),
 * empty nested arrays omitted entirely.
 */
export function phpHttpBuildQuery(params: PhpParams): string {
  return phpQueryFields(params)
    .map((field) => field.text)
    .join('&');
}

// ---------------------------------------------------------------------------------------
// Parsing received field names the way PHP fills $_POST

/** PHP's default max_input_nesting_level. */
const maxInputNestingLevel = 64;

/** What registering one field does, step by step (php_register_variable_ex). */
type FieldStep =
  | { op: 'descend'; key: string | null } // find or create the array at key (null: append a new one)
  | { op: 'assign'; key: string | null } // store the value at key (null: append)
  | { op: 'refuse' } // PHP drops the field here (after the steps before it took effect)
  | { op: 'drop-top'; key: string }; // nesting limit: PHP deletes the whole top-level variable

function isCSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\v' || char === '\f' || char === '\r';
}

/** Names that start with these prefixes only after PHP's mangling are dropped (CVE-2022-31629). */
function isForbiddenName(key: string, nameAsSent: string): boolean {
  return (
    (key.startsWith('__Host-') && !nameAsSent.startsWith('__Host-')) ||
    (key.startsWith('__Secure-') && !nameAsSent.startsWith('__Secure-'))
  );
}

function planField(rawName: string): FieldStep[] {
  const nul = rawName.indexOf('\0');
  let name = nul >= 0 ? rawName.slice(0, nul) : rawName; // C strings end at NUL
  let skip = 0;
  while (name[skip] === ' ') skip++;
  name = name.slice(skip);

  // The top-level name: spaces and dots become `_` up to the first `[`.
  let bracket = -1;
  let top = '';
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!;
    if (char === '[') {
      bracket = i;
      break;
    }
    top += char === ' ' || char === '.' ? '_' : char;
  }
  if (top.length === 0) return [];

  const steps: FieldStep[] = [];
  const assign = (key: string | null): FieldStep[] => {
    steps.push(key !== null && isForbiddenName(key, name) ? { op: 'refuse' } : { op: 'assign', key });
    return steps;
  };
  if (bracket < 0) return assign(top);

  let index: string | null = top;
  let open = bracket;
  for (let level = 1; ; level++) {
    if (level > maxInputNestingLevel) {
      steps.push({ op: 'drop-top', key: top });
      return steps;
    }
    const keyStart = open + 1;
    let at = keyStart;
    if (isCSpace(name[at])) at++;
    let nextIndex: string | null;
    let close: number;
    if (name[at] === ']') {
      nextIndex = null;
      close = at;
    } else {
      close = name.indexOf(']', at);
      if (close < 0) {
        // Not an index: the `[` becomes `_`. At the first level the rest of the name
        // joins the top-level name (with ` `, `.` and `[` as `_`); deeper, the previous
        // key ends at its own `]` and the rest is ignored.
        if (level === 1) index = `${top}_${name.slice(keyStart).replace(/[ .[]/g, '_')}`;
        return assign(index);
      }
      nextIndex = name.slice(keyStart, close);
    }
    if (index !== null && isForbiddenName(index, name)) {
      steps.push({ op: 'refuse' });
      return steps;
    }
    steps.push({ op: 'descend', key: index });
    index = nextIndex;
    if (name[close + 1] === '[') {
      open = close + 1;
      continue;
    }
    return assign(index); // anything after the last `]` is ignored
  }
}

/**
 * The path PHP stores a field under: `goods[0][good_name]` → `['goods', '0', 'good_name']`,
 * `a.b[x` → `['a_b_x']`, `list[]` → `['list', '']` (`''` marks an append, which a
 * bracketed key can never be). `[]` when PHP drops the field (empty name, a mangled
 * `__Host-`/`__Secure-` prefix, more than 64 levels). {@link nestPhpFields} also
 * reproduces the side effects PHP has before dropping a field.
 */
export function parsePhpFieldName(name: string): string[] {
  const steps = planField(name);
  const last = steps.at(-1);
  if (last?.op !== 'assign') return [];
  return steps.map((step) => ('key' in step ? (step.key ?? '') : ''));
}

/** A PHP hash table: ordered keys and the next free integer key (ZEND_LONG_MIN = none yet). */
interface PhpTable {
  readonly entries: Map<string, PhpNode>;
  nextFree: bigint;
}
type PhpNode = string | PhpTable;

function newTable(): PhpTable {
  return { entries: new Map(), nextFree: phpIntMin };
}

/** ZEND_HANDLE_NUMERIC_STR: the integer a key string stands for, or null for a string key. */
function integerKey(key: string): bigint | null {
  if (!/^-?[0-9]{1,19}$/.test(key)) return null;
  const digitsStart = key.startsWith('-') ? 1 : 0;
  if (key[digitsStart] === '0' && key.length > 1) return null; // leading zeros, and "-0"
  const value = BigInt(key);
  return value >= phpIntMin && value <= phpIntMax ? value : null;
}

function noteIntegerKey(table: PhpTable, key: bigint): void {
  if (key >= table.nextFree) table.nextFree = key < phpIntMax ? key + 1n : phpIntMax;
}

function tableSet(table: PhpTable, key: string, node: PhpNode): void {
  const integer = integerKey(key);
  if (integer !== null) noteIntegerKey(table, integer);
  table.entries.set(key, node); // an existing key keeps its position
}

/** zend_hash_next_index_insert; false when the next key is taken (only at PHP_INT_MAX). */
function tableAppend(table: PhpTable, node: PhpNode): boolean {
  const key = table.nextFree === phpIntMin ? 0n : table.nextFree;
  const text = key.toString();
  if (table.entries.has(text)) return false;
  table.entries.set(text, node);
  noteIntegerKey(table, key);
  return true;
}

function registerField(root: PhpTable, name: string, value: string): void {
  let table = root;
  for (const step of planField(name)) {
    switch (step.op) {
      case 'refuse':
        return;
      case 'drop-top':
        root.entries.delete(step.key);
        return;
      case 'assign':
        if (step.key === null) tableAppend(table, value);
        else tableSet(table, step.key, value);
        return;
      case 'descend': {
        if (step.key === null) {
          const child = newTable();
          if (!tableAppend(table, child)) return;
          table = child;
          break;
        }
        const existing = table.entries.get(step.key);
        if (existing !== undefined && typeof existing !== 'string') {
          table = existing;
        } else {
          const child = newTable(); // a string there is replaced in place by an array
          tableSet(table, step.key, child);
          table = child;
        }
        break;
      }
    }
  }
}

function tableToValue(table: PhpTable): Map<string, PhpValue> {
  return new Map([...table.entries].map(([key, node]) => [key, typeof node === 'string' ? node : tableToValue(node)]));
}

/**
 * Received fields (names as sent, values decoded) nested into the array PHP builds for
 * $_POST: `goods[0][good_name]=A` → `[['goods', Map{'0' → Map{'good_name' → 'A'}}]]`.
 * Nested levels are Maps so that their order survives. `phpHttpBuildQuery(nestPhpFields(pairs))`
 * is what PHP's `http_build_query($_POST)` gives for the same body. PHP's max_input_vars
 * limit (1000 fields) is not applied.
 */
export function nestPhpFields(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, PhpValue]> {
  const root = newTable();
  for (const [name, value] of pairs) registerField(root, name, value);
  return [...tableToValue(root)];
}

// ---------------------------------------------------------------------------------------
// JustClick hashes

function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** `md5(http_build_query($params) . "::" . $login . "::" . $secret)`, lower-case hex. */
export function justClickRequestHash(params: PhpParams, login: string, secret: string): string {
  return justClickQueryHash(phpHttpBuildQuery(params), login, secret);
}

/** The same hash over a query already built by {@link phpHttpBuildQuery} (a request is encoded once). */
export function justClickQueryHash(query: string, login: string, secret: string): string {
  return md5Hex(`${query}::${login}::${secret}`);
}

/** `md5("$code::$text::$secret")` over the code and text exactly as received. */
export function justClickResponseHash(code: number | string, text: string, secret: string): string {
  const codeText = typeof code === 'number' ? phpNumberToString(code) : code;
  return md5Hex(`${codeText}::${text}::${secret}`);
}
