/**
 * The effect ledger on top of a small SQL driver (./sql.ts): one implementation of the
 * rules for both backends (./sqlite.ts, ./postgres.ts), so both behave the same and pass
 * one suite. It puts together the effect state machine (./effects.ts), the audit trail
 * (./audit.ts) and the per-user lock (./user-lock.ts).
 */
import { LedgerClosedError } from './errors.ts';
import { AuditTrail } from './audit.ts';
import { BulkRowStore } from './bulk-rows.ts';
import { EffectStore } from './effects.ts';
import type { LedgerDefaults, SqlDriver } from './sql.ts';
import type {
  AddNoteInput,
  AuditEvent,
  AuditEventInput,
  BeginEffectInput,
  BeginEffectResult,
  EffectLedger,
  EffectRecord,
  EffectState,
  HeldUserLock,
  LedgerBackend,
  ListAuditFilter,
  ListEffectsFilter,
  RecordAttemptOptions,
  RecordEffectOptions,
  UserLockOptions,
} from './types.ts';
import { UserLocks } from './user-lock.ts';

export class SqlEffectLedger implements EffectLedger {
  readonly backend: LedgerBackend;
  readonly location: string;
  readonly bulkRows: BulkRowStore;
  readonly #driver: SqlDriver;
  readonly #effects: EffectStore;
  readonly #audit: AuditTrail;
  readonly #locks: UserLocks;
  #closed = false;

  constructor(driver: SqlDriver, defaults: LedgerDefaults) {
    this.#driver = driver;
    this.backend = driver.backend;
    this.location = driver.location;
    const assertOpen = (): void => {
      if (this.#closed) throw new LedgerClosedError(`The effect ledger at ${this.location} is closed; open a new one.`);
    };
    this.#effects = new EffectStore(driver, assertOpen);
    this.#audit = new AuditTrail(driver, assertOpen);
    this.#locks = new UserLocks(driver, defaults, assertOpen);
    this.bulkRows = new BulkRowStore(driver, assertOpen);
  }

  get(key: string): Promise<EffectRecord | undefined> {
    return this.#effects.get(key);
  }

  begin(key: string, input: BeginEffectInput): Promise<BeginEffectResult> {
    return this.#effects.begin(key, input);
  }

  record(key: string, state: EffectState, options?: RecordEffectOptions): Promise<EffectRecord> {
    return this.#effects.record(key, state, options);
  }

  recordAttempt(key: string, options?: RecordAttemptOptions): Promise<EffectRecord> {
    return this.#effects.recordAttempt(key, options);
  }

  addNote(key: string, input: AddNoteInput): Promise<EffectRecord> {
    return this.#effects.addNote(key, input);
  }

  listEffects(filter?: ListEffectsFilter): Promise<EffectRecord[]> {
    return this.#effects.listEffects(filter);
  }

  audit(input: AuditEventInput): Promise<AuditEvent> {
    return this.#audit.audit(input);
  }

  listAudit(filter?: ListAuditFilter): Promise<AuditEvent[]> {
    return this.#audit.listAudit(filter);
  }

  withUserLock<T>(userId: string | number, owner: string, fn: (lock: HeldUserLock) => Promise<T>, options?: UserLockOptions): Promise<T> {
    return this.#locks.withUserLock(userId, owner, fn, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }
}
