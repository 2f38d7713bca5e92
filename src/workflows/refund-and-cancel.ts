/** Refund and cancel: confirm → add credit → cancel the order (the pivot) → delete the JustClick bill (docs/architecture.md). */
import { FailureType } from '../contracts.ts';
import type { OrderObservation, RefundAndCancelInput, RunResult } from '../contracts.ts';
import { parseDecimalAmount } from '../money.ts';
import { choices } from './choices.ts';
import { Run } from '../run-kit/run.ts';
import { checkedRunInput } from '../run-kit/run-identity.ts';
import { Compensations } from '../run-kit/saga.ts';
import { performStep } from '../run-kit/step.ts';
import type { StepOutcome } from '../run-kit/step.ts';
import { billStep, confirmCurrentOrder } from './steps.ts';
import { validateRefundAndCancel } from '../validation.ts';
import { effects } from '../run-kit/activity-proxies.ts';
import { approveIfAboveThreshold } from '../run-kit/approval.ts';

export async function refundAndCancel(rawInput: RefundAndCancelInput): Promise<RunResult> {
  const input = checkedRunInput('refundAndCancel', validateRefundAndCancel, rawInput);
  const { userId, orderId, amount, justclickBillId } = input;
  const steps = ['confirm-order', 'add-credit', 'cancel-order', 'delete-justclick-bill'];
  const run = new Run('refundAndCancel', steps, { userId, orderId, justclickBillId });
  if (justclickBillId === undefined) run.setStep('delete-justclick-bill', 'not-needed', 'no JustClick bill was given');
  const saga = new Compensations();
  const addCreditKey = run.effectKey('add-credit');
  const cancelKey = run.effectKey('cancel-order');
  const what = `Refund of ${amount} and cancellation of order ${orderId} for store user ${userId}`;

  const order = await confirmCurrentOrder(run, { userId, orderId, changeEffectKey: cancelKey }, 'cancelled', what);
  refuseAboveOrderTotal(run, amount, order, what);

  await approveIfAboveThreshold(run, { change: `Add ${amount} credit to store user ${userId} (refund for order ${orderId})`, amount, userId, before: 'add-credit', what });

  // The credit's undo is registered first.
  const undoKey = run.effectKey('undo-add-credit');
  saga.register({
    name: 'undo-add-credit',
    effectKey: undoKey,
    forwardEffectKey: addCreditKey,
    userId,
    run: () =>
      effects.undoCreditChange({
        effectKey: undoKey,
        forwardEffectKey: addCreditKey,
        workflowId: run.workflowId,
        userId,
        amount,
        description: `orderflow: undo refund for order ${orderId}`,
      }),
  });
  const credit = await performStep(run, {
    name: 'add-credit',
    effectKey: addCreditKey,
    userId,
    run: () =>
      effects.applyCreditChange({
        effectKey: addCreditKey,
        workflowId: run.workflowId,
        userId,
        creditAction: 'add',
        amount,
        description: `Refund for order ${orderId}: ${input.reason}`,
        refundOfOrderId: orderId,
      }),
    onBusinessFailure: 'return',
    choices: choices.refundAddCredit,
  });
  if (credit.kind === 'abort') run.failAborted(credit.decision, `${what} stopped at add-credit.`);
  if (credit.kind === 'business-failure' || credit.kind === 'compensate') return saga.compensateAndEnd(run, whyCompensate(what, 'add-credit', credit));

  // The pivot: cancel the order. Before it, failures compensate; after it, only forward.
  const cancelled = await performStep(run, {
    name: 'cancel-order',
    effectKey: cancelKey,
    userId,
    run: () => effects.cancelCurrentOrder({ effectKey: cancelKey, workflowId: run.workflowId, userId, orderId, requester: 'ADMIN' }),
    onBusinessFailure: 'return',
    choices: choices.refundCancelOrder,
  });
  if (cancelled.kind === 'abort') run.failAborted(cancelled.decision, `${what} stopped at cancel-order; the credit was added.`);
  if (cancelled.kind === 'business-failure' || cancelled.kind === 'compensate') return saga.compensateAndEnd(run, whyCompensate(what, 'cancel-order', cancelled));
  saga.clear();

  await billStep(run, { step: 'delete-justclick-bill', id: justclickBillId, userId }, what, 'the refund and the cancellation stand');
  return run.complete(`${what}: done.`);
}

/** A refund is at most the order's total: anything more is refused here, before any effect. */
function refuseAboveOrderTotal(run: Run, amount: string, order: OrderObservation, what: string): void {
  const total = order.total === null ? undefined : parseDecimalAmount(order.total);
  if (total !== undefined && parseDecimalAmount(amount) <= total) return;
  const why = total === undefined
    ? `the store did not report the total of order ${order.orderId}, so the refund of ${amount} cannot be bounded.`
    : `the refund of ${amount} is more than the total of order ${order.orderId} (${order.total}).`;
  run.setStep('confirm-order', 'failed', why);
  run.failRefused(FailureType.RefundAboveOrderTotal, `${what} refused: ${why} Nothing was changed. Start it again with an amount of at most the order's total.`);
}

function whyCompensate(what: string, step: string, outcome: Extract<StepOutcome<unknown>, { kind: 'business-failure' | 'compensate' }>): string {
  return outcome.kind === 'compensate'
    ? `${what}: ${outcome.decision.operator} chose to compensate (${outcome.decision.note}).`
    : `${what} failed at ${step}: ${outcome.failure.message}`;
}
