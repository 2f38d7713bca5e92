/**
 * Refund and cancel: confirm → add credit → cancel the order (the pivot) → delete the
 * JustClick bill.
 *
 * Before the pivot a business failure undoes the credit (registered before it was added);
 * after the pivot steps only go forward. Unknown outcomes, access problems and exhausted
 * retries wait for an operator.
 */
import { RunState } from '../contracts.ts';
import type { RefundAndCancelInput, RunResult } from '../contracts.ts';
import { choices } from './choices.ts';
import { failAborted } from '../run-kit/endings.ts';
import { Run } from '../run-kit/run.ts';
import { Compensations, compensateAndEnd } from '../run-kit/saga.ts';
import { performStep } from '../run-kit/step.ts';
import type { StepOutcome } from '../run-kit/step.ts';
import { checkedInput, confirmCurrentOrder, deleteJustClickBill } from './steps.ts';
import { validateRefundAndCancel } from '../validation.ts';
import { effects, reads } from '../run-kit/activity-proxies.ts';


export const refundAndCancelSteps = ['confirm-order', 'add-credit', 'cancel-order', 'delete-justclick-bill'] as const;

export async function refundAndCancel(rawInput: RefundAndCancelInput): Promise<RunResult> {
  const input = checkedInput(validateRefundAndCancel, rawInput);
  const { userId, orderId, amount, justclickBillId } = input;
  const run = new Run('refundAndCancel', refundAndCancelSteps, { userId, orderId, justclickBillId });
  if (justclickBillId === undefined) run.setStep('delete-justclick-bill', 'not-needed', 'no JustClick bill was given');
  const saga = new Compensations();
  const addCreditKey = run.effectKey('add-credit');
  const cancelKey = run.effectKey('cancel-order');
  const what = `Refund of ${amount} and cancellation of order ${orderId} for store user ${userId}`;

  // 1. Confirm that the order is the user's current one (or was cancelled by this very run).
  await confirmCurrentOrder(run, reads, { userId, orderId, changeEffectKey: cancelKey }, 'cancelled', what);

  // 2. Add the credit; its undo is registered first.
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
      }),
    describe: (result) => result.detail,
    onBusinessFailure: 'return',
    choices: choices.refundAddCredit,
  });
  if (credit.kind === 'abort') failAborted(run, credit.decision, `${what} stopped at add-credit.`);
  if (credit.kind === 'business-failure' || credit.kind === 'compensate') return compensateAndEnd(run, saga, whyCompensate(what, 'add-credit', credit));

  // 3. The pivot: cancel the order. Before it, failures compensate; after it, only forward.
  const cancelled = await performStep(run, {
    name: 'cancel-order',
    effectKey: cancelKey,
    userId,
    run: () => effects.cancelCurrentOrder({ effectKey: cancelKey, workflowId: run.workflowId, userId, orderId, requester: 'ADMIN' }),
    describe: (result) => result.detail,
    onBusinessFailure: 'return',
    choices: choices.refundCancelOrder,
  });
  if (cancelled.kind === 'abort') failAborted(run, cancelled.decision, `${what} stopped at cancel-order; the credit was added.`);
  if (cancelled.kind === 'business-failure' || cancelled.kind === 'compensate') return compensateAndEnd(run, saga, whyCompensate(what, 'cancel-order', cancelled));
  saga.clear();

  // 4. Delete the mirrored JustClick bill: forward only.
  if (justclickBillId !== undefined) {
    await deleteJustClickBill(run, effects, { billId: justclickBillId, userId }, what, 'the refund and the cancellation stand');
  }

  run.setState(RunState.Completed);
  return run.result('completed', `${what}: done.`);
}

function whyCompensate(what: string, step: string, outcome: Extract<StepOutcome<unknown>, { kind: 'business-failure' | 'compensate' }>): string {
  return outcome.kind === 'compensate'
    ? `${what}: ${outcome.decision.operator} chose to compensate (${outcome.decision.note}).`
    : `${what} failed at ${step}: ${outcome.failure.message}`;
}
