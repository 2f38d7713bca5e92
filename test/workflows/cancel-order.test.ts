/**
 * cancelOrder against a real Temporal dev server (the global setup's) and both simulators:
 * success with the JustClick bill deleted, a bill already absent, an untrusted JustClick
 * answer, and a refused JustClick signature that an operator skips.
 */
import { describe, expect, it } from 'vitest';
import { startCancelOrder } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RunResult } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { awaitingOperatorAt, callsOf, decide, statusOf, useWorkflowTestContext } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('cancelOrder on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'cancel-order', firstUserId: 10 });
  const { prefix, nextUserId, customerWithOrder, billFor, withWorker, orderState } = context;

  /** cancel_order calls for one user (the simulator's `iq` query field is the user id). */
  function cancelCallsFor(userId: number): number {
    return callsOf(context.stack.webtvSim, 'cancel_order').filter((call) => call.query['iq'] === String(userId)).length;
  }

  /** DeleteOrder calls for one bill, with the fault each one got. */
  function deleteCallsFor(billId: string): Array<string | null> {
    return callsOf(context.stack.justclickSim, 'DeleteOrder').filter((call) => call.fields['bill_id'] === billId).map((call) => call.fault);
  }

  it('cancels the order and deletes the JustClick bill, each once', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);

    const result = await withWorker(async (starter) => {
      const started = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'BUYER', reason: 'changed my mind' });
      expect(started.workflowId).toBe(`${prefix}cancel-order:${userId}:${orderId}`);
      const value = (await started.handle.result()) as RunResult;
      expect((await statusOf(started.handle)).state).toBe('completed');
      const description = await started.handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('completed');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeUserId)).toBe(userId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeOrderId)).toBe(orderId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.justClickBillId)).toBe(billId);
      return value;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.map((step) => [step.name, step.state])).toEqual([
      ['confirm-order', 'done'],
      ['cancel-order', 'done'],
      ['delete-justclick-bill', 'done'],
    ]);
    expect(result.steps[2]?.detail).toBe(`JustClick bill ${billId} deleted`);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    expect(context.stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect(cancelCallsFor(userId)).toBe(1);
    expect(callsOf(context.stack.webtvSim, 'cancel_order').find((call) => call.query['iq'] === String(userId))?.fields['requester']).toBe('BUYER');
    expect(deleteCallsFor(billId)).toEqual([null]);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.state])).toEqual([
      ['cancel-order', 'applied'],
      ['delete-justclick-bill', 'applied'],
    ]);
  });

  it('completes when the JustClick bill is already absent', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = `bill-${userId}-never-created`;

    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.find((step) => step.name === 'delete-justclick-bill')).toMatchObject({ state: 'done', detail: expect.stringMatching(/already absent/) });
    expect(await orderState(userId, orderId)).toBe('cancelled');
    expect(deleteCallsFor(billId)).toEqual([null]);
    expect(cancelCallsFor(userId)).toBe(1);
  });

  it('retries DeleteOrder after an answer with a wrong hash and completes, the bill deleted once', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    const otherBill = await billFor(nextUserId());
    context.stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'wrong-hash' });

    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.decisions).toEqual([]);
    // The first call deleted the bill but its answer was not trusted; the retry found it absent.
    expect(deleteCallsFor(billId)).toEqual(['wrong-hash', null]);
    expect(result.steps.find((step) => step.name === 'delete-justclick-bill')).toMatchObject({ state: 'done', detail: expect.stringMatching(/already absent/) });
    expect(context.stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect(context.stack.justclickSim.state.hasBill(otherBill)).toBe(true);
    expect(cancelCallsFor(userId)).toBe(1);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    const deleteEffect = (await context.stack.ledger.listEffects({ userId, kind: 'justclick.delete' }))[0];
    expect(deleteEffect?.state).toBe('resolved-applied');
  });

  it('waits for an operator when JustClick refuses our signature (error 4), and completes on skip', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    context.stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });

    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN', reason: 'fraud' });
      const waiting = await awaitingOperatorAt(handle, 'delete-justclick-bill');
      expect(waiting.awaiting?.failure).toMatchObject({
        type: FailureType.ApiAccessDenied,
        api: 'justclick',
        operation: 'DeleteOrder',
        code: '4',
        vendorText: 'incorrect hash',
      });
      expect(waiting.awaiting?.reason).toMatch(/credentials, signature or address/);
      expect(waiting.awaiting?.failure.message).toMatch(/JUSTCLICK_SECRET/);
      expect(Object.keys(waiting.awaiting?.choices ?? {})).toEqual(['retry', 'skip', 'abort']);
      expect(waiting.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'done'],
        ['cancel-order', 'done'],
        ['delete-justclick-bill', 'failed'],
      ]);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('awaiting-operator');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.step)).toBe('delete-justclick-bill');
      // The order is cancelled already, before anyone decides.
      expect(await orderState(userId, orderId)).toBe('cancelled');

      const reply = await decide(handle, { action: 'skip', note: 'will delete the bill by hand', operator: 'carla' });
      expect(reply).toMatchObject({ accepted: true, action: 'skip' });
      expect(reply.willHappen).toBe(waiting.awaiting?.choices.skip);
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.find((step) => step.name === 'delete-justclick-bill')).toMatchObject({
      state: 'skipped',
      detail: 'skipped by carla: will delete the bill by hand',
    });
    expect(result.decisions.map((decision) => [decision.step, decision.action, decision.operator, decision.via])).toEqual([
      ['delete-justclick-bill', 'skip', 'carla', 'update'],
    ]);
    expect(cancelCallsFor(userId)).toBe(1);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    // The refused call changed nothing; the operator said it will be handled by hand.
    expect(context.stack.justclickSim.state.hasBill(billId)).toBe(true);
    expect(deleteCallsFor(billId)).toEqual(['error']);
    const deleteEffect = (await context.stack.ledger.listEffects({ userId, kind: 'justclick.delete' }))[0];
    expect(deleteEffect?.state).toBe('resolved-applied');
  });
});
