/**
 * The JustClick client against the in-process simulator on a loopback port: every method,
 * every documented error code (fault injection where the simulator cannot produce it),
 * untrusted answers, input validation, and the secret kept out of every message.
 */
import { Secret } from '../../src/config.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJustClickClient } from '../../src/apis/justclick/client.ts';
import type { JustClickClient } from '../../src/apis/justclick/client.ts';
import { justClickCodes } from '../../src/apis/justclick/errors.ts';
import { ApiCallError, ApiRejectedError, OutcomeUnknownError } from '../../src/apis/outcome.ts';
import type { Cents } from '../../src/money.ts';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import type { JustClickSimulator } from '../../src/simulators/justclick/index.ts';

const login = 'shop';
const secret = 'jc-SECRET-0f3a9c2e71b4d8a65e0c1f2b3a4d5e6f';

let sim: JustClickSimulator;
let client: JustClickClient;
/** Every error message and summary seen, checked for the secret at the end. */
const seen: string[] = [];

async function failure(promise: Promise<unknown>): Promise<ApiCallError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiCallError)) throw error;
    seen.push(error.message, JSON.stringify(error), JSON.stringify(error.toJSON()));
    return error;
  }
  throw new Error('expected the call to fail');
}

function seedBill(billId: string): void {
  sim.state.createBill({ billId, email: 'buyer@example.com', goods: [{ name: 'course', sum: '990.00' }] });
}

beforeAll(async () => {
  sim = await startJustClickSimulator({ login, secret, seed: 'empty' });
  client = createJustClickClient({ login, secret: new Secret(secret), apiUrl: sim.apiUrl });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
});

describe('methods that succeed', () => {
  it('creates an order with our bill id, then answers created: false for the same id (601)', async () => {
    const order = {
      billId: 'A-1001',
      email: 'buyer@example.com',
      firstName: 'Иван',
      surname: 'Петров',
      tag: 'orderflow',
      comment: 'first & only',
      utm: { utm_source: 'mail list' },
      goods: [
        { name: 'course', sum: 99000 as Cents },
        { name: 'book', sum: 550 as Cents },
      ],
    };
    await expect(client.createOrder(order)).resolves.toEqual({ billId: 'A-1001', created: true });
    const bill = sim.state.getBill('A-1001');
    expect(bill).toMatchObject({
      email: 'buyer@example.com',
      firstName: 'Иван',
      comment: 'first & only',
      utm: { utm_source: 'mail list' },
      goods: [{ name: 'course', sum: '990.00' }, { name: 'book', sum: '5.50' }],
    });
    await expect(client.createOrder(order)).resolves.toEqual({ billId: 'A-1001', created: false });
    expect(sim.state.listBills().filter((b) => b.billId === 'A-1001')).toHaveLength(1);
  });

  it('creates an order without a bill id and returns the one JustClick chose', async () => {
    const result = await client.createOrder({ email: 'other@example.com', goods: [{ name: 'course', sum: 100 as Cents }] });
    expect(result.created).toBe(true);
    expect(result.billId).toMatch(/^\d+$/);
    expect(sim.state.getBill(result.billId)?.email).toBe('other@example.com');
  });

  it('reads an order (GetOrderInfo) into typed fields with exact amounts', async () => {
    seedBill('R-1');
    const info = await client.getOrderInfo('R-1');
    expect(info).toMatchObject({
      billId: 'R-1',
      email: 'buyer@example.com',
      payStatus: 'waiting',
      price: 99000,
      leftToPay: 99000,
    });
    expect(info.paymentLink).toContain('/order/R-1/');
  });

  it('updates the status (UpdateOrderStatus) and the order reads as paid', async () => {
    seedBill('U-1');
    await expect(client.updateOrderStatus('U-1', 'paid', { date: 1_700_000_000 })).resolves.toEqual({ code: 0, text: 'OK' });
    expect(sim.state.getBill('U-1')).toMatchObject({ status: 'paid', paidAt: 1_700_000_000 });
    expect((await client.getOrderInfo('U-1')).leftToPay).toBe(0);
    await client.updateOrderStatus('U-1', 'sent', { date: 1_700_000_100, trackingNumber: 'RA123456789RU' });
    expect(sim.state.getBill('U-1')).toMatchObject({ status: 'sent', trackingNumber: 'RA123456789RU' });
  });

  it('deletes an existing order, then reports it already absent (200)', async () => {
    seedBill('D-1');
    await expect(client.deleteOrder('D-1')).resolves.toEqual({ status: 'deleted', code: 0, text: 'OK' });
    expect(sim.state.hasBill('D-1')).toBe(false);
    await expect(client.deleteOrder('D-1')).resolves.toEqual({ status: 'already-absent', code: 200, text: 'Nonexistent order' });
  });

  it('treats the documented 302 on DeleteOrder as already absent too', async () => {
    sim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '302' });
    await expect(client.deleteOrder('D-302')).resolves.toEqual({ status: 'already-absent', code: 302, text: 'nonexistent order' });
  });

  it('treats 601 from a fault as created: false with result.bill_id', async () => {
    sim.addFault({ operation: 'CreateOrder', kind: 'error', code: '601' });
    await expect(client.createOrder({ billId: 'C-601', email: 'a@b.c', goods: [{ name: 'x', sum: 1 as Cents }] })).resolves.toEqual({
      billId: 'C-601',
      created: false,
    });
    expect(sim.state.hasBill('C-601')).toBe(false);
  });

  it('call() returns the verified answer for code 0', async () => {
    seedBill('G-1');
    const answer = await client.call('GetOrderInfo', { bill_id: 'G-1' });
    expect(answer).toMatchObject({ error_code: 0, error_text: 'OK', result: { id: 'G-1', email: 'buyer@example.com' } });
  });

  it('call() sends nested goods and canonicalises known method names', async () => {
    const answer = await client.call('createorder', [
      ['bill_id', 'N-1'],
      ['bill_email', 'n@example.com'],
      ['goods', [{ good_name: 'course', good_sum: '990.00' }]],
    ]);
    expect(answer.error_code).toBe(0);
    expect(sim.calls.at(-1)).toMatchObject({ operation: 'CreateOrder', fields: { 'goods[0][good_name]': 'course', hash: '[redacted]' } });
  });

  it('call() throws for the codes that the typed methods treat as not errors', async () => {
    const absent = await failure(client.call('DeleteOrder', { bill_id: 'never-existed' }));
    expect(absent).toBeInstanceOf(ApiRejectedError);
    expect(absent).toMatchObject({ code: '200', vendorText: 'Nonexistent order', resendable: false });
    expect(absent.message).toMatch(/already absent/);
  });

  it('verifies the hash over the text as received: lower-case and Cyrillic texts pass', async () => {
    sim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '302', text: 'Заказ не найден / ok' });
    await expect(client.deleteOrder('T-1')).resolves.toEqual({ status: 'already-absent', code: 302, text: 'Заказ не найден / ok' });
  });
});

describe('every documented error code', () => {
  const errorCodes = [...justClickCodes.values()].filter((info) => info.code !== 0);

  it('has every code of docs/vendor-apis.md in the table', () => {
    expect([...justClickCodes.keys()].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 200, 201, 202, 203, 302, 303, 400, 600, 601, 602, 603, 604, 605, 606,
    ]);
  });

  // GetOrderInfo treats every code as an error (200/302/601 are not errors only for Delete/Create).
  it.each(errorCodes.map((info) => [info.code, info] as const))('rejects code %i through client and simulator', async (code, info) => {
    sim.addFault({ operation: 'GetOrderInfo', kind: 'error', code: String(code) });
    const error = await failure(client.getOrderInfo('E-1'));
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({
      outcome: 'rejected',
      api: 'justclick',
      operation: 'GetOrderInfo',
      code: String(code),
      vendorText: info.text,
      resendable: info.resendable,
      httpStatus: 200,
    });
    expect(error.message).toContain(`answered error ${code}`);
    expect(error.message).toContain(info.action);
  });

  it('marks the request limit (8) resendable and hash, login, IP and account problems final with what to do', () => {
    expect(justClickCodes.get(8)?.resendable).toBe(true);
    for (const code of [1, 4, 5, 6, 7]) expect(justClickCodes.get(code)?.resendable).toBe(false);
    expect(justClickCodes.get(4)?.action).toMatch(/JUSTCLICK_SECRET/);
    expect(justClickCodes.get(6)?.action).toMatch(/IP/);
  });

  it('produces the codes the simulator can produce naturally', async () => {
    const noBill = await failure(client.call('DeleteOrder', {}));
    expect(noBill).toMatchObject({ code: '203', vendorText: 'Order number is empty', resendable: false });

    const notFound = await failure(client.getOrderInfo('missing'));
    expect(notFound).toMatchObject({ code: '400', resendable: false });

    const noStatusTarget = await failure(client.updateOrderStatus('missing', 'cancel'));
    expect(noStatusTarget).toMatchObject({ code: '302', resendable: false });

    seedBill('S-1');
    const wrongStatus = await failure(client.call('UpdateOrderStatus', { bill_id: 'S-1', status: 'sale' }));
    expect(wrongStatus).toMatchObject({ code: '303', resendable: false });

    const wrongData = await failure(client.call('CreateOrder', { bill_email: 'x@example.com' }));
    expect(wrongData).toMatchObject({ code: '3', vendorText: 'wrong posted data', resendable: false });
  });

  it('rejects an undocumented code as final and says so', async () => {
    sim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '999', text: 'mystery' });
    const error = await failure(client.deleteOrder('X-1'));
    expect(error).toMatchObject({ outcome: 'rejected', code: '999', vendorText: 'mystery', resendable: false });
    expect(error.message).toMatch(/does not document/);
  });

  it('gets code 4 from the simulator with the wrong secret: an access error, not an unknown outcome', async () => {
    const wrong = createJustClickClient({ login, secret: new Secret('not-the-secret'), apiUrl: sim.apiUrl });
    try {
      seedBill('W-1');
      // The answer is signed with the real secret, so our key cannot verify it; but a refused
      // signature changed nothing, and a wrong secret is what this looks like.
      const error = await failure(wrong.deleteOrder('W-1'));
      expect(error).toBeInstanceOf(ApiRejectedError);
      expect(error).toMatchObject({ outcome: 'rejected', code: '4', vendorText: 'incorrect hash', accessProblem: true, resendable: false });
      expect(error.message).toMatch(/signed with another key than JUSTCLICK_SECRET/);
      expect(error.message).not.toMatch(/may have taken effect/);
      expect(sim.calls.at(-1)?.answer).toContain('"error_code":4');
      expect(sim.state.hasBill('W-1')).toBe(true);
    } finally {
      await wrong.close();
    }
  });

  it('gets a verified code 4 when only the login is wrong', async () => {
    const wrongLogin = createJustClickClient({ login: 'someone-else', secret: new Secret(secret), apiUrl: sim.apiUrl });
    try {
      const error = await failure(wrongLogin.deleteOrder('W-2'));
      expect(error).toMatchObject({ outcome: 'rejected', code: '4', vendorText: 'incorrect hash', resendable: false });
      expect(error.message).toMatch(/JUSTCLICK_SECRET/);
    } finally {
      await wrongLogin.close();
    }
  });
});

describe('answers that cannot be trusted', () => {
  it('refuses a wrong response hash as unknown, although the bill WAS deleted', async () => {
    seedBill('H-1');
    sim.addFault({ operation: 'DeleteOrder', kind: 'wrong-hash' });
    const error = await failure(client.deleteOrder('H-1'));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ outcome: 'unknown', code: 'BAD_RESPONSE_HASH', resendable: true });
    expect(error.message).toMatch(/response signature did not verify/);
    expect(error.message).toMatch(/not trusted/);
    expect(error.message).toMatch(/JUSTCLICK_SECRET/);
    expect(error.message).toMatch(/may have taken effect/);
    expect(sim.state.hasBill('H-1')).toBe(false);
  });

  it('marks an untrusted CreateOrder without bill id as not resendable', async () => {
    sim.addFault({ operation: 'CreateOrder', kind: 'wrong-hash' });
    const error = await failure(client.createOrder({ email: 'a@b.c', goods: [{ name: 'x', sum: 1 as Cents }] }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE_HASH', resendable: false });
  });

  it('reports HTTP 5xx, broken JSON and a dropped connection as unknown', async () => {
    sim.addFault({ operation: 'GetOrderInfo', kind: 'http-status', status: 502 });
    expect(await failure(client.getOrderInfo('Z-1'))).toMatchObject({ outcome: 'unknown', code: 'HTTP_502' });

    sim.addFault({ operation: 'GetOrderInfo', kind: 'broken-json' });
    expect(await failure(client.getOrderInfo('Z-1'))).toMatchObject({ outcome: 'unknown', code: 'INVALID_JSON' });

    seedBill('Z-2');
    sim.addFault({ operation: 'DeleteOrder', kind: 'apply-then-drop' });
    expect(await failure(client.deleteOrder('Z-2'))).toMatchObject({ outcome: 'unknown', resendable: true });
    expect(sim.state.hasBill('Z-2')).toBe(false);
  });

  it('rejects HTTP 4xx without a vendor answer as final', async () => {
    sim.addFault({ operation: 'GetOrderInfo', kind: 'http-status', status: 403 });
    expect(await failure(client.getOrderInfo('Z-3'))).toMatchObject({ outcome: 'rejected', code: 'HTTP_403', resendable: false });
  });
});

describe('input refused before any call', () => {
  it('sends nothing for bad input', async () => {
    const before = sim.calls.length;
    const refusals = await Promise.all([
      failure(client.deleteOrder('')),
      failure(client.deleteOrder(' 12 ')),
      failure(client.getOrderInfo('a\nb')),
      failure(client.createOrder({ email: 'not-an-email', goods: [] })),
      failure(client.createOrder({ email: 'a@b.c', goods: [{ name: '', sum: -1 as Cents }] })),
      failure(client.createOrder({ billId: '', email: 'a@b.c', goods: [{ name: 'x', sum: 1.5 as Cents }] })),
      failure(client.updateOrderStatus('U-9', 'paid')),
      failure(client.updateOrderStatus('U-9', 'sent', { date: 1_700_000_000 })),
      failure(client.updateOrderStatus('U-9', 'sale' as never)),
      failure(client.call('../DeleteOrder', { bill_id: '1' })),
      failure(client.call('DeleteOrder', { 'bill.id': '1' })),
      failure(client.call('DeleteOrder', { 'bill_id[': '1' })),
      failure(client.call('DeleteOrder', { bill_id: new Date(0) as never })),
    ]);
    for (const error of refusals) {
      expect(error).toBeInstanceOf(ApiRejectedError);
      expect(error).toMatchObject({ code: 'INVALID_INPUT', resendable: false });
      expect(error.message).toMatch(/refused before sending/);
    }
    expect(refusals[3]?.message).toMatch(/email .* is not an email address; goods must list at least one product/);
    expect(refusals[6]?.message).toMatch(/date \(required for paid\)/);
    expect(refusals[7]?.message).toMatch(/trackingNumber/);
    expect(refusals[10]?.message).toMatch(/PHP's parsing/);
    expect(sim.calls.length).toBe(before);
  });

});

describe('secrets', () => {
  it('never appear in any message, summary or call log', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const text of seen) expect(text).not.toContain(secret);
    expect(JSON.stringify(sim.calls)).not.toContain(secret);
    expect(JSON.stringify(sim.state.snapshot())).not.toContain(secret);
  });
});
