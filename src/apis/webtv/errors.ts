/**
 * What a WebTV store API answer means: success, a documented refusal (final or resendable), or
 * an answer this client cannot trust (`unknown`). {@link webTvErrorTable} is the ONE place that
 * judges each documented `error` | `error_long` pair (docs/vendor-apis.md, WebTV); an unknown
 * `error` is still `rejected`, final and undocumented.
 */
import { ApiRejectedError, OutcomeUnknownError, apiLabel } from '../outcome.ts';
import { excerpt, isRecord, parseJsonAnswer, rejectForHttpStatus } from '../http.ts';
import type { HttpResponse } from '../http.ts';
import type { WebTvAction, WebTvCallContext, WebTvSuccessAnswer } from './actions.ts';

export interface WebTvErrorRule {
  /** `every` for the general request errors. */
  readonly actions: readonly WebTvAction[] | 'every';
  /** The `error` field. */
  readonly code: string;
  /** The `error_long` field as documented; null where the docs name the code only (any text matches). */
  readonly text: string | null;
  /** May the same call be sent again as it is (with a fresh signature)? */
  readonly resendable: boolean;
  readonly meaning: string;
  readonly whatToDo: string;
  /** Our credentials, signature or address are at fault: a person must fix the configuration. */
  readonly accessProblem?: boolean;
  /** Another copy of this very request reached the API and may have acted: `unknown` for a change. */
  readonly copyMayHaveActed?: boolean;
}

const readAgain = 'the user id comes from the caller: check it against the store';

export const webTvErrorTable: readonly WebTvErrorRule[] = Object.freeze([
  // General request errors (texts assumed, docs/vendor-apis.md, WebTV "Responses"), answered before any action runs.
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Missing signature', resendable: false, accessProblem: true,
    meaning: 'the API received no key, salt, timestamp or signature',
    whatToDo: 'this client always sends them in the query string, so something between here and the API (a proxy, a redirect) drops it: fix the API URL or the route to it',
  },
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Invalid key', resendable: false, accessProblem: true,
    meaning: 'the API does not know the configured Key ID',
    whatToDo: 'check the WebTV Key ID in the configuration; the credential may have been deleted in the store admin',
  },
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Invalid signature', resendable: false, accessProblem: true,
    meaning: 'the signature does not match the shared secret registered for the Key ID',
    whatToDo: 'check that the configured shared secret belongs to this Key ID (it is used as the literal string, not base64-decoded)',
  },
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Request expired', resendable: true,
    meaning: "the request's timestamp is outside the credential's requests expiration time",
    whatToDo: "retry (every attempt is signed with the current time); if it keeps happening, this host's clock differs from the store's: synchronise it (NTP)",
  },
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Salt already used', resendable: true, copyMayHaveActed: true,
    meaning: 'the API has already seen this salt within its expiry window, so it refused this copy of the request',
    whatToDo: 'retry (every attempt gets a fresh salt). This client never reuses a salt, so an earlier copy of this very request reached the API (a proxy resending it, or a replay): for an action that changes state, reconcile first, as that copy may have taken effect',
  },
  {
    actions: 'every', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false,
    meaning: 'the user id is missing, not a number, below 1 or not a user of the store',
    whatToDo: readAgain,
  },

  // cancel_order. The vendor's own failures (ERROR, ERROR_PROCESSING) are assumed to have changed nothing.
  {
    actions: ['cancel_order'], code: 'ERROR_NO_ORDER', text: 'There is no order to cancel', resendable: false,
    meaning: 'the user has no current order (status 0): none was placed, or it was already cancelled or processed',
    whatToDo: 'read list_orders: an order at status 2 means an earlier attempt already cancelled it',
  },
  {
    actions: ['cancel_order'], code: 'ERROR', text: 'Error cancelling the order', resendable: true,
    meaning: 'the store failed while cancelling; assumed to have changed nothing',
    whatToDo: 'retry after reading list_orders; if it persists, ask the store operator',
  },

  // process_order
  {
    actions: ['process_order'], code: 'ERROR_NO_ORDER', text: 'There is no order to process', resendable: false,
    meaning: 'the user has no current order (status 0): none was placed, or it was already processed or cancelled',
    whatToDo: 'read list_orders: an order at status 1 and status_payment 1 means an earlier attempt already processed it',
  },
  {
    actions: ['process_order'], code: 'ERROR_AMOUNT_DUE', text: "Can't process the order because there is amount due", resendable: false,
    meaning: 'the current order is not fully paid',
    whatToDo: 'get_cart shows the amount due; process the order once it has been paid',
  },
  {
    actions: ['process_order'], code: 'ERROR_CURRENCY_MISMATCH',
    text: "Can't process the order because the order currency does not match the Store configuration currency", resendable: false,
    meaning: "the store's currency was changed after the order was placed",
    whatToDo: "a store operator must restore the store's currency or deal with the order by hand",
  },
  {
    actions: ['process_order'], code: 'ERROR_PROCESSING', text: 'Error while processing the order', resendable: true,
    meaning: 'the store failed while processing; assumed to have changed nothing',
    whatToDo: 'retry after reading list_orders (status 1 means it was processed after all); if it persists, ask the store operator',
  },

  // add_subtract_credit
  {
    actions: ['add_subtract_credit'], code: 'REQUEST_ERROR', text: 'Invalid credit action', resendable: false,
    meaning: 'creditAction was missing or neither "add" nor "subtract"',
    whatToDo: 'send creditAction "add" or "subtract"',
  },
  {
    actions: ['add_subtract_credit'], code: 'REQUEST_ERROR', text: 'Invalid amount', resendable: false,
    meaning: 'the amount was missing, not a number, or not above 0',
    whatToDo: 'send a decimal amount above 0, such as 5.00',
  },
  {
    actions: ['add_subtract_credit'], code: 'ERROR_CANT_SUBTRACT', text: "Can't subtract credit because the user does not have any available", resendable: false,
    meaning: 'the user has no credit (assumed: or less than the amount), and credit never goes below 0',
    whatToDo: 'read get_credit: the credit has probably been spent; a person must decide what to do',
  },

  // modify_cart (codes of the three validation errors assumed to be REQUEST_ERROR)
  {
    actions: ['modify_cart'], code: 'REQUEST_ERROR', text: 'Invalid cart action', resendable: false,
    meaning: 'cartAction was missing or not one of "add", "remove", "empty"',
    whatToDo: 'send cartAction "add", "remove" or "empty"',
  },
  {
    actions: ['modify_cart'], code: 'REQUEST_ERROR', text: 'Invalid or missing product ID', resendable: false,
    meaning: 'productID was missing, invalid or not a product of the store',
    whatToDo: 'check the product id against the store',
  },
  {
    actions: ['modify_cart'], code: 'REQUEST_ERROR', text: 'Invalid product quantity', resendable: false,
    meaning: 'productQty was not a whole number above 0',
    whatToDo: 'send a whole quantity above 0',
  },
  {
    actions: ['modify_cart'], code: 'ERROR', text: 'User not found', resendable: false,
    meaning: 'the store has no user with this id',
    whatToDo: readAgain,
  },
  {
    actions: ['modify_cart'], code: 'CART_ACTION_ERROR', text: null, resendable: false,
    meaning: 'the user has a current order, so the cart cannot change',
    whatToDo: 'process or cancel the current order first (get_cart shows it)',
  },

  // place_order (texts undocumented)
  {
    actions: ['place_order'], code: 'ERROR_ORDER_ALREADY_PLACED', text: null, resendable: false,
    meaning: 'the user already has a current order',
    whatToDo: 'read get_cart: if an earlier attempt placed it, that is the order; otherwise process or cancel it first',
  },
  {
    actions: ['place_order'], code: 'ERROR_EMPTY_CART', text: null, resendable: false,
    meaning: "the user's cart is empty",
    whatToDo: 'add products with modify_cart first',
  },
  {
    actions: ['place_order'], code: 'ERROR_MIN_PURCHASE', text: null, resendable: false,
    meaning: "the cart's total is below the store's minimum purchase",
    whatToDo: 'add products until the minimum is reached (get_cart: order_min_purchase_check)',
  },
] satisfies WebTvErrorRule[]);

export interface WebTvErrorVerdict extends Required<Omit<WebTvErrorRule, 'actions' | 'code' | 'text'>> {
  readonly documented: boolean;
}

const undocumentedVerdict: WebTvErrorVerdict = Object.freeze({
  documented: false,
  resendable: false,
  meaning: 'undocumented error: the API refused the request with a code and text this client does not know; assumed to have changed nothing',
  whatToDo: 'look the code up in the vendor documentation and add it to src/apis/webtv/errors.ts',
  accessProblem: false,
  copyMayHaveActed: false,
});

/** Looks up one `error` | `error_long` pair answered to `action`; the text is compared without case and outer spaces. */
export function classifyWebTvError(action: WebTvAction, code: string, text: string | undefined): WebTvErrorVerdict {
  const candidates = webTvErrorTable.filter((rule) => rule.code === code && (rule.actions === 'every' || rule.actions.includes(action)));
  const normalised = (of: string): string => of.trim().toLowerCase();
  const rule =
    candidates.find((candidate) => candidate.text !== null && text !== undefined && normalised(candidate.text) === normalised(text)) ??
    candidates.find((candidate) => candidate.text === null);
  return rule === undefined ? undocumentedVerdict : { documented: true, accessProblem: false, copyMayHaveActed: false, ...rule };
}

function where(context: Pick<WebTvCallContext, 'action' | 'userId'>): string {
  return `${apiLabel.webtv} ${context.action} for user ${context.userId}`;
}

/** The `unknown` outcome for an answer this client cannot interpret (code `UNEXPECTED_ANSWER`). */
export function unexpectedWebTvAnswer(context: WebTvCallContext, detail: string, httpStatus?: number): OutcomeUnknownError {
  return new OutcomeUnknownError(
    `${where(context)}: unexpected answer: ${detail}. ` +
      (context.idempotent
        ? 'The action only reads, so retrying is safe.'
        : 'The request may have taken effect: reconcile before retrying.'),
    { api: 'webtv', operation: context.action, resendable: context.idempotent, code: 'UNEXPECTED_ANSWER', httpStatus },
  );
}

/** Builds the `rejected` outcome for a vendor `{"error": ..., "error_long": ...}` answer. */
function rejectedWebTvAnswer(
  context: WebTvCallContext,
  code: string,
  vendorText: string | undefined,
  httpStatus: number,
): ApiRejectedError | OutcomeUnknownError {
  const verdict = classifyWebTvError(context.action, code, vendorText);
  const status = httpStatus >= 200 && httpStatus < 300 ? '' : `HTTP ${httpStatus}; `;
  if (verdict.copyMayHaveActed && !context.idempotent) {
    return new OutcomeUnknownError(
      `${where(context)}: ${code} | ${vendorText ?? '(no error_long)'}: another copy of this request reached the API and may have acted ` +
        `(${verdict.meaning}). Reconcile before retrying.`,
      { api: 'webtv', operation: context.action, resendable: false, code, vendorText, httpStatus },
    );
  }
  const kind = verdict.resendable ? 'retryable' : 'final';
  return new ApiRejectedError(
    `${where(context)}: ${code} | ${vendorText === undefined ? '(no error_long)' : excerpt(vendorText, 200)} ` +
      `(${status}${kind}: ${verdict.meaning}. What to do: ${verdict.whatToDo}.)`,
    { api: 'webtv', operation: context.action, resendable: verdict.resendable, code, vendorText, httpStatus, accessProblem: verdict.accessProblem },
  );
}

const successFields = ['ok', 'data', 'list', 'id'] as const;

/** A vendor error object: `error` is a non-empty string. */
function vendorError(value: unknown): { code: string; text: string | undefined } | undefined {
  if (!isRecord(value)) return undefined;
  const code = value['error'];
  if (typeof code !== 'string' || code.trim() === '') return undefined;
  const text = value['error_long'];
  return { code, text: typeof text === 'string' ? text : undefined };
}

/**
 * Returns the parsed success object of one answer, or throws the call's outcome. A vendor error
 * in a 2xx or 4xx → `rejected`; other non-2xx → rejectForHttpStatus, even a 5xx carrying vendor
 * JSON (the application may have failed after acting); anything else unexpected → `unknown`.
 */
export function interpretWebTvAnswer(context: WebTvCallContext, response: HttpResponse): WebTvSuccessAnswer {
  const httpRequest = { api: 'webtv' as const, operation: context.action, url: context.url, idempotent: context.idempotent };
  const status = response.status;
  if (status < 200 || status >= 300) {
    if (status >= 400 && status < 500) {
      let body: unknown;
      try {
        body = JSON.parse(response.bodyText);
      } catch {
        body = undefined;
      }
      const error = vendorError(body);
      if (error) throw rejectedWebTvAnswer(context, error.code, error.text, status);
    }
    rejectForHttpStatus(httpRequest, response);
  }
  const answer = parseJsonAnswer(httpRequest, response);
  const error = vendorError(answer);
  if (error) throw rejectedWebTvAnswer(context, error.code, error.text, status);
  const unexpected = (what: string): OutcomeUnknownError =>
    unexpectedWebTvAnswer(context, `${what} (${excerpt(response.bodyText)})`, status);
  if (!isRecord(answer)) throw unexpected('the JSON is not an object');
  if ('error' in answer) throw unexpected('"error" is not a code');
  if (!successFields.some((field) => answer[field] !== undefined && answer[field] !== null)) {
    throw unexpected('neither an error nor one of the success fields ok, data, list, id');
  }
  return answer;
}

/** Inputs refused before any request is sent: nothing was called. */
export class InvalidWebTvInputError extends Error {
  override readonly name = 'InvalidWebTvInputError';
}
