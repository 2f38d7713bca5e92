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
import type {
  AuditContext, AuditEvent, AuditEventInput, BusinessKeyHolder, EffectLedger, HeldUserLock, LedgerBackend, ListAuditFilter, UserLockOptions,
} from './types.ts';
import { UserLocks } from './user-lock.ts';

export class SqlEffectLedger extends EffectStore implements EffectLedger {
  readonly backend: LedgerBackend;
  readonly location: string;
  readonly bulkRows: BulkRowStore;
  readonly #audit: AuditTrail;
  readonly #locks: UserLocks;
  readonly #businessKeys: BusinessKeys;
  readonly #open = { closed: false };

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

  withUserLock<T>(userId: string | number, owner: string, fn: (lock: HeldUserLock) => Promise<T>, options?: UserLockOptions): Promise<T> {
    return this.#locks.withUserLock(userId, owner, fn, options, (key, state, recordOptions, release) => this.record(key, state, recordOptions, release));
  }

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
