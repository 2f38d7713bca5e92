/**
 * The run tracker and the awaiting-operator protocol, shared by every workflow.
 *
 * A run keeps its state and each step's state (the `status` query), mirrors state and
 * step into typed search attributes (so ops find it in the UI), and when a step needs a
 * person it enters `awaiting-operator`: Markdown current details say what failed, what
 * was observed and what each choice does; it then waits for an `operatorDecision`
 * update (validated; answers what will happen) or the equivalent signal.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  TemporalFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import { effectKey } from '../effects/keys.ts';
import { FailureType, RunState, operatorActions } from '../contracts.ts';
import type {
  FailureSummary,
  OperatorAction,
  OperatorDecision,
  OperatorDecisionReply,
  OperatorRequest,
  RecordedDecision,
  RunResult,
  RunStatus,
  StepState,
  StepStatus,
} from '../contracts.ts';

export const operatorDecisionUpdate = defineUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision');
export const operatorDecisionSignal = defineSignal<[OperatorDecision]>('operatorDecision');
export const statusQuery = defineQuery<RunStatus>('status');

export interface RunIdentity {
  userId?: number | undefined;
  orderId?: number | undefined;
  justclickBillId?: string | undefined;
}

/** Limits on what an operator may write; the note lands in history, the UI and the ledger. */
const maxNoteLength = 2_000;
const maxOperatorLength = 200;

/** Checks a decision's shape; returns the problems (empty when fine). */
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
  if (typeof decision.note !== 'string' || decision.note.trim() === '') problems.push('"note" must say why (a non-empty string)');
  else if (decision.note.length > maxNoteLength) problems.push(`"note" must be at most ${maxNoteLength} characters`);
  if (typeof decision.operator !== 'string' || decision.operator.trim() === '') problems.push('"operator" must name who decides');
  else if (decision.operator.length > maxOperatorLength) problems.push(`"operator" must be at most ${maxOperatorLength} characters`);
  return problems;
}

/** A summary of any failure a step can end in, for people and for the decision logic. */
export function summarizeFailure(error: unknown): FailureSummary & { nonRetryable: boolean } {
  let failure: unknown = error;
  if (failure instanceof ActivityFailure && failure.cause) failure = failure.cause;
  if (failure instanceof ApplicationFailure) {
    const details = (failure.details?.[0] ?? {}) as Partial<FailureSummary>;
    return {
      type: failure.type ?? 'Error',
      message: failure.message,
      api: details.api,
      operation: details.operation,
      code: details.code,
      vendorText: details.vendorText,
      observed: details.observed,
      nonRetryable: failure.nonRetryable === true,
    };
  }
  if (failure instanceof TemporalFailure) {
    // Timeouts and cancellations: the attempt's outcome is not known.
    return { type: failure.name, message: failure.message, nonRetryable: false };
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return { type: 'Error', message, nonRetryable: false };
}

/** Failure types that mean "the API said no, for a business reason; nothing changed". */
const businessFailureTypes: ReadonlySet<string> = new Set([
  FailureType.ApiRejected,
  FailureType.OrderNotCurrent,
  FailureType.AmountDue,
  FailureType.CreditAlreadySpent,
  FailureType.InvalidInput,
]);

/**
 * A business failure is final and certain (the API refused; nothing changed), so a saga may
 * compensate on its own. Everything else (unknown outcomes, access problems, retries used
 * up) needs a person.
 */
export function isBusinessFailure(summary: FailureSummary & { nonRetryable: boolean }): boolean {
  return summary.nonRetryable && businessFailureTypes.has(summary.type);
}

function describeFailureLine(failure: FailureSummary): string {
  const vendor = failure.code ? `${failure.code}${failure.vendorText ? ` | ${failure.vendorText}` : ''}` : '';
  const where = failure.api ? `${failure.api}${failure.operation ? ` ${failure.operation}` : ''}` : '';
  return [failure.type, where, vendor].filter((part) => part !== '').join(' · ');
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]|<>])/g, '\\$1');
}

export class Run {
  readonly workflowType: string;
  private state: RunState = RunState.Running;
  private currentStep: string;
  private readonly steps: StepStatus[];
  private readonly decisions: RecordedDecision[] = [];
  private awaiting: OperatorRequest | null = null;
  private allowed: OperatorAction[] = [];
  private pending: { decision: OperatorDecision; via: 'update' | 'signal' } | undefined;
  private readonly identity: RunIdentity;

  constructor(workflowType: string, stepNames: readonly string[], identity: RunIdentity) {
    this.workflowType = workflowType;
    this.identity = identity;
    this.steps = stepNames.map((name) => ({ name, state: 'pending' as StepState }));
    this.currentStep = stepNames[0] ?? 'start';
    setHandler(statusQuery, () => this.status());
    setHandler(
      operatorDecisionUpdate,
      (decision) => {
        this.pending = { decision: normalizeDecision(decision), via: 'update' };
        return { accepted: true, action: decision.action, willHappen: this.awaiting?.choices[decision.action] ?? '' };
      },
      {
        validator: (decision) => {
          if (this.awaiting === null || this.pending !== undefined) {
            throw new Error(`this run is not waiting for an operator (state: ${this.state}, step: ${this.currentStep})`);
          }
          const problems = decisionProblems(decision, this.allowed);
          if (problems.length > 0) throw new Error(`decision refused: ${problems.join('; ')}`);
        },
        description: 'Resume a run that waits for an operator: {"action":"retry|skip|compensate|abort","note":"why","operator":"who"}',
      },
    );
    setHandler(
      operatorDecisionSignal,
      (decision) => {
        const problems = this.awaiting === null || this.pending !== undefined
          ? [`this run is not waiting for an operator (state: ${this.state})`]
          : decisionProblems(decision, this.allowed);
        if (problems.length > 0) {
          log.warn('operatorDecision signal ignored', { problems, decision });
          return;
        }
        this.pending = { decision: normalizeDecision(decision), via: 'signal' };
      },
      { description: 'Same as the operatorDecision update, for clients that can only signal; invalid decisions are ignored (see the worker log).' },
    );
    const pairs: SearchAttributeUpdatePair[] = [
      { key: orderflowSearchAttributes.state, value: this.state },
      { key: orderflowSearchAttributes.step, value: this.currentStep },
    ];
    if (identity.userId !== undefined) pairs.push({ key: orderflowSearchAttributes.storeUserId, value: identity.userId });
    if (identity.orderId !== undefined) pairs.push({ key: orderflowSearchAttributes.storeOrderId, value: identity.orderId });
    if (identity.justclickBillId !== undefined) {
      pairs.push({ key: orderflowSearchAttributes.justClickBillId, value: identity.justclickBillId });
    }
    upsertSearchAttributes(pairs);
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /** The effect key of a step (see ../effects/keys.ts for why it carries the first execution run id). */
  effectKey(step: string): string {
    const info = workflowInfo();
    return effectKey(info.workflowId, step, info.firstExecutionRunId);
  }

  status(): RunStatus {
    return {
      workflowType: this.workflowType,
      state: this.state,
      step: this.currentStep,
      steps: this.steps.map((step) => ({ ...step })),
      awaiting: this.awaiting,
      decisions: [...this.decisions],
    };
  }

  get runState(): RunState {
    return this.state;
  }

  setState(state: RunState): void {
    if (state === this.state) return;
    this.state = state;
    upsertSearchAttributes([{ key: orderflowSearchAttributes.state, value: state }]);
  }

  setStep(name: string, state: StepState, detail?: string, effectKey?: string): void {
    let step = this.steps.find((candidate) => candidate.name === name);
    if (!step) {
      step = { name, state };
      this.steps.push(step);
    }
    step.state = state;
    if (detail !== undefined) step.detail = detail;
    if (effectKey !== undefined) step.effectKey = effectKey;
    if (state === 'running' && this.currentStep !== name) {
      this.currentStep = name;
      upsertSearchAttributes([{ key: orderflowSearchAttributes.step, value: name }]);
    }
  }

  /** Waits for a valid operator decision on the given request; records it. */
  async awaitOperator(request: Omit<OperatorRequest, 'since'>, stateWhileWaiting: RunState = RunState.AwaitingOperator): Promise<OperatorDecision> {
    const previousState = this.state;
    this.awaiting = { ...request, since: new Date().toISOString() };
    this.allowed = operatorActions.filter((action) => request.choices[action] !== undefined);
    this.pending = undefined;
    this.setStep(request.step, 'failed', describeFailureLine(request.failure));
    this.setState(stateWhileWaiting);
    setCurrentDetails(this.renderDetails(this.awaiting));
    log.warn('run waits for an operator', { step: request.step, reason: request.reason, failure: request.failure.type });

    await condition(() => this.pending !== undefined);
    const { decision, via } = this.pending!;
    this.decisions.push({ ...decision, step: request.step, at: new Date().toISOString(), via });
    this.awaiting = null;
    this.allowed = [];
    this.pending = undefined;
    setCurrentDetails(
      `**${escapeMarkdown(decision.operator)}** chose **${decision.action}** for step \`${request.step}\`: ${escapeMarkdown(decision.note)}`,
    );
    this.setState(previousState === stateWhileWaiting ? RunState.Running : previousState);
    return decision;
  }

  result(outcome: RunResult['outcome'], summary: string): RunResult {
    return { workflowType: this.workflowType, outcome, summary, steps: this.status().steps, decisions: [...this.decisions] };
  }

  private renderDetails(request: OperatorRequest): string {
    const failure = request.failure;
    const lines: string[] = [
      `## Waiting for an operator: step \`${request.step}\``,
      '',
      escapeMarkdown(request.reason),
      '',
      '### What failed',
      '',
      `- **Failure:** ${escapeMarkdown(failure.type)}`,
    ];
    if (failure.api) lines.push(`- **API:** ${escapeMarkdown(failure.api)}${failure.operation ? ` \`${failure.operation}\`` : ''}`);
    if (failure.code) lines.push(`- **Code:** \`${failure.code}\`${failure.vendorText ? ` | ${escapeMarkdown(failure.vendorText)}` : ''}`);
    lines.push(`- **Message:** ${escapeMarkdown(failure.message)}`);
    if (failure.observed && Object.keys(failure.observed).length > 0) {
      lines.push('', '### What was observed', '');
      for (const [name, value] of Object.entries(failure.observed)) lines.push(`- **${escapeMarkdown(name)}:** ${escapeMarkdown(value)}`);
    }
    const who = [
      this.identity.userId !== undefined ? `store user ${this.identity.userId}` : '',
      this.identity.orderId !== undefined ? `order ${this.identity.orderId}` : '',
      this.identity.justclickBillId !== undefined ? `JustClick bill ${escapeMarkdown(this.identity.justclickBillId)}` : '',
    ].filter((part) => part !== '');
    if (who.length > 0) lines.push('', `Run for ${who.join(', ')}.`);
    lines.push('', '### Your choices', '', '| action | what happens |', '|---|---|');
    for (const action of this.allowed) lines.push(`| \`${action}\` | ${escapeMarkdown(request.choices[action] ?? '')} |`);
    lines.push(
      '',
      'Send the **operatorDecision** update (or signal) with, for example:',
      '',
      '```json',
      JSON.stringify({ action: this.allowed[0] ?? 'retry', note: 'what you checked and why', operator: 'your name' }),
      '```',
    );
    return lines.join('\n');
  }
}

function normalizeDecision(decision: OperatorDecision): OperatorDecision {
  return { action: decision.action, note: decision.note.trim(), operator: decision.operator.trim() };
}

export { describeFailureLine };
