/**
 * The effect ledger on a small SQL driver (./sql.ts): one implementation for both backends.
 * The effect state machine (./effects.ts) with the audit trail, user locks and business keys beside it.
 */
import { auditColumns, auditFromRow, epochMsFrom, insertAudit } from './audit.ts';
import { BulkRowStore } from './bulk-rows.ts';
import { EffectStore } from './effects.ts';
import {
  assertDottedName, assertIdentifier, assertWorkflowId, clampLimit, optionalIdentifier, optionalUserId, parseEffectKey,
  toJsonText,
} from './rules.ts';
import { WhereBuilder, isoFromMs, nowOf, toInteger } from './sql.ts';
import type { LedgerDefaults, SqlDriver } from './sql.ts';
import type {
  AuditContext, AuditEvent, AuditEventInput, BusinessKeyHolder, HeldUserLock, LedgerBackend, ListAuditFilter, UserLockOptions,
} from './types.ts';
import { UserLocks } from './user-lock.ts';

export class SqlEffectLedger extends EffectStore {
  readonly backend: LedgerBackend = this.driver.backend;
  /** Where it lives, without any password: safe to log. */
  readonly location: string = this.driver.location;
  readonly bulkRows = new BulkRowStore(this.driver);
  readonly #locks: UserLocks;

  constructor(driver: SqlDriver, defaults: LedgerDefaults) {
    super(driver);
    this.#locks = new UserLocks(driver, defaults);
  }

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
    return auditFromRow(this.driver, row);
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEvent[]> {
    const where = WhereBuilder.forRunAndUser(filter);
    if (filter.effectKey !== undefined) parseEffectKey(filter.effectKey);
    where.equal('effect_key', filter.effectKey);
    if (filter.event !== undefined) assertDottedName(filter.event, 'Audit event name', 100);
    where.equal('event', filter.event);
    const limit = clampLimit(filter.limit, 'listAudit');
    this.assertOpen();
    const rows = await this.driver.query(
      `SELECT ${auditColumns} FROM audit_events${where.sql()} ORDER BY id${filter.newestFirst === true ? ' DESC' : ''} LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((row) => auditFromRow(this.driver, row));
  }

  /**
   * Runs `fn` holding the lock on one store user against every other holder, in any process
   * or host: a lease renewed while `fn` runs, so a holder that dies lets go when it runs out.
   * Not re-entrant: a nested call for the same user waits like anyone else.
   */
  withUserLock<T>(userId: string | number, owner: string, fn: (lock: HeldUserLock) => Promise<T>, options?: UserLockOptions): Promise<T> {
    return this.#locks.withUserLock(userId, owner, fn, options, this.record.bind(this));
  }

  /** Lets go of the business key `effectKey` holds, once its effect was undone; false when it held none. */
  async releaseBusinessKey(effectKey: string, context: AuditContext = {}): Promise<boolean> {
    const { workflowId } = parseEffectKey(effectKey);
    const runId = optionalIdentifier(context.runId, 'Run id');
    const actor = optionalIdentifier(context.actor, 'Actor');
    this.assertOpen();
    return this.driver.transaction(async (tx) => {
      const now = await nowOf(this.driver, tx);
      const rows = await tx.query(
        `UPDATE business_keys SET released = 1, revision = revision + 1, updated_at = $2
         WHERE effect_key = $1 AND released = 0
         RETURNING business_key`,
        [effectKey, now],
      );
      const released = rows[0];
      if (released === undefined) return false;
      const detailsText = JSON.stringify({ businessKey: String(released['business_key']) });
      await insertAudit(tx, now, {
        workflowId, runId, effectKey, userId: null, event: 'business-key.released', detailsText, actor,
      });
      return true;
    });
  }

  async businessKeyHolder(businessKey: string): Promise<BusinessKeyHolder | undefined> {
    assertIdentifier(businessKey, 'Business key');
    this.assertOpen();
    const rows = await this.driver.query('SELECT effect_key, workflow_id, released, updated_at FROM business_keys WHERE business_key = $1', [businessKey]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      businessKey,
      effectKey: String(row['effect_key']),
      workflowId: String(row['workflow_id']),
      released: toInteger(row['released'], 'released') === 1,
      updatedAt: isoFromMs(toInteger(row['updated_at'], 'updated_at')),
    };
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
