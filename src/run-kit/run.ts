/** The run tracker every workflow shares: state, steps, endings and operator waits (docs/architecture.md, docs/decisions.md). */
import {
  ApplicationFailure, condition, currentUpdateInfo, log, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { FailureType, RunState } from '../contracts.ts';
import type {
  OperatorDecision, OperatorDecisionReply, OperatorRequest, RecordedDecision, RecordedIdentity, RecordedIdentityInput, RefusedDecision,
  RunResult, RunStatus, StepState, StepStatus,
} from '../contracts.ts';
import { effectKey } from '../ledger/keys.ts';
import { decidedDetails, waitingDetails } from './details-markdown.ts';
import { describeFailureLine, shortReasonFor } from './failures.ts';
import { orderflowSearchAttributes as attributes } from '../search-attributes.ts';
import {
  allowedActions, decisionProblems, describeDecider, normalizeDecision, operatorDecisionSignal, operatorDecisionUpdate, statusQuery,
} from './operator.ts';
import { bookkeeping } from './activity-proxies.ts';

/** Whom a run is about: in its search attributes and its current details. */
export interface RunIdentity {
  userId?: number | undefined;
  orderId?: number | undefined;
  justclickBillId?: string | undefined;
}

/** How many refused decisions `status` keeps (the newest). */
const refusedKept = 20;

/** How long one labelled wait timer runs; a wait longer than this simply starts another. */
const operatorWaitTimer = '30 days';

export class Run {
  readonly workflowType: string;
  private state: RunState = RunState.Running;
  private currentStep: string;
  private readonly steps: StepStatus[];
  private readonly decisions: RecordedDecision[] = [];
  private readonly refused: RefusedDecision[] = [];
  private awaiting: OperatorRequest | null = null;
  /** The counter in each wait id. */
  private waits = 0;
  /** The n-th `operatorDecision` signal is the n-th in the run's history. */
  private decisionSignals = 0;
  /** A decision for the current wait whose recorded identity is being read: no other is admitted meanwhile. */
  private checking: string | undefined;
  private startedBy: string | null | undefined;
  private pending: RecordedDecision | undefined;
  private readonly identity: RunIdentity;

  constructor(workflowType: string, stepNames: readonly string[], identity: RunIdentity) {
    this.workflowType = workflowType;
    this.identity = identity;
    this.steps = stepNames.map((name) => ({ name, state: 'pending' as StepState }));
    this.currentStep = stepNames[0] ?? 'start';
    setHandler(statusQuery, () => this.status());
    setHandler(
      operatorDecisionUpdate,
      async (decision) => this.admit(normalizeDecision(decision), 'update', { updateId: currentUpdateInfo()?.id }),
      {
        validator: (decision) => {
          const problems = this.problemsOf(decision);
          if (problems.length > 0) throw decisionRefused(`decision refused: ${problems.join('; ')}`);
        },
        description:
          'Resume a run that waits for an operator: {"waitId":"<step>#<n>","step":"<step>","action":"retry|skip|compensate|abort|approve","note":"why","operator":"who"} (the run\'s current details show the exact JSON)',
      },
    );
    setHandler(
      operatorDecisionSignal,
      async (decision) => {
        const signalNumber = ++this.decisionSignals;
        const problems = this.problemsOf(decision);
        if (problems.length > 0) {
          this.refuse('signal', decision, null, problems.join('; '));
          log.warn('operatorDecision signal refused', { problems });
          return;
        }
        try {
          await this.admit(normalizeDecision(decision), 'signal', { signalNumber });
        } catch (error) {
          // Refused after its identity was read: recorded in `status`; the run keeps waiting.
          if (!(error instanceof ApplicationFailure && error.type === FailureType.DecisionRefused)) throw error;
        }
      },
      { description: 'Same as the operatorDecision update, for clients that can only signal; a refused decision is listed in the status query\'s "refused", with why.' },
    );
    const pairs: SearchAttributeUpdatePair[] = [{ key: attributes.state, value: this.state }];
    if (identity.userId !== undefined) pairs.push({ key: attributes.storeUserId, value: identity.userId });
    if (identity.orderId !== undefined) pairs.push({ key: attributes.storeOrderId, value: identity.orderId });
    if (identity.justclickBillId !== undefined) pairs.push({ key: attributes.justClickBillId, value: identity.justclickBillId });
    this.upsert(pairs);
  }

  /** Upserts the pairs whose value is not already set: each upsert is a history event and a visibility write. */
  private upsert(pairs: SearchAttributeUpdatePair[]): void {
    const changed = pairs.filter((pair) => workflowInfo().typedSearchAttributes.get(pair.key as never) !== pair.value);
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  /** The problems of a decision for the wait that is open now (none is open while a decision is being checked or taken). */
  private problemsOf(decision: unknown): string[] {
    if (this.checking !== undefined && this.awaiting !== null) {
      return [`another decision for ${this.awaiting.waitId} (${this.checking}) is being checked now; look at the run's status in a moment`];
    }
    const open = this.pending === undefined ? this.awaiting : null;
    return decisionProblems(decision, open, { state: this.state, step: this.currentStep });
  }

  /** Takes a valid decision with the identity Temporal recorded for it; refuses an approval by the run's starter. */
  private async admit(decision: OperatorDecision, via: 'update' | 'signal', where: Pick<RecordedIdentityInput, 'updateId' | 'signalNumber'>): Promise<OperatorDecisionReply> {
    const wait = this.awaiting!;
    this.checking = where.updateId !== undefined ? `update ${where.updateId}` : `signal ${where.signalNumber ?? '?'}`;
    let recorded: RecordedIdentity;
    try {
      recorded = await bookkeeping.recordedIdentity(where);
    } finally {
      this.checking = undefined;
    }
    this.startedBy = recorded.startedBy;
    if (wait.secondPerson === true && decision.action === 'approve') {
      const why = secondPersonProblem(recorded, wait.waitId);
      if (why !== undefined) {
        this.refuse(via, decision, recorded.decidedBy, why);
        log.warn('approval refused: not a second person', { waitId: wait.waitId });
        throw decisionRefused(why);
      }
    }
    this.pending = { ...decision, at: new Date().toISOString(), via, identity: recorded.decidedBy };
    return { accepted: true, ...decision, identity: recorded.decidedBy, willHappen: wait.choices[decision.action] ?? '' };
  }

  private refuse(via: 'update' | 'signal', input: unknown, identity: string | null, why: string): void {
    const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
    const text = (value: unknown): string | null => (typeof value === 'string' ? value.slice(0, 200) : null);
    this.refused.push({ at: new Date().toISOString(), via, waitId: text(fields['waitId']), action: text(fields['action']), operator: text(fields['operator']), identity, why });
    if (this.refused.length > refusedKept) this.refused.splice(0, this.refused.length - refusedKept);
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /** The effect key of a step (see ../ledger/keys.ts for why it carries the first execution run id). */
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
      refused: [...this.refused],
      ...(this.startedBy === undefined ? {} : { startedBy: this.startedBy }),
    };
  }

  /** `also`: more search attributes to write with the state (in the same upsert). */
  setState(state: RunState, also: readonly SearchAttributeUpdatePair[] = []): void {
    if (state === this.state) return;
    this.state = state;
    this.upsert([{ key: attributes.state, value: state }, { key: attributes.step, value: this.currentStep }, ...also]);
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

  /** Adds a step that only some runs have (e.g. `approve-credit`) before `before`, once. */
  addStepBefore(name: string, before: string): void {
    if (this.steps.some((step) => step.name === name)) return;
    const index = this.steps.findIndex((step) => step.name === before);
    this.steps.splice(index === -1 ? this.steps.length : index, 0, { name, state: 'pending' });
  }

  /** Waits under a new wait id `<step>#<n>` for a valid decision, records it in `status` and the ledger's audit trail, and returns it. */
  async awaitOperator(request: Omit<OperatorRequest, 'since' | 'waitId'>, userId?: number): Promise<RecordedDecision> {
    const { step, reason, failure } = request;
    const previousState = this.state;
    this.waits += 1;
    this.awaiting = { waitId: `${step}#${this.waits}`, ...request, since: new Date().toISOString() };
    this.pending = undefined;
    this.setStep(step, request.secondPerson === true ? 'pending' : 'failed', describeFailureLine(failure));
    // The step, the choices and why, on the UI's workflow list: `add-credit: retry|skip|abort (outcome unknown)`.
    const waitingFor = `${step}: ${allowedActions(request.choices).join('|')} (${shortReasonFor(failure.type)})`;
    this.setState(RunState.AwaitingOperator, [{ key: attributes.waitingFor, value: waitingFor }]);
    setCurrentDetails(waitingDetails(this.awaiting, this.identity));
    log.warn('run waits for an operator', { step, waitId: this.awaiting.waitId, reason, failure: failure.type });
    // The timer only labels the wait on the UI's Timeline, where operators look first; when it fires, the run waits on.
    const summary = waitSummary(step, reason);
    while (!(await condition(() => this.pending !== undefined, operatorWaitTimer, { summary })));
    const decision = this.pending!;
    this.decisions.push(decision);
    this.awaiting = null;
    this.pending = undefined;
    setCurrentDetails(decidedDetails(decision));
    this.setState(previousState === RunState.AwaitingOperator ? RunState.Running : previousState, [{ key: attributes.waitingFor, value: null }]);
    await bookkeeping.recordAudit({
      workflowId: this.workflowId,
      event: `operator.${decision.action}`,
      actor: decision.operator,
      userId,
      details: { step, waitId: decision.waitId, via: decision.via, identity: decision.identity, note: decision.note, failureType: failure.type, code: failure.code ?? null },
    });
    return decision;
  }

  /** Ends the run as completed; returns its result. */
  complete(summary: string): RunResult {
    this.setState(RunState.Completed);
    return this.result('completed', summary);
  }

  /** Ends a run that refused to act (bad order, business refusal): state `failed`; the run changed nothing. */
  failRefused(type: string, message: string, details?: unknown): never {
    this.setState(RunState.Failed);
    throw ApplicationFailure.create({ type, nonRetryable: true, message, ...(details === undefined ? {} : { details: [details] }) });
  }

  /** Ends a run that undid its effects: state `compensated`, type RunCompensated. */
  failCompensated(summary: string): never {
    return this.fail('compensated', FailureType.RunCompensated, summary);
  }

  /** Ends a run an operator aborted: state `aborted`, type RunAborted. */
  failAborted(decision: RecordedDecision, summary: string): never {
    return this.fail('aborted', FailureType.RunAborted, `${summary} ${abortedBy(decision)}`);
  }

  /** Ends a run whose undo an operator aborted, so some effects stay: state `partially-compensated`. */
  failPartiallyCompensated(decision: RecordedDecision, summary: string): never {
    return this.fail('partially-compensated', FailureType.RunPartiallyCompensated, `${summary} ${abortedBy(decision)}`);
  }

  /** Ends the run in the state named by its outcome, failing it with a stable type (src/contracts.ts) and its result. */
  private fail(outcome: RunResult['outcome'], type: FailureType, message: string): never {
    this.setState(outcome);
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [this.result(outcome, message) satisfies RunResult] });
  }

  private result(outcome: RunResult['outcome'], summary: string): RunResult {
    return { workflowType: this.workflowType, outcome, summary, steps: this.status().steps, decisions: [...this.decisions] };
  }
}

const abortedBy = (decision: RecordedDecision): string => `Aborted by ${describeDecider(decision)}: ${decision.note}`;

/** DecisionRefused stays in clear with encryption on (src/temporal/encrypting-failure-converter.ts): never quote the note or operator. */
function decisionRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.DecisionRefused, nonRetryable: true, message });
}

/** Why an approval does not count as a second person's, or undefined when it does. */
function secondPersonProblem(recorded: RecordedIdentity, waitId: string): string | undefined {
  if (recorded.decidedBy === null) {
    return `approve refused: Temporal recorded no caller identity for it, so nothing shows that someone other than the requester approves; send it from the CLI, the PHP client or a signed-in Temporal UI. The run still waits for ${waitId}.`;
  }
  if (recorded.startedBy !== null && recorded.decidedBy === recorded.startedBy) {
    return `approve refused: Temporal recorded it from ${recorded.decidedBy}, the identity that started this run; a second person must approve. The run still waits for ${waitId}.`;
  }
  return undefined;
}

/** The wait timer's one-line summary, short enough for the UI's timeline: the first sentence of the reason. */
function waitSummary(step: string, reason: string): string {
  const firstSentence = /^.*?[.!?](?=\s|$)/.exec(reason)?.[0] ?? reason;
  const text = `Waiting for an operator: ${firstSentence.includes(step) ? firstSentence : `at ${step}: ${firstSentence}`}`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}
