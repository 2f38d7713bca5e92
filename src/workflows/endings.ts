/**
 * How a run ends when it does not complete: each ending sets the run's final state and
 * fails the workflow with a stable failure type (src/contracts.ts) and the run's result.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType, RunState } from '../contracts.ts';
import type { FailureType as FailureTypeName, OperatorDecision, RunResult } from '../contracts.ts';
import type { Run } from './run.ts';

/** Ends a run that refused to act (bad order, business refusal): state `failed`; nothing was changed by it. */
export function failRefused(run: Run, type: FailureTypeName | string, message: string, details?: unknown): never {
  run.setState(RunState.Failed);
  throw ApplicationFailure.create({ type, nonRetryable: true, message, ...(details === undefined ? {} : { details: [details] }) });
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

/** Ends a run an operator aborted: state `aborted`, type RunAborted. */
export function failAborted(run: Run, decision: OperatorDecision, summary: string): never {
  run.setState(RunState.Aborted);
  const message = `${summary} Aborted by ${decision.operator}: ${decision.note}`;
  throw ApplicationFailure.create({
    type: FailureType.RunAborted,
    message,
    nonRetryable: true,
    details: [run.result('aborted', message) satisfies RunResult],
  });
}

/**
 * Ends a run whose undo an operator aborted: some effects stay. State
 * `partially-compensated`, type RunPartiallyCompensated (the failure's type is not part of
 * what replay compares, so recorded runs that failed as RunAborted still replay).
 */
export function failPartiallyCompensated(run: Run, decision: OperatorDecision, summary: string): never {
  run.setState(RunState.PartiallyCompensated);
  const message = `${summary} Aborted by ${decision.operator}: ${decision.note}`;
  throw ApplicationFailure.create({
    type: FailureType.RunPartiallyCompensated,
    message,
    nonRetryable: true,
    details: [run.result('partially-compensated', message) satisfies RunResult],
  });
}
