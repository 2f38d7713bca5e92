/**
 * What the ledger needs of a SQL database (./sqlite.ts and ./postgres.ts provide it), and the
 * small helpers every part of the ledger uses to read rows and build queries.
 */
import { LedgerError } from './errors.ts';
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
  /**
   * The database's clock is this process's clock (SQLite: same host), so "now" is read
   * with Date.now() instead of a query.
   */
  readonly sharesProcessClock: boolean;
  /**
   * The database runs data-modifying statements in WITH (PostgreSQL): a change and its
   * audit event are then one atomic statement, one round trip, with no transaction.
   */
  readonly writableCte: boolean;
  /**
   * A write to `user_locks`: atomic, but it need not survive a power cut (after one, every
   * holder is gone and any lease left runs out). SQLite commits it without waiting for
   * the disk; PostgreSQL runs it as `query` does.
   */
  lockQuery(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
  /** Runs `fn` in one write transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** A JSON column as read back: text (SQLite) or already parsed (PostgreSQL `json`). */
  readJson(value: unknown): JsonValue | null;
  close(): Promise<void>;
}

export interface LedgerDefaults {
  lockWaitMs: number;
  lockLeaseMs: number;
  /** Longest pause between two tries to take a busy lock. */
  lockPollMaxMs: number;
  /** Told about failures nobody awaits (lease renewal, lock release). Never given secrets. */
  onBackgroundError: (error: Error, context: string) => void;
}

/** "Now" as epoch milliseconds on the database's clock (this process's when they are the same). */
export async function nowOf(driver: SqlDriver, executor: SqlExecutor): Promise<number> {
  if (driver.sharesProcessClock) return Date.now();
  const rows = await executor.query(`SELECT ${driver.nowMs} AS now_ms`);
  return toInteger(rows[0]?.['now_ms'], 'now_ms');
}

/** Collects WHERE conditions with numbered placeholders. */
export class WhereBuilder {
  readonly params: SqlParam[] = [];
  readonly #conditions: string[] = [];

  param(value: SqlParam): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: (placeholder: string) => string, value: SqlParam): void {
    this.#conditions.push(condition(this.param(value)));
  }

  addIn(column: string, values: readonly SqlParam[]): void {
    this.#conditions.push(`${column} IN (${values.map((value) => this.param(value)).join(', ')})`);
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
