/**
 * The activities workflow code calls, made in one place: `reads` (normal activities: their answer
 * is in the history before the effect it gates), `effects` (local first attempt, then a normal
 * activity: the ledger answers a local step run again) and `bookkeeping` (docs/architecture.md,
 * "Local first attempts").
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

/** What Temporal's retry would have waited before a second attempt: a request still in flight has landed by then. */
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
/** The worker's settings (the approval threshold): local, as it calls nothing; the answer is in the history. */
export const workerSettings: Pick<OrderflowActivities, 'approvalThreshold'> = proxyLocalActivities<OrderflowActivities>({ startToCloseTimeout: '10 seconds' });
/** Ledger-only bookkeeping (operator resolutions, audit): normal activities, retried until the ledger answers. */
export const bookkeeping: OrderflowActivities = proxyActivities<OrderflowActivities>(bookkeepingOptions);
