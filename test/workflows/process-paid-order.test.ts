/**
 * processPaidOrder against a real Temporal dev server (the global setup's) and both
 * simulators: nothing due, waiting for the paymentReceived signal, the payment deadline
 * with operator decisions, an order that is not current, and a reset.
 */
import { describe, expect, it } from 'vitest';
import { startProcessPaidOrder } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { OperatorDecision, PaymentReceived, RunResult } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { centsFromInteger } from '../../src/money.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { eventually } from '../../harness/stack.ts';
import {
  awaitingOperatorAt,
  callCountOf,
  decide,
  demoOrderTotalCents,
  failureOf,
  forCurrentWait,
  resetToFirstWorkflowTask,
  statusOf,
  useWorkflowTestContext,
} from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('processPaidOrder on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'process-paid-order', firstUserId: 10 });
  const { prefix, customerWithOrder, billFor, withWorker, orderOf } = context;

  it('processes an order the credit paid in full and marks the JustClick bill paid, each once', async () => {
    const { userId, orderId } = await customerWithOrder(demoOrderTotalCents);
    const billId = await billFor(userId);
    expect(context.stack.justclickSim.state.getBill(billId)?.status).toBe('waiting');
    const processBefore = callCountOf(context.stack.webtvSim, 'process_order');
    const markBefore = callCountOf(context.stack.justclickSim, 'UpdateOrderStatus');

    const result = await withWorker(async (starter) => {
      const started = await startProcessPaidOrder(starter, { userId, orderId, justclickBillId: billId });
      expect(started.workflowId).toBe(`${prefix}process-paid-order:${userId}:${orderId}`);
      const value = (await started.handle.result()) as RunResult;
      expect((await statusOf(started.handle)).state).toBe('completed');
      const description = await started.handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('completed');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeOrderId)).toBe(orderId);
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.justClickBillId)).toBe(billId);
      return value;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.map((step) => [step.name, step.state])).toEqual([
      ['confirm-order', 'done'],
      ['process-order', 'done'],
      ['mark-justclick-bill-paid', 'done'],
    ]);
    expect(result.steps[0]?.detail).toMatch(/amount due 0\.00/);
    expect(await orderOf(userId, orderId)).toEqual({ status: 'processed', paymentStatus: 'paid' });
    const bill = context.stack.justclickSim.state.getBill(billId);
    expect(bill?.status).toBe('paid');
    expect(bill?.paidAt).not.toBeNull();
    expect(callCountOf(context.stack.webtvSim, 'process_order') - processBefore).toBe(1);
    expect(callCountOf(context.stack.justclickSim, 'UpdateOrderStatus') - markBefore).toBe(1);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.state])).toEqual([
      ['process-order', 'applied'],
      ['mark-justclick-bill-paid', 'applied'],
    ]);
  });

  it('waits for payment while an amount is due, waits again after a signal without payment, and processes after a paid signal', async () => {
    const { userId, orderId } = await customerWithOrder();
    const processBefore = callCountOf(context.stack.webtvSim, 'process_order');
    const processCalls = (): number => callCountOf(context.stack.webtvSim, 'process_order') - processBefore;

    const result = await withWorker(async (starter) => {
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId });
      const waiting = await eventually('the run to wait for payment', async () => {
        const status = await statusOf(handle);
        return status.state === 'waiting-for-payment' ? status : undefined;
      });
      expect(waiting.awaiting).toBeNull();
      expect(waiting.steps.find((step) => step.name === 'process-order')).toMatchObject({ state: 'pending' });
      expect(waiting.steps.find((step) => step.name === 'process-order')?.detail).toMatch(/waiting up to 24 hours for the paymentReceived signal/);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('waiting-for-payment');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.step)).toBe('process-order');
      expect(processCalls()).toBe(1);
      expect(await orderOf(userId, orderId)).toEqual({ status: 'current', paymentStatus: 'unpaid' });

      // A signal while the amount is still due: the run tries once more, then waits again.
      await handle.signal<[PaymentReceived]>('paymentReceived', { note: 'gateway said paid (it was not)', by: 'payments' });
      await eventually('the second process_order and the second wait', async () => {
        if (processCalls() < 2) return undefined;
        return (await statusOf(handle)).state === 'waiting-for-payment' ? true : undefined;
      });
      expect(processCalls()).toBe(2);

      context.stack.webtvSim.state.recordPayment(userId, centsFromInteger(demoOrderTotalCents));
      await handle.signal<[PaymentReceived]>('paymentReceived', { note: 'gateway confirmed', by: 'payments' });
      const value = (await handle.result()) as RunResult;
      const finalDescription = await handle.describe();
      expect(finalDescription.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('completed');
      return value;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.map((step) => [step.name, step.state])).toEqual([
      ['confirm-order', 'done'],
      ['process-order', 'done'],
      ['mark-justclick-bill-paid', 'not-needed'],
    ]);
    expect(result.decisions).toEqual([]);
    expect(processCalls()).toBe(3);
    expect(await orderOf(userId, orderId)).toEqual({ status: 'processed', paymentStatus: 'paid' });
  });

  it('asks an operator when the payment deadline passes, and processes after retry once paid', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);

    const result = await withWorker(async (starter) => {
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId, justclickBillId: billId, paymentDeadline: '2 seconds' });
      const waiting = await awaitingOperatorAt(handle, 'process-order');
      expect(waiting.awaiting?.reason).toMatch(/no paymentReceived signal arrived within 2 seconds/);
      expect(waiting.awaiting?.failure).toMatchObject({ code: 'ERROR_AMOUNT_DUE', api: 'webtv', operation: 'process_order' });
      expect(waiting.awaiting?.failure.message).toMatch(/^AmountDue/);
      expect(Object.keys(waiting.awaiting?.choices ?? {})).toEqual(['retry', 'abort']);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('awaiting-operator');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.step)).toBe('process-order');
      expect(context.stack.justclickSim.state.getBill(billId)?.status).toBe('waiting');

      context.stack.webtvSim.state.recordPayment(userId, centsFromInteger(demoOrderTotalCents));
      const reply = await decide(handle, { action: 'retry', note: 'paid by bank transfer', operator: 'anna' });
      expect(reply).toMatchObject({ accepted: true, action: 'retry' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.decisions.map((decision) => [decision.step, decision.action, decision.operator, decision.via])).toEqual([
      ['process-order', 'retry', 'anna', 'update'],
    ]);
    expect(result.steps.map((step) => [step.name, step.state])).toEqual([
      ['confirm-order', 'done'],
      ['process-order', 'done'],
      ['mark-justclick-bill-paid', 'done'],
    ]);
    expect(await orderOf(userId, orderId)).toEqual({ status: 'processed', paymentStatus: 'paid' });
    expect(context.stack.justclickSim.state.getBill(billId)?.status).toBe('paid');
    const audit = await context.stack.ledger.listAudit({ event: 'operator.retry' });
    expect(audit.some((event) => event.actor === 'anna' && event.userId === String(userId))).toBe(true);
  });

  it('fails as RunAborted when the operator aborts after the payment deadline, leaving the order unprocessed', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    const markBefore = callCountOf(context.stack.justclickSim, 'UpdateOrderStatus');

    await withWorker(async (starter) => {
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId, justclickBillId: billId, paymentDeadline: '2 seconds' });
      await awaitingOperatorAt(handle, 'process-order');
      await handle.signal<[OperatorDecision]>('operatorDecision', await forCurrentWait(handle, { action: 'abort', note: 'customer never paid', operator: 'ben' }));
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.RunAborted);
      expect(failure.message).toMatch(/stopped while an amount was due\. Aborted by ben \(Temporal identity: [^)]+\): customer never paid/);
      const result = failure.details?.[0] as RunResult;
      expect(result.outcome).toBe('aborted');
      expect(result.decisions.map((decision) => [decision.step, decision.action, decision.via])).toEqual([['process-order', 'abort', 'signal']]);
      expect((await statusOf(handle)).state).toBe('aborted');
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('aborted');
    });

    expect(await orderOf(userId, orderId)).toEqual({ status: 'current', paymentStatus: 'unpaid' });
    expect(context.stack.justclickSim.state.getBill(billId)?.status).toBe('waiting');
    expect(callCountOf(context.stack.justclickSim, 'UpdateOrderStatus') - markBefore).toBe(0);
  });

  it('refuses an order that is not the current one as OrderNotCurrent, without calling process_order', async () => {
    const { userId, orderId } = await customerWithOrder(demoOrderTotalCents);
    await context.stack.webtv.cancelOrder(userId);
    const processBefore = callCountOf(context.stack.webtvSim, 'process_order');

    await withWorker(async (starter) => {
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.OrderNotCurrent);
      expect(failure.message).toMatch(new RegExp(`order ${orderId} of store user ${userId} is cancelled, not the current order`));
      expect(failure.message).toMatch(/Nothing was changed/);
      const status = await statusOf(handle);
      expect(status.state).toBe('failed');
      expect(status.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'failed'],
        ['process-order', 'pending'],
        ['mark-justclick-bill-paid', 'not-needed'],
      ]);
    });

    expect(callCountOf(context.stack.webtvSim, 'process_order') - processBefore).toBe(0);
    expect(await orderOf(userId, orderId)).toEqual({ status: 'cancelled', paymentStatus: 'cancelled' });
    expect(await context.stack.ledger.listEffects({ userId })).toEqual([]);
  });

  it('processes nothing twice when a completed run is reset to its first workflow task', async () => {
    const { userId, orderId } = await customerWithOrder(demoOrderTotalCents);
    const billId = await billFor(userId);
    const changingCalls = (): number =>
      callCountOf(context.stack.webtvSim, 'process_order') + callCountOf(context.stack.webtvSim, 'cancel_order') + callCountOf(context.stack.webtvSim, 'add_subtract_credit') +
      callCountOf(context.stack.justclickSim, 'UpdateOrderStatus') + callCountOf(context.stack.justclickSim, 'DeleteOrder');

    await withWorker(async (starter) => {
      const { handle, workflowId } = await startProcessPaidOrder(starter, { userId, orderId, justclickBillId: billId });
      await handle.result();
      const callsBefore = changingCalls();
      const { description, reset } = await resetToFirstWorkflowTask(context.client, handle);
      expect(reset.runId).toBeTruthy();
      expect(reset.runId).not.toBe(description.runId);
      const rerun = context.client.workflow.getHandle(workflowId, reset.runId ?? undefined);
      const result = (await rerun.result()) as RunResult;
      expect(result.outcome).toBe('completed');
      expect(result.steps.find((step) => step.name === 'confirm-order')?.detail).toMatch(/order \d+ is processed, .*changed by this run earlier/);
      expect(result.steps.find((step) => step.name === 'process-order')?.detail).toMatch(/not repeated/);
      expect(result.steps.find((step) => step.name === 'mark-justclick-bill-paid')?.detail).toMatch(/not repeated/);
      expect(changingCalls()).toBe(callsBefore);
    });
    expect(await orderOf(userId, orderId)).toEqual({ status: 'processed', paymentStatus: 'paid' });
    expect(context.stack.justclickSim.state.getBill(billId)?.status).toBe('paid');
  });
});
