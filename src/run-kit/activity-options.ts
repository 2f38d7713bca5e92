/**
 * Activity option presets. Each says why it is what it is.
 *
 * Retry classification itself is not decided here: activities throw ApplicationFailures
 * marked non-retryable when a retry cannot help (src/activities/failures.ts decides).
 * These presets only bound how long and how often Temporal retries the rest.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Reads (get_cart, list_orders, get_credit). Safe to repeat, so retry briskly; after about
 * five minutes of failures a person should look (the run then asks an operator).
 * startToClose covers one HTTP call: its total deadline (60 s, src/apis/http.ts), with margin.
 */
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
 * Changes (credit, cancel, process, JustClick); their first attempt is a local activity
 * (see activity-proxies.ts), these options are for the normal activity that follows a
 * failed first attempt. Each attempt may wait for the per-user lock,
 * observe, call and record, so it gets more time than a read. Retries are safe because the
 * ledger makes every attempt after the first reconcile instead of calling again; the first
 * retry waits 2 s so that a request that was still in flight has landed before we look.
 * After about ten minutes the run asks an operator instead of retrying for ever.
 * A worker that dies mid-attempt (SIGKILL) stops heartbeating; the attempt is retried on
 * another worker after the heartbeat timeout, and the ledger makes that retry reconcile.
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

/**
 * Ledger-only bookkeeping (operator resolutions, audit). Local to our own database: quick,
 * and retried for a long time, because losing an operator's decision is not acceptable.
 */
export const bookkeepingOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // No maximumAttempts: unlimited, until the ledger is reachable again.
  },
};
