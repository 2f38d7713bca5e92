/** Approval of a credit change above the worker's ORDERFLOW_APPROVAL_ABOVE by a second person (docs/decisions.md). */
import { parsePositiveAmount } from '../money.ts';
import { describeDecider } from './operator.ts';
import type { Run } from './run.ts';
import { workerSettings } from './activity-proxies.ts';

export const approvalStep = 'approve-credit';

export interface CreditApproval {
  /** The change as a sentence, e.g. `Add 500.00 credit to store user 7`. */
  change: string;
  amount: string;
  userId: number;
  /** The step the change is made at; the approval step is shown before it. */
  before: string;
  /** What the run is, for the abort's summary. */
  what: string;
}

/** Returns when the change may be made (below the threshold, or approved); ends the run when an operator aborts. */
export async function approveIfAboveThreshold(run: Run, approval: CreditApproval): Promise<void> {
  const { above } = await workerSettings.approvalThreshold();
  if (above === null || parsePositiveAmount(approval.amount) <= parsePositiveAmount(above, 'approval threshold')) return;
  run.addStepBefore(approvalStep, approval.before);
  const decision = await run.awaitOperator({
    step: approvalStep,
    reason: `${approval.change} is above the approval threshold (${above}): a second person must approve it before it is made.`,
    failure: {
      type: 'ApprovalRequired',
      message: `${approval.change}: ${approval.amount} is above the approval threshold ${above} (ORDERFLOW_APPROVAL_ABOVE).`,
      observed: { amount: approval.amount, 'approval threshold': above },
    },
    choices: {
      approve: `${approval.change}: approved (you are not the one who started this run); make it now.`,
      abort: 'Do not make it: stop now; nothing has been changed.',
    },
    secondPerson: true,
  }, approval.userId);
  if (decision.action !== 'approve') run.failAborted(decision, `${approval.what} was not approved; nothing was changed.`);
  run.setStep(approvalStep, 'done', `approved by ${describeDecider(decision)}: ${decision.note}`);
}
