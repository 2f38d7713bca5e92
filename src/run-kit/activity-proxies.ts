/** The activities workflow code calls, and how long and how often they are retried (docs/architecture.md, "Local first attempts"). */
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/workflow';
import type { OrderflowActivities } from '../contracts.ts';
import { summarizeFailure } from './failures.ts';

/** Changes after a failed local first attempt, for about ten minutes; an attempt may wait for the user's lock, so it gets more time. */
const effectOptions: ActivityOptions = {
  startToCloseTimeout: '3 minutes',
  // The activity heartbeats every 3 s: a worker that dies mid-call is noticed in 20 s.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 14,
  },
};

/** The retry of reads and bookkeeping: from 1 s, doubling, at most 30 s apart. */
const retryUpTo30s = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;

/** Ledger-only bookkeeping: retried without limit, because losing an operator's decision is not acceptable. */
export const bookkeepingOptions: ActivityOptions = { startToCloseTimeout: '30 seconds', retry: retryUpTo30s };

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** What Temporal's retry would have waited before a second attempt: a request still in flight has landed by then. */
function delayBeforeNormalAttempt(error: unknown, options: ActivityOptions): Duration {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  const asked = cause instanceof ApplicationFailure ? cause.nextRetryDelay : undefined;
  return asked ?? options.retry?.initialInterval ?? '1 second';
}

/** Each call's first attempt runs local, with one normal attempt's time limit and no retries; then it goes on as a normal activity. */
function localFirst(options: ActivityOptions): OrderflowActivities {
  const remote = proxyActivities<OrderflowActivities>(options) as unknown as Record<string, ActivityFunction>;
  const localOptions = { startToCloseTimeout: options.startToCloseTimeout, retry: { maximumAttempts: 1 } };
  const local = proxyLocalActivities<OrderflowActivities>(localOptions) as unknown as Record<string, ActivityFunction>;
  return new Proxy({} as OrderflowActivities, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      return async (...args: never[]): Promise<unknown> => {
        try {
          return await local[name]!(...args);
        } catch (error) {
          if (isCancellation(error) || summarizeFailure(error).nonRetryable) throw error;
          await sleep(delayBeforeNormalAttempt(error, options), { summary: `${name}: next attempt, after the first one failed` });
          return remote[name]!(...args);
        }
      };
    },
  });
}

/** Reads that decide what a run does: normal activities, so their answer is in the history; an attempt covers a call's 60 s deadline. */
export const reads: OrderflowActivities = proxyActivities<OrderflowActivities>({
  startToCloseTimeout: '90 seconds',
  retry: { ...retryUpTo30s, maximumAttempts: 12 },
});
/** Changes through the ledger (credit, cancel, process, JustClick): local first, then {@link effectOptions}. */
export const effects: OrderflowActivities = localFirst(effectOptions);
/** The worker's settings (the approval threshold): local, as it calls nothing; the answer is in the history. */
export const workerSettings: Pick<OrderflowActivities, 'approvalThreshold'> = proxyLocalActivities<OrderflowActivities>({ startToCloseTimeout: '10 seconds' });
/** Ledger-only bookkeeping (operator resolutions, audit): normal activities, retried until the ledger answers. */
export const bookkeeping: OrderflowActivities = proxyActivities<OrderflowActivities>(bookkeepingOptions);
