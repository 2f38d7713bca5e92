/**
 * The ledger protocol's less common paths, called directly (no Temporal) against the
 * simulators and a SQLite ledger: a busy user, an undo with nothing to undo, an order
 * changed by someone else between our read and our call, and a rejected effect armed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { createActivities } from '../../src/activities/index.ts';
import { FailureType } from '../../src/contracts.ts';
import { effectKey } from '../../src/ledger/index.ts';
import { centsFromInteger } from '../../src/money.ts';
import { creditCalls, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

function creditInput(userId: number, step: string, creditAction: 'add' | 'subtract', amount: string) {
  const workflowId = `protocol-test/${userId}`;
  return { effectKey: effectKey(workflowId, step, 'run-1'), workflowId, userId, creditAction, amount, description: 'protocol test' };
}

describe('the ledger protocol in the activities', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('UserBusy while another worker holds the user: retryable, benign, nothing sent', async () => {
    const userId = 91;
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger, userLockWaitMs: 200 });
    const callsBefore = creditCalls(stack);
    let failure: ApplicationFailure | undefined;
    await stack.ledger.withUserLock(userId, 'another worker', async () => {
      failure = await failureOf(activities.applyCreditChange(creditInput(userId, 'add-credit', 'add', '1.00')));
    });
    expect(failure).toMatchObject({ type: FailureType.UserBusy, nonRetryable: false, category: ApplicationFailureCategory.BENIGN });
    expect(failure?.message).toMatch(/Will retry/);
    expect(creditCalls(stack)).toBe(callsBefore);
    expect(await stack.ledger.get(creditInput(userId, 'add-credit', 'add', '1.00').effectKey)).toBeUndefined();
  });

  it('UserBusy while another credit effect on the user is unresolved, until it is settled', async () => {
    const userId = 92;
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger });
    const other = effectKey('other-run/92', 'adjust-credit', 'run-9');
    await stack.ledger.begin(other, { kind: 'credit.add', userId, request: { amount: '5.00' }, observedBefore: { creditCents: 0, credit: '0.00' } });
    const input = creditInput(userId, 'add-credit', 'add', '1.00');
    const callsBefore = creditCalls(stack);
    const failure = await failureOf(activities.applyCreditChange(input));
    expect(failure).toMatchObject({ type: FailureType.UserBusy, nonRetryable: false, category: ApplicationFailureCategory.BENIGN });
    expect(failure.message).toContain(other);
    expect(creditCalls(stack)).toBe(callsBefore);

    await stack.ledger.record(other, 'resolved-not-applied', { note: 'settled by the test' });
    expect(await activities.applyCreditChange(input)).toMatchObject({ status: 'applied', fromLedger: false });
    expect(stack.webtvSim.state.creditOf(userId)).toBe(100);
  });

  it('an undo whose forward credit never happened does nothing: absent, rejected, or unchanged after the in-flight window', async () => {
    const userId = 93;
    stack.webtvSim.state.setCredit(userId, centsFromInteger(500));
    const forward = creditInput(userId, 'add-credit', 'add', '2.00');
    const undo = { ...creditInput(userId, 'undo-add-credit', 'subtract', '2.00'), forwardEffectKey: forward.effectKey };
    const callsBefore = creditCalls(stack);

    // Never attempted.
    const settled = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 0 });
    expect(await settled.undoCreditChange(undo)).toMatchObject({ status: 'not-needed', detail: 'the credit was never added: nothing to undo' });

    // Attempted, and the call went out but cannot be known yet: within the window, look again when it closes.
    await stack.ledger.begin(forward.effectKey, { kind: 'credit.add', userId, request: { amount: '2.00' }, observedBefore: { creditCents: 500, credit: '5.00' } });
    const waiting = createActivities({ webtv: stack.webtv, ledger: stack.ledger, inFlightWindowMs: 60_000 });
    const pending = await failureOf(waiting.undoCreditChange(undo));
    expect(pending).toMatchObject({ type: FailureType.OutcomePending, nonRetryable: false, category: ApplicationFailureCategory.BENIGN });
    expect(pending.nextRetryDelay).toBeGreaterThan(55_000);
    expect(pending.nextRetryDelay).toBeLessThanOrEqual(61_000);

    // After the window the unchanged balance settles it: never added, nothing to undo.
    expect(await settled.undoCreditChange(undo)).toMatchObject({ status: 'not-needed' });
    expect((await stack.ledger.get(forward.effectKey))?.state).toBe('resolved-not-applied');
    expect(await stack.ledger.get(undo.effectKey)).toBeUndefined();
    expect(creditCalls(stack)).toBe(callsBefore);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(500);
  });

  it('cancel: an order cancelled by someone else between our read and our call (ERROR_NO_ORDER) counts as done', async () => {
    const userId = 94;
    const orderId = await placeCurrentOrder(stack, userId);
    const somebodyElse = stack.webtv;
    const racing = {
      ...stack.webtv,
      cancelOrder: async (...args: Parameters<typeof stack.webtv.cancelOrder>) => {
        await somebodyElse.cancelOrder(userId); // lands first
        return stack.webtv.cancelOrder(...args);
      },
    };
    const activities = createActivities({ webtv: racing, ledger: stack.ledger });
    const key = effectKey(`cancel-order/${userId}/${orderId}`, 'cancel-order', 'run-1');
    const result = await activities.cancelCurrentOrder({ effectKey: key, workflowId: `cancel-order/${userId}/${orderId}`, userId, orderId });
    expect(result).toMatchObject({ status: 'applied', fromLedger: false, detail: expect.stringMatching(/became cancelled meanwhile/) });
    expect((await stack.ledger.get(key))?.state).toBe('resolved-applied');
    const answers = stack.webtvSim.calls.filter((call) => call.operation === 'cancel_order' && call.query['iq'] === String(userId));
    expect(answers).toHaveLength(2);
  });

  it('process: an order that stopped being current some other way (ERROR_NO_ORDER) is rejected as OrderNotCurrent', async () => {
    const userId = 95;
    const orderId = await placeCurrentOrder(stack, userId);
    const racing = {
      ...stack.webtv,
      processOrder: async (...args: Parameters<typeof stack.webtv.processOrder>) => {
        await stack.webtv.cancelOrder(userId); // someone cancels it first
        return stack.webtv.processOrder(...args);
      },
    };
    const activities = createActivities({ webtv: racing, ledger: stack.ledger });
    const key = effectKey(`process-paid-order/${userId}/${orderId}`, 'process-order', 'run-1');
    const failure = await failureOf(activities.processCurrentOrder({ effectKey: key, workflowId: `process-paid-order/${userId}/${orderId}`, userId, orderId }));
    expect(failure).toMatchObject({ type: FailureType.OrderNotCurrent, nonRetryable: true });
    expect(failure.message).toMatch(/^step process-order: /);
    expect((await stack.ledger.get(key))?.state).toBe('rejected');
  });

  it('arms a rejected effect again on a later attempt, and applies it once', async () => {
    const userId = 96;
    stack.webtvSim.state.setCredit(userId, centsFromInteger(100));
    const activities = createActivities({ webtv: stack.webtv, ledger: stack.ledger });
    const input = creditInput(userId, 'adjust-credit', 'subtract', '3.00');
    const callsBefore = creditCalls(stack);

    const refused = await failureOf(activities.applyCreditChange(input));
    expect(refused).toMatchObject({ type: FailureType.CreditAlreadySpent, nonRetryable: true });
    expect((await stack.ledger.get(input.effectKey))?.state).toBe('rejected');

    stack.webtvSim.state.setCredit(userId, centsFromInteger(500)); // the user has credit again
    expect(await activities.applyCreditChange(input)).toMatchObject({ status: 'applied', fromLedger: false, detail: expect.stringMatching(/credit 5\.00 → 2\.00/) });
    const row = await stack.ledger.get(input.effectKey);
    expect(row).toMatchObject({ state: 'applied', attempts: 2, observedBefore: { creditCents: 500 } });
    expect(row?.notes.map((note) => note.text)).toContain('new attempt (was rejected)');
    expect(stack.webtvSim.state.creditOf(userId)).toBe(200);
    expect(creditCalls(stack)).toBe(callsBefore + 2);
    expect(await activities.applyCreditChange(input)).toMatchObject({ fromLedger: true });
    expect(creditCalls(stack)).toBe(callsBefore + 2);
  });
});
