/**
 * The activities' reconciliation rules, called directly (no Temporal) against the
 * simulators and a SQLite ledger: what an earlier, interrupted attempt left in the ledger
 * decides whether the API is called again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities/index.ts';
import { FailureType } from '../../src/contracts.ts';
import { centsFromInteger } from '../../src/money.ts';
import { creditCalls, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('reconciling an interrupted credit change', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('does not call again while the earlier attempt may still land, and calls once it cannot', async () => {
    const userId = 81;
    const key = 'adjust-credit/81/r1/adjust-credit#run';
    // An earlier attempt armed the effect with credit 0.00 and died before any answer.
    await stack.ledger.begin(key, { kind: 'credit.add', userId, request: { amount: '1.00' }, observedBefore: { creditCents: 0, credit: '0.00' } });
    const input = { effectKey: key, workflowId: 'adjust-credit/81/r1', userId, creditAction: 'add' as const, amount: '1.00', description: 'test' };
    const callsBefore = creditCalls(stack);

    const waiting = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 60_000 });
    const failure = await failureOf(waiting.applyCreditChange(input));
    expect(failure.type).toBe(FailureType.OutcomePending);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/may still be in flight/);
    expect(creditCalls(stack)).toBe(callsBefore);
    expect((await stack.ledger.get(key))?.state).toBe('pending');

    const settled = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 0 });
    const result = await settled.applyCreditChange(input);
    expect(result).toMatchObject({ status: 'applied', fromLedger: false });
    expect(creditCalls(stack)).toBe(callsBefore + 1);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(100);
    expect((await stack.ledger.get(key))).toMatchObject({ state: 'applied', attempts: 2 });
    // A repeat (a reset) answers from the ledger.
    expect(await settled.applyCreditChange(input)).toMatchObject({ status: 'applied', fromLedger: true });
    expect(creditCalls(stack)).toBe(callsBefore + 1);
  });

  it('settles at once when the balance shows the earlier attempt landed', async () => {
    const userId = 82;
    const key = 'adjust-credit/82/r1/adjust-credit#run';
    await stack.ledger.begin(key, { kind: 'credit.add', userId, request: { amount: '2.00' }, observedBefore: { creditCents: 0, credit: '0.00' } });
    stack.webtvSim.state.setCredit(userId, centsFromInteger(200)); // the lost request did land
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 60_000 });
    const callsBefore = creditCalls(stack);
    const result = await activities.applyCreditChange({ effectKey: key, workflowId: 'adjust-credit/82/r1', userId, creditAction: 'add', amount: '2.00', description: 'test' });
    expect(result.detail).toMatch(/reconciled: credit 0\.00 → 2\.00/);
    expect(creditCalls(stack)).toBe(callsBefore);
    expect((await stack.ledger.get(key))?.state).toBe('resolved-applied');
  });

  it('does not cancel again while an earlier cancel may still land', async () => {
    const userId = 83;
    const orderId = await placeCurrentOrder(stack, userId);
    const key = `cancel-order/83/${orderId}/cancel-order#run`;
    await stack.ledger.begin(key, { kind: 'order.cancel', userId, request: { orderId }, observedBefore: { orderId, state: 'current' } });
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 60_000 });
    const failure = await failureOf(activities.cancelCurrentOrder({ effectKey: key, workflowId: `cancel-order/83/${orderId}`, userId, orderId }));
    expect(failure.type).toBe(FailureType.OutcomePending);
    expect(stack.webtvSim.calls.filter((call) => call.operation === 'cancel_order' && call.query['iq'] === String(userId))).toHaveLength(0);
  });
});

describe('JustClick bill effects', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('deletes a bill once, and answers repeats from the ledger', async () => {
    const activities = createActivities({ webtv: stack.webtv, justclick: stack.justclick, ledger: stack.ledger });
    const workflowId = 'cancel-order/84/400';
    stack.justclickSim.state.createBill({ billId: 'B-84', email: 'buyer@example.com', goods: [{ name: 'course', sum: '9.90' }] });
    const remove = { effectKey: `${workflowId}/delete-justclick-bill#run`, workflowId, billId: 'B-84', userId: 84 };
    expect(await activities.deleteJustClickBill(remove)).toMatchObject({ status: 'applied', fromLedger: false, detail: 'JustClick bill B-84 deleted' });
    expect(stack.justclickSim.state.hasBill('B-84')).toBe(false);
    expect(await activities.deleteJustClickBill(remove)).toMatchObject({ fromLedger: true });
    expect(stack.justclickSim.calls.filter((call) => call.operation === 'DeleteOrder')).toHaveLength(1);
  });

  it('without JustClick configured, fails non-retryably saying what to set', async () => {
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger });
    const failure = await failureOf(activities.deleteJustClickBill({ effectKey: 'x/1/delete-justclick-bill#run', workflowId: 'x/1', billId: 'B-1' }));
    expect(failure).toMatchObject({ type: FailureType.ApiAccessDenied, nonRetryable: true });
    expect(failure.message).toMatch(/set JUSTCLICK_LOGIN and JUSTCLICK_SECRET/);
  });
});
