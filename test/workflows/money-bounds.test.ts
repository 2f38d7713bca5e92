/**
 * A refund is at most the order's total, against a real Temporal dev server and the
 * simulators: a larger one is refused by the workflow before any effect (nothing changes),
 * through the typed starter and through `orderflow start --wait`, whose exit code says so.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RunResult } from '../../src/contracts.ts';
import { creditCalls } from '../../harness/stack.ts';
import { temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';
import { callCountOf, failureOf, statusOf, useWorkflowTestContext } from '../../harness/workflows.ts';

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

describe.skipIf(!temporalAvailable())('money bounds on a real Temporal server', () => {
  // No prefix: the CLI starts under the plain business key (users 30+ are this file's).
  const context = useWorkflowTestContext({ taskQueuePrefix: 'money-bounds', firstUserId: 30, workflowIdPrefix: '' });

  it('refuses a refund above the order total before any effect: failed run, nothing changed', async () => {
    const { userId, orderId } = await context.customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    const cancelsBefore = callCountOf(context.stack.webtvSim, 'cancel_order');
    await context.withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '5.51', reason: 'too much', requestedBy: 'test' });
      const failure = await failureOf(started.handle);
      expect(failure.type).toBe(FailureType.RefundAboveOrderTotal);
      expect(failure.message).toBe(
        `Refund of 5.51 and cancellation of order ${orderId} for store user ${userId} refused: the refund of 5.51 is more than the total of order ${orderId} (5.50). ` +
          "Nothing was changed. Start it again with an amount of at most the order's total.",
      );
      const status = await statusOf(started.handle);
      expect(status.state).toBe('failed');
      expect(status.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'failed'],
        ['add-credit', 'pending'],
        ['cancel-order', 'pending'],
        ['delete-justclick-bill', 'not-needed'],
      ]);
      // The business key is free again: the right amount starts a new run, which completes.
      const again = await startRefundAndCancel(starter, { userId, orderId, amount: '5.50', reason: 'the total', requestedBy: 'test' });
      expect(again.started).toBe(true);
      expect(((await again.handle.result()) as RunResult).outcome).toBe('completed');
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(callCountOf(context.stack.webtvSim, 'cancel_order') - cancelsBefore).toBe(1);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(550);
  });

  it('orderflow start --amount 500.00 for a 5.50 order: the refusal is printed, exit 1, no credit', async () => {
    const { userId, orderId } = await context.customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    const stdout = capture();
    const stderr = capture();
    const code = await context.withWorker(async (starter) => {
      const target = testTemporalTarget();
      const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: starter.taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' };
      return runCli(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '500.00', '--reason', 'typo', '--wait'], { env, stdout, stderr });
    });
    expect(code).toBe(1);
    expect(stdout.text()).toContain(`Started refund-and-cancel:${userId}:${orderId}`);
    expect(stdout.text() + stderr.text()).toContain(`the refund of 500.00 is more than the total of order ${orderId} (5.50). Nothing was changed.`);
    expect(stdout.text() + stderr.text()).not.toMatch(/credit added|\n\s+at /);
    expect(creditCalls(context.stack) - callsBefore).toBe(0);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(0);
    expect(await context.orderState(userId, orderId)).toBe('current');
  });
});
