/**
 * PostgreSQL backend of the effect ledger (`pg`), for workers on several hosts. Times come from
 * the server's clock, so lock leases do not depend on the workers' clocks agreeing;
 * `postgresSchema` puts every table in that schema through the connection's `search_path`.
 */
import { Pool, escapeIdentifier } from 'pg';
import type { PoolClient } from 'pg';
import { LedgerConfigError, LedgerError } from './errors.ts';
import { migrate } from './schema.ts';
import type { SqlDriver, SqlExecutor, SqlParam, SqlRow } from './sql.ts';
import type { JsonValue } from './types.ts';

export interface PostgresDriverOptions {
  schema?: string | undefined;
  poolSize: number;
  connectTimeoutMs: number;
  onBackgroundError: (error: Error, context: string) => void;
}

const nowMs = '(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)';
const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** `postgres://user@host:port/database`: no password, no query string (it may carry one). */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
    return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openPostgresDriver(url: string, options: PostgresDriverOptions): Promise<SqlDriver> {
  if (options.schema !== undefined && !schemaNamePattern.test(options.schema)) {
    throw new LedgerConfigError(
      `PostgreSQL schema name ${JSON.stringify(options.schema)} must be 1-63 lower-case letters, digits or underscores, starting with a letter or underscore.`,
    );
  }
  const location = `${describePostgresUrl(url)}${options.schema === undefined ? '' : ` (schema ${options.schema})`}`;
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'orderflow-ledger',
    options: options.schema === undefined ? undefined : `-c search_path=${options.schema}`,
  });
  pool.on('error', (error) => options.onBackgroundError(error, `an idle PostgreSQL connection of the ledger at ${location} failed`));

  try {
    await withTransaction(pool, async (tx) => {
      // One migrator at a time across all hosts; released at commit.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('orderflow.ledger.migrate'))");
      if (options.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(options.schema)}`);
      await migrate(tx, 'postgres', nowMs, `PostgreSQL ledger at ${location}`);
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof LedgerError) throw error;
    throw new LedgerError(
      `Could not open the PostgreSQL ledger at ${location}: ${(error as Error).message}. Check that the server is running and the URL, user and database are right.`,
      { cause: error },
    );
  }
  return new PostgresDriver(pool, location);
}

async function withTransaction<T>(pool: Pool, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn({ query: async (sql, params = []) => (await client.query(sql, [...params])).rows as SqlRow[] });
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot roll back is unusable: drop it from the pool instead of reusing it.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

class PostgresDriver implements SqlDriver {
  readonly backend = 'postgres' as const;
  readonly location: string;
  readonly nowMs = nowMs;
  readonly insertionOrder = 'seq';
  readonly sharesProcessClock = false;
  readonly writableCte = true;
  readonly lockFunctions = true;
  /** Every PostgreSQL write is equally durable. */
  readonly lockQuery = this.query;
  readonly #pool: Pool;
  closed = false;

  constructor(pool: Pool, location: string) {
    this.#pool = pool;
    this.location = location;
  }

  async query(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return (await this.#pool.query(sql, [...params])).rows as SqlRow[];
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return withTransaction(this.#pool, fn);
  }

  readJson(value: unknown): JsonValue | null {
    // pg parses `json` columns with JSON.parse already.
    return value === undefined ? null : (value as JsonValue | null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.#pool.end();
  }
}
