/**
 * The ledger protocol every changing activity follows (docs/architecture.md, "The effect ledger"):
 * a recorded outcome is answered without calling; under the user's lock the world is observed and
 * `pending` recorded, then the API called; a later attempt reconciles from the evidence, or an operator decides.
 */
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { FailureType } from '../contracts.ts';
import type { EffectResult } from '../contracts.ts';
import { ApiCallError } from '../apis/outcome.ts';
import { inFlightWindowMs } from '../apis/http.ts';
import type { WebTvClient } from '../apis/webtv/client.ts';
import type { JustClickClient } from '../apis/justclick/client.ts';
import type { AuditContext, BeginEffectInput, EffectLedger, EffectRecord, EffectState, HeldUserLock, JsonValue } from '../ledger/types.ts';
import { BusinessKeyHeldError, UserLockTimeoutError } from '../ledger/errors.ts';
import { stepOfEffectKey } from '../ledger/keys.ts';
import { apiFailure, failure } from './failures.ts';

export interface ActivityDeps {
  webtv: WebTvClient;
  /** Absent when JustClick is not configured: JustClick steps then fail, asking for configuration. */
  justclick?: JustClickClient | undefined;
  ledger: EffectLedger;
  /** How long one attempt waits for another worker's lock on the same user (default 30 s). */
  userLockWaitMs?: number;
  /** How long an unchanged balance (or order) may still be a request in flight (default {@link inFlightWindowMs}). */
  inFlightWindowMs?: number;
  /** A credit change above this amount waits for a second person's approval (ORDERFLOW_APPROVAL_ABOVE); unset: off. */
  approvalAbove?: string | undefined;
}

const doneStates: ReadonlySet<EffectState> = new Set(['applied', 'resolved-applied']);
export const unresolvedStates: readonly EffectState[] = ['pending', 'unknown'];

/** The effect took place (answered by the API, or decided by reconciliation or an operator). */
export function isDone(record: EffectRecord | undefined): boolean {
  return record !== undefined && doneStates.has(record.state);
}

/** It did not take place, and a later attempt may arm it again. */
export function didNotHappen(record: EffectRecord): boolean {
  return record.state === 'rejected' || record.state === 'resolved-not-applied';
}

/** An earlier attempt may have taken effect: reconcile before calling again. */
export function isUnresolved(record: EffectRecord): boolean {
  return unresolvedStates.includes(record.state);
}

/** A field of a ledger JSON value (a record's request or observations, an audit event's details). */
export function objectField(value: JsonValue | null, name: string): JsonValue | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value[name] : undefined;
}

export function numberField(value: JsonValue | null, name: string): number | undefined {
  const field = objectField(value, name);
  return typeof field === 'number' ? field : undefined;
}

export function textField(value: JsonValue | null, name: string): string | undefined {
  const field = objectField(value, name);
  return typeof field === 'string' ? field : undefined;
}

/** The running activity's context; undefined when called outside an activity (tests). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Who acts, for the ledger: this worker's attempt, of the calling run. */
export function attemptContext(): AuditContext {
  const info = activityContext()?.info;
  if (info === undefined) return { actor: `worker ${hostname()}:${process.pid}` };
  return { runId: info.workflowExecution?.runId, actor: `worker ${hostname()}:${process.pid} attempt ${info.attempt}` };
}

/** The activity's cancellation signal, passed to every API call. */
export function signal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/**
 * Heartbeats every 3 s while a changing activity runs, so a dead worker is noticed after the
 * heartbeat timeout (see effectOptions); the first is due after 3 s, so a quick attempt sends none.
 */
export async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const context = activityContext();
  // A local attempt runs inside a workflow task: it has no heartbeat, the task's own timeout notices a dead worker.
  if (context === undefined || context.info.isLocal) return fn();
  const timer = setInterval(() => context.heartbeat(), 3_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** The ledger's refusal of a second refund or cancellation of an order: AlreadyDoneByAnotherRun (nothing done). */
export function oncePerBusinessKey<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((error: unknown) => {
    if (!(error instanceof BusinessKeyHeldError)) throw error;
    throw failure(FailureType.AlreadyDoneByAnotherRun, error.message, {
      nonRetryable: true,
      observed: { 'business key': error.businessKey, 'held by run': error.holderWorkflowId, 'its effect': `${error.holderEffectKey} (${error.holderState})` },
    });
  });
}

export function fromLedger(record: EffectRecord, detail: string): EffectResult {
  return { effectKey: record.key, status: 'applied', fromLedger: true, detail: `${detail} (recorded ${record.updatedAt}, not repeated)` };
}

/** A read whose API error becomes the failure Temporal sees, saying what was read. */
export function reading<T>(what: string, read: () => Promise<T>): Promise<T> {
  return read().catch((error: unknown) => {
    throw error instanceof ApiCallError ? apiFailure(error, undefined, `reading ${what} failed: `) : error;
  });
}

export type Protocol = ReturnType<typeof createProtocol>;

export function createProtocol(deps: ActivityDeps) {
  const { ledger } = deps;
  const lockWaitMs = deps.userLockWaitMs ?? 30_000;
  const inFlightWindow = deps.inFlightWindowMs ?? inFlightWindowMs();

  return {
    deps,
    ledger,

    /**
     * "Nothing changed" shows an earlier attempt did not take effect only once it can no longer land
     * (a request held up may still be applied): until then, retry later instead of calling twice.
     */
    refuseWhileAttemptMayLand(row: EffectRecord, what: string, observed: Record<string, string>): void {
      const settlesAt = Date.parse(row.updatedAt) + inFlightWindow;
      const waitMs = settlesAt - Date.now();
      if (waitMs > 0) {
        throw failure(
          FailureType.OutcomePending,
          `The earlier attempt (${what}) shows no effect yet, but it may still be in flight (recorded ${row.updatedAt}); ` +
            `deciding after ${new Date(settlesAt).toISOString()}. Will retry then.`,
          { nonRetryable: false, observed, nextRetryDelayMs: waitMs + 1_000 },
        );
      }
    },

    /**
     * Runs `fn` holding the user's lock, with the signal for every API call (it aborts when the activity
     * is cancelled or the lock's lease is lost: a call in flight then ends as an unknown outcome) and the
     * lock: the effect's row and the user's unresolved effects, read with it, and `recordAndRelease`.
     */
    underUserLock<T>(userId: number, effectKey: string, fn: (callSignal: AbortSignal, lock: HeldUserLock) => Promise<T>): Promise<T> {
      return ledger.withUserLock(userId, `${hostname()}:${process.pid} ${effectKey}`, (lock) => {
        const cancelled = signal();
        return fn(cancelled === undefined ? lock.signal : AbortSignal.any([lock.signal, cancelled]), lock);
      }, { waitMs: lockWaitMs, read: { effectKey } }).catch((error: unknown) => {
        if (!(error instanceof UserLockTimeoutError)) throw error;
        throw failure(FailureType.UserBusy, `${error.message} Will retry.`, { nonRetryable: false });
      });
    },

    /** Arms the effect with what was observed before calling: its first attempt begins the row, a later one records `pending` again. */
    async arm(effectKey: string, row: EffectRecord | undefined, effect: Omit<BeginEffectInput, keyof AuditContext>): Promise<void> {
      const context = attemptContext();
      const { observedBefore } = effect;
      if (row === undefined) await ledger.begin(effectKey, { ...context, ...effect });
      else await ledger.record(effectKey, 'pending', { ...context, observedBefore, note: `new attempt (was ${row.state})` });
    },

    /** Makes the armed call; a failure is recorded for what it means ({@link recordCallFailure}) and thrown. */
    call<T>(effectKey: string, observed: Record<string, string>, fn: () => Promise<T>): Promise<T> {
      return fn().catch(async (error: unknown) => {
        throw await this.recordCallFailure(effectKey, error, observed);
      });
    },

    /** Records what a failed call means (rejected, not sent: not applied; else `unknown`); returns what to throw. */
    async recordCallFailure(effectKey: string, error: unknown, observed: Record<string, string>) {
      const context = attemptContext();
      const prefix = `step ${stepOfEffectKey(effectKey)}: `;
      const current = await ledger.get(effectKey);
      if (current?.state === 'unknown') {
        // Still unknown: this answer does not settle the earlier attempt; keep the row as it is.
        await ledger.addNote(effectKey, { ...context, text: `another attempt failed: ${error instanceof Error ? error.message : String(error)}` });
        return error instanceof ApiCallError ? apiFailure(error, observed, prefix) : error;
      }
      if (!(error instanceof ApiCallError)) {
        // Not an API answer (a bug, a cancellation): the call may have gone out.
        await ledger.record(effectKey, 'unknown', { ...context, response: { error: error instanceof Error ? error.message : String(error) } });
        return error;
      }
      const response = { ...error.toJSON() } as JsonValue;
      if (error.outcome === 'unknown') {
        await ledger.record(effectKey, 'unknown', { ...context, response, note: 'the outcome is unknown: the next attempt reconciles' });
      } else {
        await ledger.record(effectKey, error.outcome === 'rejected' ? 'rejected' : 'resolved-not-applied', {
          ...context,
          response,
          note: error.outcome === 'rejected' ? `rejected: ${error.code}${error.vendorText ? ` | ${error.vendorText}` : ''}` : 'not sent',
        });
      }
      return apiFailure(error, observed, prefix);
    },
  };
}
