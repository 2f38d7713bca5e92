/**
 * The ledger protocol every changing activity follows (docs/architecture.md, "The effect ledger"):
 * 1. a recorded `applied` outcome is returned without calling the API (resets are safe);
 * 2. the per-user lock is taken, so our own writes to one user never interleave;
 * 3. the world is observed (credit, current order) and `pending` recorded with it;
 * 4. the API is called and the outcome recorded;
 * 5. a later attempt that finds `pending` or `unknown` reconciles from the recorded
 *    observation instead of calling again; where the evidence cannot decide, it fails
 *    non-retryably as OutcomeNeedsOperator so that an operator decides.
 */
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { FailureType } from '../contracts.ts';
import type { EffectResult } from '../contracts.ts';
import { ApiCallError } from '../apis/outcome.ts';
import { inFlightWindowMs } from '../apis/http.ts';
import type { WebTvClient } from '../apis/webtv/client.ts';
import type { JustClickClient } from '../apis/justclick/client.ts';
import type { EffectLedger, EffectRecord, EffectState, JsonValue } from '../ledger/types.ts';
import { BusinessKeyHeldError, UserLockTimeoutError } from '../ledger/errors.ts';
import { stepOfEffectKey } from '../ledger/keys.ts';
import { apiFailure, failure, summaryOf } from './failures.ts';

export interface ActivityDeps {
  webtv: WebTvClient;
  /** Absent when JustClick is not configured: JustClick steps then fail, asking for configuration. */
  justclick?: JustClickClient | undefined;
  ledger: EffectLedger;
  /** How long one attempt waits for another worker's lock on the same user (default 30 s). */
  userLockWaitMs?: number;
  /**
   * How long after an attempt an unchanged balance (or a still-current order) may still be
   * an earlier request in flight (default: {@link inFlightWindowMs} of the HTTP clients' total
   * deadline per call). Only after it does "unchanged" mean "did not happen".
   */
  inFlightWindowMs?: number;
  /** A credit change above this amount waits for a second person's approval (ORDERFLOW_APPROVAL_ABOVE); unset: off. */
  approvalAbove?: string | undefined;
}

export interface AttemptContext {
  runId?: string | undefined;
  actor: string;
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
  return record.state === 'pending' || record.state === 'unknown';
}

export function attemptContext(): AttemptContext {
  try {
    const info = Context.current().info;
    return { runId: info.workflowExecution?.runId, actor: `worker ${hostname()}:${process.pid} attempt ${info.attempt}` };
  } catch {
    return { actor: `worker ${hostname()}:${process.pid}` };
  }
}

/** The activity's cancellation signal, passed to every API call. */
export function signal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * Heartbeats every few seconds while a changing activity runs, so that a worker that dies
 * (SIGKILL, lost host) is noticed after the heartbeat timeout (see effectOptions), not
 * after the whole start-to-close timeout. The server counts that timeout from the start
 * of the attempt, so the first heartbeat is due only after 3 s: an attempt that ends
 * sooner (nearly all) costs the server no heartbeat at all.
 */
export async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return fn();
  }
  // A local attempt runs inside a workflow task: it has no heartbeat, the task's own timeout notices a dead worker.
  if (context.info.isLocal) return fn();
  const timer = setInterval(() => context.heartbeat(), 3_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs a changing activity; the ledger's refusal of a second refund or cancellation of one
 * order (another run holds its business key) becomes a business failure,
 * AlreadyDoneByAnotherRun: nothing was written or called, and retrying cannot change it.
 */
export async function oncePerBusinessKey<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof BusinessKeyHeldError)) throw error;
    throw failure(FailureType.AlreadyDoneByAnotherRun, error.message, {
      nonRetryable: true,
      observed: { 'business key': error.businessKey, 'held by run': error.holderWorkflowId, 'its effect': `${error.holderEffectKey} (${error.holderState})` },
    });
  }
}

export function fromLedger(record: EffectRecord, detail: string): EffectResult {
  return { effectKey: record.key, status: 'applied', fromLedger: true, detail: `${detail} (recorded ${record.updatedAt}, not repeated)` };
}

/** Rethrows an API error of a read as the failure Temporal sees, saying what was read. */
export function readFailure(error: unknown, what: string): unknown {
  return error instanceof ApiCallError ? apiFailure(error, undefined, `reading ${what} failed: `) : error;
}

export interface Protocol {
  readonly deps: ActivityDeps;
  readonly ledger: EffectLedger;
  refuseWhileAttemptMayLand(row: EffectRecord, what: string, observed: Record<string, string>): void;
  /**
   * Runs `fn` holding the user's lock. `fn` gets the signal to pass to every API call: it
   * aborts when the activity is cancelled or the lock's lease is lost (another worker may
   * hold the user then), so a call not yet sent is not sent, and one in flight ends as an
   * unknown outcome that the next attempt reconciles.
   */
  underUserLock<T>(userId: number, effectKey: string, fn: (callSignal: AbortSignal) => Promise<T>): Promise<T>;
  recordCallFailure(effectKey: string, error: unknown, observed: Record<string, string>, context: AttemptContext): Promise<unknown>;
}

export function createProtocol(deps: ActivityDeps): Protocol {
  const { ledger } = deps;
  const lockWaitMs = deps.userLockWaitMs ?? 30_000;
  const inFlightWindow = deps.inFlightWindowMs ?? inFlightWindowMs();

  return {
    deps,
    ledger,

    /**
     * "Nothing changed" is evidence that an earlier attempt did not take effect only once
     * that attempt can no longer land: a request held up on the way (or by a slow server)
     * may still be applied. Until then, retry when it can no longer land (nextRetryDelay)
     * instead of calling again (that would apply it twice).
     */
    refuseWhileAttemptMayLand(row, what, observed) {
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

    async underUserLock(userId, effectKey, fn) {
      try {
        return await ledger.withUserLock(userId, `${hostname()}:${process.pid} ${effectKey}`, (lock) => {
          const cancelled = signal();
          return fn(cancelled === undefined ? lock.signal : AbortSignal.any([lock.signal, cancelled]));
        }, { waitMs: lockWaitMs });
      } catch (error) {
        if (error instanceof UserLockTimeoutError) {
          throw failure(FailureType.UserBusy, `${error.message} Will retry.`, { nonRetryable: false });
        }
        throw error;
      }
    },

    /**
     * Records what a failed call means for the effect, and returns the failure to throw:
     * rejected or not sent → it did not apply (a later attempt may try again); unknown →
     * `unknown` (the next attempt reconciles).
     */
    async recordCallFailure(effectKey, error, observed, context) {
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
      const summary = summaryOf(error, observed);
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
      return apiFailure(error, summary.observed, prefix);
    },
  };
}
