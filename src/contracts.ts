/** What workflows, activities and callers share: inputs, results, failure types, the operator protocol, run states. No I/O. */

// The `type` of every ApplicationFailure an activity or workflow throws: code branches on these, never on messages.
export const FailureType = {
  /** Input refused before anything was sent to Temporal or an API. */
  InvalidInput: 'InvalidInput',
  /** The API answered a documented, final error (nothing changed). */
  ApiRejected: 'ApiRejected',
  /** The API refused our credentials, signature or address: ops must fix configuration. */
  ApiAccessDenied: 'ApiAccessDenied',
  /** The API answered a documented error that may succeed later (Temporal retries it). */
  ApiRetryableRejection: 'ApiRetryableRejection',
  /** The request never reached the API (Temporal retries it). */
  ApiNotReached: 'ApiNotReached',
  /** The last attempt may have taken effect (OutcomeUnknownError, or an attempt still in flight): retried; the next reconciles first. */
  OutcomePending: 'OutcomePending',
  /** The evidence cannot decide whether an effect happened: a person decides (retry or skip). Non-retryable. */
  OutcomeNeedsOperator: 'OutcomeNeedsOperator',
  /** The user's current order is not the order the run is about. Non-retryable. */
  OrderNotCurrent: 'OrderNotCurrent',
  /** No such user (`REQUEST_ERROR | Invalid User ID`, or modify_cart's `ERROR | User not found`): before any effect. Non-retryable. */
  UnknownUser: 'UnknownUser',
  /** process_order refused: the order still has an amount due. Non-retryable. */
  AmountDue: 'AmountDue',
  /** subtract refused: the user does not have that much credit (already spent). Non-retryable. */
  CreditAlreadySpent: 'CreditAlreadySpent',
  /** Another effect for the same user is unresolved; retried until it is. */
  UserBusy: 'UserBusy',
  /** The JustClick answer's signature did not verify; treated as an unknown outcome. */
  ResponseNotTrusted: 'ResponseNotTrusted',
  /** A run's workflow id is not the business key its input names (started by hand): refused before anything. Non-retryable. */
  WorkflowIdMismatch: 'WorkflowIdMismatch',
  /** A run of a workflow type orderflow does not have: refused by the worker at once. Non-retryable. */
  UnknownWorkflowType: 'UnknownWorkflowType',
  /** A refund larger than the order's total: refused before any effect. Non-retryable. */
  RefundAboveOrderTotal: 'RefundAboveOrderTotal',
  /** The ledger already holds this order's refund (or cancellation) from another run: refused before any API call. Non-retryable. */
  AlreadyDoneByAnotherRun: 'AlreadyDoneByAnotherRun',
  /** The whole run ended after undoing its effects. */
  RunCompensated: 'RunCompensated',
  /** An operator chose `abort`. */
  RunAborted: 'RunAborted',
  /** Undoing the run's effects could not complete and an operator chose `abort`: some effects stay (`partially-compensated`). */
  RunPartiallyCompensated: 'RunPartiallyCompensated',
  /** An operator decision the run refused; its message stays in clear with encryption on (docs/encryption.md). */
  DecisionRefused: 'DecisionRefused',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// Run states and steps (values of the OrderflowState / OrderflowStep search attributes).
export const RunState = {
  Running: 'running',
  AwaitingOperator: 'awaiting-operator',
  WaitingForPayment: 'waiting-for-payment',
  Compensating: 'compensating',
  Completed: 'completed',
  Compensated: 'compensated',
  PartiallyCompensated: 'partially-compensated',
  Aborted: 'aborted',
  Failed: 'failed',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'not-needed';

export interface StepStatus {
  name: string;
  state: StepState;
  /** A short line for people: what happened, e.g. `credit 0.00 → 5.00` or `ERROR_NO_ORDER | There is no order to cancel`. */
  detail?: string | undefined;
  /** The ledger key of the effect this step makes, when it makes one. */
  effectKey?: string | undefined;
}

// The operator protocol.
export const operatorActions = ['retry', 'skip', 'compensate', 'abort', 'approve'] as const;
export type OperatorAction = (typeof operatorActions)[number];

/**
 * What an operator sends (UI, CLI or PHP client; update or signal `operatorDecision`). `waitId` and `step` name the wait it
 * answers, as `status` shows it: a decision for any other wait, or with any other field, is refused.
 */
export interface OperatorDecision {
  /** The wait this decision answers: `<step>#<n>`, e.g. `cancel-order#2` (`status`'s `awaiting.waitId`). */
  waitId: string;
  /** The step the wait is at (the part of `waitId` before `#`). */
  step: string;
  action: OperatorAction;
  note: string;
  /** Who decides, as they name themselves (self-declared; Temporal's identity is recorded next to it). */
  operator: string;
}

/** What the `operatorDecision` update answers: the decision the run took (compare it with what you sent) and what will happen now. */
export interface OperatorDecisionReply extends OperatorDecision {
  accepted: true;
  /** The caller identity Temporal recorded for this update (null when the history has none). */
  identity: string | null;
  willHappen: string;
}

export interface RecordedDecision extends OperatorDecision {
  at: string;
  via: 'update' | 'signal';
  /** The caller identity Temporal recorded for the update or signal in the run's history (null when none was sent). */
  identity: string | null;
}

/** A decision the run refused after it entered its history (a signal, or an approval by the run's starter); status lists the last ones. */
export interface RefusedDecision {
  at: string;
  via: 'update' | 'signal';
  /** The wait it named, when it named one. */
  waitId: string | null;
  action: string | null;
  operator: string | null;
  /** The caller identity Temporal recorded, when it was looked up. */
  identity: string | null;
  why: string;
}

/** Why a run is waiting for an operator, shown in `status` and the UI's current details. */
export interface OperatorRequest {
  /** This wait's id, `<step>#<n>` (n counts the run's waits): a decision must name it. */
  waitId: string;
  step: string;
  reason: string;
  /** The failure as an API or activity reported it: code, vendor text, message. */
  failure: FailureSummary;
  /** What each available action would do; only these actions are accepted. */
  choices: Partial<Record<OperatorAction, string>>;
  /** True when the deciding identity (as Temporal recorded it) must differ from the one that started the run (approvals). */
  secondPerson?: boolean | undefined;
  since: string;
}

export interface FailureSummary {
  type: string;
  message: string;
  api?: string | undefined;
  operation?: string | undefined;
  code?: string | undefined;
  vendorText?: string | undefined;
  observed?: Record<string, string> | undefined;
}

export interface RunStatus {
  workflowType: string;
  state: RunState;
  step: string;
  steps: StepStatus[];
  awaiting: OperatorRequest | null;
  decisions: RecordedDecision[];
  /** The last decisions the run refused after they reached its history (at most 20), with why. */
  refused: RefusedDecision[];
  /** The caller identity that started the run, as Temporal recorded it (known once a decision was checked). */
  startedBy?: string | null | undefined;
}

export const signalNames = { operatorDecision: 'operatorDecision', paymentReceived: 'paymentReceived' } as const;
export const updateNames = { operatorDecision: 'operatorDecision' } as const;
export const queryNames = { status: 'status' } as const;

// Workflow inputs and results. Money crosses boundaries as decimal strings ("5.00").
export interface RefundAndCancelInput {
  userId: number;
  orderId: number;
  /** Decimal string with at most two places, > 0. */
  amount: string;
  justclickBillId?: string | undefined;
  /** Why (one line, at most 500 characters): required, with no default; an empty or blank text is refused. */
  reason: string;
  requestedBy: string;
}

/** How long processPaidOrder waits for a payment when its input names no deadline. */
export const defaultPaymentDeadline = '24 hours';

export interface ProcessPaidOrderInput {
  userId: number;
  orderId: number;
  justclickBillId?: string | undefined;
  /** How long to wait for `paymentReceived` while an amount is due, e.g. `30 minutes`; default {@link defaultPaymentDeadline}. */
  paymentDeadline?: string | undefined;
}

export interface AdjustCreditInput {
  userId: number;
  action: 'add' | 'subtract';
  amount: string;
  description: string;
  /** Why (one line, at most 500 characters): required, with no default; an empty or blank text is refused. */
  reason: string;
  /** Who asked; defaults to `backend`. */
  requestedBy?: string | undefined;
  /** The caller's idempotency key (e.g. a coupon redemption id): the workflow id is built from it, else from the adjustment's content. */
  requestId?: string | undefined;
}

export interface CancelOrderInput {
  userId: number;
  orderId: number;
  justclickBillId?: string | undefined;
  requester: 'ADMIN' | 'BUYER';
  /** Why (one line, at most 500 characters): optional; leave it out (or null) to record none; an empty or blank text is refused. */
  reason?: string | undefined;
}

export interface PaymentReceived {
  note?: string | undefined;
  by?: string | undefined;
}

export interface RunResult {
  workflowType: string;
  outcome: 'completed' | 'compensated' | 'partially-compensated' | 'aborted';
  summary: string;
  steps: StepStatus[];
  decisions: RecordedDecision[];
}

// The activities' inputs and results.
export * from './activity-contracts.ts';
