/**
 * Types of the effect ledger (docs/architecture.md, "The effect ledger"): one row per effect
 * key (./keys.ts), so retries, crashes and resets never cause an effect twice. Times are UTC
 * ISO-8601 strings here (stored as epoch milliseconds); stored JSON never holds secrets (./rules.ts).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What each means: docs/architecture.md, "The effect ledger"; the transitions: ./rules.ts. */
export const effectStates = [
  'pending', 'applied', 'rejected', 'unknown', 'resolved-applied', 'resolved-not-applied',
] as const;
export type EffectState = (typeof effectStates)[number];

export interface EffectRecord {
  key: string;
  workflowId: string;
  /** The key after the workflow id: `<step>#<firstExecutionRunId>`. */
  step: string;
  /** e.g. `credit.add`, `order.cancel`, `justclick.delete` */
  kind: string;
  /** Store user id as a decimal string; null for effects that touch no store user. */
  userId: string | null;
  state: EffectState;
  request: JsonValue;
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
  /** e.g. `refund:<user>:<order>`: one effect of all runs may hold it (see `begin`). */
  businessKey: string | null;
}

export interface EffectNote {
  at: string;
  actor: string | null;
  text: string;
}

/** Who is acting, for the audit trail. */
export interface AuditContext {
  /** The Temporal run id (not part of the key: a reset changes it). */
  runId?: string | undefined;
  actor?: string | undefined;
}

export interface BeginEffectInput extends AuditContext {
  kind: string;
  /** null/absent for JustClick-only effects. */
  userId?: string | number | null | undefined;
  request: JsonValue;
  observedBefore?: JsonValue | undefined;
  businessKey?: string | undefined;
}

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

export interface RecordAttemptOptions extends AuditContext {
  /** Refuse the change unless the row is still at this revision (compare-and-set). */
  expectRevision?: number | undefined;
}

export interface RecordEffectOptions extends RecordAttemptOptions {
  response?: JsonValue | undefined;
  observedAfter?: JsonValue | undefined;
  /** Required when arming the effect again as `pending`: the fresh observation. */
  observedBefore?: JsonValue | undefined;
  note?: string | undefined;
}

export interface AddNoteInput extends AuditContext {
  text: string;
}

interface ListFilter {
  workflowId?: string | undefined;
  userId?: string | number | undefined;
  /** Default 1000, at most 10000. Oldest first. */
  limit?: number | undefined;
}

export interface ListEffectsFilter extends ListFilter {
  state?: EffectState | readonly EffectState[] | undefined;
  kind?: string | undefined;
  /** Only effects changed at or after this UTC ISO time, ordered by their last change (then key). */
  changedSince?: string | undefined;
  /** With `changedSince`: the next page, after this effect key (the last of the page before). */
  changedAfterKey?: string | undefined;
}

export interface AuditEventInput extends AuditContext {
  /** Defaults to now (the database's clock). */
  at?: Date | string | undefined;
  workflowId: string;
  effectKey?: string | undefined;
  userId?: string | number | null | undefined;
  /** e.g. `operator.decision`; effect changes use `effect.<state>`. */
  event: string;
  details: JsonValue;
}

export interface AuditEvent {
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

export interface ListAuditFilter extends ListFilter {
  effectKey?: string | undefined;
  event?: string | undefined;
  newestFirst?: boolean | undefined;
}

export interface UserLockOptions {
  /** How long to wait for a holder to let go before UserLockTimeoutError. 0 = try once. */
  waitMs?: number | undefined;
  /** Lease length; renewed every third of it while `fn` runs. */
  leaseMs?: number | undefined;
  /** Read once the lock is held (PostgreSQL: in the same round trip): `lock.effect` and `lock.unresolved`. */
  read?: { effectKey: string } | undefined;
}

export interface HeldUserLock {
  userId: string;
  owner: string;
  /** Aborted (with a UserLockLostError as reason) if the lease could not be kept. */
  signal: AbortSignal;
  /** With `read`: the effect under its key (undefined: there is none). */
  effect: EffectRecord | undefined;
  /** With `read`: the user's pending and unknown effects, oldest first (at most 1,000). */
  unresolved: readonly EffectRecord[];
  /**
   * `record`, and the lock let go in the same write: the last thing `fn` does under the lock.
   * The lock stays held when a holder in this process waits for it, or when the record is refused.
   */
  recordAndRelease(key: string, state: EffectState, options?: RecordEffectOptions): Promise<EffectRecord>;
}

export type LedgerBackend = 'sqlite' | 'postgres';

/** The ledger's API, on a SQL driver: ./sql-ledger.ts (`get` ... `listEffects`: ./effects.ts). */
export type { SqlEffectLedger as EffectLedger } from './sql-ledger.ts';
