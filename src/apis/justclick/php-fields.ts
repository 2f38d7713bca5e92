/**
 * Received field names read the way PHP fills $_POST, following main/php_variables.c
 * (php_register_variable_ex): `goods[0][good_name]` becomes nested arrays.
 */
import { phpIntMax, phpIntMin } from './signing.ts';
import type { PhpValue } from './signing.ts';

/** PHP's default max_input_nesting_level. */
const maxInputNestingLevel = 64;

/** What registering one field does, step by step (php_register_variable_ex). */
type FieldStep =
  | { op: 'descend'; key: string | null } // find or create the array at key (null: append a new one)
  | { op: 'assign'; key: string | null } // store the value at key (null: append)
  | { op: 'refuse' } // PHP drops the field here (after the steps before it took effect)
  | { op: 'drop-top'; key: string }; // nesting limit: PHP deletes the whole top-level variable

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
    if (/[ \t\n\v\f\r]/.test(name[at] ?? '')) at++; // C's isspace()
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
 * Received fields nested into the array PHP builds for $_POST, nested levels as Maps so that their
 * order survives. PHP's max_input_vars limit (1000 fields) is not applied.
 */
export function nestPhpFields(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, PhpValue]> {
  const root = newTable();
  for (const [name, value] of pairs) registerField(root, name, value);
  return [...tableToValue(root)];
}
