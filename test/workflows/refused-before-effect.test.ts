/**
 * Answers that end a run before any effect, on a real Temporal server against the
 * simulators: a store user that does not exist (the same kind of answer as an order that
 * does not exist: refused, nothing changed, no operator asked), and input a raw start
 * (Temporal's API, not orderflow's starters) carries that spoofs what an operator reads:
 * a workflow id or a text with a bidirectional control or another invisible format character.
 */
import { describe, expect, it } from 'vitest';
import { startCancelOrder, startRefundAndCancel } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RefundAndCancelInput, RunStatus } from '../../src/contracts.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { failureOf, useWorkflowTestContext } from '../../harness/workflows.ts';

/** Not a user of the demo seed (users 1–100). */
const unknownUserId = 4242;

describe.skipIf(!temporalAvailable())('runs refused before any effect', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'refused-before-effect', firstUserId: 86 });
  const { prefix, customerWithOrder, withWorker } = context;

  /** The WebTV operations called for `userId` (from call number `since` on). */
  function webtvCallsFor(userId: number, since = 0): string[] {
    return context.stack.webtvSim.calls.slice(since).filter((call) => call.query['iq'] === String(userId)).map((call) => call.operation ?? '(none)');
  }

  it('refuses a refund for a store user that does not exist, like an order that does not exist: nothing changed, no operator', async () => {
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId: unknownUserId, orderId: 319, amount: '5.00', reason: 'damaged', requestedBy: 'shop' });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.UnknownUser);
      expect(failure.message).toBe(
        `Refund of 5.00 and cancellation of order 319 for store user ${unknownUserId} refused: the store has no user ${unknownUserId} ` +
          '(WebTV answered REQUEST_ERROR | Invalid User ID). Nothing was changed.',
      );
      const status = await handle.query<RunStatus>('status');
      expect(status.state).toBe('failed');
      expect(status.decisions).toEqual([]);
      expect(status.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'failed'],
        ['add-credit', 'pending'],
        ['cancel-order', 'pending'],
        ['delete-justclick-bill', 'not-needed'],
      ]);

      // The same kind of answer as an order the user does not have.
      const { userId } = await customerWithOrder();
      const unknownOrder = await startCancelOrder(starter, { userId, orderId: 999_999, requester: 'ADMIN' });
      const orderFailure = await failureOf(unknownOrder.handle);
      expect(orderFailure.type).toBe(FailureType.OrderNotCurrent);
      expect(orderFailure.message).toMatch(/Nothing was changed\.$/);

      // And for cancelOrder too: no operator, nothing changed.
      const cancel = await startCancelOrder({ ...starter, workflowIdPrefix: `${prefix}again-` }, { userId: unknownUserId, orderId: 320, requester: 'ADMIN' });
      expect((await failureOf(cancel.handle)).type).toBe(FailureType.UnknownUser);
    });
    // Only reads reached the store for that user.
    expect(webtvCallsFor(unknownUserId).filter((operation) => !['list_orders', 'get_cart'].includes(operation))).toEqual([]);
  });

  it('refuses a raw start whose workflow id holds a right-to-left override, before any effect', async () => {
    const { userId, orderId } = await customerWithOrder();
    const input: RefundAndCancelInput = { userId, orderId, amount: '5.00', reason: 'damaged', requestedBy: 'shop' };
    const callsBefore = context.stack.webtvSim.calls.length;
    await withWorker(async (starter) => {
      const workflowId = `${prefix}réfund \u202e${userId}:${orderId}`;
      const handle = await starter.client.workflow.start('refundAndCancel', { taskQueue: starter.taskQueue, workflowId, args: [input] });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('the workflow id must be one line of printable text; it holds the bidirectional control character U+202E');
    });
    expect(webtvCallsFor(userId, callsBefore)).toEqual([]);
    expect(await context.orderState(userId, orderId)).toBe('current');
  });

  it('refuses a raw start whose text holds an invisible format character, in the workflow itself', async () => {
    const { userId, orderId } = await customerWithOrder();
    const callsBefore = context.stack.webtvSim.calls.length;
    await withWorker(async (starter) => {
      for (const [field, value, named] of [
        ['requestedBy', 'evil\u202eman', 'the bidirectional control character U+202E at position 5'],
        ['reason', 'dam\u200baged', 'the invisible format character U+200B at position 4'],
      ] as const) {
        const input = { userId, orderId, amount: '5.00', reason: 'damaged', requestedBy: 'shop', [field]: value };
        const handle = await starter.client.workflow.start('refundAndCancel', { taskQueue: starter.taskQueue, workflowId: `${prefix}raw-${field}-${userId}`, args: [input] });
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.InvalidInput);
        expect(failure.message).toContain(`${field} must be one line of printable text; it holds ${named}`);
      }
    });
    expect(webtvCallsFor(userId, callsBefore)).toEqual([]);
  });
});
