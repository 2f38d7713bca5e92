/**
 * A run is what its id and type say, or it does nothing: the id must be the business key
 * its input names (../business-keys.ts), and a type orderflow does not have fails at once
 * (the workflows module's default export, which the SDK runs for every unknown type).
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import { businessKeyProblem, knownWorkflowTypes } from '../business-keys.ts';
import type { StartableWorkflowType } from '../business-keys.ts';
import { FailureType, RunState } from '../contracts.ts';
import { InputError } from '../validation.ts';
import { statusQuery } from './operator.ts';
import { receivedWorkflowIdProblem } from './received-id.ts';

type StartState = typeof RunState.Running | typeof RunState.Failed;

/** The `status` query's answer before a Run tracker exists: the CLI, ops and the UI see the run's `start` step. */
function answerStartStatus(workflowType: string, state: StartState, detail: string): void {
  setHandler(statusQuery, () => ({
    workflowType,
    state,
    step: 'start',
    steps: [{ name: 'start', state, detail }],
    awaiting: null,
    decisions: [],
    refused: [],
  }));
}

/** Fails a run refused before it began, and the `status` query says so. */
export function refuse(workflowType: string, type: string, message: string): never {
  answerStartStatus(workflowType, RunState.Failed, message);
  throw ApplicationFailure.create({ type, nonRetryable: true, message });
}

/** While a run checks what it was given (e.g. a reconcileFinding run reading its finding from the ledger). */
export function answerStatusWhileChecking(workflowType: string, what: string): void {
  answerStartStatus(workflowType, RunState.Running, what);
}

type KeyedInput = { userId: number; orderId?: number | undefined; requestId?: string | undefined };

/** Validates the input (InvalidInput), then refuses a run whose id is not its input's business key (WorkflowIdMismatch). */
export function checkedRunInput<T extends KeyedInput>(workflowType: StartableWorkflowType, validate: (input: unknown) => T, rawInput: unknown): T {
  const input = checkedInput(validate, rawInput);
  const problem = businessKeyProblem(workflowType, workflowInfo().workflowId, input);
  if (problem !== undefined) refuse(workflowType, FailureType.WorkflowIdMismatch, `${workflowType}: ${problem}`);
  return input;
}

/** The run of a workflow type orderflow does not have: fails at once, touching nothing. */
export async function unknownWorkflowType(): Promise<never> {
  const { workflowType, workflowId } = workflowInfo();
  return refuse(
    workflowType,
    FailureType.UnknownWorkflowType,
    `${workflowId}: orderflow has no workflow type ${JSON.stringify(workflowType)} (it runs ${knownWorkflowTypes.join(', ')}). ` +
      'The run is refused before doing anything; start the type you meant (see the contract).',
  );
}

/** Validates a workflow's input (and the id it was started under) deterministically; bad input fails the run as InvalidInput, touching nothing. */
export function checkedInput<T>(validate: (input: unknown) => T, input: unknown): T {
  const idProblem = receivedWorkflowIdProblem();
  if (idProblem !== undefined) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `run refused: ${idProblem}`, nonRetryable: true, details: [[idProblem]] });
  }
  try {
    return validate(input);
  } catch (error) {
    if (error instanceof InputError) {
      throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: error.message, nonRetryable: true, details: [error.problems] });
    }
    throw error;
  }
}
