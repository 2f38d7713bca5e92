/**
 * The activities workflow code calls, made in one place: `reads` (observations that decide
 * what a run does), `effects` (changes through the ledger) and `bookkeeping` (ledger-only
 * work for operator decisions).
 *
 * Effects run **local first**: a step's first attempt is a local activity, run by the
 * worker inside the workflow task, so the effects of a run whose calls succeed take one
 * workflow task together instead of a workflow task and an activity task each (the latency
 * and server load of a saga). When that attempt fails in a way another attempt may fix (a
 * retryable failure, a timeout), the step goes on as a normal activity with the full retry
 * policy, started when Temporal's retry would have started a second attempt (a timer
 * waits that long): from then on it is what ops know, listed under Pending Activities with its
 * attempts and last failure, pausable, heartbeating. A failure no retry can change (a
 * business refusal, an outcome that needs an operator) ends the step at once, as the
 * normal activity's first attempt would have.
 *
 * Why effects may, and reads may not: a local step's result reaches the history only when
 * its workflow task completes, so a worker that dies mid-task makes the next worker run the
 * task's local steps again. An effect run again gives the same answer, because the ledger
 * gives it (applied: answered from the ledger, not repeated; pending: reconciled from the
 * evidence before any new call). A read run again may see a world the run itself changed
 * (the order it just cancelled is no longer current) and send the run down another path,
 * so reads stay normal activities and their answer is in the history before the first
 * effect it gates.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { OrderflowActivities } from '../contracts.ts';
import { summarizeFailure } from './failures.ts';
import { bookkeepingOptions, effectOptions, readOptions } from './activity-options.ts';

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** The local attempt: the same time limit as one normal attempt, and no retries of its own. */
function localAttemptOptions(options: ActivityOptions): LocalActivityOptions {
  return { startToCloseTimeout: options.startToCloseTimeout, retry: { maximumAttempts: 1 } };
}

/**
 * How long after a failed local attempt the normal activity starts: what Temporal's retry
 * would have waited before a second attempt (the failure's own next-retry delay, else the
 * policy's first interval), so that a request still in flight has landed before the next
 * attempt looks at the evidence.
 */
function delayBeforeNormalAttempt(error: unknown, options: ActivityOptions): Duration {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  const asked = cause instanceof ApplicationFailure ? cause.nextRetryDelay : undefined;
  return asked ?? options.retry?.initialInterval ?? '1 second';
}

/** May a normal activity's attempt succeed where the local attempt failed? */
function worthAnotherAttempt(error: unknown): boolean {
  if (isCancellation(error)) return false;
  return !summarizeFailure(error).nonRetryable;
}

function localFirst(options: ActivityOptions): OrderflowActivities {
  const remote = proxyActivities<OrderflowActivities>(options) as unknown as Record<string, ActivityFunction>;
  const local = proxyLocalActivities<OrderflowActivities>(localAttemptOptions(options)) as unknown as Record<string, ActivityFunction>;
  const steps = new Proxy({} as Record<string, ActivityFunction>, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      return async (...args: never[]): Promise<unknown> => {
        try {
          return await local[name]!(...args);
        } catch (error) {
          if (!worthAnotherAttempt(error)) throw error;
          await sleep(delayBeforeNormalAttempt(error, options), { summary: `${name}: next attempt, after the first one failed` });
          return remote[name]!(...args);
        }
      };
    },
  });
  return steps as unknown as OrderflowActivities;
}

/** Reads that decide what a run does: normal activities, so that their answer is in the history. */
export const reads: OrderflowActivities = proxyActivities<OrderflowActivities>(readOptions);
/** Changes through the ledger (credit, cancel, process, JustClick): local first, then {@link effectOptions}. */
export const effects: OrderflowActivities = localFirst(effectOptions);
/**
 * The worker's own settings (the approval threshold): a local activity, since it calls
 * nothing and changes nothing; its answer is recorded in the history (a marker) like any
 * activity's, so replay takes it from there.
 */
export const workerSettings: Pick<OrderflowActivities, 'approvalThreshold'> = proxyLocalActivities<OrderflowActivities>({ startToCloseTimeout: '10 seconds' });
/** Ledger-only bookkeeping (operator resolutions, audit): normal activities, retried until the ledger answers. */
export const bookkeeping: OrderflowActivities = proxyActivities<OrderflowActivities>(bookkeepingOptions);
