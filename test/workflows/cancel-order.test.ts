/**
 * cancelOrder against a real Temporal dev server (the global setup's) and both simulators:
 * success with the JustClick bill deleted, a bill already absent, an untrusted JustClick
 * answer, and a refused JustClick signature that an operator skips.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startCancelOrder } from '../../src/client/starters.ts';
import type { StarterOptions } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { OperatorDecision, OperatorDecisionReply, RunResult, RunStatus } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { centsFromInteger } from '../../src/money.ts';
import type { SimulatorHandle } from '../../src/simulators/harness.ts';
import { connectTestClient, runWorker, temporalAvailable, uniqueTaskQueue } from '../support/temporal.ts';
import { eventually, placeCurrentOrder, startStack } from '../support/stack.ts';
import type { Stack } from '../support/stack.ts';

const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

async function statusOf(handle: WorkflowHandle): Promise<RunStatus> {
  return handle.query<RunStatus>('status');
}

async function awaitingOperatorAt(handle: WorkflowHandle, step: string): Promise<RunStatus> {
  return eventually(`run ${handle.workflowId} to wait for an operator at ${step}`, async () => {
    const status = await statusOf(handle);
    return status.state === 'awaiting-operator' && status.awaiting?.step === step ? status : undefined;
  });
}

async function decide(handle: WorkflowHandle, decision: OperatorDecision): Promise<OperatorDecisionReply> {
  return handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision', { args: [decision] });
}

/** The calls of `operation` that reached a simulator. */
function callsOf(sim: SimulatorHandle, operation: string): Array<SimulatorHandle['calls'][number]> {
  return sim.calls.filter((call) => call.operation === operation);
}

describe.skipIf(!temporalAvailable())('cancelOrder on a real Temporal server', () => {
  let stack: Stack;
  let client: Client;
  let nextUser = 10;
  const prefix = `test-${randomUUID().slice(0, 8)}/`;

  beforeAll(async () => {
    stack = await startStack();
    client = await connectTestClient();
  });

  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });

  /** A fresh demo user with a placed current order. */
  async function customerWithOrder(): Promise<{ userId: number; orderId: number }> {
    const userId = nextUser++;
    const orderId = await placeCurrentOrder(stack, userId);
    return { userId, orderId };
  }

  async function billFor(userId: number): Promise<string> {
    const billId = `bill-${userId}`;
    await stack.justclick.createOrder({ billId, email: 'buyer@example.com', goods: [{ name: 'Order', sum: centsFromInteger(550) }] });
    return billId;
  }

  function withWorker<T>(fn: (starter: StarterOptions) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('cancel-order');
    return runWorker({ workflowsPath, activities: stack.activities, taskQueue }, () => fn({ client, taskQueue, workflowIdPrefix: prefix }));
  }

  async function orderState(userId: number, orderId: number): Promise<string | undefined> {
    return (await stack.webtv.listOrders(userId)).find((order) => order.id === orderId)?.status;
  }

  /** cancel_order calls for one user (the simulator's `iq` query field is the user id). */
  function cancelCallsFor(userId: number): number {
    return callsOf(stack.webtvSim, 'cancel_order').filter((call) => call.query['iq'] === String(userId)).length;
  }

  /** DeleteOrder calls for one bill, with the fault each one got. */
  function deleteCallsFor(billId: string): Array<string | null> {
    return callsOf(stack.justclickSim, 'DeleteOrder').filter((call) => call.fields['bill_id'] === billId).map((call) => call.fault);
  }

  it('cancels the order and deletes the JustClick bill, each once', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);

    const result = await withWorker(async (starter) => {
      const started = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'BUYER', reason: 'changed my mind' });
      expect(started.workflowId).toBe(`${prefix}cancel-order/${userId}/${orderId}`);
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
    expect(stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect(cancelCallsFor(userId)).toBe(1);
    expect(callsOf(stack.webtvSim, 'cancel_order').find((call) => call.query['iq'] === String(userId))?.fields['requester']).toBe('BUYER');
    expect(deleteCallsFor(billId)).toEqual([null]);
    const effects = await stack.ledger.listEffects({ userId });
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
    const otherBill = await billFor(nextUser++);
    stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'wrong-hash' });

    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.decisions).toEqual([]);
    // The first call deleted the bill but its answer was not trusted; the retry found it absent.
    expect(deleteCallsFor(billId)).toEqual(['wrong-hash', null]);
    expect(result.steps.find((step) => step.name === 'delete-justclick-bill')).toMatchObject({ state: 'done', detail: expect.stringMatching(/already absent/) });
    expect(stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect(stack.justclickSim.state.hasBill(otherBill)).toBe(true);
    expect(cancelCallsFor(userId)).toBe(1);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    const deleteEffect = (await stack.ledger.listEffects({ userId, kind: 'justclick.delete' }))[0];
    expect(deleteEffect?.state).toBe('resolved-applied');
  });

  it('waits for an operator when JustClick refuses our signature (error 4), and completes on skip', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });

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
    expect(stack.justclickSim.state.hasBill(billId)).toBe(true);
    expect(deleteCallsFor(billId)).toEqual(['error']);
    const deleteEffect = (await stack.ledger.listEffects({ userId, kind: 'justclick.delete' }))[0];
    expect(deleteEffect?.state).toBe('resolved-applied');
  });
});
