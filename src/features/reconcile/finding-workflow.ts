/**
 * reconcileFinding: one drift finding that touches money or an order, waiting for an operator
 * (one run per stable finding id). It acts only on the finding as reconcile recorded it in the
 * ledger, and is refused when its input differs or it is not that finding's run.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RunResult } from '../../contracts.ts';
import type { ReconcileActivities, ReconcileFindingInput } from './contracts.ts';
import { choices } from '../../workflows/choices.ts';
import { performStep } from '../../run-kit/step.ts';
import { Run } from '../../run-kit/run.ts';
import { answerStatusWhileChecking, refuse } from '../../run-kit/run-identity.ts';
import { summarizeFailure } from '../../run-kit/failures.ts';
import { bookkeeping, bookkeepingOptions, effects } from '../../run-kit/activity-proxies.ts';

const { recordedFinding } = proxyActivities<ReconcileActivities>(bookkeepingOptions);

/** The finding as reconcile recorded it; a forged or unknown one fails the run before anything. */
async function checkedFinding(given: ReconcileFindingInput['finding']): Promise<ReconcileFindingInput['finding']> {
  try {
    return await recordedFinding({ finding: given });
  } catch (error) {
    const failure = summarizeFailure(error);
    if (!failure.nonRetryable) throw error;
    return refuse('reconcileFinding', failure.type, failure.message);
  }
}

/** What each operator choice does at a finding. */
const findingChoices = {
  /** `compensate` only where the finding is a credit change made twice. */
  drift: (takeBack: string | undefined) => ({
    skip: 'Accept it as it is (you checked, or put it right by hand): close the finding.',
    ...(takeBack === undefined ? {} : { compensate: `${takeBack}, once, through the ledger; then close the finding.` }),
    abort: 'Close the finding without a verdict; nothing is changed.',
  }),
  /** A stale effect: the operator settles it in the ledger. */
  staleEffect: {
    retry: 'It did NOT take effect (you checked the store): record it as not applied; nothing is called.',
    skip: 'It DID take effect (you checked, or did it by hand): record it as applied; nothing is called.',
    abort: 'Close the finding without a verdict; the effect stays unresolved.',
  },
} as const;

export async function reconcileFinding(input: ReconcileFindingInput): Promise<RunResult> {
  answerStatusWhileChecking('reconcileFinding', 'checking the finding against what reconcile recorded in the ledger');
  const finding = await checkedFinding(input?.finding);
  const credit = finding.credit;
  const userId = credit?.userId ?? (finding.userId === null ? undefined : Number(finding.userId));
  const run = new Run('reconcileFinding', credit === undefined ? ['decide'] : ['decide', 'take-back'], { userId });
  const takeBackAction = credit?.action === 'add' ? 'subtract' : 'add';
  const takeBack = credit === undefined ? undefined : `${takeBackAction === 'subtract' ? 'Subtract' : 'Add back'} ${credit.amount} credit ${takeBackAction === 'subtract' ? 'from' : 'to'} store user ${credit.userId}`;
  const staleKey = finding.kind === 'stale-effect' && finding.effectKey !== null ? finding.effectKey : undefined;
  const request = {
    step: 'decide',
    reason: `${finding.summary} (reconcile finding ${finding.id})`,
    failure: { type: 'DriftFound', message: finding.summary, observed: finding.evidence },
    choices: staleKey === undefined ? findingChoices.drift(takeBack) : findingChoices.staleEffect,
  };
  const decision = await run.awaitOperator(request, userId);
  if (decision.action === 'abort') return run.failAborted(decision, `Finding ${finding.id} closed without a verdict by ${decision.operator}.`);
  if (staleKey !== undefined) {
    // The operator's word settles the effect in the ledger; no API is called.
    const resolution = decision.action === 'skip' ? 'resolved-applied' : 'resolved-not-applied';
    await bookkeeping.resolveEffect({ effectKey: staleKey, workflowId: finding.workflowId, resolution, operator: decision.operator, identity: decision.identity, note: decision.note });
    run.setStep('decide', 'done', `${decision.operator} recorded ${staleKey} as ${resolution}: ${decision.note}`);
    return run.complete(`Finding ${finding.id}: recorded as ${resolution} by ${decision.operator}.`);
  }
  if (decision.action === 'skip' || credit === undefined) {
    run.setStep('decide', 'done', `accepted as it is by ${decision.operator}: ${decision.note}`);
    return run.complete(`Finding ${finding.id} accepted as it is by ${decision.operator}.`);
  }
  run.setStep('decide', 'done', `${decision.operator} chose to take it back: ${decision.note}`);
  const key = run.effectKey('take-back');
  const outcome = await performStep(run, {
    name: 'take-back',
    effectKey: key,
    userId: credit.userId,
    run: () =>
      effects.applyCreditChange({
        effectKey: key,
        workflowId: run.workflowId,
        userId: credit.userId,
        creditAction: takeBackAction,
        amount: credit.amount,
        description: finding.kind === 'double-effect'
          ? 'Correction: the order was refunded twice'
          : `Correction: ${credit.action === 'add' ? 'credit added' : 'credit subtracted'} twice (late request)`,
      }),
    onBusinessFailure: 'operator',
    choices: choices.adjustCredit(takeBackAction),
  });
  if (outcome.kind === 'abort') return run.failAborted(outcome.decision, `${takeBack ?? ''} stopped.`);
  return run.complete(`Finding ${finding.id}: ${takeBack ?? ''} — done.`);
}
