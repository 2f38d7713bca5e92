/**
 * Business-key ids on a real Temporal server: the `:` format every caller can address, and
 * the transition from the old `/` format (a run started under it still answers for its
 * business key: same run for the same request, a conflict for another, a new run only
 * after it failed).
 */
import { describe, expect, it } from 'vitest';
import { RequestConflictError, startRefundAndCancel } from '../../src/client/starters.ts';
import type { RefundAndCancelInput, RunResult } from '../../src/contracts.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { creditCalls } from '../../harness/stack.ts';
import { useWorkflowTestContext } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('workflow ids and the old id format', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'workflow-ids', firstUserId: 40, workflowIdPrefix: `ids-${process.pid}-${Date.now()}:` });
  const { prefix, customerWithOrder, withWorker } = context;

  /** Starts refundAndCancel the way orderflow did before the `:` format. */
  async function startUnderOldId(taskQueue: string, input: RefundAndCancelInput): Promise<{ workflowId: string; runId: string }> {
    const workflowId = `${prefix}refund-and-cancel/${input.userId}/${input.orderId}`;
    const handle = await context.client.workflow.start('refundAndCancel', { taskQueue, workflowId, args: [input] });
    return { workflowId, runId: handle.firstExecutionRunId };
  }

  it('answers with a running old-format run for the same request, refuses another, and starts nothing new', async () => {
    const input: RefundAndCancelInput = { userId: 901, orderId: 5000, amount: '5.00', reason: 'old', requestedBy: 'test' };
    const old = await startUnderOldId('nobody-polls-this', input);
    const starter = { client: context.client, taskQueue: 'nobody-polls-this', workflowIdPrefix: prefix };
    try {
      const same = await startRefundAndCancel(starter, { ...input, reason: 'sent again', requestedBy: 'someone else' });
      expect(same).toMatchObject({ started: false, workflowId: old.workflowId, runId: old.runId });

      const other = await startRefundAndCancel(starter, { ...input, amount: '6.00' }).catch((error: unknown) => error);
      expect(other).toBeInstanceOf(RequestConflictError);
      expect(other).toMatchObject({ workflowId: old.workflowId, runId: old.runId, differences: [{ field: 'amount', existing: '5.00', requested: '6.00' }] });

      await expect(context.client.workflow.getHandle(`${prefix}refund-and-cancel:901:5000`).describe()).rejects.toThrow(/not found/i);
    } finally {
      await context.client.workflow.getHandle(old.workflowId).terminate('test over');
    }
    // Once the old run failed (here: terminated), the business key may run again, under the new id.
    const again = await startRefundAndCancel(starter, input);
    expect(again).toMatchObject({ started: true, workflowId: `${prefix}refund-and-cancel:901:5000` });
    await again.handle.terminate('test over');
  });

  it('answers with a completed old-format run: the refund is not made twice', async () => {
    const { userId, orderId } = await customerWithOrder();
    const input: RefundAndCancelInput = { userId, orderId, amount: '2.00', reason: 'old', requestedBy: 'test' };
    const callsBefore = creditCalls(context.stack);
    await withWorker(async (starter) => {
      const old = await startUnderOldId(starter.taskQueue, input);
      expect(((await context.client.workflow.getHandle(old.workflowId).result()) as RunResult).outcome).toBe('completed');
      const again = await startRefundAndCancel(starter, input);
      expect(again).toMatchObject({ started: false, workflowId: old.workflowId, runId: old.runId });
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(200);
  });
});
