/**
 * JustClick API client: `POST <apiUrl>/<Method>` with an urlencoded body signed like the
 * vendor's PHP sample (./signing.ts), every answer's hash verified (./errors.ts). Each method
 * returns what the API said or throws an outcome of ../outcome.ts; the secret is never shown.
 */
import type { JustClickConfig } from '../../config.ts';
import { centsFromLooseAmount, formatCents } from '../../money.ts';
import type { Cents } from '../../money.ts';
import { createHttpTransport, isRecord, looseText, mayHaveActed, sendPost } from '../http.ts';
import { unobserved } from '../../telemetry/api-calls.ts';
import type { ApiCallObserver } from '../../telemetry/api-calls.ts';
import type { HttpTransport } from '../http.ts';
import { judgeJustClickAnswer, nonErrorAsRejection, readJustClickAnswer, refuseJustClickInput } from './errors.ts';
import { parsePhpFieldName } from './php-fields.ts';
import { justClickQueryHash, phpQueryFields } from './signing.ts';
import type { PhpParams, PhpQueryField, PhpValue } from './signing.ts';
import { justClickMethods, justClickOrderInfoTextFields, justClickOrderStatuses, justClickOrderTextFields } from './types.ts';
import type { JustClickAnswer, JustClickNewOrder, JustClickOrderStatus, JustClickStatusDetails } from './types.ts';

export interface JustClickClientOptions {
  /** Default: a new transport, closed by close(). */
  transport?: HttpTransport;
  /** Wraps each call (tracing span, metrics). */
  observeCall?: ApiCallObserver;
}

export type JustClickClient = ReturnType<typeof createJustClickClient>;

const methodPattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Methods that change nothing more when repeated (reads, deletes, setting a status). */
const idempotentMethods = new Set(['deleteorder', 'updateorderstatus', 'getorderinfo', 'getorderdetails', 'getorders', 'getorderswithgoods']);

function checkText(problems: string[], what: string, value: unknown, options: { required: boolean; max?: number }): void {
  if (value === undefined && !options.required) return;
  if (typeof value !== 'string') {
    problems.push(`${what} must be a string`);
    return;
  }
  const max = options.max ?? 1000;
  if (options.required && value.trim() === '') problems.push(`${what} must not be empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) problems.push(`${what} contains control characters`);
  if (value.length > max) problems.push(`${what} is longer than ${max} characters`);
}

function checkBillId(problems: string[], billId: unknown, what = 'bill id'): void {
  if (typeof billId !== 'string' || billId.trim() === '') {
    problems.push(`${what} must be a non-empty string, got ${JSON.stringify(billId) ?? String(billId)}`);
    return;
  }
  if (billId !== billId.trim()) problems.push(`${what} ${JSON.stringify(billId)} has leading or trailing spaces`);
  if (billId.length > 100) problems.push(`${what} is longer than 100 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(billId)) problems.push(`${what} contains control characters`);
}

function checkUnixSeconds(problems: string[], what: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    problems.push(`${what} must be a whole number of Unix seconds, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

function looseCents(value: unknown): Cents | null {
  if (value === null || value === undefined || value === '') return null;
  try {
    return centsFromLooseAmount(value);
  } catch {
    return null;
  }
}

function checkOrder(problems: string[], order: JustClickNewOrder): void {
  if (typeof order !== 'object' || order === null) {
    problems.push('the order must be an object');
    return;
  }
  if (order.billId !== undefined) checkBillId(problems, order.billId, 'billId');
  checkText(problems, 'email', order.email, { required: true, max: 254 });
  if (typeof order.email === 'string' && order.email.trim() !== '' && !/^[^\s@]+@[^\s@]+$/.test(order.email)) {
    problems.push(`email ${JSON.stringify(order.email)} is not an email address`);
  }
  for (const [field] of justClickOrderTextFields) {
    const max = field === 'comment' ? 5000 : 1000;
    if (field !== 'email') checkText(problems, field, order[field], { required: false, max });
  }
  if (order.createdAt !== undefined) checkUnixSeconds(problems, 'createdAt', order.createdAt);
  if (order.autoCancel !== undefined && typeof order.autoCancel !== 'boolean') checkUnixSeconds(problems, 'autoCancel', order.autoCancel);
  if (order.utm !== undefined) {
    if (typeof order.utm !== 'object' || order.utm === null) problems.push('utm must be an object of strings');
    else for (const [name, value] of Object.entries(order.utm)) {
      if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) problems.push(`utm name ${JSON.stringify(name)} must be letters, digits or _`);
      checkText(problems, `utm[${name}]`, value, { required: false });
    }
  }
  if (!Array.isArray(order.goods) || order.goods.length === 0) {
    problems.push('goods must list at least one product');
  } else {
    order.goods.forEach((good, index) => {
      if (typeof good !== 'object' || good === null) {
        problems.push(`goods[${index}] must be an object with name and sum`);
        return;
      }
      checkText(problems, `goods[${index}].name`, good.name, { required: true, max: 255 });
      if (typeof good.sum !== 'number' || !Number.isSafeInteger(good.sum) || good.sum < 0) {
        problems.push(`goods[${index}].sum must be a whole, non-negative number of cents, got ${JSON.stringify(good.sum) ?? String(good.sum)}`);
      }
    });
  }
}

/** CreateOrder's parameters for a checked order. */
function orderParams(order: JustClickNewOrder): Array<[string, PhpValue]> {
  const params: Array<[string, PhpValue]> = [];
  const add = (name: string, value: PhpValue): void => {
    if (value !== undefined) params.push([name, value]);
  };
  add('bill_id', order.billId);
  // Assumed: good_sum as a decimal string with two places ("1500.00"); the docs only say "price".
  add('goods', order.goods.map((good) => new Map<string, PhpValue>([['good_name', good.name], ['good_sum', formatCents(good.sum)]])));
  for (const [field, name] of justClickOrderTextFields) add(name, order[field]);
  add('bill_created', order.createdAt);
  add('bill_timer_kill', order.autoCancel);
  if (order.utm !== undefined) add('utm', new Map(Object.entries(order.utm)));
  return params;
}

/** A field whose name PHP would store elsewhere than its path: JustClick would hash another query and answer 4. */
function checkFieldNames(fields: readonly PhpQueryField[]): string | undefined {
  for (const { path, text } of fields) {
    const [[name = ''] = []] = new URLSearchParams(text);
    const stored = parsePhpFieldName(name);
    // A key with a lone surrogate is sent as U+FFFD: compare with what was actually sent.
    if (stored.length !== path.length || path.some((key, index) => key.toWellFormed() !== stored[index] || key === '')) {
      return (
        `the parameter ${JSON.stringify(name)} does not survive PHP's parsing unchanged (names with spaces, dots or brackets, ` +
        'or characters PHP rewrites), so JustClick would compute another hash and answer 4'
      );
    }
  }
  return undefined;
}

/** A client for the JustClick account `config` names (already checked by loadConfig). */
export function createJustClickClient(config: JustClickConfig, options: JustClickClientOptions = {}) {
  const { login, apiUrl } = config;
  const secret = config.secret.reveal();
  const ownsTransport = options.transport === undefined;
  const transport = options.transport ?? createHttpTransport();

  const observeCall = options.observeCall ?? unobserved;
  function exchange(method: string, params: PhpParams, idempotent: boolean, signal: AbortSignal | undefined) {
    return observeCall({ api: 'justclick', operation: method }, async () => {
      const url = new URL(`${apiUrl}/${method}`);
      let fields: PhpQueryField[];
      try {
        fields = phpQueryFields(params);
      } catch (error) {
        if (error instanceof TypeError) throw refuseJustClickInput(method, [error.message]);
        throw error;
      }
      const nameProblem = checkFieldNames(fields);
      if (nameProblem) throw refuseJustClickInput(method, [nameProblem]);
      const query = fields.map((field) => field.text).join('&');
      const hash = justClickQueryHash(query, login, secret);
      const body = query === '' ? `hash=${hash}` : `${query}&hash=${hash}`;
      const req = { api: 'justclick' as const, operation: method, url, idempotent };
      const response = await sendPost(transport, {
        ...req,
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        signal,
      });
      const answer = readJustClickAnswer(req, response, secret);
      const verdict = judgeJustClickAnswer(req, answer, response.status);
      return { answer, verdict, httpStatus: response.status, req };
    });
  }

  function validated(operation: string, check: (problems: string[]) => void): void {
    const found: string[] = [];
    check(found);
    if (found.length > 0) throw refuseJustClickInput(operation, found);
  }

  return {
    apiUrl,

    /** DeleteOrder: `deleted` (0) or `already-absent` (200 or 302). Idempotent. */
    async deleteOrder(billId: string, signal?: AbortSignal): Promise<{ status: 'deleted' | 'already-absent'; code: number; text: string }> {
      validated('DeleteOrder', (found) => checkBillId(found, billId));
      const { answer, verdict } = await exchange('DeleteOrder', [['bill_id', billId]], true, signal);
      return {
        status: verdict.kind === 'already-absent' ? 'already-absent' : 'deleted',
        code: answer.error_code,
        text: answer.error_text,
      };
    },

    /**
     * CreateOrder: the bill id, and `created: false` when 601 said it exists already (nothing was created).
     * Idempotent only with `billId`.
     */
    async createOrder(order: JustClickNewOrder, signal?: AbortSignal) {
      validated('CreateOrder', (found) => checkOrder(found, order));
      const { answer, verdict, req } = await exchange('CreateOrder', orderParams(order), order.billId !== undefined, signal);
      const returnedId = isRecord(answer.result) ? looseText(answer.result['bill_id']) : undefined;
      const billId = returnedId || order.billId;
      if (billId === undefined) {
        const detail = `answered ${answer.error_code} ${JSON.stringify(answer.error_text)} without result.bill_id`;
        if (verdict.kind === 'already-exists') {
          throw refuseJustClickInput('CreateOrder', [`JustClick ${detail}: it says the order exists but not which bill`]);
        }
        // Not idempotent without a bill id: resendable is false.
        throw mayHaveActed(req, 'MISSING_BILL_ID', `${detail}; an order was created but its bill id is unknown. ` +
          'Find it in the JustClick account (by email) before creating it again.');
      }
      return { billId, created: verdict.kind !== 'already-exists' };
    },

    async updateOrderStatus(billId: string, status: JustClickOrderStatus, details: JustClickStatusDetails = {}, signal?: AbortSignal) {
      validated('UpdateOrderStatus', (found) => {
        checkBillId(found, billId);
        if (!justClickOrderStatuses.includes(status)) {
          found.push(`status must be one of ${justClickOrderStatuses.join(', ')}, got ${JSON.stringify(status)}`);
        }
        if (details.date !== undefined || status === 'sent' || status === 'paid') {
          checkUnixSeconds(found, `date (required for ${status === 'sent' || status === 'paid' ? status : 'any status when given'})`, details.date);
        }
        if (status === 'sent' || details.trackingNumber !== undefined) {
          checkText(found, 'trackingNumber (rpo, required for sent)', details.trackingNumber, { required: true, max: 64 });
        }
      });
      const params: Array<[string, PhpValue]> = [['bill_id', billId], ['status', status]];
      if (details.date !== undefined) params.push(['date', details.date]);
      if (details.trackingNumber !== undefined) params.push(['rpo', details.trackingNumber]);
      const { answer } = await exchange('UpdateOrderStatus', params, true, signal);
      return { code: answer.error_code, text: answer.error_text };
    },

    /** GetOrderInfo `result`, read loosely: absent fields are null, and so are `price` and `bill_sum_topay` when not amounts. */
    async getOrderInfo(billId: string, signal?: AbortSignal) {
      validated('GetOrderInfo', (found) => checkBillId(found, billId));
      const { answer, req } = await exchange('GetOrderInfo', [['bill_id', billId]], true, signal);
      const fields = answer.result;
      if (!isRecord(fields)) {
        // Read-only: resendable.
        throw mayHaveActed(req, 'UNEXPECTED_ANSWER', `answered ${answer.error_code} without a result object; ` +
          'nothing can be read from it. Retry, or look at the order in the JustClick account.');
      }
      const texts = Object.entries(justClickOrderInfoTextFields).map(([key, name]) => [key, looseText(fields[name]) ?? null]);
      return {
        billId: looseText(fields['id']) ?? billId,
        ...(Object.fromEntries(texts) as Record<keyof typeof justClickOrderInfoTextFields, string | null>),
        price: looseCents(fields['price']),
        leftToPay: looseCents(fields['bill_sum_topay']),
        raw: fields as Readonly<Record<string, unknown>>,
      };
    },

    /** Any method, for the CLI: the verified answer for code 0; every other code is thrown (200/302/601 too). */
    async call(method: string, params: PhpParams, signal?: AbortSignal): Promise<JustClickAnswer> {
      validated(typeof method === 'string' ? method : 'call', (found) => {
        if (typeof method !== 'string' || !methodPattern.test(method)) {
          found.push(`method ${JSON.stringify(method)} must be a JustClick method name like DeleteOrder`);
        }
        if (typeof params !== 'object' || params === null) found.push('params must be an object or [name, value] pairs');
      });
      const lower = method.toLowerCase();
      const canonical = justClickMethods.find((name) => name.toLowerCase() === lower) ?? method;
      const hasBillId = Array.isArray(params)
        ? (params as ReadonlyArray<readonly [string, PhpValue]>).some(([name]) => name === 'bill_id')
        : 'bill_id' in params;
      const idempotent = idempotentMethods.has(lower) || (lower === 'createorder' && hasBillId);
      const { answer, verdict, httpStatus, req } = await exchange(canonical, params, idempotent, signal);
      if (verdict.kind !== 'ok') throw nonErrorAsRejection(req, answer, verdict, httpStatus);
      return answer;
    },

    async close() {
      if (ownsTransport) await transport.close();
    },
  };
}
