/**
 * The WebTV simulator over HTTP: body formats, authentication edge cases, PHP-style JSON,
 * the admin API (/_sim/faults, /_sim/state, /_sim/calls) and every fault kind as the
 * client sees it; and, when PHP is installed, the vendor's own PHP sample against it.
 */
import { Secret } from '../../src/config.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../src/apis/http.ts';
import { ApiRejectedError, OutcomeUnknownError } from '../../src/apis/outcome.ts';
import { createWebTvClient } from '../../src/apis/webtv/client.ts';
import type { WebTvClient } from '../../src/apis/webtv/client.ts';
import { buildSignedUrl, newSalt, webTvSignature } from '../../src/apis/webtv/signing.ts';
import type { WebTvAction } from '../../src/apis/webtv/types.ts';
import type { Cents } from '../../src/money.ts';
import { InvalidWebTvSimulatorOptionsError, phpJsonEncode, startWebTvSimulator } from '../../src/simulators/webtv/index.ts';
import type { WebTvSimulator } from '../../src/simulators/webtv/index.ts';
import { phpForTests, runPhpFile, runPhpJson } from '../../harness/php.ts';

const keyId = randomBytes(16).toString('hex');
const sharedSecret = randomBytes(32).toString('base64');
const credentials = { keyId, sharedSecret };
const cents = (value: number): Cents => value as Cents;

let sim: WebTvSimulator;
let client: WebTvClient;
/** The simulator's clock, in Unix seconds; tests may move it. */
let simClock: number;

beforeEach(async () => {
  simClock = Math.floor(Date.now() / 1000);
  sim = await startWebTvSimulator({ credentials: [credentials], now: () => simClock });
  client = createWebTvClient({ apiUrl: sim.apiUrl, keyId, sharedSecret: new Secret(sharedSecret) }, { now: () => simClock });
});

afterEach(async () => {
  await client.close();
  await sim.close();
});

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

async function raw(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

interface SignedPostOptions {
  method?: string;
  body?: FormData | URLSearchParams | string;
  headers?: Record<string, string>;
  timestamp?: number;
  salt?: string;
  /** Changes the signed query before sending. */
  edit?: (query: URLSearchParams) => void;
}

async function signedPost(action: WebTvAction, userId: number, options: SignedPostOptions = {}): Promise<RawAnswer> {
  const url = buildSignedUrl(sim.apiUrl, action, userId, credentials, { timestamp: options.timestamp ?? simClock, salt: options.salt ?? newSalt() });
  options.edit?.(url.searchParams);
  const method = options.method ?? 'POST';
  const init: RequestInit = { method };
  if (options.body !== undefined) init.body = options.body;
  if (options.headers !== undefined) init.headers = options.headers;
  return raw(await fetch(url, init));
}

async function admin(method: string, path: string, body?: unknown): Promise<RawAnswer> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return raw(await fetch(`${sim.origin}${path}`, init));
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('request bodies', () => {
  it('accepts multipart/form-data (what PHP curl sends for an array)', async () => {
    const form = new FormData();
    form.append('creditAction', 'add');
    form.append('amount', '5.00');
    form.append('description', 'Coupon XJW5P redeem — ünïcode');
    const answer = await signedPost('add_subtract_credit', 2, { body: form });
    expect(answer.json).toEqual({ ok: 'Credit action was performed' });
    expect(sim.calls.at(-1)?.fields).toEqual({ creditAction: 'add', amount: '5.00', description: 'Coupon XJW5P redeem — ünïcode' });
    expect(sim.state.user(2)?.creditLog.at(-1)).toMatchObject({ change: 'add', amount: 500, description: 'Coupon XJW5P redeem — ünïcode' });
  });

  it('accepts application/x-www-form-urlencoded', async () => {
    const answer = await signedPost('add_subtract_credit', 2, {
      body: new URLSearchParams({ creditAction: 'add', amount: '5' }),
    });
    expect(answer.json).toEqual({ ok: 'Credit action was performed' });
    expect(sim.state.creditOf(2)).toBe(500);
  });

  it('refuses GET with REQUEST_ERROR | Invalid request method (the docs call every action with POST)', async () => {
    const answer = await signedPost('get_credit', 2, { method: 'GET' });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ error: 'REQUEST_ERROR', error_long: 'Invalid request method' });
  });
});

describe('authentication and request checks', () => {
  it.each(['signature', 'key', 'salt', 'timestamp'])('missing %s → Missing signature', async (name) => {
    const answer = await signedPost('get_credit', 1, { edit: (query) => query.delete(name) });
    expect(answer.json).toEqual({ error: 'REQUEST_ERROR', error_long: 'Missing signature' });
  });

  it('checks in order: key before signature before expiry', async () => {
    const unknownKey = await signedPost('get_credit', 1, { timestamp: 1, edit: (query) => query.set('key', 'nope') });
    expect(unknownKey.json).toMatchObject({ error_long: 'Invalid key' });
    const badSignatureAndStale = await signedPost('get_credit', 1, { timestamp: 1, edit: (query) => query.set('signature', 'AAAA') });
    expect(badSignatureAndStale.json).toMatchObject({ error_long: 'Invalid signature' });
    const stale = await signedPost('get_credit', 1, { timestamp: simClock - 301 });
    expect(stale.json).toMatchObject({ error_long: 'Request expired' });
    const future = await signedPost('get_credit', 1, { timestamp: simClock + 301 });
    expect(future.json).toMatchObject({ error_long: 'Request expired' });
    const edge = await signedPost('get_credit', 1, { timestamp: simClock - 300 });
    expect(edge.json).toMatchObject({ data: { buyer_credit: '0.00' } });
  });

  it('a signature whose + is sent unencoded arrives as a space and is refused', async () => {
    let salt = 'plus-0';
    for (let i = 1; !webTvSignature(sharedSecret, salt, simClock).includes('+'); i++) salt = `plus-${i}`;
    const url = buildSignedUrl(sim.apiUrl, 'get_credit', 1, credentials, { timestamp: simClock, salt });
    const broken = url.toString().replace(/signature=[^&]*/, `signature=${webTvSignature(sharedSecret, salt, simClock)}`);
    expect((await raw(await fetch(broken, { method: 'POST' }))).json).toMatchObject({ error_long: 'Invalid signature' });
    expect((await raw(await fetch(url, { method: 'POST' }))).json).toMatchObject({ data: { buyer_credit: '0.00' } });
  });

  it('refuses a salt seen within the window, even under a new timestamp and signature', async () => {
    const salt = newSalt();
    expect((await signedPost('get_credit', 1, { salt })).json).toMatchObject({ data: {} });
    expect((await signedPost('get_credit', 1, { salt })).json).toEqual({ error: 'REQUEST_ERROR', error_long: 'Salt already used' });
    simClock += 10;
    expect((await signedPost('get_credit', 1, { salt })).json).toMatchObject({ error_long: 'Salt already used' });
    // Another salt is fine.
    expect((await signedPost('get_credit', 1)).json).toMatchObject({ data: {} });
  });

  it('honours requestExpirySeconds', async () => {
    const strict = await startWebTvSimulator({ credentials: [credentials], requestExpirySeconds: 5, now: () => simClock });
    try {
      const url = buildSignedUrl(strict.apiUrl, 'get_credit', 1, credentials, { timestamp: simClock - 6 });
      expect((await raw(await fetch(url, { method: 'POST' }))).json).toMatchObject({ error_long: 'Request expired' });
    } finally {
      await strict.close();
    }
  });

  it.each([
    ['missing', (query: URLSearchParams) => query.delete('iq')],
    ['not numeric', (query: URLSearchParams) => query.set('iq', 'abc')],
    ['0', (query: URLSearchParams) => query.set('iq', '0')],
    ['negative', (query: URLSearchParams) => query.set('iq', '-2')],
    ['not a user', (query: URLSearchParams) => query.set('iq', '101')],
  ])('user id %s → REQUEST_ERROR | Invalid User ID', async (_what, edit) => {
    expect((await signedPost('list_orders', 1, { edit })).json).toEqual({ error: 'REQUEST_ERROR', error_long: 'Invalid User ID' });
  });

  it('modify_cart for a well-formed id that is not a user → ERROR | User not found', async () => {
    const answer = await signedPost('modify_cart', 500, { body: new URLSearchParams({ cartAction: 'empty' }) });
    expect(answer.json).toEqual({ error: 'ERROR', error_long: 'User not found' });
  });

  it('go and do are checked; other paths are 404', async () => {
    expect((await signedPost('get_credit', 1, { edit: (query) => query.set('go', 'users') })).json).toMatchObject({ error_long: 'Invalid API section' });
    expect((await signedPost('get_credit', 1, { edit: (query) => query.set('do', 'drop_tables') })).json).toMatchObject({ error_long: 'Invalid API action' });
    const elsewhere = await raw(await fetch(`${sim.origin}/index.php`, { method: 'POST' }));
    expect(elsewhere.status).toBe(404);
  });
});

describe('answers look like PHP json_encode', () => {
  it('escapes / and non-ASCII, sends numbers as strings except place_order id', async () => {
    sim.state.setCredit(3, cents(10_000));
    await client.modifyCart(3, { cartAction: 'add', productId: 1 });
    const placed = await signedPost('place_order', 3);
    expect(placed.text).toMatch(/^\{"ok":"Order was placed","id":\d+\}$/);
    await client.processOrder(3);
    const credit = await signedPost('get_credit', 3);
    expect(credit.text).toBe('{"data":{"buyer_credit":"94.50","buyer_credit_formatted":"94.50\\u20ac"}}');
    const list = await signedPost('list_orders', 3);
    expect(list.text).toContain('"date_formatted":"');
    expect(list.text).toMatch(/"date_formatted":"\d\d\\\/\d\d\\\/\d{4}"/);
    expect(list.text).toContain('"invoice_url":"https:\\/\\/');
    expect(list.text).toContain('"total":"5.50","total_formatted":"5.50\\u20ac"');
    expect(list.text).toMatch(/"id":"\d+"/);
    expect(list.status).toBe(200);
  });

  it('phpJsonEncode escapes astral characters as surrogate pairs', () => {
    expect(phpJsonEncode({ a: 'x/€😀' })).toBe('{"a":"x\\/\\u20ac\\ud83d\\ude00"}');
  });

  it('subtracting more than the credit is refused and credit never goes below 0', async () => {
    sim.state.setCredit(4, cents(300));
    await expect(client.addSubtractCredit(4, { creditAction: 'subtract', amount: cents(301) })).rejects.toMatchObject({ code: 'ERROR_CANT_SUBTRACT' });
    await client.addSubtractCredit(4, { creditAction: 'subtract', amount: cents(300) });
    expect(sim.state.creditOf(4)).toBe(0);
  });

  it.each([['abc'], ['-5'], ['5.001'], ['']])('amount %j → Invalid amount', async (amount) => {
    const answer = await signedPost('add_subtract_credit', 4, { body: new URLSearchParams({ creditAction: 'add', amount }) });
    expect(answer.json).toEqual({ error: 'REQUEST_ERROR', error_long: 'Invalid amount' });
  });
});

describe('fault injection through the admin API', () => {
  it('error: the documented text for the action, or the given text; nothing committed', async () => {
    expect((await admin('POST', '/_sim/faults', { operation: 'add_subtract_credit', kind: 'error', code: 'ERROR_CANT_SUBTRACT' })).status).toBe(201);
    const documented = await failureOf(client.addSubtractCredit(5, { creditAction: 'add', amount: cents(100) }));
    expect(documented).toBeInstanceOf(ApiRejectedError);
    expect(documented).toMatchObject({ code: 'ERROR_CANT_SUBTRACT', vendorText: "Can't subtract credit because the user does not have any available" });
    expect(sim.state.creditOf(5)).toBe(0);

    await admin('POST', '/_sim/faults', { operation: 'get_credit', kind: 'error', code: 'REQUEST_ERROR', text: 'Permission denied for section store' });
    const custom = await failureOf(client.getCredit(5));
    expect(custom).toMatchObject({ outcome: 'rejected', code: 'REQUEST_ERROR', vendorText: 'Permission denied for section store', resendable: false });
    expect((custom as Error).message).toContain('undocumented');
  });

  it('http-status 502 with HTML → OutcomeUnknownError', async () => {
    await admin('POST', '/_sim/faults', { operation: 'cancel_order', kind: 'http-status', status: 502 });
    const error = await failureOf(client.cancelOrder(5));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ code: 'HTTP_502', httpStatus: 502, resendable: false });
  });

  it('latency: the call still succeeds, after the delay', async () => {
    await admin('POST', '/_sim/faults', { operation: 'get_credit', kind: 'latency', ms: 200 });
    expect(await client.getCredit(5)).toEqual({ buyerCredit: 0, buyerCreditFormatted: '0.00€' });
    expect(sim.calls.at(-1)).toMatchObject({ operation: 'get_credit', fault: 'latency', status: 200 });
  });

  it('latency beyond the client timeout → unknown, and the effect still happens', async () => {
    const transport = createHttpTransport({ timeouts: { headersMs: 150 } });
    const impatient = createWebTvClient({ apiUrl: sim.apiUrl, keyId, sharedSecret: new Secret(sharedSecret) }, { transport, now: () => simClock });
    try {
      await admin('POST', '/_sim/faults', { operation: 'add_subtract_credit', kind: 'latency', ms: 1_500 });
      const error = await failureOf(impatient.addSubtractCredit(5, { creditAction: 'add', amount: cents(100) }));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(error).toMatchObject({ resendable: false });
      await expect.poll(() => sim.state.creditOf(5), { timeout: 10_000 }).toBe(100);
    } finally {
      await transport.close();
    }
  });

  it('apply-then-drop: the credit WAS added, the client sees unknown', async () => {
    await admin('POST', '/_sim/faults', { operation: 'add_subtract_credit', kind: 'apply-then-drop' });
    const error = await failureOf(client.addSubtractCredit(6, { creditAction: 'add', amount: cents(250) }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ outcome: 'unknown', resendable: false });
    expect(sim.state.creditOf(6)).toBe(250);
    expect(await client.getCredit(6)).toMatchObject({ buyerCredit: 250 });
  });

  it('broken-json: committed, the client sees unknown INVALID_JSON', async () => {
    await admin('POST', '/_sim/faults', { operation: 'add_subtract_credit', kind: 'broken-json' });
    const error = await failureOf(client.addSubtractCredit(6, { creditAction: 'add', amount: cents(100) }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ code: 'INVALID_JSON', resendable: false });
    expect(sim.state.creditOf(6)).toBe(100);
  });

  it('count, listing, clearing; a wrong fault is refused with 400', async () => {
    await admin('POST', '/_sim/faults', { operation: 'get_cart', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key', count: 2 });
    expect((await admin('GET', '/_sim/faults')).json).toEqual([
      expect.objectContaining({ operation: 'get_cart', kind: 'error', count: 2 }),
    ]);
    await expect(client.getCart(7)).rejects.toMatchObject({ vendorText: 'Invalid key' });
    expect((await admin('DELETE', '/_sim/faults')).status).toBe(200);
    expect((await admin('GET', '/_sim/faults')).json).toEqual([]);
    expect(await client.getCart(7)).toMatchObject({ orderId: null });

    const wrongOperation = await admin('POST', '/_sim/faults', { operation: 'DeleteOrder', kind: 'error', code: 'ERROR' });
    expect(wrongOperation.status).toBe(400);
    const wrongKind = await admin('POST', '/_sim/faults', { operation: 'get_cart', kind: 'wrong-hash' });
    expect(wrongKind.status).toBe(400);
  });
});

describe('state', () => {
  it('GET /_sim/state shows the store and no credential; the call log hides signatures', async () => {
    await client.addSubtractCredit(8, { creditAction: 'add', amount: cents(1234) });
    const state = await admin('GET', '/_sim/state');
    expect(state.status).toBe(200);
    const snapshot = state.json as { users: Array<{ id: number; credit: string }>; products: Array<{ id: number; price: string }>; store: { currencyId: number } };
    expect(snapshot.users).toHaveLength(100);
    expect(snapshot.users.find((user) => user.id === 8)).toMatchObject({ credit: '12.34', cart: [], currentOrderId: null, orders: [] });
    expect(snapshot.products.map((product) => product.id)).toEqual([1, 2, 3, 4, 5]);
    expect(snapshot.products[0]).toMatchObject({ price: '5.50' });
    expect(snapshot.store.currencyId).toBe(5);
    expect(state.text).not.toContain(sharedSecret);
    expect(state.text).not.toContain(keyId);

    const calls = await admin('GET', '/_sim/calls');
    expect(calls.text).not.toContain(sharedSecret);
    expect(calls.text).not.toContain(keyId);
    const [call] = calls.json as Array<{ query: Record<string, string> }>;
    expect(call?.query).toMatchObject({ go: 'store', do: 'add_subtract_credit', iq: '8', signature: '[redacted]', key: '[redacted]', salt: '[redacted]' });
  });

  it('the empty seed has no users or products; the demo seed has users 1–100 and products 1–5 in EUR', async () => {
    const empty = await startWebTvSimulator({ credentials: [credentials], seed: 'empty' });
    try {
      expect(empty.state.users.size).toBe(0);
      expect(empty.state.products.size).toBe(0);
    } finally {
      await empty.close();
    }
    expect([...sim.state.users.keys()]).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([...sim.state.users.values()].every((user) => user.credit === 0 && user.cart.size === 0 && user.orders.length === 0)).toBe(true);
    expect(sim.state.storeCurrencyId).toBe(5);
  });

  it('refuses bad options', async () => {
    await expect(startWebTvSimulator({ credentials: [] })).rejects.toBeInstanceOf(InvalidWebTvSimulatorOptionsError);
    await expect(startWebTvSimulator({ credentials: [credentials], requestExpirySeconds: 0 })).rejects.toThrow(/requestExpirySeconds/);
  });
});

// ---- the vendor's PHP, when PHP is installed ------------------------------------------------

const php = phpForTests({ check: "the WebTV simulator against the vendor's PHP sample", extensions: ['curl'] });

describe.skipIf(php === undefined)("the vendor's PHP sample against the simulator", () => {
  const dir = mkdtempSync(join(tmpdir(), 'webtv-php-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('add_subtract_credit as in seed 003 (curl multipart, amount 5.00 as a PHP float)', async () => {
    const script = join(dir, 'add_credit.php');
    // Seed 003's sample, with the TLS-verification switches left out (loopback http).
    writeFileSync(
      script,
      `<?php
$GET_VARS = array("go" => "store", "do" => "add_subtract_credit", "iq" => "2");
$POST_VARS = array("creditAction" => "add", "amount" => 5.00, "description" => "Coupon XJW5P redeem");
$API_URL = getenv("API_URL");
$API_KEY_ID = getenv("API_KEY_ID");
$API_SHARED_SECRET = getenv("API_SHARED_SECRET");
$salt = md5(mt_rand());
$timestamp = time();
$signature = base64_encode(hash_hmac('sha256', $salt.$timestamp, $API_SHARED_SECRET, true));
$GET_VARS["timestamp"] = $timestamp;
$GET_VARS["salt"] = $salt;
$GET_VARS["key"] = $API_KEY_ID;
$GET_VARS["signature"] = $signature;
$REQUEST_URL = $API_URL."?".http_build_query($GET_VARS);
$ch = curl_init();
curl_setopt($ch, CURLOPT_URL, $REQUEST_URL);
curl_setopt($ch, CURLOPT_POST, true);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_HEADER, false);
curl_setopt($ch, CURLOPT_POSTFIELDS, $POST_VARS);
$response = curl_exec($ch);
if (!$response) { fwrite(STDERR, 'API call failed: '.curl_error($ch)); exit(1); }
echo json_encode(json_decode($response, true));
`,
    );
    // This test's simulator runs on the real clock: PHP signs with time().
    const realClock = await startWebTvSimulator({ credentials: [credentials] });
    try {
      const run = await runPhpFile(php!, script, {
        env: { API_URL: realClock.apiUrl, API_KEY_ID: keyId, API_SHARED_SECRET: sharedSecret },
      });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ ok: 'Credit action was performed' });
      expect(realClock.state.creditOf(2)).toBe(500);
      expect(realClock.calls.at(-1)?.fields).toEqual({ creditAction: 'add', amount: '5', description: 'Coupon XJW5P redeem' });
    } finally {
      await realClock.close();
    }
  });

  it("phpJsonEncode matches PHP's json_encode", async () => {
    const script = join(dir, 'encode.php');
    writeFileSync(script, '<?php echo json_encode(array_map("json_encode", json_decode(stream_get_contents(STDIN), true)));');
    const values: unknown[] = [
      { ok: 'The order was cancelled' },
      { data: { buyer_credit: '3.00', buyer_credit_formatted: '3.00€' } },
      { list: [{ date_formatted: '30/09/2017', invoice_url: 'https://x.example/a/b?c=d&e=f', text: 'Ünïcödé 日本語 😀 "quoted" \\ back' }] },
      { ok: 'Order was placed', id: 319 },
      { error: 'ERROR_CANT_SUBTRACT', error_long: "Can't subtract credit because the user does not have any available" },
      { order_id: null, flag: '1', tab: 'a\tb\nc' },
    ];
    const fromPhp = (await runPhpJson(php!, script, values)) as string[];
    expect(values.map((value) => phpJsonEncode(value))).toEqual(fromPhp);
  });
});
