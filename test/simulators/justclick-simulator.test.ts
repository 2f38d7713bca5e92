/**
 * The JustClick simulator over plain HTTP (fetch), as a PHP client or an operator would
 * use it: urlencoded and multipart bodies, hashes over nested names as PHP re-encodes
 * them, PHP-style JSON answers, and the /_sim/ admin API.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nestPhpFields } from '../../src/apis/justclick/php-fields.ts';
import { justClickResponseHash, phpHttpBuildQuery } from '../../src/apis/justclick/signing.ts';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import type { JustClickSimulator } from '../../src/simulators/justclick/index.ts';

const login = 'username';
const secret = 'X'.repeat(40);

let sim: JustClickSimulator;

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** The hash PHP's server computes: over $_POST without hash, re-encoded. */
function phpHash(fields: Array<[string, string]>): string {
  return md5(`${phpHttpBuildQuery(nestPhpFields(fields))}::${login}::${secret}`);
}

interface Answer {
  status: number;
  contentType: string;
  raw: string;
  json: { error_code: number; error_text: string; hash: string; result?: Record<string, unknown> };
}

async function post(method: string, body: string | FormData, contentType?: string): Promise<Answer> {
  const response = await fetch(`${sim.apiUrl}/${method}`, {
    method: 'POST',
    body,
    ...(contentType === undefined ? {} : { headers: { 'content-type': contentType } }),
  });
  const raw = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', raw, json: JSON.parse(raw) as Answer['json'] };
}

/** Signed urlencoded body from fields in order, hash appended last. */
function urlencoded(fields: Array<[string, string]>, hash = phpHash(fields)): string {
  const all: Array<[string, string]> = [...fields, ['hash', hash]];
  return all.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
}

function expectSigned(answer: Answer): void {
  expect(answer.json.hash).toBe(justClickResponseHash(answer.json.error_code, answer.json.error_text, secret));
}

async function admin(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sim.origin}${path}`, init);
  return { status: response.status, body: (await response.json()) as unknown };
}

beforeAll(async () => {
  sim = await startJustClickSimulator({ login, secret, seed: 'demo' });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
});

describe('requests', () => {
  it('starts with no bills (the demo seed creates none)', () => {
    expect(sim.state.listBills()).toEqual([]);
    expect(sim.apiUrl).toBe(`${sim.origin}/api`);
  });

  it('answers the docs/vendor-apis.md vector request: DeleteOrder bill_id=1111 of a missing bill', async () => {
    const answer = await post('DeleteOrder', `bill_id=1111&hash=47d890b61dcad113dee75f57f69be233`, 'application/x-www-form-urlencoded');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/html; charset=UTF-8');
    expect(answer.json).toEqual({ error_code: 200, error_text: 'Nonexistent order', hash: 'e95a8dcc9368519482412470b53d392f' });
  });

  it('deletes an existing bill with a urlencoded request', async () => {
    sim.state.createBill({ billId: '1111', email: 'a@example.com', goods: [{ name: 'course' }] });
    const answer = await post('DeleteOrder', urlencoded([['bill_id', '1111']]), 'application/x-www-form-urlencoded');
    expect(answer.json).toEqual({ error_code: 0, error_text: 'OK', hash: 'cf2b10a8fd707c6d14f496e19503b0a1' });
    expect(sim.state.hasBill('1111')).toBe(false);
  });

  it('accepts multipart bodies (what PHP curl sends for an array)', async () => {
    const fields: Array<[string, string]> = [
      ['bill_id', 'M-1'],
      ['bill_email', 'multi@example.com'],
      ['goods[0][good_name]', 'course'],
      ['goods[0][good_sum]', '990.00'],
    ];
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, value);
    form.append('hash', phpHash(fields));
    const answer = await post('CreateOrder', form);
    expect(answer.json).toMatchObject({ error_code: 0, error_text: 'OK', result: { bill_id: 'M-1' } });
    expectSigned(answer);
    expect(sim.state.getBill('M-1')?.goods).toEqual([{ name: 'course', sum: '990.00' }]);
  });

  it('verifies hashes over nested goods[i][...] names as PHP re-encodes them, in the order received', async () => {
    const fields: Array<[string, string]> = [
      ['goods[0][good_sum]', '5.50'],
      ['bill_email', 'nested@example.com'],
      ['goods[0][good_name]', 'book'],
      ['goods[1][good_name]', 'pen'],
    ];
    // PHP nests goods first (its position is that of goods[0][good_sum]), then bill_email.
    expect(phpHttpBuildQuery(nestPhpFields(fields))).toBe(
      'goods%5B0%5D%5Bgood_sum%5D=5.50&goods%5B0%5D%5Bgood_name%5D=book&goods%5B1%5D%5Bgood_name%5D=pen&bill_email=nested%40example.com',
    );
    const flatHash = md5(`${fields.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&')}::${login}::${secret}`);
    const refused = await post('CreateOrder', urlencoded(fields, flatHash), 'application/x-www-form-urlencoded');
    expect(refused.json).toMatchObject({ error_code: 4, error_text: 'incorrect hash' });
    expectSigned(refused);

    const accepted = await post('CreateOrder', urlencoded(fields), 'application/x-www-form-urlencoded');
    expect(accepted.json).toMatchObject({ error_code: 0 });
    const billId = String(accepted.json.result?.['bill_id']);
    expect(sim.state.getBill(billId)?.goods).toEqual([
      { name: 'book', sum: '5.50' },
      { name: 'pen', sum: null },
    ]);
  });

  it('hashes names PHP rewrites as PHP does (x.y becomes x_y)', async () => {
    const fields: Array<[string, string]> = [['bill_id', 'nope'], ['x.y', '2']];
    const raw = md5(`bill_id=nope&x.y=2::${login}::${secret}`);
    expect((await post('DeleteOrder', urlencoded(fields, raw), 'application/x-www-form-urlencoded')).json.error_code).toBe(4);
    expect((await post('DeleteOrder', urlencoded(fields), 'application/x-www-form-urlencoded')).json.error_code).toBe(200);
  });

  it('answers 2 without data, 1 without hash, 4 with a wrong hash, 203 without bill_id', async () => {
    const noData = await post('DeleteOrder', '', 'application/x-www-form-urlencoded');
    expect(noData.json).toMatchObject({ error_code: 2, error_text: 'no transmitted data' });
    expectSigned(noData);
    const noHash = await post('DeleteOrder', 'bill_id=1', 'application/x-www-form-urlencoded');
    expect(noHash.json).toMatchObject({ error_code: 1, error_text: 'not transferred hash' });
    const wrongHash = await post('DeleteOrder', urlencoded([['bill_id', '1']], md5('something else')), 'application/x-www-form-urlencoded');
    expect(wrongHash.json).toMatchObject({ error_code: 4 });
    const noBill = await post('DeleteOrder', urlencoded([]), 'application/x-www-form-urlencoded');
    expect(noBill.json).toMatchObject({ error_code: 203, error_text: 'Order number is empty' });
    expectSigned(noBill);
  });

  it('answers 3 for an unknown method, 404 outside /api/, and matches method names without case', async () => {
    const unknown = await post('FrobnicateOrder', urlencoded([['bill_id', '1']]), 'application/x-www-form-urlencoded');
    expect(unknown.json).toMatchObject({ error_code: 3, error_text: 'wrong posted data' });
    expectSigned(unknown);
    const outside = await fetch(`${sim.origin}/elsewhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(outside.status).toBe(404);
    await outside.text();
    const lower = await post('deleteorder', urlencoded([['bill_id', 'none']]), 'application/x-www-form-urlencoded');
    expect(lower.json.error_code).toBe(200);
  });

  it('answers JSON like PHP json_encode: Cyrillic as \\uXXXX, / as \\/', async () => {
    sim.state.createBill({ billId: 'J-1', email: 'j@example.com', firstName: 'Иван', goods: [{ name: 'course', sum: '10.00' }] });
    const answer = await post('GetOrderInfo', urlencoded([['bill_id', 'J-1']]), 'application/x-www-form-urlencoded');
    expect(answer.raw).toContain('"first_name":"\\u0418\\u0432\\u0430\\u043d"');
    expect(answer.raw).toContain('https:\\/\\/username.justclick.ru\\/order\\/J-1\\/');
    expect(answer.json.result).toMatchObject({ id: 'J-1', first_name: 'Иван', price: '10.00', bill_sum_topay: '10.00', good_count: '1' });
    expectSigned(answer);
  });

  it('creates 601 for a taken bill id with the existing result.bill_id', async () => {
    sim.state.createBill({ billId: '5005', email: 'a@example.com', goods: [{ name: 'x' }] });
    const fields: Array<[string, string]> = [['bill_id', '5005'], ['bill_email', 'b@example.com'], ['goods[0][good_name]', 'y']];
    const answer = await post('CreateOrder', urlencoded(fields), 'application/x-www-form-urlencoded');
    expect(answer.json).toMatchObject({ error_code: 601, error_text: 'order already exists', result: { bill_id: 5005 } });
    expect(sim.state.getBill('5005')?.email).toBe('a@example.com');
  });
});

describe('admin API', () => {
  it('injects faults over HTTP and lists, applies and clears them', async () => {
    const added = await admin('/_sim/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'DeleteOrder', kind: 'error', code: '302', count: 2 }),
    });
    expect(added.status).toBe(201);
    expect((await admin('/_sim/faults')).body).toEqual([{ operation: 'DeleteOrder', kind: 'error', code: '302', count: 2 }]);
    const answer = await post('DeleteOrder', urlencoded([['bill_id', 'F-1']]), 'application/x-www-form-urlencoded');
    expect(answer.json).toMatchObject({ error_code: 302, error_text: 'nonexistent order' });
    expectSigned(answer);
    expect(await admin('/_sim/faults', { method: 'DELETE' })).toMatchObject({ status: 200 });
    expect((await admin('/_sim/faults')).body).toEqual([]);
  });

  it('refuses faults for unknown methods or kinds', async () => {
    const bad = await admin('/_sim/faults', { method: 'POST', body: JSON.stringify({ operation: 'Nope', kind: 'teleport' }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/DeleteOrder, CreateOrder, UpdateOrderStatus, GetOrderInfo/);
  });

  it('commits, then signs with a wrong hash, for a wrong-hash fault', async () => {
    sim.state.createBill({ billId: 'WH-1', email: 'a@example.com', goods: [{ name: 'x' }] });
    await admin('/_sim/faults', { method: 'POST', body: JSON.stringify({ operation: 'DeleteOrder', kind: 'wrong-hash' }) });
    const answer = await post('DeleteOrder', urlencoded([['bill_id', 'WH-1']]), 'application/x-www-form-urlencoded');
    expect(answer.json).toMatchObject({ error_code: 0, error_text: 'OK' });
    expect(answer.json.hash).not.toBe(justClickResponseHash(0, 'OK', secret));
    expect(sim.state.hasBill('WH-1')).toBe(false);
  });

  it('shows state and calls over HTTP, with hashes redacted and no secret anywhere', async () => {
    sim.state.createBill({ billId: 'ST-1', email: 'state@example.com', goods: [{ name: 'x', sum: '1.00' }] });
    const state = await admin('/_sim/state');
    expect(state.body).toMatchObject({ login, bills: expect.arrayContaining([expect.objectContaining({ billId: 'ST-1', email: 'state@example.com' })]) });
    const calls = await admin('/_sim/calls');
    const logged = calls.body as Array<{ operation: string | null; fields: Record<string, string> }>;
    expect(logged.length).toBeGreaterThan(5);
    expect(logged.filter((call) => 'hash' in call.fields).every((call) => call.fields['hash'] === '[redacted]')).toBe(true);
    expect(JSON.stringify(state.body)).not.toContain(secret);
    expect(JSON.stringify(calls.body)).not.toContain(secret);
  });

  it('refuses bad options', async () => {
    await expect(startJustClickSimulator({ login: '', secret: '' })).rejects.toThrow(/login must not be empty; secret must not be empty/);
  });
});
