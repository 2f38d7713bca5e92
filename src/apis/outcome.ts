/**
 * The outcome of one call to a remote API, as docs/architecture.md defines it.
 *
 * Every call ends in exactly one of four outcomes:
 *  - `ok`:       the API answered success (the client returns a value);
 *  - `rejected`: the API answered a documented error and nothing changed;
 *  - `not-sent`: the request cannot have reached the server; retry freely;
 *  - `unknown`:  it may have taken effect; reconcile before anything else.
 *
 * The three failure outcomes are thrown as subclasses of {@link ApiCallError}, so
 * callers branch on `error.outcome` (or `instanceof`), never on message text.
 * Messages name the API, the operation and what to do; they never contain secrets.
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
  /** The action (`cancel_order`) or method (`DeleteOrder`) that was called. */
  operation: string;
  /**
   * May the same request be sent again, as it is? This is the API's verdict, not Temporal's
   * retry decision (src/activities/failures.ts makes that one, from the outcome too).
   */
  resendable: boolean;
  /** The vendor's error code as a string (`ERROR_NO_ORDER`, `302`), or a transport code. */
  code: string;
  /** The vendor's own error text, exactly as received, when there is one. */
  vendorText?: string | undefined;
  /** HTTP status when a response was received. */
  httpStatus?: number | undefined;
  /**
   * The API refused our credentials, signature, address or account (not the request's
   * content): retrying cannot help until a person fixes the configuration. Decided by each
   * API's error table.
   */
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
  toJSON(): ApiCallErrorSummary {
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

export interface ApiCallErrorSummary {
  outcome: FailureOutcome;
  api: ApiName;
  operation: string;
  code: string;
  vendorText: string | null;
  httpStatus: number | null;
  resendable: boolean;
  accessProblem: boolean;
  message: string;
}

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
