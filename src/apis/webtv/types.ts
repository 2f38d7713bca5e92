/**
 * WebTV store API: normalised result types and their parsers (docs/vendor-apis.md, WebTV).
 * The API's numbers arrive as strings or numbers; a value that cannot be normalised is an
 * `unknown` outcome (`UNEXPECTED_ANSWER`) naming the field.
 */
import { InvalidAmountError, centsFromLooseAmount } from '../../money.ts';
import type { Cents } from '../../money.ts';
import type { WebTvCallContext, WebTvSuccessAnswer } from './actions.ts';
import { isRecord, unexpectedWebTvAnswer } from './errors.ts';

export { isReadOnlyWebTvAction, isWebTvAction, webTvActions, webTvReadOnlyActions } from './actions.ts';
export type { WebTvAction, WebTvCallContext, WebTvSuccessAnswer } from './actions.ts';

/** `ok` answers of cancel_order, process_order, add_subtract_credit, modify_cart. */
export interface WebTvActionDone {
  message: string;
}

/** place_order: `{"ok":"Order was placed","id":319}`. */
export interface WebTvPlacedOrder {
  message: string;
  orderId: number;
}

/** Order and payment statuses by their code (0, 1, 2). A current order is status 0. */
const orderStatusByCode = ['current', 'processed', 'cancelled'] as const;
const paymentStatusByCode = ['unpaid', 'paid', 'cancelled'] as const;
export type WebTvStatusCode = 0 | 1 | 2;

/** One order of `list_orders`. */
export interface WebTvOrder {
  id: number;
  orderNumber: string;
  /** Unix seconds. */
  date: number;
  dateFormatted: string;
  currencyId: number;
  /** Empty when the order has no invoice. */
  invoiceUrl: string;
  status: (typeof orderStatusByCode)[WebTvStatusCode];
  statusCode: WebTvStatusCode;
  paymentStatus: (typeof paymentStatusByCode)[WebTvStatusCode];
  paymentStatusCode: WebTvStatusCode;
  paymentStatusText: string;
  total: Cents;
  totalFormatted: string;
  totalPaid: Cents;
  /** From `total_paid_formatted` (the example) or `total_paid_formatted_t` (the field list). */
  totalPaidFormatted: string;
}

export interface WebTvCredit {
  buyerCredit: Cents;
  buyerCreditFormatted: string;
}

/** get_cart: the cart, or the current order once placed. */
export interface WebTvCart {
  /** The current order's id; null while it is still a cart (no order placed). */
  orderId: number | null;
  numProducts: number;
  buyerCredit: Cents;
  amountDue: Cents;
  amountPaid: Cents;
  hasCreditProduct: boolean;
  minPurchaseCheck: boolean;
  containsSubscription: boolean;
}

type FieldReader<T> = (value: unknown) => T | undefined;

function readField<T>(context: WebTvCallContext, record: Readonly<Record<string, unknown>>, field: string, path: string, reader: FieldReader<T>, expected: string): T {
  const value = record[field];
  const result = reader(value);
  if (result === undefined) {
    const shown = value === undefined ? 'is missing' : `is ${describeValue(value)}`;
    throw unexpectedWebTvAnswer(context, `field ${path}${field} ${shown}, expected ${expected}`);
  }
  return result;
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

/** Text as received; a number (a formatted value that happens to be numeric) becomes text. */
function looseText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
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

function statusCode(value: unknown): WebTvStatusCode | undefined {
  const code = looseInteger(value);
  return code === 0 || code === 1 || code === 2 ? code : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  const id = looseInteger(value);
  return id !== undefined && id > 0 ? id : undefined;
}

export function parseWebTvActionDone(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvActionDone {
  return { message: readField(context, answer, 'ok', '', looseText, 'a confirmation message ("ok")') };
}

/** place_order: `{"ok":"Order was placed","id":319}`; without a usable id the outcome is unknown. */
export function parseWebTvPlacedOrder(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvPlacedOrder {
  return {
    message: readField(context, answer, 'ok', '', looseText, 'a confirmation message ("ok")'),
    orderId: readField(context, answer, 'id', '', positiveInteger, 'the new order id, a whole number above 0'),
  };
}

export function parseWebTvOrder(order: unknown, context: WebTvCallContext, path: string): WebTvOrder {
  if (!isRecord(order)) throw unexpectedWebTvAnswer(context, `${path} is ${describeValue(order)}, expected an order object`);
  const prefix = `${path}.`;
  const statusValue = readField(context, order, 'status', prefix, statusCode, '0, 1 or 2');
  const paymentValue = readField(context, order, 'status_payment', prefix, statusCode, '0, 1 or 2');
  const paidFormattedField = 'total_paid_formatted' in order ? 'total_paid_formatted' : 'total_paid_formatted_t';
  return {
    id: readField(context, order, 'id', prefix, positiveInteger, 'an order id, a whole number above 0'),
    orderNumber: readField(context, order, 'order_number', prefix, looseText, 'text'),
    date: readField(context, order, 'date', prefix, looseInteger, 'Unix seconds'),
    dateFormatted: readField(context, order, 'date_formatted', prefix, optionalText, 'text'),
    currencyId: readField(context, order, 'id_currency', prefix, looseInteger, 'a currency id'),
    invoiceUrl: readField(context, order, 'invoice_url', prefix, optionalText, 'text'),
    status: orderStatusByCode[statusValue],
    statusCode: statusValue,
    paymentStatus: paymentStatusByCode[paymentValue],
    paymentStatusCode: paymentValue,
    paymentStatusText: readField(context, order, 'status_payment_text', prefix, optionalText, 'text'),
    total: readField(context, order, 'total', prefix, looseCents, 'an amount such as "5.50"'),
    totalFormatted: readField(context, order, 'total_formatted', prefix, optionalText, 'text'),
    totalPaid: readField(context, order, 'total_paid', prefix, looseCents, 'an amount such as "5.50"'),
    totalPaidFormatted: readField(context, order, paidFormattedField, prefix, optionalText, 'text'),
  };
}

export function parseWebTvOrders(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvOrder[] {
  const asList = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);
  const list = readField(context, answer, 'list', '', asList, 'an array of orders');
  return list.map((order: unknown, index) => parseWebTvOrder(order, context, `list[${index}]`));
}

function dataOf(answer: WebTvSuccessAnswer, context: WebTvCallContext): Readonly<Record<string, unknown>> {
  return readField(context, answer, 'data', '', (value) => (isRecord(value) ? value : undefined), 'an object');
}

export function parseWebTvCredit(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvCredit {
  const data = dataOf(answer, context);
  return {
    buyerCredit: readField(context, data, 'buyer_credit', 'data.', looseCents, 'an amount such as "3.00"'),
    buyerCreditFormatted: readField(context, data, 'buyer_credit_formatted', 'data.', optionalText, 'text'),
  };
}

export function parseWebTvCart(answer: WebTvSuccessAnswer, context: WebTvCallContext): WebTvCart {
  const data = dataOf(answer, context);
  const read = <T>(field: string, reader: FieldReader<T>, expected: string): T => readField(context, data, field, 'data.', reader, expected);
  const amount = 'an amount such as "5.50"';
  const flag = '0, 1, true or false';
  return {
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
