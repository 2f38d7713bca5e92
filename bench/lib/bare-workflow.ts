/**
 * The bare Temporal baseline for `npm run bench:e2e`: the same seven calls in the same four
 * activities as orderflow's refundAndCancel, with no ledger, no search attributes, no
 * status tracking. Workflow code: imports only @temporalio/workflow and types.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SagaCalls, SagaInput } from './saga-calls.ts';

const calls = proxyActivities<SagaCalls>({
  startToCloseTimeout: '90 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12 },
});

export async function bareRefundAndCancel(input: SagaInput): Promise<string> {
  const observed = await calls.observeOrder(input);
  if (!observed.current) throw new Error(`order ${input.orderId} of user ${input.userId} is not current`);
  await calls.addCredit(input);
  const cancelled = await calls.cancelOrder(input);
  if (!cancelled.cancelled) throw new Error(`order ${input.orderId} of user ${input.userId} was not cancelled`);
  await calls.deleteBill(input);
  return 'completed';
}
