/**
 * The audit trail's rows: every change of an effect, and every operator decision, as an event in
 * `audit_events`, which outlives Temporal's history (written and listed by ./sql-ledger.ts).
 */
import { InvalidLedgerInputError, LedgerError } from './errors.ts';
import { isoFromMs, nullableString, toInteger } from './sql.ts';
import type { SqlDriver, SqlExecutor, SqlRow } from './sql.ts';
import type { AuditEvent } from './types.ts';

export const auditColumns = 'id, at, workflow_id, run_id, effect_key, user_id, event, details, actor';

/** One audit event as written, validated by the caller. */
export type AuditRow = Omit<AuditEvent, 'id' | 'at' | 'details'> & { detailsText: string };

export function auditFromRow(driver: SqlDriver, row: SqlRow): AuditEvent {
  return {
    id: toInteger(row['id'], 'id'),
    at: isoFromMs(toInteger(row['at'], 'at')),
    workflowId: String(row['workflow_id']),
    runId: nullableString(row['run_id']),
    effectKey: nullableString(row['effect_key']),
    userId: nullableString(row['user_id']),
    event: String(row['event']),
    details: driver.readJson(row['details']),
    actor: nullableString(row['actor']),
  };
}

/** Writes one audit event in the caller's transaction (or statement). */
export async function insertAudit(tx: SqlExecutor, atMs: number, event: AuditRow): Promise<SqlRow> {
  const rows = await tx.query(
    `INSERT INTO audit_events (at, workflow_id, run_id, effect_key, user_id, event, details, actor)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING ${auditColumns}`,
    [atMs, event.workflowId, event.runId, event.effectKey, event.userId, event.event, event.detailsText, event.actor],
  );
  const row = rows[0];
  if (row === undefined) throw new LedgerError('Writing an audit event returned no row: check the audit_events table.');
  return row;
}

/** A time given to the ledger, as epoch milliseconds. */
export function epochMsFrom(at: Date | string, what = 'Audit time'): number {
  const ms = at instanceof Date ? at.getTime() : Date.parse(at);
  if (!Number.isFinite(ms) || (typeof at === 'string' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at))) {
    throw new InvalidLedgerInputError(`${what} ${JSON.stringify(String(at))} is not a valid date or an ISO-8601 time with a zone (like 2025-01-31T12:00:00Z).`);
  }
  return ms;
}
