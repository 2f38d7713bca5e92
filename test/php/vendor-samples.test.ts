/**
 * The vendors' own PHP samples (seeds 000–004 in shared/seeds/), run by PHP with curl against
 * our simulators. Only the API URL is changed; the samples keep their own public example
 * credentials, which the simulators are started with. Each sample must succeed, and the
 * simulator's state must show the effect.
 *
 * This proves, with the vendors' code rather than ours: the simulators accept PHP-curl's
 * multipart bodies (the WebTV samples pass CURLOPT_POSTFIELDS an array) and http_build_query
 * bodies (JustClick), the documented signatures, and that the JustClick simulator's response
 * hashes pass the sample's own CheckHash.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cents } from '../../src/money.ts';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import type { JustClickSimulator } from '../../src/simulators/justclick/index.ts';
import { startWebTvSimulator } from '../../src/simulators/webtv/index.ts';
import type { WebTvSimulator } from '../../src/simulators/webtv/index.ts';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRun, PhpRuntime } from '../../harness/php.ts';
import {
  fixtureSampleCode,
  justClickSampleCode,
  justClickSampleDeleteOrderUrl,
  normalizeWhitespace,
  readSeed,
  replaceOnce,
  sampleCredentials,
  sampleSeeds,
  seedsForTests,
  webTvSampleApiUrl,
  webTvSampleCode,
  writePhpScript,
} from '../../harness/php-samples.ts';

const check = 'the vendor PHP samples';
const php = phpForTests({ check, extensions: ['curl', 'hash', 'json'] });
const seeds = seedsForTests(check);

function requireReady(): { php: PhpRuntime; seeds: string } {
  if (php === undefined || seeds === undefined) throw new Error('PHP or the seeds are missing (this suite should have been skipped)');
  return { php, seeds };
}

/** Runs sample code (without `<?php`) in PHP; it must exit 0 without a warning. */
async function runSample(code: string, name: string): Promise<PhpRun> {
  const script = writePhpScript(code, name);
  try {
    const run = await runPhpFile(requireReady().php, script.path, { killAfterMs: 60_000 });
    expect(run.stderr, `PHP printed on stderr for ${name}`).toBe('');
    expect(run.exitCode, `${name} exited with ${String(run.exitCode)}; stdout:\n${run.stdout}`).toBe(0);
    return run;
  } finally {
    script.remove();
  }
}

/** print_r(json_decode('{"ok": "..."}', true)) */
function printedOk(text: string): string {
  return `Array\n(\n    [ok] => ${text}\n)\n`;
}

const webTvSeed = (name: string): string => webTvSampleCode(readSeed(requireReady().seeds, name), name);

describe.skipIf(php === undefined || seeds === undefined)('the vendors\' PHP samples, run against our simulators', () => {
  describe('the committed fixtures are the seeds\' code (for the pages that lost their line breaks)', () => {
    it('001 process_order: equal to the seed, whitespace aside', () => {
      const seedCode = webTvSampleCode(readSeed(requireReady().seeds, sampleSeeds.processOrder), sampleSeeds.processOrder);
      expect(normalizeWhitespace(fixtureSampleCode('001_process_order.php'))).toBe(normalizeWhitespace(seedCode));
    });

    it('004 DeleteOrder: equal to the seed, whitespace and the scraped `->;` aside', () => {
      const seedCode = justClickSampleCode(readSeed(requireReady().seeds, sampleSeeds.deleteOrder), sampleSeeds.deleteOrder);
      expect(seedCode).toContain('$resp->;error_code');
      expect(normalizeWhitespace(fixtureSampleCode('004_delete_order.php'))).toBe(normalizeWhitespace(seedCode.replaceAll('->;', '->')));
    });

    it('every sample carries the example credentials the simulators are started with', () => {
      const codes = [
        webTvSeed(sampleSeeds.cancelOrder),
        fixtureSampleCode('001_process_order.php'),
        webTvSeed(sampleSeeds.listOrders),
        webTvSeed(sampleSeeds.addSubtractCredit),
      ];
      for (const code of codes) {
        expect(code).toContain(`$API_KEY_ID = "${sampleCredentials.webTvKeyId}"`);
        expect(code).toContain(`$API_SHARED_SECRET = "${sampleCredentials.webTvSharedSecret}"`);
        expect(code).toContain(`$API_URL = "${webTvSampleApiUrl}"`);
      }
      const justClick = fixtureSampleCode('004_delete_order.php');
      expect(justClick).toContain(`$user_rs['user_id'] = '${sampleCredentials.justClickLogin}'`);
      expect(justClick).toContain(`$user_rs['user_rps_key'] = '${sampleCredentials.justClickSecret}'`);
    });
  });

  describe('WebTV store samples (seeds 000–003: user 2, multipart bodies)', () => {
    let sim: WebTvSimulator;
    beforeEach(async () => {
      sim = await startWebTvSimulator({
        port: 0,
        credentials: [{ keyId: sampleCredentials.webTvKeyId, sharedSecret: sampleCredentials.webTvSharedSecret }],
        seed: 'demo',
      });
    });
    afterEach(async () => {
      await sim.close();
    });

    const againstSim = (code: string): string => replaceOnce(code, webTvSampleApiUrl, sim.apiUrl);

    /** Gives user 2 a current order for product 1 (5.50 EUR), paid by credit when `paidByCredit`. */
    function currentOrderForUser2(paidByCredit: boolean) {
      const user = sim.state.requireUser(2);
      if (paidByCredit) sim.state.setCredit(2, 550 as Cents);
      user.cart.set(1, 1);
      return sim.state.placeOrder(user, { notifyBuyer: false, buyerIp: '', buyerUserAgent: '' });
    }

    it('000 cancel_order (the seed\'s own code) cancels user 2\'s current order', async () => {
      const order = currentOrderForUser2(false);
      const run = await runSample(againstSim(webTvSeed(sampleSeeds.cancelOrder)), '000_cancel_order.php');
      expect(run.stdout).toBe(printedOk('The order was cancelled'));
      expect(sim.state.currentOrder(2)).toBeUndefined();
      expect(order).toMatchObject({ status: 2, statusPayment: 2 });
      expect(sim.calls).toHaveLength(1);
      expect(sim.calls[0]).toMatchObject({ operation: 'cancel_order', status: 200, fields: { requester: 'ADMIN' } });
      expect(sim.calls[0]?.query).toMatchObject({ go: 'store', do: 'cancel_order', iq: '2' });
    });

    it('001 process_order (fixture = seed) processes user 2\'s paid current order and delivers it', async () => {
      const order = currentOrderForUser2(true);
      expect(order.total - order.paid).toBe(0);
      const run = await runSample(againstSim(fixtureSampleCode('001_process_order.php')), '001_process_order.php');
      expect(run.stdout).toBe(printedOk('Order was processed'));
      expect(order).toMatchObject({ status: 1, statusPayment: 1 });
      expect(sim.state.requireUser(2).delivered).toEqual([1]);
      expect(sim.calls).toEqual([expect.objectContaining({ operation: 'process_order', status: 200, fields: {} })]);
    });

    it('002 list_orders (the seed\'s own code) prints user 2\'s orders and changes nothing', async () => {
      const cancelled = currentOrderForUser2(false);
      cancelled.status = 2;
      cancelled.statusPayment = 2;
      const current = currentOrderForUser2(true);
      const before = JSON.stringify(sim.state.snapshot());
      const run = await runSample(againstSim(webTvSeed(sampleSeeds.listOrders)), '002_list_orders.php');
      expect(run.stdout).toMatch(/^Array\n\(\n {4}\[list\] => Array\n/);
      for (const order of [cancelled, current]) {
        expect(run.stdout).toContain(`[id] => ${order.id}\n`);
        expect(run.stdout).toContain(`[order_number] => ORD${String(order.id).padStart(5, '0')}\n`);
      }
      expect(run.stdout).toContain('[total] => 5.50\n');
      expect(run.stdout).toContain('[total_formatted] => 5.50€\n');
      expect(JSON.stringify(sim.state.snapshot())).toBe(before);
      expect(sim.calls).toEqual([expect.objectContaining({ operation: 'list_orders', status: 200 })]);
    });

    it('003 add_subtract_credit (the seed\'s own code) adds 5.00 credit to user 2', async () => {
      expect(sim.state.creditOf(2)).toBe(0);
      const run = await runSample(againstSim(webTvSeed(sampleSeeds.addSubtractCredit)), '003_add_subtract_credit.php');
      expect(run.stdout).toBe(printedOk('Credit action was performed'));
      expect(sim.state.creditOf(2)).toBe(500);
      expect(sim.state.requireUser(2).creditLog).toEqual([
        expect.objectContaining({ change: 'add', amount: 500, description: 'Coupon XJW5P redeem' }),
      ]);
      // PHP's curl turns the float 5.00 into the string "5" in the multipart body.
      expect(sim.calls[0]).toMatchObject({
        operation: 'add_subtract_credit',
        status: 200,
        fields: { creditAction: 'add', amount: '5', description: 'Coupon XJW5P redeem' },
      });
    });

    it('a sample run twice is signed afresh each time (new salt and timestamp are accepted)', async () => {
      const code = againstSim(webTvSeed(sampleSeeds.addSubtractCredit));
      await runSample(code, '003_add_subtract_credit.php');
      const second = await runSample(code, '003_add_subtract_credit.php');
      expect(second.stdout).toBe(printedOk('Credit action was performed'));
      expect(sim.state.creditOf(2)).toBe(1000);
    });
  });

  describe('JustClick sample (seed 004: http_build_query body, GetHash and CheckHash)', () => {
    let sim: JustClickSimulator;
    beforeEach(async () => {
      sim = await startJustClickSimulator({
        port: 0,
        login: sampleCredentials.justClickLogin,
        secret: sampleCredentials.justClickSecret,
      });
    });
    afterEach(async () => {
      await sim.close();
    });

    const sample = (): string => replaceOnce(fixtureSampleCode('004_delete_order.php'), justClickSampleDeleteOrderUrl, `${sim.apiUrl}/DeleteOrder`);

    it('DeleteOrder on bill 1111 deletes it and prints "Заказ удалён" (the answer\'s hash passes CheckHash)', async () => {
      sim.state.createBill({ billId: '1111', email: 'buyer@example.com', goods: [{ name: 'course', sum: '990.00' }] });
      sim.state.createBill({ billId: '1112', email: 'other@example.com', goods: [{ name: 'course', sum: '990.00' }] });
      const run = await runSample(sample(), '004_delete_order.php');
      expect(run.stdout).toBe('Заказ удалён. Ответ сервиса: OK');
      expect(sim.state.hasBill('1111')).toBe(false);
      expect(sim.state.hasBill('1112')).toBe(true);
      expect(sim.calls).toEqual([expect.objectContaining({ operation: 'DeleteOrder', status: 200, fields: { bill_id: '1111', hash: '[redacted]' } })]);
    });

    it('DeleteOrder on a bill that does not exist prints the signed error (hash still valid)', async () => {
      const run = await runSample(sample(), '004_delete_order.php');
      expect(run.stdout).toBe('Ошибка код:200 - описание: Nonexistent order');
    });

    it('a response with a wrong hash is caught by the sample\'s own CheckHash', async () => {
      sim.state.createBill({ billId: '1111', email: 'buyer@example.com', goods: [{ name: 'course', sum: '990.00' }] });
      sim.addFault({ operation: 'DeleteOrder', kind: 'wrong-hash' });
      const run = await runSample(sample(), '004_delete_order.php');
      expect(run.stdout).toMatch(/^Ошибка! Подпись к ответу не верна!stdClass Object\n/);
    });
  });
});
