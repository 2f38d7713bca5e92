/**
 * The outcome of one call to a remote API (docs/architecture.md): `ok`, `rejected` (nothing
 * changed), `not-sent` (retry freely) or `unknown` (reconcile first). Failures are thrown as
 * {@link ApiCallError}s: callers branch on `error.outcome`, never on message text.
 */

export type ApiName = 'webtv' | 'justclick';
export type Outcome = 'ok' | 'rejected' | 'not-sent' | 'unknown';
export type FailureOutcome = Exclude<Outcome, 'ok'>;

export const apiLabel: Record<ApiName, string> = {
  webtv: 'WebTV store API',
  justclick: 'JustClick API',
};

export interface ApiCallErrorOptions {
  api: ApiName;
  operation: string;
  /** May the same request be sent again as it is? The API's verdict; src/activities/failures.ts decides retries. */
  resendable: boolean;
  /** The vendor's error code as a string (`ERROR_NO_ORDER`, `302`), or a transport code. */
  code: string;
  /** Exactly as received. */
  vendorText?: string | undefined;
  httpStatus?: number | undefined;
  /** Our credentials, signature, address or account were refused: a person must fix the configuration. */
  accessProblem?: boolean | undefined;
  cause?: unknown;
}

export abstract class ApiCallError extends Error {
  abstract readonly outcome: FailureOutcome;
  readonly api: ApiName;
  readonly operation: string;
  readonly resendable: boolean;
  readonly code: string;
  readonly vendorText: string | undefined;
  readonly httpStatus: number | undefined;
  readonly accessProblem: boolean;

  constructor(message: string, options: ApiCallErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.api = options.api;
    this.operation = options.operation;
    this.resendable = options.resendable;
    this.code = options.code;
    this.vendorText = options.vendorText;
    this.httpStatus = options.httpStatus;
    this.accessProblem = options.accessProblem ?? false;
  }

  /** A plain, secret-free summary for logs, ledgers and workflow failure details. */
  toJSON() {
    return {
      outcome: this.outcome,
      api: this.api,
      operation: this.operation,
      code: this.code,
      vendorText: this.vendorText ?? null,
      httpStatus: this.httpStatus ?? null,
      resendable: this.resendable,
      accessProblem: this.accessProblem,
      message: this.message,
    };
  }
}

export type ApiCallErrorSummary = ReturnType<ApiCallError['toJSON']>;

/** The API answered with a documented (or at least well-formed) error: nothing changed. */
export class ApiRejectedError extends ApiCallError {
  readonly outcome = 'rejected' as const;
  override readonly name = 'ApiRejectedError';
}

/** The request cannot have reached the server (refused, DNS, TLS, connect timeout). */
export class RequestNotSentError extends ApiCallError {
  readonly outcome = 'not-sent' as const;
  override readonly name = 'RequestNotSentError';
}

/** The request may have taken effect: the answer was lost, broken or untrustworthy. */
export class OutcomeUnknownError extends ApiCallError {
  readonly outcome = 'unknown' as const;
  override readonly name = 'OutcomeUnknownError';
}

export function isApiCallError(error: unknown): error is ApiCallError {
  return error instanceof ApiCallError;
}
