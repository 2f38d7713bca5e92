/** How a run ends when it does not complete: its final state, and a failure of a stable type (src/contracts.ts). */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType, RunState } from '../contracts.ts';
import type { OperatorDecision, RunResult } from '../contracts.ts';
import type { Run } from './run.ts';
import { describeDecider } from './operator.ts';

function endRun(run: Run, state: RunState, type: FailureType, outcome: RunResult['outcome'], message: string): never {
  run.setState(state);
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [run.result(outcome, message) satisfies RunResult] });
}

/** Ends a run that refused to act (bad order, business refusal): state `failed`; the run changed nothing. */
export function failRefused(run: Run, type: string, message: string, details?: unknown): never {
  run.setState(RunState.Failed);
  throw ApplicationFailure.create({ type, nonRetryable: true, message, ...(details === undefined ? {} : { details: [details] }) });
}

/** Ends a run that undid its effects: state `compensated`, type RunCompensated. */
export function failCompensated(run: Run, summary: string): never {
  return endRun(run, RunState.Compensated, FailureType.RunCompensated, 'compensated', summary);
}

type Decision = OperatorDecision & { identity?: string | null };

const abortedBy = (decision: Decision): string => `Aborted by ${describeDecider(decision)}: ${decision.note}`;

/** Ends a run an operator aborted: state `aborted`, type RunAborted. */
export function failAborted(run: Run, decision: Decision, summary: string): never {
  return endRun(run, RunState.Aborted, FailureType.RunAborted, 'aborted', `${summary} ${abortedBy(decision)}`);
}

/** Ends a run whose undo an operator aborted, so some effects stay: state `partially-compensated`. */
export function failPartiallyCompensated(run: Run, decision: Decision, summary: string): never {
  const message = `${summary} ${abortedBy(decision)}`;
  return endRun(run, RunState.PartiallyCompensated, FailureType.RunPartiallyCompensated, 'partially-compensated', message);
}
