/** What a step being retried has met so far, from the run's pending activities (as the UI's panel shows them). */
import { optionalTsToDate } from '@temporalio/common';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { printable } from '../single-line-text.ts';

export interface FailedAttempt {
  activity: string;
  /** The attempt that failed (1 is the first). */
  attempt: number;
  cause: string;
  /** When the next attempt is due; undefined while one runs or when none is scheduled. */
  nextAttemptAt: Date | undefined;
}

/** The last failed attempt of every pending activity that has failed at least once. */
export function failedAttempts(description: WorkflowExecutionDescription): FailedAttempt[] {
  return (description.raw.pendingActivities ?? []).flatMap((pending) => {
    const cause = pending.lastFailure?.message;
    if (!cause) return [];
    return [{
      activity: pending.activityType?.name ?? 'activity',
      // While waiting for a retry, `attempt` is the next one; while one runs, it is that one.
      attempt: Math.max(1, (pending.attempt ?? 1) - 1),
      cause,
      nextAttemptAt: optionalTsToDate(pending.nextAttemptScheduleTime),
    }];
  });
}

function inHowLong(at: Date, now: number): string {
  const seconds = Math.max(0, Math.round((at.getTime() - now) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** One line for a terminal: `attempt 1 of applyCreditChange failed: …; attempt 2 at 21:03:05 UTC (in 58 s)`. */
export function describeFailedAttempt(failed: FailedAttempt, step: string | undefined, now = Date.now()): string {
  const where = step === undefined ? failed.activity : `${step} (${failed.activity})`;
  const next = failed.nextAttemptAt === undefined
    ? `attempt ${failed.attempt + 1} is running`
    : `attempt ${failed.attempt + 1} at ${failed.nextAttemptAt.toISOString().slice(11, 19)} UTC (in ${inHowLong(failed.nextAttemptAt, now)})`;
  return printable(`  ↻ ${where}: attempt ${failed.attempt} failed: ${failed.cause.replace(/\.$/, '')}; ${next}`);
}
