/**
 * The WebTV client against the in-process simulator (loopback, port 0): every action's
 * success with normalised types, every documented error of every action (real situations
 * where the simulator can produce them, fault injection otherwise), the general
 * authentication errors, inputs refused before any call, and secrets kept out of errors.
 */
import { Secret } from '../../src/config.ts';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { createHttpTransport } from '../../src/apis/http.ts';
import type { HttpTransport } from '../../src/apis/http.ts';
import { ApiCallError, ApiRejectedError, OutcomeUnknownError, RequestNotSentError } from '../../src/apis/outcome.ts';
import { createWebTvClient } from '../../src/apis/webtv/client.ts';
import type { WebTvClient, WebTvClientOptions } from '../../src/apis/webtv/client.ts';
import { InvalidWebTvInputError, webTvErrorTable } from '../../src/apis/webtv/errors.ts';
import type { WebTvAction } from '../../src/apis/webtv/types.ts';
import type { Cents } from '../../src/money.ts';
import { startWebTvSimulator } from '../../src/simulators/webtv/index.ts';
import type { WebTvSimulator } from '../../src/simulators/webtv/index.ts';

const keyId = randomBytes(16).toString('hex');
const sharedSecret = `secret-${randomBytes(24).toString('base64')}`;
const cents = (value: number): Cents => value as Cents;

let sim: WebTvSimulator;
let client: WebTvClient;
const extraClosers: Array<() => Promise<void>> = [];
/** Every error any test here saw: checked for secrets at the end. */
const seenErrors: unknown[] = [];

function newClient(overrides: Partial<{ apiUrl: string; keyId: string; sharedSecret: string } & WebTvClientOptions> = {}): WebTvClient {
  const { apiUrl = sim.apiUrl, keyId: givenKeyId = keyId, sharedSecret: givenSecret = sharedSecret, ...options } = overrides;
  const created = createWebTvClient({ apiUrl, keyId: givenKeyId, sharedSecret: new Secret(givenSecret) }, options);
  extraClosers.push(() => created.close());
  return created;
}

beforeEach(async () => {
  sim = await startWebTvSimulator({ credentials: [{ keyId, sharedSecret }], seed: 'demo' });
  client = newClient();
});

afterEach(async () => {
  while (extraClosers.length > 0) await extraClosers.pop()?.();
  await sim.close();
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    seenErrors.push(error);
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function rejection(promise: Promise<unknown>): Promise<ApiRejectedError> {
  const error = await failureOf(promise);
  expect(error).toBeInstanceOf(ApiRejectedError);
  return error as ApiRejectedError;
}

/** A transport whose requests pass through `rewritePath` first (a proxy that meddles). */
function meddlingTransport(rewritePath: (path: string) => string): HttpTransport {
  const base = createHttpTransport();
  const dispatcher = base.dispatcher.compose(
    (dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch =>
      (options, handler) =>
        dispatch({ ...options, path: rewritePath(options.path) }, handler),
  );
  return { dispatcher, maxResponseBytes: base.maxResponseBytes, totalMs: base.totalMs, close: () => base.close() };
}

async function placeOrderFor(userId: number, productIds: number[] = [1]): Promise<number> {
  for (const productId of productIds) await client.modifyCart(userId, { cartAction: 'add', productId });
  return (await client.placeOrder(userId)).orderId;
}

// ---- success, normalised ----------------------------------------------------------------

describe('every action succeeds with normalised types', () => {
  it('credit, cart, place, list, process: the whole life of an order', async () => {
    expect(await client.getCredit(1)).toEqual({ buyerCredit: 0, buyerCreditFormatted: '0.00€' });

    expect(await client.addSubtractCredit(1, { creditAction: 'add', amount: cents(1000), description: 'Coupon XJW5P redeem' })).toEqual({
      message: 'Credit action was performed',
    });
    expect(await client.addSubtractCredit(1, { creditAction: 'subtract', amount: cents(250) })).toEqual({ message: 'Credit action was performed' });
    expect(await client.getCredit(1)).toEqual({ buyerCredit: 750, buyerCreditFormatted: '7.50€' });
    expect(sim.calls.find((call) => call.operation === 'add_subtract_credit')?.fields).toEqual({
      creditAction: 'add',
      amount: '10.00',
      description: 'Coupon XJW5P redeem',
    });

    // Products 1 (5.50) and 2 (3.99) of the demo seed.
    expect(await client.modifyCart(1, { cartAction: 'add', productId: 1, productQty: 2 })).toEqual({ message: 'Cart action was performed' });
    await client.modifyCart(1, { cartAction: 'add', productId: 2 });
    await client.modifyCart(1, { cartAction: 'remove', productId: 1 });
    expect(await client.getCart(1)).toEqual({
      orderId: null,
      numProducts: 2,
      buyerCredit: 750,
      amountDue: 949,
      amountPaid: 0,
      hasCreditProduct: false,
      minPurchaseCheck: true,
      containsSubscription: false,
    });

    const placed = await client.placeOrder(1, { notifyBuyer: true, buyerIp: '203.0.113.9', buyerUserAgent: 'Mozilla/5.0 (test)' });
    expect(placed).toEqual({ message: 'Order was placed', orderId: 319 });
    expect(sim.calls.at(-1)?.fields).toEqual({ notify_buyer: '1', buyer_ip: '203.0.113.9', buyer_useragent: 'Mozilla/5.0 (test)' });
    expect(sim.state.currentOrder(1)).toMatchObject({ notifyBuyer: true, buyerIp: '203.0.113.9', buyerUserAgent: 'Mozilla/5.0 (test)' });

    // The credit paid what it could.
    expect(await client.getCart(1)).toMatchObject({ orderId: 319, numProducts: 2, buyerCredit: 0, amountDue: 199, amountPaid: 750 });
    const [current] = await client.listOrders(1);
    expect(current).toMatchObject({
      id: 319,
      orderNumber: 'ORD00319',
      currencyId: 5,
      invoiceUrl: '',
      status: 'current',
      statusCode: 0,
      paymentStatus: 'unpaid',
      paymentStatusCode: 0,
      paymentStatusText: 'Unpaid',
      total: 949,
      totalFormatted: '9.49€',
      totalPaid: 750,
      totalPaidFormatted: '7.50€',
    });
    expect(current?.dateFormatted).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    expect(Math.abs((current?.date ?? 0) - Date.now() / 1000)).toBeLessThan(3600);

    // The rest is paid elsewhere (a payment gateway), then the order is processed.
    sim.state.recordPayment(1, cents(199));
    expect(await client.processOrder(1)).toEqual({ message: 'Order was processed' });
    const [processed] = await client.listOrders(1);
    expect(processed).toMatchObject({ id: 319, status: 'processed', paymentStatus: 'paid', paymentStatusText: 'Paid', totalPaid: 949 });
    expect(processed?.invoiceUrl).toMatch(/^https:\/\/[^\\]+\/invoice\.php\?order=319$/);
    expect(sim.state.user(1)?.delivered).toEqual([1, 2]);
    expect(await client.getCart(1)).toMatchObject({ orderId: null, numProducts: 0, amountDue: 0 });
  });

  it('cancel_order (with requester) and list_orders, newest first', async () => {
    const first = await placeOrderFor(2, [3]);
    expect(await client.cancelOrder(2, { requester: 'ADMIN' })).toEqual({ message: 'The order was cancelled' });
    expect(sim.calls.at(-1)?.fields).toEqual({ requester: 'ADMIN' });
    const second = await placeOrderFor(2, [4]);
    expect(await client.cancelOrder(2)).toEqual({ message: 'The order was cancelled' });
    expect(sim.calls.at(-1)?.fields).toEqual({});
    const orders = await client.listOrders(2);
    expect(orders.map((order) => [order.id, order.status, order.paymentStatus, order.total])).toEqual([
      [second, 'cancelled', 'cancelled', 1250],
      [first, 'cancelled', 'cancelled', 2999],
    ]);
    expect(await client.listOrders(3)).toEqual([]);
  });

  it('modify_cart empty', async () => {
    await client.modifyCart(4, { cartAction: 'add', productId: 5, productQty: 3 });
    expect((await client.getCart(4)).numProducts).toBe(3);
    expect(await client.modifyCart(4, { cartAction: 'empty' })).toEqual({ message: 'Cart action was performed' });
    expect(sim.calls.at(-1)?.fields).toEqual({ cartAction: 'empty' });
    expect((await client.getCart(4)).numProducts).toBe(0);
  });

  it('call() returns the parsed success object of any action', async () => {
    await client.call('add_subtract_credit', 5, { creditAction: 'add', amount: '3' });
    expect(await client.call('get_credit', 5, {})).toEqual({ data: { buyer_credit: '3.00', buyer_credit_formatted: '3.00€' } });
    expect(await client.call('list_orders', 5, {})).toEqual({ list: [] });
  });

  it('sends urlencoded POST bodies, read-only actions marked idempotent through their error retryability', async () => {
    await client.addSubtractCredit(6, { creditAction: 'add', amount: cents(5) });
    expect(sim.calls.at(-1)?.fields).toEqual({ creditAction: 'add', amount: '0.05' });
    // An unknown answer is resendable for a read, not for a write.
    sim.addFault({ operation: '*', kind: 'broken-json', count: 2 });
    expect(await failureOf(client.getCredit(6))).toMatchObject({ outcome: 'unknown', resendable: true });
    expect(await failureOf(client.addSubtractCredit(6, { creditAction: 'add', amount: cents(5) }))).toMatchObject({ outcome: 'unknown', resendable: false });
  });

  describe('loose variants of the answers (served through an http-status 200 fault)', () => {
    const serve = (operation: WebTvAction, body: unknown): void => {
      sim.addFault({ operation, kind: 'http-status', status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    };

    it('get_credit with a number', async () => {
      serve('get_credit', { data: { buyer_credit: 3, buyer_credit_formatted: '3.00€' } });
      expect(await client.getCredit(1)).toEqual({ buyerCredit: 300, buyerCreditFormatted: '3.00€' });
    });

    it('list_orders with numbers', async () => {
      serve('list_orders', {
        list: [
          {
            date: 1506765778, date_formatted: '30/09/2017', id: 322, id_currency: 5, invoice_url: '', order_number: 'ORD00322',
            status: 1, status_payment: 1, status_payment_text: 'Paid', total: 5.5, total_formatted: '5.50€', total_paid: 5.5,
            total_paid_formatted: '5.50€',
          },
        ],
      });
      expect(await client.listOrders(1)).toEqual([
        expect.objectContaining({ id: 322, date: 1506765778, currencyId: 5, status: 'processed', statusCode: 1, total: 550, totalPaid: 550 }),
      ]);
    });

    it('get_cart with numbers and booleans', async () => {
      serve('get_cart', {
        data: {
          order_id: 319, order_num_products: 1, buyer_credit: 0, order_amount_due: 0, order_amount_paid: 5.5,
          order_has_credit_product: false, order_min_purchase_check: 1, order_contains_subscription: true,
        },
      });
      expect(await client.getCart(1)).toEqual({
        orderId: 319, numProducts: 1, buyerCredit: 0, amountDue: 0, amountPaid: 550,
        hasCreditProduct: false, minPurchaseCheck: true, containsSubscription: true,
      });
    });

    it('place_order with the id as a string', async () => {
      serve('place_order', { ok: 'Order was placed', id: '320' });
      expect(await client.placeOrder(1)).toEqual({ message: 'Order was placed', orderId: 320 });
    });

    it('a value that cannot be normalised → unknown UNEXPECTED_ANSWER naming the field', async () => {
      serve('get_credit', { data: { buyer_credit: 'lots', buyer_credit_formatted: 'lots' } });
      const error = await failureOf(client.getCredit(1));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(error).toMatchObject({ code: 'UNEXPECTED_ANSWER', resendable: true });
      expect((error as Error).message).toContain('data.buyer_credit');
    });

    it('an answer of no known shape → unknown UNEXPECTED_ANSWER', async () => {
      serve('cancel_order', { result: 'cancelled' });
      expect(await failureOf(client.cancelOrder(1))).toMatchObject({ outcome: 'unknown', code: 'UNEXPECTED_ANSWER', resendable: false });
    });
  });
});

// ---- every documented error ---------------------------------------------------------------

interface ErrorCase {
  action: WebTvAction;
  code: string;
  text: string;
  resendable: boolean;
  /** How the situation arises: `real` (the simulator's state) or `fault` (injected). */
  how: 'real' | 'fault';
  run: () => Promise<unknown>;
  /** Checks after the refusal: nothing changed. */
  after?: () => Promise<void> | void;
}

const errorCases: ErrorCase[] = [
  // cancel_order
  { action: 'cancel_order', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.cancelOrder(999) },
  { action: 'cancel_order', code: 'ERROR_NO_ORDER', text: 'There is no order to cancel', resendable: false, how: 'real', run: () => client.cancelOrder(1) },
  {
    action: 'cancel_order', code: 'ERROR', text: 'Error cancelling the order', resendable: true, how: 'fault',
    run: async () => {
      await placeOrderFor(1);
      sim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR' });
      return client.cancelOrder(1);
    },
    after: () => expect(sim.state.currentOrder(1)?.status).toBe(0),
  },
  // process_order
  { action: 'process_order', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.processOrder(999) },
  { action: 'process_order', code: 'ERROR_NO_ORDER', text: 'There is no order to process', resendable: false, how: 'real', run: () => client.processOrder(1) },
  {
    action: 'process_order', code: 'ERROR_AMOUNT_DUE', text: "Can't process the order because there is amount due", resendable: false, how: 'real',
    run: async () => {
      await placeOrderFor(1);
      return client.processOrder(1);
    },
    after: () => expect(sim.state.currentOrder(1)).toMatchObject({ status: 0, statusPayment: 0 }),
  },
  {
    action: 'process_order', code: 'ERROR_CURRENCY_MISMATCH',
    text: "Can't process the order because the order currency does not match the Store configuration currency", resendable: false, how: 'real',
    run: async () => {
      sim.state.setCredit(1, cents(10_000));
      await placeOrderFor(1);
      sim.state.storeCurrencyId = 1;
      return client.processOrder(1);
    },
    after: () => expect(sim.state.currentOrder(1)).toMatchObject({ status: 0, statusPayment: 0 }),
  },
  {
    action: 'process_order', code: 'ERROR_PROCESSING', text: 'Error while processing the order', resendable: true, how: 'fault',
    run: async () => {
      sim.state.setCredit(1, cents(10_000));
      await placeOrderFor(1);
      sim.addFault({ operation: 'process_order', kind: 'error', code: 'ERROR_PROCESSING' });
      return client.processOrder(1);
    },
    after: () => expect(sim.state.currentOrder(1)).toMatchObject({ status: 0, statusPayment: 0 }),
  },
  // list_orders
  { action: 'list_orders', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.listOrders(101) },
  // add_subtract_credit
  {
    action: 'add_subtract_credit', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real',
    run: () => client.addSubtractCredit(999, { creditAction: 'add', amount: cents(100) }),
  },
  {
    action: 'add_subtract_credit', code: 'REQUEST_ERROR', text: 'Invalid credit action', resendable: false, how: 'real',
    run: () => client.call('add_subtract_credit', 1, { creditAction: 'double', amount: '5.00' }),
    after: () => expect(sim.state.creditOf(1)).toBe(0),
  },
  {
    action: 'add_subtract_credit', code: 'REQUEST_ERROR', text: 'Invalid amount', resendable: false, how: 'real',
    run: () => client.call('add_subtract_credit', 1, { creditAction: 'add', amount: '0' }),
    after: () => expect(sim.state.creditOf(1)).toBe(0),
  },
  {
    action: 'add_subtract_credit', code: 'ERROR_CANT_SUBTRACT', text: "Can't subtract credit because the user does not have any available", resendable: false,
    how: 'real', run: () => client.addSubtractCredit(1, { creditAction: 'subtract', amount: cents(100) }),
    after: () => expect(sim.state.creditOf(1)).toBe(0),
  },
  // get_credit, get_cart
  { action: 'get_credit', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.getCredit(999) },
  { action: 'get_cart', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.getCart(999) },
  // modify_cart
  {
    action: 'modify_cart', code: 'REQUEST_ERROR', text: 'Invalid cart action', resendable: false, how: 'real',
    run: () => client.call('modify_cart', 1, { cartAction: 'shuffle' }),
  },
  {
    action: 'modify_cart', code: 'REQUEST_ERROR', text: 'Invalid or missing product ID', resendable: false, how: 'real',
    run: () => client.modifyCart(1, { cartAction: 'add', productId: 999 }),
    after: () => expect(sim.state.user(1)?.cart.size).toBe(0),
  },
  {
    action: 'modify_cart', code: 'REQUEST_ERROR', text: 'Invalid product quantity', resendable: false, how: 'real',
    run: () => client.call('modify_cart', 1, { cartAction: 'add', productID: '1', productQty: '0' }),
    after: () => expect(sim.state.user(1)?.cart.size).toBe(0),
  },
  {
    action: 'modify_cart', code: 'ERROR', text: 'User not found', resendable: false, how: 'real',
    run: () => client.modifyCart(999, { cartAction: 'add', productId: 1 }),
  },
  {
    action: 'modify_cart', code: 'CART_ACTION_ERROR', text: "The cart can't be modified while there is an order in progress", resendable: false, how: 'real',
    run: async () => {
      await placeOrderFor(1);
      return client.modifyCart(1, { cartAction: 'add', productId: 2 });
    },
    after: () => expect(sim.state.user(1)?.cart.size).toBe(0),
  },
  // place_order
  { action: 'place_order', code: 'REQUEST_ERROR', text: 'Invalid User ID', resendable: false, how: 'real', run: () => client.placeOrder(999) },
  {
    action: 'place_order', code: 'ERROR_ORDER_ALREADY_PLACED', text: 'There is already an order in progress', resendable: false, how: 'real',
    run: async () => {
      await placeOrderFor(1);
      return client.placeOrder(1);
    },
    after: () => expect(sim.state.user(1)?.orders).toHaveLength(1),
  },
  { action: 'place_order', code: 'ERROR_EMPTY_CART', text: 'The cart is empty', resendable: false, how: 'real', run: () => client.placeOrder(1) },
  {
    action: 'place_order', code: 'ERROR_MIN_PURCHASE', text: 'The order does not reach the minimum purchase amount', resendable: false, how: 'real',
    run: async () => {
      sim.state.minPurchase = cents(1000);
      await client.modifyCart(1, { cartAction: 'add', productId: 1 });
      expect((await client.getCart(1)).minPurchaseCheck).toBe(false);
      return client.placeOrder(1);
    },
    after: () => expect(sim.state.user(1)?.orders).toHaveLength(0),
  },
];

/** `action code | text` of every case that passed, to check the table is covered. */
const exercised = new Set<string>();

describe('every documented error of every action, through client and simulator', () => {
  it.each(errorCases.map((c) => [`${c.action}: ${c.code} | ${c.text} (${c.how})`, c] as const))('%s', async (_name, errorCase) => {
    const error = await rejection(errorCase.run());
    expect(error).toMatchObject({
      outcome: 'rejected',
      api: 'webtv',
      operation: errorCase.action,
      code: errorCase.code,
      vendorText: errorCase.text,
      resendable: errorCase.resendable,
      httpStatus: 200,
    });
    expect(error.message).toContain(`${errorCase.code} | ${errorCase.text} (${errorCase.resendable ? 'retryable' : 'final'}: `);
    expect(error.message).not.toContain('undocumented');
    await errorCase.after?.();
    for (const scope of [errorCase.action, 'every']) {
      exercised.add(`${scope} ${errorCase.code} ${errorCase.text}`);
      exercised.add(`${scope} ${errorCase.code} *`);
    }
  });
});

describe('general request errors', () => {
  it('Missing signature: a proxy that drops the signature', async () => {
    const stripping = newClient({ transport: meddlingTransport((path) => path.replace(/&signature=[^&]*/, '')) });
    const error = await rejection(stripping.getCredit(1));
    expect(error).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Missing signature', resendable: false });
    exercised.add('every REQUEST_ERROR Missing signature');
  });

  it('Invalid key: an unknown Key ID', async () => {
    const error = await rejection(newClient({ keyId: 'ffffffffffffffffffffffffffffffff' }).addSubtractCredit(1, { creditAction: 'add', amount: cents(100) }));
    expect(error).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Invalid key', resendable: false, accessProblem: true });
    expect(sim.state.creditOf(1)).toBe(0);
    exercised.add('every REQUEST_ERROR Invalid key');
  });

  it('Invalid signature: the wrong shared secret', async () => {
    const wrongSecret = `${sharedSecret}x`;
    const error = await rejection(newClient({ sharedSecret: wrongSecret }).cancelOrder(1));
    expect(error).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Invalid signature', resendable: false, accessProblem: true });
    expect(inspect(error, { depth: 10 })).not.toContain(wrongSecret);
    exercised.add('every REQUEST_ERROR Invalid signature');
  });

  it('Request expired: a clock behind or ahead by more than the expiry', async () => {
    const behind = await rejection(newClient({ now: () => Date.now() / 1000 - 301 - 5 }).getCart(1));
    expect(behind).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Request expired', resendable: true });
    expect(behind.message).toContain('clock');
    const ahead = await rejection(newClient({ now: () => Date.now() / 1000 + 3600 }).getCart(1));
    expect(ahead).toMatchObject({ vendorText: 'Request expired', resendable: true });
    // Within the window it is accepted.
    expect(await newClient({ now: () => Date.now() / 1000 - 200 }).getCart(1)).toMatchObject({ orderId: null });
    exercised.add('every REQUEST_ERROR Request expired');
  });

  it('Salt already used: a proxy that replays the first signed URL', async () => {
    let firstPath: string | undefined;
    const replaying = newClient({
      transport: meddlingTransport((path) => {
        firstPath ??= path;
        return firstPath;
      }),
    });
    expect(await replaying.getCredit(1)).toMatchObject({ buyerCredit: 0 });
    // A read: the refusal is a plain, resendable rejection.
    const readError = await rejection(replaying.getCredit(1));
    expect(readError).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Salt already used', resendable: true });
    exercised.add('every REQUEST_ERROR Salt already used');
  });

  it('Salt already used on a change: another copy reached the API, so the outcome is unknown', async () => {
    let firstPath: string | undefined;
    const replaying = newClient({
      transport: meddlingTransport((path) => {
        firstPath ??= path.replace('do=get_credit', 'do=add_subtract_credit');
        return path.includes('do=add_subtract_credit') ? firstPath : path;
      }),
    });
    expect(await replaying.addSubtractCredit(1, { creditAction: 'add', amount: cents(100) })).toEqual({ message: 'Credit action was performed' });
    const error = await failureOf(replaying.addSubtractCredit(1, { creditAction: 'add', amount: cents(100) }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ outcome: 'unknown', code: 'REQUEST_ERROR', vendorText: 'Salt already used', resendable: false });
    expect(sim.state.creditOf(1)).toBe(100);
  });

});

describe('a fresh signature on every call', () => {
  it('new salt per call, timestamp from the clock', async () => {
    const paths: string[] = [];
    let clock = Date.now() / 1000;
    const recording = newClient({
      transport: meddlingTransport((path) => {
        paths.push(path);
        return path;
      }),
      now: () => clock,
    });
    await recording.getCredit(1);
    clock += 7;
    await recording.getCredit(1);
    const queries = paths.map((path) => new URL(path, 'http://x.invalid').searchParams);
    expect(queries[0]?.get('salt')).not.toBe(queries[1]?.get('salt'));
    expect(Number(queries[1]?.get('timestamp')) - Number(queries[0]?.get('timestamp'))).toBe(7);
    expect(queries[0]?.get('key')).toBe(keyId);
  });
});

describe('bad input is refused before any call', () => {
  const badCalls: Array<[string, () => Promise<unknown>]> = [
    ['userId 0', () => client.getCredit(0)],
    ['userId -3', () => client.listOrders(-3)],
    ['userId 1.5', () => client.cancelOrder(1.5)],
    ['userId NaN', () => client.processOrder(Number.NaN)],
    ['userId as text', () => client.getCart('7' as unknown as number)],
    ['amount 0', () => client.addSubtractCredit(1, { creditAction: 'add', amount: cents(0) })],
    ['amount negative', () => client.addSubtractCredit(1, { creditAction: 'subtract', amount: cents(-500) })],
    ['amount not whole cents', () => client.addSubtractCredit(1, { creditAction: 'add', amount: cents(5.5) })],
    ['unknown creditAction', () => client.addSubtractCredit(1, { creditAction: 'double' as 'add', amount: cents(100) })],
    ['add to cart without productId', () => client.modifyCart(1, { cartAction: 'add' })],
    ['productQty 0', () => client.modifyCart(1, { cartAction: 'add', productId: 1, productQty: 0 })],
    ['unknown cartAction', () => client.modifyCart(1, { cartAction: 'shuffle' as 'add', productId: 1 })],
    ['unknown requester', () => client.cancelOrder(1, { requester: 'ROOT' as 'ADMIN' })],
    ['unknown action in call()', () => client.call('drop_tables' as WebTvAction, 1, {})],
    ['non-text field in call()', () => client.call('get_credit', 1, { n: 5 as unknown as string })],
  ];

  it.each(badCalls)('%s', async (_name, run) => {
    const error = await failureOf(run());
    expect(error).toBeInstanceOf(InvalidWebTvInputError);
    expect((error as Error).message).toContain('Nothing was sent');
    expect(sim.calls).toHaveLength(0);
  });

});

describe('transport outcomes through the client', () => {
  it('a closed port → not-sent, with no signature in the error', async () => {
    const closedSim = await startWebTvSimulator({ credentials: [{ keyId, sharedSecret }], seed: 'empty' });
    const apiUrl = closedSim.apiUrl;
    await closedSim.close();
    const error = await failureOf(newClient({ apiUrl }).addSubtractCredit(1, { creditAction: 'add', amount: cents(100) }));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error).toMatchObject({ resendable: true });
    const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`;
    expect(shown).not.toContain('signature=');
    expect(shown).not.toContain('salt=');
  });
});

describe('secrets', () => {
  it('the client shows no secret in toJSON, JSON or inspect', () => {
    expect(client.toJSON()).toEqual({ api: 'webtv', apiUrl: sim.apiUrl, keyId });
    expect(JSON.stringify(client)).not.toContain(sharedSecret);
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(sharedSecret);
  });

  it('no error seen in this file shows the secret or a signature', () => {
    expect(seenErrors.length).toBeGreaterThan(40);
    for (const error of seenErrors) {
      const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`;
      expect(shown).not.toContain(sharedSecret);
      expect(shown).not.toContain('signature=');
      if (error instanceof ApiCallError) expect(error.message).not.toContain('?go=');
    }
  });
});

describe('the error table', () => {
  // Runs last (tests run in order): every rule was produced by the simulator and interpreted by the client above.
  it('had every rule exercised by this file', () => {
    const rules = webTvErrorTable.flatMap((rule) =>
      (rule.actions === 'every' ? ['every'] : rule.actions).map((scope) => `${scope} ${rule.code} ${rule.text ?? '*'}`),
    );
    expect(rules.filter((rule) => !exercised.has(rule))).toEqual([]);
  });
});
