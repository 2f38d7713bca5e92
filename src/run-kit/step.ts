/** `performStep` runs one step; a failure retries did not fix goes back to the workflow or to an operator, whose choice it does. */
import { isCancellation } from '@temporalio/workflow';
import { FailureType } from '../contracts.ts';
import type { FailureSummary, OperatorAction, RecordedDecision } from '../contracts.ts';
import { describeFailureLine, isBusinessFailure, reasonFor, summarizeFailure } from './failures.ts';
import type { Run } from './run.ts';
import { bookkeeping } from './activity-proxies.ts';

/** What each operator action does at a step (only these are offered). */
export type Choices = Partial<Record<OperatorAction, string>>;

/** `return`: a business failure goes back to the workflow; `operator`: every failure asks a person. */
export type OnBusinessFailure = 'return' | 'operator';

interface StepPlanFields<T, C extends Choices, B extends OnBusinessFailure> {
  name: string;
  /** The ledger key of the effect the step makes, if it makes one. */
  effectKey?: string | undefined;
  run: () => Promise<T>;
  onBusinessFailure: B;
  /** Business failure types that go back to the workflow even with `operator`; such a plan is typed with B = OnBusinessFailure. */
  alwaysReturn?: readonly string[] | undefined;
  choices: C;
  /** The store user the step acts on (for the audit trail). */
  userId?: number | undefined;
  /** Other effects an operator's `skip` settles too (an undo's unresolved forward effect, so it holds up nothing). */
  alsoSettledBySkip?: readonly string[] | undefined;
}

/** `describe`: a line for the status of a successful step; by default the result's `detail` (an effect's). */
export type StepPlan<T, C extends Choices, B extends OnBusinessFailure> = StepPlanFields<T, C, B> &
  (T extends { detail: string } ? { describe?: (value: T) => string } : { describe: (value: T) => string });

/** How a step ended: only the outcomes its choices and its `onBusinessFailure` make possible. */
export type StepOutcome<T, C extends Choices = Choices, B extends OnBusinessFailure = OnBusinessFailure> =
  | { kind: 'done'; value: T }
  | ('skip' extends keyof C ? { kind: 'skipped'; decision: RecordedDecision } : never)
  | ('compensate' extends keyof C ? { kind: 'compensate'; decision: RecordedDecision } : never)
  | ('abort' extends keyof C ? { kind: 'abort'; decision: RecordedDecision } : never)
  | ('return' extends B ? { kind: 'business-failure'; failure: FailureSummary } : never);

// Sound: an operator can only choose an offered action, and a business failure comes back only when the plan says `return`.
export function performStep<T, C extends Choices, B extends OnBusinessFailure>(run: Run, plan: StepPlan<T, C, B>): Promise<StepOutcome<T, C, B>>;
export async function performStep<T>(run: Run, plan: StepPlan<T, Choices, OnBusinessFailure>): Promise<StepOutcome<T>> {
  for (;;) {
    run.setStep(plan.name, 'running', undefined, plan.effectKey);
    try {
      const value = await plan.run();
      run.setStep(plan.name, 'done', plan.describe ? plan.describe(value) : (value as { detail: string }).detail);
      return { kind: 'done', value };
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = summarizeFailure(error);
      if (isBusinessFailure(failure) && (plan.onBusinessFailure === 'return' || plan.alwaysReturn?.includes(failure.type) === true)) {
        run.setStep(plan.name, 'failed', describeFailureLine(failure));
        return { kind: 'business-failure', failure };
      }
      const { nonRetryable: _nonRetryable, ...summary } = failure;
      const request = { step: plan.name, reason: reasonFor(plan.name, failure), failure: summary, choices: plan.choices };
      const decision = await run.awaitOperator(request, plan.userId);
      const resolve = (effectKey: string, resolution: 'resolved-applied' | 'resolved-not-applied') =>
        bookkeeping.resolveEffect({ effectKey, workflowId: run.workflowId, resolution, operator: decision.operator, identity: decision.identity, note: decision.note });
      switch (decision.action) {
        case 'retry':
          // The operator checked: it did not happen. The ledger records their word, so the retry calls again.
          if (plan.effectKey !== undefined && failure.type === FailureType.OutcomeNeedsOperator) {
            await resolve(plan.effectKey, 'resolved-not-applied');
          }
          continue;
        case 'skip': {
          for (const effectKey of [...(plan.alsoSettledBySkip ?? []), ...(plan.effectKey === undefined ? [] : [plan.effectKey])]) await resolve(effectKey, 'resolved-applied');
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
