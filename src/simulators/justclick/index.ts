/**
 * The JustClick API simulator (docs/vendor-apis.md, JustClick) on the harness, with the bills of ./state.ts. Limitation:
 * bodies are decoded as UTF-8 where PHP keeps raw bytes, so a client sending non-UTF-8 bytes would get 4 here only.
 */
import { justClickCodes } from '../../apis/justclick/errors.ts';
import { nestPhpFields } from '../../apis/justclick/php-fields.ts';
import { justClickResponseHash, justClickRequestHash } from '../../apis/justclick/signing.ts';
import { justClickMethods, justClickOrderStatuses, justClickOrderTextFields } from '../../apis/justclick/types.ts';
import type { JustClickMethod } from '../../apis/justclick/types.ts';
import type { PhpValue } from '../../apis/justclick/signing.ts';
import { formatCents, parseDecimalAmount } from '../../money.ts';
import { phpJsonAnswer, phpNotFound, startSimulatorServer } from '../harness.ts';
import type { ErrorFault, Fault, ListenOptions, SimAnswer, SimRequest, SimulatedApi, SimulatorHandle } from '../harness.ts';
import { JustClickSimState } from './state.ts';
import type { JustClickSimBill } from './state.ts';

export interface JustClickSimulatorOptions extends ListenOptions {
  login: string;
  /** The account's API key, for request and response hashes. */
  secret: string;
  /** Both start with no bills ('demo' is accepted for symmetry with the WebTV simulator). */
  seed?: 'demo' | 'empty';
  now?: () => number;
}

export interface JustClickSimulator extends SimulatorHandle {
  /** origin + `/api`: give it to the client as apiUrl. */
  readonly apiUrl: string;
  readonly state: JustClickSimState;
}

export class InvalidJustClickSimulatorOptionsError extends Error {
  override readonly name = 'InvalidJustClickSimulatorOptionsError';
}

function checkOptions(options: JustClickSimulatorOptions): void {
  const problems: string[] = [];
  if (typeof options.login !== 'string' || options.login === '') problems.push('login must not be empty');
  if (typeof options.secret !== 'string' || options.secret === '') problems.push('secret must not be empty');
  if (options.seed !== undefined && options.seed !== 'demo' && options.seed !== 'empty') {
    problems.push(`seed must be "demo" or "empty"; got ${JSON.stringify(options.seed)}`);
  }
  if (problems.length > 0) throw new InvalidJustClickSimulatorOptionsError(`JustClick simulator: ${problems.join('; ')}`);
}

export async function startJustClickSimulator(options: JustClickSimulatorOptions): Promise<JustClickSimulator> {
  checkOptions(options);
  const state = new JustClickSimState(options.login, options.now);
  const api = justClickApi(options.login, options.secret, state);
  const handle = await startSimulatorServer(api, { host: options.host, port: options.port, redactFields: ['hash'] });
  return { ...handle, apiUrl: `${handle.origin}/api`, state };
}

const notFound = phpNotFound('The JustClick API is at /api/&lt;Method&gt;.');

/** The simulator's texts: the ones observed from the server, the documented ones otherwise. */
function textFor(code: number): string {
  return justClickCodes.get(code)?.text ?? 'error';
}

function methodOf(pathname: string): JustClickMethod | 'unknown' | undefined {
  const match = /^\/api\/([^/]+)\/?$/.exec(pathname);
  if (!match) return undefined;
  const asked = match[1]!.toLowerCase();
  return justClickMethods.find((method) => method.toLowerCase() === asked) ?? 'unknown';
}

function asText(value: PhpValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asMap(value: PhpValue | undefined): ReadonlyMap<string | number, PhpValue> | undefined {
  return value instanceof Map ? value : undefined;
}

function unixSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,12}$/.test(text)) return undefined;
  const value = Number(text);
  return value > 0 ? value : undefined;
}

function sqlDate(seconds: number | null): string {
  if (seconds === null) return '';
  return new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function centsOf(sum: string | null): number {
  if (sum === null) return 0;
  try {
    return parseDecimalAmount(sum);
  } catch {
    return 0;
  }
}

/** A bill id as the server would print it: a number when it is one (assumed). */
function billIdValue(billId: string): string | number {
  return /^[1-9][0-9]{0,14}$/.test(billId) ? Number(billId) : billId;
}

interface Reply {
  code: number;
  text?: string;
  result?: unknown;
}

function justClickApi(login: string, secret: string, state: JustClickSimState): SimulatedApi {
  function sign(reply: Reply, wrongHash: boolean): SimAnswer {
    const text = reply.text ?? textFor(reply.code);
    const hash = justClickResponseHash(reply.code, text, wrongHash ? `${secret}/not-the-secret` : secret);
    // JSON leaves out an undefined result.
    return phpJsonAnswer({ error_code: reply.code, error_text: text, result: reply.result, hash });
  }

  function orderInfo(bill: JustClickSimBill): Record<string, unknown> {
    const price = bill.goods.reduce((total, good) => total + centsOf(good.sum), 0);
    const paid = bill.status === 'paid' || bill.status === 'sent';
    return {
      id: String(bill.billId),
      first_name: bill.firstName,
      last_name: bill.surname,
      middle_name: bill.middleName,
      email: bill.email,
      phone: bill.phone,
      city: bill.city,
      country: bill.country,
      address: bill.address,
      region: bill.region,
      postalcode: bill.postalCode,
      created: sqlDate(bill.createdAt),
      pay_status: bill.status,
      paid: sqlDate(bill.paidAt),
      type: '',
      payway: '',
      comment: bill.comment,
      domain: bill.domain,
      link: `https://${login}.justclick.ru/order/${encodeURIComponent(bill.billId)}/`,
      good_count: String(bill.goods.length),
      price: formatCents(price),
      bill_sum_topay: formatCents(paid ? 0 : price),
      tag: bill.tag,
      kupon: bill.coupon,
      utm: { ...bill.utm },
    };
  }

  const handlers: Record<JustClickMethod, (fields: ReadonlyMap<string, PhpValue>) => Reply> = {
    DeleteOrder(fields) {
      const billId = asText(fields.get('bill_id'));
      if (billId === undefined || billId === '') return { code: 203 };
      return state.deleteBill(billId) ? { code: 0 } : { code: 200 };
    },

    CreateOrder(fields) {
      const email = asText(fields.get('bill_email'));
      const goodsField = asMap(fields.get('goods'));
      const goods: Array<{ name: string; sum: string | null }> = [];
      for (const item of goodsField?.values() ?? []) {
        const good = asMap(item);
        const name = asText(good?.get('good_name'));
        if (name === undefined || name === '') return { code: 3 };
        goods.push({ name, sum: asText(good?.get('good_sum')) ?? null });
      }
      if (email === undefined || email === '' || goods.length === 0) return { code: 3 };
      const requested = asText(fields.get('bill_id'));
      if (requested !== undefined && requested !== '' && state.hasBill(requested)) {
        return { code: 601, result: { bill_id: billIdValue(requested) } };
      }
      const utm: Record<string, string> = {};
      for (const [name, value] of asMap(fields.get('utm')) ?? []) {
        if (typeof value === 'string') utm[String(name)] = value;
      }
      const created = unixSeconds(asText(fields.get('bill_created')));
      const bill = state.createBill({
        ...(requested === undefined || requested === '' ? {} : { billId: requested }),
        ...Object.fromEntries(justClickOrderTextFields.map(([field, name]) => [field, asText(fields.get(name)) ?? ''])),
        email,
        goods,
        utm,
        ...(created === undefined ? {} : { createdAt: created }),
      });
      return { code: 0, result: { bill_id: billIdValue(bill.billId) } };
    },

    UpdateOrderStatus(fields) {
      const billId = asText(fields.get('bill_id'));
      if (billId === undefined || billId === '') return { code: 203 };
      if (!state.hasBill(billId)) return { code: 302 };
      const status = asText(fields.get('status'));
      const known = justClickOrderStatuses.find((candidate) => candidate === status);
      if (known === undefined) return { code: 303 };
      const date = unixSeconds(asText(fields.get('date')));
      const trackingNumber = asText(fields.get('rpo'));
      if ((known === 'sent' || known === 'paid') && date === undefined) return { code: 3 };
      if (known === 'sent' && (trackingNumber === undefined || trackingNumber === '')) return { code: 3 };
      state.setStatus(billId, known, { date, trackingNumber });
      return { code: 0 };
    },

    GetOrderInfo(fields) {
      const billId = asText(fields.get('bill_id'));
      if (billId === undefined || billId === '') return { code: 203 };
      const bill = state.getBill(billId);
      return bill === undefined ? { code: 400 } : { code: 0, result: orderInfo(bill) };
    },
  };

  return {
    operations: justClickMethods,

    operationOf(request: SimRequest): string | undefined {
      const method = methodOf(request.url.pathname);
      return method === 'unknown' ? undefined : method;
    },

    handle(request: SimRequest, fault: Fault | undefined): SimAnswer {
      const method = methodOf(request.url.pathname);
      if (method === undefined) return notFound;
      const wrongHash = fault?.kind === 'wrong-hash';
      if (method === 'unknown') return sign({ code: 3 }, wrongHash);
      if (request.fields.length === 0) return sign({ code: 2 }, wrongHash);
      // $_POST as PHP builds it, then the hash taken out of it.
      const posted = new Map(nestPhpFields(request.fields));
      const sentHash = posted.get('hash');
      if (sentHash === undefined) return sign({ code: 1 }, wrongHash);
      posted.delete('hash');
      if (typeof sentHash !== 'string' || sentHash !== justClickRequestHash([...posted], login, secret)) {
        return sign({ code: 4 }, wrongHash);
      }
      return sign(handlers[method](posted), wrongHash);
    },

    renderFaultError(request: SimRequest, fault: ErrorFault): SimAnswer {
      const code = /^-?[0-9]{1,9}$/.test(fault.code) ? Number(fault.code) : NaN;
      if (!Number.isSafeInteger(code)) {
        return {
          status: 400,
          contentType: 'text/plain; charset=utf-8',
          body: `JustClick simulator: error fault code ${JSON.stringify(fault.code)} is not a whole number; use e.g. "302".`,
        };
      }
      let result: unknown;
      if (code === 601 && methodOf(request.url.pathname) === 'CreateOrder') {
        const requested = new Map(nestPhpFields(request.fields)).get('bill_id');
        result = { bill_id: typeof requested === 'string' && requested !== '' ? billIdValue(requested) : 100000 };
      }
      return sign({ code, text: fault.text ?? textFor(code), result }, false);
    },

    snapshot: () => state.snapshot(),
  };
}
