/**
 * Steps and compensations.
 *
 * `performStep` runs one step and, when it fails in a way Temporal's retries did not fix,
 * either hands a business failure back to the workflow (which may compensate) or asks an
 * operator. `Compensations` is the saga's undo stack: each undo is registered BEFORE its
 * forward step runs (a step can take effect and still report failure), is itself a
 * once-only effect, and does nothing when its forward step never took effect.
 */
import { ApplicationFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import { FailureType, RunState } from '../contracts.ts';
import type { FailureSummary, OperatorAction, OperatorDecision, OrderflowActivities, RunResult } from '../contracts.ts';
import { bookkeepingOptions } from './options.ts';
import { describeFailureLine, isBusinessFailure, summarizeFailure } from './operator.ts';
import type { Run } from './operator.ts';

const bookkeeping = proxyActivities<OrderflowActivities>(bookkeepingOptions);

export type Choices = Partial<Record<OperatorAction, string>>;

export interface StepPlan<T> {
  name: string;
  /** The ledger key of the effect the step makes, if it makes one. */
  effectKey?: string | undefined;
  run: () => Promise<T>;
  /** A line for the status of a successful step. */
  describe: (value: T) => string;
  /** `return`: a business failure goes back to the workflow; `operator`: every failure asks a person. */
  onBusinessFailure: 'return' | 'operator';
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

function reasonFor(step: string, failure: FailureSummary & { nonRetryable: boolean }): string {
  switch (failure.type) {
    case FailureType.OutcomeUnknown:
      return `Step ${step} may or may not have taken effect, and the evidence cannot decide. Check the API (see what was observed) and tell the run what happened.`;
    case FailureType.ApiAccessDenied:
      return `Step ${step} was refused by the API because of our credentials, signature or address. Fix the configuration of the workers, then retry.`;
    case FailureType.ResponseNotTrusted:
      return `Step ${step}: the API's answer did not carry a valid signature, so it is not trusted. Check JUSTCLICK_SECRET and whether the effect happened.`;
    default:
      return failure.nonRetryable
        ? `Step ${step} failed and retrying it as it is cannot help.`
        : `Step ${step} kept failing after every automatic retry (the API may be down or unreachable).`;
  }
}

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
      if (plan.onBusinessFailure === 'return' && isBusinessFailure(failure)) {
        run.setStep(plan.name, 'failed', describeFailureLine(failure));
        return { kind: 'business-failure', failure };
      }
      const decision = await run.awaitOperator({
        step: plan.name,
        reason: reasonFor(plan.name, failure),
        failure: {
          type: failure.type,
          message: failure.message,
          api: failure.api,
          operation: failure.operation,
          code: failure.code,
          vendorText: failure.vendorText,
          observed: failure.observed,
        },
        choices: plan.choices,
      });
      await auditDecision(run, plan.name, decision, failure, plan.userId);
      switch (decision.action) {
        case 'retry':
          if (plan.effectKey !== undefined && failure.type === FailureType.OutcomeUnknown) {
            await bookkeeping.resolveEffect({
              effectKey: plan.effectKey,
              workflowId: run.workflowId,
              resolution: 'resolved-not-applied',
              operator: decision.operator,
              note: decision.note,
            });
          }
          continue;
        case 'skip': {
          // patched(): runs recorded before this rule replay as they ran.
          const alsoSettled = plan.alsoSettledBySkip !== undefined && patched('skip-settles-forward-effect') ? plan.alsoSettledBySkip : [];
          for (const effectKey of [...alsoSettled, ...(plan.effectKey === undefined ? [] : [plan.effectKey])]) {
            await bookkeeping.resolveEffect({
              effectKey,
              workflowId: run.workflowId,
              resolution: 'resolved-applied',
              operator: decision.operator,
              note: decision.note,
            });
          }
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

export interface Compensation {
  /** The step name of the undo, e.g. `undo-add-credit`. */
  name: string;
  effectKey: string;
  /** The effect this undoes. */
  forwardEffectKey: string;
  run: () => Promise<{ status: 'applied' | 'not-needed'; detail: string }>;
  userId?: number | undefined;
}

const compensationChoices: Choices = {
  retry: 'Try the undo again (for example after the user has credit again, or the API is back).',
  skip: 'Accept it as it is (written off, or undone by hand) and finish the compensation.',
  abort: 'Stop here: the run ends as partially compensated and nothing more is undone.',
};

export class Compensations {
  private readonly stack: Compensation[] = [];

  /** Registers an undo; call it BEFORE the forward step runs. */
  register(compensation: Compensation): void {
    this.stack.push(compensation);
  }

  /** Forgets every registered undo: after the pivot, steps only go forward. */
  clear(): void {
    this.stack.length = 0;
  }

  /**
   * Runs every registered undo, newest first. An undo that cannot complete (the credit was
   * already spent) waits for an operator; `abort` there leaves the run partially compensated.
   */
  async runAll(run: Run): Promise<{ complete: true } | { complete: false; decision: OperatorDecision }> {
    run.setState(RunState.Compensating);
    while (this.stack.length > 0) {
      const compensation = this.stack.pop()!;
      const outcome = await performStep(run, {
        name: compensation.name,
        effectKey: compensation.effectKey,
        run: compensation.run,
        describe: (result) => result.detail,
        onBusinessFailure: 'operator',
        choices: compensationChoices,
        userId: compensation.userId,
        alsoSettledBySkip: [compensation.forwardEffectKey],
      });
      if (outcome.kind === 'done' && outcome.value.status === 'not-needed') {
        run.setStep(compensation.name, 'not-needed', outcome.value.detail);
      }
      if (outcome.kind === 'abort') return { complete: false, decision: outcome.decision };
    }
    return { complete: true };
  }
}

/** Ends a run that undid its effects: the run fails with type RunCompensated and its result in the details. */
export function failCompensated(run: Run, summary: string): never {
  run.setState(RunState.Compensated);
  throw ApplicationFailure.create({
    type: FailureType.RunCompensated,
    message: summary,
    nonRetryable: true,
    details: [run.result('compensated', summary) satisfies RunResult],
  });
}

/** Ends a run an operator aborted (possibly partially compensated). */
export function failAborted(run: Run, decision: OperatorDecision, summary: string, partiallyCompensated = false): never {
  run.setState(partiallyCompensated ? RunState.PartiallyCompensated : RunState.Aborted);
  const message = `${summary} Aborted by ${decision.operator}: ${decision.note}`;
  throw ApplicationFailure.create({
    type: FailureType.RunAborted,
    message,
    nonRetryable: true,
    details: [run.result(partiallyCompensated ? 'partially-compensated' : 'aborted', message) satisfies RunResult],
  });
}

/** Undoes what was done, then ends the run accordingly. */
export async function compensateAndEnd(run: Run, saga: Compensations, why: string): Promise<never> {
  const outcome = await saga.runAll(run);
  if (outcome.complete) failCompensated(run, `${why} Everything done before was undone.`);
  failAborted(run, outcome.decision, `${why} Undoing it could not complete.`, true);
}
