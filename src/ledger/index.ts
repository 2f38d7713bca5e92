/**
 * The effect ledger: once-only external effects, per-user locks and an audit trail that
 * outlives Temporal's history (docs/architecture.md, "The effect ledger"). Open one per worker
 * process with `openLedger(config.ledger)`: SQLite for one host, PostgreSQL for several.
 */
import type { LedgerConfig } from '../config.ts';
import { LedgerConfigError } from './errors.ts';
import { openPostgresDriver } from './postgres.ts';
import { SqlEffectLedger } from './sql-ledger.ts';
import type { LedgerDefaults, SqlDriver } from './sql.ts';
import { openSqliteDriver } from './sqlite.ts';
import type { EffectLedger } from './types.ts';

export interface OpenLedgerOptions {
  /** Default wait for a user's lock before UserLockTimeoutError. Default 30 s. */
  lockWaitMs?: number | undefined;
  /** Default lock lease, renewed every third of it while the holder works. Default 15 s. */
  lockLeaseMs?: number | undefined;
  /** Longest pause between two tries to take a busy lock. Default 250 ms. */
  lockPollMaxMs?: number | undefined;
  /** SQLite: how long a write waits for another process's transaction. Default 5 s. */
  sqliteBusyTimeoutMs?: number | undefined;
  /** PostgreSQL: keep the tables in this schema (created if missing), via `search_path`. */
  postgresSchema?: string | undefined;
  /** PostgreSQL: connections in the pool. Default 10 (5 starved 20 concurrent effects: npm run bench:ledger). */
  postgresPoolSize?: number | undefined;
  /** PostgreSQL: how long to wait for a connection. Default 10 s. */
  postgresConnectTimeoutMs?: number | undefined;
  /** Told about failures nobody awaits (lease renewal, lock release, an idle connection). Default: ignored. */
  onBackgroundError?: ((error: Error, context: string) => void) | undefined;
}

/** Opens the ledger `config` names (parsed and checked once, by loadConfig). */
export async function openLedger(config: LedgerConfig, options: OpenLedgerOptions = {}): Promise<EffectLedger> {
  const defaults: LedgerDefaults = {
    lockWaitMs: positiveInteger(options.lockWaitMs, 30_000, 'lockWaitMs', 0),
    lockLeaseMs: positiveInteger(options.lockLeaseMs, 15_000, 'lockLeaseMs', 100),
    lockPollMaxMs: positiveInteger(options.lockPollMaxMs, 250, 'lockPollMaxMs', 1),
    onBackgroundError: options.onBackgroundError ?? (() => undefined),
  };
  let driver: SqlDriver;
  if (config.kind === 'sqlite') {
    if (options.postgresSchema !== undefined) {
      throw new LedgerConfigError('postgresSchema was given for a SQLite ledger URL: it applies to postgres:// URLs only.');
    }
    driver = await openSqliteDriver(config.path, positiveInteger(options.sqliteBusyTimeoutMs, 5_000, 'sqliteBusyTimeoutMs', 0));
  } else {
    driver = await openPostgresDriver(config.url.reveal(), {
      schema: options.postgresSchema,
      poolSize: positiveInteger(options.postgresPoolSize, 10, 'postgresPoolSize', 1),
      connectTimeoutMs: positiveInteger(options.postgresConnectTimeoutMs, 10_000, 'postgresConnectTimeoutMs', 1),
      onBackgroundError: defaults.onBackgroundError,
    });
  }
  return new SqlEffectLedger(driver, defaults);
}

function positiveInteger(value: number | undefined, fallback: number, what: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LedgerConfigError(`Ledger option ${what} must be a whole number of at least ${min}, got ${value}.`);
  }
  return value;
}

export * from './errors.ts';
export { parseEffectKey } from './rules.ts';
export { effectKey } from './keys.ts';
export { effectStates } from './types.ts';
export type * from './types.ts';
