/**
 * SQLite backend of the effect ledger (`node:sqlite`): WAL, `synchronous = FULL` (a committed
 * effect survives a power cut), a busy timeout for writers in other processes. `node:sqlite` is
 * synchronous, so all statements on one file are serialized through one queue per file in this
 * process: transactions never interleave, and two connections never block the event loop on each other.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { LedgerError } from './errors.ts';
import { migrate } from './schema.ts';
import type { SqlDriver, SqlExecutor, SqlParam, SqlRow } from './sql.ts';
import type { JsonValue } from './types.ts';

/** One queue per database file in this process (see the module comment). */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  users = 0;

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

const queuesByFile = new Map<string, SerialQueue>();
let memoryDatabases = 0;

export async function openSqliteDriver(path: string, busyTimeoutMs: number): Promise<SqlDriver> {
  const inMemory = path === ':memory:';
  const absolute = resolve(path);
  if (!inMemory) mkdirSync(dirname(absolute), { recursive: true });
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(inMemory ? ':memory:' : absolute, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new LedgerError(`Could not open the SQLite ledger at ${absolute}: ${(error as Error).message}. Check the path and its permissions.`, { cause: error });
  }
  // Every in-memory database is a file of its own.
  const fileKey = inMemory ? `:memory:#${++memoryDatabases}` : realpathSync(absolute);
  const queue = queuesByFile.get(fileKey) ?? new SerialQueue();
  queuesByFile.set(fileKey, queue);
  queue.users += 1;

  const driver = new SqliteDriver(database, `sqlite:${inMemory ? ':memory:' : fileKey}`, queue, () => {
    queue.users -= 1;
    if (queue.users === 0) queuesByFile.delete(fileKey);
  });
  try {
    await queue.run(() => {
      const journal = database.prepare('PRAGMA journal_mode = WAL').get();
      if (!inMemory && journal?.['journal_mode'] !== 'wal') {
        throw new LedgerError(`The SQLite ledger at ${fileKey} could not switch to WAL mode (got ${String(journal?.['journal_mode'])}).`);
      }
      database.exec('PRAGMA synchronous = FULL');
    });
    await driver.transaction((tx) => migrate(tx, 'sqlite', driver.nowMs, `SQLite ledger at ${fileKey}`));
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}

class SqliteDriver implements SqlDriver {
  readonly backend = 'sqlite' as const;
  readonly location: string;
  readonly nowMs = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
  readonly insertionOrder = 'rowid'; // rows are never deleted
  readonly sharesProcessClock = true;
  readonly writableCte = false;
  readonly lockFunctions = false;
  readonly #database: DatabaseSync;
  readonly #queue: SerialQueue;
  readonly #statements = new Map<string, StatementSync>();
  readonly #onClose: () => void;
  readonly #waitingTransactions: Array<{ fn: (tx: SqlExecutor) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  closed = false;

  constructor(database: DatabaseSync, location: string, queue: SerialQueue, onClose: () => void) {
    this.#database = database;
    this.location = location;
    this.#queue = queue;
    this.#onClose = onClose;
  }

  query(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return this.#queue.run(() => this.#run(sql, params));
  }

  lockQuery(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return this.#queue.run(() => {
      // A lease need not survive a power cut (see SqlDriver.lockQuery): this commit does not wait for the disk.
      this.#database.exec('PRAGMA synchronous = NORMAL');
      try {
        return this.#run(sql, params);
      } finally {
        this.#database.exec('PRAGMA synchronous = FULL');
      }
    });
  }

  /**
   * Group commit: transactions asked for while the file is busy run together, each in a savepoint
   * of one write transaction, with one sync of the disk; each settles only after the commit.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waitingTransactions.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#waitingTransactions.length === 1) void this.#queue.run(() => this.#commitGroup());
    });
  }

  async #commitGroup(): Promise<void> {
    const group = this.#waitingTransactions.splice(0);
    const executor: SqlExecutor = { query: async (sql, params = []) => this.#run(sql, params) };
    const settles: Array<() => void> = [];
    try {
      this.#database.exec('BEGIN IMMEDIATE');
      for (const { fn, resolve, reject } of group) {
        this.#database.exec('SAVEPOINT one_transaction');
        try {
          const value = await fn(executor);
          this.#database.exec('RELEASE one_transaction');
          settles.push(() => resolve(value));
        } catch (error) {
          this.#database.exec('ROLLBACK TO one_transaction');
          this.#database.exec('RELEASE one_transaction');
          settles.push(() => reject(error));
        }
      }
      this.#database.exec('COMMIT');
    } catch (error) {
      // BEGIN or COMMIT failed (busy beyond the timeout, disk error): none of them happened.
      if (this.#database.isTransaction) this.#database.exec('ROLLBACK');
      for (const { reject } of group) reject(error);
      return;
    }
    for (const settle of settles) settle();
  }

  readJson(value: unknown): JsonValue | null {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw new LedgerError(`The SQLite ledger returned a ${typeof value} where JSON text belongs.`);
    return JSON.parse(value) as JsonValue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.#queue.run(() => {
      this.#statements.clear();
      if (this.#database.isOpen) this.#database.close();
    });
    this.#onClose();
  }

  #run(sql: string, params: readonly SqlParam[]): SqlRow[] {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      // `$1` placeholders become SQLite's numbered `?1`, bound by position.
      statement = this.#database.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      this.#statements.set(sql, statement);
    }
    return statement.all(...(params as SQLInputValue[])) as SqlRow[];
  }
}
