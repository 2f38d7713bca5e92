/**
 * `orderflow bulk refund-and-cancel --file … --wait --report …` with 1,000 items, against
 * `orderflow worker` processes, the simulators with faults (refused and failing calls that
 * are retried), and the first worker SIGKILLed mid-bulk: the bulk finishes with every item
 * done and every effect made once (one credit per user, every order cancelled). The same
 * file again is the same bulk.
 *
 * It takes minutes, not seconds: about 90 s of CPU for the 1,000 runs and their bulk, and
 * after the SIGKILL an effect that was armed but not sent waits out the in-flight window
 * (about 90 s) before its retry may decide it never happened. It uses its own dev server so
 * that the other test files' server is not slowed down.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BulkProgress, BulkResult } from '../../src/features/bulk/contracts.ts';
import { runCli } from '../../src/cli.ts';
import type { TextOutput } from '../../src/cli.ts';
import { centsFromInteger } from '../../src/money.ts';
import { findTemporalCli } from '../../src/temporal/cli-binary.ts';
import { connectTestClient, temporalAvailable, uniqueTaskQueue } from '../../harness/temporal.ts';
import type { TemporalTarget } from '../../harness/temporal.ts';
import { startTestServer } from '../../harness/test-server.ts';
import { eventually, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { spawnWorkerProcess, stopAllWorkerProcesses } from './worker-process.ts';

const itemCount = Number(process.env["BULK_TEST_ITEMS"] ?? 1_000);
const firstUserId = 5_000;

function capture(): TextOutput & { text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk), text: () => chunks.join('') };
}

describe.skipIf(!temporalAvailable())('orderflow bulk with 1,000 items, faults and a worker SIGKILL', () => {
  let stack: Stack;
  let client: Client;
  let directory: string;
  // Its own dev server: 1,000 runs would slow the shared one down for every other test file.
  let server: TestWorkflowEnvironment;
  let target: TemporalTarget;

  beforeAll(async () => {
    server = await startTestServer(findTemporalCli());
    target = { address: server.address, namespace: server.namespace ?? 'default' };
    stack = await startStack();
    client = await connectTestClient(target);
    directory = await mkdtemp(join(tmpdir(), 'orderflow-bulk-'));
  });

  afterAll(async () => {
    await stopAllWorkerProcesses();
    await client?.connection.close();
    await stack?.close();
    await server?.teardown();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('finishes every item with each effect once, and the same file again is the same bulk', { timeout: 600_000 }, async () => {
    const taskQueue = uniqueTaskQueue('chaos-bulk');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...stack.env,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      ORDERFLOW_TASK_QUEUE: taskQueue,
    };
    delete env['ORDERFLOW_METRICS_PORT'];

    // 1,000 store users, each with a current order (5.50), through the simulator's state.
    const state = stack.webtvSim.state;
    const rows = ['user,order,amount,justclick-bill,reason'];
    const orders = new Map<number, number>();
    for (let i = 0; i < itemCount; i++) {
      const userId = firstUserId + i;
      const user = state.addUser(userId);
      user.cart.set(1, 1);
      const order = state.placeOrder(user, { notifyBuyer: false, buyerIp: '127.0.0.1', buyerUserAgent: 'bulk test' });
      orders.set(userId, order.id);
      let bill = '';
      if (i < 20) {
        bill = `bulk-bill-${userId}-${randomUUID().slice(0, 6)}`;
        await stack.justclick.createOrder({ billId: bill, email: 'buyer@example.com', goods: [{ name: 'Order', sum: centsFromInteger(550) }] });
      }
      rows.push(`${userId},${order.id},1.00,${bill},"event cancelled, refund"`);
    }
    const file = join(directory, 'items.csv');
    await writeFile(file, `${rows.join('\n')}\n`);
    const report = join(directory, 'report.csv');

    // Faults the runs must retry through: refused credit calls, a failing cancel, failing reads and deletes.
    stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'http-status', status: 429, count: 5 });
    stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR', count: 5 });
    stack.webtvSim.addFault({ operation: 'list_orders', kind: 'http-status', status: 503, count: 5 });
    stack.webtvSim.addFault({ operation: 'get_cart', kind: 'latency', ms: 300, count: 20 });
    stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'http-status', status: 503, count: 3 });

    const first = spawnWorkerProcess(env);
    await first.waitUntilStarted();

    const stdout = capture();
    const stderr = capture();
    const startedAt = performance.now();
    const cli = runCli(['bulk', 'refund-and-cancel', '--file', file, '--concurrency', '20', '--rate', '50', '--wait', '--report', report], {
      env: env as Record<string, string>,
      stdout,
      stderr,
      waitForShutdown: () => new Promise<string>(() => undefined),
    });

    // Kill the first worker mid-bulk; a second one carries on.
    const bulkId = await eventually('the bulk to start', () => /bulk (bulk:refund-and-cancel:[0-9a-f]+)/.exec(stdout.text())?.[1], 60_000);
    const handle = client.workflow.getHandle(bulkId);
    // Queried once a second (a busy workflow buffers only a few queries).
    for (;;) {
      const progress = await handle.query<BulkProgress>('progress').catch(() => undefined);
      if (progress !== undefined && progress.counts.done >= itemCount / 3) break;
      await sleep(1_000);
    }
    // The second worker is up before the first dies (as in a deployment with several), so
    // its start-up is not on the critical path; the first dies with items in flight.
    const second = spawnWorkerProcess(env);
    await second.waitUntilStarted();
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

    const exitCode = await cli;
    const seconds = (performance.now() - startedAt) / 1000;
    console.log(`[bulk] ${itemCount} items in ${seconds.toFixed(1)} s (worker killed once)`);
    expect(exitCode, `${stdout.text()}\n${stderr.text().slice(-2000)}`).toBe(0);
    expect(stdout.text()).toContain(`Finished: ${itemCount} done, 0 failed, 0 waiting for an operator (of ${itemCount}).`);
    // The progress bar (not a terminal: a line now and then) with counts and ETA.
    expect(stderr.text()).toMatch(/\] \d+\/1000 done \d+ · failed 0 · waiting 0 · running \d+ · running · ETA /);

    const result = (await handle.result()) as BulkResult;
    expect(result.counts).toMatchObject({ total: itemCount, done: itemCount, failed: 0, waiting: 0 });
    // Every effect once: one credit of 1.00 per user, every order cancelled, every bill deleted.
    const snapshot = stack.webtvSim.state;
    for (let i = 0; i < itemCount; i++) {
      const userId = firstUserId + i;
      const user = snapshot.requireUser(userId);
      expect(user.creditLog.filter((entry) => entry.change === 'add').map((entry) => entry.amount), `credits of user ${userId}`).toEqual([100]);
      expect(user.orders.find((order) => order.id === orders.get(userId))?.status, `order of user ${userId}`).not.toBe(0);
    }
    expect(stack.justclickSim.state.snapshot().bills.filter((bill) => bill.billId.startsWith('bulk-bill-'))).toEqual([]);
    // The report: one row per item.
    const reportRows = (await readFile(report, 'utf8')).trim().split('\n');
    expect(reportRows[0]).toBe('item,workflow_id,outcome,detail');
    expect(reportRows).toHaveLength(itemCount + 1);
    expect(reportRows.slice(1).every((row) => row.includes(',done,'))).toBe(true);

    // The same file again: the same bulk, nothing new.
    const againOut = capture();
    expect(await runCli(['bulk', 'refund-and-cancel', '--file', file], { env: env as Record<string, string>, stdout: againOut, stderr: capture() })).toBe(0);
    expect(againOut.text()).toContain(`Already there (same file): bulk ${bulkId}`);
  });
});
