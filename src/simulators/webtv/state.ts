/**
 * In-memory state of the WebTV store simulator: users (credit, cart, orders), products and the
 * store's settings, with no credentials. Tests reach it through `simulator.state`; ./index.ts only
 * through the real API's actions. Assumptions: docs/vendor-apis.md "Undocumented, and assumed".
 */
import { formatCents } from '../../money.ts';
import type { Cents } from '../../money.ts';

/** How amounts of a currency are formatted; unknown ids print the bare amount. */
export const simulatedCurrencies: Readonly<Record<number, { prefix: string; suffix: string }>> = Object.freeze({
  1: { prefix: '$', suffix: '' },
  2: { prefix: '£', suffix: '' },
  5: { prefix: '', suffix: '€' },
});

export function formatMoney(cents: Cents | number, currencyId: number): string {
  const currency = simulatedCurrencies[currencyId] ?? { prefix: '', suffix: '' };
  return `${currency.prefix}${formatCents(cents)}${currency.suffix}`;
}

export interface WebTvSimProduct {
  readonly id: number;
  name: string;
  price: Cents;
  /** A product that buys credit: the buyer's credit does not pay an order containing one. */
  isCreditProduct: boolean;
  isSubscription: boolean;
}

export interface WebTvSimOrderLine {
  productId: number;
  quantity: number;
  unitPrice: Cents;
}

export interface WebTvSimOrder {
  readonly id: number;
  readonly userId: number;
  readonly date: number;
  currencyId: number;
  lines: WebTvSimOrderLine[];
  total: Cents;
  paid: Cents;
  /** 0 current, 1 ordered/processed, 2 cancelled. */
  status: 0 | 1 | 2;
  /** 0 unpaid, 1 paid, 2 cancelled. */
  statusPayment: 0 | 1 | 2;
  invoiceUrl: string;
  notifyBuyer: boolean;
  buyerIp: string;
  buyerUserAgent: string;
}

export interface WebTvSimCreditEntry {
  at: number;
  change: 'add' | 'subtract' | 'order-payment';
  amount: Cents;
  description: string;
}

export interface WebTvSimUser {
  readonly id: number;
  credit: Cents;
  /** product id → quantity */
  cart: Map<number, number>;
  /** Oldest first. */
  orders: WebTvSimOrder[];
  /** Product ids delivered by processed orders. */
  delivered: number[];
  creditLog: WebTvSimCreditEntry[];
}

export class WebTvSimStateError extends Error {
  override readonly name = 'WebTvSimStateError';
}

function checkId(what: string, id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new WebTvSimStateError(`${what} must be a whole number from 1 up; got ${id}`);
}

function checkCents(what: string, cents: number): asserts cents is Cents {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new WebTvSimStateError(`${what} must be whole, non-negative cents; got ${cents}`);
}

export class WebTvSimState {
  /** The store's configured currency (5: the documented example's, shown as "5.50€"); orders keep the one they were placed in. */
  storeCurrencyId = 5;
  /** Minimum cart total for place_order (ERROR_MIN_PURCHASE); 0 = none. */
  minPurchase = 0 as Cents;

  readonly users = new Map<number, WebTvSimUser>();
  readonly products = new Map<number, WebTvSimProduct>();
  private nextOrderId: number;
  private readonly now: () => number;

  constructor(now: () => number = () => Math.floor(Date.now() / 1000), firstOrderId = 319) {
    checkId('the first order id', firstOrderId);
    this.now = now;
    this.nextOrderId = firstOrderId;
  }

  get upcomingOrderId(): number {
    return this.nextOrderId;
  }

  currentTime(): number {
    return Math.floor(this.now());
  }

  addUser(id: number, init: { credit?: Cents } = {}): WebTvSimUser {
    checkId('a user id', id);
    if (this.users.has(id)) throw new WebTvSimStateError(`user ${id} already exists`);
    const credit = init.credit ?? (0 as Cents);
    checkCents('credit', credit);
    const user: WebTvSimUser = { id, credit, cart: new Map(), orders: [], delivered: [], creditLog: [] };
    this.users.set(id, user);
    return user;
  }

  user(id: number): WebTvSimUser | undefined {
    return this.users.get(id);
  }

  requireUser(id: number): WebTvSimUser {
    const user = this.users.get(id);
    if (!user) throw new WebTvSimStateError(`no user ${id} in the simulator; add it with state.addUser(${id})`);
    return user;
  }

  setCredit(userId: number, credit: Cents): void {
    checkCents('credit', credit);
    this.requireUser(userId).credit = credit;
  }

  creditOf(userId: number): Cents {
    return this.requireUser(userId).credit;
  }

  addProduct(product: { id?: number; name: string; price: Cents; isCreditProduct?: boolean; isSubscription?: boolean }): WebTvSimProduct {
    const id = product.id ?? Math.max(0, ...this.products.keys()) + 1;
    checkId('a product id', id);
    checkCents('price', product.price);
    if (this.products.has(id)) throw new WebTvSimStateError(`product ${id} already exists`);
    const created: WebTvSimProduct = { isCreditProduct: false, isSubscription: false, ...product, id };
    this.products.set(id, created);
    return created;
  }

  currentOrder(userId: number): WebTvSimOrder | undefined {
    return currentOrderOf(this.requireUser(userId));
  }

  cartTotal(user: WebTvSimUser): Cents {
    let total = 0;
    for (const [productId, quantity] of user.cart) total += (this.products.get(productId)?.price ?? 0) * quantity;
    return total as Cents;
  }

  /** Records a payment of the current order by other means (a payment gateway), for tests. */
  recordPayment(userId: number, amount: Cents): WebTvSimOrder {
    checkCents('amount', amount);
    const order = this.currentOrder(userId);
    if (!order) throw new WebTvSimStateError(`user ${userId} has no current order to pay`);
    order.paid = Math.min(order.total, order.paid + amount) as Cents;
    return order;
  }

  /** place_order's effect: the cart becomes the current order, paid by credit as far as it goes. */
  placeOrder(user: WebTvSimUser, details: { notifyBuyer: boolean; buyerIp: string; buyerUserAgent: string }): WebTvSimOrder {
    const lines: WebTvSimOrderLine[] = [...user.cart].map(([productId, quantity]) => ({
      productId,
      quantity,
      unitPrice: this.products.get(productId)?.price ?? (0 as Cents),
    }));
    const total = this.cartTotal(user);
    const hasCreditProduct = lines.some((line) => this.products.get(line.productId)?.isCreditProduct === true);
    const paidByCredit = hasCreditProduct ? 0 : Math.min(user.credit, total);
    const at = this.currentTime();
    const order: WebTvSimOrder = {
      id: this.nextOrderId++,
      userId: user.id,
      date: at,
      currencyId: this.storeCurrencyId,
      lines,
      total,
      paid: paidByCredit as Cents,
      status: 0,
      statusPayment: 0,
      invoiceUrl: '',
      ...details,
    };
    if (paidByCredit > 0) {
      user.credit = (user.credit - paidByCredit) as Cents;
      user.creditLog.push({ at, change: 'order-payment', amount: paidByCredit as Cents, description: `Payment of order ${orderNumber(order.id)}` });
    }
    user.orders.push(order);
    user.cart.clear();
    return order;
  }

  /** Admin hook for drift tests: an add_subtract_credit that reaches the store long after it was sent. */
  landLateCreditChange(userId: number, change: { creditAction: 'add' | 'subtract'; amount: Cents; description: string }): Cents {
    checkCents('amount', change.amount);
    const user = this.requireUser(userId);
    const credit = change.creditAction === 'add' ? user.credit + change.amount : user.credit - change.amount;
    if (credit < 0) throw new WebTvSimStateError(`user ${userId} has ${formatCents(user.credit)} credit, less than ${formatCents(change.amount)}`);
    user.credit = credit as Cents;
    user.creditLog.push({ at: this.currentTime(), change: change.creditAction, amount: change.amount, description: change.description });
    return user.credit;
  }

  /** Admin hook for drift tests: makes a cancelled or processed order current again, as a store admin could by hand. */
  reopenOrder(userId: number, orderId: number): WebTvSimOrder {
    const user = this.requireUser(userId);
    const order = user.orders.find((candidate) => candidate.id === orderId);
    if (!order) throw new WebTvSimStateError(`user ${userId} has no order ${orderId}`);
    if (user.orders.some((candidate) => candidate.status === 0 && candidate !== order)) throw new WebTvSimStateError(`user ${userId} has another current order`);
    order.status = 0;
    order.statusPayment = 0;
    return order;
  }

  /** A JSON-serialisable view, money as decimal strings. */
  snapshot() {
    return {
      store: {
        currencyId: this.storeCurrencyId,
        minPurchase: formatCents(this.minPurchase),
        nextOrderId: this.nextOrderId,
      },
      products: [...this.products.values()].map((product) => ({ ...product, price: formatCents(product.price) })),
      users: [...this.users.values()].map((user) => ({
        id: user.id,
        credit: formatCents(user.credit),
        cart: [...user.cart].map(([productId, quantity]) => ({ productId, quantity })),
        currentOrderId: currentOrderOf(user)?.id ?? null,
        orders: user.orders.map((order) => ({
          id: order.id,
          orderNumber: orderNumber(order.id),
          date: order.date,
          currencyId: order.currencyId,
          status: order.status,
          statusPayment: order.statusPayment,
          total: formatCents(order.total),
          paid: formatCents(order.paid),
          lines: order.lines.map((line) => ({ ...line, unitPrice: formatCents(line.unitPrice) })),
        })),
        delivered: [...user.delivered],
        creditLog: user.creditLog.map((entry) => ({ ...entry, amount: formatCents(entry.amount) })),
      })),
    };
  }
}

/** The order at status 0, if any. */
export function currentOrderOf(user: WebTvSimUser): WebTvSimOrder | undefined {
  return user.orders.find((order) => order.status === 0);
}

export function orderNumber(id: number): string {
  return `ORD${String(id).padStart(5, '0')}`;
}

/** The demo seed: users 1–100 with no credit and empty carts, products 1–5 priced in EUR. */
export function seedDemo(state: WebTvSimState): void {
  for (let id = 1; id <= 100; id++) state.addUser(id);
  const products: Array<[string, number]> = [
    ['Pay-per-view: Concert', 550],
    ['Film rental (48 h)', 399],
    ['Season pass', 2999],
    ['Documentary download', 1250],
    ['Live event ticket', 1500],
  ];
  products.forEach(([name, cents], index) => state.addProduct({ id: index + 1, name, price: cents as Cents }));
}
