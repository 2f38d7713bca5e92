/**
 * The run tracker, shared by every workflow: a run keeps its state and each step's state
 * (the `status` query), mirrors state and step into search attributes, and takes the
 * operator protocol (the `operatorDecision` update, validated, and the equivalent signal)
 * while a step waits for a person (awaitOperator in ./step.ts).
 */
import { log, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { RunState } from '../contracts.ts';
import type { OperatorAction, OperatorDecision, OperatorRequest, RecordedDecision, RunResult, RunStatus, StepState, StepStatus } from '../contracts.ts';
import { effectKey } from '../ledger/keys.ts';
import { decidedDetails, waitingDetails } from './details-markdown.ts';
import { describeFailureLine } from './failures.ts';
import { decisionProblems, normalizeDecision, operatorDecisionSignal, operatorDecisionUpdate, statusQuery } from './operator.ts';
import { SearchAttributeMirror } from './search-attributes.ts';
import type { RunIdentity } from './search-attributes.ts';

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
    this.attributes = new SearchAttributeMirror(this.state, identity);
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

  setState(state: RunState): void {
    if (state === this.state) return;
    this.state = state;
    this.attributes.stateChanged(state, this.currentStep);
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
    if (state === 'running') this.currentStep = name;
  }

  /** Enters `awaiting-operator` for a request (see awaitOperator in ./step.ts); returns the state to go back to. */
  openOperatorWait(request: Omit<OperatorRequest, 'since'>, allowed: OperatorAction[]): RunState {
    const previousState = this.state;
    this.awaiting = { ...request, since: new Date().toISOString() };
    this.allowed = allowed;
    this.pending = undefined;
    this.setStep(request.step, 'failed', describeFailureLine(request.failure));
    this.setState(RunState.AwaitingOperator);
    setCurrentDetails(waitingDetails(this.awaiting, this.allowed, this.identity));
    return previousState;
  }

  hasOperatorDecision(): boolean {
    return this.pending !== undefined;
  }

  /** Records the decision that arrived, leaves `awaiting-operator` and returns the decision. */
  closeOperatorWait(step: string, previousState: RunState): OperatorDecision {
    const { decision, via } = this.pending!;
    this.decisions.push({ ...decision, step, at: new Date().toISOString(), via });
    this.awaiting = null;
    this.allowed = [];
    this.pending = undefined;
    setCurrentDetails(decidedDetails(decision, step));
    this.setState(previousState === RunState.AwaitingOperator ? RunState.Running : previousState);
    return decision;
  }

  result(outcome: RunResult['outcome'], summary: string): RunResult {
    return { workflowType: this.workflowType, outcome, summary, steps: this.status().steps, decisions: [...this.decisions] };
  }
}
