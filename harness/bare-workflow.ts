/**
 * The bare Temporal baseline for `npm run bench:e2e`: the same seven calls in the same four
 * activities as orderflow's refundAndCancel, with no ledger, no search attributes, no
 * status tracking. Workflow code: imports @temporalio/workflow, and saga-calls.ts for the
 * order of the calls (its other imports are types and the pure src/money.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import { runSagaDirectly } from './saga-calls.ts';
import type { SagaCalls, SagaInput } from './saga-calls.ts';

const calls = proxyActivities<SagaCalls>({
  startToCloseTimeout: '90 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12 },
});

/** The plain script's order of calls (saga-calls.ts), each group an activity. */
export async function bareRefundAndCancel(input: SagaInput): Promise<string> {
  await runSagaDirectly(calls, input);
  return 'completed';
}
