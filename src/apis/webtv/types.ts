/**
 * WebTV store API: normalised result types and their parsers (docs/vendor-apis.md, WebTV).
 * The API's numbers arrive as strings or numbers; a value that cannot be normalised is an
 * `unknown` outcome (`UNEXPECTED_ANSWER`) naming the field.
 */
import { InvalidAmountError, centsFromLooseAmount } from '../../money.ts';
import type { Cents } from '../../money.ts';
import type { WebTvCallContext, WebTvSuccessAnswer } from './actions.ts';
import { isRecord, looseText } from '../http.ts';
import { unexpectedWebTvAnswer } from './errors.ts';

export { isReadOnlyWebTvAction, isWebTvAction, webTvActions } from './actions.ts';
export type { WebTvAction, WebTvCallContext, WebTvSuccessAnswer } from './actions.ts';

/** Order and payment statuses by their code (0, 1, 2). A current order is status 0. */
const orderStatusByCode = ['current', 'processed', 'cancelled'] as const;
const paymentStatusByCode = ['unpaid', 'paid', 'cancelled'] as const;
type StatusCode = 0 | 1 | 2;

/** `ok` answers of cancel_order, process_order, add_subtract_credit, modify_cart. */
export type WebTvActionDone = ReturnType<typeof parseWebTvActionDone>;
export type WebTvPlacedOrder = ReturnType<typeof parseWebTvPlacedOrder>;
/** One order of `list_orders`. */
export type WebTvOrder = ReturnType<typeof parseWebTvOrder>;
export type WebTvCredit = ReturnType<typeof parseWebTvCredit>;
/** get_cart: the cart, or the current order once placed. */
export type WebTvCart = ReturnType<typeof parseWebTvCart>;

type FieldReader<T> = (value: unknown) => T | undefined;

/** A reader of the fields of `record` (found at `path`): a field it cannot read is an `unknown` outcome naming it. */
function fieldsOf(context: WebTvCallContext, record: Readonly<Record<string, unknown>>, path = '') {
  return <T>(field: string, reader: FieldReader<T>, expected: string): T => {
    const value = record[field];
    const result = reader(value);
    if (result === undefined) {
      const shown = value === undefined ? 'is missing' : `is ${describeValue(value)}`;
      throw unexpectedWebTvAnswer(context, `field ${path}${field} ${shown}, expected ${expected}`);
    }
    return result;
  };
}

function describeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) return typeof value;
  return json.length > 60 ? `${json.slice(0, 60)}…` : json;
}

const integerText = /^\s*(0|[1-9]\d*)\s*$/;

/** 322 or "322": a whole, non-negative number. */
export function looseInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && integerText.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** "5.50", 5.5 or "5.5000" (as a DECIMAL(10,4) column prints) as cents; no amount the store reports is negative. */
export function looseCents(value: unknown): Cents | undefined {
  const normalised = typeof value === 'string' ? value.trim().replace(/^(\d+\.\d{2})0+$/, '$1') : value;
  try {
    const cents = centsFromLooseAmount(normalised);
    return cents >= 0 ? cents : undefined;
  } catch (error) {
    if (error instanceof InvalidAmountError) return undefined;
    throw error;
  }
}

/** true/false, 1/0, "1"/"0", and "" as false (PHP's string form of false). */
export function looseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === '1') return true;
  if (value === 0 || value === '0' || value === '') return false;
  return undefined;
}

/** Text that may be absent or null (an order without invoice): absent becomes "". */
function optionalText(value: unknown): string | undefined {
  if (value === undefined || value === null) return '';
  return looseText(value);
}

/** An order id that is absent for a cart: null, "", 0, "0" become null. */
function optionalId(value: unknown): number | null | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return null;
  const id = looseInteger(value);
  return id === undefined ? undefined : id;
}

function statusCode(value: unknown): StatusCode | undefined {
  const code = looseInteger(value);
  return code === 0 || code === 1 || code === 2 ? code : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  const id = looseInteger(value);
  return id !== undefined && id > 0 ? id : undefined;
}

export function parseWebTvActionDone(answer: WebTvSuccessAnswer, context: WebTvCallContext) {
  return { message: fieldsOf(context, answer)('ok', looseText, 'a confirmation message ("ok")') };
}

/** place_order: `{"ok":"Order was placed","id":319}`; without a usable id the outcome is unknown. */
export function parseWebTvPlacedOrder(answer: WebTvSuccessAnswer, context: WebTvCallContext) {
  const read = fieldsOf(context, answer);
  return {
    message: read('ok', looseText, 'a confirmation message ("ok")'),
    orderId: read('id', positiveInteger, 'the new order id, a whole number above 0'),
  };
}

function parseWebTvOrder(order: unknown, context: WebTvCallContext, path: string) {
  if (!isRecord(order)) throw unexpectedWebTvAnswer(context, `${path} is ${describeValue(order)}, expected an order object`);
  const read = fieldsOf(context, order, `${path}.`);
  const amount = 'an amount such as "5.50"';
  const statusValue = read('status', statusCode, '0, 1 or 2');
  const paymentValue = read('status_payment', statusCode, '0, 1 or 2');
  return {
    id: read('id', positiveInteger, 'an order id, a whole number above 0'),
    orderNumber: read('order_number', looseText, 'text'),
    /** Unix seconds. */
    date: read('date', looseInteger, 'Unix seconds'),
    dateFormatted: read('date_formatted', optionalText, 'text'),
    currencyId: read('id_currency', looseInteger, 'a currency id'),
    /** Empty when the order has no invoice. */
    invoiceUrl: read('invoice_url', optionalText, 'text'),
    status: orderStatusByCode[statusValue],
    statusCode: statusValue,
    paymentStatus: paymentStatusByCode[paymentValue],
    paymentStatusCode: paymentValue,
    paymentStatusText: read('status_payment_text', optionalText, 'text'),
    total: read('total', looseCents, amount),
    totalFormatted: read('total_formatted', optionalText, 'text'),
    totalPaid: read('total_paid', looseCents, amount),
    /** From `total_paid_formatted` (the example) or `total_paid_formatted_t` (the field list). */
    totalPaidFormatted: read('total_paid_formatted' in order ? 'total_paid_formatted' : 'total_paid_formatted_t', optionalText, 'text'),
  };
}

export function parseWebTvOrders(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvOrder[] {
  const asList = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);
  const list = fieldsOf(context, answer)('list', asList, 'an array of orders');
  return list.map((order: unknown, index) => parseWebTvOrder(order, context, `list[${index}]`));
}

/** The fields of `data`, as a reader. */
function dataOf(answer: WebTvSuccessAnswer, context: WebTvCallContext) {
  return fieldsOf(context, fieldsOf(context, answer)('data', (value) => (isRecord(value) ? value : undefined), 'an object'), 'data.');
}

export function parseWebTvCredit(answer: WebTvSuccessAnswer, context: WebTvCallContext) {
  const read = dataOf(answer, context);
  return {
    buyerCredit: read('buyer_credit', looseCents, 'an amount such as "3.00"'),
    buyerCreditFormatted: read('buyer_credit_formatted', optionalText, 'text'),
  };
}

export function parseWebTvCart(answer: WebTvSuccessAnswer, context: WebTvCallContext) {
  const read = dataOf(answer, context);
  const amount = 'an amount such as "5.50"';
  const flag = '0, 1, true or false';
  return {
    /** The current order's id; null while it is still a cart (no order placed). */
    orderId: read('order_id', optionalId, 'an order id or nothing'),
    numProducts: read('order_num_products', looseInteger, 'a whole number'),
    buyerCredit: read('buyer_credit', looseCents, amount),
    amountDue: read('order_amount_due', looseCents, amount),
    amountPaid: read('order_amount_paid', looseCents, amount),
    hasCreditProduct: read('order_has_credit_product', looseBoolean, flag),
    minPurchaseCheck: read('order_min_purchase_check', looseBoolean, flag),
    containsSubscription: read('order_contains_subscription', looseBoolean, flag),
  };
}
