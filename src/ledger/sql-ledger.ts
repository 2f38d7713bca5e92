/**
 * The effect ledger on a small SQL driver (./sql.ts): one implementation for both backends.
 * The effect state machine (./effects.ts) with the audit trail, user locks and business keys beside it.
 */
import { LedgerClosedError } from './errors.ts';
import { AuditTrail } from './audit.ts';
import { BulkRowStore } from './bulk-rows.ts';
import { BusinessKeys } from './business-keys.ts';
import { EffectStore } from './effects.ts';
import type { LedgerDefaults, SqlDriver } from './sql.ts';
import type { AuditContext, AuditEvent, AuditEventInput, BusinessKeyHolder, HeldUserLock, LedgerBackend, ListAuditFilter, UserLockOptions } from './types.ts';
import { UserLocks } from './user-lock.ts';

export class SqlEffectLedger extends EffectStore {
  readonly backend: LedgerBackend;
  /** Where it lives, without any password: safe to log. */
  readonly location: string;
  readonly bulkRows: BulkRowStore;
  readonly #audit: AuditTrail;
  readonly #locks: UserLocks;
  readonly #businessKeys: BusinessKeys;
  readonly #open: { closed: boolean };

  constructor(driver: SqlDriver, defaults: LedgerDefaults) {
    const open = { closed: false };
    const assertOpen = (): void => {
      if (open.closed) throw new LedgerClosedError(`The effect ledger at ${driver.location} is closed; open a new one.`);
    };
    super(driver, assertOpen);
    this.#open = open;
    this.backend = driver.backend;
    this.location = driver.location;
    this.#audit = new AuditTrail(driver, assertOpen);
    this.#locks = new UserLocks(driver, defaults, assertOpen);
    this.bulkRows = new BulkRowStore(driver, assertOpen);
    this.#businessKeys = new BusinessKeys(driver, assertOpen);
  }

  audit(input: AuditEventInput): Promise<AuditEvent> {
    return this.#audit.audit(input);
  }

  listAudit(filter?: ListAuditFilter): Promise<AuditEvent[]> {
    return this.#audit.listAudit(filter);
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
  releaseBusinessKey(effectKey: string, context?: AuditContext): Promise<boolean> {
    return this.#businessKeys.releaseBusinessKey(effectKey, context);
  }

  businessKeyHolder(businessKey: string): Promise<BusinessKeyHolder | undefined> {
    return this.#businessKeys.businessKeyHolder(businessKey);
  }

  async close(): Promise<void> {
    if (this.#open.closed) return;
    this.#open.closed = true;
    await this.driver.close();
  }
}
