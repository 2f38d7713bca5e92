/** Process a paid order: confirm → process (waits for payment) → mark the JustClick bill paid (docs/architecture.md). */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { FailureType, RunState, defaultPaymentDeadline, signalNames } from '../contracts.ts';
import type { PaymentReceived, ProcessPaidOrderInput, RunResult } from '../contracts.ts';
import { choices } from './choices.ts';
import { describeFailureLine } from '../run-kit/failures.ts';
import { Run } from '../run-kit/run.ts';
import { checkedRunInput } from '../run-kit/run-identity.ts';
import { performStep } from '../run-kit/step.ts';
import { billStep, confirmCurrentOrder } from './steps.ts';
import { validateProcessPaidOrder } from '../validation.ts';
import { effects } from '../run-kit/activity-proxies.ts';

const paymentReceivedSignal = defineSignal<[PaymentReceived?]>(signalNames.paymentReceived);

export async function processPaidOrder(rawInput: ProcessPaidOrderInput): Promise<RunResult> {
  const input = checkedRunInput('processPaidOrder', validateProcessPaidOrder, rawInput);
  const { userId, orderId, justclickBillId } = input;
  const deadline = input.paymentDeadline ?? defaultPaymentDeadline;
  const run = new Run('processPaidOrder', ['confirm-order', 'process-order', 'mark-justclick-bill-paid'], { userId, orderId, justclickBillId });
  if (justclickBillId === undefined) run.setStep('mark-justclick-bill-paid', 'not-needed', 'no JustClick bill was given');
  let paymentsSignalled = 0;
  setHandler(paymentReceivedSignal, () => {
    paymentsSignalled += 1;
  });
  const processKey = run.effectKey('process-order');
  const what = `Processing of order ${orderId} for store user ${userId}`;

  await confirmCurrentOrder(run, { userId, orderId, changeEffectKey: processKey }, 'processed', what);

  for (;;) {
    const processed = await performStep(run, {
      name: 'process-order',
      effectKey: processKey,
      userId,
      run: () => effects.processCurrentOrder({ effectKey: processKey, workflowId: run.workflowId, userId, orderId }),
      onBusinessFailure: 'return',
      choices: choices.processOrder,
    });
    if (processed.kind === 'done' || processed.kind === 'skipped') break;
    if (processed.kind === 'abort') return run.failAborted(processed.decision, `${what} stopped at process-order.`);
    if (processed.failure.type !== FailureType.AmountDue) {
      return run.failRefused(processed.failure.type, `${what} was refused: ${processed.failure.message}`, processed.failure);
    }
    // An amount is due: wait for a payment signal, then try again; past the deadline ask a person.
    const seen = paymentsSignalled;
    run.setState(RunState.WaitingForPayment);
    run.setStep('process-order', 'pending', `amount due; waiting up to ${deadline} for the paymentReceived signal`);
    const paid = await condition(() => paymentsSignalled > seen, deadline);
    run.setState(RunState.Running);
    if (paid) continue;
    const decision = await run.awaitOperator({
      step: 'process-order',
      reason: `The order still has an amount due and no paymentReceived signal arrived within ${deadline}.`,
      failure: { ...processed.failure, message: `${describeFailureLine(processed.failure)}: ${processed.failure.message}` },
      choices: choices.paymentDeadlinePassed,
    }, userId);
    if (decision.action === 'abort') return run.failAborted(decision, `${what} stopped while an amount was due.`);
  }

  await billStep(run, { step: 'mark-justclick-bill-paid', id: justclickBillId, userId }, what, 'processed');
  return run.complete(`${what}: done.`);
}
