/**
 * The ledger's tables, one list of migrations for both backends (SQLite: STRICT tables, JSON
 * as checked text; PostgreSQL: `json`, kept exactly as written). `schema_version` records
 * which ran; each backend numbers its own. Never edit a migration that shipped.
 */
import { LedgerError } from './errors.ts';
import type { SqlExecutor } from './sql.ts';
import type { LedgerBackend } from './types.ts';

interface Migration {
  versions: Partial<Record<LedgerBackend, number>>;
  statements: (dialect: LedgerBackend) => string[];
}

/** What differs between the dialects' tables (both read TEXT and INTEGER alike). */
function typesOf(dialect: LedgerBackend): { bigint: string; identity: string; strict: string } {
  return dialect === 'sqlite'
    ? { bigint: 'INTEGER', identity: 'INTEGER PRIMARY KEY AUTOINCREMENT', strict: ' STRICT' }
    : { bigint: 'bigint', identity: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY', strict: '' };
}

/** A JSON column: SQLite checks the text is JSON; PostgreSQL's `json` keeps the text as written. */
function json(dialect: LedgerBackend, column: string, notNull = false): string {
  if (dialect === 'postgres') return notNull ? 'json NOT NULL' : 'json';
  if (notNull) return `TEXT NOT NULL CHECK (json_valid(${column}))`;
  return `TEXT CHECK (${column} IS NULL OR json_valid(${column}))`;
}

const migrations: readonly Migration[] = [
  {
    versions: { sqlite: 1, postgres: 1 },
    statements: (d) => {
      const t = typesOf(d);
      return [
        `CREATE TABLE effects (
           key TEXT PRIMARY KEY,
           workflow_id TEXT NOT NULL,
           step TEXT NOT NULL,
           kind TEXT NOT NULL,
           user_id TEXT,
           state TEXT NOT NULL
             CHECK (state IN ('pending', 'applied', 'rejected', 'unknown', 'resolved-applied', 'resolved-not-applied')),
           request ${json(d, 'request', true)},
           observed_before ${json(d, 'observed_before')},
           response ${json(d, 'response')},
           observed_after ${json(d, 'observed_after')},
           notes ${json(d, 'notes', true)},
           attempts INTEGER NOT NULL CHECK (attempts >= 1),
           revision INTEGER NOT NULL CHECK (revision >= 1),
           created_at ${t.bigint} NOT NULL,
           updated_at ${t.bigint} NOT NULL
         )${t.strict}`,
        'CREATE INDEX effects_by_workflow ON effects (workflow_id, created_at)',
        'CREATE INDEX effects_by_user ON effects (user_id, created_at)',
        'CREATE INDEX effects_by_state ON effects (state, created_at)',
        `CREATE TABLE audit_events (
           id ${t.identity},
           at ${t.bigint} NOT NULL,
           workflow_id TEXT NOT NULL,
           run_id TEXT,
           effect_key TEXT,
           user_id TEXT,
           event TEXT NOT NULL,
           details ${json(d, 'details', true)},
           actor TEXT
         )${t.strict}`,
        'CREATE INDEX audit_by_workflow ON audit_events (workflow_id, id)',
        'CREATE INDEX audit_by_user ON audit_events (user_id, id)',
        'CREATE INDEX audit_by_effect ON audit_events (effect_key, id)',
        ...(d === 'sqlite'
          ? [
              `CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
               BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be changed'); END`,
              `CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
               BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be deleted'); END`,
            ]
          : [
              `CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $body$
               BEGIN
                 RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
               END
               $body$`,
              `CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
               FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`,
              `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
               FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`,
            ]),
        `CREATE TABLE user_locks (
           user_id TEXT PRIMARY KEY,
           owner TEXT NOT NULL,
           token TEXT NOT NULL,
           acquired_at ${t.bigint} NOT NULL,
           expires_at ${t.bigint} NOT NULL
         )${t.strict}`,
      ];
    },
  },
  {
    // Insertion order, for "oldest first" listings: created_at ties within a millisecond (SQLite has its rowid).
    versions: { postgres: 2 },
    statements: () => ['ALTER TABLE effects ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY'],
  },
  {
    // One effect per business key (a refund, a cancellation of one order), whatever run makes it.
    versions: { sqlite: 2, postgres: 3 },
    statements: (d) => {
      const t = typesOf(d);
      return [
        `ALTER TABLE effects ADD COLUMN business_key TEXT`,
        `CREATE TABLE business_keys (
           business_key TEXT PRIMARY KEY,
           effect_key TEXT NOT NULL,
           workflow_id TEXT NOT NULL,
           released INTEGER NOT NULL CHECK (released IN (0, 1)),
           revision INTEGER NOT NULL CHECK (revision >= 1),
           updated_at ${t.bigint} NOT NULL
         )${t.strict}`,
        'CREATE INDEX business_keys_by_effect ON business_keys (effect_key)',
      ];
    },
  },
  {
    // What changed since a checkpoint (reconcile), the latest audit event of a kind, and (PostgreSQL)
    // a user's lock taken together with what its holder reads: one round trip instead of three.
    // The reads are statements of their own inside the function, so they see everything
    // committed before the lock was taken (one statement would read from its own start).
    versions: { sqlite: 3, postgres: 4 },
    statements: (d) => [
      'CREATE INDEX effects_by_change ON effects (updated_at, key)',
      'CREATE INDEX audit_by_event ON audit_events (event, id)',
      ...(d === 'sqlite' ? [] : postgresLockFunctions),
    ],
  },
];

const postgresLockFunctions = [
  `CREATE FUNCTION lock_reads(p_user text, p_key text) RETURNS json LANGUAGE sql VOLATILE AS $body$
     SELECT json_build_object(
       'effect', (SELECT row_to_json(e) FROM (SELECT * FROM effects WHERE key = p_key) e),
       'unresolved', (SELECT coalesce(json_agg(row_to_json(u) ORDER BY u.seq), '[]'::json)
                      FROM (SELECT * FROM effects
                            WHERE user_id = p_user AND state IN ('pending', 'unknown') ORDER BY seq LIMIT 1000) u))
   $body$`,
  `CREATE FUNCTION take_user_lock(p_user text, p_owner text, p_token text, p_lease_ms bigint, p_key text)
   RETURNS json LANGUAGE plpgsql VOLATILE AS $body$
   DECLARE
     now_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
     taken text;
   BEGIN
     INSERT INTO user_locks AS held (user_id, owner, token, acquired_at, expires_at)
     VALUES (p_user, p_owner, p_token, now_ms, now_ms + p_lease_ms)
     ON CONFLICT (user_id) DO UPDATE SET
       owner = excluded.owner, token = excluded.token,
       acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
     WHERE held.expires_at <= now_ms
     RETURNING held.token INTO taken;
     IF taken IS DISTINCT FROM p_token THEN
       RETURN json_build_object('taken', false);
     END IF;
     RETURN json_build_object('taken', true, 'reads', lock_reads(p_user, p_key));
   END
   $body$`,
];

/**
 * Runs the migrations `dialect` has not run yet, in the caller's transaction. `nowMs`: an SQL
 * expression for now in epoch milliseconds; `ledger`: "SQLite ledger at ...", for the error.
 */
export async function migrate(tx: SqlExecutor, dialect: LedgerBackend, nowMs: string, ledger: string): Promise<void> {
  const t = typesOf(dialect);
  const table = `schema_version (version INTEGER PRIMARY KEY, applied_at ${t.bigint} NOT NULL)${t.strict}`;
  await tx.query(`CREATE TABLE IF NOT EXISTS ${table}`);
  const rows = await tx.query('SELECT MAX(version) AS version FROM schema_version');
  const current = rows[0]?.['version'] === null || rows[0]?.['version'] === undefined ? 0 : Number(rows[0]['version']);
  const latest = Math.max(...migrations.map((migration) => migration.versions[dialect] ?? 0));
  if (current > latest) {
    throw new LedgerError(
      `The ${ledger} has schema version ${current}, newer than this orderflow knows (${latest}): upgrade orderflow.`,
    );
  }
  for (const migration of migrations) {
    const version = migration.versions[dialect];
    if (version === undefined || version <= current) continue;
    for (const statement of migration.statements(dialect)) await tx.query(statement);
    await tx.query(`INSERT INTO schema_version (version, applied_at) VALUES ($1, ${nowMs})`, [version]);
  }
}
