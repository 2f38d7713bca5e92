/**
 * `performStep` runs one step and, when it fails in a way Temporal's retries did not fix,
 * either hands a business failure back to the workflow (which may compensate) or asks an
 * operator, then does what they chose.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import type { FailureSummary, OperatorDecision } from '../contracts.ts';
import type { Choices } from './choices.ts';
import { describeFailureLine, isBusinessFailure, isUndecidableOutcome, reasonFor, summarizeFailure } from './failures.ts';
import type { Run } from './run.ts';
import { bookkeeping } from './activity-proxies.ts';


export interface StepPlan<T> {
  name: string;
  /** The ledger key of the effect the step makes, if it makes one. */
  effectKey?: string | undefined;
  run: () => Promise<T>;
  /** A line for the status of a successful step. */
  describe: (value: T) => string;
  /** `return`: a business failure goes back to the workflow; `operator`: every failure asks a person. */
  onBusinessFailure: 'return' | 'operator';
  /**
   * Business failure types that go back to the workflow even with `operator`: final answers
   * on which the workflow ends the run itself (e.g. an unknown user at confirm-order).
   */
  alwaysReturn?: readonly string[] | undefined;
  /** What each operator action does for this step (only these are offered). */
  choices: Choices;
  /** The store user the step acts on (for the audit trail). */
  userId?: number | undefined;
  /**
   * Other effects an operator's `skip` settles too: skipping an undo whose forward effect is
   * still unresolved settles both, so that the user's later credit changes are not held up.
   */
  alsoSettledBySkip?: readonly string[] | undefined;
}

export type StepOutcome<T> =
  | { kind: 'done'; value: T }
  | { kind: 'skipped'; decision: OperatorDecision }
  | { kind: 'business-failure'; failure: FailureSummary }
  | { kind: 'compensate'; decision: OperatorDecision }
  | { kind: 'abort'; decision: OperatorDecision };

/** Writes an operator's decision to the ledger's audit trail, which outlives Temporal's history. */
export async function auditDecision(run: Run, step: string, decision: OperatorDecision, failure: FailureSummary, userId?: number): Promise<void> {
  await bookkeeping.recordAudit({
    workflowId: run.workflowId,
    event: `operator.${decision.action}`,
    actor: decision.operator,
    userId,
    details: { step, note: decision.note, failureType: failure.type, code: failure.code ?? null },
  });
}

export async function performStep<T>(run: Run, plan: StepPlan<T>): Promise<StepOutcome<T>> {
  for (;;) {
    run.setStep(plan.name, 'running', undefined, plan.effectKey);
    try {
      const value = await plan.run();
      run.setStep(plan.name, 'done', plan.describe(value));
      return { kind: 'done', value };
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = summarizeFailure(error);
      if (isBusinessFailure(failure) && (plan.onBusinessFailure === 'return' || plan.alwaysReturn?.includes(failure.type) === true)) {
        run.setStep(plan.name, 'failed', describeFailureLine(failure));
        return { kind: 'business-failure', failure };
      }
      const { nonRetryable: _nonRetryable, ...summary } = failure;
      const decision = await run.awaitOperator({ step: plan.name, reason: reasonFor(plan.name, failure), failure: summary, choices: plan.choices });
      await auditDecision(run, plan.name, decision, failure, plan.userId);
      const resolve = (effectKey: string, resolution: 'resolved-applied' | 'resolved-not-applied') =>
        bookkeeping.resolveEffect({ effectKey, workflowId: run.workflowId, resolution, operator: decision.operator, note: decision.note });
      switch (decision.action) {
        case 'retry':
          // The operator checked: it did not happen. The ledger records their word, so the retry calls again.
          if (plan.effectKey !== undefined && isUndecidableOutcome(failure.type)) await resolve(plan.effectKey, 'resolved-not-applied');
          continue;
        case 'skip': {
          // patched(): runs recorded before this rule replay as they ran.
          const alsoSettled = plan.alsoSettledBySkip !== undefined && patched('skip-settles-forward-effect') ? plan.alsoSettledBySkip : [];
          for (const effectKey of [...alsoSettled, ...(plan.effectKey === undefined ? [] : [plan.effectKey])]) await resolve(effectKey, 'resolved-applied');
          run.setStep(plan.name, 'skipped', `skipped by ${decision.operator}: ${decision.note}`);
          return { kind: 'skipped', decision };
        }
        case 'compensate':
          return { kind: 'compensate', decision };
        case 'abort':
          return { kind: 'abort', decision };
      }
    }
  }
}
