/**
 * bulkRun on a real Temporal server against the simulators: items are the ordinary
 * single-run workflows with their business-key ids (an item already completed and an item
 * already running are joined, not repeated), a waiting item is counted and does not block,
 * continue-as-new keeps the outcomes, pause/resume and cancel are validated updates, and
 * the same items twice are one bulk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { createBulkActivities } from '../../src/features/bulk/activities.ts';
import { bulkIdOf, bulkReport, startBulk } from '../../src/features/bulk/client.ts';
import type { BulkRequest } from '../../src/features/bulk/client.ts';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import type { StarterOptions } from '../../src/client/starters.ts';
import type { BulkControl, BulkItemOutcome, BulkProgress, BulkResult } from '../../src/features/bulk/contracts.ts';
import type { RefundAndCancelInput } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { eventually } from '../../harness/stack.ts';
import { runCli } from '../../src/cli.ts';
import { runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { callsOf, updateRefusal, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

const operator: BulkControl = { operator: 'anna', note: 'test' };

describe.skipIf(!temporalAvailable())('bulkRun', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'bulk', firstUserId: 60 });

  /** Runs `fn` while a worker with the real activities and the bulk activity polls a fresh task queue. */
  function withBulkWorker<T>(fn: (starter: StarterOptions) => Promise<T>, taskQueue = uniqueTaskQueue('bulk')): Promise<T> {
    const starter: StarterOptions = { client: context.client, taskQueue, workflowIdPrefix: context.prefix };
    const activities = { ...context.stack.activities, ...createBulkActivities({ client: context.client, rows: context.stack.ledger.bulkRows, checkEveryMs: 200 }) };
    return runWorker({ workflowsPath, activities, taskQueue }, () => fn(starter));
  }

  async function refundItems(count: number): Promise<RefundAndCancelInput[]> {
    const items: RefundAndCancelInput[] = [];
    for (let i = 0; i < count; i++) {
      const { userId, orderId } = await context.customerWithOrder();
      items.push({ userId, orderId, amount: '1.00', reason: 'event cancelled', requestedBy: 'test' });
    }
    return items;
  }

  const creditCallsOf = (userId: number) => callsOf(context.stack.webtvSim, 'add_subtract_credit').filter((call) => call.query['iq'] === String(userId));

  /** `orderflow <args>` against the test server and `taskQueue`; its exit status and output. */
  async function cli(args: string[], taskQueue: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const target = testTemporalTarget();
    const code = await runCli(args, {
      env: { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue },
      stdout: { write: (chunk: string) => out.push(chunk) },
      stderr: { write: (chunk: string) => err.push(chunk) },
      waitForShutdown: () => new Promise<string>(() => undefined),
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  const progressOf = (handle: WorkflowHandle): Promise<BulkProgress> => handle.query<BulkProgress>('progress');

  /** Every item's outcome, as the report reads it from the worker's database (a worker must poll `taskQueue`). */
  async function itemsOf(result: BulkResult, taskQueue: string): Promise<BulkItemOutcome[]> {
    const items: BulkItemOutcome[] = [];
    for await (const page of bulkReport(context.client.workflow, taskQueue, { bulkId: result.bulkId, kind: result.kind, total: result.counts.total, workflowIdPrefix: context.prefix })) items.push(...page);
    return items;
  }

  it('joins an item already completed and an item already running, counts a waiting item, and keeps outcomes over continue-as-new', async () => {
    const items = await refundItems(5);
    const taskQueue = uniqueTaskQueue('bulk');
    // Item 0 completed before the bulk.
    const completed = await withBulkWorker(async (starter) => {
      const run = await startRefundAndCancel(starter, items[0]!);
      await run.handle.result();
      return run;
    }, taskQueue);
    // Item 1 is running (no worker yet) when the bulk starts.
    const starter: StarterOptions = { client: context.client, taskQueue, workflowIdPrefix: context.prefix };
    const running = await startRefundAndCancel(starter, items[1]!);
    // Item 4 will wait for an operator: its JustClick bill cannot be deleted (access denied).
    items[4] = { ...items[4]!, justclickBillId: await context.billFor(items[4]!.userId) };
    context.stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });

    const request: BulkRequest = { kind: 'refund-and-cancel', items, concurrency: 2, rate: 20, slicesPerRun: 1, sliceMs: 300 };
    // The rows are uploaded through the worker (bulkRowsUpload runs), then the bulk starts.
    const bulk = await withBulkWorker(() => startBulk(starter, request), taskQueue);
    expect(bulk.started).toBe(true);
    const { result, resultItems } = await withBulkWorker(async () => {
      const outcome = (await bulk.handle.result()) as BulkResult;
      return { result: outcome, resultItems: await itemsOf(outcome, taskQueue) };
    }, taskQueue);

    expect(result.state).toBe('finished');
    expect(result.counts).toMatchObject({ total: 5, done: 4, failed: 0, waiting: 1, running: 0, queued: 0 });
    expect(resultItems.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
    expect(resultItems[0]).toMatchObject({ workflowId: completed.workflowId, outcome: 'done', joined: true });
    expect(resultItems[1]).toMatchObject({ workflowId: running.workflowId, outcome: 'done', joined: true });
    expect(resultItems[2]).toMatchObject({ outcome: 'done', joined: false });
    expect(resultItems[4]).toMatchObject({ outcome: 'waiting' });
    expect(resultItems[4]!.detail).toContain('delete-justclick-bill');
    // Joined, not repeated: the same runs, and one credit per user.
    expect((await context.client.workflow.getHandle(completed.workflowId).describe()).runId).toBe(completed.runId);
    expect((await context.client.workflow.getHandle(running.workflowId).describe()).runId).toBe(running.runId);
    for (const item of items) {
      expect(creditCallsOf(item.userId), `credit calls for user ${item.userId}`).toHaveLength(1);
    }
    expect(result.waiting).toEqual([{ workflowId: resultItems[4]!.workflowId, detail: resultItems[4]!.detail }]);
    // Continued as new (one slice per run): more than one run in the chain.
    const description = await bulk.handle.describe();
    expect(description.runId).not.toBe(bulk.runId);
    // Search attributes: the bulk id on each item, the counts on the bulk.
    const item = await context.client.workflow.getHandle(resultItems[2]!.workflowId).describe();
    expect(item.typedSearchAttributes.get(orderflowSearchAttributes.bulkId)).toBe(bulk.workflowId);
    expect(description.typedSearchAttributes.get(orderflowSearchAttributes.bulkDone)).toBe(4);
    expect(description.typedSearchAttributes.get(orderflowSearchAttributes.bulkWaiting)).toBe(1);
    // The same items again: the same bulk, nothing new.
    const again = await withBulkWorker(() => startBulk(starter, request), taskQueue);
    expect(again).toMatchObject({ workflowId: bulk.workflowId, started: false });
    expect(bulkIdOf(starter, { kind: 'refund-and-cancel', items: [...items].reverse() })).not.toBe(bulk.workflowId);
    // `orderflow bulk status --report` on the finished bulk: the summary, the waiting item linked, one row per item; exit 3.
    const directory = await mkdtemp(join(tmpdir(), 'orderflow-bulk-report-'));
    try {
      const report = join(directory, 'report.csv');
      const status = await withBulkWorker(() => cli(['bulk', 'status', bulk.workflowId, '--report', report], taskQueue), taskQueue);
      expect(status.code, status.stderr).toBe(3);
      expect(status.stdout).toContain('Finished: 4 done, 0 failed, 1 waiting for an operator (of 5).');
      expect(status.stdout).toContain(`  ${resultItems[4]!.workflowId}: waits for an operator at delete-justclick-bill`);
      const rows = (await readFile(report, 'utf8')).trim().split('\n');
      expect(rows).toHaveLength(6);
      expect(rows[1]).toBe(`1,${completed.workflowId},done,Refund of 1.00 and cancellation of order ${items[0]!.orderId} for store user ${items[0]!.userId}: done.`);
      expect(rows[5]).toMatch(new RegExp(`^5,${resultItems[4]!.workflowId.replace(/[/]/g, '\\/')},waiting,`));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 120_000);

  it('pauses (running items go on), refuses invalid controls, resumes; cancel starts no more items', async () => {
    const items = await refundItems(6);
    await withBulkWorker(async (starter) => {
      const bulk = await startBulk(starter, { kind: 'refund-and-cancel', items, concurrency: 1, rate: 1, sliceMs: 500 });
      const handle = bulk.handle;
      const paused = await cli(['bulk', 'pause', bulk.workflowId, '--operator', 'anna', '--note', 'store maintenance'], starter.taskQueue);
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toContain(`${bulk.workflowId}: pause accepted; the bulk is paused.`);
      const pausedAgain = await cli(['bulk', 'pause', bulk.workflowId, '--operator', 'anna', '--note', 'again'], starter.taskQueue);
      expect(pausedAgain.code).toBe(1);
      expect(pausedAgain.stderr).toContain(`pause refused: cannot pause bulk ${bulk.workflowId}: it is paused`);
      const shown = await cli(['bulk', 'status', bulk.workflowId], starter.taskQueue);
      expect(shown.stdout).toContain(`${bulk.workflowId} (bulk refund-and-cancel) — paused; 1 at once, 1 starts per second`);
      expect(shown.stdout).toMatch(/\] \d\/6 done \d · failed 0 · waiting 0 · running \d · paused · ETA \?/);
      expect(await updateRefusal(handle.executeUpdate('pause', { args: [operator] }))).toContain('it is paused');
      expect(await updateRefusal(handle.executeUpdate('resume', { args: [{ operator: '', note: '' }] }))).toContain('"operator" must name who asks');
      // While paused nothing new starts: the settled count stays.
      const before = await progressOf(handle);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const during = await progressOf(handle);
      expect(during.counts.queued).toBe(before.counts.queued);
      expect(during.counts.running).toBe(0);
      await handle.executeUpdate('resume', { args: [operator] });
      await eventually('two items done', async () => ((await progressOf(handle)).counts.done >= 2 ? true : undefined), 30_000);
      const cancelled = await handle.executeUpdate<BulkProgress, [BulkControl]>('cancel', { args: [{ operator: 'anna', note: 'wrong file' }] });
      expect(cancelled.state).toBe('cancelled');
      const result = (await handle.result()) as BulkResult;
      expect(result.state).toBe('cancelled');
      expect(result.counts.notStarted).toBeGreaterThan(0);
      expect(result.counts.done + result.counts.notStarted).toBe(6);
      expect(result.controls.map((control) => control.action)).toEqual(['pause', 'resume', 'cancel']);
      // Items never started made no call.
      const reported = await itemsOf(result, starter.taskQueue);
      expect(reported).toHaveLength(6);
      for (const item of reported.filter((candidate) => candidate.outcome === 'not-started')) {
        const userId = items[item.index]!.userId;
        expect(creditCallsOf(userId)).toHaveLength(0);
      }
      // A finished bulk takes no more controls.
      await expect(handle.executeUpdate('resume', { args: [operator] })).rejects.toThrow(/completed|not found/i);
    });
  });

  it('fails an item whose business key has a run for a different request, and goes on with the rest', async () => {
    const items = await refundItems(2);
    const result = await withBulkWorker(async (starter) => {
      const earlier = await startRefundAndCancel(starter, items[0]!);
      await earlier.handle.result();
      const bulk = await startBulk(starter, { kind: 'refund-and-cancel', items: [{ ...items[0]!, amount: '2.00' }, items[1]!], concurrency: 2, rate: 20 });
      const outcome = (await bulk.handle.result()) as BulkResult;
      return { earlier, outcome, items: await itemsOf(outcome, starter.taskQueue) };
    });
    expect(result.outcome.counts).toMatchObject({ total: 2, done: 1, failed: 1 });
    expect(result.items[0]).toMatchObject({ workflowId: result.earlier.workflowId, outcome: 'failed' });
    expect(result.items[0]!.detail).toContain('amount');
    expect(result.outcome.failed).toEqual([{ workflowId: result.earlier.workflowId, detail: result.items[0]!.detail }]);
    expect(result.items[1]).toMatchObject({ outcome: 'done' });
    // The conflicting item called nothing: one credit for its user, from the earlier run.
    expect(creditCallsOf(items[0]!.userId)).toHaveLength(1);
    expect(context.stack.webtvSim.state.creditOf(items[0]!.userId)).toBe(100);
  });

  it('starts at most `rate` items a second (adjust-credit items)', async () => {
    const items = [1, 2, 3, 4, 5].map((n) => ({
      userId: context.customerWithCredit(0), action: 'add' as const, amount: `${n}.00`, description: 'price error', reason: 'bulk rate test', requestedBy: 'test',
    }));
    const result = await withBulkWorker(async (starter) => {
      const bulk = await startBulk(starter, { kind: 'adjust-credit', items, concurrency: 5, rate: 2 });
      const outcome = (await bulk.handle.result()) as BulkResult;
      const reported = await itemsOf(outcome, starter.taskQueue);
      // When Temporal started each item's run.
      const scheduledAt = await Promise.all(reported.map(async (item) => (await context.client.workflow.getHandle(item.workflowId).describe()).startTime.getTime()));
      return { outcome, scheduledAt };
    });
    expect(result.outcome.counts).toMatchObject({ total: 5, done: 5 });
    expect(result.scheduledAt).toHaveLength(5);
    // 5 starts at 2 a second need at least two more seconds after the first (0 s: 2, 1 s: 2, 2 s: 1).
    expect(Math.max(...result.scheduledAt) - Math.min(...result.scheduledAt)).toBeGreaterThanOrEqual(1_500);
    for (const [position, item] of items.entries()) expect(context.stack.webtvSim.state.creditOf(item.userId), `user ${item.userId}`).toBe((position + 1) * 100);
  });
});
