/**
 * Answers that tell the truth, end to end (./bin/orderflow as a child process against the
 * test run's Temporal dev server; a worker in this process only where a run must move):
 *  - `status` / `ops show` of a run that ended give its outcome from the history, with no
 *    worker; a workflow id without any run exits 4 (and `decide` says so);
 *  - Ctrl-C in `start --wait` and `bulk --wait` stops watching, says what goes on, exit 130;
 *  - conflicts advise what fits the workflow; another requester is the same request.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectTestClient, runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { eventually, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { createBulkActivities } from '../../src/features/bulk/activities.ts';
import { runOrderflow as orderflow } from '../../harness/orderflow-command.ts';

const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

describe.skipIf(!temporalAvailable())('honest answers from status, ops show, decide, --wait and start', () => {
  let stack: Stack;
  let client: Client;
  let env: Record<string, string>;
  const taskQueue = uniqueTaskQueue('honest');

  beforeAll(async () => {
    stack = await startStack();
    client = await connectTestClient();
    const target = testTemporalTarget();
    env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233', USER: 'tester' };
  });

  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });

  it('status and ops show of a failed run give the failure from its history, with no worker running', async () => {
    const userId = 81;
    await placeCurrentOrder(stack, userId);
    const workflowId = `refund-and-cancel:${userId}:999999`;
    // An order the user does not have: the run fails cleanly at confirm-order.
    const started = await runWorker({ workflowsPath, activities: stack.activities, taskQueue }, () =>
      orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', '999999', '--amount', '1.00', '--reason', 'test', '--wait'], env),
    );
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(/^Failed \(FAILED\): /m);

    // The worker is gone: the outcome still comes from the history; nobody is asked whether a worker runs.
    const status = await orderflow(['status', workflowId], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${workflowId} (refundAndCancel) — Temporal: FAILED`);
    expect(status.stdout).toMatch(/^Outcome: FAILED at \d{4}-\d\d-\d\dT[\d:.]+Z \(\w+\): .*999999/m);
    expect(status.stdout).toContain("its steps are not shown: the status query of a closed run is answered by a worker");
    expect(status.stdout).not.toContain('is a worker running');

    const json = JSON.parse((await orderflow(['status', workflowId, '--json'], env)).stdout) as { temporalStatus: string; outcome: { temporalStatus: string; text: string } };
    expect(json.temporalStatus).toBe('FAILED');
    expect(json.outcome).toMatchObject({ temporalStatus: 'FAILED', text: expect.stringContaining('999999') });

    const show = await orderflow(['ops', 'show', workflowId], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^Outcome: FAILED at .*999999/m);
    expect(show.stdout).not.toContain('is a worker running');

    // A decision for it: refused, saying it ended (not that it never existed).
    const late = await orderflow(['decide', workflowId, '--action', 'retry', '--note', 'again', '--operator', 'anna'], env);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('refused: the run is not running any more (Temporal: FAILED)');
  }, 120_000);

  it('a workflow id without any run: status, ops show, bulk status and decide say so plainly and exit 4', async () => {
    const workflowId = 'refund-and-cancel:99:424242';
    for (const args of [['status', workflowId], ['ops', 'show', workflowId]]) {
      const result = await orderflow(args, env);
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`No run has the workflow id "${workflowId}" in namespace ${env['TEMPORAL_NAMESPACE']} at ${env['TEMPORAL_ADDRESS']}: it was never started there`);
    }
    const bulk = await orderflow(['bulk', 'status', 'bulk:refund-and-cancel:00000000000000000000'], env);
    expect(bulk.code).toBe(4);
    expect(bulk.stderr).toContain('No run has the workflow id "bulk:refund-and-cancel:00000000000000000000"');
    const decided = await orderflow(['decide', workflowId, '--action', 'retry', '--note', 'x', '--operator', 'anna'], env);
    expect(decided.code).toBe(4);
    expect(decided.stderr).toContain(`${workflowId}: refused: no run has this workflow id`);
  }, 60_000);

  it('Ctrl-C in start --wait stops watching, says the run goes on, and exits 130; the run is still running', async () => {
    const queue = uniqueTaskQueue('honest-no-worker');
    const userId = 82;
    const result = await orderflow(
      ['start', 'refund-and-cancel', '--user', String(userId), '--order', '5', '--amount', '1.00', '--reason', 'test', '--wait'],
      { ...env, ORDERFLOW_TASK_QUEUE: queue },
      /^Started refund-and-cancel/m,
    );
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`Stopped watching (Ctrl-C); the run goes on. Follow it with: orderflow status refund-and-cancel:${userId}:5`);
    const handle = client.workflow.getHandle(`refund-and-cancel:${userId}:5`);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // Only a running run whose query goes unanswered asks whether a worker runs.
    const status = await orderflow(['status', `refund-and-cancel:${userId}:5`], { ...env, ORDERFLOW_TASK_QUEUE: queue });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`(the status query did not answer within 5 s: is a worker running for task queue ${queue}?)`);
    expect(status.stdout).not.toContain('Outcome:');
    await handle.terminate('test over');
  }, 60_000);

  it('Ctrl-C in bulk --wait stops watching, says the bulk goes on, and exits 130', async () => {
    const queue = uniqueTaskQueue('honest-bulk');
    const directory = await mkdtemp(join(tmpdir(), 'orderflow-honest-'));
    try {
      const file = join(directory, 'items.csv');
      await writeFile(file, `user,order,amount,reason\n83,${Date.now() % 1_000_000},1.00,bulk test\n`);
      // A worker stores the bulk's rows (uploaded before the bulk starts) and runs the bulk.
      const activities = { ...stack.activities, ...createBulkActivities({ client, rows: stack.ledger.bulkRows, checkEveryMs: 200 }) };
      await runWorker({ workflowsPath, activities, taskQueue: queue }, async () => {
        const result = await orderflow(['bulk', 'refund-and-cancel', '--file', file, '--wait'], { ...env, ORDERFLOW_TASK_QUEUE: queue }, /^Started bulk /m);
        expect(result.code).toBe(130);
        const bulkId = /Started bulk (bulk:refund-and-cancel:[0-9a-f]+)/.exec(result.stdout)?.[1];
        expect(bulkId).toBeDefined();
        expect(result.stderr).toContain(`Stopped watching (Ctrl-C); the bulk goes on. Follow it with: orderflow bulk status ${bulkId} --wait`);
        // The bulk went on without the command: still running, or already done with its one item.
        const handle = client.workflow.getHandle(bulkId!);
        const status = (await handle.describe()).status.name;
        expect(['RUNNING', 'COMPLETED']).toContain(status);
        if (status === 'RUNNING') await handle.terminate('test over');
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it('the same request from another requester is answered with the run, and says so; a conflict advises what fits the workflow', async () => {
    const queue = uniqueTaskQueue('honest-conflict');
    const queueEnv = { ...env, ORDERFLOW_TASK_QUEUE: queue };
    const refund = ['start', 'refund-and-cancel', '--user', '84', '--order', '7', '--amount', '1.00'];
    const first = await orderflow([...refund, '--reason', 'damaged', '--requested-by', 'anna'], queueEnv);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Started refund-and-cancel:84:7');

    const otherRequester = await orderflow([...refund, '--reason', 'late', '--requested-by', 'bob'], queueEnv);
    expect(otherRequester.code).toBe(0);
    expect(otherRequester.stdout).toContain('Already there (same request): refund-and-cancel:84:7');
    expect(otherRequester.stdout).toContain(
      'It was asked for with reason "damaged" (you gave "late"), requestedBy "anna" (you gave "bob"): who asks and why do not make another request, so this run answers for both.',
    );

    const sameAgain = await orderflow([...refund, '--reason', 'damaged', '--requested-by', 'anna'], queueEnv);
    expect(sameAgain.stdout).toContain('Already there (same request): refund-and-cancel:84:7');
    expect(sameAgain.stdout).not.toContain('It was asked for with');

    const otherAmount = await orderflow(['start', 'refund-and-cancel', '--user', '84', '--order', '7', '--amount', '2.00', '--reason', 'damaged'], queueEnv);
    expect(otherAmount.code).toBe(1);
    expect(otherAmount.stderr).toContain('amount "1.00" there, "2.00" now');
    expect(otherAmount.stderr).toContain('The business key (refund-and-cancel:{userId}:{orderId}) has one run, running or completed');
    expect(otherAmount.stderr).not.toMatch(/request id/i);

    const adjust = ['start', 'adjust-credit', '--user', '84', '--action', 'add', '--description', 'goodwill', '--reason', 'x', '--request-id', `coupon-${Date.now()}`];
    expect((await orderflow([...adjust, '--amount', '1.00'], queueEnv)).code).toBe(0);
    const adjustConflict = await orderflow([...adjust, '--amount', '3.00'], queueEnv);
    expect(adjustConflict.code).toBe(1);
    expect(adjustConflict.stderr).toContain('give it its own request id (requestId; --request-id)');

    for await (const run of client.workflow.list({ query: `TaskQueue = "${queue}" AND ExecutionStatus = "Running"` })) {
      await client.workflow.getHandle(run.workflowId).terminate('test over');
    }
    await eventually('the test runs to end', async () => ((await client.workflow.getHandle('refund-and-cancel:84:7').describe()).status.name === 'TERMINATED' ? true : undefined));
  }, 90_000);
});
