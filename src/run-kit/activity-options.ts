/**
 * Activity option presets (docs/architecture.md, "Local first attempts"). Whether a failure is
 * retried is decided by the activities (src/activities/failures.ts); these bound how long and how often.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/** Reads: safe to repeat, retried briskly for about five minutes; one attempt covers one HTTP call's 60 s deadline. */
export const readOptions: ActivityOptions = {
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
};

/**
 * Changes, after a failed local first attempt (see activity-proxies.ts). An attempt may wait for the
 * user's lock, so it gets more time than a read. Retries are safe: the ledger makes them reconcile
 * instead of calling again; the first waits 2 s so that a request still in flight has landed. After
 * about ten minutes the run asks an operator.
 */
export const effectOptions: ActivityOptions = {
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

/** Ledger-only bookkeeping: retried without limit, because losing an operator's decision is not acceptable. */
export const bookkeepingOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
  },
};
