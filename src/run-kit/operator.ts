/**
 * The operator protocol: the `operatorDecision` update and signal, the `status` query, and
 * the validation of a decision (shared by the update's validator and the signal handler).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { operatorActions } from '../contracts.ts';
import { controlCharacterProblem } from '../single-line-text.ts';
import type { OperatorAction, OperatorDecision, OperatorDecisionReply, RunStatus } from '../contracts.ts';

export const operatorDecisionUpdate = defineUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision');
export const operatorDecisionSignal = defineSignal<[OperatorDecision]>('operatorDecision');
export const statusQuery = defineQuery<RunStatus>('status');

/** Limits on what an operator may write; the note lands in history, the UI and the ledger. */
const maxNoteLength = 2_000;
const maxOperatorLength = 200;

/**
 * Checks a decision's shape; returns the problems (empty when fine). The one rule for what a
 * decision may hold, applied where it enters (the update's validator, the signal's handler):
 * what passes here is also what the ledger's audit trail accepts (one printable line each).
 */
export function decisionProblems(input: unknown, allowed: readonly OperatorAction[]): string[] {
  if (typeof input !== 'object' || input === null) {
    return ['the decision must be a JSON object like {"action":"retry","note":"checked the balance","operator":"alice"}'];
  }
  const decision = input as Partial<Record<keyof OperatorDecision, unknown>>;
  const problems: string[] = [];
  if (typeof decision.action !== 'string' || !(operatorActions as readonly string[]).includes(decision.action)) {
    problems.push(`"action" must be one of ${operatorActions.join(', ')}`);
  } else if (!allowed.includes(decision.action as OperatorAction)) {
    problems.push(`"${decision.action}" is not possible here; choose one of ${allowed.join(', ')}`);
  }
  return [...problems, ...authorshipProblems(decision, 'decides')];
}

/**
 * Who asks and why: the `operator` and `note` of a decision, or of a bulk's pause, resume or
 * cancel. Each must be one printable line within its limit.
 */
export function authorshipProblems(input: object, verb: 'decides' | 'asks'): string[] {
  const { note, operator } = input as { note?: unknown; operator?: unknown };
  const problems: string[] = [];
  if (typeof note !== 'string' || note.trim() === '') problems.push('"note" must say why (a non-empty string)');
  else if (note.length > maxNoteLength) problems.push(`"note" must be at most ${maxNoteLength} characters`);
  else problems.push(...oneLine('"note"', note));
  if (typeof operator !== 'string' || operator.trim() === '') problems.push(`"operator" must name who ${verb}`);
  else if (operator.trim().length > maxOperatorLength) problems.push(`"operator" must be at most ${maxOperatorLength} characters`);
  else problems.push(...oneLine('"operator"', operator));
  return problems;
}

function oneLine(what: string, value: string): string[] {
  const problem = controlCharacterProblem(what, value);
  return problem === undefined ? [] : [problem];
}

export function normalizeDecision(decision: OperatorDecision): OperatorDecision {
  return { action: decision.action, note: decision.note.trim(), operator: decision.operator.trim() };
}
