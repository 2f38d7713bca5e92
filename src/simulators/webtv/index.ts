/** The WebTV store API simulator (docs/vendor-apis.md, WebTV, which marks what it assumes) on the harness, with the store of ./state.ts. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isWebTvAction, webTvActions } from '../../apis/webtv/actions.ts';
import type { WebTvAction } from '../../apis/webtv/actions.ts';
import { webTvErrorTable } from '../../apis/webtv/errors.ts';
import { InvalidAmountError, formatCents, parseDecimalAmount } from '../../money.ts';
import type { Cents } from '../../money.ts';
import { phpJsonAnswer, phpNotFound, startSimulatorServer } from '../harness.ts';
import type { ErrorFault, ListenOptions, SimAnswer, SimRequest, SimulatedApi, SimulatorHandle } from '../harness.ts';
import { WebTvSimState, currentOrderOf, formatMoney, orderNumber, seedDemo } from './state.ts';
import type { WebTvSimOrder, WebTvSimUser } from './state.ts';

export { phpJsonEncode } from '../harness.ts';

export interface WebTvSimulatorOptions extends ListenOptions {
  credentials: Array<{ keyId: string; sharedSecret: string }>;
  /** The credential's "requests expiration time" (default 300 s): older or future timestamps are refused. */
  requestExpirySeconds?: number;
  /** `demo` (default): users 1–100 without credit, products 1–5 in EUR. `empty`: nothing. */
  seed?: 'demo' | 'empty';
  now?: () => number;
  /** The id of the first order placed (default 319, the documented example's); ids go up from it. */
  firstOrderId?: number;
}

export interface WebTvSimulator extends SimulatorHandle {
  /** origin + `/api.php` */
  readonly apiUrl: string;
  readonly state: WebTvSimState;
}

export class InvalidWebTvSimulatorOptionsError extends Error {
  override readonly name = 'InvalidWebTvSimulatorOptionsError';
}

function checkOptions(options: WebTvSimulatorOptions): void {
  const problems: string[] = [];
  if (!Array.isArray(options.credentials) || options.credentials.length === 0) {
    problems.push('credentials must list at least one { keyId, sharedSecret }');
  } else {
    const keyIds = new Set<string>();
    options.credentials.forEach((credential, index) => {
      if (typeof credential.keyId !== 'string' || credential.keyId === '') problems.push(`credentials[${index}].keyId is empty`);
      if (typeof credential.sharedSecret !== 'string' || credential.sharedSecret === '') problems.push(`credentials[${index}].sharedSecret is empty`);
      if (keyIds.has(credential.keyId)) problems.push(`credentials[${index}].keyId is listed twice`);
      keyIds.add(credential.keyId);
    });
  }
  const expiry = options.requestExpirySeconds;
  if (expiry !== undefined && (!Number.isSafeInteger(expiry) || expiry < 1)) {
    problems.push(`requestExpirySeconds must be a whole number of seconds from 1 up; got ${String(expiry)}`);
  }
  if (options.seed !== undefined && options.seed !== 'demo' && options.seed !== 'empty') {
    problems.push(`seed must be "demo" or "empty"; got ${JSON.stringify(options.seed)}`);
  }
  if (problems.length > 0) throw new InvalidWebTvSimulatorOptionsError(`WebTV simulator: ${problems.join('; ')}`);
}

export async function startWebTvSimulator(options: WebTvSimulatorOptions): Promise<WebTvSimulator> {
  checkOptions(options);
  const state = new WebTvSimState(options.now, options.firstOrderId);
  if ((options.seed ?? 'demo') === 'demo') seedDemo(state);
  const api = webTvApi(options.credentials, options.requestExpirySeconds ?? 300, state);
  const handle = await startSimulatorServer(api, { host: options.host, port: options.port, redactFields: ['signature', 'key', 'salt'] });
  return Object.freeze({ ...handle, apiUrl: `${handle.origin}/api.php`, state });
}

/** Texts the documentation leaves unnamed; chosen here, assumed. */
const assumedErrorTexts = Object.freeze({
  ERROR_ORDER_ALREADY_PLACED: 'There is already an order in progress',
  ERROR_EMPTY_CART: 'The cart is empty',
  ERROR_MIN_PURCHASE: 'The order does not reach the minimum purchase amount',
  CART_ACTION_ERROR: "The cart can't be modified while there is an order in progress",
});

/** The documented `error_long` of an action's own (not REQUEST_ERROR) code, for `error` faults without `text`. */
function faultText(action: string | null, code: string): string | undefined {
  if (code === 'REQUEST_ERROR' || !isWebTvAction(action)) return undefined;
  const rule = webTvErrorTable.find((entry) => entry.code === code && entry.actions !== 'every' && entry.actions.includes(action));
  return rule === undefined ? undefined : (rule.text ?? assumedErrorTexts[code as keyof typeof assumedErrorTexts]);
}

function failure(code: string, text: string): SimAnswer {
  return phpJsonAnswer({ error: code, error_long: text });
}

const requestError = (text: string): SimAnswer => failure('REQUEST_ERROR', text);

const notFound = phpNotFound('The WebTV API is at /api.php.');

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

const paymentTexts = ['Unpaid', 'Paid', 'Cancelled'] as const;

function webTvApi(credentials: WebTvSimulatorOptions['credentials'], expiry: number, state: WebTvSimState): SimulatedApi {
  const secrets = new Map(credentials.map((credential) => [credential.keyId, credential.sharedSecret]));
  /** `<key> <salt>` → the time after which the salt's request could not be accepted anyway. */
  const seenSalts = new Map<string, number>();

  function authenticate(query: URLSearchParams): SimAnswer | undefined {
    const signature = query.get('signature');
    const key = query.get('key');
    const salt = query.get('salt');
    const timestamp = query.get('timestamp');
    if (!signature || !key || !salt || !timestamp) return requestError('Missing signature');
    const secret = secrets.get(key);
    if (secret === undefined) return requestError('Invalid key');
    // Computed here from the documented formula, independently of the client's signing.ts.
    const expected = Buffer.from(createHmac('sha256', secret).update(salt + timestamp).digest('base64'));
    const received = Buffer.from(signature);
    if (expected.length !== received.length || !timingSafeEqual(expected, received)) return requestError('Invalid signature');
    const now = state.currentTime();
    const sentAt = wholeNumber(timestamp);
    if (sentAt === undefined || Math.abs(now - sentAt) > expiry) return requestError('Request expired');
    for (const [seen, forgetAt] of seenSalts) if (forgetAt < now) seenSalts.delete(seen);
    const saltKey = `${key} ${salt}`;
    if (seenSalts.has(saltKey)) return requestError('Salt already used');
    seenSalts.set(saltKey, sentAt + expiry);
    return undefined;
  }

  function orderJson(order: WebTvSimOrder): Record<string, string> {
    return {
      date: String(order.date),
      date_formatted: new Date(order.date * 1000).toLocaleDateString('en-GB', { timeZone: 'UTC' }), // dd/mm/yyyy
      id: String(order.id),
      id_currency: String(order.currencyId),
      invoice_url: order.invoiceUrl,
      order_number: orderNumber(order.id),
      status: String(order.status),
      status_payment: String(order.statusPayment),
      status_payment_text: paymentTexts[order.statusPayment],
      total: formatCents(order.total),
      total_formatted: formatMoney(order.total, order.currencyId),
      total_paid: formatCents(order.paid),
      total_paid_formatted: formatMoney(order.paid, order.currencyId),
    };
  }

  const flag = (value: boolean): string => (value ? '1' : '0');

  const actions: Record<WebTvAction, (user: WebTvSimUser, fields: Map<string, string>) => SimAnswer> = {
    cancel_order(user) {
      const order = currentOrderOf(user);
      if (!order) return failure('ERROR_NO_ORDER', 'There is no order to cancel');
      order.status = 2;
      order.statusPayment = 2;
      return phpJsonAnswer({ ok: 'The order was cancelled' });
    },

    process_order(user) {
      const order = currentOrderOf(user);
      if (!order) return failure('ERROR_NO_ORDER', 'There is no order to process');
      if (order.total - order.paid > 0) return failure('ERROR_AMOUNT_DUE', "Can't process the order because there is amount due");
      if (order.currencyId !== state.storeCurrencyId) {
        return failure(
          'ERROR_CURRENCY_MISMATCH',
          "Can't process the order because the order currency does not match the Store configuration currency",
        );
      }
      order.status = 1;
      order.statusPayment = 1;
      order.invoiceUrl = `https://webtv-simulator.invalid/invoice.php?order=${order.id}`;
      for (const line of order.lines) user.delivered.push(line.productId);
      return phpJsonAnswer({ ok: 'Order was processed' });
    },

    list_orders(user) {
      const newestFirst = [...user.orders].sort((a, b) => b.id - a.id);
      return phpJsonAnswer({ list: newestFirst.map(orderJson) });
    },

    add_subtract_credit(user, fields) {
      const creditAction = fields.get('creditAction');
      if (creditAction !== 'add' && creditAction !== 'subtract') return requestError('Invalid credit action');
      let amount: Cents;
      try {
        amount = parseDecimalAmount(fields.get('amount') ?? '');
      } catch (error) {
        if (error instanceof InvalidAmountError) return requestError('Invalid amount');
        throw error;
      }
      if (amount <= 0) return requestError('Invalid amount');
      if (creditAction === 'subtract') {
        // Documented for a credit of 0; assumed for a credit below the amount.
        if (user.credit === 0 || user.credit < amount) {
          return failure('ERROR_CANT_SUBTRACT', "Can't subtract credit because the user does not have any available");
        }
        user.credit = (user.credit - amount) as Cents;
      } else {
        user.credit = (user.credit + amount) as Cents;
      }
      user.creditLog.push({ at: state.currentTime(), change: creditAction, amount, description: fields.get('description') ?? '' });
      return phpJsonAnswer({ ok: 'Credit action was performed' });
    },

    get_credit(user) {
      return phpJsonAnswer({
        data: { buyer_credit: formatCents(user.credit), buyer_credit_formatted: formatMoney(user.credit, state.storeCurrencyId) },
      });
    },

    get_cart(user) {
      const order = currentOrderOf(user);
      const productIds = order ? order.lines.map((line) => line.productId) : [...user.cart.keys()];
      const quantities = order ? order.lines.map((line) => line.quantity) : [...user.cart.values()];
      const total = order ? order.total : state.cartTotal(user);
      const has = (property: 'isCreditProduct' | 'isSubscription'): string =>
        flag(productIds.some((id) => state.products.get(id)?.[property] === true));
      return phpJsonAnswer({
        data: {
          order_id: order ? String(order.id) : null,
          order_num_products: String(quantities.reduce((sum, quantity) => sum + quantity, 0)),
          buyer_credit: formatCents(user.credit),
          order_amount_due: formatCents(order ? order.total - order.paid : total),
          order_amount_paid: order ? formatCents(order.paid) : '0.00',
          order_has_credit_product: has('isCreditProduct'),
          order_min_purchase_check: order ? '1' : flag(total >= state.minPurchase),
          order_contains_subscription: has('isSubscription'),
        },
      });
    },

    modify_cart(user, fields) {
      const cartAction = fields.get('cartAction');
      if (cartAction !== 'add' && cartAction !== 'remove' && cartAction !== 'empty') return requestError('Invalid cart action');
      let productId: number | undefined;
      let quantity = 1;
      if (cartAction !== 'empty') {
        productId = wholeNumber(fields.get('productID'));
        if (productId === undefined || productId < 1 || !state.products.has(productId)) return requestError('Invalid or missing product ID');
        const quantityText = fields.get('productQty');
        if (quantityText !== undefined && quantityText !== '') {
          const parsed = wholeNumber(quantityText);
          if (parsed === undefined || parsed < 1) return requestError('Invalid product quantity');
          quantity = parsed;
        }
      }
      if (currentOrderOf(user)) return failure('CART_ACTION_ERROR', assumedErrorTexts.CART_ACTION_ERROR);
      if (cartAction === 'empty') {
        user.cart.clear();
      } else if (productId !== undefined) {
        const left = (user.cart.get(productId) ?? 0) + (cartAction === 'add' ? quantity : -quantity);
        if (left > 0) user.cart.set(productId, left);
        else user.cart.delete(productId);
      }
      return phpJsonAnswer({ ok: 'Cart action was performed' });
    },

    place_order(user, fields) {
      if (currentOrderOf(user)) return failure('ERROR_ORDER_ALREADY_PLACED', assumedErrorTexts.ERROR_ORDER_ALREADY_PLACED);
      if (user.cart.size === 0) return failure('ERROR_EMPTY_CART', assumedErrorTexts.ERROR_EMPTY_CART);
      if (state.cartTotal(user) < state.minPurchase) return failure('ERROR_MIN_PURCHASE', assumedErrorTexts.ERROR_MIN_PURCHASE);
      const order = state.placeOrder(user, {
        notifyBuyer: fields.get('notify_buyer') === '1',
        buyerIp: fields.get('buyer_ip') ?? '',
        buyerUserAgent: fields.get('buyer_useragent') ?? '',
      });
      // The one documented numeric id.
      return phpJsonAnswer({ ok: 'Order was placed', id: order.id });
    },
  };

  return {
    operations: webTvActions,
    faultKinds: ['error', 'http-status', 'latency', 'apply-then-drop', 'broken-json'],

    operationOf(request: SimRequest): string | undefined {
      if (request.url.pathname !== '/api.php') return undefined;
      const action = request.url.searchParams.get('do');
      return isWebTvAction(action) ? action : undefined;
    },

    handle(request: SimRequest): SimAnswer {
      if (request.url.pathname !== '/api.php') return notFound;
      const query = request.url.searchParams;
      const refused = authenticate(query);
      if (refused) return refused;
      if (request.method !== 'POST') return requestError('Invalid request method');
      if (query.get('go') !== 'store') return requestError('Invalid API section');
      const action = query.get('do');
      if (!isWebTvAction(action)) return requestError('Invalid API action');
      const userId = wholeNumber(query.get('iq') ?? undefined);
      if (userId === undefined || userId < 1) return requestError('Invalid User ID');
      const user = state.user(userId);
      if (!user) return action === 'modify_cart' ? failure('ERROR', 'User not found') : requestError('Invalid User ID');
      // PHP's $_POST: the last of repeated names wins.
      const fields = new Map(request.fields);
      return actions[action](user, fields);
    },

    renderFaultError(request: SimRequest, fault: ErrorFault): SimAnswer {
      return failure(fault.code, fault.text ?? faultText(request.url.searchParams.get('do'), fault.code) ?? 'Simulated error');
    },

    snapshot: () => state.snapshot(),
  };
}
