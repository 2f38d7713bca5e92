/** What the ledger needs of a SQL database (./sqlite.ts, ./postgres.ts), and helpers to read rows and build queries. */
import { LedgerClosedError, LedgerError } from './errors.ts';
import { assertWorkflowId, normalizeUserId } from './rules.ts';
import type { OpenLedgerOptions } from './index.ts';
import type { JsonValue, LedgerBackend } from './types.ts';

export type SqlParam = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** `$1, $2, ...` placeholders; every value is a parameter. */
  query(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
}

export interface SqlDriver extends SqlExecutor {
  readonly backend: LedgerBackend;
  readonly location: string;
  /** An SQL expression for "now" as integer epoch milliseconds on the database's clock. */
  readonly nowMs: string;
  /** A column of `effects` that grows with every insert: "oldest first" without ties. */
  readonly insertionOrder: string;
  /** The database's clock is this process's (SQLite: same host): "now" is Date.now(), no query. */
  readonly sharesProcessClock: boolean;
  /** PostgreSQL: a change and its audit event are one data-modifying WITH statement, one round trip. */
  readonly writableCte: boolean;
  /** PostgreSQL: `take_user_lock` takes a lock together with what its holder reads, in one round trip. */
  readonly lockFunctions: boolean;
  /** A write to `user_locks`: atomic, but need not survive a power cut (every holder is gone after one). */
  lockQuery(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
  /** Runs `fn` in one write transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  readJson(value: unknown): JsonValue | null;
  /** Set once close() is called; closing again does nothing. */
  readonly closed: boolean;
  close(): Promise<void>;
}

/** The lock settings and the background error reporter, as `openLedger` resolved them. */
export type LedgerDefaults = Required<Pick<OpenLedgerOptions, 'lockWaitMs' | 'lockLeaseMs' | 'lockPollMaxMs' | 'onBackgroundError'>>;

/** A part of the ledger: its driver, and the check that the ledger is still open. */
export class LedgerPart {
  protected readonly driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.driver = driver;
  }

  protected assertOpen(): void {
    if (this.driver.closed) throw new LedgerClosedError(`The effect ledger at ${this.driver.location} is closed; open a new one.`);
  }
}

export async function nowOf(driver: SqlDriver, executor: SqlExecutor): Promise<number> {
  if (driver.sharesProcessClock) return Date.now();
  const rows = await executor.query(`SELECT ${driver.nowMs} AS now_ms`);
  return toInteger(rows[0]?.['now_ms'], 'now_ms');
}

/** Conditions joined by AND, every value in them a parameter (`param`). */
export class WhereBuilder {
  readonly params: SqlParam[] = [];
  readonly #conditions: string[] = [];

  /** The conditions every listing starts with: one run's rows, one user's rows (each checked first). */
  static forRunAndUser(filter: { workflowId?: string | undefined; userId?: string | number | undefined }): WhereBuilder {
    const where = new WhereBuilder();
    if (filter.workflowId !== undefined) assertWorkflowId(filter.workflowId);
    where.equal('workflow_id', filter.workflowId);
    where.equal('user_id', filter.userId === undefined ? undefined : normalizeUserId(filter.userId));
    return where;
  }

  param(value: SqlParam): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.#conditions.push(condition);
  }

  /** `column = value`; no condition when `value` is undefined. */
  equal(column: string, value: SqlParam | undefined): void {
    if (value !== undefined) this.add(`${column} = ${this.param(value)}`);
  }

  sql(): string {
    return this.#conditions.length === 0 ? '' : ` WHERE ${this.#conditions.join(' AND ')}`;
  }
}

export function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Integers come back as number (SQLite, int4) or string (PostgreSQL int8). */
export function toInteger(value: unknown, column: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) throw new LedgerError(`The ledger returned ${String(value)} for ${column}, not a whole number.`);
  return number;
}

export function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
}
