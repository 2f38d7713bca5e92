/**
 * refundAndCancel against a real Temporal dev server (the global setup's) and both
 * simulators: the success path, the pivot, each compensation, unknown outcomes,
 * operator decisions through the update and the signal, duplicate starts and a reset.
 */
import { describe, expect, it } from 'vitest';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RunResult } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { InputError } from '../../src/validation.ts';
import { centsFromInteger } from '../../src/money.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { creditCalls, eventually, sampleCredentials } from '../../harness/stack.ts';
import { awaitingOperatorAt, decide, failureOf, forCurrentWait, resetToFirstWorkflowTask, statusOf, updateRefusal, useWorkflowTestContext } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('refundAndCancel on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'refund-and-cancel', firstUserId: 10 });
  const { prefix, customerWithOrder, billFor, withWorker, orderState } = context;

  it('refunds, cancels and deletes the JustClick bill, each once, and says so in status and search attributes', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    const callsBefore = creditCalls(context.stack);

    const result = await withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '5.50', justclickBillId: billId, reason: 'damaged', requestedBy: 'support' });
      expect(started.started).toBe(true);
      expect(started.workflowId).toBe(`${prefix}refund-and-cancel:${userId}:${orderId}`);
      const value = (await started.handle.result()) as RunResult;
      const status = await statusOf(started.handle);
      expect(status.state).toBe('completed');
      expect(status.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'done'],
        ['add-credit', 'done'],
        ['cancel-order', 'done'],
        ['delete-justclick-bill', 'done'],
      ]);
      const description = await started.handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('completed');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeUserId)).toBe(userId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeOrderId)).toBe(orderId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.justClickBillId)).toBe(billId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.step)).toBe('delete-justclick-bill');
      // The start set state and identity; the run upserts its own attributes once, at its end.
      const history = await started.handle.fetchHistory();
      const upserted = history.events
        ?.filter((event) => event.upsertWorkflowSearchAttributesEventAttributes)
        .map((event) => Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).sort());
      expect(upserted).toEqual([[orderflowSearchAttributes.step.name, orderflowSearchAttributes.state.name].sort()]);
      // The order check is a normal activity (its answer gates the effects); the worker's
      // approval threshold (a local read of its configuration) and the three effects succeed
      // at their local first attempt, together in the next workflow task.
      const events = history.events ?? [];
      expect(events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['observeOrder']);
      expect(events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(4);
      expect(events.filter((event) => event.workflowTaskCompletedEventAttributes)).toHaveLength(2);
      return value;
    });

    expect(result.outcome).toBe('completed');
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(550);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    expect(context.stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.state])).toEqual([
      ['add-credit', 'applied'],
      ['cancel-order', 'applied'],
      ['delete-justclick-bill', 'applied'],
    ]);
  });

  it('gives one run for the same request sent twice, and refuses a second run after success', async () => {
    const { userId, orderId } = await customerWithOrder();
    const input = { userId, orderId, amount: '1.00', reason: 'duplicate test', requestedBy: 'backend' };
    await withWorker(async (starter) => {
      const [first, second] = await Promise.all([startRefundAndCancel(starter, input), startRefundAndCancel(starter, input)]);
      expect(second.runId).toBe(first.runId);
      // While it runs, the same request joins the run.
      expect(await startRefundAndCancel(starter, input)).toMatchObject({ started: false, runId: first.runId });
      await first.handle.result();
      const third = await startRefundAndCancel(starter, input);
      expect(third).toMatchObject({ started: false, runId: first.runId });
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(100);
  });

  it('refuses bad input before anything reaches Temporal or an API', async () => {
    const callsBefore = context.stack.webtvSim.calls.length;
    await withWorker(async (starter) => {
      const refusal = await startRefundAndCancel(starter, { userId: 0, orderId: 1.5, amount: '5.555', reason: '', requestedBy: 'x' }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InputError);
      expect((refusal as InputError).problems).toHaveLength(4);
      await expect(context.client.workflow.getHandle(`${prefix}refund-and-cancel:0:1.5`).describe()).rejects.toThrow();
    });
    expect(context.stack.webtvSim.calls.length).toBe(callsBefore);
  });

  it('adds the credit once when add_subtract_credit applies and then drops the connection', async () => {
    const { userId, orderId } = await customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop' });
    const { result, events } = await withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '2.00', reason: 'lost answer', requestedBy: 'support' });
      const value = (await started.handle.result()) as RunResult;
      return { result: value, events: (await started.handle.fetchHistory()).events ?? [] };
    });
    expect(result.outcome).toBe('completed');
    // The local first attempt's answer was lost: after the retry interval (a timer that says
    // so) add-credit goes on as a normal activity, which reconciles; the later effects, local, succeed.
    const timers = events.filter((event) => event.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
    expect(Buffer.from(timers[0]?.userMetadata?.summary?.data ?? new Uint8Array()).toString()).toContain('applyCreditChange: next attempt, after the first one failed');
    expect(events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['observeOrder', 'applyCreditChange']);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(200);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(result.steps.find((step) => step.name === 'add-credit')?.detail).toMatch(/reconciled/);
  });

  it('takes the credit back when the pivot fails for a business reason (compensation)', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER' });
    await withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '3.00', reason: 'pivot fails', requestedBy: 'support' });
      const failure = await failureOf(started.handle);
      expect(failure.type).toBe(FailureType.RunCompensated);
      expect(failure.message).toMatch(/failed at cancel-order/);
      const result = failure.details?.[0] as RunResult;
      expect(result.outcome).toBe('compensated');
      expect(result.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'done'],
        ['add-credit', 'done'],
        ['cancel-order', 'failed'],
        ['delete-justclick-bill', 'not-needed'],
        ['undo-add-credit', 'done'],
      ]);
      expect((await statusOf(started.handle)).state).toBe('compensated');
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(0);
    expect(await orderState(userId, orderId)).toBe('current');
  });

  it('gives a new run after a compensated one new effect keys, so it refunds again', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER' });
    const input = { userId, orderId, amount: '3.00', reason: 'second try', requestedBy: 'support' };
    const callsBefore = creditCalls(context.stack);
    const [first, second] = await withWorker(async (starter) => {
      const failed = await startRefundAndCancel(starter, input);
      expect((await failureOf(failed.handle)).type).toBe(FailureType.RunCompensated);
      const again = await startRefundAndCancel(starter, input);
      expect(again).toMatchObject({ started: true, workflowId: failed.workflowId });
      expect(again.runId).not.toBe(failed.runId);
      expect(((await again.handle.result()) as RunResult).outcome).toBe('completed');
      return [failed, again];
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(300);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    expect(creditCalls(context.stack) - callsBefore).toBe(3); // add, undo, add again
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.step, effect.state])).toEqual([
      [`add-credit#${first.runId}`, 'applied'],
      [`cancel-order#${first.runId}`, 'rejected'],
      [`undo-add-credit#${first.runId}`, 'applied'],
      [`add-credit#${second.runId}`, 'applied'],
      [`cancel-order#${second.runId}`, 'applied'],
    ]);
  });

  it('waits for an operator when the credit is already spent, as partially compensated, then finishes on skip (signal)', async () => {
    const { userId, orderId } = await customerWithOrder();
    // The API refuses our credentials at the pivot: that needs a person, not a compensation.
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '4.00', reason: 'spent credit', requestedBy: 'support' });
      const atCancel = await awaitingOperatorAt(handle, 'cancel-order');
      expect(atCancel.awaiting?.failure).toMatchObject({ type: FailureType.ApiAccessDenied, code: 'REQUEST_ERROR', vendorText: 'Invalid key' });
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('awaiting-operator');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.step)).toBe('cancel-order');

      // Meanwhile the user spends the refunded credit.
      context.stack.webtvSim.state.setCredit(userId, centsFromInteger(0));
      const reply = await decide(handle, { action: 'compensate', note: 'refund was a mistake', operator: 'anna' });
      expect(reply).toMatchObject({ accepted: true, action: 'compensate' });
      expect(reply.willHappen).toMatch(/Take the refunded credit back/);

      const atUndo = await awaitingOperatorAt(handle, 'undo-add-credit');
      expect(atUndo.awaiting?.failure).toMatchObject({ type: FailureType.CreditAlreadySpent, code: 'ERROR_CANT_SUBTRACT' });
      expect(Object.keys(atUndo.awaiting?.choices ?? {})).toEqual(['retry', 'skip', 'abort']);
      // compensate is not offered while compensating: the update is refused, and nothing changes.
      expect(await updateRefusal(decide(handle, { action: 'compensate', note: 'again', operator: 'anna' }))).toMatch(/"compensate" is not possible here; choose one of retry, skip, abort/);
      await handle.signal('operatorDecision', await forCurrentWait(handle, { action: 'skip', note: 'written off, user spent it', operator: 'ben' }));

      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.RunCompensated);
      const result = failure.details?.[0] as RunResult;
      expect(result.decisions.map((decision) => [decision.step, decision.action, decision.operator, decision.via])).toEqual([
        ['cancel-order', 'compensate', 'anna', 'update'],
        ['undo-add-credit', 'skip', 'ben', 'signal'],
      ]);
    });
    expect(await orderState(userId, orderId)).toBe('current');
    // What Temporal stores and shows (inputs, failures, details, results) holds no secret.
    const history = JSON.stringify(await context.client.workflow.getHandle(`${prefix}refund-and-cancel:${userId}:${orderId}`).fetchHistory());
    expect(history).toContain('ERROR_CANT_SUBTRACT');
    expect(history).toContain('step cancel-order: WebTV store API cancel_order');
    for (const secret of [sampleCredentials.webtvSharedSecret, sampleCredentials.justclickSecret, 'signature=']) expect(history).not.toContain(secret);
    const audit = await context.stack.ledger.listAudit({ event: 'operator.skip' });
    expect(audit.some((event) => event.actor === 'ben')).toBe(true);
  });

  it('ends partially compensated when the operator aborts the undo', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid signature' });
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '4.00', reason: 'abort test', requestedBy: 'support' });
      await awaitingOperatorAt(handle, 'cancel-order');
      context.stack.webtvSim.state.setCredit(userId, centsFromInteger(100));
      await decide(handle, { action: 'compensate', note: 'undo it', operator: 'anna' });
      await awaitingOperatorAt(handle, 'undo-add-credit');
      await decide(handle, { action: 'abort', note: 'will settle with the customer', operator: 'anna' });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.RunPartiallyCompensated);
      expect((failure.details?.[0] as RunResult).outcome).toBe('partially-compensated');
      expect((await statusOf(handle)).state).toBe('partially-compensated');
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(100);
  });

  it('asks an operator when the credit outcome cannot be decided, and goes on after skip', async () => {
    const { userId, orderId } = await customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop' });
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '2.50', reason: 'ambiguous', requestedBy: 'support' });
      // Someone else changes the credit before the retry reconciles.
      await eventually('the dropped call', () => (context.stack.webtvSim.calls.some((call) => call.fault === 'apply-then-drop' && call.query['iq'] === String(userId)) ? true : undefined));
      context.stack.webtvSim.state.setCredit(userId, centsFromInteger(context.stack.webtvSim.state.creditOf(userId) + 100));
      const waiting = await awaitingOperatorAt(handle, 'add-credit');
      expect(waiting.awaiting?.failure.type).toBe(FailureType.OutcomeNeedsOperator);
      expect(waiting.awaiting?.failure.observed).toMatchObject({ 'credit now': '3.50', 'credit if it took effect': '2.50' });
      expect(await updateRefusal(decide(handle, { action: 'skip', note: '', operator: 'anna' }))).toMatch(/"note" must say why/);
      await decide(handle, { action: 'skip', note: 'store admin shows the refund', operator: 'anna' });
      const result = (await handle.result()) as RunResult;
      expect(result.outcome).toBe('completed');
      expect(result.steps.find((step) => step.name === 'add-credit')?.state).toBe('skipped');
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(350);
    expect(await orderState(userId, orderId)).toBe('cancelled');
    const addCredit = (await context.stack.ledger.listEffects({ userId, kind: 'credit.add' }))[0];
    expect(addCredit?.state).toBe('resolved-applied');
  });

  it('settles an unresolved credit when the operator skips its undo, so the user is not left blocked', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop' });
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '2.50', reason: 'ambiguous undo', requestedBy: 'support' });
      await eventually('the dropped call', () => (context.stack.webtvSim.calls.some((call) => call.fault === 'apply-then-drop' && call.query['iq'] === String(userId)) ? true : undefined));
      context.stack.webtvSim.state.setCredit(userId, centsFromInteger(context.stack.webtvSim.state.creditOf(userId) + 100));
      await awaitingOperatorAt(handle, 'add-credit');
      await decide(handle, { action: 'compensate', note: 'cannot tell; undo whatever happened', operator: 'anna' });
      const atUndo = await awaitingOperatorAt(handle, 'undo-add-credit');
      expect(atUndo.awaiting?.failure.type).toBe(FailureType.OutcomeNeedsOperator);
      // The operator takes the refund back by hand in the store admin, then skips the undo.
      context.stack.webtvSim.state.setCredit(userId, centsFromInteger(100));
      await decide(handle, { action: 'skip', note: 'took 2.50 back by hand', operator: 'anna' });
      expect((await failureOf(handle)).type).toBe(FailureType.RunCompensated);
    });
    expect(await context.stack.ledger.listEffects({ userId, state: ['pending', 'unknown'] })).toEqual([]);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(100);
  });

  it('applies nothing twice when a completed run is reset to its first workflow task', async () => {
    const { userId, orderId } = await customerWithOrder();
    await withWorker(async (starter) => {
      const { handle, workflowId } = await startRefundAndCancel(starter, { userId, orderId, amount: '1.25', reason: 'reset test', requestedBy: 'support' });
      await handle.result();
      const callsBefore = context.stack.webtvSim.calls.filter((call) => call.operation !== 'list_orders' && call.operation !== 'get_cart' && call.operation !== 'get_credit').length;
      const { reset } = await resetToFirstWorkflowTask(context.client, handle);
      const rerun = context.client.workflow.getHandle(workflowId, reset.runId ?? undefined);
      const result = (await rerun.result()) as RunResult;
      expect(result.outcome).toBe('completed');
      expect(result.steps.find((step) => step.name === 'add-credit')?.detail).toMatch(/not repeated/);
      const callsAfter = context.stack.webtvSim.calls.filter((call) => call.operation !== 'list_orders' && call.operation !== 'get_cart' && call.operation !== 'get_credit').length;
      expect(callsAfter).toBe(callsBefore);
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(125);
  });
});
