/**
 * Reading a bulk file (`orderflow bulk <kind> --file`): CSV with a header row, or JSON lines, whose
 * columns are the single command's options, read as it reads them. The whole file is checked before anything starts.
 */
import { bulkItemWorkflowId, validateBulkItem } from '../features/bulk/client.ts';
import type { BulkItem, BulkKind } from '../features/bulk/contracts.ts';
import { bulkLimits } from '../features/bulk/contracts.ts';
import { InputError } from '../validation.ts';
import { CommandFailure, exitCodes } from './framework.ts';
import { startInput, startOptionsNamed } from './start-options.ts';
import type { StartOptionName } from './start-options.ts';

/** The columns of each kind, options of `orderflow start <kind>` (an adjust-credit file may name who asks too), and those required. */
export const bulkColumns: { [K in BulkKind]: { columns: readonly StartOptionName[]; required: readonly string[] } } = {
  'refund-and-cancel': {
    columns: ['user', 'order', 'amount', 'justclick-bill', 'reason', 'requested-by'],
    // reason: required, as for `orderflow start refund-and-cancel` and every starter (no default text).
    required: ['user', 'order', 'amount', 'reason'],
  },
  'cancel-order': { columns: ['user', 'order', 'justclick-bill', 'requester', 'reason'], required: ['user', 'order'] },
  'adjust-credit': {
    columns: ['user', 'action', 'amount', 'description', 'reason', 'request-id', 'requested-by'],
    required: ['user', 'action', 'amount', 'description', 'reason'],
  },
};

/** A problem of a line (1-based; 0: of the file as a whole). */
interface FileProblem {
  line: number;
  problem: string;
}

/** Bad usage: the command prints every problem and exits 2. */
export class BulkFileError extends CommandFailure {
  constructor(file: string, problems: readonly FileProblem[]) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was started.\n` +
        problems.map(({ line, problem }) => (line > 0 ? `  line ${line}: ${problem}` : `  ${problem}`)).join('\n'),
      { exitCode: exitCodes.usage },
    );
  }
}

/** A row: column name → value as written (trimmed; empty cells left out). */
interface BulkFileRow {
  line: number;
  values: Record<string, string>;
}

export interface ParsedBulkFile {
  kind: BulkKind;
  /** The rows as written, normalised (the bulk's id is derived from these). */
  rows: BulkFileRow[];
  /** The validated workflow inputs in file order. */
  items: BulkItem[];
}

/**
 * Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, CRLF); each record keeps its
 * first line number. A field is quoted when a `"` opens it (after blanks); text after its closing quote is kept.
 */
function csvRecords(text: string, problems: FileProblem[]): Array<{ line: number; cells: string[] }> {
  const records: Array<{ line: number; cells: string[] }> = [];
  const field = /[^\S\r\n]*"([^"]*(?:""[^"]*)*)"(?!")([^,\r\n]*)(,|\r\n?|\n|$)|([^,\r\n]*)(,|\r\n?|\n|$)/y;
  let cells: string[] = [];
  let line = 1;
  let recordLine = 1;
  for (;;) {
    const [, quoted, afterQuote, quotedEnd, plain = '', plainEnd] = field.exec(text)!;
    if (quoted === undefined && /^[^\S\r\n]*"/.test(plain)) {
      problems.push({ line: recordLine, problem: 'a quoted field is not closed (a " is missing)' });
      return records;
    }
    cells.push(quoted === undefined ? plain : `${quoted.replaceAll('""', '"')}${afterQuote}`);
    line += quoted === undefined ? 0 : quoted.split('\n').length - 1;
    const end = quotedEnd ?? plainEnd;
    if (end === ',') continue;
    if (!(cells.length === 1 && cells[0]!.trim() === '')) records.push({ line: recordLine, cells });
    if (end === '') return records;
    cells = [];
    line++;
    recordLine = line;
  }
}

function csvRows(text: string, columns: readonly string[], problems: FileProblem[]): BulkFileRow[] {
  const records = csvRecords(text, problems);
  const header = records.shift();
  if (header === undefined) {
    problems.push({ line: 0, problem: `the file is empty; the first line must name the columns, e.g. ${columns.join(',')}` });
    return [];
  }
  const names = header.cells.map((name) => name.trim().toLowerCase());
  names.forEach((name, position) => {
    if (!columns.includes(name)) problems.push({ line: header.line, problem: `unknown column ${JSON.stringify(name)} (column ${position + 1}); the columns are ${columns.join(', ')}` });
    else if (names.indexOf(name) !== position) problems.push({ line: header.line, problem: `column ${JSON.stringify(name)} appears twice` });
  });
  return records.map(({ line, cells }) => {
    if (cells.length !== names.length) problems.push({ line, problem: `${cells.length} fields, but the header has ${names.length}` });
    const values = names.map((name, position): [string, string] => [name, (cells[position] ?? '').trim()]);
    return { line, values: Object.fromEntries(values.filter(([, value]) => value !== '')) };
  });
}

function jsonLineRows(text: string, columns: readonly string[], problems: FileProblem[]): BulkFileRow[] {
  const rows: BulkFileRow[] = [];
  text.split(/\r?\n/).forEach((raw, position) => {
    const line = position + 1;
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      problems.push({ line, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push({ line, problem: `each line must be a JSON object such as {"${columns[0]}":"7",…}` });
      return;
    }
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (!columns.includes(name)) {
        problems.push({ line, problem: `unknown key ${JSON.stringify(name)}; the keys are ${columns.join(', ')}` });
      } else if (typeof value === 'number' || typeof value === 'string') {
        if (String(value).trim() !== '') values[name] = String(value).trim();
      } else if (value !== null) {
        problems.push({ line, problem: `${name} must be a text or a number` });
      }
    }
    rows.push({ line, values });
  });
  return rows;
}

/** Parses and checks a whole bulk file; throws {@link BulkFileError} listing every problem. */
export function parseBulkFile(kind: BulkKind, fileName: string, text: string, env: Readonly<Record<string, string | undefined>>): ParsedBulkFile {
  const { columns, required } = bulkColumns[kind];
  // Read as `orderflow start <kind>` reads its options: ids as numbers, defaults, who asks.
  const asStart = { options: startOptionsNamed(...columns), requestedBy: columns.includes('requested-by') || undefined };
  const problems: FileProblem[] = [];
  // JSON lines by the file name, or a first non-blank character of `{`; else CSV.
  const jsonLines = /\.(jsonl|ndjson)$/i.test(fileName) || text.trimStart().startsWith('{');
  const rows = jsonLines ? jsonLineRows(text, columns, problems) : csvRows(text.replace(/^\uFEFF/, ''), columns, problems);
  if (rows.length === 0 && problems.length === 0) problems.push({ line: 0, problem: 'the file has no items' });
  if (rows.length > bulkLimits.maxItems) problems.push({ line: 0, problem: `at most ${bulkLimits.maxItems} items per bulk (the file has ${rows.length}); split it` });
  const items: BulkItem[] = [];
  const firstLineOfKey = new Map<string, number>();
  for (const row of rows) {
    const missing = required.filter((name) => row.values[name] === undefined);
    if (missing.length > 0) {
      problems.push({ line: row.line, problem: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required` });
      continue;
    }
    let item: BulkItem;
    try {
      item = validateBulkItem(kind, startInput(asStart, row.values, env));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      for (const problem of error.problems) problems.push({ line: row.line, problem: columnNames(asStart.options, problem) });
      continue;
    }
    const key = bulkItemWorkflowId(kind, item);
    const first = firstLineOfKey.get(key);
    if (first !== undefined) {
      problems.push({ line: row.line, problem: `the same item as line ${first} (${key}); each item may appear once` });
      continue;
    }
    firstLineOfKey.set(key, row.line);
    items.push(item);
  }
  if (problems.length > 0) throw new BulkFileError(fileName, [...problems].sort((a, b) => a.line - b.line));
  return { kind, rows, items };
}

/** Validation speaks of input fields (`userId`); a file's reader knows the columns (`user`). */
function columnNames(options: ReturnType<typeof startOptionsNamed>, problem: string): string {
  const named = Object.entries(options).find(([, { field }]) => problem.startsWith(`${field} `));
  return named === undefined ? problem : `${named[0]}${problem.slice(`${named[1].field}`.length)}`;
}
