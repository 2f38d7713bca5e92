/** The operator protocol: the `operatorDecision` update and signal, the `status` query, a decision's check (docs/decisions.md). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { operatorActions, queryNames, signalNames, updateNames } from '../contracts.ts';
import { controlCharacterProblem } from '../single-line-text.ts';
import type { OperatorAction, OperatorDecision, OperatorDecisionReply, OperatorRequest, RecordedDecision, RunStatus } from '../contracts.ts';

export const operatorDecisionUpdate = defineUpdate<OperatorDecisionReply, [OperatorDecision]>(updateNames.operatorDecision);
export const operatorDecisionSignal = defineSignal<[OperatorDecision]>(signalNames.operatorDecision);
export const statusQuery = defineQuery<RunStatus>(queryNames.status);

/** Limits on what an operator may write; the note lands in history, the UI and the ledger. */
const maxNoteLength = 2_000;
const maxOperatorLength = 200;

/** The fields a decision has; any other is refused (a misspelt or invented field must not be silently ignored). */
const decisionFields: readonly (keyof OperatorDecision)[] = ['waitId', 'step', 'action', 'note', 'operator'];

/** What a wait id looks like: a step name, `#`, a positive counter. */
export const waitIdPattern = /^([a-z][a-z0-9-]{0,63})#([1-9][0-9]{0,5})$/;

/** What a decision is checked against: the wait it answers. */
type Wait = Pick<OperatorRequest, 'waitId' | 'step' | 'choices'>;

/** The actions a wait offers, in the protocol's order. */
export function allowedActions(choices: OperatorRequest['choices']): OperatorAction[] {
  return operatorActions.filter((action) => choices[action] !== undefined);
}

/** The JSON an operator sends for `wait` (the UI's Update/Signal form takes exactly this). */
export function exampleDecision(wait: Wait): OperatorDecision {
  const action = allowedActions(wait.choices)[0] ?? 'retry';
  return { waitId: wait.waitId, step: wait.step, action, note: 'what you checked and why', operator: 'your name' };
}

/** "the run waits for cancel-order#2 (step cancel-order; choices retry, skip, abort)", or that it waits for nothing. */
function describeCurrentWait(wait: Wait | null, state: string, step: string): string {
  if (wait === null) return `the run waits for no decision now (state ${state}, step ${step})`;
  const allowed = allowedActions(wait.choices);
  return `the run waits for ${wait.waitId} (step ${wait.step}; choices ${allowed.join(', ')}): send {"waitId":"${wait.waitId}","step":"${wait.step}",…}`;
}

/** The problems of a decision for the wait it answers (null: none is open): the one rule; what passes, the ledger's audit trail accepts. */
export function decisionProblems(input: unknown, wait: Wait | null, run: { state: string; step: string }): string[] {
  const now = describeCurrentWait(wait, run.state, run.step);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [`the decision must be a JSON object like ${JSON.stringify(wait === null ? exampleDecision({ waitId: 'cancel-order#1', step: 'cancel-order', choices: { retry: '' } }) : exampleDecision(wait))}; ${now}`];
  }
  const decision = input as Partial<Record<keyof OperatorDecision, unknown>>;
  const problems: string[] = [];
  const unknown = Object.keys(input).filter((name) => !(decisionFields as readonly string[]).includes(name));
  if (unknown.length > 0) problems.push(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => JSON.stringify(name.slice(0, 40))).join(', ')}: a decision has only ${decisionFields.join(', ')}`);

  // Which wait: the first thing checked, since a decision for another wait must not act here.
  const waitId = decision.waitId;
  if (waitId === undefined) problems.push(`"waitId" is missing: name the wait this decision answers; ${now}`);
  else if (typeof waitId !== 'string' || !waitIdPattern.test(waitId)) {
    problems.push(`"waitId" ${JSON.stringify(typeof waitId === 'string' ? waitId.slice(0, 80) : waitId)} is not a wait id (<step>#<number>, e.g. "cancel-order#2"); ${now}`);
  } else if (wait === null) problems.push(`this decision is for ${waitId}, which is over: ${now}`);
  else if (waitId !== wait.waitId) problems.push(`this decision is for ${waitId}, not the current wait: ${now}`);
  if (typeof decision.step !== 'string') problems.push(`"step" must name the step of the wait${wait === null ? '' : ` ("${wait.step}")`}`);
  else if (typeof waitId === 'string' && waitIdPattern.exec(waitId)?.[1] !== decision.step) {
    problems.push(`"step" ${JSON.stringify(decision.step.slice(0, 80))} is not the step of ${JSON.stringify(waitId.slice(0, 80))}`);
  }

  const allowed = wait === null ? [] : allowedActions(wait.choices);
  if (typeof decision.action !== 'string' || !(operatorActions as readonly string[]).includes(decision.action)) {
    problems.push(`"action" must be one of ${(wait === null ? operatorActions : allowed).join(', ')}`);
  } else if (wait !== null && !allowed.includes(decision.action as OperatorAction)) {
    problems.push(`"${decision.action}" is not possible here; choose one of ${allowed.join(', ')}`);
  }
  return [...problems, ...authorshipProblems(decision, 'decides')];
}

/** The `operator` and `note` of a decision, or of a bulk's pause, resume or cancel: one printable line each. */
export function authorshipProblems(input: object, verb: 'decides' | 'asks'): string[] {
  const { note, operator } = input as { note?: unknown; operator?: unknown };
  const problems: Array<string | undefined> = [];
  if (typeof note !== 'string' || note.trim() === '') problems.push('"note" must say why (a non-empty string)');
  else if (note.length > maxNoteLength) problems.push(`"note" must be at most ${maxNoteLength} characters`);
  else problems.push(controlCharacterProblem('"note"', note));
  if (typeof operator !== 'string' || operator.trim() === '') problems.push(`"operator" must name who ${verb}`);
  else if (operator.trim().length > maxOperatorLength) problems.push(`"operator" must be at most ${maxOperatorLength} characters`);
  else problems.push(controlCharacterProblem('"operator"', operator));
  return problems.filter((problem) => problem !== undefined);
}

export function normalizeDecision(decision: OperatorDecision): OperatorDecision {
  return { waitId: decision.waitId, step: decision.step, action: decision.action, note: decision.note.trim(), operator: decision.operator.trim() };
}

/** "anna (Temporal identity: orderflow-cli:anna@host)": the self-declared name next to what Temporal recorded. */
export function describeDecider(decision: Pick<RecordedDecision, 'operator'> & { identity?: string | null | undefined }): string {
  return `${decision.operator} (Temporal identity: ${decision.identity ?? 'none recorded'})`;
}
