/**
 * The run tracker, shared by every workflow: a run keeps its state and each step's state
 * (the `status` query), mirrors state and step into search attributes, and when a step
 * needs a person it enters `awaiting-operator`: Markdown current details say what failed,
 * what was observed and what each choice does; it then waits for an `operatorDecision`
 * update (validated; answers what will happen) or the equivalent signal.
 */
import { condition, log, patched, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { RunState, operatorActions } from '../contracts.ts';
import type { OperatorAction, OperatorDecision, OperatorRequest, RecordedDecision, RunResult, RunStatus, StepState, StepStatus } from '../contracts.ts';
import { effectKey } from '../effects/keys.ts';
import { decidedDetails, waitingDetails } from './details-markdown.ts';
import { describeFailureLine, shortReasonFor } from './failures.ts';
import { decisionProblems, normalizeDecision, operatorDecisionSignal, operatorDecisionUpdate, statusQuery } from './operator.ts';
import { SearchAttributeMirror } from './run-search-attributes.ts';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import type { RunIdentity } from './run-search-attributes.ts';

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
  private readonly attributes: SearchAttributeMirror;

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
    this.attributes = new SearchAttributeMirror(this.state, this.currentStep, identity);
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

  /** `also`: more search attributes to write with the state (in the same upsert). */
  setState(state: RunState, also: readonly SearchAttributeUpdatePair[] = []): void {
    if (state === this.state) return;
    this.state = state;
    this.attributes.stateChanged(state, this.currentStep, also);
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
      this.attributes.stepStarted(name);
    }
  }

  /** Waits (state `awaiting-operator`) for a valid operator decision on the given request; records it. */
  async awaitOperator(request: Omit<OperatorRequest, 'since'>): Promise<OperatorDecision> {
    const previousState = this.state;
    this.awaiting = { ...request, since: new Date().toISOString() };
    this.allowed = operatorActions.filter((action) => request.choices[action] !== undefined);
    this.pending = undefined;
    this.setStep(request.step, 'failed', describeFailureLine(request.failure));
    // The step, the choices and why, on the UI's workflow list (patched: runs recorded before replay as they ran).
    const labelled = patched('waiting-for-search-attribute');
    this.setState(RunState.AwaitingOperator, labelled ? [{ key: orderflowSearchAttributes.waitingFor, value: waitingForLabel(request.step, this.allowed, request.failure.type) }] : []);
    setCurrentDetails(waitingDetails(this.awaiting, this.allowed, this.identity));
    log.warn('run waits for an operator', { step: request.step, reason: request.reason, failure: request.failure.type });

    if (patched('operator-wait-timer')) {
      // A timer whose summary says what the run waits for: the UI shows it on the run's
      // default tab (Timeline), where an operator looks first. It only labels the wait:
      // when it fires, the run goes on waiting.
      const summary = waitSummary(request.step, request.reason);
      while (!(await condition(() => this.pending !== undefined, operatorWaitTimer, { summary })));
    } else {
      await condition(() => this.pending !== undefined);
    }
    const { decision, via } = this.pending!;
    this.decisions.push({ ...decision, step: request.step, at: new Date().toISOString(), via });
    this.awaiting = null;
    this.allowed = [];
    this.pending = undefined;
    setCurrentDetails(decidedDetails(decision, request.step));
    this.setState(previousState === RunState.AwaitingOperator ? RunState.Running : previousState, labelled ? [{ key: orderflowSearchAttributes.waitingFor, value: null }] : []);
    return decision;
  }

  result(outcome: RunResult['outcome'], summary: string): RunResult {
    return { workflowType: this.workflowType, outcome, summary, steps: this.status().steps, decisions: [...this.decisions] };
  }
}

/** How long one labelled wait timer runs; a wait longer than this simply starts another. */
const operatorWaitTimer = '30 days';

/** The wait timer's one-line summary, short enough for the UI's timeline: the first sentence of the reason. */
/** The OrderflowWaitingFor value: `add-credit: retry|skip|abort (outcome unknown)`. */
export function waitingForLabel(step: string, allowed: readonly OperatorAction[], failureType: string): string {
  return `${step}: ${allowed.join('|')} (${shortReasonFor(failureType)})`;
}

function waitSummary(step: string, reason: string): string {
  const firstSentence = /^.*?[.!?](?=\s|$)/.exec(reason)?.[0] ?? reason;
  const text = `Waiting for an operator: ${firstSentence.includes(step) ? firstSentence : `at ${step}: ${firstSentence}`}`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}
