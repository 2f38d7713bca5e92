/**
 * PostgreSQL backend of the effect ledger (`pg`), for workers on several hosts.
 *
 * - JSON columns are `json` (not `jsonb`): the text is kept exactly as written, key order
 *   and number spelling included.
 * - Times are epoch milliseconds from the server's clock (`clock_timestamp()`), so lock
 *   leases do not depend on the workers' clocks agreeing.
 * - Schema changes run in one transaction under an advisory lock, so workers starting
 *   together do not race each other's migrations.
 * - `postgresSchema` puts every table in that schema (created if missing) through the
 *   connection's `search_path`; tests use it to get a fresh schema per run.
 */
import { Pool, escapeIdentifier } from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import { LedgerConfigError, LedgerError } from './errors.ts';
import type { SqlDriver, SqlExecutor, SqlParam, SqlRow } from './sql.ts';
import type { JsonValue } from './types.ts';

export interface PostgresDriverOptions {
  /** A schema of its own (lower-case letters, digits, underscores). */
  schema?: string | undefined;
  poolSize: number;
  connectTimeoutMs: number;
  onBackgroundError: (error: Error, context: string) => void;
}

const migrations: ReadonlyArray<{ version: number; statements: readonly string[] }> = [
  {
    version: 1,
    statements: [
      `CREATE TABLE effects (
         key text PRIMARY KEY,
         workflow_id text NOT NULL,
         step text NOT NULL,
         kind text NOT NULL,
         user_id text,
         state text NOT NULL CHECK (state IN ('pending', 'applied', 'rejected', 'unknown', 'resolved-applied', 'resolved-not-applied')),
         request json NOT NULL,
         observed_before json,
         response json,
         observed_after json,
         notes json NOT NULL,
         attempts integer NOT NULL CHECK (attempts >= 1),
         revision integer NOT NULL CHECK (revision >= 1),
         created_at bigint NOT NULL,
         updated_at bigint NOT NULL
       )`,
      'CREATE INDEX effects_by_workflow ON effects (workflow_id, created_at)',
      'CREATE INDEX effects_by_user ON effects (user_id, created_at)',
      'CREATE INDEX effects_by_state ON effects (state, created_at)',
      `CREATE TABLE audit_events (
         id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         at bigint NOT NULL,
         workflow_id text NOT NULL,
         run_id text,
         effect_key text,
         user_id text,
         event text NOT NULL,
         details json NOT NULL,
         actor text
       )`,
      'CREATE INDEX audit_by_workflow ON audit_events (workflow_id, id)',
      'CREATE INDEX audit_by_user ON audit_events (user_id, id)',
      'CREATE INDEX audit_by_effect ON audit_events (effect_key, id)',
      `CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $body$
       BEGIN
         RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
       END
       $body$`,
      `CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`,
      `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`,
      `CREATE TABLE user_locks (
         user_id text PRIMARY KEY,
         owner text NOT NULL,
         token text NOT NULL,
         acquired_at bigint NOT NULL,
         expires_at bigint NOT NULL
       )`,
    ],
  },
  {
    // Insertion order, for "oldest first" listings: created_at ties within a millisecond.
    version: 2,
    statements: ['ALTER TABLE effects ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY'],
  },
  {
    // One effect per business key (a refund, a cancellation of one order), whatever run makes it.
    version: 3,
    statements: [
      'ALTER TABLE effects ADD COLUMN business_key text',
      `CREATE TABLE business_keys (
         business_key text PRIMARY KEY,
         effect_key text NOT NULL,
         workflow_id text NOT NULL,
         released integer NOT NULL CHECK (released IN (0, 1)),
         revision integer NOT NULL CHECK (revision >= 1),
         updated_at bigint NOT NULL
       )`,
      'CREATE INDEX business_keys_by_effect ON business_keys (effect_key)',
    ],
  },
];

export const postgresSchemaVersion = migrations.at(-1)?.version ?? 0;

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
  const config: PoolConfig = {
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'orderflow-ledger',
  };
  if (options.schema !== undefined) config.options = `-c search_path=${options.schema}`;
  const pool = new Pool(config);
  pool.on('error', (error) => options.onBackgroundError(error, `an idle PostgreSQL connection of the ledger at ${location} failed`));

  try {
    await withTransaction(pool, async (tx) => migrate(tx, options.schema, location));
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

async function migrate(tx: SqlExecutor, schema: string | undefined, location: string): Promise<void> {
  // One migrator at a time across all hosts; released at commit.
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('orderflow.ledger.migrate'))");
  if (schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(schema)}`);
  await tx.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
  const rows = await tx.query('SELECT MAX(version) AS version FROM schema_version');
  const current = rows[0]?.['version'] === null || rows[0]?.['version'] === undefined ? 0 : Number(rows[0]['version']);
  if (current > postgresSchemaVersion) {
    throw new LedgerError(
      `The PostgreSQL ledger at ${location} has schema version ${current}, newer than this orderflow knows (${postgresSchemaVersion}): upgrade orderflow.`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements) await tx.query(statement);
    await tx.query(
      'INSERT INTO schema_version (version, applied_at) VALUES ($1, floor(extract(epoch from clock_timestamp()) * 1000)::bigint)',
      [migration.version],
    );
  }
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
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is unusable: drop it from the pool instead of reusing it.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

class PostgresDriver implements SqlDriver {
  readonly backend = 'postgres' as const;
  readonly location: string;
  readonly nowMs = '(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)';
  readonly insertionOrder = 'seq';
  /** Hosts' clocks may disagree: times come from the server's. */
  readonly sharesProcessClock = false;
  readonly writableCte = true;
  readonly #pool: Pool;
  #closed = false;

  constructor(pool: Pool, location: string) {
    this.#pool = pool;
    this.location = location;
  }

  async query(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return (await this.#pool.query(sql, [...params])).rows as SqlRow[];
  }

  lockQuery(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return this.query(sql, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return withTransaction(this.#pool, fn);
  }

  readJson(value: unknown): JsonValue | null {
    // pg parses `json` columns with JSON.parse already.
    return value === undefined ? null : (value as JsonValue | null);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
