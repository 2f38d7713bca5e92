/**
 * The audit trail: every change of an effect, and every operator decision, as an event in
 * `audit_events`, which outlives Temporal's history.
 */
import { InvalidLedgerInputError, LedgerError } from './errors.ts';
import { assertDottedName, assertWorkflowId, clampLimit, normalizeUserId, optionalIdentifier, optionalUserId, parseEffectKey, toJsonText } from './rules.ts';
import { LedgerPart, WhereBuilder, isoFromMs, nowOf, nullableString, toInteger } from './sql.ts';
import type { SqlExecutor, SqlRow } from './sql.ts';
import type { AuditEvent, AuditEventInput, ListAuditFilter } from './types.ts';

const auditColumns = 'id, at, workflow_id, run_id, effect_key, user_id, event, details, actor';

/** One audit event as written, validated by the caller. */
export type AuditRow = Omit<AuditEvent, 'id' | 'at' | 'details'> & { detailsText: string };

export class AuditTrail extends LedgerPart {
  async audit(input: AuditEventInput): Promise<AuditEvent> {
    assertWorkflowId(input.workflowId);
    assertDottedName(input.event, 'Audit event name', 100);
    if (input.effectKey !== undefined) parseEffectKey(input.effectKey);
    const runId = optionalIdentifier(input.runId, 'Run id');
    const actor = optionalIdentifier(input.actor, 'Actor');
    const userId = optionalUserId(input.userId);
    const detailsText = toJsonText(input.details, `The details of audit event ${input.event}`);
    const atMs = input.at === undefined ? null : epochMsFrom(input.at);
    this.assertOpen();
    const row = await this.driver.transaction(async (tx) =>
      insertAudit(tx, atMs ?? (await nowOf(this.driver, tx)), {
        workflowId: input.workflowId, runId, effectKey: input.effectKey ?? null, userId, event: input.event,
        detailsText, actor,
      }),
    );
    return this.auditFromRow(row);
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEvent[]> {
    const where = new WhereBuilder();
    if (filter.workflowId !== undefined) {
      assertWorkflowId(filter.workflowId);
      where.add(`workflow_id = ${where.param(filter.workflowId)}`);
    }
    if (filter.userId !== undefined) where.add(`user_id = ${where.param(normalizeUserId(filter.userId))}`);
    if (filter.effectKey !== undefined) {
      parseEffectKey(filter.effectKey);
      where.add(`effect_key = ${where.param(filter.effectKey)}`);
    }
    if (filter.event !== undefined) {
      assertDottedName(filter.event, 'Audit event name', 100);
      where.add(`event = ${where.param(filter.event)}`);
    }
    const limit = clampLimit(filter.limit, 'listAudit');
    this.assertOpen();
    const rows = await this.driver.query(
      `SELECT ${auditColumns} FROM audit_events${where.sql()} ORDER BY id${filter.newestFirst === true ? ' DESC' : ''} LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((row) => this.auditFromRow(row));
  }

  private auditFromRow(row: SqlRow): AuditEvent {
    return {
      id: toInteger(row['id'], 'id'),
      at: isoFromMs(toInteger(row['at'], 'at')),
      workflowId: String(row['workflow_id']),
      runId: nullableString(row['run_id']),
      effectKey: nullableString(row['effect_key']),
      userId: nullableString(row['user_id']),
      event: String(row['event']),
      details: this.driver.readJson(row['details']),
      actor: nullableString(row['actor']),
    };
  }
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
