/**
 * Client for the WS.WebTV platform API, section `store` (docs/vendor-apis.md, WebTV): one
 * method per action, each one freshly signed POST ending in an outcome of ../outcome.ts. Never
 * retries (Temporal does). The shared secret stays in this closure: never sent, logged or shown.
 */
import type { WebTvConfig } from '../../config.ts';
import { createHttpTransport, sendPost } from '../http.ts';
import { unobserved } from '../../telemetry/api-calls.ts';
import type { ApiCallObserver } from '../../telemetry/api-calls.ts';
import type { HttpTransport } from '../http.ts';
import { formatCents } from '../../money.ts';
import type { Cents } from '../../money.ts';
import { InvalidWebTvInputError, interpretWebTvAnswer } from './errors.ts';
import { buildSignedUrl } from './signing.ts';
import {
  isReadOnlyWebTvAction,
  isWebTvAction,
  parseWebTvActionDone,
  parseWebTvCart,
  parseWebTvCredit,
  parseWebTvOrders,
  parseWebTvPlacedOrder,
  webTvActions,
} from './types.ts';
import type { WebTvAction, WebTvCallContext, WebTvSuccessAnswer } from './types.ts';

export interface WebTvClientOptions {
  /** Default: a new transport, closed by `close()`. A given transport is the caller's to close. */
  transport?: HttpTransport;
  /** Unix seconds, for tests. */
  now?: () => number;
  /** Wraps each call (tracing span, metrics). */
  observeCall?: ApiCallObserver;
}

export interface WebTvCreditChange {
  creditAction: 'add' | 'subtract';
  /** Above 0; sent as a decimal string ("5.00"). */
  amount: Cents;
  description?: string;
}

export interface WebTvCartChange {
  cartAction: 'add' | 'remove' | 'empty';
  /** Required for add and remove. */
  productId?: number;
  productQty?: number;
}

export interface WebTvPlaceOrderOptions {
  notifyBuyer?: boolean;
  buyerIp?: string;
  buyerUserAgent?: string;
}

export type WebTvClient = ReturnType<typeof createWebTvClient>;

/** The refusal of a call before sending; `problem` is one sentence without its full stop. */
function invalid(problem: string): InvalidWebTvInputError {
  return new InvalidWebTvInputError(`WebTV store API client: ${problem}. Nothing was sent.`);
}

function checkPositiveInteger(action: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(`${action}: ${field} must be a whole number from 1 up; got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function checkOneOf<T extends string>(action: string, field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${action}: ${field} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}; got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value as T;
}

function checkText(action: string, field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`${action}: ${field} must be text; got ${typeof value}`);
  return value;
}

/** A client for the WebTV API `config` names (checked by loadConfig: nothing is checked again here). */
export function createWebTvClient(config: WebTvConfig, options: WebTvClientOptions = {}) {
  const baseUrl = new URL(config.apiUrl);
  const apiUrl = baseUrl.toString();
  const credentials = { keyId: config.keyId, sharedSecret: config.sharedSecret.reveal() };
  const ownsTransport = options.transport === undefined;
  const transport = options.transport ?? createHttpTransport();
  const now = options.now ?? (() => Date.now() / 1000);

  const observeCall = options.observeCall ?? unobserved;
  /** One signed call of `action`, its success answer read by `parse` (outside the observed call). */
  async function send<T>(
    action: WebTvAction,
    userId: number,
    fields: Record<string, string>,
    signal: AbortSignal | undefined,
    parse: (answer: WebTvSuccessAnswer, context: WebTvCallContext) => T,
  ): Promise<T> {
    checkPositiveInteger(action, 'userId', userId);
    const { answer, context } = await observeCall({ api: 'webtv', operation: action }, async () => {
      const timestamp = Math.floor(now());
      if (!Number.isSafeInteger(timestamp)) {
        throw invalid(`${action}: the clock (now) returned ${String(timestamp)}, not Unix seconds`);
      }
      // Fresh salt and the current timestamp on every attempt.
      const url = buildSignedUrl(baseUrl, action, userId, credentials, { timestamp });
      const context: WebTvCallContext = { action, userId, url, idempotent: isReadOnlyWebTvAction(action) };
      const response = await sendPost(transport, {
        api: 'webtv',
        operation: action,
        url,
        body: new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        idempotent: context.idempotent,
        signal,
      });
      return { answer: interpretWebTvAnswer(context, response), context };
    });
    return parse(answer, context);
  }

  return Object.freeze({
    apiUrl,
    keyId: config.keyId,

    async cancelOrder(userId: number, cancelOptions: { requester?: 'ADMIN' | 'BUYER' } = {}, signal?: AbortSignal) {
      const fields: Record<string, string> = {};
      if (cancelOptions.requester !== undefined) {
        fields['requester'] = checkOneOf('cancel_order', 'requester', cancelOptions.requester, ['ADMIN', 'BUYER'] as const);
      }
      return send('cancel_order', userId, fields, signal, parseWebTvActionDone);
    },

    /** Marks the user's fully paid current order as paid and delivers it. */
    processOrder: (userId: number, signal?: AbortSignal) => send('process_order', userId, {}, signal, parseWebTvActionDone),

    listOrders: (userId: number, signal?: AbortSignal) => send('list_orders', userId, {}, signal, parseWebTvOrders),

    /** Not idempotent, and the API takes no idempotency key: see docs/vendor-apis.md. */
    async addSubtractCredit(userId: number, change: WebTvCreditChange, signal?: AbortSignal) {
      const action = 'add_subtract_credit';
      const creditAction = checkOneOf(action, 'creditAction', change.creditAction, ['add', 'subtract'] as const);
      const amount = formatCents(checkPositiveInteger(action, 'amount (in cents)', change.amount));
      const fields: Record<string, string> = { creditAction, amount };
      if (change.description !== undefined) fields['description'] = checkText(action, 'description', change.description);
      return send(action, userId, fields, signal, parseWebTvActionDone);
    },

    getCredit: (userId: number, signal?: AbortSignal) => send('get_credit', userId, {}, signal, parseWebTvCredit),

    /** The cart, or the current order once placed. Read-only. */
    getCart: (userId: number, signal?: AbortSignal) => send('get_cart', userId, {}, signal, parseWebTvCart),

    async modifyCart(userId: number, change: WebTvCartChange, signal?: AbortSignal) {
      const action = 'modify_cart';
      const cartAction = checkOneOf(action, 'cartAction', change.cartAction, ['add', 'remove', 'empty'] as const);
      const fields: Record<string, string> = { cartAction };
      if (cartAction !== 'empty') {
        if (change.productId === undefined) throw invalid(`${action}: cartAction "${cartAction}" needs productId`);
        fields['productID'] = String(checkPositiveInteger(action, 'productId', change.productId));
        if (change.productQty !== undefined) fields['productQty'] = String(checkPositiveInteger(action, 'productQty', change.productQty));
      }
      return send(action, userId, fields, signal, parseWebTvActionDone);
    },

    /** Turns the cart into the current order; the user's credit pays what it can. */
    async placeOrder(userId: number, placeOptions: WebTvPlaceOrderOptions = {}, signal?: AbortSignal) {
      const action = 'place_order';
      const fields: Record<string, string> = {};
      if (placeOptions.notifyBuyer !== undefined) {
        if (typeof placeOptions.notifyBuyer !== 'boolean') throw invalid(`${action}: notifyBuyer must be true or false`);
        fields['notify_buyer'] = placeOptions.notifyBuyer ? '1' : '0';
      }
      if (placeOptions.buyerIp !== undefined) fields['buyer_ip'] = checkText(action, 'buyerIp', placeOptions.buyerIp);
      if (placeOptions.buyerUserAgent !== undefined) fields['buyer_useragent'] = checkText(action, 'buyerUserAgent', placeOptions.buyerUserAgent);
      return send(action, userId, fields, signal, parseWebTvPlacedOrder);
    },

    /** Any action with raw POST fields; returns the parsed success JSON object. */
    async call(action: WebTvAction, userId: number, fields: Record<string, string>, signal?: AbortSignal) {
      if (!isWebTvAction(action)) throw invalid(`unknown action ${JSON.stringify(action)}; known: ${webTvActions.join(', ')}`);
      if (typeof fields !== 'object' || fields === null) throw invalid(`${action}: fields must be an object of text values`);
      for (const [name, value] of Object.entries(fields)) checkText(action, `fields.${name}`, value);
      return send(action, userId, fields, signal, (answer) => answer);
    },

    close: () => (ownsTransport ? transport.close() : Promise.resolve()),

    toJSON: () => ({ api: 'webtv' as const, apiUrl, keyId: config.keyId }),
  });
}
