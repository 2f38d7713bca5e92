/**
 * Types of the effect ledger (see docs/architecture.md, "The effect ledger").
 *
 * An *effect key* `<workflowId>/<step>#<firstExecutionRunId>` (./keys.ts) names one intended external effect (add credit,
 * cancel an order, delete a JustClick order). The ledger keeps one row per key, so that
 * activity retries, worker crashes and workflow resets never cause the effect twice, plus
 * a per-user lock and an append-only audit trail.
 *
 * Timestamps are UTC ISO-8601 strings at this interface (stored as epoch milliseconds).
 * Nothing stored here may contain a secret: the ledger refuses JSON properties whose names
 * look like one (see `assertNoSecretNames` in ./rules.ts).
 */
import type { BulkRowStore } from './bulk-rows.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * - `pending`: recorded before the call, with what was observed before it;
 * - `applied` / `rejected`: the API answered; final;
 * - `unknown`: it may have taken effect; reconcile before anything else;
 * - `resolved-applied`: reconciliation (or an operator) decided it took effect; final;
 * - `resolved-not-applied`: it did not take effect; may be armed again (`pending`) to retry.
 */
export const effectStates = [
  'pending',
  'applied',
  'rejected',
  'unknown',
  'resolved-applied',
  'resolved-not-applied',
] as const;
export type EffectState = (typeof effectStates)[number];

/** What a record looks like after it is read back. */
export interface EffectRecord {
  /** `<workflowId>/<step>#<firstExecutionRunId>` (./keys.ts) */
  key: string;
  workflowId: string;
  /** The key after the workflow id: `<step>#<firstExecutionRunId>`. */
  step: string;
  /** e.g. `credit.add`, `credit.subtract`, `order.cancel`, `order.process`, `justclick.delete` */
  kind: string;
  /** Store user id as a decimal string; null for effects that touch no store user. */
  userId: string | null;
  state: EffectState;
  /** The business request (never secrets). */
  request: JsonValue;
  /** What was observed before the call (credit balance, current order...). */
  observedBefore: JsonValue | null;
  /** The API's answer, or the secret-free summary of the failure. */
  response: JsonValue | null;
  /** What reconciliation observed afterwards. */
  observedAfter: JsonValue | null;
  notes: EffectNote[];
  /** How many times the call was (about to be) made: 1 after `begin`. */
  attempts: number;
  /** Increases with every change; pass it back as `expectRevision` for compare-and-set. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  /**
   * The business key this effect holds, e.g. `refund:<user>:<order>`: the ledger lets one
   * effect of all runs hold it (see {@link EffectLedger.begin}); null for effects without one.
   */
  businessKey: string | null;
}

export interface EffectNote {
  at: string;
  /** Who wrote it: an operator's name, or the worker/activity. */
  actor: string | null;
  text: string;
}

/** Who is acting, for the audit trail. */
export interface AuditContext {
  /** The Temporal run id (not part of the key: a reset changes it). */
  runId?: string | undefined;
  /** An operator's name, or a worker identity. */
  actor?: string | undefined;
}

export interface BeginEffectInput extends AuditContext {
  kind: string;
  /** Store user id (a number, or its decimal string); null/absent for JustClick-only effects. */
  userId?: string | number | null | undefined;
  request: JsonValue;
  observedBefore?: JsonValue | undefined;
  /**
   * One effect per business key, whatever run makes it (e.g. `refund:<user>:<order>`):
   * `begin` (and arming the effect again) is refused with BusinessKeyHeldError while
   * another effect holds the key and stands or may stand.
   */
  businessKey?: string | undefined;
}

/** Which effect holds a business key (see {@link BeginEffectInput.businessKey}). */
export interface BusinessKeyHolder {
  businessKey: string;
  effectKey: string;
  workflowId: string;
  /** The holder was undone: the next effect may take the key. */
  released: boolean;
  updatedAt: string;
}

export interface BeginEffectResult {
  effect: EffectRecord;
  /** false: the row already existed and is returned untouched. */
  created: boolean;
}

export interface RecordEffectOptions extends AuditContext {
  response?: JsonValue | undefined;
  observedAfter?: JsonValue | undefined;
  /** Required when arming `resolved-not-applied` again as `pending`: the fresh observation. */
  observedBefore?: JsonValue | undefined;
  note?: string | undefined;
  /** Refuse the change unless the row is still at this revision (compare-and-set). */
  expectRevision?: number | undefined;
}

export interface RecordAttemptOptions extends AuditContext {
  expectRevision?: number | undefined;
}

export interface AddNoteInput extends AuditContext {
  text: string;
}

export interface ListEffectsFilter {
  workflowId?: string | undefined;
  userId?: string | number | undefined;
  state?: EffectState | readonly EffectState[] | undefined;
  kind?: string | undefined;
  /** Default 1000, at most 10000. Oldest first. */
  limit?: number | undefined;
  /**
   * Only effects whose last change is at or after this UTC ISO time, ordered by their last
   * change (then key) instead of insertion: what changed since a checkpoint.
   */
  changedSince?: string | undefined;
  /**
   * With `changedSince`: the next page, after this effect key (the last one of the page
   * before, whose last change is `changedSince`).
   */
  changedAfterKey?: string | undefined;
}

export interface AuditEventInput {
  /** Defaults to now (the database's clock). */
  at?: Date | string | undefined;
  workflowId: string;
  runId?: string | undefined;
  effectKey?: string | undefined;
  userId?: string | number | null | undefined;
  /** e.g. `operator.decision`, `saga.compensated`; effect changes use `effect.<state>`. */
  event: string;
  details: JsonValue;
  actor?: string | undefined;
}

export interface AuditEvent {
  /** Increases in insertion order. */
  id: number;
  at: string;
  workflowId: string;
  runId: string | null;
  effectKey: string | null;
  userId: string | null;
  event: string;
  details: JsonValue;
  actor: string | null;
}

export interface ListAuditFilter {
  workflowId?: string | undefined;
  userId?: string | number | undefined;
  effectKey?: string | undefined;
  event?: string | undefined;
  /** Default 1000, at most 10000. Oldest first. */
  limit?: number | undefined;
  /** Newest first instead (the latest checkpoint, the latest decision). */
  newestFirst?: boolean | undefined;
}

export interface UserLockOptions {
  /** How long to wait for a holder to let go before UserLockTimeoutError. 0 = try once. */
  waitMs?: number | undefined;
  /** Lease length; renewed every third of it while `fn` runs. */
  leaseMs?: number | undefined;
  /**
   * Read with the lock, once it is held (with PostgreSQL in the same round trip as taking
   * it): the effect under this key and the user's unresolved effects, as `lock.effect` and
   * `lock.unresolved`.
   */
  read?: { effectKey: string } | undefined;
}

/** Handed to the function that runs under the lock. */
export interface HeldUserLock {
  userId: string;
  owner: string;
  /** Aborted (with a UserLockLostError as reason) if the lease could not be kept. */
  signal: AbortSignal;
  /** With `read`: the effect under its key once the lock was held (undefined: there is none). */
  effect: EffectRecord | undefined;
  /** With `read`: the user's pending and unknown effects once the lock was held, oldest first (at most 1,000). */
  unresolved: readonly EffectRecord[];
  /**
   * `record`, and the lock let go in the same write (with PostgreSQL one statement, atomic
   * with the outcome): the last thing `fn` does under the lock. The lock stays held when a
   * holder in this process waits for it (it is handed on), or when the record is refused.
   */
  recordAndRelease(key: string, state: EffectState, options?: RecordEffectOptions): Promise<EffectRecord>;
}

export type LedgerBackend = 'sqlite' | 'postgres';

export interface EffectLedger {
  readonly backend: LedgerBackend;
  /** Where it lives, without any password: safe to log. */
  readonly location: string;

  get(key: string): Promise<EffectRecord | undefined>;
  /**
   * Inserts `pending` (attempts 1), or returns the existing row untouched. With a business
   * key, refuses (BusinessKeyHeldError, nothing written) while another effect holds it and
   * is not `rejected`, `resolved-not-applied` or released.
   */
  begin(key: string, input: BeginEffectInput): Promise<BeginEffectResult>;
  /** Moves the row to `state` if the transition is allowed; atomic compare-and-set. */
  record(key: string, state: EffectState, options?: RecordEffectOptions): Promise<EffectRecord>;
  /** Counts one more call attempt of a row that is not final. */
  recordAttempt(key: string, options?: RecordAttemptOptions): Promise<EffectRecord>;
  /** Appends an operator note without changing the state. */
  addNote(key: string, input: AddNoteInput): Promise<EffectRecord>;
  listEffects(filter?: ListEffectsFilter): Promise<EffectRecord[]>;
  /**
   * Lets go of the business key `effectKey` holds, once its effect was undone (e.g. the
   * refund's credit taken back): a later run may then make it. False when it held none.
   */
  releaseBusinessKey(effectKey: string, context?: AuditContext): Promise<boolean>;
  /** Which effect holds `businessKey`, if any. */
  businessKeyHolder(businessKey: string): Promise<BusinessKeyHolder | undefined>;

  /**
   * Runs `fn` while holding the lock on one store user, excluding every other holder in
   * any process (and, with PostgreSQL, on any host). The lock is a lease renewed while `fn`
   * runs, so a holder that dies (SIGKILL) lets go when its lease runs out.
   * Not re-entrant: a nested call for the same user waits like anyone else.
   */
  withUserLock<T>(
    userId: string | number,
    owner: string,
    fn: (lock: HeldUserLock) => Promise<T>,
    options?: UserLockOptions,
  ): Promise<T>;

  audit(event: AuditEventInput): Promise<AuditEvent>;
  listAudit(filter?: ListAuditFilter): Promise<AuditEvent[]>;

  /** A bulk's rows and their outcomes (./bulk-rows.ts). */
  readonly bulkRows: BulkRowStore;

  close(): Promise<void>;
}
