/**
 * The effect ledger: once-only external effects, per-user locks and an audit trail that
 * outlives Temporal's history retention. See DESIGN.md, "The effect ledger".
 *
 * Open one per worker process with `openLedger(process.env.ORDERFLOW_LEDGER ?? defaultLedgerUrl)`:
 * - `sqlite:<path>` (default `sqlite:./data/ledger.db`; the directory is created): one host,
 *   any number of processes. `sqlite:///abs/path` and `sqlite::memory:` work too.
 * - `postgres://...` or `postgresql://...`: workers on several hosts.
 */
import { LedgerConfigError } from './errors.ts';
import { describePostgresUrl, openPostgresDriver } from './postgres.ts';
import { SqlEffectLedger } from './sql-ledger.ts';
import type { LedgerDefaults, SqlDriver } from './sql-ledger.ts';
import { openSqliteDriver } from './sqlite.ts';
import type { EffectLedger } from './types.ts';

export const defaultLedgerUrl = 'sqlite:./data/ledger.db';
export const ledgerUrlVariable = 'ORDERFLOW_LEDGER';

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
  /** PostgreSQL: connections in the pool. Default 5. */
  postgresPoolSize?: number | undefined;
  /** PostgreSQL: how long to wait for a connection. Default 10 s. */
  postgresConnectTimeoutMs?: number | undefined;
  /**
   * Told about failures nobody awaits: lease renewal or lock release failing, an idle
   * PostgreSQL connection dropping. Default: ignored (the lock's signal still aborts
   * when its lease cannot be kept). Messages carry no secrets.
   */
  onBackgroundError?: ((error: Error, context: string) => void) | undefined;
}

export type ParsedLedgerUrl =
  | { backend: 'sqlite'; path: string }
  | { backend: 'postgres'; connectionString: string };

/** Which backend a ledger URL names. Throws LedgerConfigError (without any password) otherwise. */
export function parseLedgerUrl(url: string): ParsedLedgerUrl {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new LedgerConfigError(`${ledgerUrlVariable} is empty: use sqlite:<path> (default ${defaultLedgerUrl}) or postgres://user@host:5432/database.`);
  }
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') {
      throw new LedgerConfigError(`Ledger URL "sqlite:" has no path: use e.g. ${defaultLedgerUrl}.`);
    }
    return { backend: 'sqlite', path };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      throw new LedgerConfigError(`Ledger URL ${describePostgresUrl(url)} is not a valid URL: use postgres://user:password@host:5432/database.`);
    }
    return { backend: 'postgres', connectionString: url };
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '(no scheme)';
  throw new LedgerConfigError(
    `Ledger URL scheme ${JSON.stringify(scheme)} is not supported: use sqlite:<path> or postgres:// (postgresql://).`,
  );
}

/** The URL as it may be logged: without password or query string. */
export function describeLedgerUrl(url: string): string {
  const parsed = parseLedgerUrl(url);
  return parsed.backend === 'sqlite' ? `sqlite:${parsed.path}` : describePostgresUrl(parsed.connectionString);
}

export async function openLedger(url: string, options: OpenLedgerOptions = {}): Promise<EffectLedger> {
  const parsed = parseLedgerUrl(url);
  const defaults: LedgerDefaults = {
    lockWaitMs: positiveInteger(options.lockWaitMs, 30_000, 'lockWaitMs', 0),
    lockLeaseMs: positiveInteger(options.lockLeaseMs, 15_000, 'lockLeaseMs', 100),
    lockPollMaxMs: positiveInteger(options.lockPollMaxMs, 250, 'lockPollMaxMs', 1),
    onBackgroundError: options.onBackgroundError ?? (() => undefined),
  };
  let driver: SqlDriver;
  if (parsed.backend === 'sqlite') {
    if (options.postgresSchema !== undefined) {
      throw new LedgerConfigError('postgresSchema was given for a SQLite ledger URL: it applies to postgres:// URLs only.');
    }
    driver = await openSqliteDriver(parsed.path, {
      busyTimeoutMs: positiveInteger(options.sqliteBusyTimeoutMs, 5_000, 'sqliteBusyTimeoutMs', 0),
    });
  } else {
    driver = await openPostgresDriver(parsed.connectionString, {
      schema: options.postgresSchema,
      poolSize: positiveInteger(options.postgresPoolSize, 5, 'postgresPoolSize', 1),
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
export {
  allowedEffectTransitions,
  effectKey,
  isEffectTransitionAllowed,
  isFinalEffectState,
  parseEffectKey,
} from './rules.ts';
export type { ParsedEffectKey } from './rules.ts';
export { effectStates } from './types.ts';
export type * from './types.ts';
