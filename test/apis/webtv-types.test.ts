/**
 * Normalisation of the WebTV API's loose JSON (src/apis/webtv/types.ts): numbers as
 * strings or numbers, amounts in any decimal form, booleans as 0/1/"0"/"1"/true/false,
 * and an `unknown` outcome naming the field when a value cannot be read.
 */
import { describe, expect, it } from 'vitest';
import { OutcomeUnknownError } from '../../src/apis/outcome.ts';
import {
  looseBoolean,
  looseCents,
  looseInteger,
  parseWebTvActionDone,
  parseWebTvCart,
  parseWebTvCredit,
  parseWebTvOrders,
  parseWebTvPlacedOrder,
} from '../../src/apis/webtv/types.ts';
import type { WebTvAction, WebTvCallContext, WebTvSuccessAnswer } from '../../src/apis/webtv/types.ts';

function context(action: WebTvAction, idempotent: boolean): WebTvCallContext {
  return { action, userId: 9, url: new URL('https://store.example/api.php'), idempotent };
}

function unknownError(fn: () => unknown): OutcomeUnknownError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    return error as OutcomeUnknownError;
  }
  throw new Error('expected an OutcomeUnknownError');
}

/** The documented list_orders example, as the vendor's page shows it. */
const documentedListOrders = JSON.parse(`{
  "list": [{
    "date": "1506765778", "date_formatted": "30\\/09\\/2017", "id": "322", "id_currency": "5", "invoice_url": "",
    "order_number": "ORD00322", "status": "1", "status_payment": "1", "status_payment_text": "Paid",
    "total": "5.50", "total_formatted": "5.50\\u20ac", "total_paid": "5.50", "total_paid_formatted": "5.50\\u20ac"
  }]
}`) as WebTvSuccessAnswer;

describe('loose readers', () => {
  it.each([
    ['322', 322],
    [322, 322],
    [' 7 ', 7],
    ['0', 0],
  ])('looseInteger(%j) = %j', (input, expected) => expect(looseInteger(input)).toBe(expected));

  it.each([['-1'], [-1], ['3.5'], [3.5], ['1e3'], [''], [null], [true], ['0x10'], ['99999999999999999999']])('looseInteger(%j) refuses', (input) =>
    expect(looseInteger(input)).toBeUndefined());

  it.each([
    ['5.50', 550],
    ['5.5', 550],
    ['5', 500],
    [5.5, 550],
    [5, 500],
    ['0.00', 0],
    ['5.5000', 550],
    ['1234.56', 123456],
    [0.1, 10],
  ])('looseCents(%j) = %j cents', (input, expected) => expect(looseCents(input)).toBe(expected));

  it.each([['abc'], ['5.555'], ['-5.00'], [-1], ['1,50'], [null], [undefined], [{}], ['5.5001']])('looseCents(%j) refuses', (input) =>
    expect(looseCents(input)).toBeUndefined());

  it.each([
    ['1', true],
    [1, true],
    [true, true],
    ['0', false],
    [0, false],
    [false, false],
    ['', false],
  ])('looseBoolean(%j) = %j', (input, expected) => expect(looseBoolean(input)).toBe(expected));

  it.each([['yes'], [2], ['2'], [null]])('looseBoolean(%j) refuses', (input) => expect(looseBoolean(input)).toBeUndefined());
});

describe('parseWebTvOrders', () => {
  it('normalises the documented example', () => {
    expect(parseWebTvOrders(documentedListOrders, context('list_orders', true))).toEqual([
      {
        id: 322,
        orderNumber: 'ORD00322',
        date: 1506765778,
        dateFormatted: '30/09/2017',
        currencyId: 5,
        invoiceUrl: '',
        status: 'processed',
        statusCode: 1,
        paymentStatus: 'paid',
        paymentStatusCode: 1,
        paymentStatusText: 'Paid',
        total: 550,
        totalFormatted: '5.50€',
        totalPaid: 550,
        totalPaidFormatted: '5.50€',
      },
    ]);
  });

  it('accepts the same order with JSON numbers, a null invoice and the _t field name', () => {
    const [order] = parseWebTvOrders(
      {
        list: [
          {
            date: 1506765778, date_formatted: '30/09/2017', id: 322, id_currency: 5, invoice_url: null, order_number: 'ORD00322',
            status: 0, status_payment: 2, status_payment_text: 'Cancelled', total: 5.5, total_formatted: '5.50€', total_paid: 0,
            total_paid_formatted_t: '0.00€',
          },
        ],
      },
      context('list_orders', true),
    );
    expect(order).toMatchObject({ id: 322, status: 'current', statusCode: 0, paymentStatus: 'cancelled', paymentStatusCode: 2, total: 550, totalPaid: 0, invoiceUrl: '', totalPaidFormatted: '0.00€' });
  });

  it('accepts an empty list', () => {
    expect(parseWebTvOrders({ list: [] }, context('list_orders', true))).toEqual([]);
  });

  it('names the field it cannot read', () => {
    const bad = structuredClone(documentedListOrders) as { list: Array<Record<string, unknown>> };
    bad.list[0]!['status'] = '7';
    const error = unknownError(() => parseWebTvOrders(bad, context('list_orders', true)));
    expect(error).toMatchObject({ code: 'UNEXPECTED_ANSWER', resendable: true, operation: 'list_orders' });
    expect(error.message).toContain('list[0].status');
    expect(error.message).toContain('"7"');

    bad.list[0]!['status'] = '1';
    bad.list[0]!['total'] = 'five';
    expect(unknownError(() => parseWebTvOrders(bad, context('list_orders', true))).message).toContain('list[0].total');

    delete bad.list[0]!['total'];
    expect(unknownError(() => parseWebTvOrders(bad, context('list_orders', true))).message).toMatch(/list\[0\]\.total is missing/);

    expect(unknownError(() => parseWebTvOrders({ list: { id: 1 } }, context('list_orders', true))).message).toContain('field list');
    expect(unknownError(() => parseWebTvOrders({ list: ['x'] }, context('list_orders', true))).message).toContain('list[0]');
  });
});

describe('parseWebTvCredit', () => {
  it.each([
    [{ buyer_credit: '3.00', buyer_credit_formatted: '3.00€' }],
    [{ buyer_credit: 3, buyer_credit_formatted: '3.00€' }],
    [{ buyer_credit: '3', buyer_credit_formatted: '3.00€' }],
    [{ buyer_credit: 3.0, buyer_credit_formatted: '3.00€' }],
  ])('reads %j as 300 cents', (data) => {
    expect(parseWebTvCredit({ data }, context('get_credit', true))).toEqual({ buyerCredit: 300, buyerCreditFormatted: '3.00€' });
  });

  it('refuses a credit it cannot read, naming data.buyer_credit', () => {
    const error = unknownError(() => parseWebTvCredit({ data: { buyer_credit: 'n/a' } }, context('get_credit', true)));
    expect(error.message).toContain('data.buyer_credit');
    expect(unknownError(() => parseWebTvCredit({ data: [] }, context('get_credit', true))).message).toContain('field data');
  });
});

describe('parseWebTvCart', () => {
  const cartAsStrings = {
    order_id: '319', order_num_products: '2', buyer_credit: '0.00', order_amount_due: '5.50', order_amount_paid: '4.50',
    order_has_credit_product: '0', order_min_purchase_check: '1', order_contains_subscription: '0',
  };
  const expected = {
    orderId: 319, numProducts: 2, buyerCredit: 0, amountDue: 550, amountPaid: 450,
    hasCreditProduct: false, minPurchaseCheck: true, containsSubscription: false,
  };

  it('reads strings', () => expect(parseWebTvCart({ data: cartAsStrings }, context('get_cart', true))).toEqual(expected));

  it('reads numbers and booleans', () => {
    const data = {
      order_id: 319, order_num_products: 2, buyer_credit: 0, order_amount_due: 5.5, order_amount_paid: 4.5,
      order_has_credit_product: false, order_min_purchase_check: true, order_contains_subscription: 0,
    };
    expect(parseWebTvCart({ data }, context('get_cart', true))).toEqual(expected);
  });

  it.each([[null], [''], ['0'], [0], [undefined]])('reads order_id %j as no order (a cart)', (orderId) => {
    expect(parseWebTvCart({ data: { ...cartAsStrings, order_id: orderId } }, context('get_cart', true)).orderId).toBeNull();
  });

  it('names a flag it cannot read', () => {
    expect(unknownError(() => parseWebTvCart({ data: { ...cartAsStrings, order_contains_subscription: 'maybe' } }, context('get_cart', true))).message).toContain(
      'data.order_contains_subscription',
    );
  });
});

describe('ok answers', () => {
  it('reads the message', () => {
    expect(parseWebTvActionDone({ ok: 'The order was cancelled' }, context('cancel_order', false))).toEqual({ message: 'The order was cancelled' });
  });

  it.each([[{ ok: 'Order was placed', id: 319 }], [{ ok: 'Order was placed', id: '319' }]])('reads place_order %j', (answer) => {
    expect(parseWebTvPlacedOrder(answer, context('place_order', false))).toEqual({ message: 'Order was placed', orderId: 319 });
  });

  it('place_order without a usable id: unknown and not resendable (the order may exist)', () => {
    const error = unknownError(() => parseWebTvPlacedOrder({ ok: 'Order was placed' }, context('place_order', false)));
    expect(error).toMatchObject({ code: 'UNEXPECTED_ANSWER', resendable: false });
    expect(error.message).toContain('field id is missing');
    expect(error.message).toContain('reconcile');
  });

  it('a data answer where ok is expected is unexpected', () => {
    expect(unknownError(() => parseWebTvActionDone({ data: {} }, context('process_order', false))).message).toContain('field ok is missing');
  });
});
