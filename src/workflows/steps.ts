/** Steps more than one workflow uses. */
import { FailureType } from '../contracts.ts';
import type { ObserveOrderInput, OrderObservation } from '../contracts.ts';
import { choices } from './choices.ts';
import type { Run } from '../run-kit/run.ts';
import { performStep } from '../run-kit/step.ts';
import type { OnBusinessFailure } from '../run-kit/step.ts';
import { effects, reads } from '../run-kit/activity-proxies.ts';

/** Confirms the order is the user's current one (or in `changedState` by this run's own effect: a re-run), or ends the run. */
export async function confirmCurrentOrder(
  run: Run,
  input: ObserveOrderInput,
  changedState: 'cancelled' | 'processed',
  what: string,
): Promise<OrderObservation> {
  const outcome = await performStep<OrderObservation, typeof choices.confirmOrder, OnBusinessFailure>(run, {
    name: 'confirm-order',
    userId: input.userId,
    run: () => reads.observeOrder(input),
    describe: describeObservation,
    onBusinessFailure: 'operator',
    // No such user is as final as no such order: the run ends, having changed nothing.
    alwaysReturn: [FailureType.UnknownUser],
    choices: choices.confirmOrder,
  });
  if (outcome.kind === 'business-failure') {
    const answer = outcome.failure.code === undefined ? '' : ` (WebTV answered ${outcome.failure.code} | ${outcome.failure.vendorText ?? ''})`;
    const why = `the store has no user ${input.userId}${answer}.`;
    run.setStep('confirm-order', 'failed', why);
    run.failRefused(outcome.failure.type, `${what} refused: ${why} Nothing was changed.`, outcome.failure);
  }
  if (outcome.kind === 'abort') run.failAborted(outcome.decision, `${what} stopped before anything was changed.`);
  const observation = outcome.value;
  if (observation.state === 'current') return observation;
  if (observation.state === changedState && observation.changedByThisRun) return observation;
  const why = observation.state === 'absent'
    ? `store user ${input.userId} has no order ${input.orderId}.`
    : `order ${input.orderId} of store user ${input.userId} is ${observation.state}, not the current order` +
      (observation.currentOrderId === null ? ' (the user has no current order).' : ` (the current order is ${observation.currentOrderId}).`);
  run.setStep('confirm-order', 'failed', why);
  run.failRefused(FailureType.OrderNotCurrent, `${what} refused: ${why} Nothing was changed.`);
}

function describeObservation(observation: OrderObservation): string {
  const parts = [`order ${observation.orderId} is ${observation.state}`, `payment ${observation.paymentStatus}`];
  if (observation.total !== null) parts.push(`total ${observation.total}`);
  if (observation.amountDue !== null) parts.push(`amount due ${observation.amountDue}`);
  if (observation.changedByThisRun) parts.push('changed by this run earlier');
  return parts.join(', ');
}

/** The run's JustClick bill (none: the step is not needed) and the forward-only step on it. */
type Bill = { step: 'delete-justclick-bill' | 'mark-justclick-bill-paid'; id: string | undefined; userId: number };

/** A forward-only step on the run's JustClick bill, if any: delete it, or mark it paid; `stands` says what has been done already. */
export async function billStep(run: Run, { step, id, userId }: Bill, what: string, stands: string): Promise<void> {
  if (id === undefined) return;
  const effectKey = run.effectKey(step);
  const input = { effectKey, workflowId: run.workflowId, billId: id, userId };
  const deleting = step === 'delete-justclick-bill';
  const outcome = await performStep(run, {
    name: step,
    effectKey,
    userId,
    run: () => (deleting ? effects.deleteJustClickBill(input) : effects.markJustClickBillPaid(input)),
    onBusinessFailure: 'operator',
    choices: deleting ? choices.deleteBill(stands) : choices.markBillPaid,
  });
  if (outcome.kind === 'abort') {
    const notDone = deleting ? 'deleted' : 'marked paid';
    run.failAborted(outcome.decision, `${what}: ${stands}, but the JustClick bill ${id} was not ${notDone}.`);
  }
}
