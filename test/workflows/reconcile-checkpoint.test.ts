/**
 * reconcile's checkpoint, against a real Temporal dev server and the simulators: a run looks
 * at what changed since the last completed run (the checkpoint, in the ledger's audit trail)
 * plus what is still open, so a second run reads nothing that did not change, a change after
 * the checkpoint is found (and only it is read), and a run that fails before it has settled
 * its findings leaves the checkpoint where it was (nothing is skipped).
 */
import { describe, expect, it } from 'vitest';
import { createReconcileActivities } from '../../src/features/reconcile/activities.ts';
import { reconcileAuditEvents, reconcileDefaults } from '../../src/features/reconcile/contracts.ts';
import type { ReconcileResult } from '../../src/features/reconcile/contracts.ts';
import { runWorker, temporalAvailable, uniqueTaskQueue } from '../../harness/temporal.ts';
import { useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('reconcile from its checkpoint', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'reconcile-checkpoint', firstUserId: 40 });

  /** The reconcile activities, with no overlap: the checkpoint is exactly where the last run started. */
  function reconcileActivities(): ReturnType<typeof createReconcileActivities> {
    const { stack, client } = context;
    return createReconcileActivities({ ledger: stack.ledger, webtv: stack.webtv, justclick: stack.justclick, client, inFlightWindowMs: 0, readsPerSecond: 50, checkpointOverlapMs: 0 });
  }

  /** A cancel-order effect a run completed, its order cancelled in the store; reopened by hand when `drift`. */
  async function completedCancel(drift: boolean): Promise<string> {
    const { stack } = context;
    const { userId, orderId } = await context.customerWithOrder();
    await stack.webtv.cancelOrder(userId);
    const key = `${context.prefix}cancel-order/${userId}/${orderId}/cancel-order#run-1`;
    await stack.ledger.begin(key, { kind: 'order.cancel', userId, request: { orderId } });
    await stack.ledger.record(key, 'applied', { response: { ok: 'order cancelled' } });
    if (drift) stack.webtvSim.state.reopenOrder(userId, orderId);
    return key;
  }

  /** The store's order list reads so far: reconcile's one read per cancelled order it looks at. */
  const orderReads = (): number => context.stack.webtvSim.calls.filter((call) => call.operation === 'list_orders').length;
  const checkpoints = async (): Promise<number> => (await context.stack.ledger.listAudit({ event: reconcileAuditEvents.checkpoint })).length;

  async function reconcileRun(taskQueue: string, id: string): Promise<{ result: ReconcileResult; reads: number }> {
    const before = orderReads();
    const result = (await context.client.workflow.execute('reconcile', { taskQueue, workflowId: `${context.prefix}reconcile/${id}`, args: [{}] })) as ReconcileResult;
    return { result, reads: orderReads() - before };
  }

  it('a second run reads nothing that did not change; a change after the checkpoint is found, and only it is read', async () => {
    const taskQueue = uniqueTaskQueue('reconcile-checkpoint');
    await completedCancel(false);
    await runWorker({ workflowsPath, activities: { ...context.stack.activities, ...reconcileActivities() }, taskQueue }, async () => {
      // No checkpoint yet: the whole window, the completed cancel read once.
      const first = await reconcileRun(taskQueue, 'first');
      expect(first.reads).toBe(1);
      expect(first.result.findings).toEqual([]);
      expect(await checkpoints()).toBe(1);

      const second = await reconcileRun(taskQueue, 'second');
      expect(second.reads).toBe(0);
      expect(second.result.findings).toEqual([]);

      // Changed after the checkpoint: a cancel whose order was reopened by hand.
      const reopened = await completedCancel(true);
      const third = await reconcileRun(taskQueue, 'third');
      expect(third.reads).toBe(1);
      expect(third.result.findings.map((finding) => [finding.id, finding.isNew])).toEqual([[`order-not-cancelled:${reopened}`, true]]);

      // A reported finding is open: the next run reads it again (its drift may last), nothing else.
      const fourth = await reconcileRun(taskQueue, 'fourth');
      expect(fourth.reads).toBe(1);
      expect(fourth.result.findings.map((finding) => [finding.id, finding.isNew])).toEqual([[`order-not-cancelled:${reopened}`, false]]);
      expect(await checkpoints()).toBe(4);
    });
  });

  it('a run that fails before its findings are settled moves no checkpoint: the next run still finds the change', async () => {
    const { stack } = context;
    const taskQueue = uniqueTaskQueue('reconcile-checkpoint-crash');
    const reopened = await completedCancel(true);
    const activities = reconcileActivities();
    const input = () => ({ since: new Date(Date.now() - reconcileDefaults.sinceMs).toISOString(), now: new Date().toISOString(), operatorWaitMs: reconcileDefaults.operatorWaitMs });
    const checkpointsBefore = await checkpoints();

    // The store fails the read halfway through the run: findDrift fails, as a crash would end it.
    stack.webtvSim.addFault({ operation: 'list_orders', kind: 'http-status', status: 503 });
    await expect(activities.findDrift(input())).rejects.toThrow();
    // A run that found the drift and died before settling it (the worker stopped between the two activities).
    expect((await activities.findDrift(input())).map((finding) => finding.id)).toContain(`order-not-cancelled:${reopened}`);
    expect(await checkpoints()).toBe(checkpointsBefore);

    await runWorker({ workflowsPath, activities: { ...stack.activities, ...activities }, taskQueue }, async () => {
      const next = await reconcileRun(taskQueue, 'after-failure');
      expect(next.result.findings.map((finding) => [finding.id, finding.isNew])).toContainEqual([`order-not-cancelled:${reopened}`, true]);
    });
    expect(await checkpoints()).toBe(checkpointsBefore + 1);
  });
});
