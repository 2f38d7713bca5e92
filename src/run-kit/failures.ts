/** What a step's failure was (for people), and what it means for the run: may the saga compensate alone, or must a person look? */
import { ActivityFailure, ApplicationFailure, TemporalFailure } from '@temporalio/workflow';
import { FailureType } from '../contracts.ts';
import type { FailureSummary } from '../contracts.ts';

export type ClassifiedFailure = FailureSummary & { nonRetryable: boolean };

/** A summary of any failure a step can end in, for people and for the decision logic. */
export function summarizeFailure(error: unknown): ClassifiedFailure {
  let failure: unknown = error;
  if (failure instanceof ActivityFailure && failure.cause) failure = failure.cause;
  if (failure instanceof ApplicationFailure) {
    const { api, operation, code, vendorText, observed } = (failure.details?.[0] ?? {}) as Partial<FailureSummary>;
    const nonRetryable = failure.nonRetryable === true;
    return { type: failure.type ?? 'Error', message: failure.message, api, operation, code, vendorText, observed, nonRetryable };
  }
  if (failure instanceof TemporalFailure) {
    // Timeouts and cancellations: the attempt's outcome is not known.
    return { type: failure.name, message: failure.message, nonRetryable: false };
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return { type: 'Error', message, nonRetryable: false };
}

/** Failure types that mean "the API said no, for a business reason; nothing changed". */
const businessFailureTypes: ReadonlySet<string> = new Set([
  FailureType.ApiRejected,
  FailureType.OrderNotCurrent,
  FailureType.UnknownUser,
  FailureType.AmountDue,
  FailureType.CreditAlreadySpent,
  FailureType.InvalidInput,
  FailureType.AlreadyDoneByAnotherRun,
]);

/** Final and certain (the API refused; nothing changed): a saga may compensate alone. Anything else needs a person. */
export function isBusinessFailure(summary: ClassifiedFailure): boolean {
  return summary.nonRetryable && businessFailureTypes.has(summary.type);
}

/** Why a run waits, by failure type; `short` is for OrderflowWaitingFor, which is not encrypted: never an API's or a customer's text. */
const waitReasons: Partial<Record<string, { short: string; reason?: (step: string) => string }>> = {
  [FailureType.OutcomeNeedsOperator]: {
    short: 'outcome unknown',
    reason: (step) => `Step ${step} may or may not have taken effect, and the evidence cannot decide. Check the API (see what was observed) and tell the run what happened.`,
  },
  [FailureType.ApiAccessDenied]: {
    short: 'API refused our credentials',
    reason: (step) => `Step ${step} was refused by the API because of our credentials, signature or address. Fix the configuration of the workers, then retry.`,
  },
  [FailureType.ResponseNotTrusted]: {
    short: 'answer not trusted',
    reason: (step) => `Step ${step}: the API's answer did not carry a valid signature, so it is not trusted. Check JUSTCLICK_SECRET and whether the effect happened.`,
  },
  [FailureType.CreditAlreadySpent]: { short: 'credit already spent' },
  [FailureType.AmountDue]: { short: 'amount due' },
  [FailureType.OrderNotCurrent]: { short: 'order not current' },
  [FailureType.ApiRejected]: { short: 'API refused' },
  [FailureType.ApiNotReached]: { short: 'API not reached' },
  [FailureType.ApiRetryableRejection]: { short: 'API kept refusing' },
};

/** Why the run waits for a person, from the failure of its step. */
export function reasonFor(step: string, failure: ClassifiedFailure): string {
  const reason = waitReasons[failure.type]?.reason;
  if (reason !== undefined) return reason(step);
  return failure.nonRetryable
    ? `Step ${step} failed and retrying it as it is cannot help.`
    : `Step ${step} kept failing after every automatic retry (the API may be down or unreachable).`;
}

export function shortReasonFor(failureType: string): string {
  return waitReasons[failureType]?.short ?? 'step failed';
}

/** One line: `type · api operation · code | vendor text`. */
export function describeFailureLine(failure: FailureSummary): string {
  const vendor = failure.code ? `${failure.code}${failure.vendorText ? ` | ${failure.vendorText}` : ''}` : '';
  const where = failure.api ? `${failure.api}${failure.operation ? ` ${failure.operation}` : ''}` : '';
  return [failure.type, where, vendor].filter((part) => part !== '').join(' · ');
}
