/**
 * Errors of the effect ledger. Callers branch on the class (`instanceof`) and its fields,
 * never on message text. Messages never contain secrets (ledger URLs are shown without their password).
 */
import type { EffectRecord, EffectState } from './types.ts';

/** Every subclass is named after itself (`error.name`). */
export class LedgerError extends Error {
  override readonly name: string = this.constructor.name;
}

/** The ledger URL or an open option is unusable. */
export class LedgerConfigError extends LedgerError {}

/** A key, kind, user id, owner or JSON value that the ledger refuses to store. */
export class InvalidLedgerInputError extends LedgerError {}

export class LedgerClosedError extends LedgerError {}

export class EffectNotFoundError extends LedgerError {
  readonly key: string;

  constructor(key: string, action: string) {
    super(`Cannot ${action} effect ${JSON.stringify(key)}: the ledger has no such effect. Call begin() first.`);
    this.key = key;
  }
}

/** `begin` was called for an existing key with a different kind or user: two effects share a key. */
export class EffectKeyConflictError extends LedgerError {
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

/**
 * A change the ledger refused: `forbidden` from the current state, or `stale` (the row
 * changed since the caller read it). A worker that loses a race sees one of these, never a silent overwrite.
 */
export class EffectTransitionError extends LedgerError {
  declare readonly key: string;
  declare readonly currentState: EffectState;
  /** The state asked for, or `attempt` / `note` for recordAttempt / addNote. */
  declare readonly requested: EffectState | 'attempt' | 'note';
  declare readonly reason: 'forbidden' | 'stale';
  declare readonly currentRevision: number;

  constructor(current: EffectRecord, requested: EffectTransitionError['requested'], reason: 'forbidden' | 'stale', message: string) {
    super(message);
    Object.assign(this, { key: current.key, currentState: current.state, requested, reason, currentRevision: current.revision });
  }
}

/** Another run's effect holds the business key: refused before anything was written or called. */
export class BusinessKeyHeldError extends LedgerError {
  declare readonly businessKey: string;
  declare readonly effectKey: string;
  declare readonly holderEffectKey: string;
  declare readonly holderWorkflowId: string;
  declare readonly holderState: string;

  constructor(businessKey: string, effectKey: string, holderEffectKey: string, holderWorkflowId: string, holderState: string) {
    super(
      `Effect ${JSON.stringify(effectKey)} is refused: ${businessKey} is already held by effect ${JSON.stringify(holderEffectKey)} of run ` +
        `${holderWorkflowId} (${holderState}). One refund and one cancellation per order, whatever run makes them; ` +
        'if that effect did not happen, settle it first (orderflow reconcile, or the run\'s operator).',
    );
    Object.assign(this, { businessKey, effectKey, holderEffectKey, holderWorkflowId, holderState });
  }
}

/** Waited `waitedMs` for a user's lock and someone else still holds it. */
export class UserLockTimeoutError extends LedgerError {
  declare readonly userId: string;
  declare readonly waitedMs: number;
  /** The holder's owner string when last seen, if any. */
  declare readonly holder: string | undefined;
  /** Until when the holder's lease ran when last seen (ISO), if known. */
  declare readonly heldUntil: string | undefined;

  constructor(userId: string, waitedMs: number, holder: string | undefined, heldUntil: string | undefined) {
    const held =
      holder === undefined
        ? 'it kept being taken by others'
        : `it is held by ${JSON.stringify(holder)} until ${heldUntil ?? 'an unknown time'} (a lease the holder renews while it works)`;
    super(
      `Timed out after ${waitedMs} ms waiting for the lock on store user ${JSON.stringify(userId)}: ${held}. ` +
        'Retry later; a holder that crashed lets go when its lease runs out.',
    );
    Object.assign(this, { userId, waitedMs, holder, heldUntil });
  }
}

/** The lease could not be renewed in time (database unreachable, or it expired and was taken). */
export class UserLockLostError extends LedgerError {
  declare readonly userId: string;
  declare readonly owner: string;

  constructor(userId: string, owner: string, why: string) {
    super(
      `Lost the lock on store user ${JSON.stringify(userId)} held by ${JSON.stringify(owner)}: ${why}. ` +
        'Stop before the next external call; the activity retry will reconcile from the ledger.',
    );
    Object.assign(this, { userId, owner });
  }
}
