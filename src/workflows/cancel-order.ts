/** Cancel an order: confirm → cancel (guarded) → delete the mirrored JustClick bill. */
import type { CancelOrderInput, RunResult } from '../contracts.ts';
import { choices } from './choices.ts';
import { Run } from '../run-kit/run.ts';
import { checkedRunInput } from '../run-kit/run-identity.ts';
import { performStep } from '../run-kit/step.ts';
import { billStep, confirmCurrentOrder } from './steps.ts';
import { validateCancelOrder } from '../validation.ts';
import { effects } from '../run-kit/activity-proxies.ts';

export async function cancelOrder(rawInput: CancelOrderInput): Promise<RunResult> {
  const input = checkedRunInput('cancelOrder', validateCancelOrder, rawInput);
  const { userId, orderId, justclickBillId, requester } = input;
  const run = new Run('cancelOrder', ['confirm-order', 'cancel-order', 'delete-justclick-bill'], { userId, orderId, justclickBillId });
  if (justclickBillId === undefined) run.setStep('delete-justclick-bill', 'not-needed', 'no JustClick bill was given');
  const cancelKey = run.effectKey('cancel-order');
  const what = `Cancellation of order ${orderId} for store user ${userId}`;

  await confirmCurrentOrder(run, { userId, orderId, changeEffectKey: cancelKey }, 'cancelled', what);

  const cancelled = await performStep(run, {
    name: 'cancel-order',
    effectKey: cancelKey,
    userId,
    run: () => effects.cancelCurrentOrder({ effectKey: cancelKey, workflowId: run.workflowId, userId, orderId, requester }),
    onBusinessFailure: 'return',
    choices: choices.cancelOrder,
  });
  if (cancelled.kind === 'abort') run.failAborted(cancelled.decision, `${what} stopped at cancel-order.`);
  if (cancelled.kind === 'business-failure') {
    run.failRefused(cancelled.failure.type, `${what} was refused: ${cancelled.failure.message} Nothing was changed.`, cancelled.failure);
  }

  await billStep(run, { step: 'delete-justclick-bill', id: justclickBillId, userId }, what, 'the order stays cancelled');
  return run.complete(`${what}: done.`);
}
