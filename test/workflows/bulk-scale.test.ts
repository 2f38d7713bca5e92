/**
 * A bulk's payloads are bounded whatever the file: a 10,000-row adjust-credit file with
 * 120-character descriptions starts (its rows go to the worker's database in uploads under
 * Temporal's warning size, the bulk's input names them by count and digest), and the bulk's
 * history does not grow with the rows. Stored rows that differ from the digest are refused
 * before any item starts; a payload over Temporal's limit is explained as what it is.
 */
import { describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { createBulkActivities } from '../../src/features/bulk/activities.ts';
import { bulkItemJson, bulkRowsDigest, startBulk, uploadBulkRows, uploadsOf } from '../../src/features/bulk/client.ts';
import { bulkLimits, bulkWorkflowType } from '../../src/features/bulk/contracts.ts';
import type { BulkResult, BulkRunInput } from '../../src/features/bulk/contracts.ts';
import { explainTemporalRefusal } from '../../src/cli/temporal.ts';
import type { AdjustCreditInput } from '../../src/contracts.ts';
import { runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { callsOf, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';
import { historySize } from '../../harness/bulk-scale.ts';

/** Temporal's default warning size for one payload (the SDK logs TMPRL1103 above it). */
const payloadWarningBytes = 512 * 1024;

describe.skipIf(!temporalAvailable())('bulk payloads stay bounded', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'bulk-scale', firstUserId: 10 });

  function withBulkWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('bulk-scale');
    const activities = { ...context.stack.activities, ...createBulkActivities({ client: context.client, rows: context.stack.ledger.bulkRows, checkEveryMs: 200 }) };
    return runWorker({ workflowsPath, activities, taskQueue }, () => fn(taskQueue));
  }

  /** `count` adjust-credit rows of realistic width: a 120-character description each. */
  function rows(count: number, tag: string): AdjustCreditInput[] {
    return Array.from({ length: count }, (_, row) => ({
      userId: 100_000 + row,
      action: 'add' as const,
      amount: '1.00',
      description: `${tag} goodwill credit for row ${row}: `.padEnd(120, 'x'),
      reason: 'scale test',
      requestedBy: 'test',
    }));
  }

  const historyOf = (handle: WorkflowHandle): ReturnType<typeof historySize> => historySize(context.client, handle);

  it('starts a 10,000-row file of 120-character texts; uploads under the warning size, the history the same size as for 200 rows', async () => {
    const result = await withBulkWorker(async (taskQueue) => {
      const starter = { client: context.client, taskQueue, workflowIdPrefix: context.prefix };
      const measured: Record<number, Awaited<ReturnType<typeof historyOf>> & { result: BulkResult }> = {};
      for (const count of [200, bulkLimits.maxItems]) {
        const items = rows(count, `n${count}`);
        const uploads = uploadsOf('bulk', 'adjust-credit', items);
        for (const upload of uploads) expect(Buffer.byteLength(JSON.stringify(upload))).toBeLessThan(payloadWarningBytes / 2 + 1_024);
        const bulk = await startBulk(starter, { kind: 'adjust-credit', items, concurrency: 1, rate: 1 });
        expect(bulk.started).toBe(true);
        // Started: cancel at once (the items' users do not exist; a start is what this proves).
        await bulk.handle.executeUpdate('cancel', { args: [{ operator: 'test', note: 'scale test' }] });
        const outcome = (await bulk.handle.result()) as BulkResult;
        expect(outcome.state).toBe('cancelled');
        expect(outcome.counts.total).toBe(count);
        expect(outcome.counts.done + outcome.counts.failed + outcome.counts.waiting + outcome.counts.notStarted).toBe(count);
        measured[count] = { ...(await historyOf(bulk.handle)), result: outcome };
      }
      return measured;
    });
    const small = result[200]!;
    const large = result[bulkLimits.maxItems]!;
    // The input names the rows (count and digest): 10,000 rows take a few bytes more than 200.
    expect(large.inputBytes).toBeLessThan(1_024);
    expect(large.inputBytes - small.inputBytes).toBeLessThan(16);
    // No payload of the bulk's history grows with the rows, and the history is the same order of size.
    expect(large.largestPayload).toBeLessThan(16 * 1_024);
    expect(large.bytes).toBeLessThan(small.bytes * 2 + 4_096);
  });

  it('refuses stored rows that differ from the digest, and missing rows, before any item starts', async () => {
    const userIds = [context.customerWithCredit(0), context.customerWithCredit(0)];
    const items: AdjustCreditInput[] = userIds.map((userId) => ({ userId, action: 'add', amount: '1.00', description: 'digest test', reason: 'test', requestedBy: 'test' }));
    const digest = bulkRowsDigest(items.map(bulkItemJson));
    const failures = await withBulkWorker(async (taskQueue) => {
      const starter = { client: context.client, taskQueue };
      const bulkId = `${context.prefix}bulk:adjust-credit:digest-test`;
      await uploadBulkRows(starter, bulkId, 'adjust-credit', items);
      const start = async (input: Partial<BulkRunInput>, suffix: string): Promise<string> => {
        const base: BulkRunInput = { bulkId, kind: 'adjust-credit', total: 2, digest, concurrency: 1, rate: 1 };
        const handle = await context.client.workflow.start(bulkWorkflowType, { taskQueue, workflowId: `${bulkId}:${suffix}`, args: [{ ...base, ...input }] });
        const error = await handle.result().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).toBeInstanceOf(WorkflowFailedError);
        return (error as WorkflowFailedError).cause?.message ?? '';
      };
      // A row changed after the digest was taken: another digest.
      const changed = await start({ digest: bulkRowsDigest([bulkItemJson(items[0]!), bulkItemJson({ ...items[1]!, amount: '9.00' })]) }, 'changed');
      const missing = await start({ total: 3, digest: bulkRowsDigest([...items, items[0]!].map(bulkItemJson)) }, 'missing');
      // The same row number with another item: the upload is refused, nothing stored.
      const conflict = await uploadBulkRows(starter, bulkId, 'adjust-credit', [{ ...items[0]!, amount: '2.00' }]).then(
        () => '',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      return { changed, missing, conflict };
    });
    expect(failures.changed).toContain('the rows stored for it are not the rows it was started with');
    expect(failures.changed).toContain('no item was started');
    expect(failures.missing).toContain('2 of its 3 rows are stored (row 3 is missing)');
    expect(failures.conflict).toContain('already has a different row 1 stored; nothing was stored');
    // No item ran: no credit call for either user.
    for (const userId of userIds) expect(callsOf(context.stack.webtvSim, 'add_subtract_credit').filter((call) => call.query['iq'] === String(userId))).toEqual([]);
  });

  it("explains Temporal's refusal of a payload over its size limit as a size limit, not as the user's query", async () => {
    const error = await context.client.workflow
      .start('adjustCredit', {
        taskQueue: uniqueTaskQueue('bulk-scale-refused'),
        workflowId: `${context.prefix}too-big`,
        args: [{ userId: 1, action: 'add', amount: '1.00', description: 'x'.repeat(2.5 * 1024 * 1024), reason: 'test' }],
      })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    const explained = explainTemporalRefusal(error, { address: testTemporalTarget().address });
    expect(explained?.message).toMatch(/refused the request because it carries more data than Temporal accepts in one payload \(.*[Ss]ize.*limit.*\)/);
    expect(explained?.message).toContain('not a mistake in what you typed; nothing was started');
    expect(explained?.message).not.toContain('--query');
  });
});
