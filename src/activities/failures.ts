/**
 * The one place that turns what an activity ran into (an API outcome, a lock timeout, a guard) into
 * an ApplicationFailure with a stable type (src/contracts.ts) and the right retryability.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { FailureType } from '../contracts.ts';
import type { FailureSummary } from '../contracts.ts';
import { ApiCallError } from '../apis/outcome.ts';

/** Vendor codes (and, where the code is shared, texts) that have their own failure type, because workflows act on them. */
const specificRejections: ReadonlyArray<{ api: string; code: string; text?: string; type: FailureType }> = [
  { api: 'webtv', code: 'ERROR_CANT_SUBTRACT', type: FailureType.CreditAlreadySpent },
  { api: 'webtv', code: 'ERROR_AMOUNT_DUE', type: FailureType.AmountDue },
  { api: 'webtv', code: 'ERROR_NO_ORDER', type: FailureType.OrderNotCurrent },
  // Our user ids are whole numbers ≥ 1 (checked where they enter), so this means "no such user".
  { api: 'webtv', code: 'REQUEST_ERROR', text: 'Invalid User ID', type: FailureType.UnknownUser },
  { api: 'webtv', code: 'ERROR', text: 'User not found', type: FailureType.UnknownUser },
];

function failureTypeOf(error: ApiCallError): FailureType {
  switch (error.outcome) {
    case 'not-sent':
      return FailureType.ApiNotReached;
    case 'unknown':
      return error.code === 'BAD_RESPONSE_HASH' ? FailureType.ResponseNotTrusted : FailureType.OutcomePending;
    case 'rejected': {
      if (error.resendable) return FailureType.ApiRetryableRejection;
      // Answers that mean "a person must fix our configuration".
      if (error.accessProblem || [401, 403, 404].includes(error.httpStatus ?? 0)) return FailureType.ApiAccessDenied;
      const vendorText = error.vendorText?.trim().toLowerCase();
      const specific = specificRejections.find(
        (rule) => rule.api === error.api && rule.code === error.code && (rule.text === undefined || rule.text.toLowerCase() === vendorText),
      );
      return specific?.type ?? FailureType.ApiRejected;
    }
  }
}

/** `unknown` outcomes stay retryable (the next attempt reconciles); rejections (access problems too) are not. */
export function apiFailure(error: ApiCallError, observed?: Record<string, string>, messagePrefix = ''): ApplicationFailure {
  const { message, api, operation, code, vendorText } = error;
  const summary: FailureSummary = { type: failureTypeOf(error), message, api, operation, code, vendorText, observed };
  return ApplicationFailure.create({
    type: summary.type,
    message: `${messagePrefix}${message}`,
    nonRetryable: error.outcome === 'rejected' && !error.resendable,
    details: [summary],
    cause: error,
  });
}

/** Retries in normal operation (the user is busy, an attempt may still land): BENIGN, not counted as errors. */
const expectedRetries: ReadonlySet<FailureType> = new Set([FailureType.UserBusy, FailureType.OutcomePending]);

export function failure(
  type: FailureType,
  message: string,
  options: { nonRetryable: boolean; observed?: Record<string, string>; nextRetryDelayMs?: number },
): ApplicationFailure {
  const summary: FailureSummary = { type, message, observed: options.observed };
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: options.nonRetryable,
    details: [summary],
    // When the activity knows when to look again, the next attempt comes then, not at the backoff's pace.
    ...(options.nextRetryDelayMs === undefined ? {} : { nextRetryDelay: Math.ceil(options.nextRetryDelayMs) }),
    ...(expectedRetries.has(type) ? { category: ApplicationFailureCategory.BENIGN } : {}),
  });
}
