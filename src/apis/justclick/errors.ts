/**
 * What a JustClick answer means (the API half of ../outcome.ts). An answer whose hash is missing
 * or wrong is not trusted at all (`unknown`); a verified one is judged by its code with the ONE table below.
 */
import { callDescription, isRecord, mayHaveActed, parseJsonAnswer, rejectForHttpStatus } from '../http.ts';
import type { HttpCall, HttpResponse } from '../http.ts';
import { ApiRejectedError, OutcomeUnknownError, apiLabel } from '../outcome.ts';
import { justClickResponseHash, phpNumberToString } from './signing.ts';
import type { JustClickAnswer, JustClickMethod } from './types.ts';
import { timingSafeEqual } from 'node:crypto';

/** What a code means for a method where it is not an error at all. */
export type JustClickNonError = 'already-absent' | 'already-exists';

export interface JustClickCodeInfo {
  readonly code: number;
  /** The simulator answers with it. */
  readonly text: string;
  readonly textSource: 'observed' | 'documented' | 'assumed';
  readonly meaning: string;
  /** May the same request be sent again as it is (for codes that are errors)? */
  readonly resendable: boolean;
  readonly action: string;
  /** Our credentials, signature, address or account were refused (see ApiCallErrorOptions.accessProblem). */
  readonly accessProblem?: boolean;
  /** Methods for which this code is not an error, and what it means there. */
  readonly notAnErrorFor?: Readonly<Partial<Record<JustClickMethod, JustClickNonError>>>;
}

const fixTheRequest = 'This is a bug in the request orderflow built; report it with the method and parameters.';
const noSuchBill = 'Check the bill id; the order does not exist in this JustClick account.';
const readTheOrder = 'Read the order (GetOrderInfo) and decide; sending the same request again will fail again.';

/** An entry of the table; `textSource` defaults to documented, `resendable` to false. */
type CodeEntry = Omit<JustClickCodeInfo, 'textSource' | 'resendable'> & Partial<JustClickCodeInfo>;

function entry(info: CodeEntry): [number, JustClickCodeInfo] {
  return [info.code, Object.freeze({ textSource: 'documented', resendable: false, ...info })];
}

/**
 * Every documented code (docs/vendor-apis.md, help article 511). 0 is success. Codes not in this
 * table are rejected as final and undocumented.
 */
export const justClickCodes: ReadonlyMap<number, JustClickCodeInfo> = new Map([
  entry({ code: 0, text: 'OK', textSource: 'observed', meaning: 'done', action: 'Nothing to do.' }),
  entry({
    code: 1, text: 'not transferred hash', meaning: 'the request arrived without its hash',
    action: `This client always sends a hash, so something between us and JustClick dropped it. ${fixTheRequest}`,
  }),
  entry({
    code: 2, text: 'no transmitted data', meaning: 'the request arrived without parameters',
    action: `Check that no proxy strips POST bodies. ${fixTheRequest}`,
  }),
  entry({
    code: 3, text: 'wrong posted data', meaning: 'the parameters are wrong',
    action: 'Check the parameters against the method\'s documentation; sending the same request again will fail again.',
  }),
  entry({
    code: 4, text: 'incorrect hash', meaning: 'the request signature was refused', accessProblem: true,
    action: 'Check JUSTCLICK_LOGIN and JUSTCLICK_SECRET (the key from "Integration and API" in the JustClick account).',
  }),
  entry({
    code: 5, text: 'invalid user name', meaning: 'the login was not sent or does not exist', accessProblem: true,
    action: 'Check JUSTCLICK_LOGIN and the API URL (https://<login>.justclick.ru/api).',
  }),
  entry({
    code: 6, text: 'permission denied for ip', accessProblem: true,
    meaning: 'the API refuses requests from this IP address',
    action: 'Allow this server\'s outgoing IP address in the JustClick API settings.',
  }),
  entry({
    code: 7, text: 'account disabled', meaning: 'the JustClick account is disabled', accessProblem: true,
    action: 'The account owner must re-enable the JustClick account (billing, or JustClick support).',
  }),
  entry({
    code: 8, text: 'request limit for this ip reached', textSource: 'assumed', resendable: true,
    meaning: 'the request limit for this IP address was reached',
    action: 'Nothing changed; retry later, with backoff.',
  }),
  entry({
    code: 200, text: 'Nonexistent order', textSource: 'observed', meaning: 'the order does not exist',
    action: noSuchBill, notAnErrorFor: { DeleteOrder: 'already-absent' },
  }),
  entry({ code: 201, text: 'wrong status', meaning: 'the order status does not allow this', action: readTheOrder }),
  entry({
    code: 202, text: 'order not paid', meaning: 'the order is not paid',
    action: 'The order must be paid first; read it (GetOrderInfo) and decide.',
  }),
  entry({
    code: 203, text: 'Order number is empty', textSource: 'observed',
    meaning: 'no bill id was sent', action: fixTheRequest,
  }),
  entry({
    code: 302, text: 'nonexistent order', meaning: 'the order to delete or change does not exist',
    action: noSuchBill, notAnErrorFor: { DeleteOrder: 'already-absent' },
  }),
  entry({
    code: 303, text: 'wrong status', action: readTheOrder,
    meaning: 'the order status does not allow deleting or changing it',
  }),
  entry({ code: 400, text: 'order not found', meaning: 'the order was not found', action: noSuchBill }),
  ...[600, 602, 603, 604, 605, 606].map((code) =>
    entry({
      code, text: 'order creation error', textSource: 'assumed',
      meaning: `CreateOrder refused the order (code ${code}; the documentation gives only the range 600–606)`,
      action: 'Check the order data (email, products that exist in the shop, prices); ' +
        'sending it again will fail again.',
    }),
  ),
  entry({
    code: 601, text: 'order already exists', notAnErrorFor: { CreateOrder: 'already-exists' },
    meaning: 'an order with this bill id already exists (result.bill_id names it)',
    action: 'The order exists already; use result.bill_id.',
  }),
]);

export type JustClickRequestInfo = HttpCall & { api: 'justclick' };

/** How PHP's "$value" interpolation prints a decoded JSON scalar; undefined for arrays/objects. */
function phpInterpolate(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return phpNumberToString(value);
  if (value === true) return '1';
  if (value === false || value === null || value === undefined) return '';
  return undefined;
}

function sameHex(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function untrusted(req: JustClickRequestInfo, response: HttpResponse, code: string, what: string): OutcomeUnknownError {
  const whatToDo = 'The request may have taken effect: reconcile (read the order) before retrying.';
  return mayHaveActed(req, code, `${what}; the answer is not trusted. ${whatToDo}`, { httpStatus: response.status });
}

/** Reads one HTTP response into a verified answer, or throws its outcome; error codes are not judged here. */
export function readJustClickAnswer(req: JustClickRequestInfo, response: HttpResponse, secret: string): JustClickAnswer {
  if (response.status < 200 || response.status > 299) rejectForHttpStatus(req, response);
  const fields = parseJsonAnswer(req, response);
  if (!isRecord(fields)) {
    throw untrusted(req, response, 'UNEXPECTED_ANSWER', `the answer is JSON but not an object (${typeof fields})`);
  }
  const codeText = phpInterpolate(fields['error_code']);
  const text = phpInterpolate(fields['error_text']);
  const hash = fields['hash'];
  const shownCode = typeof fields['error_code'] === 'number' || typeof fields['error_code'] === 'string' ? ` (error_code ${String(fields['error_code'])})` : '';
  if (
    typeof hash !== 'string' ||
    codeText === undefined ||
    text === undefined ||
    !sameHex(hash, justClickResponseHash(codeText, text, secret))
  ) {
    const refusal = accessRefusalSignedWithAnotherKey(req, fields, response);
    if (refusal !== undefined) throw refusal;
    const why = typeof hash === 'string' ? 'wrong' : 'missing';
    const what = `the response signature did not verify (hash ${why})${shownCode}: check JUSTCLICK_SECRET`;
    throw untrusted(req, response, 'BAD_RESPONSE_HASH', what);
  }
  const rawCode = fields['error_code'];
  const code = typeof rawCode === 'number' ? rawCode : typeof rawCode === 'string' && /^-?\d{1,9}$/.test(rawCode) ? Number(rawCode) : NaN;
  if (!Number.isSafeInteger(code) || typeof fields['error_text'] !== 'string') {
    throw untrusted(req, response, 'UNEXPECTED_ANSWER', 'the signed answer has no whole-number error_code or no error_text string');
  }
  const answer: JustClickAnswer = { error_code: code, error_text: fields['error_text'] };
  if ('result' in fields) answer.result = fields['result'];
  return answer;
}

/**
 * An unverified answer whose code refuses our credentials (4–7) is what a wrong JUSTCLICK_SECRET
 * looks like (JustClick signs with the account's key): an access error, which changes nothing.
 */
function accessRefusalSignedWithAnotherKey(
  req: JustClickRequestInfo,
  fields: Record<string, unknown>,
  response: HttpResponse,
): ApiRejectedError | undefined {
  const rawCode = fields['error_code'];
  const code = typeof rawCode === 'number' ? rawCode : typeof rawCode === 'string' && /^\d{1,3}$/.test(rawCode) ? Number(rawCode) : NaN;
  const info = justClickCodes.get(code);
  if (info?.accessProblem !== true) return undefined;
  const vendorText = typeof fields['error_text'] === 'string' ? fields['error_text'] : info.text;
  return new ApiRejectedError(
    `${callDescription(req)}: answered error ${code} ${JSON.stringify(vendorText)}: ${info.meaning}, and the answer is signed with ` +
      `another key than JUSTCLICK_SECRET, so the secret (or the login) is most likely wrong; nothing changed. ${info.action}`,
    { api: 'justclick', operation: req.operation, resendable: false, code: String(code), vendorText, httpStatus: response.status, accessProblem: true },
  );
}

export type JustClickVerdict = { kind: 'ok' } | { kind: JustClickNonError };

/** What `code` means for `method` when it is not an error there (DeleteOrder 200/302, CreateOrder 601). */
export function justClickNonError(method: string, code: string | number): JustClickNonError | undefined {
  const nonErrors = justClickCodes.get(Number(code))?.notAnErrorFor;
  return nonErrors && Object.hasOwn(nonErrors, method) ? nonErrors[method as JustClickMethod] : undefined;
}

/** Judges a verified answer for a method: every code but 0 and the non-errors throws ApiRejectedError. */
export function judgeJustClickAnswer(req: JustClickRequestInfo, answer: JustClickAnswer, httpStatus?: number): JustClickVerdict {
  const code = answer.error_code;
  if (code === 0) return { kind: 'ok' };
  const nonError = justClickNonError(req.operation, code);
  if (nonError) return { kind: nonError };
  const info = justClickCodes.get(code);
  const said = `${callDescription(req)}: answered error ${code} ${JSON.stringify(answer.error_text)}`;
  throw new ApiRejectedError(
    info
      ? `${said}: ${info.meaning}; nothing changed. ${info.action}`
      : `${said}, a code JustClick does not document; treated as a final refusal. Look the code up with JustClick support before retrying.`,
    {
      api: 'justclick',
      operation: req.operation,
      resendable: info?.resendable ?? false,
      code: String(code),
      vendorText: answer.error_text,
      httpStatus,
      accessProblem: info?.accessProblem ?? false,
    },
  );
}

/** For the generic `call`, which returns only code 0: a non-error code as a final rejection that says so. */
export function nonErrorAsRejection(
  req: JustClickRequestInfo,
  answer: JustClickAnswer,
  verdict: { kind: JustClickNonError },
  httpStatus?: number,
): ApiRejectedError {
  const said = `answered ${answer.error_code} ${JSON.stringify(answer.error_text)}`;
  const meaning =
    verdict.kind === 'already-absent'
      ? 'the order does not exist: it is already absent (for DeleteOrder this is not a failure; nothing changed)'
      : 'an order with this bill id already exists (for CreateOrder this is not a failure; nothing was created)';
  const code = String(answer.error_code);
  return new ApiRejectedError(`${callDescription(req)}: ${said}: ${meaning}.`, {
    api: 'justclick', operation: req.operation, resendable: false, code, vendorText: answer.error_text, httpStatus,
  });
}

/** Input refused before anything was sent: final, nothing changed. */
export function refuseJustClickInput(operation: string, problems: readonly string[]): ApiRejectedError {
  return new ApiRejectedError(
    `${apiLabel.justclick} ${operation}: refused before sending: ${problems.join('; ')}.`,
    { api: 'justclick', operation, resendable: false, code: 'INVALID_INPUT' },
  );
}
