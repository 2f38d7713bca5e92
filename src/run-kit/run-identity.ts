/** A run is what its id and type say, or it does nothing (docs/money-rules.md, docs/security.md). */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import { businessKeyProblem, knownWorkflowTypes } from '../business-keys.ts';
import type { StartableWorkflowType } from '../business-keys.ts';
import { FailureType, RunState } from '../contracts.ts';
import { controlCharacterProblem } from '../single-line-text.ts';
import { InputError } from '../validation.ts';
import { statusQuery } from './operator.ts';

/** The `status` query's answer before a Run tracker exists: the CLI, ops and the UI see the run's `start` step. */
function answerStartStatus(workflowType: string, state: typeof RunState.Running | typeof RunState.Failed, detail: string): void {
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

/**
 * What is wrong with the id this run was started with, or undefined: a raw start may carry any text, and the id is shown
 * to operators and part of every effect key, so it must be single-line text (../single-line-text.ts) without surrounding spaces.
 */
export function receivedWorkflowIdProblem(): string | undefined {
  const { workflowId } = workflowInfo();
  const problem = controlCharacterProblem('the workflow id', workflowId);
  if (problem !== undefined) return `${problem}; start the run again with an id of visible characters (orderflow's starters build one)`;
  if (workflowId.trim() !== workflowId) return 'the workflow id must not begin or end with spaces; start the run again without them';
  return undefined;
}

type KeyedInput = { userId: number; orderId?: number | undefined; requestId?: string | undefined };

/** Checks input and id, touching nothing: bad input or id fails the run as InvalidInput, another business key as WorkflowIdMismatch. */
export function checkedRunInput<T extends KeyedInput>(workflowType: StartableWorkflowType, validate: (input: unknown) => T, rawInput: unknown): T {
  const invalid = (message: string, problems: readonly string[]): ApplicationFailure =>
    ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true, details: [problems] });
  const idProblem = receivedWorkflowIdProblem();
  if (idProblem !== undefined) throw invalid(`run refused: ${idProblem}`, [idProblem]);
  let input: T;
  try {
    input = validate(rawInput);
  } catch (error) {
    throw error instanceof InputError ? invalid(error.message, error.problems) : error;
  }
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
